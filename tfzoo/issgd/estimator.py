"""The importance-sampling gradient estimator of ISSGD and its variance, in closed form.

Paper: ``shared/papers/003_a93095073811cc34.txt`` chapter 7 ("Distributed Importance Sampling").

Sampling (Corollary 2, lines 2467–2485, and the minibatch loss of line 2531). Every training
example ``n`` has an un-normalised probability weight ``ω̃_n`` (a possibly stale per-example
gradient norm). With the smoothing constant ``c`` of section 7.A.5 (lines 2848–2858) the proposal
is ``q_n = (ω̃_n + c) / Σ_k (ω̃_k + c)``; a minibatch is ``M`` indices drawn *with replacement*
from ``q``, and the loss is

    L(minibatch) = (1/N Σ_n (ω̃_n + c)) · 1/M · Σ_m L(x_{i_m}) / (ω̃_{i_m} + c)        (line 2531)

i.e. each drawn example carries the importance weight ``s_i = p_i / q_i = mean(ω̃ + c) / (ω̃_i + c)``
and the weighted losses are summed and divided by ``M`` (not by ``Σ s``, which would give a biased,
self-normalised estimator). Then ``E_q[s_i ∇L_i] = 1/N Σ_n ∇L_n`` for any positive weights, stale
or not: staleness costs variance, never bias (lines 2583–2588).

Staleness threshold (section 7.A.3, lines 2828–2836): weights not refreshed recently enough are
left out. The kept set ``S`` is sampled with ``q_n ∝ ω̃_n + c`` for ``n ∈ S`` and the importance
weight uses the mean over ``S``, ``s_i = mean_S(ω̃ + c)/(ω̃_i + c)``, so the estimator is unbiased for
the mean gradient of ``S`` (and for the full mean only on average over which weights are fresh,
the paper's "rather fair" argument).

Variance (Corollary 2 and eqs. 7.6–7.9, lines 2483 and 2537–2569). For one draw from ``q ∝ h``,

    Tr Σ(q) = mean(h) · mean(‖g_n‖² / h_n) − ‖g_TRUE‖²                         (7.6)

which gives the ideal proposal ``h = ‖g‖`` (7.7), the uniform one (7.8) and the stale one
``h = ω̃^OLD`` (7.9). The mean of ``M`` independent draws has trace ``Tr Σ(q)/M``.

Example:
    >>> import numpy as np
    >>> from tfzoo.issgd import estimator
    >>> norms = np.array([0.1, 1.0, 3.0])
    >>> estimator.sampling_probabilities(norms, smoothing=0.0).round(3)
    array([0.024, 0.244, 0.732])
    >>> estimator.importance_weights(norms, [2, 0], smoothing=0.0).round(3)
    array([ 0.456, 13.667])
"""

from __future__ import annotations

import numpy as np


def _check_weights(omega, smoothing, kept):
    omega = np.asarray(omega, dtype=np.float64)
    if omega.ndim != 1 or omega.size == 0:
        raise ValueError(f"probability weights must be a non-empty vector (N,), got shape {omega.shape}")
    if smoothing < 0 or not np.isfinite(smoothing):
        raise ValueError(f"the smoothing constant c must be finite and >= 0, got {smoothing}")
    h = omega + smoothing
    if np.any(h < 0) or not np.all(np.isfinite(h)):
        raise ValueError("probability weights ω̃ + c must be finite and non-negative")
    kept = np.ones(omega.shape, bool) if kept is None else np.asarray(kept, bool)
    if kept.shape != omega.shape:
        raise ValueError(f"kept mask has shape {kept.shape}, expected {omega.shape}")
    if not np.any(h[kept] > 0):
        raise ValueError("no kept example has a positive weight ω̃ + c; nothing can be sampled")
    return h, kept


def sampling_probabilities(omega, smoothing: float = 0.0, kept=None) -> np.ndarray:
    """``q_n = (ω̃_n + c) / Σ_{k∈S} (ω̃_k + c)`` on the kept set ``S`` and 0 outside (float64)."""
    h, kept = _check_weights(omega, smoothing, kept)
    q = np.where(kept, h, 0.0)
    return q / q.sum()


