"""Training callbacks shared by every family: divergence stop and exact resumption.

Family-specific callbacks (walkback schedules, batch-norm statistics, stale importance weights...)
live in their families and are built on ``keras.callbacks.Callback`` like these.
"""

from __future__ import annotations

import json
import math
import os

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

    def __init__(self, directory: str):
        super().__init__()
        self.directory = directory
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
        return int(meta["epoch"])

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.directory, exist_ok=True)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        arrays = {f"v{i}": np.asarray(v.numpy()) for i, v in enumerate(self._variables(self.model))}
        arrays["meta"] = np.array(json.dumps({"epoch": epoch + 1, "history": self.history}))
        # Write a temporary file, then rename: a kill during the write leaves the old state whole.
        np.savez(self._state_path + ".tmp.npz", **arrays)
        os.replace(self._state_path + ".tmp.npz", self._state_path)
