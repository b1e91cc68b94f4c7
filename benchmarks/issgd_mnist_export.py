"""ISSGD and SGD curves of ``issgd-mnist`` (the paper's 784-4×2048 ReLU-10, 14.2M parameters) or
``issgd-mnist-small`` (4×256) runs trained by ``tfzoo train`` within a budget of process CPU time.

Paper: ``shared/papers/003_a93095073811cc34.txt`` section 7.5 (lines 2600–2664): the 4×2048 MLP, SGD with
learning rate 0.01 and smoothing c = 10 (setting (a), lines 2622–2624), 3 GPU workers. The preset's
recipe is that setting with the workers simulated on the same CPU (the ``StaleImportanceWeights``
callback, relaxed mode: parameters published every 10 steps, 64 weights refreshed per step,
round-robin over the 50,000 training images). With ``--method sgd`` the same model, initial weights
(seed 0), learning rate and batch size are trained by plain SGD on uniformly shuffled minibatches (the
paper's baseline: ``recipe_overrides={"callbacks": []}``).

The training is ``tfzoo.train`` (this script owns no training loop and exports nothing: the shipped
``savedmodels/issgd-mnist-small`` comes from ``tfzoo export RUN DIR``). Give a finished run directory,
or let the script start (or resume) the run there::

    tfzoo train issgd-mnist runs/issgd-mnist --cpu-budget 25m --batch-size 128
    python benchmarks/issgd_mnist_export.py --run-dir runs/issgd-mnist
    python benchmarks/issgd_mnist_export.py --method sgd --steps 3000 --run-dir runs/issgd-mnist-sgd
    python benchmarks/issgd_mnist_export.py --preset issgd-mnist-small --cpu-seconds 400

Measured from the run: per epoch (390 steps of batch 128) the trainer's validation error (10,000
held-out training images), training loss, cumulative training CPU seconds and, for ISSGD, √Tr Σ with
uniform sampling over √Tr Σ with the stale weights; at the end the test error (10,000 test images)
and the loss and error on the first 10,000 training images. The budget counts the CPU time of the
trainer's ``fit`` (master and simulated workers together, validation included).

Results: ``benchmarks/results/issgd_mnist_export.json`` (ISSGD), ``issgd_mnist_sgd.json`` (SGD) and, for
another preset, ``issgd_mnist_export_<preset>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 128  # the batch of the 2026-11-23 runs (issgd-mnist's recipe; issgd-mnist-small's recipe has 64)


def measure_run(run_dir: str, preset: str, method: str) -> dict:
    """The curve and final scores of the finished run in ``run_dir`` (see the module docstring)."""
    sys.path.insert(0, HERE)
    from issgd import _evaluate
    from trained import finished_run, task_splits

    finished = finished_run(run_dir, preset)
    model, metrics = finished["model"], finished["metrics"]
    history, spent, recipe = metrics["history"], metrics["spent"], metrics["recipe"]
    issgd = next((c["kwargs"] for c in recipe["callbacks"] if c["target"].endswith(":StaleImportanceWeights")), None)
    if (issgd is not None) != (method == "issgd"):
        raise SystemExit(f"{run_dir}: its recipe {'has' if issgd else 'has no'} StaleImportanceWeights "
                         f"callback, but --method is {method!r}")
    batch, n_train = recipe["batch_size"], metrics["train_examples"]
    curve = [dict(step=int(history["steps"][i]), epochs=round(history["steps"][i] * batch / n_train, 2),
                  train_cpu_s=round(history["cpu_seconds"][i], 1), validation_error=1.0 - history["val_accuracy"][i],
                  loss=history["loss"][i], accuracy=history["accuracy"][i])
             for i in range(len(history["steps"]))]
    splits = task_splits(preset)
    train = splits["train"][0][:10000], splits["train"][1][:10000]
    train_loss, train_error = _evaluate(model, *train)
    record = dict(method=method, preset=preset, run_dir=run_dir, training_command=finished["command"],
                  setting="a" if recipe["learning_rate"] == 0.01 else None, learning_rate=recipe["learning_rate"],
                  smoothing=issgd["smoothing"] if issgd else None, batch_size=batch,
                  publish_every=issgd.get("publish_every") if issgd else None,
                  refresh_size=issgd.get("refresh_size") if issgd else None,
                  cpu_budget_s=metrics["budget"]["cpu_seconds"], train_examples=n_train, curve=curve,
                  steps=spent["steps"], train_cpu_s=round(spent["cpu_seconds"], 1), stopped_by=spent["stopped_by"],
                  test_error=1.0 - metrics["test"]["accuracy"], test_loss=metrics["test"]["loss"],
                  train_loss_first_10k=train_loss, train_error_first_10k=train_error)
    if issgd is not None and "issgd_sqrt_trace_uniform" in history:
        record["ratio_uniform_over_stale"] = [u / s for u, s in zip(history["issgd_sqrt_trace_uniform"],
                                                                    history["issgd_sqrt_trace_stale"])]
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", help="the run directory (a finished run is only measured; default: "
                                          "runs/benchmark-<preset>-<method>)")
    parser.add_argument("--cpu-seconds", type=float, default=1500.0, help="the run's CPU budget, when it trains")
    parser.add_argument("--method", choices=("issgd", "sgd"), default="issgd")
    parser.add_argument("--preset", choices=("issgd-mnist", "issgd-mnist-small"), default="issgd-mnist")
    parser.add_argument("--steps", type=int, default=None, help="the run's step budget, when it trains")
    parser.add_argument("--epochs", type=int, default=None, help="the run's epochs (default: the recipe's)")
    args = parser.parse_args()
    sys.path.insert(0, HERE)
    import tfzoo
    from run import machine
    from tfzoo.trainer import read_metrics

    run_dir = args.run_dir or os.path.join("runs", f"benchmark-{args.preset}-{args.method}")
    start = time.time()
    if not (os.path.isdir(run_dir) and read_metrics(run_dir) is not None):
        tfzoo.train(args.preset, run_dir, cpu_budget=args.cpu_seconds, steps=args.steps, epochs=args.epochs,
                    batch_size=BATCH, recipe_overrides={"callbacks": []} if args.method == "sgd" else None,
                    verbose=2)
    record = measure_run(run_dir, args.preset, args.method)
    name = "issgd_mnist_export" if args.method == "issgd" else "issgd_mnist_sgd"
    if args.preset != "issgd-mnist":
        name += f"_{args.preset}"
    envelope = {"family": "issgd_mnist_export", "quick": False, "machine": machine(),
                "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "wall_clock_s": round(time.time() - start, 1),
                "results": record}
    with open(os.path.join(HERE, "results", f"{name}.json"), "w") as f:
        json.dump(envelope, f, indent=1, sort_keys=True)
    print(json.dumps({k: v for k, v in record.items() if k != "curve"}, indent=1))


def summary(r: dict) -> str:
    """One run (the README's benchmark section reads every results file through its family's summary)."""
    curve = r["curve"]
    shown = sorted({round(i * (len(curve) - 1) / 7) for i in range(8)})  # at most 8 columns, the last included
    method = "ISSGD (simulated workers)" if r["method"] == "issgd" else "SGD, uniform minibatches"
    lines = [f"**`{r['preset']}`, {method}** (setting (a): lr {r['learning_rate']}"
             + (f", c = {r['smoothing']:g}" if r["method"] == "issgd" else "")
             + f"; batch {r['batch_size']}, {r['train_examples']:,} training images): {r['steps']:,} steps "
             f"({curve[-1]['epochs']} epochs) in {r['train_cpu_s']:.0f} CPU s; test error **{r['test_error']:.4f}**, "
             f"training loss (first 10k images) {r['train_loss_first_10k']:.4f}.", "",
             "| step | " + " | ".join(str(curve[i]["step"]) for i in shown) + " |",
             "|---|" + "---|" * len(shown),
             "| validation error | " + " | ".join(f"{curve[i]['validation_error']:.4f}" for i in shown) + " |"]
    if "ratio_uniform_over_stale" in r:
        ratios = r["ratio_uniform_over_stale"]
        lines.append("| √TrΣ uniform / stale | " + " | ".join(f"{ratios[i]:.2f}" for i in shown) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
