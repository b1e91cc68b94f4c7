"""Classic classifiers on MNIST: test error and training throughput against plain ``keras.Sequential``.

For each classic preset, the tfzoo model is trained by ``tfzoo.train`` (the preset's recipe, the
epochs below, 50k training images, seeded order) and a ``keras.Sequential`` of the same stock layers
(``tfzoo.classifiers.models.keras_sequential_baseline``) — the baseline — starts from the same initial
weights and trains with the same optimiser, learning-rate schedule and batches (the trainer's
``make_dataset`` order), with the same validation pass and per-step callbacks. Throughput is the
training steps alone (``EpochClock``: validation excluded), over the epochs after the first (tracing
and compilation). The two models train one after the other (the trainer runs a whole run; the old
version alternated epochs), so a change of machine load between them shows in the ratio. The
validation split is not used for any choice here.

Shipped models (``savedmodels/<preset>/``) are not produced here: ``tfzoo train`` and ``tfzoo export``.
"""

from __future__ import annotations

import time

#: preset -> epochs run here (the recipes' own epoch counts are in the presets).
EPOCHS = {"lenet-mnist": 5, "mlp-mnist": 3, "convnet-mnist": 2, "relu-lenet-mnist": 1}
QUICK_EPOCHS = {"lenet-mnist": 1, "mlp-mnist": 1}


def _keras_baseline(name: str, epochs: int, data: dict, seed: int = 0) -> dict:
    """The baseline: a keras.Sequential with the tfzoo model's initial weights (the trainer builds the
    model after ``set_random_seed(seed)`` the same way), timed with the trainer's clock."""
    import keras

    import tfzoo
    from tfzoo.base import make_optimizer
    from tfzoo.callbacks import BudgetStop, StopOnNaN
    from tfzoo.classifiers.models import keras_sequential_baseline
    from tfzoo.datasets import make_dataset, steps_per_epoch
    from tfzoo.recipe import Budget
    from trained import EpochClock

    recipe = tfzoo.get_preset(name).recipe.replace(epochs=epochs)
    keras.utils.set_random_seed(seed)
    initial = tfzoo.create_model(name)
    baseline = keras_sequential_baseline(initial)
    baseline.set_weights(initial.get_weights())
    baseline.compile(optimizer=make_optimizer(recipe), jit_compile=recipe.jit_compile,
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                     metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    x, y = data["train"]
    callbacks = [EpochClock(), StopOnNaN(), BudgetStop(Budget())]  # the trainer's per-step callbacks
    if recipe.schedule.kind != "constant":  # the trainer's schedule callback
        callbacks.append(keras.callbacks.LearningRateScheduler(
            lambda epoch: recipe.learning_rate * recipe.schedule.factor(epoch, epochs)))
    start = time.perf_counter()
    # the baseline's own fit: a stock Keras model, not a tfzoo preset (the measured baseline)
    history = baseline.fit(  # baseline
        make_dataset(x, y, batch_size=recipe.batch_size, shuffle_seed=seed, epochs=epochs, drop_remainder=True),
        epochs=epochs, steps_per_epoch=steps_per_epoch(len(x), recipe.batch_size, drop_remainder=True),
        validation_data=make_dataset(*data["validation"], batch_size=recipe.batch_size),
        callbacks=callbacks, verbose=0, shuffle=False)
    seconds = time.perf_counter() - start
    accuracy = baseline.evaluate(make_dataset(*data["test"], batch_size=recipe.batch_size), verbose=0,
                                 return_dict=True)["accuracy"]
    return {"history": history.history, "test_error": 1.0 - float(accuracy), "seconds": seconds}


def _throughput(history: dict, batch: int) -> float:
    from trained import epoch_steps

    pairs = list(zip(history["fit_wall_seconds"], epoch_steps(history)))
    timed = pairs[1:] or pairs  # skip the first epoch (tracing)
    return sum(n for _, n in timed) * batch / sum(s for s, _ in timed)


def _train_pair(name: str, epochs: int, limit: int | None) -> dict:
    import tfzoo
    from trained import task_splits, train

    preset = tfzoo.get_preset(name)
    batch = preset.recipe.batch_size
    run = train(name, epochs=epochs, limit_train=limit)
    data = task_splits(name)
    if limit:
        data["train"] = tuple(a[:limit] for a in data["train"])
    baseline = _keras_baseline(name, epochs, data)
    result = {"epochs": epochs, "train_examples": len(data["train"][0]), "batch_size": batch,
              "params": run.model.count_params(), "paper_params": preset.expected_params,
              "tfzoo": {"test_error": 1.0 - run.metrics["accuracy"], "train_seconds": run.spent["wall_seconds"],
                        "examples_per_second": _throughput(run.history, batch)},
              "keras": {"test_error": baseline["test_error"], "train_seconds": baseline["seconds"],
                        "examples_per_second": _throughput(baseline["history"], batch)}}
    result["throughput_ratio_tfzoo_over_keras"] = (
        result["tfzoo"]["examples_per_second"] / result["keras"]["examples_per_second"])
    return result


def run(quick: bool = False) -> dict:
    epochs = QUICK_EPOCHS if quick else EPOCHS
    return {name: _train_pair(name, e, 5000 if quick else None) for name, e in epochs.items()}


def summary(results: dict) -> str:
    rows = ["| model | params | epochs | test error (tfzoo) | test error (keras.Sequential) | "
            "train time tfzoo | throughput tfzoo / keras |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        rows.append(
            f"| {name} | {r['params']:,} | {r['epochs']} | {100 * r['tfzoo']['test_error']:.2f}% | "
            f"{100 * r['keras']['test_error']:.2f}% | {r['tfzoo']['train_seconds']:.0f} s | "
            f"{r['throughput_ratio_tfzoo_over_keras']:.2f}× |")
    return "\n".join(rows)
