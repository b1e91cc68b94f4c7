"""GSN-2 (``gsn-mnist``) trained by ``tfzoo train`` on the whole binarized MNIST training set, scored
with the paper's full Parzen protocol (``003_a93095073811cc34.txt`` Sec. 5.5.3, L2133–2171, Table
5.1: 214 ± 1.1 nats; MNIST training images as centres: 24 ± 1.6).

``benchmarks/gsn.py`` (R6/R7) trains on 5,000 images for 2 epochs and scores a reduced protocol
(2,000 centres, 1,000 test images), which by itself moves Parzen numbers by tens of nats. Here the
model is a ``tfzoo.train`` run (the one training loop); this script measures it:

* the run: give a finished run directory (``--run-dir``), or let the script start it with
  ``tfzoo.train("gsn-mnist", run_dir, cpu_budget=...)`` and :data:`CPU_RECIPE` (resumable: the same
  command continues an interrupted run). The same run from the command line::

      tfzoo train gsn-mnist runs/gsn-mnist --cpu-budget 15m --set-recipe optimizer=adam \
          --set-recipe learning_rate=0.001 --set-recipe 'optimizer_args={}' --set-recipe batch_size=100 \
          --set-recipe 'schedule={"kind": "constant"}'

  :data:`CPU_RECIPE` is a deviation (as in ``gsn.py``): Adam 1e-3, batch 100, constant rate, where
  the paper (and the preset's recipe) uses SGD with minibatch 1 for 100–600 epochs;
* samples: 10,000 *consecutive* states of one chain (mean-field values, footnote 3 L2137) started
  from a validation image;
* Parzen: σ chosen among ``geomspace(0.1, 0.5, 9)`` on 2,000 validation images, scored on all 10,000
  test images, with the standard error over test images; both protocols of
  ``shared/specs/measured.md``: binarized test images (the paper's) and real-valued ones (pixels/255);
* the baseline in the same run: the first 10,000 training images as centres, same protocol.

Results: ``benchmarks/results/gsn_mnist_parzen.json``. Nothing is exported here: the shipped
``savedmodels/gsn-mnist`` comes from ``tfzoo export RUN DIR``.

Run: ``python benchmarks/gsn_mnist_parzen.py --cpu-seconds 900 [--run-dir runs/gsn-mnist]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PAPER = {"gsn_parzen": 214.0, "gsn_se": 1.1, "train_centres": 24.0, "train_centres_se": 1.6}
SIGMAS = np.geomspace(0.1, 0.5, 9)
#: the CPU deviation from the preset's recipe (see the module docstring)
CPU_RECIPE = dict(optimizer="adam", learning_rate=1e-3, optimizer_args={}, batch_size=100,
                  schedule={"kind": "constant"})


def parzen(centres, x_valid, x_test) -> dict:
    from tfzoo.gsn.evaluation import mean_and_standard_error, parzen_log_likelihood, select_parzen_sigma

    sigma, _ = select_parzen_sigma(centres, x_valid, SIGMAS)
    mean, se = mean_and_standard_error(parzen_log_likelihood(centres, x_test, sigma))
    return dict(ll=round(mean, 2), standard_error=round(se, 2), sigma=round(sigma, 4))


def measure(model, record: dict) -> dict:
    """Samples ``model`` and scores both Parzen protocols into ``record``."""
    import tensorflow as tf

    from tfzoo.datasets import load_task

    binary = {k: x.reshape(len(x), -1) for k, (x, _) in load_task("mnist-binarized").items()}
    real = {k: x.reshape(len(x), -1).astype("float32") / 255 for k, (x, _) in load_task("mnist").items()}
    start = time.process_time()
    _, means = tf.function(model.sample_chain)(binary["validation"][-1:], 10000, np.array([5, 6], np.int32))
    centres = np.asarray(means)[:, 0]
    record["sampling_cpu_s"] = round(time.process_time() - start, 1)
    record.update(train_examples=len(binary["train"]), samples=len(centres), validation=2000,
                  test=len(binary["test"]), paper=PAPER)
    for protocol, data in (("binarized", binary), ("real_valued", real)):
        record[f"gsn_{protocol}"] = parzen(centres, data["validation"][:2000], data["test"])
        record[f"train_centres_{protocol}"] = parzen(data["train"][:10000], data["validation"][:2000], data["test"])
        print(protocol, record[f"gsn_{protocol}"], record[f"train_centres_{protocol}"], flush=True)
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-dir", help="a gsn-mnist run directory (a finished run is only measured; "
                                          "default: runs/benchmark-gsn-mnist)")
    parser.add_argument("--cpu-seconds", type=float, default=900.0, help="the run's CPU budget, when it trains")
    parser.add_argument("--recipe", type=json.loads, default=CPU_RECIPE,
                        help="recipe overrides of the run, when it trains (JSON; default CPU_RECIPE)")
    args = parser.parse_args()
    sys.path.insert(0, HERE)
    import tfzoo
    from run import machine
    from trained import finished_run
    from tfzoo.trainer import read_metrics

    run_dir = args.run_dir or os.path.join("runs", "benchmark-gsn-mnist")
    start = time.time()
    if not (os.path.isdir(run_dir) and read_metrics(run_dir) is not None):
        tfzoo.train("gsn-mnist", run_dir, cpu_budget=args.cpu_seconds, recipe_overrides=args.recipe,
                    verbose=2)
    finished = finished_run(run_dir, "gsn-mnist")
    metrics = finished["metrics"]
    history = metrics["history"]
    record = {"run_dir": run_dir, "training_command": finished["command"],
              "recipe": metrics["recipe"], "cpu_budget_s": metrics["budget"]["cpu_seconds"],
              "train_cpu_s": round(metrics["spent"]["cpu_seconds"], 1), "epochs": metrics["spent"]["epochs"],
              "training_curve": [dict(epoch=i + 1, train_cpu_s=round(c, 1), loss=round(l, 2))
                                 for i, (c, l) in enumerate(zip(history["cpu_seconds"], history["loss"]))]}
    measure(finished["model"], record)
    envelope = {"family": "gsn_mnist_parzen", "quick": False, "machine": machine(),
                "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "wall_clock_s": round(time.time() - start, 1),
                "results": record}
    with open(os.path.join(HERE, "results", "gsn_mnist_parzen.json"), "w") as f:
        json.dump(envelope, f, indent=1, sort_keys=True)


def summary(r: dict) -> str:
    if "gsn_binarized" not in r:
        return "run interrupted before the Parzen scores"

    def cell(p):
        return f"{p['ll']:.1f} ± {p['standard_error']:.1f} (σ {p['sigma']:.3f})"

    return ("| Parzen protocol (10,000 centres, σ on 2,000 validation, 10,000 test images) | GSN-2 samples | "
            "MNIST training images as centres | paper: GSN-2 / training images |\n|---|---|---|---|\n"
            f"| binarized test images | {cell(r['gsn_binarized'])} | {cell(r['train_centres_binarized'])} | "
            "214 ± 1.1 / 24 ± 1.6 (Table 5.1) |\n"
            f"| real-valued test images | {cell(r['gsn_real_valued'])} | {cell(r['train_centres_real_valued'])} | "
            "— |\n\n"
            f"GSN-2 trained {r['epochs']} epochs over {r['train_examples']:,} binarized images in "
            f"{r['train_cpu_s'] / 60:.0f} min of CPU time (Adam 1e-3, batch 100; the paper: SGD, minibatch 1, "
            f"100–600 epochs); {r['samples']:,} consecutive chain states took {r['sampling_cpu_s']:.0f} CPU s.")


if __name__ == "__main__":
    main()
