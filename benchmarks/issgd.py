"""ISSGD against plain SGD on permutation-invariant MNIST (reduced), and the cost of its parts.

Paper: ``shared/papers/003_a93095073811cc34.txt`` section 7.5 (lines 2600–2664). The paper trains a
4×2048 ReLU MLP on SVHN for hours, 50 seeds, with 3 GPU workers; it claims a faster decrease of the
training loss (Fig. 7.2), equal final test error (Table 7.1: 7.54% SGD, 7.56% ISSGD) and a smaller
√Tr Σ with ISSGD weights than with uniform sampling (Fig. 7.4, no numbers given). Here, in a few CPU
minutes: ``issgd-mnist-small`` (784-4×256-10) on the first 5,000 MNIST training images, the 10,000
test images, both of the paper's settings (lr 0.01 with c = 10, lr 0.001 with c = 1), ISSGD with
simulated workers (relaxed mode: the master publishes every P = 10 steps; the workers refresh
R = 250 weights per step, a full sweep every 20 steps) against SGD on uniformly shuffled batches
from the same initial weights, same batch size (64) and step count, over a few seeds (median and
quartiles). Every arm is a ``tfzoo.train`` run of the preset (``benchmarks/trained.py``): SGD is
``recipe_overrides={"learning_rate": lr, "callbacks": []}``, ISSGD the ``StaleImportanceWeights``
callback with the arm's keyword arguments (:func:`recipe_overrides`); the curves are the runs'
per-epoch history (an epoch is ``train_examples // 64`` steps): the training steps' seconds, the loss
on the whole training subset, the validation error (the task's 10,000 validation images) and ISSGD's
√Tr Σ diagnostics, and the test error after the last step. Also measured: per-example norm throughput
of Proposition 3 against the vectorised Jacobian path, the per-step cost of ISSGD against SGD (master
alone, and with the simulated workers running on the same CPU) and the norms/s of the localhost
parameter-server cluster. The full-size curves are ``benchmarks/issgd_mnist_export.py`` (on ``tfzoo
train`` runs); the shipped models come from ``tfzoo train`` and ``tfzoo export``.
"""

from __future__ import annotations

import os
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESET = "issgd-mnist-small"
SETTINGS = {"a": dict(learning_rate=0.01, smoothing=10.0), "b": dict(learning_rate=0.001, smoothing=1.0)}
BATCH, PUBLISH_EVERY, REFRESH_SIZE = 64, 10, 250
ISSGD = "tfzoo.issgd.callback:StaleImportanceWeights"


def _data(train_size: int):
    """The training examples of the runs (the first ``train_size`` of the mnist task's training split,
    ``limit_train``) and the task's test split."""
    from trained import task_splits

    splits = task_splits(PRESET)
    return tuple(a[:train_size] for a in splits["train"]), splits["test"]


def _evaluate(model, x, y):
    import keras

    logits = model.predict(x, batch_size=1000, verbose=0)
    loss = float(np.mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)))
    return loss, float(np.mean(np.argmax(logits, -1) != y))


def recipe_overrides(method: str, learning_rate: float, smoothing: float, **issgd) -> dict:
    """The recipe of one arm: plain SGD at ``learning_rate`` on uniformly shuffled batches (``"sgd"``)
    or with the ``StaleImportanceWeights`` callback (``"issgd"``: smoothing ``c``, relaxed simulated
    workers publishing every ``PUBLISH_EVERY`` steps and refreshing ``REFRESH_SIZE`` weights per step;
    ``issgd`` overrides those keyword arguments); batch ``BATCH``."""
    from tfzoo.recipe import CallbackSpec

    kwargs = {**dict(smoothing=smoothing, publish_every=PUBLISH_EVERY, refresh_every=1, refresh_size=REFRESH_SIZE,
                     monitor_size=1000), **issgd}
    callbacks = [CallbackSpec(ISSGD, kwargs)] if method == "issgd" else []
    return dict(learning_rate=learning_rate, batch_size=BATCH, callbacks=callbacks)


