"""Metropolis-Hastings from an auto-encoder's score (thesis Sec. 3.4, L1042-1097).

A DAE gives only ``dE/dx ≈ -(r(x) - x)/sigma^2`` (3.5), not ``E``. Energy differences follow from the
path integral (3.13), L1052, discretised on ``n`` evenly spaced points of the segment ``x -> x*``
(3.14), L1058:

    E(x*) - E(x) ≈ (1/n) sum_{i=1}^n [dE/dx (x_i)]^T (x* - x),   x_1 = x, x_n = x*.

(With ``n = 1`` this is the first-order Taylor approximation at ``x``.) A symmetric random-walk
proposal ``x* = x + sigma_MH N(0, I)`` (the printed ``N(0, sigma_MH^2 I)`` at L1070 is the increment)
is accepted with probability ``min(1, exp(-(E(x*) - E(x))))`` (L1062).

Example:
    >>> import tensorflow as tf, tensorflow_probability as tfp
    >>> kernel = ScoreMetropolisHastings(lambda x: -x, proposal_scale=0.5)   # score of N(0, I)
    >>> samples = tfp.mcmc.sample_chain(100, tf.zeros((4, 1)), kernel=kernel, trace_fn=None,
    ...                                 seed=tf.constant([1, 2]))
"""

from __future__ import annotations

import collections

import tensorflow as tf
import tensorflow_probability as tfp

__all__ = ["energy_difference", "ScoreMetropolisHastings", "ScoreMHResults"]


def energy_difference(score_fn, x, x_star, n_points: int = 10) -> tf.Tensor:
    """(3.14): ``E(x*) - E(x) ≈ -(1/n) sum_i score(x_i) . (x* - x)`` on n points from x to x* (batch, d)."""
    if n_points < 1:
        raise ValueError(f"n_points must be >= 1, got {n_points}")
    x, x_star = tf.convert_to_tensor(x), tf.convert_to_tensor(x_star)
    step = x_star - x
    if n_points == 1:
        fractions = tf.zeros([1], x.dtype)
    else:
        fractions = tf.linspace(tf.constant(0.0, x.dtype), tf.constant(1.0, x.dtype), n_points)
    points = x[None] + fractions[:, None, None] * step[None]  # (n, batch, d)
    flat = tf.reshape(points, [-1, tf.shape(x)[-1]])
    scores = tf.reshape(score_fn(flat), tf.shape(points))
    return -tf.reduce_mean(tf.reduce_sum(scores * step[None], axis=-1), axis=0)


ScoreMHResults = collections.namedtuple("ScoreMHResults", ["log_accept_ratio", "is_accepted"])


class ScoreMetropolisHastings(tfp.mcmc.TransitionKernel):
    """Random-walk Metropolis-Hastings whose acceptance uses (3.14) instead of a target log-density.

    Args:
      score_fn: ``x (batch, d) -> estimated grad log p(x)``, e.g. ``ScoreAutoencoder.score``.
      proposal_scale: ``sigma_MH`` (L1070; the thesis uses 0.1).
      n_points: points ``n`` of the discretised path (3.14); the thesis gives no value.

    Each row of the state is an independent chain. ``one_step`` needs a ``seed`` (stateless).
    """

    def __init__(self, score_fn, proposal_scale: float = 0.1, n_points: int = 10, name=None):
        self._parameters = dict(score_fn=score_fn, proposal_scale=proposal_scale, n_points=n_points, name=name)

    @property
    def parameters(self):
        return self._parameters

    @property
    def is_calibrated(self):
        return True

    def one_step(self, current_state, previous_kernel_results, seed=None):
        proposal_seed, accept_seed = tfp.random.split_seed(seed, n=2)
        x = tf.convert_to_tensor(current_state)
        noise = tf.random.stateless_normal(tf.shape(x), proposal_seed, dtype=x.dtype)
        x_star = x + tf.cast(self._parameters["proposal_scale"], x.dtype) * noise
        log_accept_ratio = -energy_difference(self._parameters["score_fn"], x, x_star, self._parameters["n_points"])
        log_u = tf.math.log(tf.random.stateless_uniform(tf.shape(log_accept_ratio), accept_seed, dtype=x.dtype))
        accepted = log_u < log_accept_ratio
        next_state = tf.where(accepted[:, None], x_star, x)
        return next_state, ScoreMHResults(log_accept_ratio=log_accept_ratio, is_accepted=accepted)

    def bootstrap_results(self, init_state):
        x = tf.convert_to_tensor(init_state)
        batch = tf.shape(x)[:1]
        return ScoreMHResults(log_accept_ratio=tf.zeros(batch, x.dtype), is_accepted=tf.ones(batch, tf.bool))
