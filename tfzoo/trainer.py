"""The one training loop of tfzoo: ``tfzoo.train(preset, run_dir)``, the same as ``tfzoo train PRESET``.

``train`` validates its arguments, loads the preset's data task, locks the run directory, builds the
model and the method's callbacks from the preset's :class:`tfzoo.recipe.Recipe` (walkback, stale
importance weights, exact batch-norm statistics...), fits with ``model.fit`` under the run's budget
(epochs, steps, wall-clock or CPU seconds), evaluates on the test split and writes the run's
artifacts. The CLI, the scripts that produce the shipped models, the notebooks and the benchmarks all
call it; nothing else in tfzoo owns a training loop.

Guarantees:

* **Nothing is written before the arguments and the data are valid**: a refused command leaves no
  run directory behind (or leaves an existing one untouched).
* **Resumable**: a checkpoint is written at every epoch end (weights, optimiser, random-generator
  states, history, budget spent). A run killed at any moment and started again with the same
  command continues; an uninterrupted run and a resumed one end with identical weights.
* **Atomic artifacts**: the SavedModel, the ``.keras`` file, the picture and ``metrics.json`` are
  written to temporary paths and renamed into place; ``metrics.json`` is written last and marks the
  run finished. A kill during the export phase leaves a run that the same command completes.
* **One process per run**: ``run_dir/.lock`` holds the PID of the process training there; a second
  process is refused, and a lock left by a dead process is taken over.
* **NaN stop**: a non-finite loss stops training with :class:`tfzoo.errors.TrainingDivergedError`
  naming the epoch and step; the last checkpoint is the last good epoch.

Example:
    >>> import tfzoo
    >>> run = tfzoo.train("mlp-moons", "runs/mlp-moons", epochs=2)       # doctest: +SKIP
    >>> run.metrics["accuracy"] > 0.8                                      # doctest: +SKIP
    True
    >>> run.paths["savedmodel"]                                            # doctest: +SKIP
    'runs/mlp-moons/savedmodel'
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import time

from tfzoo.errors import ArgumentError, OutputDirectoryError
from tfzoo.recipe import Budget, Recipe

RUN_FILE = "run.json"
METRICS_FILE = "metrics.json"
LOCK_FILE = ".lock"
_TEMPORARY_MARK = ".partial"


@dataclasses.dataclass
class TrainingContext:
    """What a method callback's ``from_recipe(context, **kwargs)`` may use.

    Attributes:
        model: the compiled model.
        x_train, y_train: the training split (``y_train`` None for unsupervised data).
        batch_size, seed, epochs, initial_epoch, steps_per_epoch: the run's values.
        run_dir: the run directory.
        workers: real ISSGD norm workers (:class:`tfzoo.issgd.distributed.DistributedNormWorkers`)
            when ``train(workers=N)`` asked for them, else None (simulated workers).
    """

    model: object
    x_train: object
    y_train: object
    batch_size: int
    seed: int
    epochs: int
    initial_epoch: int
    steps_per_epoch: int
    run_dir: str
    workers: object = None


@dataclasses.dataclass
class Run:
    """A finished run: test metrics, history, budget spent, artifact paths, the trained model and the
    method callbacks it trained with (``model`` and ``callbacks`` are empty for a run that had
    finished already)."""

    run_dir: str
    preset: str
    metrics: dict
    history: dict
    spent: dict
    paths: dict
    model: object = None
    callbacks: list = dataclasses.field(default_factory=list)
    already_finished: bool = False


# ------------------------------------------------------------------------------------ arguments
def _positive_int(name: str, value, allow_none: bool = True):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ArgumentError(f"{name} must be a positive integer, got {value!r}")
    return value


def _seconds(name: str, value):
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return Budget.parse_seconds(value)
        except ValueError as error:
            raise ArgumentError(f"{name}: {error}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ArgumentError(f"{name} must be a positive number of seconds or a duration such as "
                            f"'20m', got {value!r}")
    return float(value)


def _run_recipe(preset, epochs, batch_size, recipe_overrides) -> Recipe:
    try:
        recipe = preset.recipe.replace(**(recipe_overrides or {}))
    except (TypeError, ValueError) as error:
        raise ArgumentError(f"recipe override: {error}") from None
    changes = {}
    if epochs is not None:
        changes["epochs"] = _positive_int("epochs", epochs)
    if batch_size is not None:
        changes["batch_size"] = _positive_int("batch_size", batch_size)
    return recipe.replace(**changes) if changes else recipe


def _limit_splits(data: dict, limit_train, limit_eval) -> dict:
    limited = {}
    for split, (x, y) in data.items():
        n = limit_train if split == "train" else limit_eval
        limited[split] = (x, y) if n is None else (x[:n], None if y is None else y[:n])
    return limited


# ----------------------------------------------------------------------------- run directory
def _same_run(existing: dict, identity: dict) -> dict:
    return {k: (existing.get(k), identity.get(k)) for k in identity if existing.get(k) != identity.get(k)}


def _check_run_directory(run_dir: str, identity: dict):
    """Refuses a run directory holding something else, before anything is written."""
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise OutputDirectoryError(f"run directory {run_dir!r} is a file, not a directory")
    path = os.path.join(run_dir, RUN_FILE)
    if os.path.exists(path):
        with open(path) as f:
            existing = json.load(f)
        diff = _same_run(existing, identity)
        if diff:
            raise OutputDirectoryError(
                f"{run_dir} already holds a different run ({diff}, shown as (existing, requested)); "
                "use another run directory, or the same arguments to resume that run")
    elif os.path.isdir(run_dir) and os.listdir(run_dir):
        raise OutputDirectoryError(f"{run_dir} is not empty and holds no tfzoo run; choose a new directory")
    parent = os.path.dirname(os.path.abspath(run_dir))
    probe = parent
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.access(probe, os.W_OK):
        raise OutputDirectoryError(f"cannot create run directory {run_dir!r}: {probe!r} is not writable")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """``run_dir/.lock`` holding this process's PID; a lock of a dead process is taken over."""

    def __init__(self, run_dir: str):
        self.path = os.path.join(run_dir, LOCK_FILE)

    def __enter__(self):
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    with open(self.path) as f:
                        holder = int(f.read().strip() or 0)
                except (OSError, ValueError):
                    holder = 0
                if holder and holder != os.getpid() and _pid_alive(holder):
                    raise OutputDirectoryError(
                        f"{os.path.dirname(self.path)} is in use by another tfzoo process (PID {holder}); "
                        f"wait for it to finish, or stop it; {self.path} is removed when it ends") from None
                os.remove(self.path)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            return self
        raise OutputDirectoryError(f"could not take the lock {self.path}")

    def __exit__(self, *exc):
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass


