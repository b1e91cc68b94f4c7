"""Seeded toy data with known ground truth (float32 samples; densities/scores in float64).

Every generator draws from ``np.random.default_rng(seed)``, so equal seeds give equal arrays.
``seed`` may be anything ``default_rng`` accepts (an int or a tuple of ints).

Sources: the 2-D spiral and the 1-D manifold in R^10 are the data of Alain's thesis
§3.3.4 and §3.4.2 (/work/shared/papers/003_a93095073811cc34.txt L951-953 and L1064-1068);
the thesis gives the spiral's equations but not the 10-D curve's, so ours is a documented choice.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "two_moons",
    "spiral_2d",
    "GaussianMixture",
    "gaussian_mixture_1d",
    "gaussian_mixture_nd",
    "smooth_curve_10d",
]


def two_moons(n: int, noise: float = 0.1, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as ``sklearn.datasets.make_moons``), shuffled.

    Class 0 (``n - n // 2`` points): ``(cos t, sin t)``; class 1 (``n // 2`` points):
    ``(1 - cos t, 0.5 - sin t)``; ``t`` evenly spaced on [0, pi]; then isotropic Gaussian
    noise of std ``noise``. Returns x float32 (n, 2) and y int64 (n,).
    """
    rng = np.random.default_rng(seed)
    n_outer = n - n // 2
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n // 2)
    x = np.concatenate(
        [np.stack([np.cos(t_outer), np.sin(t_outer)], 1), np.stack([1 - np.cos(t_inner), 0.5 - np.sin(t_inner)], 1)]
    )
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n // 2, np.int64)])
    x = x + noise * rng.standard_normal(x.shape)
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order]


def spiral_2d(n: int, noise: float = 0.0, seed=0, turns: float = 9.0 / (2 * np.pi), t_start: float = 3.0,
              scale: float = 0.04) -> np.ndarray:
    """Points on the 2-D spiral of Alain's thesis §3.3.4: a 1-D manifold in R^2.

    ``t ~ Uniform(t_start, t_start + 2*pi*turns)``, ``x = scale * t * sin t``, ``y = scale * t * cos t``,
    plus isotropic Gaussian noise of std ``noise``. The defaults give ``t ~ U(3, 12)`` and scale 0.04
    as in the thesis (L953), where the printed equations lack the factor ``t`` and so describe a
    circle; the text speaks of spiral "arms" (L970-972), so the radius grows with ``t`` here
    (0.12 to 0.48, about 1.43 turns). Returns float32 (n, 2).
    """
    rng = np.random.default_rng(seed)
    t = rng.uniform(t_start, t_start + 2 * np.pi * turns, size=n)
    x = scale * t[:, None] * np.stack([np.sin(t), np.cos(t)], 1)
    return (x + noise * rng.standard_normal(x.shape)).astype(np.float32)


def _logsumexp(a: np.ndarray, axis: int = -1) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.sum(np.exp(a - m), axis=axis))


