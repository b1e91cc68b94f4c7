"""Sparse coding: the energy, ISTA, FISTA and the learned encoder LISTA (Lecture 3, L582–636).

``shared/papers/002_e592b05206285d1e.txt`` (the lecture):

* energy (L586): ``E(x, z) = 1/2 ||x - W_d z||² + alpha ||z||_1``, ``W_d`` an ``n × m`` dictionary with
  unit-norm columns, ``m > n``;
* ISTA (L594–596): ``z(k+1) = h_theta(W_e x + S z(k))``, ``z(0) = 0``, ``W_e = W_dᵀ / L``,
  ``S = I - W_dᵀ W_d / L``, ``L >= λ_max(W_dᵀ W_d)``, ``h_theta(v)_i = sign(v_i) (|v_i| - theta_i)_+`` with
  ``theta_i = alpha / L``;
* LISTA (L600–629): the ISTA block diagram unrolled for a fixed number of steps, with ``W_e``, ``S``
  and ``theta`` trained to minimise ``1/2 ||z* - f_e(x)||²`` against the optimal codes ``z*``.
  The recursion of the block diagram is ``B = W_e x``, ``z⁽⁰⁾ = h_theta(B)``,
  ``z⁽ᵗ⁺¹⁾ = h_theta(B + S z⁽ᵗ⁾)`` for ``t = 0..T-1``; ``T = 0`` is the single-layer encoder
  ``h_theta(W_e x)`` of L627–629 ("iter = 0" in the L636 figure). With ISTA's matrices, LISTA with
  ``T`` steps equals ISTA after ``T + 1`` iterations.
* structured ``S`` (L616: "One can impose restrictions on S to further reduce computations (e.g.
  keeping many terms at 0, or using a low-rank factorized form)"): :class:`LISTA`'s ``s_structure``
  is ``"dense"``, ``"sparse"`` (``S ⊙ M`` for a fixed 0/1 pattern ``M``) or ``"low_rank"``
  (``S = U Vᵀ``); :func:`structured_inhibition` gives their ISTA initialisation.

FISTA is only named in the lecture (L636: "FISTA, Fast version of ISTA"). **EXTERNAL** (Beck &
Teboulle 2009, SIAM J. Imaging Sci. 2(1), eqs. 4.1–4.3): ``z_k = h_theta(W_e x + S y_k)``,
``t_{k+1} = (1 + sqrt(1 + 4 t_k²)) / 2``, ``y_{k+1} = z_k + (t_k - 1)/t_{k+1} (z_k - z_{k-1})`` with
``y_1 = z_0 = 0``, ``t_1 = 1``. Beck & Teboulle's Theorem 4.4 guarantees
``E(z_k) - E* <= 2 L ||z_0 - z*||² / (k + 1)²`` but *not* a monotone energy (ISTA's energy is
monotone and ``E(z_k) - E* <= L ||z_0 - z*||² / (2k)``, their Theorem 3.1); the tests check exactly these.

Example:
    >>> import numpy as np
    >>> d = random_dictionary(16, 32, seed=0)
    >>> x = np.random.default_rng(1).normal(size=(4, 16)).astype("float32")
    >>> result = ista(x, d, alpha=0.1, num_iterations=500)
    >>> lista = LISTA(n_inputs=16, n_codes=32, num_steps=2, alpha=0.1, dictionary_seed=0)
    >>> float(np.max(np.abs(lista(x) - ista(x, d, 0.1, 3).codes))) < 1e-5
    True
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from tfzoo.base import Endpoint, ZooModel


def soft_threshold(v, theta):
    """``h_theta(v) = sign(v) max(|v| - theta, 0)`` elementwise (L596)."""
    return tf.sign(v) * tf.nn.relu(tf.abs(v) - theta)


def energy(x, z, dictionary, alpha):
    """``E_{W_d}(x, z) = 1/2 ||x - W_d z||² + alpha ||z||_1`` per example (L586); ``x`` (B, n), ``z`` (B, m)."""
    residual = x - tf.linalg.matmul(z, dictionary, transpose_b=True)
    return 0.5 * tf.reduce_sum(residual**2, -1) + alpha * tf.reduce_sum(tf.abs(z), -1)


def lipschitz_constant(dictionary, margin: float = 1e-3):
    """``L = (1 + margin) λ_max(W_dᵀ W_d)``: an upper bound on the largest eigenvalue, as L596 requires."""
    d = tf.convert_to_tensor(dictionary)
    return (1.0 + margin) * tf.reduce_max(tf.linalg.eigvalsh(tf.linalg.matmul(d, d, transpose_a=True)))


def ista_matrices(dictionary, alpha, lipschitz=None):
    """``(W_e, S, theta)`` of ISTA (L596): ``W_dᵀ/L`` (m × n), ``I - W_dᵀW_d/L`` (m × m), ``alpha/L`` (m,)."""
    d = tf.convert_to_tensor(dictionary, tf.float32)
    lip = lipschitz_constant(d) if lipschitz is None else tf.cast(lipschitz, tf.float32)
    m = tf.shape(d)[1]
    filters = tf.transpose(d) / lip
    inhibition = tf.eye(m) - tf.linalg.matmul(d, d, transpose_a=True) / lip
    return filters, inhibition, tf.fill([m], tf.cast(alpha, tf.float32) / lip)


def random_dictionary(n: int, m: int, seed: int = 0) -> np.ndarray:
    """An ``n × m`` dictionary of i.i.d. Gaussian columns normalised to unit length (float32)."""
    d = np.random.default_rng(seed).standard_normal((n, m))
    return (d / np.linalg.norm(d, axis=0, keepdims=True)).astype(np.float32)


def sparse_signals(dictionary, n: int, sparsity: int = 5, noise: float = 0.01, seed: int = 0):
    """``n`` signals ``x = W_d z + noise`` with ``sparsity`` non-zero N(0, 1) code entries (float32 (n, n_in))."""
    rng = np.random.default_rng(seed)
    dictionary = np.asarray(dictionary)
    m = dictionary.shape[1]
    z = np.zeros((n, m))
    rows = np.repeat(np.arange(n), sparsity)
    cols = np.concatenate([rng.choice(m, sparsity, replace=False) for _ in range(n)])
    z[rows, cols] = rng.standard_normal(n * sparsity)
    return (z @ dictionary.T + noise * rng.standard_normal((n, dictionary.shape[0]))).astype(np.float32)


def learn_dictionary(x, n_codes: int, alpha: float, steps: int = 50, batch_size: int = 500,
                     learning_rate: float = 0.5, coding_iterations: int = 100, seed: int = 0) -> np.ndarray:
    """Learns ``W_d`` as L588 describes: SGD on the average of ``min_z E_{W_d}(x, z)`` over the data.

    Starts from ``n_codes`` random training inputs; each step codes a minibatch with FISTA, takes a
    gradient step ``W_d -= lr (W_d z - x) zᵀ / B`` (the gradient of the energy in ``W_d`` at the
    optimal code) and renormalises the columns to unit length (L588: "normalized" basis vectors).
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(x, np.float32)
    d = x[rng.choice(len(x), n_codes, replace=False)].T.copy()
    d /= np.linalg.norm(d, axis=0, keepdims=True) + 1e-8
    for _ in range(steps):
        batch = x[rng.choice(len(x), batch_size, replace=False)]
        z = fista(batch, d, alpha, coding_iterations).codes.numpy()
        d -= learning_rate * (z @ d.T - batch).T @ z / batch_size
        d /= np.linalg.norm(d, axis=0, keepdims=True) + 1e-8
    return d.astype(np.float32)


