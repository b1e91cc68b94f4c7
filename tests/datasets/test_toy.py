"""Toy data: reproducibility, exact geometry, and GaussianMixture density/score against independent references."""

import numpy as np
import pytest
from scipy import stats

from tfzoo.datasets import (
    GaussianMixture,
    gaussian_mixture_1d,
    gaussian_mixture_nd,
    load_task,
    smooth_curve_10d,
    spiral_2d,
    two_moons,
)


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: two_moons(500, seed=seed)[0],
        lambda seed: spiral_2d(500, noise=0.01, seed=seed),
        lambda seed: smooth_curve_10d(500, noise=0.01, seed=seed),
        lambda seed: gaussian_mixture_nd(dim=3).sample(500, seed=seed),
        lambda seed: load_task("moons", seed=seed)["test"][0],
    ],
)
def test_seeded_reproducibility(make):
    a, b, c = make(3), make(3), make(4)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_two_moons_balanced_and_on_circles():
    x, y = two_moons(1001, noise=0.0, seed=1)
    assert x.shape == (1001, 2) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [501, 500]
    outer, inner = x[y == 0].astype(np.float64), x[y == 1].astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(outer, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(inner - [1.0, 0.5], axis=1), 1.0, atol=1e-6)
    assert outer[:, 1].min() >= -1e-6 and inner[:, 1].max() <= 0.5 + 1e-6
    _, y_noisy = two_moons(1000, noise=0.1, seed=2)
    assert np.bincount(y_noisy).tolist() == [500, 500]
    assert [np.bincount(load_task("moons")[s][1]).tolist() for s in ("train", "test")] == [[5000, 5000], [1000, 1000]]


def test_spiral_parametrisation():
    x = spiral_2d(2000, seed=0).astype(np.float64)
    t = np.linalg.norm(x, axis=1) / 0.04  # radius = 0.04 t
    assert t.min() >= 3 - 1e-4 and t.max() <= 12 + 1e-4
    np.testing.assert_allclose(x, 0.04 * t[:, None] * np.stack([np.sin(t), np.cos(t)], 1), atol=1e-5)


def test_curve10d_is_one_fixed_closed_curve_in_box():
    dense = smooth_curve_10d(20000, seed=0).astype(np.float64)
    assert dense.shape == (20000, 10) and np.abs(dense).max() <= 1.5
    other = smooth_curve_10d(300, seed=1).astype(np.float64)
    # Points drawn with another seed lie on the same curve: their distance to the dense sample is tiny.
    d2 = (other**2).sum(1)[:, None] - 2 * other @ dense.T + (dense**2).sum(1)[None]
    assert np.sqrt(np.maximum(d2.min(axis=1), 0)).max() < 0.05
    # A 1-D manifold: the covariance of a tiny neighbourhood is (numerically) rank one.
    near = dense[np.argsort(((dense - dense[0]) ** 2).sum(1))[:20]]
    sv = np.linalg.svd(near - near.mean(0), compute_uv=False)
    assert sv[1] < 1e-2 * sv[0]


def _mixture_2d_full():
    covs = np.array([[[0.3, 0.1], [0.1, 0.2]], [[0.05, -0.02], [-0.02, 0.1]], [[0.5, 0.0], [0.0, 0.5]]])
    return GaussianMixture([0.2, 0.5, 0.3], [[0.0, 0.0], [1.0, -1.0], [-1.5, 0.5]], covs)


@pytest.mark.parametrize("gm", [_mixture_2d_full(), gaussian_mixture_nd(dim=4, seed=3), gaussian_mixture_1d()])
def test_log_prob_matches_scipy(gm):
    x = gm.sample(300, seed=5).astype(np.float64) + 0.1
    ref = sum(w * stats.multivariate_normal(m, c).pdf(x) for w, m, c in zip(gm.weights, gm.means, gm.covs))
    np.testing.assert_allclose(gm.log_prob(x), np.log(ref), rtol=1e-10)


def test_log_prob_1d_integrates_to_one():
    gm = gaussian_mixture_1d()
    grid = np.linspace(-4.0, 4.0, 200001)
    assert abs(np.trapezoid(np.exp(gm.log_prob(grid[:, None])), grid) - 1.0) < 1e-3


@pytest.mark.parametrize("gm", [_mixture_2d_full(), gaussian_mixture_nd(dim=3, seed=1), gaussian_mixture_1d()])
def test_score_is_gradient_of_log_prob(gm):
    x = gm.sample(200, seed=7).astype(np.float64)
    h = 1e-5
    eye = np.eye(gm.dim)
    fd = np.stack([(gm.log_prob(x + h * e) - gm.log_prob(x - h * e)) / (2 * h) for e in eye], axis=-1)
    np.testing.assert_allclose(gm.score(x), fd, rtol=1e-5, atol=1e-6)


def test_sample_moments():
    gm = _mixture_2d_full()
    x = gm.sample(400000, seed=11).astype(np.float64)
    mean = gm.weights @ gm.means
    second = np.einsum("k,kij->ij", gm.weights, gm.covs + np.einsum("ki,kj->kij", gm.means, gm.means))
    np.testing.assert_allclose(x.mean(0), mean, atol=5e-3)
    np.testing.assert_allclose(np.cov(x.T), second - np.outer(mean, mean), atol=1e-2)


def test_invalid_mixtures():
    with pytest.raises(ValueError, match="summing to 1"):
        GaussianMixture([0.5, 0.6], [0.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="positive definite"):
        GaussianMixture([1.0], [[0.0, 0.0]], [[[1.0, 2.0], [2.0, 1.0]]])