def _remove_partial_artifacts(run_dir: str):
    for name in os.listdir(run_dir):
        if _TEMPORARY_MARK in name:
            path = os.path.join(run_dir, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def _replace(temporary: str, final: str):
    """Renames ``temporary`` onto ``final`` (a directory replaces the old one)."""
    if os.path.isdir(final) and not os.path.islink(final):
        shutil.rmtree(final)
    os.replace(temporary, final)


def write_json_atomically(path: str, value):
    temporary = path + _TEMPORARY_MARK
    with open(temporary, "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
    os.replace(temporary, path)


def read_run(run_dir: str) -> dict:
    """``run.json`` of a run directory (preset, seed, recipe, data, command...)."""
    path = os.path.join(run_dir, RUN_FILE)
    if not os.path.exists(path):
        raise OutputDirectoryError(f"{run_dir!r} is not a tfzoo run directory (no {RUN_FILE})")
    with open(path) as f:
        return json.load(f)


def read_metrics(run_dir: str) -> dict | None:
    """``metrics.json`` of a finished run, or None while the run is unfinished."""
    path = os.path.join(run_dir, METRICS_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


# ----------------------------------------------------------------------------------- workers
def _check_chief_tf_config(text: str):
    """``TF_CONFIG`` must describe a cluster with ``ps`` and ``worker`` jobs, this task being the chief."""
    try:
        config = json.loads(text)
        task_type, cluster = config["task"]["type"], config["cluster"]
    except (ValueError, KeyError, TypeError):
        raise ArgumentError(f"TF_CONFIG must be JSON with 'cluster' and 'task': {{'type', 'index'}}, got {text!r}") from None
    if task_type != "chief":
        raise ArgumentError(f"TF_CONFIG: tfzoo train runs the ISSGD master, whose task type must be 'chief', "
                            f"got {task_type!r}; start the ps and worker tasks with python -m tfzoo.issgd.distributed")
    missing = [job for job in ("chief", "ps", "worker") if not cluster.get(job)]
    if missing:
        raise ArgumentError(f"TF_CONFIG: the cluster needs the jobs chief, ps and worker; {missing} missing")


def _real_workers(workers: int | None):
    """Norm workers for ISSGD: the ``TF_CONFIG`` cluster if set, else ``workers`` local processes."""
    if not workers and "TF_CONFIG" not in os.environ:
        return None, None
    import tensorflow as tf

    from tfzoo.issgd.distributed import DistributedNormWorkers, LocalCluster

    if "TF_CONFIG" in os.environ:
        return DistributedNormWorkers(tf.distribute.cluster_resolver.TFConfigClusterResolver()), None
    cluster = LocalCluster(num_workers=workers)
    return DistributedNormWorkers(cluster.cluster_resolver()), cluster


# ------------------------------------------------------------------------------------- train
def train(preset: str, run_dir: str | None = None, *, epochs: int | None = None,
          batch_size: int | None = None, steps: int | None = None, time_budget=None, cpu_budget=None,
          data_dir: str | None = None, source: str | None = None, seed: int = 0, strategy=None,
          overrides: dict | None = None, recipe_overrides: dict | None = None,
          limit_train: int | None = None, limit_eval: int | None = None, workers: int | None = None,
          callbacks: list | None = None, artifacts: bool = True, verbose: int | str = "auto",
          command: str | None = None) -> Run:
    """Trains preset ``preset`` in ``run_dir`` (default ``runs/<preset>``); returns a :class:`Run`.

    Args:
        preset: a registered preset name (``tfzoo.list_models()``).
        run_dir: the run directory: checkpoint, TensorBoard logs, SavedModel, ``.keras``, picture.
        epochs, batch_size: override the recipe's.
        steps: stop after this many training steps in all (a budget).
        time_budget, cpu_budget: stop after this much wall-clock / process CPU time, as seconds or
            a duration such as ``"20m"`` (counted across resumptions).
        data_dir, source: where the task's data comes from (``source``: one of the task's sources,
            e.g. ``"idx"`` or ``"tfds"`` for MNIST).
        seed: seeds the initial weights, the data order and every noise layer.
        strategy: a ``tf.distribute.Strategy`` (e.g. ``MirroredStrategy``); default none.
        overrides: the model's constructor arguments (``--set KEY=VALUE``).
        recipe_overrides: recipe fields (``--set-recipe KEY=VALUE``), e.g. ``{"learning_rate": 0.01}``.
        limit_train, limit_eval: use only the first examples of the training / evaluation splits.
        workers: ISSGD presets: this many real norm-worker processes on this machine (a
            ``TF_CONFIG`` cluster is used instead when that variable is set); default simulated.
        callbacks: observers of the training (measurements, extra logging), run before the recipe's
            method callbacks; they must not change what is trained (they are not part of the run's
            identity, so a resumed run may use others).
        artifacts: write the SavedModel, the ``.keras`` file and the picture (False: only the
            checkpoint and ``metrics.json``, for measurements that need the trained model in memory).
        verbose: Keras verbosity; ``"auto"`` is a progress bar on a terminal and one line per epoch
            otherwise.
        command: the command line recorded in ``run.json`` (the CLI passes its own).
    """
    from tfzoo import registry
    from tfzoo.datasets import load_task

    preset_name = preset
    preset = registry.get_preset(preset_name)
    run_dir = run_dir or os.path.join("runs", preset_name)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ArgumentError(f"seed must be a non-negative integer, got {seed!r}")
    recipe = _run_recipe(preset, epochs, batch_size, recipe_overrides)
    budget = Budget(steps=_positive_int("steps", steps), wall_seconds=_seconds("time_budget", time_budget),
                    cpu_seconds=_seconds("cpu_budget", cpu_budget))
    if recipe.budget is not None:
        budget = Budget(**{k: v if v is not None else getattr(recipe.budget, k)
                           for k, v in dataclasses.asdict(budget).items()})
    _positive_int("limit_train", limit_train)
    _positive_int("limit_eval", limit_eval)
    _positive_int("workers", workers)
    if recipe.callback("StaleImportanceWeights") and "TF_CONFIG" in os.environ:
        _check_chief_tf_config(os.environ["TF_CONFIG"])
    if workers and not recipe.callback("StaleImportanceWeights"):
        raise ArgumentError(f"workers={workers}: only ISSGD presets use norm workers; {preset_name} "
                            "has no StaleImportanceWeights callback in its recipe")
    if not isinstance(artifacts, bool):
        raise ArgumentError(f"artifacts must be True or False, got {artifacts!r}")
    if verbose not in ("auto", 0, 1, 2):
        raise ArgumentError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    overrides = dict(overrides or {})
    model_class = preset.model_class()
    unknown = set(overrides) - set(model_class.config_keys())
    if unknown:
        raise ArgumentError(f"{preset_name}: unknown model argument(s) {sorted(unknown)}; the model "
                            f"accepts {sorted(model_class.config_keys())}")
    identity = json.loads(json.dumps(dict(
        preset=preset_name, seed=seed, overrides=overrides, limit_train=limit_train, source=source,
        recipe={k: v for k, v in recipe.to_json().items() if k not in ("epochs", "budget", "notes")})))
    _check_run_directory(run_dir, identity)

    finished = read_metrics(run_dir) if os.path.isdir(run_dir) else None
    if finished is not None and finished.get("epochs_requested") == recipe.epochs and \
            finished.get("budget") == dataclasses.asdict(budget):
        return Run(run_dir=run_dir, preset=preset_name, metrics=finished["test"], history=finished["history"],
                   spent=finished["spent"], paths=finished["paths"], already_finished=True)

    data = load_task(preset.task, data_dir=data_dir, seed=seed, source=source,
                     limit=max(limit_train, limit_eval) if limit_train and limit_eval else None)
    data = _limit_splits(data, limit_train, limit_eval)
    n_train = len(data["train"][0])
    if n_train < recipe.batch_size:
        raise ArgumentError(
            f"the training split has {n_train} examples{' after limit_train' if limit_train else ''}, "
            f"fewer than one batch of batch_size={recipe.batch_size}; use a smaller batch size or more data")

    os.makedirs(run_dir, exist_ok=True)
    with RunLock(run_dir):
        _remove_partial_artifacts(run_dir)
        command = command or _python_command(preset_name, run_dir, locals_=dict(
            epochs=epochs, batch_size=batch_size, steps=steps, time_budget=time_budget, cpu_budget=cpu_budget,
            seed=seed, limit_train=limit_train, limit_eval=limit_eval))
        _record_command(run_dir, identity, preset.task, data_dir, command)
        return _train_locked(preset, recipe, budget, data, run_dir, seed=seed, strategy=strategy,
                             overrides=overrides, workers=workers, observers=list(callbacks or []),
                             artifacts=artifacts, verbose=verbose)


def _record_command(run_dir: str, identity: dict, task: str, data_dir, command: str):
    """Writes ``run.json``; a run continued by a different command (a larger budget) records both."""
    import tfzoo

    path = os.path.join(run_dir, RUN_FILE)
    if os.path.exists(path):
        run = read_run(run_dir)
        if run["commands"][-1] != command:
            write_json_atomically(path, {**run, "commands": [*run["commands"], command]})
        return
    write_json_atomically(path, {**identity, "task": task, "data_dir": data_dir,
                                 "tfzoo_version": tfzoo.__version__, "commands": [command]})


def _python_command(preset_name: str, run_dir: str, locals_: dict) -> str:
    arguments = ", ".join(f"{k}={v!r}" for k, v in locals_.items() if v is not None and not (k == "seed" and v == 0))
    return f"tfzoo.train({preset_name!r}, {run_dir!r}{', ' + arguments if arguments else ''})"


def _train_locked(preset, recipe, budget, data, run_dir, *, seed, strategy, overrides, workers, observers,
                  artifacts, verbose) -> Run:
    import contextlib

    import keras

    from tfzoo.callbacks import BudgetStop, ResumableTraining, StopOnNaN
    from tfzoo.datasets import make_dataset, steps_per_epoch

    norm_workers, cluster = _real_workers(workers) if recipe.callback("StaleImportanceWeights") else (None, None)
    try:
        keras.utils.set_random_seed(seed)
        scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
        with scope:
            model = _build_model(preset, recipe, overrides)
            data = model.prepare_training_data(data, seed=seed)
            budget_stop = BudgetStop(budget)
            resume = ResumableTraining(os.path.join(run_dir, "checkpoint"), extras={"budget": budget_stop})
            initial_epoch = resume.restore(model)

        x_train, y_train = data["train"]
        steps = steps_per_epoch(len(x_train), recipe.batch_size, drop_remainder=True)
        context = TrainingContext(model=model, x_train=x_train, y_train=y_train, batch_size=recipe.batch_size,
                                  seed=seed, epochs=recipe.epochs, initial_epoch=initial_epoch,
                                  steps_per_epoch=steps, run_dir=run_dir, workers=norm_workers)
        method_callbacks = [spec.build(context) for spec in recipe.callbacks]
        train_ds = next((c.training_dataset() for c in method_callbacks if hasattr(c, "training_dataset")), None)
        if train_ds is None:
            train_ds = make_dataset(x_train, y_train, batch_size=recipe.batch_size, shuffle_seed=seed,
                                    epochs=recipe.epochs, initial_epoch=initial_epoch, drop_remainder=True)
        val_ds = make_dataset(*data["validation"], batch_size=recipe.batch_size)
        callbacks = [StopOnNaN(), *_schedule_callbacks(recipe), *observers, *method_callbacks, budget_stop, resume,
                     keras.callbacks.TensorBoard(os.path.join(run_dir, "logs"))]
        if initial_epoch < recipe.epochs and not budget_stop.exhausted():
            model.fit(train_ds, epochs=recipe.epochs, initial_epoch=initial_epoch, steps_per_epoch=steps,
                      validation_data=val_ds, callbacks=callbacks, verbose=_verbosity(verbose), shuffle=False)
        else:  # trained already (a kill during the export phase): method callbacks finish their work
            for callback in method_callbacks:
                callback.set_model(model)
                callback.on_train_end()
        run = _finish(model, preset, recipe, budget, data, run_dir, resume.history, budget_stop, artifacts)
        run.callbacks = method_callbacks
        return run
    finally:
        if cluster is not None:
            cluster.close()


def _build_model(preset, recipe, overrides):
    from tfzoo import registry

    model = registry.create_model(preset.name, compile=False, **overrides)
    model.compile_from_recipe(recipe)
    return model


def _schedule_callbacks(recipe: Recipe) -> list:
    import keras

    if recipe.schedule.kind == "constant":
        return []
    base, schedule, epochs = recipe.learning_rate, recipe.schedule, recipe.epochs
    return [keras.callbacks.LearningRateScheduler(lambda epoch: base * schedule.factor(epoch, epochs))]


def _verbosity(verbose):
    if verbose != "auto":
        return verbose
    return 1 if sys.stdout.isatty() else 2


def _finish(model, preset, recipe, budget, data, run_dir, history, budget_stop, artifacts: bool) -> Run:
    from tfzoo.datasets import make_dataset
    from tfzoo.plotting import save_result_figure
    from tfzoo.savedmodel import export

    metrics = model.evaluate(make_dataset(*data["test"], batch_size=recipe.batch_size), return_dict=True,
                             verbose=0)
    metrics = {k: float(v) for k, v in metrics.items()}
    paths = dict(run_dir=run_dir, checkpoint=os.path.join(run_dir, "checkpoint"),
                 tensorboard=os.path.join(run_dir, "logs"), metrics=os.path.join(run_dir, METRICS_FILE))
    if artifacts:
        paths.update(keras=os.path.join(run_dir, "model.keras"), savedmodel=os.path.join(run_dir, "savedmodel"),
                     picture=os.path.join(run_dir, "result.png"))
        temporary = {k: paths[k] + _TEMPORARY_MARK for k in ("keras", "savedmodel", "picture")}
        model.save(temporary["keras"] + ".keras")
        os.replace(temporary["keras"] + ".keras", paths["keras"])
        export(model, temporary["savedmodel"])
        _replace(temporary["savedmodel"], paths["savedmodel"])
        save_result_figure(temporary["picture"] + ".png", model, data, history)
        os.replace(temporary["picture"] + ".png", paths["picture"])
    spent = budget_stop.spent()
    write_json_atomically(paths["metrics"], {
        "test": metrics, "history": history, "spent": spent, "paths": paths,
        "epochs_requested": recipe.epochs, "budget": dataclasses.asdict(budget),
        "recipe": recipe.to_json(), "test_examples": int(len(data["test"][0])),
        "train_examples": int(len(data["train"][0]))})
    return Run(run_dir=run_dir, preset=preset.name, metrics=metrics, history=history, spent=spent,
               paths=paths, model=model)


def evaluate(run_dir: str, data_dir: str | None = None, split: str = "test", source: str | None = None) -> dict:
    """Loads a finished run's model and evaluates it on a split of its preset's task."""
    from tfzoo import registry
    from tfzoo.datasets import load_task, make_dataset

    if split not in ("train", "validation", "test"):
        raise ArgumentError(f"split must be 'train', 'validation' or 'test', got {split!r}")
    run = read_run(run_dir)
    model = load_run_model(run_dir)
    data = load_task(registry.get_preset(run["preset"]).task, data_dir=data_dir, seed=run["seed"],
                     source=source or run.get("source"))
    data = model.prepare_training_data(data, seed=run["seed"])
    result = model.evaluate(make_dataset(*data[split], batch_size=run["recipe"]["batch_size"]),
                            return_dict=True, verbose=0)
    return {k: float(v) for k, v in result.items()}


def load_run_model(run_dir: str):
    """The trained model of a finished run (its ``model.keras``)."""
    import keras

    from tfzoo import registry

    run = read_run(run_dir)
    if read_metrics(run_dir) is None:
        raise OutputDirectoryError(f"the run in {run_dir} has not finished: train it to the end first "
                                   f"(the same `tfzoo train` command resumes it)")
    if not os.path.exists(os.path.join(run_dir, "model.keras")):
        raise OutputDirectoryError(f"the run in {run_dir} was trained with artifacts=False: it has no model file")
    registry.get_preset(run["preset"]).model_class()
    model = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    model.preset_name = run["preset"]
    return model
