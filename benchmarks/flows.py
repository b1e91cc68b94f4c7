"""NICE / Real NVP benchmarks (``004_6b1d8905d771edf8.txt`` chapter 5), each against a baseline
measured in the same run on the same machine.

1. ``moons_throughput``: training steps/s of tfzoo's ``realnvp-moons`` against TFP's stock
   ``tfb.RealNVP`` (+ ``tfb.Permute``) with the same coupling MLPs (1 → 64 → 64 → 2), same data,
   same batch, with and without XLA.
2. ``nice_flop_rate``: the FLOP rate of a ``nice-mnist`` (19.2M parameters, batch 100) training
   step as a fraction of this machine's float32 matmul peak (2048×2048 matmuls, same run).
3. ``mnist_bits_per_dim``: ``nice-mnist-small`` and ``realnvp-mnist`` trained for a few minutes of
   CPU on real MNIST; test bits/dim against wall-clock (the paper's 4.36 for NICE came from a long
   training; Table 5.1). With ``quick=False`` the trained models (and ``realnvp-moons``) are
   exported to ``savedmodels/<preset>/`` with model cards.

Run: ``nice -n 10 python benchmarks/run.py flows``.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SAVEDMODELS = os.path.join(HERE, "..", "savedmodels")


def _steps_per_second(model, x, batch_size, steps):
    """Trains ``steps`` steps (after one warm-up epoch of the same size); returns steps/s."""
    model.fit(x[: batch_size * steps], batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    start = time.perf_counter()
    model.fit(x[: batch_size * steps], batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    return steps / (time.perf_counter() - start)


def _stock_realnvp(num_couplings, hidden_layers, hidden_units):
    """A Keras 3 model whose density is TFP's stock tfb.RealNVP chain on 2-D data."""
    import keras
    import tensorflow as tf
    import tensorflow_probability as tfp

    tfb, tfd = tfp.bijectors, tfp.distributions

    class StockRealNVP(keras.Model):
        def __init__(self):
            super().__init__()
            self.nets = [keras.Sequential([keras.Input((1,))] + [
                keras.layers.Dense(hidden_units, activation="relu") for _ in range(hidden_layers)]
                + [keras.layers.Dense(2)]) for _ in range(num_couplings)]
            self.loss_tracker = keras.metrics.Mean(name="loss")

        def distribution(self):
            parts = []
            for net in self.nets:
                parts += [tfb.RealNVP(num_masked=1, shift_and_log_scale_fn=lambda x, _, net=net: tuple(
                    tf.split(net(x), 2, axis=-1))), tfb.Permute([1, 0])]
            return tfd.TransformedDistribution(tfd.MultivariateNormalDiag(tf.zeros(2)), tfb.Chain(parts))

        def call(self, x):
            return self.distribution().log_prob(x)

        @property
        def metrics(self):
            return [self.loss_tracker]

        def train_step(self, data):
            x = data[0] if isinstance(data, tuple) else data
            with tf.GradientTape() as tape:
                loss = -tf.reduce_mean(self.distribution().log_prob(x))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

    model = StockRealNVP()
    model(np.zeros((1, 2), "float32"))
    return model


def moons_throughput(quick: bool) -> dict:
    import keras

    import tfzoo
    from tfzoo.datasets import load_task

    x = load_task("moons")["train"][0]
    steps = 20 if quick else 100
    preset = tfzoo.get_preset("realnvp-moons")
    results = {}
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        ours = tfzoo.create_model("realnvp-moons", compile=False)
        ours.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit)
        keras.utils.set_random_seed(0)
        stock = _stock_realnvp(preset.config["num_couplings"], preset.config["hidden_layers"],
                               preset.config["hidden_units"])
        stock.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit)
        key = "xla" if jit else "no_xla"
        results[f"tfzoo_steps_per_s_{key}"] = round(_steps_per_second(ours, x, 100, steps), 1)
        results[f"stock_steps_per_s_{key}"] = round(_steps_per_second(stock, x, 100, steps), 1)
    results["ratio_both_xla"] = round(results["tfzoo_steps_per_s_xla"] / results["stock_steps_per_s_xla"], 2)
    results["ratio_both_no_xla"] = round(results["tfzoo_steps_per_s_no_xla"] / results["stock_steps_per_s_no_xla"], 2)
    results.update(steps=steps, batch_size=100, params=int(ours.count_params()),
                   stock_params=int(stock.count_params()))
    return results


