"""Exact results of Ch. 3 and Ch. 5 (notes §8.7 items 1-4, 10-14) on grids and finite chains."""

import numpy as np
import pytest
import tensorflow as tf

from tfzoo.datasets.toy import gaussian_mixture_1d
from tfzoo.gsn import theory

GMM = gaussian_mixture_1d()
GRID = np.linspace(-1.5, 1.5, 1000)
INTERIOR = (GRID > -1.2) & (GRID < 1.2)
SIGMAS = (1.0, 0.31, 0.16, 0.06, 0.03, 0.01)


def test_optimal_dae_is_tweedie_exact():
    """r*_sigma(x) - x = sigma^2 grad log p_sigma(x), exactly (notes §2.2 [derived])."""
    x = GRID[:, None]
    for sigma in SIGMAS:
        r = theory.optimal_dae_reconstruction(GMM, x, sigma)
        tweedie = x + sigma**2 * theory.smoothed_mixture(GMM, sigma).score(x)
        np.testing.assert_allclose(r, tweedie, atol=1e-12)


def test_grid_dae_solution_equals_closed_form_theorem_1():
    """Discrete (3.3) on M = 1000 points of [-1.5, 1.5] equals the closed form inside (-1.2, 1.2) (tol 1e-5)."""
    p = np.exp(GMM.log_prob(GRID[:, None]))
    for sigma in SIGMAS:
        grid = theory.dae_grid_solution(GRID, p, sigma)
        exact = theory.optimal_dae_reconstruction(GMM, GRID[:, None], sigma)[:, 0]
        assert np.max(np.abs(grid - exact)[INTERIOR]) < 1e-5, sigma


def test_score_error_shrinks_with_sigma():
    """(3.5)/(3.10): the RMSE of (r*_sigma - x)/sigma^2 against the score decreases monotonically,
    and at sigma = 0.01 is below 2% of the score's RMS (notes §8.7.2: 0.073 vs 8.76)."""
    x = GRID[INTERIOR][:, None]
    true_score = GMM.score(x)[:, 0]
    errors = [np.sqrt(np.mean(((theory.optimal_dae_reconstruction(GMM, x, s)[:, 0] - x[:, 0]) / s**2
                                - true_score) ** 2)) for s in SIGMAS]
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.02 * np.sqrt(np.mean(true_score**2))


def test_rcae_grid_solution_minimises_3_11_and_approaches_the_dae():
    """The tridiagonal solve zeroes the gradient of the discretised loss (3.11) (checked by autodiff),
    and, as Prop. 1 says, its score is close to the DAE's and to the true score at small sigma."""
    p = np.exp(GMM.log_prob(GRID[:, None]))
    delta = GRID[1] - GRID[0]
    sigma = 0.06
    r = tf.Variable(theory.rcae_grid_solution(GRID, p, sigma))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(p * delta * (r - GRID) ** 2) + sigma**2 * tf.reduce_sum(
            p[:-1] * delta * ((r[1:] - r[:-1]) / delta) ** 2)
    grad = tape.gradient(loss, r).numpy()
    assert np.max(np.abs(grad)) < 1e-12 * max(1.0, float(loss))
    true_score = GMM.score(GRID[:, None])[:, 0]
    rms = np.sqrt(np.mean(true_score[INTERIOR] ** 2))
    for sigma, tol_dae, tol_true in ((0.06, 0.1, 0.3), (0.01, 0.05, 0.03)):
        rcae = (theory.rcae_grid_solution(GRID, p, sigma) - GRID) / sigma**2
        dae = (theory.dae_grid_solution(GRID, p, sigma) - GRID) / sigma**2
        assert np.sqrt(np.mean((rcae - dae)[INTERIOR] ** 2)) < tol_dae * rms
        assert np.sqrt(np.mean((rcae - true_score)[INTERIOR] ** 2)) < tol_true * rms


def _random_stochastic(rng, n, m=None):
    k = rng.uniform(0.05, 1.0, size=(n, m or n))
    return k / k.sum(1, keepdims=True)


def test_prop1_denoising_chain_has_the_data_distribution_as_stationary():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(10))
    corruption = _random_stochastic(rng, 10)
    chain = corruption @ theory.denoising_reconstruction(p, corruption)
    np.testing.assert_allclose(theory.stationary_distribution(chain), p, atol=1e-10)