def mnist_patches(images, n: int, size: int = 8, min_std: float = 0.1, seed: int = 0) -> np.ndarray:
    """``n`` random ``size × size`` patches of MNIST digits (0..255), mean removed, scaled by 1/255;
    patches of almost blank background (pixel std below ``min_std``) are skipped.

    The inputs of the ``lista-mnist-patches-m*`` presets and of the L636 benchmark on real digits
    (the lecture's figure uses natural-image patches, Gregor & LeCun 2010). ``images``: (N, 28, 28)
    or (N, 28, 28, 1), e.g. ``tfzoo.datasets.load_mnist().x_train``. Raises ``ValueError`` when fewer
    than one candidate patch in 1000 passes the ``min_std`` filter.
    """
    images = np.asarray(images, np.float32)
    if len(images) == 0 or images.shape[1:] not in ((28, 28), (28, 28, 1)):
        raise ValueError(f"images must have shape (N, 28, 28) or (N, 28, 28, 1), N >= 1, got {images.shape}")
    if not 1 <= size <= 28 or n < 1:
        raise ValueError(f"need n >= 1 patches of size in 1..28, got n = {n}, size = {size}")
    rng = np.random.default_rng(seed)
    images = images.reshape(len(images), 28, 28) / 255.0
    out = []
    for _ in range(1000 * n):
        if len(out) == n:
            break
        i, r, c = rng.integers(len(images)), rng.integers(0, 29 - size), rng.integers(0, 29 - size)
        patch = images[i, r:r + size, c:c + size].ravel()
        if patch.std() >= min_std:
            out.append(patch - patch.mean())
    if len(out) < n:
        raise ValueError(f"only {len(out)} of {1000 * n} random {size}×{size} patches have pixel std >= "
                         f"{min_std}; lower min_std")
    return np.stack(out).astype(np.float32)


