"""The shadow distribution of a ReLU net and the reversibility theorems, measured (NumPy).

Paper: Arora, Liang, Ma, *Why are deep nets reversible* (``001_ba50c8426a439536.txt``, "P" below).
A single layer computes ``h = r(Wᵀx + b)`` with ``x ∈ Rⁿ``, ``h ∈ Rᵐ``, ``W ∈ Rⁿˣᵐ`` (P48); a Keras
``Dense`` kernel of shape ``(in, out)`` *is* this ``W``.

* **Shadow distribution** (P52–60, eq. 1; compact form eq. 6 at P100): given ``h``,
  ``x = s_t(r(αWh))`` with ``α = 2/(ρn)`` and ``s_t`` zeroing each coordinate with probability
  ``1 − ρ`` (``t = ρn`` kept on average). Eq. (2) as printed, ``Pr[n_drop] = ρ^{‖n_drop‖₀}``, is not
  a distribution; the text ("zeroing-out each coordinate with probability 1 − ρ") means i.i.d.
  Bernoulli(ρ) masks (``mask="bernoulli"``). Appendix C (P535) instead keeps a fixed subset of size
  ``t`` (``mask="fixed_count"``).
* **Hidden prior** ``D_h`` (eq. 8, P108–113): non-negative, ``k``-sparse, no dominant coordinate.
  :func:`sparse_nonnegative_hidden` draws a uniform ``k``-subset with Uniform[0.5, 1.5] values (the
  paper's example at P178, "Gaussian on the support", would violate non-negativity; this positive law
  is our choice).
* **Scale** (footnote 1, P94; P172, P300–311): ``E[W_ji r((Wh)_j)] = h_i/2`` for ``W_ij ~ N(0, 1)``, so
  with ``α = 2/t`` the read-out ``Wᵀx`` is on the scale of ``h`` itself. For a matrix with entry
  variance ``σ²`` (a trained layer) the same holds with ``α = 2/(tσ²)`` (ReLU is positively
  homogeneous); ``alpha=None`` uses that.
* **Theorem 2.3** (P115–117, eq. 9): for ``k < t < k²`` there is an offset ``b`` with
  ``‖r(Wᵀx + b) − h‖² ≤ Õ(k/t)‖h‖²``; a *constant* offset suffices (P129, proof at P145:
  ``b = −δ‖h‖``). :func:`reversal_error` calibrates one scalar offset on fresh calibration samples
  (grid search), freezes it, and measures the mean of ``‖r(Wᵀx + b) − h‖² / ‖h‖²`` on test samples,
  beside the *linear read-out* ``‖Wᵀx − h‖²/‖h‖²`` (no ReLU, no offset), whose ℓ₂ error P141 puts at
  ``Õ(√(m/t))‖h‖``.
* **Theorem 2.4** (P122–129, eq. 10): drop a random half of ``x`` and read out ``r(2Wᵀx_drop + b′)``
  (the factor 2 "compensates the fact that half of the signal x was dropped"); proof P319: this is
  Theorem 2.3 with ``t/2``. ``dropout_half=True``.
* **Proposition 2.2** (P71–92): the linear model ``x = Wh`` (``ρ = 1``, no ReLU), recovered by
  ``ĥ = Wᵀx / n``, has ``‖ĥ − h‖_∞ ≤ Õ(√(m/n))`` for ``h ∈ {0,1}ᵐ``: :func:`linear_model_error`.
* **Multilayer model** (eq. 14, P178–180): ``h⁽ʲ⁻¹⁾ = s_{k_{j−1}}(r(α_{j−1} W_{j−1} h⁽ʲ⁾))`` with
  ``α_j = 2/k_j`` and keep probability ``ρ_j = k_j/n_j`` (P178's "ρ = 1 − k/n" is a typo: ``k_j`` is the
  expected number of non-zeros kept). **Theorem 3.1 / C.1** (P196–200, P507–525): for
  ``k₂ < k₁ < k₀ < k₂²`` the feed-forward pass ``h̃⁽¹⁾ = r(W₀ᵀx + b₁)``, ``h̃⁽²⁾ = r(W₁ᵀh̃⁽¹⁾ + b₂)``
  recovers ``h⁽²⁾`` with error ``Õ(k₂/k₁)`` (P509 writes ``W₁ᵀh⁽¹⁾``; the net can only use its own
  estimate ``h̃⁽¹⁾``, as P535 does). :func:`two_layer_reversal_error`.

Example:
    >>> import numpy as np
    >>> W = gaussian_weights(2000, 1000, seed=0)
    >>> result = reversal_error(W, k=50, keep_prob=0.5, seed=1)
    >>> result["k_over_t"]
    0.05
    >>> result["relative_error"] < 10 * result["k_over_t"] < result["linear_relative_error"]
    True
"""