def importance_weights(omega, indices, smoothing: float = 0.0, kept=None) -> np.ndarray:
    """``s_i = mean_S(ω̃ + c) / (ω̃_i + c)`` for the drawn ``indices`` (line 2531; 7.A.3, 7.A.5)."""
    h, kept = _check_weights(omega, smoothing, kept)
    indices = np.asarray(indices)
    if not np.all(kept[indices]):
        raise ValueError("an index outside the kept set was given; it has probability 0")
    return h[kept].mean() / h[indices]


def covariance_trace(grad_norms, proposal, grad_true_norm) -> float:
    """Corollary 2 / eq. (7.6): ``mean(h)·mean(‖g‖²/h) − ‖g_TRUE‖²`` for one draw from ``q ∝ h``.

    Args:
        grad_norms: ``‖g(x_n)‖`` for every example of the (kept) set.
        proposal: ``h_n > 0``, the un-normalised proposal (``ω̃_n + c``) on the same examples.
        grad_true_norm: ``‖g_TRUE‖ = ‖1/N Σ_n g(x_n)‖``.
    """
    g = np.asarray(grad_norms, np.float64)
    h = np.asarray(proposal, np.float64)
    if g.shape != h.shape:
        raise ValueError(f"grad_norms {g.shape} and proposal {h.shape} must have the same shape")
    if np.any(h <= 0) and np.any(g[h <= 0] > 0):
        raise ValueError("the proposal must be positive wherever the gradient is not zero (Corollary 2)")
    ratio = np.divide(g**2, h, out=np.zeros_like(g), where=h > 0)
    return float(h.mean() * ratio.mean() - grad_true_norm**2)


def trace_ideal(grad_norms, grad_true_norm) -> float:
    """Eq. (7.7): ``(mean ‖g‖)² − ‖g_TRUE‖²``, the minimum over all proposals (Theorem 1)."""
    g = np.asarray(grad_norms, np.float64)
    return float(g.mean() ** 2 - grad_true_norm**2)


def trace_uniform(grad_norms, grad_true_norm) -> float:
    """Eq. (7.8): ``mean ‖g‖² − ‖g_TRUE‖²``, plain SGD's uniform sampling."""
    g = np.asarray(grad_norms, np.float64)
    return float(np.mean(g**2) - grad_true_norm**2)


def trace_stale(grad_norms, stale_omega, grad_true_norm, smoothing: float = 0.0) -> float:
    """Eq. (7.9) with ``h = ω̃^OLD + c``: the variance of sampling from stale (smoothed) weights."""
    return covariance_trace(grad_norms, np.asarray(stale_omega, np.float64) + smoothing, grad_true_norm)


def sample_minibatch(proposal, kept_count, batch_size: int, seed):
    """Draws ``batch_size`` indices with replacement from ``q ∝ proposal`` (TensorFlow, stateless).

    Inverse-CDF sampling: ``M`` uniforms located in the float64 cumulative sum of the proposal,
    ``O(N + M log N)`` per minibatch; an example with proposal 0 is never drawn.

    Args:
        proposal: float tensor ``(N,)`` holding ``ω̃_n + c`` on the kept set and 0 elsewhere.
        kept_count: the size ``|S|`` of the kept set (a scalar tensor).
        batch_size: ``M``.
        seed: a stateless seed, shape ``(2,)`` integers.

    Returns:
        ``(indices, sample_weights)``: int64 ``(M,)`` and float32 ``(M,)`` with
        ``s_i = (Σ proposal / |S|) / proposal_i``, so that Keras' default ``sum_over_batch_size``
        reduction, ``Σ_m s_m L_m / M``, is exactly the loss of line 2531.
    """
    import tensorflow as tf

    proposal = tf.cast(tf.convert_to_tensor(proposal), tf.float64)
    cumulative = tf.cumsum(proposal)
    total = cumulative[-1]
    uniforms = tf.random.stateless_uniform([batch_size], seed=seed, dtype=tf.float64)
    # u·total < total keeps the draw inside the support even when the product rounds up.
    targets = tf.minimum(uniforms * total, tf.math.nextafter(total, tf.constant(0.0, tf.float64)))
    indices = tf.searchsorted(cumulative, targets, side="right", out_type=tf.int64)
    mean_kept = total / tf.cast(kept_count, tf.float64)
    return indices, tf.cast(mean_kept / tf.gather(proposal, indices), tf.float32)