def _train(method: str, setting: dict, seed: int, steps: int, train):
    """One arm: ``tfzoo.train`` for ``steps`` steps on ``train`` (``limit_train``), seed ``seed`` (the
    same initial weights for both methods). Per epoch: the step count, the training seconds
    (validation and scoring excluded), the loss on the whole training subset, the validation error
    (the task's 10,000 validation images) and ISSGD's diagnostics; the test error at the end."""
    import math

    from trained import cumulative, train as train_run

    run = train_run(PRESET, seed=seed, steps=steps, epochs=math.ceil(steps / (len(train[0]) // BATCH)),
                    limit_train=len(train[0]), recipe_overrides=recipe_overrides(method, **setting),
                    evaluate={"train": train})
    h = run.history
    curve = dict(step=[int(s) for s in h["steps"]], seconds=cumulative(h["fit_wall_seconds"]),
                 train_loss=h["train_loss"], validation_error=[1.0 - a for a in h["val_accuracy"]],
                 test_error=[1.0 - run.metrics["accuracy"]])  # the test error after the last step
    curve.update({k: v for k, v in h.items() if k.startswith("issgd_")})
    return run.model, curve


def _quartiles(runs: list, key: str) -> dict:
    values = np.array([r[key] for r in runs])
    q1, median, q3 = np.percentile(values, [25, 50, 75], axis=0)
    return dict(q1=q1.tolist(), median=median.tolist(), q3=q3.tolist())


def _norm_throughput(train, repeats: int) -> dict:
    import tfzoo
    from tfzoo.issgd import norms

    model = tfzoo.create_model(PRESET)
    x, y = train[0][:128], train[1][:128]
    result = {}
    for method in ("dense", "vectorized"):
        function = norms.grad_norm_function(model, method)
        function(x, y)  # trace
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            np.asarray(function(x, y))
            best = min(best, time.perf_counter() - start)
        result[f"{method}_norms_per_second"] = len(x) / best
    loss_fn = norms.per_example_loss(model)
    dense = np.asarray(norms.dense_grad_norms(model, x, y, loss_fn))
    vectorized = np.asarray(norms.vectorized_grad_norms(model, x, y, loss_fn))
    result["max_relative_difference"] = float(np.max(np.abs(dense / vectorized - 1)))
    result["ratio_dense_over_vectorized"] = (result["dense_norms_per_second"]
                                             / result["vectorized_norms_per_second"])
    result["batch"] = len(x)
    result["params"] = model.count_params()
    return result


def _step_cost(steps: int) -> dict:
    """Seconds per step: SGD, ISSGD master alone (no refresh), ISSGD with simulated workers; each a
    ``tfzoo.train`` run of 4 epochs of ``steps`` steps (``limit_train = steps * BATCH``), the median over
    epochs 2-4 of the training steps' seconds (``EpochClock``: validation and ISSGD's end-of-epoch
    diagnostics excluded; ``monitor_size=0``). The runs are one after the other (the 2026-11-22 version
    alternated the variants' epochs)."""
    from trained import seconds_per_step, train

    variants = {
        "sgd": recipe_overrides("sgd", 0.01, 1.0),
        "issgd_master_only": recipe_overrides("issgd", 0.01, 1.0, monitor_size=0, publish_every=10**9,
                                              refresh_every=10**9),
        "issgd_with_simulated_workers": recipe_overrides("issgd", 0.01, 1.0, monitor_size=0),
    }
    per_step = {}
    for name, recipe in variants.items():
        run = train(PRESET, epochs=4, limit_train=steps * BATCH, limit_eval=BATCH, recipe_overrides=recipe)
        per_step[name] = seconds_per_step(run.history, reduce=np.median)
    return dict(seconds_per_step=per_step,
                ratio_master_only_over_sgd=per_step["issgd_master_only"] / per_step["sgd"],
                ratio_with_workers_over_sgd=per_step["issgd_with_simulated_workers"] / per_step["sgd"],
                steps_per_measurement=steps)


WORKER_THROUGHPUT = """
import json, os, time
import numpy as np
import tfzoo
from tfzoo.datasets import load_mnist
from tfzoo.issgd.distributed import DistributedNormWorkers, LocalCluster

mnist = load_mnist()
x, y = mnist.x_train[:TRAIN_SIZE], mnist.y_train[:TRAIN_SIZE]
result = {}
with LocalCluster(num_workers=2, lifetime_s=400) as cluster:
    workers = DistributedNormWorkers(cluster.cluster_resolver(), chunk_size=500)
    model = tfzoo.create_model(PRESET)
    workers.attach(model, x, y)
    workers.publish(model, 0)
    for count in (2, 1):
        if count == 1:
            cluster.kill_worker(1)
        workers.schedule_sweep()
        workers.wait()  # warm-up (tracing; after the kill, the failed chunks are re-run)
        start = time.perf_counter()
        for _ in range(SWEEPS):
            workers.schedule_sweep()
        workers.wait()
        result[f"{count}_workers_norms_per_second"] = SWEEPS * len(x) / (time.perf_counter() - start)
print(json.dumps(result), flush=True)
os._exit(0)
"""


def _worker_throughput(train_size: int, sweeps: int) -> dict:
    """Norms per second of the parameter-server cluster (separate processes) with 2, then 1 worker."""
    import json

    from tfzoo import testing

    out = testing.run_in_fresh_python(
        f"PRESET = {PRESET!r}\nTRAIN_SIZE = {train_size}\nSWEEPS = {sweeps}\n" + WORKER_THROUGHPUT,
        timeout=500)
    result = json.loads(out.strip().splitlines()[-1])
    result["ratio_2_over_1"] = result["2_workers_norms_per_second"] / result["1_workers_norms_per_second"]
    result["examples"] = train_size
    return result


def run(quick: bool) -> dict:
    seeds = [0, 1] if quick else [0, 1, 2, 3, 4]
    steps = 100 if quick else 300
    train, test = _data(2000 if quick else 5000)
    results = dict(preset=PRESET, train_examples=len(train[0]), test_examples=len(test[0]), seeds=seeds,
                   steps=steps, batch_size=BATCH, publish_every=PUBLISH_EVERY, refresh_size=REFRESH_SIZE,
                   steps_per_epoch=len(train[0]) // BATCH, settings={})
    for key, setting in SETTINGS.items():
        runs = {"sgd": [], "issgd": []}
        for seed in seeds:
            for method in runs:
                _, curve = _train(method, setting, seed, steps, train)
                runs[method].append(curve)
        summary = {"step": runs["sgd"][0]["step"], **setting}
        for method, curves in runs.items():
            summary[method] = {k: _quartiles(curves, k)
                               for k in ("train_loss", "validation_error", "test_error", "seconds")}
        issgd_runs = runs["issgd"]
        for k in ("issgd_sqrt_trace_ideal", "issgd_sqrt_trace_stale", "issgd_sqrt_trace_uniform",
                  "issgd_grad_true_norm", "issgd_grad_true_norm_bound"):
            summary["issgd"][k] = _quartiles(issgd_runs, k)
        for proposal in ("stale", "ideal"):
            ratios = [{"r": np.divide(r["issgd_sqrt_trace_uniform"], r[f"issgd_sqrt_trace_{proposal}"])}
                      for r in issgd_runs]
            summary[f"ratio_uniform_over_{proposal}"] = _quartiles(ratios, "r")
        results["settings"][key] = summary
    results["norm_throughput"] = _norm_throughput(train, repeats=3 if quick else 10)
    results["step_cost"] = _step_cost(steps=30 if quick else 100)
    results["worker_throughput"] = _worker_throughput(len(train[0]), sweeps=2 if quick else 4)
    return results


def summary(results: dict) -> str:
    def med(d, i=-1):
        return f"{d['median'][i]:.3f} [{d['q1'][i]:.3f}, {d['q3'][i]:.3f}]"

    rows = [f"{results['preset']} on {results['train_examples']:,} MNIST images, {len(results['seeds'])} seeds, "
            f"{results['steps']} steps of batch {results['batch_size']}; median [quartiles] at the last step.",
            "",
            "| setting | SGD train loss | ISSGD train loss | SGD test error | ISSGD test error | "
            "SGD / ISSGD wall clock (s) | √TrΣ uniform / stale | √TrΣ uniform / ideal | paper |",
            "|---|---|---|---|---|---|---|---|---|"]
    for key, s in results["settings"].items():
        rows.append(
            f"| ({key}) lr {s['learning_rate']}, c = {s['smoothing']:g} | {med(s['sgd']['train_loss'])} | "
            f"{med(s['issgd']['train_loss'])} | {med(s['sgd']['test_error'])} | {med(s['issgd']['test_error'])} | "
            f"{s['sgd']['seconds']['median'][-1]:.1f} / {s['issgd']['seconds']['median'][-1]:.1f} | "
            f"{med(s['ratio_uniform_over_stale'])} | {med(s['ratio_uniform_over_ideal'])} | ISSGD lowers the "
            "training loss faster (Fig. 7.2); test error 7.54% SGD vs 7.56% ISSGD on SVHN (Table 7.1); "
            "no variance ratio given (Fig. 7.4) |")
    t = results["norm_throughput"]
    c = results["step_cost"]
    rows += ["", "| measurement | tfzoo | target |", "|---|---|---|",
             f"| per-example norms/s, Prop. 3 vs vectorised Jacobian ({t['params']:,} params, batch {t['batch']}) | "
             f"{t['dense_norms_per_second']:,.0f} vs {t['vectorized_norms_per_second']:,.0f} "
             f"(**{t['ratio_dense_over_vectorized']:.1f}×**, max rel. diff {t['max_relative_difference']:.1e}) | ≥ 10× |",
             f"| seconds/step ISSGD master (sampling + weights) / SGD | **{c['ratio_master_only_over_sgd']:.2f}×** "
             f"({1e3 * c['seconds_per_step']['issgd_master_only']:.1f} vs {1e3 * c['seconds_per_step']['sgd']:.1f} ms) | ≤ 1.3× |",
             f"| seconds/step ISSGD with simulated workers on the same CPU / SGD | "
             f"{c['ratio_with_workers_over_sgd']:.2f}× (R = {results['refresh_size']} norms per step) | "
             "(workers run on other machines in the paper) |"]
    w = results.get("worker_throughput")
    if w:
        rows.append(f"| norms/s of the localhost parameter-server cluster, 2 workers vs 1 (same 2 CPU cores) | "
                    f"{w['2_workers_norms_per_second']:,.0f} vs {w['1_workers_norms_per_second']:,.0f} "
                    f"({w['ratio_2_over_1']:.2f}×) | paper: ≈7,100 norms/s per K20 worker, derived from L2832 |")
    return "\n".join(rows)
