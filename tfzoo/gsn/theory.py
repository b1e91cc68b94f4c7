"""Exact (non-parametric, finite-state) results of the thesis, in NumPy.

Paper: /work/shared/papers/003_a93095073811cc34.txt.

* ``optimal_dae_reconstruction`` -- Theorem 1, eq. (3.3) L813, in closed form for a Gaussian mixture:
  ``r*(x) = E[X | X + eps = x]``; by Tweedie's formula ``r*(x) - x = sigma^2 grad log p_sigma(x)``
  exactly, with ``p_sigma = p * N(0, sigma^2 I)`` (``smoothed_mixture``) [derived in the notes, tested].
* ``dae_grid_solution`` -- the discrete version of (3.3) on a 1-D grid (Sec. 3.3.3, L939).
* ``rcae_grid_solution`` -- the minimiser of the discretised RCAE loss (3.11), L937, a tridiagonal
  linear system.
* Finite chains, row-stochastic convention ``K[i, j] = P(next = j | current = i)``:
  ``denoising_reconstruction`` (the counting-optimal ``P(X | X~)`` of Prop. 1, L1569-1630),
  ``walkback_corruption`` (C_WB of (5.2), L1647-1651), ``walkback_fixed_point`` (Prop. 2, L1675-1699),
  ``clamped_chain`` (Prop. 5, L2004-2036), ``dependency_network_chain`` (Sec. 5.3.7, L2040-2054),
  ``stationary_distribution`` and ``schweitzer_bound`` (Theorem 4, L1811-1817).

Example:
    >>> import numpy as np
    >>> p = np.array([0.2, 0.5, 0.3]); C = np.full((3, 3), 0.1) + 0.7 * np.eye(3)
    >>> B = denoising_reconstruction(p, C)
    >>> np.allclose(stationary_distribution(C @ B), p)
    True
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_banded
from scipy.special import logsumexp

from tfzoo.datasets.toy import GaussianMixture

__all__ = [
    "smoothed_mixture", "optimal_dae_reconstruction", "dae_grid_solution", "rcae_grid_solution",
    "stationary_distribution", "denoising_reconstruction", "walkback_corruption", "walkback_fixed_point",
    "clamped_chain", "dependency_network_chain", "schweitzer_bound",
]


# ------------------------------------------------------------------ Paper 1: optimal reconstructions
def smoothed_mixture(mixture: GaussianMixture, sigma: float) -> GaussianMixture:
    """``p_sigma = p * N(0, sigma^2 I)``: the same mixture with ``sigma^2 I`` added to every covariance."""
    return GaussianMixture(mixture.weights, mixture.means, mixture.covs + sigma**2 * np.eye(mixture.dim))


def optimal_dae_reconstruction(mixture: GaussianMixture, x, sigma: float) -> np.ndarray:
    """Theorem 1's optimum (3.3) for a Gaussian-mixture ``p`` in closed form (float64, shape of ``x``).

    ``r*(x) = sum_k w_k(x) [mu_k + S_k (S_k + sigma^2 I)^{-1} (x - mu_k)]`` with posterior weights
    ``w_k(x) ∝ pi_k N(x; mu_k, S_k + sigma^2 I)``: the posterior mean of X given X + eps = x.
    """
    x = np.asarray(x, np.float64)
    d = mixture.dim
    smoothed = smoothed_mixture(mixture, sigma)
    _, _, log_terms = smoothed._component_terms(x)
    resp = np.exp(log_terms - logsumexp(log_terms, axis=-1, keepdims=True))
    gain = np.einsum("kij,kjl->kil", mixture.covs, np.linalg.inv(mixture.covs + sigma**2 * np.eye(d)))
    means = mixture.means + np.einsum("kij,...kj->...ki", gain, x[..., None, :] - mixture.means)
    return np.sum(resp[..., None] * means, axis=-2)


def _check_grid(x_grid, p_grid):
    x_grid, p_grid = np.asarray(x_grid, np.float64), np.asarray(p_grid, np.float64)
    if x_grid.ndim != 1 or x_grid.shape != p_grid.shape or x_grid.size < 3:
        raise ValueError(f"x_grid and p_grid must be 1-D of equal length >= 3, got {x_grid.shape}, {p_grid.shape}")
    if np.any(np.diff(x_grid) <= 0) or np.any(p_grid < 0):
        raise ValueError("x_grid must increase strictly and p_grid must be non-negative")
    return x_grid, p_grid


def dae_grid_solution(x_grid, p_grid, sigma: float) -> np.ndarray:
    """Discrete (3.3) on a grid (Sec. 3.3.3): ``r(x_i) = sum_j p_j phi_sigma(x_i - x_j) x_j / sum_j p_j phi_sigma(x_i - x_j)``."""
    x_grid, p_grid = _check_grid(x_grid, p_grid)
    log_w = np.log(np.maximum(p_grid, 1e-300))[None, :] - 0.5 * ((x_grid[:, None] - x_grid[None, :]) / sigma) ** 2
    w = np.exp(log_w - logsumexp(log_w, axis=1, keepdims=True))
    return w @ x_grid


def rcae_grid_solution(x_grid, p_grid, sigma: float) -> np.ndarray:
    """The exact minimiser of the discretised RCAE loss (3.11), L937:

    ``sum_i p_i D (r_i - x_i)^2 + sigma^2 sum_{i<M} p_i D ((r_{i+1} - r_i)/D)^2`` over free ``r_1..r_M``.

    Setting the gradient to zero gives, for each i (terms with ``p_0`` or ``r_{M+1}`` absent),
    ``p_i D (r_i - x_i) + (sigma^2/D) [p_{i-1}(r_i - r_{i-1}) - p_i (r_{i+1} - r_i)] = 0``,
    a symmetric tridiagonal system solved exactly.
    """
    x_grid, p_grid = _check_grid(x_grid, p_grid)
    delta = x_grid[1] - x_grid[0]
    if not np.allclose(np.diff(x_grid), delta):
        raise ValueError("rcae_grid_solution needs an evenly spaced grid (3.11)")
    m = x_grid.size
    c = sigma**2 / delta
    link = c * p_grid[:-1]  # weight of (r_{i+1} - r_i)^2 between i and i+1
    diag = p_grid * delta
    diag[:-1] += link
    diag[1:] += link
    banded = np.zeros((3, m))
    banded[0, 1:] = -link
    banded[1] = diag
    banded[2, :-1] = -link
    return solve_banded((1, 1), banded, p_grid * delta * x_grid)


# ------------------------------------------------------------------------------- finite chains
def _check_stochastic(name, k):
    k = np.asarray(k, np.float64)
    if k.ndim != 2 or np.any(k < 0) or not np.allclose(k.sum(axis=1), 1.0):
        raise ValueError(f"{name} must be a row-stochastic matrix (non-negative, rows sum to 1)")
    return k


def stationary_distribution(k) -> np.ndarray:
    """The ``pi`` with ``pi K = pi``, ``sum pi = 1`` of an irreducible row-stochastic ``K``."""
    k = _check_stochastic("K", k)
    n = k.shape[0]
    a = np.vstack([k.T - np.eye(n), np.ones((1, n))])
    b = np.concatenate([np.zeros(n), [1.0]])
    return np.linalg.lstsq(a, b, rcond=None)[0]


def denoising_reconstruction(p, corruption) -> np.ndarray:
    """The counting (maximum-likelihood) reconstruction of Prop. 1: ``B[x~, x] = P(x | x~) ∝ p(x) C(x~ | x)``.

    ``corruption[x, x~] = C(x~ | x)``. Prop. 1 (L1569-1630): the chain ``K = C B`` has stationary ``p``.
    """
    p = np.asarray(p, np.float64)
    joint = p[:, None] * _check_stochastic("corruption", corruption)  # (x, x~)
    return (joint / joint.sum(axis=0, keepdims=True)).T


def walkback_corruption(corruption, reconstruction, p_continue: float = 0.5, max_steps: int = 60) -> np.ndarray:
    """C_WB of (5.2), L1647-1651: ``C_1 = C``, ``C_{k+1} = C_k B C``, mixed with
    ``P(k) = p_continue^{k-1} (1 - p_continue)`` (truncated at ``max_steps`` and renormalised)."""
    c = _check_stochastic("corruption", corruption)
    b = _check_stochastic("reconstruction", reconstruction)
    weights = p_continue ** np.arange(max_steps) * (1 - p_continue)
    weights /= weights.sum()
    total, c_k = np.zeros_like(c), c
    for w in weights:
        total += w * c_k
        c_k = c_k @ b @ c
    return total


def walkback_fixed_point(p, corruption, p_continue: float = 0.5, max_steps: int = 60, tol: float = 1e-13,
                         max_iterations: int = 500) -> np.ndarray:
    """The walkback training fixed point of Prop. 2 (L1675-1699): iterate
    ``B_{t+1} = denoising_reconstruction(p, C_WB(B_t))`` from the plain denoising optimum until it stops moving."""
    b = denoising_reconstruction(p, corruption)
    for _ in range(max_iterations):
        b_next = denoising_reconstruction(p, walkback_corruption(corruption, b, p_continue, max_steps))
        if np.max(np.abs(b_next - b)) < tol:
            return b_next
        b = b_next
    raise RuntimeError(f"walkback iteration did not converge in {max_iterations} iterations")


def clamped_chain(encoder, decoder, subset) -> np.ndarray:
    """The clamped chain of Sec. 5.3.6 on the states in ``subset``: ``H ~ f(h | x)``, then
    ``X ~ g(x | h, x in S) ∝ g(x | h) 1[x in S]`` (L1978). ``encoder[x, h] = f(h | x)``,
    ``decoder[h, x] = g(x | h)``; returns the row-stochastic matrix over ``subset`` (in its order)."""
    f = _check_stochastic("encoder", encoder)
    g = _check_stochastic("decoder", decoder)
    subset = np.asarray(subset)
    g_s = g[:, subset]
    if np.any(g_s.sum(axis=1) <= 0):
        raise ValueError("the decoder gives zero mass to the clamped set for some h")
    g_s = g_s / g_s.sum(axis=1, keepdims=True)
    return f[subset] @ g_s


def dependency_network_chain(conditionals, cardinalities, scan: str = "random") -> np.ndarray:
    """The GSN chain of a dependency network (Sec. 5.3.7, L2040-2054) on a finite product space.

    ``conditionals[i]`` has shape ``(*cardinalities)`` + ``(cardinalities[i],)``:
    ``conditionals[i][x, :] = P_i(x_i = . | x_{-i})`` (the entry ``x_i`` of ``x`` is ignored). Corruption
    ``H = X_{-s}`` with ``s`` chosen uniformly at random (``scan="random"``: ``K = mean_i K_i``), or all
    coordinates in order (``scan="ordered"``: ``K = K_1 K_2 ... K_n``, Heckerman's pseudo-Gibbs sampler).
    Returns the row-stochastic matrix over the flattened (C-order) joint states.
    """
    shape = tuple(cardinalities)
    states = np.array(list(np.ndindex(*shape)))
    n_states = len(states)
    kernels = []
    for i, cond in enumerate(conditionals):
        cond = np.asarray(cond, np.float64)
        if cond.shape != shape + (shape[i],) or not np.allclose(cond.sum(-1), 1.0):
            raise ValueError(f"conditionals[{i}] must have shape {shape + (shape[i],)} and sum to 1 over the last axis")
        k_i = np.zeros((n_states, n_states))
        for a, x in enumerate(states):
            for v in range(shape[i]):
                y = x.copy()
                y[i] = v
                k_i[a, np.ravel_multi_index(tuple(y), shape)] += cond[tuple(x)][v]
        kernels.append(k_i)
    if scan == "random":
        return np.mean(kernels, axis=0)
    if scan == "ordered":
        return np.linalg.multi_dot(kernels) if len(kernels) > 1 else kernels[0]
    raise ValueError(f"scan must be 'random' or 'ordered', got {scan!r}")


def schweitzer_bound(k, k_perturbed) -> tuple[float, float]:
    """Theorem 4 (Schweitzer 1968), L1811-1817, in the row-stochastic convention:
    ``||pi - pi~||_1 <= ||Z||_inf ||K - K~||_inf`` with ``Z = (I - K + 1 pi^T)^{-1}`` and
    ``||.||_inf`` the maximum absolute row sum. Returns ``(||pi - pi~||_1, bound)``.

    (Read literally in the column-stochastic convention the inequality can fail; see the notes §3.5.)
    """
    k = _check_stochastic("K", k)
    k_perturbed = _check_stochastic("K_perturbed", k_perturbed)
    pi, pi_tilde = stationary_distribution(k), stationary_distribution(k_perturbed)
    n = k.shape[0]
    z = np.linalg.inv(np.eye(n) - k + np.outer(np.ones(n), pi))
    bound = np.abs(z).sum(axis=1).max() * np.abs(k - k_perturbed).sum(axis=1).max()
    return float(np.abs(pi - pi_tilde).sum()), float(bound)