from __future__ import annotations

import numpy as np

MASKS = ("bernoulli", "fixed_count")


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def gaussian_weights(n: int, m: int, seed=None) -> np.ndarray:
    """A random-like layer, eq. (7) (P104–106): ``W ∈ Rⁿˣᵐ`` with i.i.d. ``N(0, 1)`` entries."""
    return _rng(seed).standard_normal((n, m))


def sparse_nonnegative_hidden(m: int, k: int, n_samples: int, seed=None, low: float = 0.5,
                              high: float = 1.5) -> np.ndarray:
    """``n_samples`` draws of a ``k``-sparse non-negative ``h ∈ Rᵐ`` (the prior ``D_h`` of eq. 8).

    The support is a uniformly random ``k``-subset and the values are Uniform[low, high], so no
    coordinate dominates (``|h|_∞ ≤ (high/low)·‖h‖/√k``). Returns an array ``(n_samples, m)``.
    """
    if not 0 < k <= m:
        raise ValueError(f"need 0 < k <= m for a k-sparse h in R^m, got k={k}, m={m}")
    if not 0 < low <= high:
        raise ValueError(f"need 0 < low <= high for positive hidden values, got low={low}, high={high}")
    rng = _rng(seed)
    support = np.argsort(rng.random((n_samples, m)), axis=1)[:, :k]
    h = np.zeros((n_samples, m))
    np.put_along_axis(h, support, rng.uniform(low, high, (n_samples, k)), axis=1)
    return h


def keep_mask(shape, keep_prob: float, seed=None, mask: str = "bernoulli") -> np.ndarray:
    """The sampling function ``s_t`` as a 0/1 mask over the last axis.

    ``"bernoulli"``: each coordinate kept independently with probability ``keep_prob`` (eq. 1, P54);
    ``"fixed_count"``: exactly ``round(keep_prob · n)`` coordinates kept (Appendix C, P535).
    """
    if not 0 < keep_prob <= 1:
        raise ValueError(f"keep_prob must be in (0, 1], got {keep_prob}")
    if mask not in MASKS:
        raise ValueError(f"mask must be one of {MASKS}, got {mask!r}")
    rng = _rng(seed)
    shape = tuple(shape)
    if mask == "bernoulli":
        return (rng.random(shape) < keep_prob).astype(float)
    n = shape[-1]
    ranks = np.argsort(np.argsort(rng.random(shape), axis=-1), axis=-1)
    return (ranks < int(round(keep_prob * n))).astype(float)


def default_alpha(W: np.ndarray, keep_prob: float) -> float:
    """``α = 2/(ρ n σ²)``: eq. (1)'s ``2/(ρn)`` for ``N(0, 1)`` entries, rescaled by the entry variance."""
    n = W.shape[0]
    return 2.0 / (keep_prob * n * float(np.mean(np.square(W))))


def shadow_sample_layer(W: np.ndarray, h: np.ndarray, keep_prob: float, alpha: float | None = None,
                        mask: str = "bernoulli", seed=None) -> np.ndarray:
    """One draw of ``x = s_t(r(αWh))`` per row of ``h`` (eqs. 1 and 6); returns ``(n_samples, n)``.

    Args:
        W: the layer, ``(n, m)`` (a Dense kernel, input dimension first).
        h: hidden vectors ``(n_samples, m)``.
        keep_prob: ρ, so that ``t = ρn`` coordinates of ``x`` are kept on average.
        alpha: the scale; None gives :func:`default_alpha`.
        mask: ``"bernoulli"`` (eq. 1) or ``"fixed_count"`` (P535).
    """
    W = np.asarray(W, float)
    h = np.atleast_2d(np.asarray(h, float))
    if h.shape[1] != W.shape[1]:
        raise ValueError(f"h has {h.shape[1]} coordinates but W {W.shape} generates from {W.shape[1]}")
    alpha = default_alpha(W, keep_prob) if alpha is None else alpha
    return np.maximum(alpha * h @ W.T, 0.0) * keep_mask((len(h), W.shape[0]), keep_prob, seed, mask)


