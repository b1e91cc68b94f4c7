"""Likelihood estimators of the GSN experiments (thesis Sec. 5.5, L2072-2182).

* Gaussian Parzen window (Table 5.1, L2128-2158; Sec. 5.5.3, L2171): centres ``mu_j`` are N generated
  samples (real-valued mean-field reconstructions in Sec. 5.5.2, footnote 3, L2137),
  ``log p(x) = logsumexp_j(-||x - mu_j||^2 / (2 s^2)) - log N - (d/2) log(2 pi s^2)``, averaged over
  the test set with a standard error ``std / sqrt(n)``; ``s`` is chosen on a validation set (L2171).
* The reconstruction-mixture estimator of Sec. 5.5.1 (L2099-2101):
  ``log P^(x) = log (1/N) sum_j P_theta(x | X~_j)`` over N consecutive chain states ``X~_j``, here with a
  factorised Bernoulli ``P_theta`` given by its logits.

Example:
    >>> import numpy as np
    >>> centres = np.zeros((5, 2), np.float32); x = np.ones((3, 2), np.float32)
    >>> parzen_log_likelihood(centres, x, 1.0).shape
    (3,)
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

__all__ = ["parzen_log_likelihood", "select_parzen_sigma", "mean_and_standard_error",
           "reconstruction_mixture_log_likelihood"]


def _as_matrix(name, a):
    a = np.asarray(a, np.float32)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (examples, features), got shape {a.shape}")
    return a


def parzen_log_likelihood(centres, x, sigma: float, batch_size: int = 100) -> np.ndarray:
    """Per-example Gaussian Parzen log-density of ``x`` (n, d) under ``centres`` (N, d) and width ``sigma``."""
    centres, x = _as_matrix("centres", centres), _as_matrix("x", x)
    if centres.shape[1] != x.shape[1]:
        raise ValueError(f"centres have {centres.shape[1]} features but x has {x.shape[1]}")
    n_centres, d = centres.shape
    c = tf.constant(centres)
    c_sq = tf.reduce_sum(tf.square(c), axis=1)
    out = []
    for start in range(0, x.shape[0], batch_size):
        xb = tf.constant(x[start:start + batch_size])
        sq = tf.reduce_sum(tf.square(xb), 1, keepdims=True) - 2.0 * tf.matmul(xb, c, transpose_b=True) + c_sq
        out.append(tf.reduce_logsumexp(-tf.maximum(sq, 0.0) / (2.0 * sigma**2), axis=1).numpy())
    return np.concatenate(out).astype(np.float64) - math.log(n_centres) - 0.5 * d * math.log(2 * math.pi * sigma**2)


def mean_and_standard_error(values) -> tuple[float, float]:
    """``(mean, std / sqrt(n))`` of per-example log-likelihoods."""
    values = np.asarray(values, np.float64)
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(values.size))


def select_parzen_sigma(centres, x_valid, sigmas) -> tuple[float, dict]:
    """The ``sigma`` of ``sigmas`` maximising the mean validation Parzen log-likelihood (Sec. 5.5.3, L2171);
    returns ``(best_sigma, {sigma: mean validation LL})``."""
    scores = {float(s): float(parzen_log_likelihood(centres, x_valid, float(s)).mean()) for s in sigmas}
    return max(scores, key=scores.get), scores


def reconstruction_mixture_log_likelihood(logits, x, batch_size: int = 100) -> np.ndarray:
    """Sec. 5.5.1's estimator: per-example ``log (1/N) sum_j Bernoulli(x; sigmoid(logits_j))``.

    Args:
      logits: (N, d) Bernoulli logits of ``P_theta(X | X~_j)`` along a chain.
      x: (n, d) binary test examples.
    """
    logits, x = _as_matrix("logits", logits), _as_matrix("x", x)
    if not np.all((x == 0) | (x == 1)):
        raise ValueError("the reconstruction-mixture estimator scores binary x (0/1 values)")
    lg = tf.constant(logits)
    log_p1, log_p0 = tf.math.log_sigmoid(lg), tf.math.log_sigmoid(-lg)
    out = []
    for start in range(0, x.shape[0], batch_size):
        xb = tf.constant(x[start:start + batch_size])
        ll = tf.matmul(xb, log_p1, transpose_b=True) + tf.matmul(1.0 - xb, log_p0, transpose_b=True)  # (b, N)
        out.append(tf.reduce_logsumexp(ll, axis=1).numpy())
    return np.concatenate(out).astype(np.float64) - math.log(logits.shape[0])
