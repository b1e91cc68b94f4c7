"""The training job behind ``python -m tfzoo train``: fit, evaluate, export, plot, resumable.

``train(preset, ...)`` trains a registered model on its task's data with ``model.fit``, logs to
TensorBoard, saves a resumable checkpoint each epoch (a killed run started again with the same
arguments continues and ends with the same weights as an uninterrupted one), stops with a message
naming the step if the loss becomes NaN, evaluates on the test split, exports a SavedModel, saves
the ``.keras`` file and writes a PNG of the result.

Example:
    >>> from tfzoo.training import train
    >>> result = train("mlp-moons", output_dir="runs/mlp-moons", epochs=2)   # doctest: +SKIP
    >>> result["paths"]["savedmodel"]                                          # doctest: +SKIP
    'runs/mlp-moons/savedmodel'
"""

from __future__ import annotations

import contextlib
import json
import os

from tfzoo.errors import OutputDirectoryError

RUN_FILE = "run.json"


def _claim_run_directory(output_dir: str, identity: dict):
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, RUN_FILE)
    if os.path.exists(path):
        with open(path) as f:
            existing = json.load(f)
        if existing != identity:
            diff = {k: (existing.get(k), identity.get(k)) for k in identity if existing.get(k) != identity.get(k)}
            raise OutputDirectoryError(
                f"{output_dir} already holds a different run ({diff}, shown as (existing, requested)); "
                "use another --output-dir, or the same arguments to resume that run"
            )
    elif os.listdir(output_dir):
        raise OutputDirectoryError(f"{output_dir} is not empty and holds no tfzoo run; choose a new directory")
    else:
        with open(path, "w") as f:
            json.dump(identity, f, indent=1, sort_keys=True)


def recipe_callbacks(training: dict) -> list:
    """Callbacks a preset's recipe implies (a per-epoch learning-rate decay)."""
    import keras

    callbacks = []
    if "lr_decay_per_epoch" in training:
        base, decay = training["learning_rate"], training["lr_decay_per_epoch"]
        callbacks.append(keras.callbacks.LearningRateScheduler(lambda epoch: base * decay**epoch))
    return callbacks


def train(preset_name: str, output_dir: str, *, epochs: int | None = None, batch_size: int | None = None,
          data_dir: str | None = None, seed: int = 0, strategy=None, overrides: dict | None = None,
          limit_train: int | None = None, verbose: int | str = "auto") -> dict:
    """Runs the whole job; returns ``{"metrics": ..., "paths": ...}``.

    Args:
        preset_name: a registered model name.
        output_dir: where the checkpoint, TensorBoard logs, SavedModel, ``.keras`` file and PNG go.
        epochs, batch_size: default to the preset's recipe.
        data_dir: a directory with the task's files (e.g. MNIST's IDX files).
        seed: seeds the initial weights, the data order and every noise layer.
        strategy: a ``tf.distribute.Strategy`` (e.g. ``MirroredStrategy``); default: none.
        overrides: constructor overrides of the preset's model.
        limit_train: use only the first ``limit_train`` training examples (quick runs).
    """
    from tfzoo import registry
    from tfzoo.datasets import load_task, make_dataset, steps_per_epoch

    preset = registry.get_preset(preset_name)
    epochs = epochs or preset.training.get("epochs", 1)
    batch_size = batch_size or preset.training.get("batch_size", 32)
    overrides = overrides or {}
    identity = json.loads(json.dumps(dict(preset=preset_name, seed=seed, batch_size=batch_size,
                                          overrides=overrides, limit_train=limit_train)))
    _claim_run_directory(output_dir, identity)

    data = load_task(preset.task, data_dir=data_dir, seed=seed)
    x_train, y_train = data["train"]
    if limit_train:
        x_train = x_train[:limit_train]
        y_train = None if y_train is None else y_train[:limit_train]
    import keras  # after the cheap checks above, so bad arguments fail fast

    from tfzoo.callbacks import ResumableTraining, StopOnNaN
    from tfzoo.savedmodel import export

    keras.utils.set_random_seed(seed)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        model = registry.create_model(preset_name, **overrides)
        resume = ResumableTraining(os.path.join(output_dir, "checkpoint"))
        initial_epoch = resume.restore(model)

    train_ds = make_dataset(x_train, y_train, batch_size=batch_size, shuffle_seed=seed, epochs=epochs,
                            initial_epoch=initial_epoch, drop_remainder=True)
    val_ds = make_dataset(*data["validation"], batch_size=batch_size)
    callbacks = [
        StopOnNaN(),
        resume,
        keras.callbacks.TensorBoard(os.path.join(output_dir, "logs")),
        *recipe_callbacks(preset.training),
        *model.training_callbacks(),
    ]
    if initial_epoch < epochs:
        model.fit(train_ds, epochs=epochs, initial_epoch=initial_epoch,
                  steps_per_epoch=steps_per_epoch(len(x_train), batch_size, drop_remainder=True),
                  validation_data=val_ds, callbacks=callbacks, verbose=verbose, shuffle=False)
    metrics = model.evaluate(make_dataset(*data["test"], batch_size=batch_size), return_dict=True,
                             verbose=0)
    metrics = {k: float(v) for k, v in metrics.items()}
    paths = dict(
        output_dir=output_dir,
        checkpoint=resume.directory,
        tensorboard=os.path.join(output_dir, "logs"),
        keras=os.path.join(output_dir, "model.keras"),
        savedmodel=os.path.join(output_dir, "savedmodel"),
        picture=os.path.join(output_dir, "result.png"),
        metrics=os.path.join(output_dir, "metrics.json"),
    )
    model.save(paths["keras"])
    export(model, paths["savedmodel"])
    model.plot_result(paths["picture"], data, resume.history)
    with open(paths["metrics"], "w") as f:
        json.dump({"test": metrics, "history": resume.history, "epochs": epochs}, f, indent=1)
    return {"metrics": metrics, "paths": paths, "model": model}


def evaluate(run_dir: str, data_dir: str | None = None, split: str = "test") -> dict:
    """Loads ``run_dir/model.keras`` and evaluates it on a split of its preset's task."""
    import keras

    import tfzoo.registry  # noqa: F401  (registers the model classes for deserialisation)
    from tfzoo.datasets import load_task, make_dataset

    with open(os.path.join(run_dir, RUN_FILE)) as f:
        run = json.load(f)
    preset = tfzoo.registry.get_preset(run["preset"])
    preset.model_class()
    model = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    data = load_task(preset.task, data_dir=data_dir, seed=run["seed"])
    result = model.evaluate(make_dataset(*data[split], batch_size=run["batch_size"]), return_dict=True,
                            verbose=0)
    return {k: float(v) for k, v in result.items()}
