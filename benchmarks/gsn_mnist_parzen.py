"""GSN-2 (``gsn-mnist``), a finished ``tfzoo train`` run, scored with the Parzen protocol of the
authors' code (real-valued MNIST) and with binarized MNIST (``003_a93095073811cc34.txt`` Sec. 5.5.2-5.5.3,
L2128-2171, Table 5.1: 214 ± 1.1 nats; MNIST training images as centres: 24 ± 1.6).

The run comes from the one trainer, ``tfzoo train gsn-mnist --cpu-budget 25m`` (the line of
``savedmodels/reproduce.sh``); this script only measures it (``--run-dir``, default ``runs/gsn-mnist``):

* samples: 10,000 *consecutive* mean-field states ``E[X | .]`` of one chain (footnote 3, L2137; the
  reference code's ``sample_some_numbers`` also keeps the chain's ``p(X | ...)``), started from the
  last real-valued validation image;
* Parzen, real-valued protocol first, as the reference code's ``likelihood_estimation_parzen.py``
  (``python likelihood_estimation_parzen.py 0.23 MNIST``: the Gaussian window on the real-valued
  test set, [reference code yaoli/GSN]): test images = pixels / 255; σ chosen among :data:`SIGMAS`
  (which contains 0.23) on 2,000 validation images (Sec. 5.5.3, L2171), and σ = 0.23 exactly;
* then the binarized protocol: the same centres, validation and test images thresholded at 0.5;
* both baselines in the same run: the first 10,000 training images (real-valued, resp. binarized) as
  centres, same σ selection;
* Sec. 5.5.1's reconstruction-mixture estimator (L2099-2101) of the same chain's ``P(X | .)``, which
  scores binary ``x``: on the binarized test images.

Every score is a mean over the 10,000 test images with its standard error. Results:
``benchmarks/results/gsn_mnist_parzen.json``. Nothing is exported here: the shipped
``savedmodels/gsn-mnist`` comes from ``tfzoo export RUN_DIR``.

Run: ``python benchmarks/gsn_mnist_parzen.py [--run-dir runs/gsn-mnist]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PAPER = {"gsn_parzen": 214.0, "gsn_se": 1.1, "train_centres": 24.0, "train_centres_se": 1.6,
         "reference_readme_walkback_dae": 150.0, "reference_readme_dae": 50.0}
#: the reference code's window
REFERENCE_SIGMA = 0.23
#: the validation grid of σ (contains :data:`REFERENCE_SIGMA`)
SIGMAS = (0.1, 0.13, 0.15, 0.17, 0.2, 0.23, 0.26, 0.3, 0.35, 0.4, 0.5)
CHAIN_STATES = 10000


def parzen(centres, x_valid, x_test, fixed_sigma: float | None = None) -> dict:
    """Mean test Parzen log-likelihood (and standard error) at the σ of :data:`SIGMAS` best on
    ``x_valid``; with ``fixed_sigma``, also at that σ (``ll_fixed``, ``standard_error_fixed``)."""
    from tfzoo.gsn.evaluation import mean_and_standard_error, parzen_log_likelihood, select_parzen_sigma

    sigma, _ = select_parzen_sigma(centres, x_valid, SIGMAS)
    mean, se = mean_and_standard_error(parzen_log_likelihood(centres, x_test, sigma))
    out = dict(ll=round(mean, 2), standard_error=round(se, 2), sigma=round(sigma, 4))
    if fixed_sigma is not None:
        mean, se = mean_and_standard_error(parzen_log_likelihood(centres, x_test, fixed_sigma))
        out.update(fixed_sigma=fixed_sigma, ll_fixed=round(mean, 2), standard_error_fixed=round(se, 2))
    return out


def measure(model, record: dict) -> dict:
    """Samples ``model`` and scores the real-valued then the binarized protocol into ``record``."""
    import tensorflow as tf

    from tfzoo.datasets import load_task
    from tfzoo.gsn.evaluation import mean_and_standard_error, reconstruction_mixture_log_likelihood

    data = {protocol: {k: x.reshape(len(x), -1) for k, (x, _) in load_task(task).items()}
            for protocol, task in (("real_valued", "mnist-unit"), ("binarized", "mnist-binarized"))}
    start = time.process_time()
    _, means = tf.function(model.sample_chain)(data["real_valued"]["validation"][-1:], CHAIN_STATES,
                                               np.array([5, 6], np.int32))
    centres = np.asarray(means)[:, 0]
    record["sampling_cpu_s"] = round(time.process_time() - start, 1)
    record.update(train_examples=len(data["binarized"]["train"]), samples=len(centres), validation=2000,
                  test=len(data["binarized"]["test"]), sigmas=list(SIGMAS), paper=PAPER)
    for protocol, splits in data.items():
        start = time.process_time()
        record[f"gsn_{protocol}"] = parzen(centres, splits["validation"][:2000], splits["test"], REFERENCE_SIGMA)
        record[f"train_centres_{protocol}"] = parzen(splits["train"][:10000], splits["validation"][:2000],
                                                     splits["test"], REFERENCE_SIGMA)
        record[f"parzen_{protocol}_cpu_s"] = round(time.process_time() - start, 1)
        print(protocol, record[f"gsn_{protocol}"], record[f"train_centres_{protocol}"], flush=True)
    clipped = np.clip(centres, 1e-6, 1 - 1e-6)
    mixture = reconstruction_mixture_log_likelihood(np.log(clipped) - np.log1p(-clipped), data["binarized"]["test"])
    mean, se = mean_and_standard_error(mixture)
    record["gsn_reconstruction_mixture_binarized"] = dict(ll=round(mean, 2), standard_error=round(se, 2))
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-dir", default=os.path.join("runs", "gsn-mnist"),
                        help="a finished gsn-mnist run directory (tfzoo train gsn-mnist RUN_DIR)")
    args = parser.parse_args()
    sys.path.insert(0, HERE)
    from run import machine
    from trained import finished_run

    start = time.time()
    finished = finished_run(args.run_dir, "gsn-mnist")
    metrics = finished["metrics"]
    history = metrics["history"]
    record = {"run_dir": args.run_dir, "training_command": finished["command"], "task": finished["run"].get("task"),
              "recipe": metrics["recipe"], "cpu_budget_s": metrics["budget"]["cpu_seconds"],
              "train_cpu_s": round(metrics["spent"]["cpu_seconds"], 1), "epochs": metrics["spent"]["epochs"],
              "training_curve": [dict(epoch=i + 1, train_cpu_s=round(c, 1), loss=round(l, 2), val_loss=round(v, 2))
                                 for i, (c, l, v) in enumerate(zip(history["cpu_seconds"], history["loss"],
                                                                   history["val_loss"]))]}
    measure(finished["model"], record)
    envelope = {"family": "gsn_mnist_parzen", "quick": False, "machine": machine(),
                "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "wall_clock_s": round(time.time() - start, 1),
                "results": record}
    with open(os.path.join(HERE, "results", "gsn_mnist_parzen.json"), "w") as f:
        json.dump(envelope, f, indent=1, sort_keys=True)


def summary(r: dict) -> str:
    if "gsn_real_valued" not in r:
        return "results of an earlier protocol (binarized first): re-run benchmarks/gsn_mnist_parzen.py"

    def cell(p, fixed=False):
        if fixed:
            return f"{p['ll_fixed']:.1f} ± {p['standard_error_fixed']:.1f}"
        return f"{p['ll']:.1f} ± {p['standard_error']:.1f} (σ {p['sigma']:.2f})"

    rows = []
    for protocol, label, paper in (("real_valued", "real-valued test images (the reference code's)",
                                    "214 ± 1.1 (GSN-2 column of Table 5.1)"),
                                   ("binarized", "binarized test images", "24 ± 1.6 (its 'MNIST' column)")):
        g, t = r[f"gsn_{protocol}"], r[f"train_centres_{protocol}"]
        rows.append(f"| {label}, σ on validation | {cell(g)} | {cell(t)} | {paper} |")
        rows.append(f"| {label}, σ = {g['fixed_sigma']} | {cell(g, True)} | {cell(t, True)} | — |")
    mixture = r["gsn_reconstruction_mixture_binarized"]
    curve = ", ".join(f"{c['loss']:.0f}" for c in r["training_curve"])
    return ("| Parzen protocol (10,000 centres, σ on 2,000 validation, 10,000 test images) | GSN-2 samples | "
            "MNIST training images as centres | paper |\n|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
            f"Sec. 5.5.1's reconstruction mixture of the same chain on binarized test images: "
            f"{mixture['ll']:.1f} ± {mixture['standard_error']:.1f} nats. GSN-2 trained by "
            f"`{r['training_command']}`: {r['epochs']} epochs over {r['train_examples']:,} real-valued images "
            f"in {r['train_cpu_s'] / 60:.0f} min of CPU time (SGD, batch 100; the paper: minibatch 1, 100–600 "
            f"epochs; the reference code: 1000 epochs); training loss per epoch {curve}; "
            f"{r['samples']:,} consecutive chain states took {r['sampling_cpu_s']:.0f} CPU s.")


if __name__ == "__main__":
    main()
