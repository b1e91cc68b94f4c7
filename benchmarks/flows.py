"""NICE / Real NVP benchmarks (``004_6b1d8905d771edf8.txt`` chapter 5), each against a baseline
measured in the same run on the same machine.

1. ``moons_throughput`` and ``dense_mnist_throughput``: training steps/s of tfzoo's vector Real
   NVP against TFP's stock ``tfb.RealNVP`` (+ ``tfb.Permute``) with the same coupling MLPs, same
   data, same batch, with and without XLA: on two moons (1 → 64 → 64 → 2, the ``realnvp-moons``
   sizes) and on dequantised MNIST as 784-d vectors (392 → 256 → 256 → 784).
2. ``nice_flop_rate``: the FLOP rate of a ``nice-mnist`` (19.2M parameters, batch 100) training
   step as a fraction of this machine's float32 matmul peak (2048×2048 matmuls, same run).
3. ``realnvp_moons``: ``realnvp-moons`` trained for 10 epochs; with ``quick=False`` it is exported
   to ``savedmodels/realnvp-moons/`` with a model card.

The MNIST bits/dim within a CPU-time budget (and the exports of ``nice-mnist-small`` and
``realnvp-mnist``) are ``benchmarks/flows_mnist_budget.py``, one preset per process.

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


def _stock_realnvp(dim, num_couplings, hidden_layers, hidden_units):
    """A Keras 3 model whose density is TFP's stock tfb.RealNVP chain on d-dimensional vectors: each
    coupling's network reads the first ⌊d/2⌋ coordinates and writes (shift, log_scale) for the rest,
    and a tfb.Permute reverses the coordinates between couplings."""
    import keras
    import tensorflow as tf
    import tensorflow_probability as tfp

    tfb, tfd = tfp.bijectors, tfp.distributions
    kept = dim // 2

    class StockRealNVP(keras.Model):
        def __init__(self):
            super().__init__()
            self.nets = [keras.Sequential([keras.Input((kept,))] + [
                keras.layers.Dense(hidden_units, activation="relu") for _ in range(hidden_layers)]
                + [keras.layers.Dense(2 * (dim - kept))]) for _ in range(num_couplings)]
            self.loss_tracker = keras.metrics.Mean(name="loss")

        def distribution(self):
            parts = []
            for net in self.nets:
                parts += [tfb.RealNVP(num_masked=kept, shift_and_log_scale_fn=lambda x, _, net=net: tuple(
                    tf.split(net(x), 2, axis=-1))), tfb.Permute(list(range(dim))[::-1])]
            return tfd.TransformedDistribution(tfd.MultivariateNormalDiag(tf.zeros(dim)), tfb.Chain(parts))

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
    model(np.zeros((1, dim), "float32"))
    return model


def _dense_mnist_vectors():
    """Dequantised MNIST training images as 784-d vectors in [0, 1) (``(x + u)/256``, seed 0)."""
    from tfzoo.datasets import mnist_splits

    x = mnist_splits()["train"][0][:20000].reshape(-1, 784).astype("float32")
    return (x + np.random.default_rng(0).random(x.shape, dtype=np.float32)) / 256.0


def throughput(data: str, quick: bool) -> dict:
    """Training steps/s of tfzoo's vector Real NVP (DenseCouplingFlow, affine couplings) against
    TFP's stock tfb.RealNVP with the same coupling MLPs, on the same data and batch, each with and
    without XLA. ``data``: ``"moons"`` (realnvp-moons' sizes) or ``"dense_mnist"`` (784-d, 4
    couplings of 392 → 256 → 256 → 784, the nice-mnist-small MLPs)."""
    import keras

    import tfzoo
    from tfzoo.datasets import load_task
    from tfzoo.flows import DenseCouplingFlow

    if data == "moons":
        x = load_task("moons")["train"][0]
        sizes = {k: tfzoo.get_preset("realnvp-moons").config[k]
                 for k in ("num_couplings", "hidden_layers", "hidden_units")}
    else:
        x = _dense_mnist_vectors()
        sizes = dict(num_couplings=4, hidden_layers=2, hidden_units=256)
    dim = x.shape[1]
    steps = 20 if quick else 100
    results = {}
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        ours = DenseCouplingFlow(input_shape=(dim,), coupling="affine", prior="gaussian",
                                 diagonal_scaling=False, preprocessing="none", dequantize=False, **sizes)
        ours.build_from_preset()
        ours.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit)
        keras.utils.set_random_seed(0)
        stock = _stock_realnvp(dim, **sizes)
        stock.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit)
        key = "xla" if jit else "no_xla"
        results[f"tfzoo_steps_per_s_{key}"] = round(_steps_per_second(ours, x, 100, steps), 1)
        results[f"stock_steps_per_s_{key}"] = round(_steps_per_second(stock, x, 100, steps), 1)
    results["ratio_both_xla"] = round(results["tfzoo_steps_per_s_xla"] / results["stock_steps_per_s_xla"], 2)
    results["ratio_both_no_xla"] = round(results["tfzoo_steps_per_s_no_xla"] / results["stock_steps_per_s_no_xla"], 2)
    results.update(steps=steps, batch_size=100, dim=dim, params=int(ours.count_params()),
                   stock_params=int(stock.count_params()), **sizes)
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
    import tensorflow as tf

    return dict(intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count(),
                matmul_peak_gflops=round(peak, 1), nice_step_ms=round(1000 / rate, 1),
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
                     notes="\nTrained on a 2-core CPU for the time stated above (see the training command), "
                           "not to convergence; `docs/flows.md` compares the numbers with the paper's.\n")
    return path


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
    """``TFZOO_BENCHMARK_THREADS=N`` limits TensorFlow to N intra- and inter-op threads (e.g. 1, to
    measure on one core while the other is busy); the FLOP row records the count."""
    threads = int(os.environ.get("TFZOO_BENCHMARK_THREADS", "0"))
    if threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    results = {}
    for key, measure in [("moons_throughput", lambda: throughput("moons", quick)),
                         ("dense_mnist_throughput", lambda: throughput("dense_mnist", quick)),
                         ("nice_flop_rate", lambda: nice_flop_rate(quick)),
                         ("realnvp_moons", lambda: moons_export(export=not quick))]:
        results[key] = measure()
        print(key, results[key], flush=True)
    return results


def summary(results) -> str:
    f = results["nice_flop_rate"]
    rows = ["| measurement | tfzoo | baseline (same run) | ratio | paper / target |", "|---|---|---|---|---|"]
    for key, label in (("moons_throughput", "realnvp-moons (2-D)"), ("dense_mnist_throughput", "dense MNIST (784-d)")):
        if key not in results:
            continue
        t = results[key]
        rows += [
            f"| {label} training steps/s vs stock `tfb.RealNVP` (same MLPs), both without XLA | "
            f"{t['tfzoo_steps_per_s_no_xla']} | {t['stock_steps_per_s_no_xla']} | {t['ratio_both_no_xla']}x | target 1.5x |",
            f"| same, both with XLA | {t['tfzoo_steps_per_s_xla']} | {t['stock_steps_per_s_xla']} | "
            f"{t['ratio_both_xla']}x | target 1.5x |"]
    rows += [
        f"| nice-mnist training GFLOP/s (19.2M params, batch 100, XLA, {f.get('intra_op_threads', 'all')} "
        f"thread(s)) | {f['nice_gflops']} | "
        f"{f['matmul_peak_gflops']} (2048² matmul peak) | {f['fraction_of_peak']:.0%} | target ≥ 80% |"]
    moons = results["realnvp_moons"]
    rows.append(f"| realnvp-moons test log p ({moons['epochs']} epochs) | {moons['test_log_prob_nats']} nats | | | no number in the thesis |")
    return "\n".join(rows)