def matmul_peak_gflops(size: int = 2048, repeats: int = 10) -> float:
    import tensorflow as tf

    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))

    @tf.function
    def chain():
        c = a
        for _ in range(repeats):
            c = tf.matmul(c, b) * (1.0 / size)
        return tf.reduce_sum(c)

    chain().numpy()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        chain().numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 * repeats / best / 1e9


def nice_flop_rate(quick: bool) -> dict:
    import keras

    import tfzoo

    peak = matmul_peak_gflops()
    keras.utils.set_random_seed(0)
    model = tfzoo.create_model("nice-mnist")  # the preset compiles with jit_compile=True
    x = np.random.default_rng(0).integers(0, 256, size=(100 * 40, 28, 28, 1)).astype("float32")
    steps = 5 if quick else 20
    rate = _steps_per_second(model, x, 100, steps)
    matmul_params = sum(int(np.prod(v.shape)) for v in model.trainable_variables if len(v.shape) == 2)
    # forward 2 FLOPs per weight and example, backward 4 (input and weight gradients)
    flops_per_step = 6 * matmul_params * 100
    gflops = flops_per_step * rate / 1e9
    return dict(matmul_peak_gflops=round(peak, 1), nice_step_ms=round(1000 / rate, 1),
                nice_gflops=round(gflops, 1), fraction_of_peak=round(gflops / peak, 3),
                params=int(model.count_params()), batch_size=100, steps=steps)


def _export(model, preset_name, metrics, data, command):
    import tfzoo
    from tfzoo.savedmodel import write_model_card

    path = os.path.join(SAVEDMODELS, preset_name)
    if os.path.isdir(path):
        import shutil

        shutil.rmtree(path)
    tfzoo.export(model, path)
    write_model_card(path, preset=tfzoo.get_preset(preset_name), metrics=metrics,
                     training_command=command, data=data, endpoints=model.export_endpoints(),
                     notes="\nTrained for minutes on a shared 2-core CPU (see `benchmarks/flows.py`), "
                           "not to convergence: the numbers above are far from the paper's.\n")
    return path


