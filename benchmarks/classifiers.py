"""Classic classifiers on MNIST: test error and training throughput against plain ``keras.Sequential``.

For each classic preset, the tfzoo model and a ``keras.Sequential`` of the same stock layers
(``tfzoo.classifiers.models.keras_sequential_baseline``) start from the same weights and train with
the preset's optimiser on the same batches (50k training images, seeded order). Epochs alternate
between the two models, so both see the same machine load. Throughput excludes each model's first
epoch (tracing and compilation). The trained tfzoo models under 10 MB are exported to
``savedmodels/<preset>/`` with model cards. The validation split is not used for any choice here.
"""

from __future__ import annotations

import os
import time


#: preset -> epochs run here (the recipes' own epoch counts are in the presets).
EPOCHS = {"lenet-mnist": 5, "mlp-mnist": 3, "convnet-mnist": 2, "relu-lenet-mnist": 1}
QUICK_EPOCHS = {"lenet-mnist": 1, "mlp-mnist": 1}
EXPORT_LIMIT_MB = 10
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _train_pair(name: str, epochs: int, data: dict, limit: int | None) -> dict:
    import keras

    import tfzoo
    from tfzoo.base import make_optimizer
    from tfzoo.classifiers.models import keras_sequential_baseline
    from tfzoo.datasets import make_dataset, steps_per_epoch
    from tfzoo.training import recipe_callbacks

    preset = tfzoo.get_preset(name)
    batch = preset.training["batch_size"]
    x, y = data["train"]
    x, y = (x[:limit], y[:limit]) if limit else (x, y)
    keras.utils.set_random_seed(0)
    model = tfzoo.create_model(name)
    baseline = keras_sequential_baseline(model)
    baseline.set_weights(model.get_weights())
    baseline.compile(optimizer=make_optimizer(preset.training), jit_compile="auto",
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                     metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    steps = steps_per_epoch(len(x), batch, drop_remainder=True)
    seconds = {"tfzoo": [], "keras": []}
    for epoch in range(epochs):
        for key, net in (("tfzoo", model), ("keras", baseline)):
            ds = make_dataset(x, y, batch_size=batch, shuffle_seed=0, epochs=epoch + 1, initial_epoch=epoch,
                              drop_remainder=True)
            start = time.perf_counter()
            net.fit(ds, epochs=epoch + 1, initial_epoch=epoch, steps_per_epoch=steps, verbose=0,
                    shuffle=False, callbacks=recipe_callbacks(preset.training))
            seconds[key].append(time.perf_counter() - start)
    test = make_dataset(*data["test"], batch_size=500)
    result = {"epochs": epochs, "train_examples": len(x), "batch_size": batch,
              "params": model.count_params(), "paper_params": preset.expected_params}
    for key, net in (("tfzoo", model), ("keras", baseline)):
        accuracy = net.evaluate(test, verbose=0, return_dict=True)["accuracy"]
        timed = seconds[key][1:] or seconds[key]
        result[key] = {"test_error": 1.0 - accuracy, "train_seconds": sum(seconds[key]),
                       "examples_per_second": steps * batch * len(timed) / sum(timed)}
    result["throughput_ratio_tfzoo_over_keras"] = (
        result["tfzoo"]["examples_per_second"] / result["keras"]["examples_per_second"])
    result["exported"] = _export(name, model, result)
    return result


def _export(name, model, result):
    import shutil

    import tfzoo
    from tfzoo.savedmodel import directory_size_bytes, write_model_card

    if model.count_params() * 4 / 2**20 > EXPORT_LIMIT_MB:
        return None
    path = os.path.join(REPO, "savedmodels", name)
    shutil.rmtree(path, ignore_errors=True)
    tfzoo.export(model, path)
    write_model_card(
        path, preset=tfzoo.get_preset(name),
        metrics={"MNIST test error": f"{100 * result['tfzoo']['test_error']:.2f}%",
                 "epochs": result["epochs"], "training examples": result["train_examples"],
                 "CPU training time": f"{result['tfzoo']['train_seconds']:.0f} s (2-core CPU, shared)"},
        training_command="python benchmarks/run.py classifiers",
        data="MNIST (first 50,000 training images; test on the 10,000 test images)",
        endpoints=model.export_endpoints(),
        notes="\nInput: raw pixel values 0..255 as float32, shape (batch, 28, 28, 1). Output: logits.\n")
    return {"path": os.path.relpath(path, REPO), "size_mb": directory_size_bytes(path) / 2**20}


def run(quick: bool = False) -> dict:
    from tfzoo.datasets import mnist_splits

    data = mnist_splits()
    epochs = QUICK_EPOCHS if quick else EPOCHS
    return {name: _train_pair(name, e, data, 5000 if quick else None) for name, e in epochs.items()}


def summary(results: dict) -> str:
    rows = ["| model | params | epochs | test error (tfzoo) | test error (keras.Sequential) | "
            "train time tfzoo | throughput tfzoo / keras |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        rows.append(
            f"| {name} | {r['params']:,} | {r['epochs']} | {100 * r['tfzoo']['test_error']:.2f}% | "
            f"{100 * r['keras']['test_error']:.2f}% | {r['tfzoo']['train_seconds']:.0f} s | "
            f"{r['throughput_ratio_tfzoo_over_keras']:.2f}× |")
    return "\n".join(rows)