def test_prop2_walkback_fixed_point_keeps_the_data_distribution():
    """The walkback-trained reconstruction differs from the plain one, yet alternated with the *original*
    local corruption its chain still has the data distribution as stationary (Prop. 2)."""
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(10))
    corruption = 0.7 * np.eye(10) + 0.15 * (np.eye(10, k=1) + np.eye(10, k=-1))
    corruption[0, 0] += 0.15
    corruption[-1, -1] += 0.15
    plain = theory.denoising_reconstruction(p, corruption)
    walkback = theory.walkback_fixed_point(p, corruption, p_continue=0.5)
    assert np.max(np.abs(walkback - plain)) > 0.05
    np.testing.assert_allclose(theory.stationary_distribution(corruption @ walkback), p, atol=1e-10)


def test_prop5_clamping_with_compatible_conditionals():
    """Compatible f(h|x), g(x|h) from one joint: the clamped chain's stationary X-marginal is
    pi(x | x in S) (§5.3.6 Prop. 5); an incompatible encoder generally breaks it."""
    rng = np.random.default_rng(2)
    joint = rng.uniform(size=(8, 6))
    joint /= joint.sum()
    f = joint / joint.sum(1, keepdims=True)
    g = (joint / joint.sum(0, keepdims=True)).T
    subset = np.array([1, 3, 4, 6])
    target = joint.sum(1)[subset] / joint.sum(1)[subset].sum()
    np.testing.assert_allclose(theory.stationary_distribution(theory.clamped_chain(f, g, subset)), target,
                               atol=1e-10)
    wrong = theory.stationary_distribution(theory.clamped_chain(_random_stochastic(rng, 8, 6), g, subset))
    assert np.max(np.abs(wrong - target)) > 1e-3


def test_dependency_network_random_scan_stationarity():
    """Consistent conditionals (from a joint): random- and ordered-scan chains have the joint as stationary
    distribution (Prop. 6). Inconsistent conditionals: the random-scan chain still has one (positive,
    unique) stationary distribution, generally different from the ordered scan's (L2050-2052)."""
    rng = np.random.default_rng(3)
    card = (3, 2, 2)
    joint = rng.uniform(size=card)
    joint /= joint.sum()
    conditionals = []
    for i in range(3):  # conditionals[i][x, v] = P(x_i = v | x_{-i}) = joint(x with x_i = v) / sum_u joint(...)
        given_rest = np.moveaxis(joint / joint.sum(axis=i, keepdims=True), i, -1)  # (..rest.., v)
        conditionals.append(np.broadcast_to(np.expand_dims(given_rest, i), card + (card[i],)).copy())
    for scan in ("random", "ordered"):
        pi = theory.stationary_distribution(theory.dependency_network_chain(conditionals, card, scan))
        np.testing.assert_allclose(pi, joint.ravel(), atol=1e-10)
    inconsistent = [rng.dirichlet(np.ones(card[i]), size=card) for i in range(3)]
    k_random = theory.dependency_network_chain(inconsistent, card, "random")
    pi = theory.stationary_distribution(k_random)
    np.testing.assert_allclose(pi @ k_random, pi, atol=1e-12)
    assert np.all(pi > 0) and np.linalg.matrix_rank(np.eye(12) - k_random) == 11
    pi_ordered = theory.stationary_distribution(theory.dependency_network_chain(inconsistent, card, "ordered"))
    assert np.max(np.abs(pi - pi_ordered)) > 1e-4


def test_schweitzer_bound_holds_on_random_chains():
    rng = np.random.default_rng(4)
    for _ in range(200):
        n = rng.integers(2, 8)
        k = _random_stochastic(rng, n)
        perturbed = 0.8 * k + 0.2 * _random_stochastic(rng, n)
        distance, bound = theory.schweitzer_bound(k, perturbed)
        assert distance <= bound + 1e-12


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="row-stochastic"):
        theory.stationary_distribution(np.ones((3, 3)))
    with pytest.raises(ValueError, match="evenly spaced"):
        theory.rcae_grid_solution(np.array([0.0, 0.1, 0.3]), np.ones(3), 0.1)