class SparseCodingResult(NamedTuple):
    """Codes after the last iteration, and per-iteration diagnostics (index 0 is ``z(0) = 0``).

    ``energies``: (K + 1, B) energy of every iterate; ``code_errors``: (K + 1,) mean over the batch of
    ``||z_k - reference||²`` (the L636 "code prediction error"), or ``None`` without a reference.
    """

    codes: tf.Tensor
    energies: tf.Tensor
    code_errors: tf.Tensor | None


def _iterate(x, dictionary, alpha, num_iterations, lipschitz, reference, accelerated):
    x = tf.convert_to_tensor(x, tf.float32)
    d = tf.convert_to_tensor(dictionary, tf.float32)
    filters, inhibition, theta = ista_matrices(d, alpha, lipschitz)
    b = tf.linalg.matmul(x, filters, transpose_b=True)
    z = tf.zeros([tf.shape(x)[0], tf.shape(d)[1]])
    y, t = z, tf.constant(1.0)
    energies = tf.TensorArray(tf.float32, size=num_iterations + 1).write(0, energy(x, z, d, alpha))
    errors = tf.TensorArray(tf.float32, size=num_iterations + 1)
    if reference is not None:
        reference = tf.convert_to_tensor(reference, tf.float32)
        errors = errors.write(0, tf.reduce_mean(tf.reduce_sum((z - reference) ** 2, -1)))
    for k in tf.range(1, num_iterations + 1):
        z_next = soft_threshold(b + tf.linalg.matmul(y, inhibition, transpose_b=True), theta)
        if accelerated:
            t_next = (1.0 + tf.sqrt(1.0 + 4.0 * t * t)) / 2.0
            y = z_next + (t - 1.0) / t_next * (z_next - z)
            t = t_next
        else:
            y = z_next
        z = z_next
        energies = energies.write(k, energy(x, z, d, alpha))
        if reference is not None:
            errors = errors.write(k, tf.reduce_mean(tf.reduce_sum((z - reference) ** 2, -1)))
    return SparseCodingResult(z, energies.stack(), errors.stack() if reference is not None else None)


_iterate_graph = tf.function(_iterate, reduce_retracing=True)


def ista(x, dictionary, alpha, num_iterations: int, lipschitz=None, reference=None) -> SparseCodingResult:
    """ISTA (L594–596) from ``z(0) = 0`` for ``num_iterations`` shrinkages on a batch ``x`` (B, n).

    Args:
        x: inputs (B, n); dictionary: ``W_d`` (n, m); alpha: the L1 weight.
        lipschitz: ``L``; default ``lipschitz_constant(dictionary)``.
        reference: optional codes (B, m), e.g. converged ones, to record the code error per iteration.
    """
    return _iterate_graph(tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(dictionary, tf.float32),
                          float(alpha), int(num_iterations), lipschitz, reference, False)


def fista(x, dictionary, alpha, num_iterations: int, lipschitz=None, reference=None) -> SparseCodingResult:
    """FISTA (EXTERNAL: Beck & Teboulle 2009, eqs. 4.1–4.3) with the arguments of :func:`ista`."""
    return _iterate_graph(tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(dictionary, tf.float32),
                          float(alpha), int(num_iterations), lipschitz, reference, True)