class GaussianMixture:
    """``p(x) = sum_k w_k N(x; mu_k, Sigma_k)`` in d >= 1 dimensions, with exact log-density and score.

    Args:
      weights: (K,) positive, summing to 1.
      means: (K, d), or (K,) for a 1-D mixture (then d = 1).
      covs: per-component covariances: (K, d, d) full, (K, d) diagonal variances,
        or (K,) variances of a 1-D mixture.

    Points have shape (..., d) (also for d = 1). ``log_prob`` and ``score`` compute in float64.
    """

    def __init__(self, weights, means, covs):
        self.weights = np.asarray(weights, np.float64)
        means = np.asarray(means, np.float64)
        self.means = means[:, None] if means.ndim == 1 else means
        k, d = self.means.shape
        covs = np.asarray(covs, np.float64)
        if covs.shape == (k,) and d == 1:
            covs = covs[:, None]
        if covs.shape == (k, d):
            covs = covs[:, :, None] * np.eye(d)
        if covs.shape != (k, d, d):
            raise ValueError(f"covs must have shape ({k},{d},{d}), ({k},{d}) or, in 1-D, ({k},); got {covs.shape}")
        if self.weights.shape != (k,) or np.any(self.weights <= 0) or abs(self.weights.sum() - 1) > 1e-8:
            raise ValueError(f"weights must be {k} positive numbers summing to 1, got {self.weights}")
        if not np.allclose(covs, np.swapaxes(covs, 1, 2)):
            raise ValueError("covariances must be symmetric")
        try:
            self._chol = np.linalg.cholesky(covs)
        except np.linalg.LinAlgError as exc:
            raise ValueError("covariances must be positive definite") from exc
        self.covs = covs
        self._precision = np.linalg.inv(covs)
        logdet = 2 * np.sum(np.log(np.diagonal(self._chol, axis1=1, axis2=2)), axis=1)
        self._log_norm = np.log(self.weights) - 0.5 * (d * np.log(2 * np.pi) + logdet)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def sample(self, n: int, seed=0) -> np.ndarray:
        """n i.i.d. samples, float32 (n, d)."""
        rng = np.random.default_rng(seed)
        comp = rng.choice(len(self.weights), size=n, p=self.weights)
        z = rng.standard_normal((n, self.dim))
        return (self.means[comp] + np.einsum("nij,nj->ni", self._chol[comp], z)).astype(np.float32)

    def _component_terms(self, x):
        """Returns (diff (..., K, d), precision @ diff (..., K, d), log w_k N_k(x) (..., K))."""
        x = np.asarray(x, np.float64)
        if x.shape[-1:] != (self.dim,):
            raise ValueError(f"points must have shape (..., {self.dim}), got {x.shape}")
        diff = x[..., None, :] - self.means
        pdiff = np.einsum("kij,...kj->...ki", self._precision, diff)
        return diff, pdiff, self._log_norm - 0.5 * np.sum(diff * pdiff, axis=-1)

    def log_prob(self, x) -> np.ndarray:
        """Exact ``log p(x)`` (logsumexp over components), float64 of shape x.shape[:-1]."""
        return _logsumexp(self._component_terms(x)[2])

    def score(self, x) -> np.ndarray:
        """Exact ``grad_x log p(x) = -sum_k r_k(x) Sigma_k^{-1} (x - mu_k)``, r = responsibilities; float64."""
        _, pdiff, log_terms = self._component_terms(x)
        resp = np.exp(log_terms - _logsumexp(log_terms)[..., None])
        return -np.sum(resp[..., None] * pdiff, axis=-2)


def gaussian_mixture_1d(weights=(0.3, 0.5, 0.2), means=(-0.8, 0.1, 0.9), stds=(0.15, 0.25, 0.1)) -> GaussianMixture:
    """A 3-component 1-D mixture concentrated on [-1.5, 1.5] (a stand-in for the unspecified 1-D
    density of Alain's Fig. 3.3; see /work/shared/specs/alain_dae_gsn.md, "Density p(x): not specified")."""
    return GaussianMixture(weights, means, np.square(np.asarray(stds, np.float64)))


def gaussian_mixture_nd(dim: int = 2, n_components: int = 4, spread: float = 1.0, std: float = 0.2,
                        seed=0) -> GaussianMixture:
    """Equal-weight mixture in R^dim: means ~ Uniform[-spread, spread]^dim (seeded), isotropic std ``std``."""
    means = np.random.default_rng(seed).uniform(-spread, spread, size=(n_components, dim))
    return GaussianMixture(np.full(n_components, 1.0 / n_components), means, np.full((n_components, dim), std**2))


def smooth_curve_10d(n: int, noise: float = 0.0, seed=0, n_harmonics: int = 3, curve_seed: int = 1234) -> np.ndarray:
    """Points on a smooth closed curve in R^10 (the 10-D data of Alain's §3.4.2, whose equation is not given).

    ``theta ~ Uniform(0, 2*pi)`` (from ``seed``) and, for each coordinate i,
    ``x_i(theta) = sum_{j<n_harmonics} a_ij cos(f_ij * theta + phi_ij)`` with integer frequencies
    ``f_ij`` in 1..4, phases ``phi_ij ~ U(0, 2*pi)`` and amplitudes ``a_ij = 1.5 * u_ij / sum_j u_ij``,
    ``u_ij ~ U(0.2, 1)``, all drawn from ``default_rng(curve_seed)``: the curve does not depend on
    ``seed``, is closed (integer frequencies), and lies in [-1.5, 1.5]^10 like the thesis's data
    (L1066). Isotropic Gaussian noise of std ``noise`` is added. Returns float32 (n, 10).
    """
    curve = np.random.default_rng(curve_seed)
    freqs = curve.integers(1, 5, size=(10, n_harmonics))
    phases = curve.uniform(0, 2 * np.pi, size=(10, n_harmonics))
    u = curve.uniform(0.2, 1.0, size=(10, n_harmonics))
    amps = 1.5 * u / u.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0, 2 * np.pi, size=n)
    x = np.sum(amps * np.cos(freqs * theta[:, None, None] + phases), axis=-1)
    return (x + noise * rng.standard_normal(x.shape)).astype(np.float32)
