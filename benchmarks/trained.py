"""How the benchmarks get trained tfzoo models: through ``tfzoo.train``, the project's one training loop.

No benchmark owns a training loop or writes a model card. A benchmark that needs a trained tfzoo
model either reads a finished run directory (``tfzoo train PRESET RUN_DIR``; :func:`finished_run`) or
calls :func:`train`, which runs ``tfzoo.train`` for one arm of a comparison — the arm's
``overrides`` (constructor arguments), ``recipe_overrides`` (optimiser, schedule, method callbacks),
budget and data limits — in a fresh temporary run directory, and returns the
:class:`tfzoo.trainer.Run` (``model``, ``history``, ``metrics``, ``spent``, ``callbacks``).

Measurement callbacks are not part of any recipe: ``train(..., measure=[...])`` passes them to
``tfzoo.train(callbacks=...)``, which runs such observers before the recipe's method callbacks.

:class:`EpochClock` (always added by :func:`train`) times each epoch's training steps alone: the
validation pass (``on_test_begin`` .. ``on_test_end``) and any evaluation it is asked to run are
excluded, and, being the first callback, it stops its clock before the method callbacks' end-of-epoch
diagnostics (e.g. ISSGD's variance traces). It adds to the logs, hence to ``run.history``:
``fit_wall_seconds`` and ``fit_cpu_seconds`` (training steps of that epoch, per-step callback work
included), ``fit_steps`` (the epoch's steps) and, for every ``evaluate={name: (x, y)}`` split,
``<name>_<metric>``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import keras
import numpy as np

def _cpu() -> float:
    times = os.times()
    return times.user + times.system


class EpochClock(keras.callbacks.Callback):
    """Per-epoch wall-clock and CPU seconds of the training steps alone, and optional evaluations.

    Args:
        evaluate: ``{name: (x, y)}`` (``y`` None for unsupervised models) evaluated with
            ``model.evaluate`` at each epoch end, after the clock stopped; logged as ``<name>_<metric>``.
        batch_size: batch size of those evaluations.
    """

    def __init__(self, evaluate: dict | None = None, batch_size: int = 1000):
        super().__init__()
        self.evaluate = dict(evaluate or {})
        self.batch_size = batch_size
        self._start = self._test = None
        self._excluded = [0.0, 0.0]

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._excluded, self._steps = (time.perf_counter(), _cpu()), [0.0, 0.0], 0

    def on_train_batch_end(self, batch, logs=None):
        self._steps += 1

    def on_test_begin(self, logs=None):
        self._test = (time.perf_counter(), _cpu())

    def on_test_end(self, logs=None):
        if self._test is not None and self._start is not None:
            self._excluded[0] += time.perf_counter() - self._test[0]
            self._excluded[1] += _cpu() - self._test[1]
        self._test = None

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or self._start is None:
            return
        logs["fit_wall_seconds"] = time.perf_counter() - self._start[0] - self._excluded[0]
        logs["fit_cpu_seconds"] = _cpu() - self._start[1] - self._excluded[1]
        logs["fit_steps"] = self._steps
        for name, (x, y) in self.evaluate.items():
            scores = self.model.evaluate(x, y, batch_size=self.batch_size, verbose=0, return_dict=True)
            for key, value in scores.items():
                logs[f"{name}_{key}"] = float(value)


def train(preset: str, *, measure=(), evaluate: dict | None = None, run_dir: str | None = None, **kwargs):
    """``tfzoo.train(preset, run_dir, **kwargs)`` observed by an :class:`EpochClock` and the
    ``measure`` callbacks (placed before the recipe's method callbacks: to see what those did at the
    start of training, e.g. ``ExpectationMaximization``, observe ``on_epoch_begin`` of epoch 0).
    ``run_dir`` None: a temporary directory, removed afterwards (the returned ``Run.model`` stays
    usable; its ``paths`` no longer exist). ``verbose`` defaults to 0 and ``artifacts`` to False."""
    import tfzoo

    kwargs.setdefault("verbose", 0)
    kwargs.setdefault("artifacts", False)  # measurements need the model in memory, not its exports
    temporary = run_dir is None
    run_dir = tempfile.mkdtemp(prefix=f"tfzoo-benchmark-{preset}-") if temporary else run_dir
    try:
        return tfzoo.train(preset, run_dir, callbacks=[EpochClock(evaluate), *measure], **kwargs)
    finally:
        if temporary:
            shutil.rmtree(run_dir, ignore_errors=True)


def epoch_steps(history: dict) -> list:
    """Training steps of each epoch (``fit_steps``, logged by :class:`EpochClock`)."""
    return [int(n) for n in history["fit_steps"]]


def seconds_per_step(history: dict, skip_first: bool = True, reduce=min) -> float:
    """Wall-clock seconds per training step from ``fit_wall_seconds``: ``reduce`` (default the
    fastest) over the epochs, the first one (tracing and compilation) skipped when there are others."""
    per_step = [s / n for s, n in zip(history["fit_wall_seconds"], epoch_steps(history)) if n]
    if skip_first and len(per_step) > 1:
        per_step = per_step[1:]
    return float(reduce(per_step))


def cumulative(values) -> list:
    return [float(v) for v in np.cumsum(values)]


def finished_run(run_dir: str, preset: str | None = None) -> dict:
    """A finished run directory's ``run.json`` (``run``), ``metrics.json`` (``metrics``: test
    metrics, history, spent...), trained model (``model``) and the command(s) that trained it
    (``command``); ``preset`` checks what it holds."""
    from tfzoo.trainer import load_run_model, read_metrics, read_run

    run = read_run(run_dir)
    if preset is not None and run["preset"] != preset:
        raise SystemExit(f"{run_dir} holds a run of {run['preset']!r}, not of {preset!r}")
    commands = run.get("commands") or [run.get("command")]
    return {"run": run, "metrics": read_metrics(run_dir), "model": load_run_model(run_dir),
            "command": " && ".join(c for c in commands if c)}


def task_splits(preset: str, limit: int | None = None, seed: int = 0) -> dict:
    """The data task of ``preset`` (the splits ``tfzoo.train`` trains and evaluates it on)."""
    import tfzoo
    from tfzoo.datasets import load_task

    return load_task(tfzoo.get_preset(preset).task, seed=seed, limit=limit)