def optimality_violation(x, z, dictionary, alpha):
    """Largest violation of the subgradient condition ``0 ∈ W_dᵀ(W_d z - x) + alpha ∂||z||_1``.

    For ``z_i ≠ 0`` the gradient ``g_i`` must equal ``-alpha sign(z_i)``; for ``z_i = 0``, ``|g_i| <= alpha``.
    Returns the maximum over the batch and the code units (0 at an exact minimiser).
    """
    x = tf.convert_to_tensor(x, tf.float32)
    d = tf.convert_to_tensor(dictionary, tf.float32)
    g = tf.linalg.matmul(tf.linalg.matmul(z, d, transpose_b=True) - x, d)
    active = tf.abs(g + alpha * tf.sign(z))
    inactive = tf.nn.relu(tf.abs(g) - alpha)
    return tf.reduce_max(tf.where(tf.not_equal(z, 0.0), active, inactive))


S_STRUCTURES = ("dense", "sparse", "low_rank")
DICTIONARY_SOURCES = ("random", "learned")  # LISTA's dictionary=: kept random, or learned from the training inputs


def structured_inhibition(inhibition, s_structure: str, s_density: float | None = None,
                          s_rank: int | None = None) -> dict[str, np.ndarray]:
    """The weights that hold ``S`` under a structure of L616, initialised from ISTA's ``S`` (m × m).

    L616: "One can impose restrictions on S to further reduce computations (e.g. keeping many terms
    at 0, or using a low-rank factorized form)"; the lecture does not say which terms, so (notes,
    ``shared/specs/lecture_and_arora.md`` C6 and part D: "optional sparsity/low-rank S (low-rank as
    two factor weights)"):

    * ``"dense"``: ``{"S": S}``.
    * ``"sparse"``: ``S ⊙ M`` with the fixed 0/1 pattern ``M`` (``"S_mask"``) that keeps the
      ``ceil(s_density · m²)`` entries of largest ``|S_ij|`` (ties by position). ISTA's
      ``S = I - W_dᵀW_d / L`` inhibits code units in proportion to the overlap ``d_iᵀd_j`` of their
      atoms, so the pattern keeps the strongest inhibitions (and the diagonal ``1 - 1/L``, which is
      at least every off-diagonal ``|d_iᵀd_j| / L <= 1/L`` when ``L >= 2``). ``s_density = 1`` keeps ``S``.
    * ``"low_rank"``: ``S ≈ U Vᵀ`` with ``U = P_r Σ_r^½``, ``V = Q_r Σ_r^½`` (``"S_U"``, ``"S_V"``,
      m × r each) from the singular value decomposition ``S = P Σ Qᵀ`` truncated to the ``r = s_rank``
      largest singular values: the best rank-``r`` approximation (Eckart–Young); ``S z = U (Vᵀ z)``
      costs ``2 m r`` multiply-adds instead of ``m²``. ``s_rank = m`` reproduces ``S``.

    Returns:
        weight name -> float32 array; ``"S_mask"`` is the pattern, the rest are trainable.

    Raises:
        ValueError: an unknown ``s_structure``, an option of another structure, or one out of range.
    """
    if s_structure not in S_STRUCTURES:
        raise ValueError(f"s_structure must be one of {', '.join(map(repr, S_STRUCTURES))}, got {s_structure!r}")
    for option, value, structure in (("s_density", s_density, "sparse"), ("s_rank", s_rank, "low_rank")):
        if value is not None and s_structure != structure:
            raise ValueError(f"{option} applies to s_structure={structure!r} only, "
                             f"got {option}={value} with s_structure={s_structure!r}")
    inhibition = np.asarray(inhibition, np.float64)
    m = inhibition.shape[0]
    if s_structure == "dense":
        return {"S": inhibition.astype(np.float32)}
    if s_structure == "sparse":
        if s_density is None or not 0.0 < s_density <= 1.0:
            raise ValueError(f"s_structure='sparse' needs s_density in (0, 1], got {s_density}")
        keep = np.argsort(-np.abs(inhibition).ravel(), kind="stable")[:int(np.ceil(s_density * m * m))]
        mask = np.zeros(m * m)
        mask[keep] = 1.0
        mask = mask.reshape(m, m)
        return {"S": (inhibition * mask).astype(np.float32), "S_mask": mask.astype(np.float32)}
    if not isinstance(s_rank, (int, np.integer)) or isinstance(s_rank, bool) or not 1 <= s_rank <= m:
        raise ValueError(f"s_structure='low_rank' needs an integer s_rank in 1..{m}, got {s_rank}")
    left, singular_values, right_t = np.linalg.svd(inhibition)
    scale = np.sqrt(singular_values[:s_rank])
    return {"S_U": (left[:, :s_rank] * scale).astype(np.float32),
            "S_V": (right_t[:s_rank].T * scale).astype(np.float32)}


