"""NICE / Real NVP benchmarks (``004_6b1d8905d771edf8.txt`` chapter 5), each against a baseline
measured in the same run on the same machine. Every tfzoo model here is trained by ``tfzoo.train``
(``benchmarks/trained.py``); only the stock TFP baseline has its own ``fit``.

1. ``moons_throughput`` and ``dense_mnist_throughput``: training steps/s of tfzoo's vector Real
   NVP against TFP's stock ``tfb.RealNVP`` (+ ``tfb.Permute``) with the same coupling MLPs, same
   examples, same batch, with and without XLA: on two moons (1 → 64 → 64 → 2, the ``realnvp-moons``
   preset) and on dequantised MNIST as 784-d vectors (392 → 256 → 256 → 784, ``nice-mnist-small``
   made affine). Each side trains two epochs of ``steps`` steps with the trainer's per-step
   callbacks; the second epoch's training steps are timed.
2. ``nice_flop_rate``: the FLOP rate of a ``nice-mnist`` (19.2M parameters, batch 100) training
   step as a fraction of this machine's float32 matmul peak (2048×2048 matmuls, same run).
3. ``realnvp_moons``: ``realnvp-moons`` trained for 10 epochs, test log p.

The MNIST bits/dim of a CPU-time-budgeted run is ``benchmarks/flows_mnist_budget.py`` (it reads a run
directory, or trains one with ``tfzoo.train(..., cpu_budget=...)``). The shipped models in
``savedmodels/`` come from ``tfzoo train`` and ``tfzoo export``, not from here.

Run: ``nice -n 10 python benchmarks/run.py flows``.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np


def _stock_steps_per_second(model, x, batch_size, steps):
    """The baseline's rate: a stock TFP model (not a tfzoo preset) trained by its own ``fit`` for two
    epochs of ``steps`` steps on the trainer's batches, with the trainer's per-step callbacks
    (``StopOnNaN``, ``BudgetStop``) and clock; the second epoch is timed (the first traces)."""
    from tfzoo.callbacks import BudgetStop, StopOnNaN
    from tfzoo.datasets import make_dataset
    from tfzoo.recipe import Budget
    from trained import EpochClock

    data = make_dataset(x[: batch_size * steps], batch_size=batch_size, shuffle_seed=0, epochs=2,
                        drop_remainder=True)
    history = model.fit(data, epochs=2, steps_per_epoch=steps, verbose=0, shuffle=False,  # baseline
                        callbacks=[EpochClock(), StopOnNaN(), BudgetStop(Budget())])
    return steps / history.history["fit_wall_seconds"][-1]


def _tfzoo_steps_per_second(preset, steps, **kwargs):
    """tfzoo's rate: ``tfzoo.train(preset)`` for two epochs of ``steps`` steps (``limit_train``); the
    second epoch's training steps are timed (``EpochClock``: the first epoch traces, validation on
    one batch is excluded). Returns ``(steps/s, run)``."""
    from trained import train

    batch = _preset_batch(preset)
    run = train(preset, epochs=2, limit_train=batch * steps, limit_eval=batch, **kwargs)
    return steps / run.history["fit_wall_seconds"][-1], run


def _preset_batch(preset) -> int:
    import tfzoo

    return tfzoo.get_preset(preset).recipe.batch_size


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


def _dense_mnist_vectors(n: int):
    """The first ``n`` training images of the mnist task dequantised, as 784-d vectors in [0, 1)
    (``(x + u)/256``, seed 0): the stock baseline's data."""
    from tfzoo.datasets import load_task

    x = load_task("mnist", limit=n)["train"][0].reshape(-1, 784).astype("float32")
    return (x + np.random.default_rng(0).random(x.shape, dtype=np.float32)) / 256.0


#: the dense-MNIST arm: nice-mnist-small's MLPs (4 couplings of 392 -> 256 -> 256 -> 784) made affine
#: with a Gaussian prior and no diagonal scaling, the stock tfb.RealNVP's form
DENSE_MNIST_OVERRIDES = dict(coupling="affine", prior="gaussian", diagonal_scaling=False)