def mnist_bits_per_dim(quick: bool, export: bool) -> dict:
    import keras

    import tfzoo
    from tfzoo.datasets import mnist_splits

    splits = mnist_splits()
    x_train = splits["train"][0].astype("float32")
    x_test = splits["test"][0].astype("float32")
    budget = 20.0 if quick else 60.0
    n_test = 500 if quick else 2000
    results = {}
    for name, batch_size in (("nice-mnist-small", 100), ("realnvp-mnist", 64)):
        keras.utils.set_random_seed(0)
        model = tfzoo.create_model(name)
        curve, trained, start = [], 0, time.perf_counter()
        chunk = 20 * batch_size
        while time.perf_counter() - start < budget:
            batch = x_train[trained % len(x_train):][:chunk]
            history = model.fit(batch, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
            trained += len(batch)
            curve.append((round(time.perf_counter() - start, 1), trained,
                          round(float(history.history["bits_per_dim"][-1]), 3)))
        if model.batch_norm_statistics:
            stats_start = time.perf_counter()
            model.accumulate_batch_norm_statistics(x_train[:5000], batch_size=100)
            results[f"{name}_statistics_pass_s"] = round(time.perf_counter() - stats_start, 1)
        bits = float(np.mean(model.bits_per_dim(x_test[:n_test], seed=0)))
        results[name] = dict(train_seconds=round(time.perf_counter() - start, 1), examples_seen=trained,
                             test_bits_per_dim=round(bits, 3), test_images=n_test,
                             train_curve_seconds_examples_bits=curve,
                             batch_norm_statistics="exact moments over the first 5,000 training images"
                             if model.batch_norm_statistics else None)
        if export:
            _export(model, name, {"test bits/dim (first %d test images, 1 dequantisation draw)" % n_test:
                                  round(bits, 3), "training": f"{trained} examples, "
                                  f"{results[name]['train_seconds']} s CPU wall-clock"},
                    "MNIST (tfzoo.datasets.mnist_splits: 50k train / 10k test)",
                    "nice -n 10 python benchmarks/run.py flows")
    results["paper_nice_mnist_bits_per_dim"] = 4.36
    return results


def moons_export(export: bool) -> dict:
    import keras

    import tfzoo
    from tfzoo.datasets import load_task

    task = load_task("moons")
    keras.utils.set_random_seed(0)
    model = tfzoo.create_model("realnvp-moons")
    model.fit(task["train"][0], batch_size=100, epochs=10, verbose=0)
    log_p = float(np.mean(model.log_prob(task["test"][0])))
    result = dict(test_log_prob_nats=round(log_p, 3), test_bits_per_dim=round(-log_p / (2 * math.log(2)), 3),
                  epochs=10)
    if export:
        _export(model, "realnvp-moons", {"test mean log p (nats)": round(log_p, 3),
                                          "test bits/dim": result["test_bits_per_dim"], "epochs": 10},
                "two moons, noise 0.1 (tfzoo.datasets.load_task('moons'))",
                "nice -n 10 python benchmarks/run.py flows")
    return result


def run(quick: bool) -> dict:
    results = {}
    for key, measure in [("moons_throughput", lambda: moons_throughput(quick)),
                         ("nice_flop_rate", lambda: nice_flop_rate(quick)),
                         ("mnist_bits_per_dim", lambda: mnist_bits_per_dim(quick, export=not quick)),
                         ("realnvp_moons", lambda: moons_export(export=not quick))]:
        results[key] = measure()
        print(key, results[key], flush=True)
    return results


def summary(results) -> str:
    t, f, m = results["moons_throughput"], results["nice_flop_rate"], results["mnist_bits_per_dim"]
    rows = [
        "| measurement | tfzoo | baseline (same run) | ratio | paper / target |",
        "|---|---|---|---|---|",
        f"| realnvp-moons training steps/s vs stock `tfb.RealNVP` (same MLPs), both without XLA | "
        f"{t['tfzoo_steps_per_s_no_xla']} | {t['stock_steps_per_s_no_xla']} | {t['ratio_both_no_xla']}x | target 1.5x |",
        f"| same, both with XLA | {t['tfzoo_steps_per_s_xla']} | {t['stock_steps_per_s_xla']} | {t['ratio_both_xla']}x | target 1.5x |",
        f"| nice-mnist training GFLOP/s (19.2M params, batch 100, XLA) | {f['nice_gflops']} | "
        f"{f['matmul_peak_gflops']} (2048² matmul peak) | {f['fraction_of_peak']:.0%} | target ≥ 80% |",
    ]
    for name in ("nice-mnist-small", "realnvp-mnist"):
        r = m[name]
        rows.append(f"| {name} test bits/dim after {r['train_seconds']} s CPU ({r['examples_seen']} images) | "
                    f"{r['test_bits_per_dim']} | | | NICE 4.36 (Table 5.1, long training) |")
    moons = results["realnvp_moons"]
    rows.append(f"| realnvp-moons test log p ({moons['epochs']} epochs) | {moons['test_log_prob_nats']} nats | | | no number in the thesis |")
    return "\n".join(rows)