@keras.saving.register_keras_serializable(package="tfzoo")
def half_squared_code_error(z_star, z):
    """The LISTA loss of L624 per example: ``1/2 ||z* - f_e(x)||²``."""
    return 0.5 * tf.reduce_sum(tf.square(z_star - z), axis=-1)


@keras.saving.register_keras_serializable(package="tfzoo")
class LISTA(ZooModel):
    """Learned ISTA (Gregor & LeCun 2010, lecture L600–636): ``num_steps`` unrolled ISTA steps with
    trainable ``W_e`` (m × n), ``S`` (m × m) and ``theta`` (m,).

    The model holds its dictionary ``W_d`` as a non-trainable weight (random unit-norm columns drawn
    with ``dictionary_seed``, or set with :meth:`set_dictionary`); the trainable weights start at
    ISTA's values (:func:`ista_matrices`), so before training ``LISTA(T)`` equals ISTA after ``T + 1``
    iterations. ``tied=True`` shares ``S`` and ``theta`` across the unrolled steps (the lecture's
    "Matrices W_e and S", L616); ``tied=False`` gives each step its own ``S_t`` and ``theta_t``.
    Train with ``fit(x, z_star)`` on optimal codes (:meth:`optimal_codes`); the loss is L624's
    ``1/2 ||z* - f_e(x)||²`` averaged over the batch.

    ``dictionary`` says where ``W_d`` comes from when :func:`tfzoo.train` prepares a task's data
    (:meth:`prepare_training_data`): ``"random"`` (default) keeps the random dictionary of
    ``dictionary_seed`` (the ``lista-gaussian-m*`` presets, whose signals are generated from that
    dictionary); ``"learned"`` first learns it from the training inputs with
    ``learn_dictionary(x_train, n_codes, alpha, steps=learn_steps)`` (SGD on ``min_z E``, L588) and
    installs it with :meth:`set_dictionary` (the ``lista-mnist-patches-m*`` presets). Either way the
    targets are then the FISTA codes for the model's dictionary.

    ``s_structure`` restricts ``S`` as L616 suggests ("keeping many terms at 0, or using a low-rank
    factorized form"; notes C6: ``S_constraint="sparse"|"low_rank"``), initialised from ISTA's ``S`` by
    :func:`structured_inhibition` and kept through training:

    * ``"dense"`` (default): ``S`` is a free m × m matrix (``m²`` trainable parameters per ``S``).
    * ``"sparse"``: the step uses ``S ⊙ M``; the 0/1 pattern ``M`` (non-trainable weight ``S_mask``,
      shared by the steps) keeps the fraction ``s_density`` of ISTA's ``S`` of largest magnitude, so
      ``S`` is exactly 0 off the pattern at every training step (its gradient there is 0).
      ``ceil(s_density · m²)`` free parameters per ``S``, stored as an m × m matrix plus the mask.
    * ``"low_rank"``: ``S = U Vᵀ`` with trainable ``U``, ``V`` (m × ``s_rank``), initialised by the
      truncated SVD of ISTA's ``S``; the step computes ``U (Vᵀ z)``: ``2 m r`` parameters and
      multiply-adds per ``S`` instead of ``m²``. ``s_rank = m`` equals ISTA before training.

    :meth:`inhibition_matrices` returns the effective ``S`` of every step for any structure. With
    ``num_steps = 0`` there is no ``S`` and ``s_structure`` has no effect.

    Endpoints: ``serve`` and ``encode`` (x ↦ code), ``reconstruct`` (x ↦ ``W_d f_e(x)``).

    Example:
        >>> model = LISTA(n_inputs=64, n_codes=100, num_steps=1, alpha=0.5, dictionary_seed=0,
        ...               s_structure="low_rank", s_rank=20)
        >>> from tfzoo import testing
        >>> x = testing.example_batch(model, 256)
        >>> from tfzoo.recipe import Recipe
        >>> model.compile_from_recipe(Recipe(optimizer="adam", learning_rate=1e-3))
        >>> history = model.fit(x, model.optimal_codes(x), epochs=1, verbose=0)
    """

    fit_targets = "optimal_codes"  # fit(x, z*): the FISTA codes of x for the model's dictionary

    def __init__(self, *, n_inputs=64, n_codes=100, num_steps=1, alpha=0.5, tied=True,
                 dictionary_seed=0, s_structure="dense", s_density=None, s_rank=None, dictionary="random",
                 learn_steps=30, **kwargs):
        super().__init__(**kwargs)
        if num_steps < 0:
            raise ValueError(f"num_steps must be >= 0, got {num_steps}")
        if dictionary not in DICTIONARY_SOURCES:
            raise ValueError(f"dictionary must be one of {', '.join(map(repr, DICTIONARY_SOURCES))}, got {dictionary!r}")
        if isinstance(learn_steps, bool) or not isinstance(learn_steps, (int, np.integer)) or learn_steps < 0:
            raise ValueError(f"learn_steps must be an integer >= 0, got {learn_steps!r}")
        self.dictionary_source, self.learn_steps, self.dictionary_seed = dictionary, int(learn_steps), dictionary_seed
        self.input_shape_per_example = (n_inputs,)
        self.input_range = (-1.0, 1.0)
        self.n_inputs, self.n_codes, self.num_steps = n_inputs, n_codes, num_steps
        self.alpha, self.tied = float(alpha), tied
        self.s_structure, self.s_density, self.s_rank = s_structure, s_density, s_rank
        init = random_dictionary(n_inputs, n_codes, dictionary_seed)
        self.dictionary = self.add_weight(shape=(n_inputs, n_codes), initializer=keras.initializers.Constant(init),
                                          trainable=False, name="dictionary")
        filters, inhibition, theta = (np.asarray(a) for a in ista_matrices(init, alpha))
        n_thresholds = 1 if tied else num_steps + 1
        self.filters = self.add_weight(shape=(n_codes, n_inputs), name="W_e",
                                       initializer=keras.initializers.Constant(filters))
        # The weights that hold S by name (none for the single-layer encoder, T = 0); checks the s_* options.
        self.inhibition_weights = {
            name: self.add_weight(shape=value.shape, name=name, trainable=name != "S_mask",
                                  initializer=keras.initializers.Constant(value))
            for name, value in self._inhibition_values(inhibition).items()}
        self.thresholds = self.add_weight(shape=(n_thresholds, n_codes), name="theta",
                                          initializer=keras.initializers.Constant(np.stack([theta] * n_thresholds)))

    def _inhibition_values(self, inhibition) -> dict[str, np.ndarray]:
        """:func:`structured_inhibition` of ISTA's ``S``, the trainable factors stacked once per step
        (``tied=False``) or once (``tied=True``); the sparse pattern is shared by the steps. Empty
        for ``num_steps = 0`` (the structure's options are checked all the same)."""
        values = structured_inhibition(inhibition, self.s_structure, self.s_density, self.s_rank)
        if self.num_steps == 0:
            return {}
        copies = 1 if self.tied else self.num_steps
        return {name: value if name == "S_mask" else np.stack([value] * copies) for name, value in values.items()}

    def set_dictionary(self, dictionary):
        """Uses ``dictionary`` (n × m) and resets ``W_e``, ``S``, ``theta`` to ISTA's values for it
        (for ``s_structure="sparse"`` also the pattern, recomputed from the new ``S``)."""
        filters, inhibition, theta = ista_matrices(dictionary, self.alpha)
        self.dictionary.assign(dictionary)
        self.filters.assign(filters)
        if self.inhibition_weights:
            for name, value in self._inhibition_values(inhibition.numpy()).items():
                self.inhibition_weights[name].assign(value)
        self.thresholds.assign(tf.tile(theta[None], [self.thresholds.shape[0], 1]))

    def inhibition_matrices(self):
        """The effective ``S`` of the model (m × m, one per step, or one if tied): ``S``, ``S ⊙ M`` or
        ``U Vᵀ`` by ``s_structure``; shape (0, m, m) for ``num_steps = 0``."""
        weights = self.inhibition_weights
        if not weights:
            return tf.zeros([0, self.n_codes, self.n_codes])
        if self.s_structure == "low_rank":
            return tf.linalg.matmul(weights["S_U"], weights["S_V"], transpose_b=True)
        return weights["S"] * weights["S_mask"] if self.s_structure == "sparse" else tf.convert_to_tensor(weights["S"])

    def _inhibit(self, z, step):
        """``S_t z`` for the batch ``z`` (B, m) of step ``step`` (row vectors: ``z S_tᵀ``)."""
        weights, index = self.inhibition_weights, 0 if self.tied else step
        if self.s_structure == "low_rank":  # z (U Vᵀ)ᵀ = (z V) Uᵀ: 2 m r multiply-adds per code
            return tf.linalg.matmul(tf.linalg.matmul(z, weights["S_V"][index]), weights["S_U"][index],
                                    transpose_b=True)
        inhibition = weights["S"][index]
        if self.s_structure == "sparse":
            inhibition = inhibition * weights["S_mask"]
        return tf.linalg.matmul(z, inhibition, transpose_b=True)

    def optimal_codes(self, x, num_iterations: int = 1000):
        """``z* = argmin_z E_{W_d}(x, z)`` by FISTA (the LISTA targets of L624)."""
        return fista(self.check_input(x), self.dictionary, self.alpha, num_iterations).codes.numpy()

    def prepare_training_data(self, splits: dict, seed: int = 0) -> dict:
        """The task's splits with LISTA's targets: ``{split: (x, optimal_codes(x, 1000))}`` (L624).

        With ``dictionary="learned"`` the dictionary is first learned from the training inputs,
        ``learn_dictionary(x_train, n_codes, alpha, steps=learn_steps, seed=seed)`` (L588; minibatches
        of 500, or of the whole training set when smaller), and installed with :meth:`set_dictionary`
        (which resets ``W_e``, ``S`` and ``theta`` to ISTA's values for it), as
        ``benchmarks/lecture_exports.py`` prepares the ``lista-mnist-patches`` model. It learns only
        while the model holds the random placeholder of ``dictionary_seed``: a model that has a
        learned or set dictionary already (a trained model being evaluated) keeps it and its weights.
        The inputs are returned unchanged; any labels of the task are replaced by the codes.
        """
        placeholder = random_dictionary(self.n_inputs, self.n_codes, self.dictionary_seed)
        if self.dictionary_source == "learned" and np.array_equal(np.asarray(self.dictionary), placeholder):
            x_train = np.asarray(splits["train"][0], np.float32)
            self.set_dictionary(learn_dictionary(x_train, self.n_codes, self.alpha, steps=self.learn_steps,
                                                 batch_size=min(500, len(x_train)), seed=seed))
        return {split: (x, self.optimal_codes(x, 1000)) for split, (x, _) in splits.items()}

    def call(self, x, training=False):
        x = self.check_input(x)
        b = tf.linalg.matmul(x, self.filters, transpose_b=True)
        z = soft_threshold(b, self.thresholds[0])
        for t in range(self.num_steps):
            z = soft_threshold(b + self._inhibit(z, t), self.thresholds[0 if self.tied else t + 1])
        return z

    def compile_from_recipe(self, recipe=None, **kwargs):
        kwargs.setdefault("loss", half_squared_code_error)
        super().compile_from_recipe(recipe, **kwargs)

    def endpoints(self) -> dict:
        x = self.data_arg()
        return {
            "serve": Endpoint(lambda x: self(x, training=False), x),
            "encode": Endpoint(lambda x: self(x, training=False), x),
            "reconstruct": Endpoint(lambda x: tf.linalg.matmul(self(x, training=False), self.dictionary,
                                                               transpose_b=True), x),
        }