def throughput(data: str, quick: bool) -> dict:
    """Training steps/s of tfzoo's vector Real NVP (DenseCouplingFlow, affine couplings) trained by
    ``tfzoo.train`` against TFP's stock tfb.RealNVP with the same coupling MLPs (the baseline, its own
    ``fit``) on the same examples and batch, each with and without XLA. ``data``: ``"moons"`` (the
    ``realnvp-moons`` preset) or ``"dense_mnist"`` (``nice-mnist-small`` with
    :data:`DENSE_MNIST_OVERRIDES` on the mnist task: tfzoo dequantises and rescales the 8-bit images
    inside its step; the stock model gets the same images dequantised beforehand, ``(x + u)/256``, as
    784-d vectors)."""
    import keras

    import tfzoo
    from trained import task_splits

    steps = 20 if quick else 100
    if data == "moons":
        preset, overrides = "realnvp-moons", {}
        x = task_splits(preset)["train"][0]
    else:
        preset, overrides = "nice-mnist-small", DENSE_MNIST_OVERRIDES
        x = _dense_mnist_vectors(100 * steps)
    config = {**tfzoo.get_preset(preset).config, **overrides}
    sizes = {k: config[k] for k in ("num_couplings", "hidden_layers", "hidden_units")}
    dim = x.shape[1]
    results = {}
    for jit in (False, True):
        key = "xla" if jit else "no_xla"
        rate, run = _tfzoo_steps_per_second(preset, steps, overrides=overrides,
                                            recipe_overrides={"jit_compile": jit})
        results[f"tfzoo_steps_per_s_{key}"] = round(rate, 1)
        keras.utils.set_random_seed(0)
        stock = _stock_realnvp(dim, **sizes)
        stock.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit)
        results[f"stock_steps_per_s_{key}"] = round(_stock_steps_per_second(stock, x, 100, steps), 1)
    results["ratio_both_xla"] = round(results["tfzoo_steps_per_s_xla"] / results["stock_steps_per_s_xla"], 2)
    results["ratio_both_no_xla"] = round(results["tfzoo_steps_per_s_no_xla"] / results["stock_steps_per_s_no_xla"], 2)
    results.update(steps=steps, batch_size=100, dim=dim, params=int(run.model.count_params()),
                   stock_params=int(stock.count_params()), preset=preset, overrides=overrides, **sizes)
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
    """The FLOP rate of ``nice-mnist`` training steps (``tfzoo.train``, the preset's XLA recipe, batch
    100, real MNIST images) against this machine's matmul peak measured in the same run."""
    import tensorflow as tf

    peak = matmul_peak_gflops()
    steps = 5 if quick else 20
    rate, run = _tfzoo_steps_per_second("nice-mnist", steps)
    matmul_params = sum(int(np.prod(v.shape)) for v in run.model.trainable_variables if len(v.shape) == 2)
    # forward 2 FLOPs per weight and example, backward 4 (input and weight gradients)
    flops_per_step = 6 * matmul_params * 100
    gflops = flops_per_step * rate / 1e9
    return dict(intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count(),
                matmul_peak_gflops=round(peak, 1), nice_step_ms=round(1000 / rate, 1),
                nice_gflops=round(gflops, 1), fraction_of_peak=round(gflops / peak, 3),
                params=int(run.model.count_params()), batch_size=100, steps=steps)


def realnvp_moons(quick: bool) -> dict:
    """``realnvp-moons`` trained by ``tfzoo.train`` for 10 epochs: mean test log p (nats) on the
    task's 2,000 test points."""
    from trained import task_splits, train

    epochs = 10
    run = train("realnvp-moons", epochs=epochs)
    log_p = float(np.mean(run.model.log_prob(task_splits("realnvp-moons")["test"][0])))
    return dict(test_log_prob_nats=round(log_p, 3), test_bits_per_dim=round(-log_p / (2 * math.log(2)), 3),
                epochs=epochs, trainer_test_loss=round(run.metrics["loss"], 3))


def run(quick: bool, only: list | None = None) -> dict:
    """Every part, or those named in ``only`` (see ``benchmarks/run.py --only``).
    ``TFZOO_BENCHMARK_THREADS=N`` limits TensorFlow to N intra- and inter-op threads (e.g. 1, to
    measure on one core while the other is busy); the FLOP row records the count."""
    threads = int(os.environ.get("TFZOO_BENCHMARK_THREADS", "0"))
    if threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    parts = {"moons_throughput": lambda: throughput("moons", quick),
             "dense_mnist_throughput": lambda: throughput("dense_mnist", quick),
             "nice_flop_rate": lambda: nice_flop_rate(quick),
             "realnvp_moons": lambda: realnvp_moons(quick)}
    unknown = set(only or ()) - set(parts)
    if unknown:
        raise SystemExit(f"unknown flows parts {sorted(unknown)}; expected some of {sorted(parts)}")
    results = {}
    for key, measure in parts.items():
        if not only or key in only:
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