def multilayer_shadow_sample(weights: list, h_top: np.ndarray, ks: list, seed=None,
                             mask: str = "bernoulli") -> list:
    """Eq. (14): all layers ``[x = h⁽⁰⁾, h⁽¹⁾, ..., h⁽ˡ⁾]`` generated top-down from ``h_top``.

    Args:
        weights: ``[W₀, ..., W_{l−1}]``, ``W_j`` of shape ``(n_j, n_{j+1})`` (layer ``j+1`` computes
            ``r(W_jᵀ h⁽ʲ⁾ + b)``).
        h_top: ``(n_samples, n_l)``, ``k_l``-sparse and non-negative.
        ks: ``[k₀, ..., k_{l−1}]``, the target number of non-zeros of each generated layer: the keep
            probability is ``ρ_j = k_j / n_j`` and ``α_j = 2/k_j`` (P178; for a layer with entry
            variance σ² the scale is ``2/(k_j σ²)``, as in :func:`default_alpha`).
    """
    if len(ks) != len(weights):
        raise ValueError(f"need one target sparsity per weight matrix, got {len(ks)} for {len(weights)}")
    rng = _rng(seed)
    layers = [np.atleast_2d(np.asarray(h_top, float))]
    for W, k in zip(reversed(weights), reversed(ks)):
        layers.insert(0, shadow_sample_layer(W, layers[0], keep_prob=k / W.shape[0], mask=mask, seed=rng))
    return layers


