"""Sharp minima can generalize: the α-scale transformation and sharpness measures.

From "On the relevance of loss function geometry for generalization" (Dinh, Pascanu, Bengio,
Bengio 2017), ``004_6b1d8905d771edf8.txt`` chapter 3, lines 649–1020:

* :func:`alpha_scale` — the α-scale transformation ``T_α : (θ_k)_k ↦ (α_k θ_k)_k`` with
  ``Π_k α_k = 1`` (Definition 5, lines 754–756; deep form, lines 871–877) for chains of Dense /
  Conv layers joined by non-negative homogeneous maps ``φ(αz) = αφ(z)`` for α > 0 (Definition 4,
  lines 730–732: ReLU, leaky ReLU, linear; max- and average-pooling, flatten, padding and dropout
  at inference are homogeneous too). The thesis leaves biases out "for convenience" (line 706);
  with biases the function is unchanged when ``b_k`` is scaled by ``Π_{j≤k} α_j`` [derived: the
  pre-activation of layer k is then multiplied by ``Π_{j≤k} α_j``, which the homogeneous
  non-linearity passes on, and the product is 1 after the last layer]. Non-homogeneous activations
  (tanh, sigmoid, softplus, GELU...) and non-chain graphs are refused with an :class:`InputError`.
* :func:`scaling_diagonal` — the diagonal of ``D_α^{-1}``; Theorem 4 (lines 835–851, deep form
  line 877): ``∇L(T_α θ) = ∇L(θ) D_α`` and ``∇²L(T_α θ) = D_α ∇²L(θ) D_α``.
* :func:`theorem5_alpha` — Theorem 5's construction (lines 855–869): with γ > 0 a diagonal entry of
  the Hessian in the first layer's block and ``r = 1/√d`` (so that ``r‖A‖_F ≤ ‖A‖_2``), any
  ``α < √(rγ/M)`` gives ``‖∇²L(T_α θ)‖_2 ≥ M``.
* Sharpness measures: :func:`spectral_norm` (largest |λ| by Lanczos), :func:`hutchinson_trace`
  (``E[v^T H v]`` over Rademacher v; not in the thesis [external]), :func:`epsilon_sharpness`
  (Definition 2, lines 680–682: ``max_{θ'∈B_2(ε,θ)} (L(θ') − L(θ)) / (1 + L(θ))``, the thesis's
  Euclidean ball, or Keskar et al.'s box ``|δ_i| ≤ ε(|θ_i| + 1)`` [external: Keskar et al. 2017
  eq. 3, cited at lines 678 and 918], each by projected gradient ascent) and the random-subspace
  version (lines 921–928: the maximum restricted to a random p-dimensional subspace).

Example::

    import keras, numpy as np
    from tfzoo.analysis.hessian import HessianOperator
    from tfzoo.analysis.sharpness import alpha_scale, spectral_norm
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(2)])
    sharper = alpha_scale(model, [0.1, 10.0])        # the same function, θ1 → 0.1 θ1, θ2 → 10 θ2
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    np.testing.assert_allclose(model(x), sharper(x), atol=1e-5)
    print(spectral_norm(HessianOperator(model, x, y)), spectral_norm(HessianOperator(sharper, x, y)))
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from tfzoo.errors import InputError

_PARAMETRIC = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_HOMOGENEOUS_ACTIVATIONS = ("relu", "linear", "leaky_relu")
_HOMOGENEOUS_LAYERS = (
    keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.MaxPooling3D,
    keras.layers.AveragePooling1D, keras.layers.AveragePooling2D, keras.layers.AveragePooling3D,
    keras.layers.GlobalMaxPooling1D, keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalAveragePooling1D, keras.layers.GlobalAveragePooling2D,
    keras.layers.Flatten, keras.layers.Reshape, keras.layers.ZeroPadding1D, keras.layers.ZeroPadding2D,
    keras.layers.LeakyReLU, keras.layers.Identity,
)


def _activation_name(activation) -> str:
    name = getattr(activation, "__name__", None) or type(activation).__name__
    return name.lower()


def _check_homogeneous(layer, where: str):
    """Raises InputError unless ``layer`` maps ``αz`` to ``α f(z)`` for every α > 0."""
    if isinstance(layer, keras.layers.ReLU):
        cfg = layer.get_config()
        if cfg.get("max_value") is not None or cfg.get("threshold", 0.0) != 0.0:
            raise InputError(f"alpha_scale: layer {layer.name!r} ({where}) is a ReLU with max_value or "
                             "threshold, which is not non-negative homogeneous (004 line 730)")
        return
    if isinstance(layer, keras.layers.Activation):
        name = _activation_name(layer.activation)
        if name not in _HOMOGENEOUS_ACTIVATIONS:
            raise InputError(f"alpha_scale: activation {name!r} of layer {layer.name!r} ({where}) is not "
                             f"non-negative homogeneous; only {_HOMOGENEOUS_ACTIVATIONS} (and ReLU, "
                             "LeakyReLU, pooling, flatten, padding, dropout) are allowed between the "
                             "scaled layers (004 Definition 4, line 730)")
        return
    if isinstance(layer, _HOMOGENEOUS_LAYERS) or "dropout" in type(layer).__name__.lower():
        return
    raise InputError(f"alpha_scale: layer {layer.name!r} of type {type(layer).__name__} ({where}) is "
                     "not known to be non-negative homogeneous; alpha_scale supports chains of "
                     "Dense/Conv layers joined by ReLU, LeakyReLU, linear, pooling, flatten, padding "
                     "or dropout layers")


def _chain_layers(model) -> list:
    """The layers of a chain model, in order (Sequential, chain-shaped functional, or tfzoo stages)."""
    if hasattr(model, "stages"):
        return [layer for _, layer in model.stages]
    if isinstance(model, keras.Sequential):
        return list(model.layers)
    if isinstance(model, keras.Model) and type(model).__name__ == "Functional":
        layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        for previous, layer in zip(layers, layers[1:]):
            if len(layer._inbound_nodes) != 1 or layer.input is not previous.output:
                raise InputError(f"alpha_scale: layer {layer.name!r} does not take its input from "
                                 f"{previous.name!r} alone; only chain models are supported")
        return layers
    raise InputError(f"alpha_scale: cannot read the layer chain of {type(model).__name__}; give a "
                     "keras.Sequential, a chain-shaped functional model or a tfzoo staged classifier")


def _scaled_layers(model) -> list:
    """The Dense/Conv layers of the chain, after checking homogeneity between them."""
    layers = _chain_layers(model)
    parametric = [i for i, layer in enumerate(layers) if isinstance(layer, _PARAMETRIC)]
    if len(parametric) < 2:
        raise InputError("alpha_scale needs at least two Dense/Conv layers in the chain")
    for i in parametric[:-1]:
        activation = _activation_name(layers[i].activation)
        if activation not in _HOMOGENEOUS_ACTIVATIONS:
            raise InputError(f"alpha_scale: layer {layers[i].name!r} has activation {activation!r}, "
                             "which is not non-negative homogeneous (004 Definition 4, line 730)")
    for i in range(parametric[0] + 1, parametric[-1]):
        if i not in parametric:
            _check_homogeneous(layers[i], f"between {layers[parametric[0]].name!r} and "
                                          f"{layers[parametric[-1]].name!r}")
    return [layers[i] for i in parametric]


def _check_alphas(alphas, count: int) -> np.ndarray:
    alphas = np.asarray(alphas, dtype=np.float64).reshape(-1)
    if len(alphas) != count:
        raise InputError(f"alpha_scale: the chain has {count} Dense/Conv layers, got {len(alphas)} alphas")
    if np.any(alphas <= 0):
        raise InputError(f"alpha_scale: every α_k must be > 0 (004 Definition 5), got {alphas.tolist()}")
    if abs(np.sum(np.log(alphas))) > 1e-9:
        raise InputError(f"alpha_scale: the α_k must multiply to 1 (004 line 871), product is "
                         f"{np.prod(alphas)!r}")
    return alphas


def variable_scales(model, alphas) -> list[tuple]:
    """``[(variable, factor)]``: kernel_k × α_k, bias_k × Π_{j≤k} α_j for each Dense/Conv layer."""
    layers = _scaled_layers(model)
    alphas = _check_alphas(alphas, len(layers))
    scales, cumulative = [], 1.0
    for layer, alpha in zip(layers, alphas):
        cumulative *= alpha
        scales.append((layer.kernel, alpha))
        if layer.use_bias:
            scales.append((layer.bias, cumulative))
    return scales


def scaling_diagonal(model, alphas, variables=None) -> np.ndarray:
    """The diagonal of ``D_α^{-1}`` over ``variables`` (default ``model.trainable_variables``).

    ``T_α θ = θ ⊙ s`` with ``s`` this vector; Theorem 4 (``004`` line 877) then reads
    ``∇L(T_α θ) = ∇L(θ) / s`` and ``∇²L(T_α θ) = diag(1/s) ∇²L(θ) diag(1/s)``. Variables that
    ``alpha_scale`` does not touch have factor 1.
    """
    factors = {id(v): f for v, f in variable_scales(model, alphas)}
    variables = variables if variables is not None else model.trainable_variables
    return np.concatenate([np.full(int(np.prod(v.shape)), factors.get(id(v), 1.0)) for v in variables])


def alpha_scale(model, alphas):
    """A new model computing the same function with parameters ``T_α θ`` (``004`` lines 754, 871).

    Args:
        model: a ``keras.Sequential``, a chain-shaped functional model or a tfzoo staged classifier
            (``tfzoo.classifiers``), built, whose Dense/Conv layers are joined by non-negative
            homogeneous maps.
        alphas: one α_k > 0 per Dense/Conv layer, in order, with ``Π α_k = 1``.

    Returns a clone with kernel_k × α_k and bias_k × Π_{j≤k} α_j; ``model`` is left unchanged.
    """
    scales = variable_scales(model, alphas)
    if hasattr(model, "stages"):
        clone = type(model).from_config(model.get_config())
        clone.preset_name = getattr(model, "preset_name", None)
        clone.build_from_preset()
    else:
        clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    position = {id(v): i for i, v in enumerate(model.weights)}
    for variable, factor in scales:
        target = clone.weights[position[id(variable)]]
        target.assign(np.asarray(variable.numpy(), dtype=np.float64) * factor)
    return clone


def theorem5_alpha(op, block: slice, M: float, num_candidates: int = 20, seed: int = 0) -> float:
    """Theorem 5's α (``004`` lines 855–869) making ``‖∇²L(T_α θ)‖_2 ≥ M``.

    ``block`` is the slice of the flat θ holding the first layer's parameters (the ones T_α
    multiplies by α). γ is the largest positive Hessian diagonal entry ``e_i^T H e_i`` among
    ``num_candidates`` seeded indices of that block; with ``r = 1/√d`` (``‖A‖_F ≤ √d ‖A‖_2``) the proof's
    bound ``α < √(rγ/M)`` holds for the returned ``α = ½ √(rγ/M)``.
    """
    indices = np.arange(op.dimension)[block]
    chosen = np.random.default_rng(seed).choice(indices, min(num_candidates, len(indices)), replace=False)
    diagonal = []
    for i in chosen:
        e = np.zeros(op.dimension)
        e[i] = 1.0
        diagonal.append(op.hvp(e)[i])
    gamma = max(diagonal)
    if gamma <= 0:
        raise InputError("theorem5_alpha: no positive Hessian diagonal entry among the candidates; "
                         "Theorem 5 assumes a minimum with a non-zero Hessian")
    r = 1.0 / np.sqrt(op.dimension)
    return 0.5 * float(np.sqrt(r * gamma / M))


def spectral_norm(op, tol: float = 1e-6, seed: int = 0) -> float:
    """``‖∇²L(θ)‖_2``, the largest eigenvalue magnitude (``004`` line 676), by ARPACK on the HVP."""
    from tfzoo.analysis.hessian import extreme_eigenpairs

    return float(abs(extreme_eigenpairs(op, 1, "LM", tol=tol, seed=seed).values[0]))


def hutchinson_trace(op, num_samples: int = 100, seed: int = 0) -> tuple[float, float]:
    """``tr ∇²L(θ) ≈ mean_i v_i^T H v_i`` over Rademacher vectors; returns ``(estimate, std. error)``.

    [external: Hutchinson 1989; the thesis names the trace (``004`` line 676) but not the estimator.]
    """
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(num_samples):
        v = rng.choice([-1.0, 1.0], size=op.dimension)
        samples.append(float(v @ op.hvp(v)))
    samples = np.array(samples)
    return float(samples.mean()), float(samples.std(ddof=1) / np.sqrt(num_samples)) if num_samples > 1 else 0.0


@dataclasses.dataclass
class Sharpness:
    """The result of :func:`epsilon_sharpness`: the ratio, the worst loss found and the perturbation."""

    value: float
    loss: float
    worst_loss: float
    perturbation: np.ndarray


def epsilon_sharpness(op, epsilon: float, region: str = "ball", steps: int = 50,
                      subspace_dim: int | None = None, seed: int = 0) -> Sharpness:
    """ε-sharpness ``max_{δ∈C} (L(θ+δ) − L(θ)) / (1 + L(θ))`` by projected gradient ascent.

    Args:
        op: a :class:`tfzoo.analysis.hessian.HessianOperator` (its loss must be non-negative).
        epsilon: the radius.
        region: ``"ball"``: the thesis's ``C = B_2(ε, 0)`` (``004`` Definition 2, lines 680–682);
            ``"box"``: Keskar et al.'s ``|δ_i| ≤ ε (|θ_i| + 1)`` [external].
        steps: ascent steps; each normalised gradient step has length ε/5 (ball) or moves every
            coordinate by a fifth of its half-width along the gradient's sign (box), followed by the
            projection back onto C. The best point visited is kept.
        subspace_dim: p: maximise over ``δ = A y`` with A a seeded random d × p matrix with orthonormal
            columns and ``y`` in the ball (or ``A y`` in the box), the random-subspace ε-sharpness
            (lines 921–928).
        seed: seeds the subspace and the random start (a point of C at a tenth of its size).

    The result is a lower bound on the true maximum (ascent may stop in a local maximum). Keskar
    et al. report it multiplied by 100; the thesis defines it "proportional to" the ratio.
    """
    if region not in ("ball", "box"):
        raise InputError(f"region must be 'ball' or 'box', got {region!r}")
    if epsilon <= 0:
        raise InputError(f"epsilon must be > 0, got {epsilon}")
    rng = np.random.default_rng(seed)
    theta = op.get_parameters()
    base_loss = op.loss()
    if base_loss < 0:
        raise InputError("epsilon-sharpness is defined for non-negative losses (004 line 680)")
    width = epsilon * (np.abs(theta) + 1.0) if region == "box" else None
    basis = None
    if subspace_dim is not None:
        if not 0 < subspace_dim <= op.dimension:
            raise InputError(f"subspace_dim must be in [1, {op.dimension}], got {subspace_dim}")
        basis, _ = np.linalg.qr(rng.normal(size=(op.dimension, subspace_dim)))

    def to_delta(y):
        return y if basis is None else basis @ y

    def project(y):
        if region == "ball":
            norm = np.linalg.norm(y)  # ‖A y‖ = ‖y‖ for orthonormal A
            return y if norm <= epsilon else y * (epsilon / norm)
        if basis is None:
            return np.clip(y, -width, width)
        # the box constraint on A y: shrink y until A y fits (a feasible, not orthogonal, projection)
        ratio = np.max(np.abs(basis @ y) / width)
        return y if ratio <= 1 else y / ratio

    size = op.dimension if basis is None else subspace_dim
    if region == "ball":
        y = rng.normal(size=size)
        y *= 0.1 * epsilon / np.linalg.norm(y)
    elif basis is None:
        y = 0.1 * width * rng.uniform(-1.0, 1.0, size)
    else:
        y = 0.1 * project(rng.normal(size=size))
    best_loss, best_delta = base_loss, np.zeros(op.dimension)
    for _ in range(steps):
        loss, grad = op.loss_and_gradient_at(theta + to_delta(y))
        if loss > best_loss:
            best_loss, best_delta = loss, to_delta(y)
        grad = grad if basis is None else basis.T @ grad
        if region == "ball":
            norm = np.linalg.norm(grad)
            if norm == 0:
                break
            y = project(y + 0.2 * epsilon * grad / norm)
        elif basis is None:
            y = project(y + 0.2 * width * np.sign(grad))
        else:
            y = project(y + 0.2 * np.min(width) * grad / max(np.linalg.norm(grad), 1e-300))
    loss = op.loss_at(theta + to_delta(y))
    if loss > best_loss:
        best_loss, best_delta = loss, to_delta(y)
    return Sharpness((best_loss - base_loss) / (1.0 + base_loss), base_loss, best_loss, best_delta)
