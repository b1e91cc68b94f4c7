"""IWAE-5000 on the whole binarized-MNIST test set for the exported ``savedmodels/vae-mnist``.

``benchmarks/probabilistic.py`` reports IWAE-K on 100 test images of its own short runs; this evaluates
the shipped model (``tfzoo train vae-mnist ...`` then ``tfzoo export``; loaded without tfzoo, through its
``iwae(x, k, seed)`` endpoint) on all 10,000 test images, with the standard error over images and the
CPU time. No training here.
Reference: Burda, Grosse & Salakhutdinov (2016), 1-stochastic-layer VAE, IWAE-5000 estimate of
the test NLL: 86.76 nats (their data is stochastically binarized; ours is thresholded at 0.5).
"""

from __future__ import annotations

import os
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAPER_NLL_NATS = 86.76


def run(quick: bool = False) -> dict:
    import tensorflow as tf

    from tfzoo.datasets import mnist_splits

    x_test = mnist_splits(binarized=True)["test"][0]
    x_test = x_test[:200] if quick else x_test
    k = 50 if quick else 5000
    model = tf.saved_model.load(os.path.join(REPO, "savedmodels", "vae-mnist"))
    start_cpu, start = time.process_time(), time.perf_counter()
    bounds = np.concatenate([model.iwae(x_test[i:i + 10], k, 5000 + i).numpy() for i in range(0, len(x_test), 10)])
    elbo = np.concatenate([model.elbo(x_test[i:i + 100], 1, 7 + i).numpy() for i in range(0, len(x_test), 100)])
    return {"k": k, "test_images": len(x_test), "iwae_nats": float(bounds.mean()),
            "iwae_standard_error": float(bounds.std(ddof=1) / np.sqrt(len(bounds))),
            "elbo_nats": float(elbo.mean()), "cpu_seconds": time.process_time() - start_cpu,
            "wall_seconds": time.perf_counter() - start, "paper_nll_nats": PAPER_NLL_NATS}


def summary(r: dict) -> str:
    return ("| model | test images | ELBO | IWAE-K bound | paper (Burda et al. 2016, IWAE-5000) | CPU time |\n"
            "|---|---|---|---|---|---|\n"
            f"| `savedmodels/vae-mnist` | {r['test_images']} | {r['elbo_nats']:.2f} nats | "
            f"IWAE-{r['k']}: {r['iwae_nats']:.2f} ± {r['iwae_standard_error']:.2f} nats | −{r['paper_nll_nats']} nats "
            f"(stochastic binarization; ours thresholds at 0.5) | {r['cpu_seconds']:.0f} s |")
