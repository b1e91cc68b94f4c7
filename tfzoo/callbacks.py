"""Training callbacks shared by every family: divergence stop, budget stop and exact resumption.

Family-specific callbacks (walkback schedules, batch-norm statistics, stale importance weights...)
live in their families and are built on ``keras.callbacks.Callback`` like these.
"""

from __future__ import annotations

import json
import math
import os
import time

import keras
import numpy as np

from tfzoo.errors import TrainingDivergedError


class StopOnNaN(keras.callbacks.Callback):
    """Stops training with :class:`TrainingDivergedError` naming the step where the loss diverged.

    Unlike ``keras.callbacks.TerminateOnNaN``, training does not end quietly: the error says the
    epoch, the step within it and the global step, and no later checkpoint overwrites the last good
    one.
    """

    def __init__(self, monitor: str = "loss"):
        super().__init__()
        self.monitor = monitor
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and not math.isfinite(float(value)):
            step = int(self.model.optimizer.iterations.numpy())
            self.model.stop_training = True
            raise TrainingDivergedError(
                f"training diverged: {self.monitor} = {float(value)} at epoch {self._epoch + 1}, "
                f"step {batch + 1} of that epoch (global step {step}). The last checkpoint before "
                "this step is kept; lower the learning rate or check the data for NaNs."
            )


class ResumableTraining(keras.callbacks.Callback):
    """Saves everything training depends on at each epoch end, so a killed run resumes exactly.

    What is saved: every model variable (weights, non-trainable statistics and the random-number
    generator states that dropout and other noise layers draw from), every optimiser variable
    (moments, iteration count) and the history so far. Together with data whose order in epoch
    ``e`` is a function of ``(seed, e)`` alone (``tfzoo.datasets.make_dataset``), a run killed
    during epoch ``e`` and started again re-runs epoch ``e`` exactly and ends with the same weights
    as an uninterrupted run.

    Example:
        >>> resume = ResumableTraining("runs/x/checkpoint")       # doctest: +SKIP
        >>> initial_epoch = resume.restore(model)                  # doctest: +SKIP
        >>> model.fit(data, epochs=10, initial_epoch=initial_epoch, callbacks=[resume])  # doctest: +SKIP
    """

    def __init__(self, directory: str, extras: dict | None = None):
        super().__init__()
        self.directory = directory
        # name -> object with get_state() -> dict and set_state(dict), saved in the checkpoint, and
        # optionally epoch_record() -> dict, added to the history at each epoch end
        self.extras = dict(extras or {})
        self.history: dict = {}

    @property
    def _state_path(self):
        return os.path.join(self.directory, "state.npz")

    @staticmethod
    def _variables(model):
        return list(model.variables) + list(model.optimizer.variables)

    def restore(self, model) -> int:
        """Loads the last saved state into ``model``; returns the epoch to start from (0 if none)."""
        if not os.path.exists(self._state_path):
            return 0
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        variables = self._variables(model)
        with np.load(self._state_path) as state:
            meta = json.loads(str(state["meta"]))
            if len(state.files) - 1 != len(variables):
                raise ValueError(
                    f"checkpoint in {self.directory} holds {len(state.files) - 1} variables but the model "
                    f"has {len(variables)}: it was written by a different model or configuration"
                )
            for i, variable in enumerate(variables):
                value = state[f"v{i}"]
                if tuple(value.shape) != tuple(variable.shape):
                    raise ValueError(
                        f"checkpoint in {self.directory}: variable {variable.path} has shape "
                        f"{tuple(variable.shape)} but the checkpoint holds {value.shape}"
                    )
                variable.assign(value)
        self.history = meta["history"]
        for name, extra in self.extras.items():
            if name in meta.get("extras", {}):
                extra.set_state(meta["extras"][name])
        return int(meta["epoch"])

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.directory, exist_ok=True)
        record = dict(logs or {})
        for extra in self.extras.values():
            if hasattr(extra, "epoch_record"):
                record.update(extra.epoch_record())
        for key, value in record.items():
            self.history.setdefault(key, []).append(float(value))
        arrays = {f"v{i}": np.asarray(v.numpy()) for i, v in enumerate(self._variables(self.model))}
        extras = {name: extra.get_state() for name, extra in self.extras.items()}
        arrays["meta"] = np.array(json.dumps({"epoch": epoch + 1, "history": self.history, "extras": extras}))
        # Write a temporary file, then rename: a kill during the write leaves the old state whole.
        np.savez(self._state_path + ".tmp.npz", **arrays)
        os.replace(self._state_path + ".tmp.npz", self._state_path)


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


class BudgetStop(keras.callbacks.Callback):
    """Stops training when a :class:`tfzoo.recipe.Budget` is spent: steps, wall-clock or CPU seconds.

    The spent amounts are counted across resumptions (:class:`ResumableTraining` stores
    :meth:`get_state` in its checkpoint). The check runs after every training step, so training
    ends within one step of the limit; Keras then ends the epoch (validation, checkpoint) as usual.
    """

    def __init__(self, budget):
        super().__init__()
        self.budget = budget
        self._spent = {"steps": 0, "wall_seconds": 0.0, "cpu_seconds": 0.0, "epochs": 0}
        self.stopped_by = None
        self._marks = None

    def get_state(self) -> dict:
        return {**self.spent(), "stopped_by": self.stopped_by}

    def set_state(self, state: dict):
        self._spent = {k: state.get(k, 0) for k in self._spent}
        self.stopped_by = state.get("stopped_by")

    def spent(self) -> dict:
        """Steps, epochs, wall-clock and CPU seconds spent in ``fit`` so far (with what stopped it)."""
        spent = dict(self._spent)
        if self._marks is not None:
            wall, cpu = self._marks
            spent["wall_seconds"] += time.time() - wall
            spent["cpu_seconds"] += _cpu_seconds() - cpu
        return {**spent, "stopped_by": self.stopped_by or "epochs"}

    def exhausted(self) -> bool:
        spent = self.spent()
        for key in ("steps", "wall_seconds", "cpu_seconds"):
            limit = getattr(self.budget, key)
            if limit is not None and spent[key] >= limit:
                self.stopped_by = key
                return True
        return False

    def on_train_begin(self, logs=None):
        self._marks = (time.time(), _cpu_seconds())

    def on_train_end(self, logs=None):
        self._spent = {k: v for k, v in self.spent().items() if k != "stopped_by"}
        self._marks = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_marks = (time.time(), _cpu_seconds())

    def on_epoch_end(self, epoch, logs=None):
        self._spent["epochs"] = epoch + 1
        wall, cpu = self._epoch_marks
        self.last_epoch = {"epoch_wall_seconds": time.time() - wall, "epoch_cpu_seconds": _cpu_seconds() - cpu,
                           "cpu_seconds": self.spent()["cpu_seconds"], "steps": self._spent["steps"]}

    def epoch_record(self) -> dict:
        """What :class:`ResumableTraining` adds to the history for the epoch that just ended: its wall
        and CPU seconds, the cumulative CPU seconds and steps (kept out of the Keras progress line)."""
        return self.last_epoch

    def on_train_batch_end(self, batch, logs=None):
        self._spent["steps"] += 1
        if self.exhausted():
            self.model.stop_training = True
