"""NICE / Real NVP on real MNIST within a fixed CPU-time budget, measured on a ``tfzoo train`` run
(issue: "bits/dim against wall-clock within a 60-minute CPU budget"; paper 4.36 bits/dim for NICE,
Table 5.1 of ``004_6b1d8905d771edf8.txt`` L1580, after long training).

The training is ``tfzoo.train`` (the one training loop); this script only measures a run. Either
give it a finished run directory::

    tfzoo train realnvp-mnist runs/realnvp-mnist --cpu-budget 60m
    python benchmarks/flows_mnist_budget.py realnvp-mnist --run-dir runs/realnvp-mnist

or let it start the run (resumable: the same command continues an interrupted run)::

    python benchmarks/flows_mnist_budget.py nice-mnist --cpu-seconds 3600 --threads 1 \
        [--run-dir runs/nice-mnist]

The budget is the trainer's **process CPU time** (``cpu_budget``), so two presets can train side by
side on the 2-core machine (one TensorFlow thread each) and a busy machine stretches the wall clock
without changing what the budget buys. Measured, from the run:

* the validation curve: the trainer's per-epoch ``val_bits_per_dim`` on the 10,000 validation images
  (last 10,000 of the official training set) against the cumulative training CPU seconds (models with
  batch-norm bijectors validate with the exact training-set statistics, the recipe's
  ``BatchNormBijector`` callback);
* the test bits/dim of the trained model on all 10,000 test images, one seeded dequantisation draw
  (``bits_per_dim(x, seed=2)``), beside the trainer's own test evaluation.

Results: ``benchmarks/results/flows_mnist_budget_<preset>.json``. Nothing is exported here: the
shipped models come from ``tfzoo export RUN DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PAPER_NICE_BITS = 4.36


def _mean_bits(model, x, seed, batch_size=500):
    return float(np.mean(np.concatenate([model.bits_per_dim(x[i:i + batch_size], seed=seed + i).numpy()
                                         for i in range(0, len(x), batch_size)])))


def measure_run(preset_name: str, run_dir: str) -> dict:
    """The measurements of the module docstring for the finished run in ``run_dir``."""
    sys.path.insert(0, HERE)
    from trained import finished_run, task_splits

    finished = finished_run(run_dir, preset_name)
    model, metrics = finished["model"], finished["metrics"]
    history, spent = metrics["history"], metrics["spent"]
    curve = [dict(epoch=i + 1, train_cpu_s=round(history["cpu_seconds"][i], 1),
                  steps=int(history["steps"][i]), validation_bits_per_dim=round(history["val_bits_per_dim"][i], 4),
                  train_bits_per_dim=round(history["bits_per_dim"][i], 4))
             for i in range(len(history.get("val_bits_per_dim", [])))]
    x_test = task_splits(preset_name)["test"][0].astype("float32")
    start = time.process_time()
    test_bits = _mean_bits(model, x_test, seed=2)
    batch_size = metrics["recipe"]["batch_size"]
    return dict(preset=preset_name, run_dir=run_dir, training_command=finished["command"],
                cpu_budget_s=metrics["budget"]["cpu_seconds"], validation_curve=curve,
                test_bits_per_dim=round(test_bits, 4), test_images=len(x_test),
                trainer_test_bits_per_dim=round(metrics["test"]["bits_per_dim"], 4),
                final_eval_cpu_s=round(time.process_time() - start, 1), train_cpu_s=round(spent["cpu_seconds"], 1),
                wall_s=round(spent["wall_seconds"], 1), steps=spent["steps"], stopped_by=spent["stopped_by"],
                examples_seen=spent["steps"] * batch_size,
                epochs=round(spent["steps"] * batch_size / metrics["train_examples"], 2),
                params=int(model.count_params()), batch_size=batch_size,
                batch_norm_statistics="exact moments over the 50,000 training images (BatchNormBijector)"
                if model.batch_norm_statistics else None, paper_nice_mnist_bits_per_dim=PAPER_NICE_BITS)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("preset")
    parser.add_argument("--run-dir", help="the run directory (a finished run is only measured; default: "
                                          "runs/benchmark-<preset>)")
    parser.add_argument("--cpu-seconds", type=float, default=3600.0, help="the run's CPU budget, when it trains")
    parser.add_argument("--epochs", type=int, default=None, help="the run's epochs (default: the recipe's)")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra- and inter-op threads")
    args = parser.parse_args()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    sys.path.insert(0, HERE)
    import tfzoo
    from run import machine
    from tfzoo.trainer import read_metrics

    run_dir = args.run_dir or os.path.join("runs", f"benchmark-{args.preset}")
    start = time.time()
    if not (os.path.isdir(run_dir) and read_metrics(run_dir) is not None):
        tfzoo.train(args.preset, run_dir, cpu_budget=args.cpu_seconds, epochs=args.epochs, verbose=2)
    results = measure_run(args.preset, run_dir)
    results["threads"] = args.threads
    record = {"family": "flows_mnist_budget", "quick": False, "machine": machine(),
              "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "wall_clock_s": round(time.time() - start, 1),
              "results": results}
    path = os.path.join(HERE, "results", f"flows_mnist_budget_{args.preset}.json")
    with open(path, "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)
    print(json.dumps({k: v for k, v in results.items() if k != "validation_curve"}, indent=1))


def summary(r: dict) -> str:
    curve = r.get("validation_curve", [])
    if len(curve) > 8:  # at most 8 points, the last included
        curve = [curve[i] for i in sorted({round(i * (len(curve) - 1) / 7) for i in range(8)})]
    curve = " → ".join(f"{p['validation_bits_per_dim']:.2f} ({p['train_cpu_s'] / 60:.0f} min)" for p in curve)
    final = (f"{r['test_bits_per_dim']:.3f} (all {r['test_images']} test images)" if "test_bits_per_dim" in r
             else "run interrupted before the test score")
    paper = ("NICE 4.36 (Table 5.1, nice-mnist after long training)" if r["preset"].startswith("nice")
             else "— (Table 5.2 has no MNIST)")
    budget = f"{r['cpu_budget_s'] / 60:.0f} min" if r.get("cpu_budget_s") else "no CPU budget"
    return ("| preset | CPU budget | validation bits/dim against CPU time | test bits/dim | paper |\n"
            "|---|---|---|---|---|\n"
            f"| `{r['preset']}` | {budget} on {r.get('threads', '?')} thread(s), "
            f"{r.get('epochs', '?')} epochs | {curve} | {final} | {paper} |")


if __name__ == "__main__":
    main()
