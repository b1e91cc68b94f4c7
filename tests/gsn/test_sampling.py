"""Corruptions, energy differences (3.14), score-based Metropolis-Hastings, walkback lengths, estimators."""

import math

import numpy as np
import pytest
import scipy.stats
import tensorflow as tf
import tensorflow_probability as tfp

from tfzoo.datasets.toy import gaussian_mixture_1d
from tfzoo.gsn import corruption, evaluation, theory
from tfzoo.gsn.mcmc import ScoreMetropolisHastings, energy_difference
from tfzoo.gsn.models import GenerativeDAE

tfd = tfp.distributions


def test_salt_and_pepper_changes_rate_over_two_of_binary_pixels():
    x = tf.cast(tf.random.stateless_uniform((400, 784), [0, 1]) < 0.3, tf.float32)
    rate = 0.4
    noisy = corruption.salt_and_pepper(x, rate, tf.constant([3, 4]))
    changed = float(tf.reduce_mean(tf.cast(noisy != x, tf.float32)))
    se = math.sqrt(0.2 * 0.8 / x.shape.num_elements())
    assert abs(changed - rate / 2) < 5 * se
    assert set(np.unique(noisy.numpy())) <= {0.0, 1.0}
    np.testing.assert_array_equal(noisy, corruption.salt_and_pepper(x, rate, tf.constant([3, 4])))
    assert not np.array_equal(noisy, corruption.salt_and_pepper(x, rate, tf.constant([3, 5])))


def test_gaussian_corruption_and_random_subset():
    x = tf.zeros((20000, 3))
    noisy = corruption.gaussian_corruption(x, 0.3, tf.constant([1, 1])).numpy()
    assert abs(noisy.std() - 0.3) < 0.005 and abs(noisy.mean()) < 0.005
    mask = corruption.random_subset_mask(50, 7, 2, tf.constant([1, 2])).numpy()
    np.testing.assert_array_equal(mask.sum(1), 2)
    assert set(np.unique(mask)) == {0.0, 1.0}


def test_energy_difference_is_exact_for_a_quadratic_energy():
    """For E(x) = ||x||^2/2 (score -x) the evenly spaced average (3.14) integrates the linear gradient exactly."""
    x = tf.random.stateless_normal((5, 3), [1, 2], dtype=tf.float64)
    x_star = tf.random.stateless_normal((5, 3), [3, 4], dtype=tf.float64)
    exact = 0.5 * tf.reduce_sum(x_star**2 - x**2, -1)
    for n in (2, 10):
        np.testing.assert_allclose(energy_difference(lambda z: -z, x, x_star, n), exact, atol=1e-12)
    # n = 1 is the first-order Taylor approximation at x.
    np.testing.assert_allclose(energy_difference(lambda z: -z, x, x_star, 1), tf.reduce_sum(x * (x_star - x), -1))


def test_score_metropolis_hastings_samples_the_smoothed_density():
    """Notes §8.7.8: with the exact r*_sigma of a 1-D mixture (sigma_train = sigma_MH = 0.1, n = 10), the MH
    chain (a tfp.mcmc.TransitionKernel driven only by the score estimate) samples p_sigma: KS < 0.04."""
    gmm, sigma = gaussian_mixture_1d(), 0.1
    smoothed = theory.smoothed_mixture(gmm, sigma)
    weights = tf.constant(gmm.weights, tf.float32)
    means = tf.constant(gmm.means[:, 0], tf.float32)
    stds = tf.constant(np.sqrt(gmm.covs[:, 0, 0]), tf.float32)

    def dae_score(x):  # (r*_sigma(x) - x) / sigma^2 with the closed-form optimal DAE (3.3)
        var = stds**2 + sigma**2
        log_w = tf.math.log(weights) + tfd.Normal(means, tf.sqrt(var)).log_prob(x)
        w = tf.nn.softmax(log_w, axis=-1)
        r = tf.reduce_sum(w * (means + stds**2 / var * (x - means)), -1, keepdims=True)
        return (r - x) / sigma**2

    kernel = ScoreMetropolisHastings(dae_score, proposal_scale=0.1, n_points=10)
    init = tf.random.stateless_uniform((2000, 1), [5, 6], -1.5, 1.5)

    @tf.function
    def run():
        return tfp.mcmc.sample_chain(1, init, kernel=kernel, num_burnin_steps=1000,
                                     trace_fn=lambda _, r: r.is_accepted, seed=tf.constant([7, 8]))

    samples, _ = run()
    samples = samples.numpy()[0, :, 0]

    def cdf(z):
        return sum(w * scipy.stats.norm.cdf(z, m, s) for w, m, s in
                   zip(smoothed.weights, smoothed.means[:, 0], np.sqrt(smoothed.covs[:, 0, 0])))

    statistic = scipy.stats.kstest(samples, cdf).statistic
    assert statistic < 0.04


def test_geometric_walkback_lengths():
    """k = 1 + Geometric: P(k = 1) = 0.5 and E[k] = 2 with p = 0.5 (L1651; notes §8.7.9)."""
    model = GenerativeDAE(input_dim=4, hidden_units=2, walkback="geometric", walkback_steps=1, max_walkback_steps=40)
    k = model.walkback_lengths(200000, tf.constant([1, 2])).numpy()
    assert abs(np.mean(k == 1) - 0.5) < 0.005
    assert abs(k.mean() - 2.0) < 0.015
    model.set_walkback("fixed", steps=7)
    np.testing.assert_array_equal(model.walkback_lengths(10, tf.constant([1, 2])), 7)
    model.set_walkback("none")
    np.testing.assert_array_equal(model.walkback_lengths(10, tf.constant([1, 2])), 1)
    with pytest.raises(ValueError, match="steps must be in"):
        model.set_walkback("fixed", steps=41)


def test_parzen_equals_a_direct_mixture_computation():
    rng = np.random.default_rng(0)
    centres, x = rng.normal(size=(30, 4)), rng.normal(size=(7, 4))
    sigma = 0.7
    direct = scipy.special.logsumexp(
        [scipy.stats.multivariate_normal(c, sigma**2 * np.eye(4)).logpdf(x) for c in centres], axis=0) - np.log(30)
    ll = evaluation.parzen_log_likelihood(centres, x, sigma, batch_size=3)
    np.testing.assert_allclose(ll, direct, rtol=1e-5)
    mean, se = evaluation.mean_and_standard_error(ll)
    assert mean == pytest.approx(direct.mean(), rel=1e-5) and se == pytest.approx(direct.std(ddof=1) / np.sqrt(7), rel=1e-4)
    best, scores = evaluation.select_parzen_sigma(centres, x, [0.1, 0.7, 5.0])
    assert best == max(scores, key=scores.get)


def test_reconstruction_mixture_equals_a_direct_computation():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(20, 6))
    x = (rng.uniform(size=(5, 6)) < 0.5).astype(np.float32)
    p = 1 / (1 + np.exp(-logits))
    direct = np.log(np.mean([np.prod(np.where(x == 1, pj, 1 - pj), axis=1) for pj in p], axis=0))
    np.testing.assert_allclose(evaluation.reconstruction_mixture_log_likelihood(logits, x), direct, rtol=1e-5)
    with pytest.raises(ValueError, match="binary"):
        evaluation.reconstruction_mixture_log_likelihood(logits, x + 0.5)