def relative_errors(estimate: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``‖ĥ − h‖² / ‖h‖²`` per row (the quantity bounded in eqs. 9 and 10)."""
    return np.sum(np.square(estimate - h), axis=1) / np.sum(np.square(h), axis=1)


def calibrate_offset(preactivation: np.ndarray, h: np.ndarray, grid_size: int = 301) -> float:
    """The scalar offset ``b`` minimising the mean relative error of ``r(preactivation + b)``.

    A grid search over ``b ∈ [−5σ_off, 0]``, ``σ_off`` the spread of the pre-activation where ``h`` is
    zero (P145: the optimal offset is ``−δ‖h‖``, just below the off-support noise).
    """
    off_support = preactivation[h == 0]
    spread = float(np.std(off_support)) if off_support.size else float(np.std(preactivation))
    grid = -np.linspace(0.0, 5.0 * spread, grid_size)
    errors = [np.mean(relative_errors(np.maximum(preactivation + b, 0.0), h)) for b in grid]
    return float(grid[int(np.argmin(errors))])


def reversal_error(W: np.ndarray, k: int, keep_prob: float, n_samples: int = 100, n_calibration: int = 50,
                   dropout_half: bool = False, dropout_factor: float = 2.0, alpha: float | None = None,
                   mask: str = "bernoulli", seed=None) -> dict:
    """Measures Theorem 2.3 (or 2.4 with ``dropout_half``) for the layer ``W`` (``(n, m)``).

    Draws ``h`` from :func:`sparse_nonnegative_hidden`, ``x`` from :func:`shadow_sample_layer`;
    with ``dropout_half`` a random half of ``x`` (exactly ``n/2`` coordinates, as in P523) is
    dropped and the read-out is ``r(dropout_factor · Wᵀx_drop + b′)`` (eq. 10; ``dropout_factor=1``
    shows what the factor 2 compensates). One scalar offset is calibrated on ``n_calibration`` draws
    and frozen for ``n_samples`` fresh ones (the theorem's "for most W there exists b" order).

    Returns a dict: ``n``, ``m``, ``k``, ``t`` (= ρn), ``k_over_t``, ``in_regime`` (``k < t < k²``),
    ``offset``, ``relative_error`` (mean ``‖r(·) − h‖²/‖h‖²``), ``relative_error_over_k_over_t``,
    ``linear_relative_error`` (mean ``‖Wᵀx − h‖²/‖h‖²``, the read-out without ReLU and offset).
    """
    W = np.asarray(W, float)
    n, m = W.shape
    rng = _rng(seed)
    t = keep_prob * n

    def read_out(count):
        h = sparse_nonnegative_hidden(m, k, count, seed=rng)
        x = shadow_sample_layer(W, h, keep_prob, alpha=alpha, mask=mask, seed=rng)
        scale = 1.0
        if dropout_half:
            x = x * keep_mask(x.shape, 0.5, seed=rng, mask="fixed_count")
            scale = dropout_factor
        return scale * x @ W, h

    calibration_pre, calibration_h = read_out(n_calibration)
    offset = calibrate_offset(calibration_pre, calibration_h)
    pre, h = read_out(n_samples)
    error = float(np.mean(relative_errors(np.maximum(pre + offset, 0.0), h)))
    return {
        "n": n, "m": m, "k": k, "t": t, "k_over_t": k / t, "in_regime": bool(k < t < k * k),
        "dropout_half": dropout_half, "offset": offset, "relative_error": error,
        "relative_error_over_k_over_t": error / (k / t),
        "linear_relative_error": float(np.mean(relative_errors(pre, h))),
    }


def reversal_sweep(n_values, m: int, k: int, keep_prob: float = 0.5, seed: int = 0, **kwargs) -> list:
    """:func:`reversal_error` for Gaussian ``W`` of each input size ``n`` (so ``t = ρn`` varies).

    Theorem 2.3 predicts ``relative_error ∝ k/t`` (up to logarithms): the ratio column stays flat.
    """
    return [reversal_error(gaussian_weights(n, m, seed=(seed, i)), k, keep_prob, seed=(seed, i, 1), **kwargs)
            for i, n in enumerate(n_values)]


def linear_model_error(W: np.ndarray, h: np.ndarray) -> dict:
    """Proposition 2.2 (P90): the linear model ``x = Wh``, read out by ``ĥ = Wᵀx / n``.

    Returns ``max_abs_error`` (the mean over rows of ``‖ĥ − h‖_∞``), ``sqrt_m_over_n`` and their
    ratio; the proposition bounds the error by ``Õ(√(m/n))`` when ``n > m``.
    """
    W = np.asarray(W, float)
    n, m = W.shape
    h = np.atleast_2d(np.asarray(h, float))
    estimate = (h @ W.T) @ W / n
    error = float(np.mean(np.max(np.abs(estimate - h), axis=1)))
    return {"n": n, "m": m, "max_abs_error": error, "sqrt_m_over_n": float(np.sqrt(m / n)),
            "ratio": error / float(np.sqrt(m / n))}


def two_layer_reversal_error(sizes, ks, n_samples: int = 60, n_calibration: int = 40, seed=None,
                             mask: str = "bernoulli") -> dict:
    """Measures Theorem 3.1 (P196–200; C.1, P507–525) on Gaussian ``W₀ (n₀×n₁)``, ``W₁ (n₁×n₂)``.

    ``x`` is generated by eq. (14) from ``k₂``-sparse ``h⁽²⁾`` with target sparsities ``(k₀, k₁)``;
    the net runs forward ``h̃⁽¹⁾ = r(W₀ᵀx + b₁)``, ``h̃⁽²⁾ = r(W₁ᵀh̃⁽¹⁾ + b₂)`` with two scalar offsets
    calibrated one after the other on ``n_calibration`` draws.

    Args:
        sizes: ``(n₀, n₁, n₂)``. ks: ``(k₀, k₁, k₂)``.

    Returns a dict with ``layer1_relative_error`` (``h̃⁽¹⁾`` vs ``h⁽¹⁾``), ``layer2_relative_error``
    (``h̃⁽²⁾`` vs ``h⁽²⁾``), ``layer2_from_true_h1_relative_error`` (layer 2 fed the true ``h⁽¹⁾``,
    the single-layer baseline), ``k2_over_k1``, ``in_regime`` (``k₂ < k₁ < k₀ < k₂²``) and
    ``linear_layer2_relative_error`` (both layers read out linearly).
    """
    (n0, n1, n2), (k0, k1, k2) = sizes, ks
    rng = _rng(seed)
    weights = [gaussian_weights(n0, n1, rng), gaussian_weights(n1, n2, rng)]

    def draw(count):
        h2 = sparse_nonnegative_hidden(n2, k2, count, seed=rng)
        return multilayer_shadow_sample(weights, h2, [k0, k1], seed=rng, mask=mask)

    x, h1, h2 = draw(n_calibration)
    b1 = calibrate_offset(x @ weights[0], h1)
    b2 = calibrate_offset(np.maximum(x @ weights[0] + b1, 0.0) @ weights[1], h2)
    b2_true = calibrate_offset(h1 @ weights[1], h2)
    x, h1, h2 = draw(n_samples)
    h1_tilde = np.maximum(x @ weights[0] + b1, 0.0)
    h2_tilde = np.maximum(h1_tilde @ weights[1] + b2, 0.0)
    h2_from_true = np.maximum(h1 @ weights[1] + b2_true, 0.0)
    return {
        "sizes": list(sizes), "ks": list(ks), "k2_over_k1": k2 / k1, "k1_over_k0": k1 / k0,
        "in_regime": bool(k2 < k1 < k0 < k2 * k2), "offsets": [b1, b2],
        "layer1_relative_error": float(np.mean(relative_errors(h1_tilde, h1))),
        "layer2_relative_error": float(np.mean(relative_errors(h2_tilde, h2))),
        "layer2_from_true_h1_relative_error": float(np.mean(relative_errors(h2_from_true, h2))),
        "linear_layer2_relative_error": float(np.mean(relative_errors(x @ weights[0] @ weights[1], h2))),
    }
