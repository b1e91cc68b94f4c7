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

from tfzoo.base import ZooModel


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
    patches of almost blank background (pixel std below ``min_std``) are skipped."""
    rng = np.random.default_rng(seed)
    images = np.asarray(images, np.float32).reshape(len(images), 28, 28) / 255.0
    out = []
    while len(out) < n:
        i, r, c = rng.integers(len(images)), rng.integers(0, 29 - size), rng.integers(0, 29 - size)
        patch = images[i, r:r + size, c:c + size].ravel()
        if patch.std() >= min_std:
            out.append(patch - patch.mean())
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

    Endpoints: ``serve`` and ``encode`` (x ↦ code), ``reconstruct`` (x ↦ ``W_d f_e(x)``).

    Example:
        >>> model = LISTA(n_inputs=64, n_codes=100, num_steps=1, alpha=0.5, dictionary_seed=0)
        >>> x = model.example_batch(256)
        >>> model.compile_from_recipe({"optimizer": "adam", "learning_rate": 1e-3})
        >>> history = model.fit(x, model.optimal_codes(x), epochs=1, verbose=0)
    """

    def __init__(self, *, n_inputs=64, n_codes=100, num_steps=1, alpha=0.5, tied=True,
                 dictionary_seed=0, **kwargs):
        super().__init__(**kwargs)
        if num_steps < 0:
            raise ValueError(f"num_steps must be >= 0, got {num_steps}")
        self.input_shape_per_example = (n_inputs,)
        self.input_range = (-1.0, 1.0)
        self.n_inputs, self.n_codes, self.num_steps = n_inputs, n_codes, num_steps
        self.alpha, self.tied = float(alpha), tied
        init = random_dictionary(n_inputs, n_codes, dictionary_seed)
        self.dictionary = self.add_weight(shape=(n_inputs, n_codes), initializer=keras.initializers.Constant(init),
                                          trainable=False, name="dictionary")
        filters, inhibition, theta = (np.asarray(a) for a in ista_matrices(init, alpha))
        n_inhibition = 1 if tied else num_steps  # no S at all for the single-layer encoder (T = 0)
        n_thresholds = 1 if tied else num_steps + 1
        self.filters = self.add_weight(shape=(n_codes, n_inputs), name="W_e",
                                       initializer=keras.initializers.Constant(filters))
        self.inhibition = None
        if num_steps > 0:
            self.inhibition = self.add_weight(
                shape=(n_inhibition, n_codes, n_codes), name="S",
                initializer=keras.initializers.Constant(np.stack([inhibition] * n_inhibition)))
        self.thresholds = self.add_weight(shape=(n_thresholds, n_codes), name="theta",
                                          initializer=keras.initializers.Constant(np.stack([theta] * n_thresholds)))

    def set_dictionary(self, dictionary):
        """Uses ``dictionary`` (n × m) and resets ``W_e``, ``S``, ``theta`` to ISTA's values for it."""
        filters, inhibition, theta = ista_matrices(dictionary, self.alpha)
        self.dictionary.assign(dictionary)
        self.filters.assign(filters)
        if self.inhibition is not None:
            self.inhibition.assign(tf.tile(inhibition[None], [self.inhibition.shape[0], 1, 1]))
        self.thresholds.assign(tf.tile(theta[None], [self.thresholds.shape[0], 1]))

    def optimal_codes(self, x, num_iterations: int = 1000):
        """``z* = argmin_z E_{W_d}(x, z)`` by FISTA (the LISTA targets of L624)."""
        return fista(self.check_input(x), self.dictionary, self.alpha, num_iterations).codes.numpy()

    def call(self, x, training=False):
        x = self.check_input(x)
        b = tf.linalg.matmul(x, self.filters, transpose_b=True)
        z = soft_threshold(b, self.thresholds[0])
        for t in range(self.num_steps):
            s = self.inhibition[0 if self.tied else t]
            z = soft_threshold(b + tf.linalg.matmul(z, s, transpose_b=True),
                               self.thresholds[0 if self.tied else t + 1])
        return z

    def compile_from_recipe(self, training: dict, **kwargs):
        kwargs.setdefault("loss", half_squared_code_error)
        super().compile_from_recipe(training, **kwargs)

    def example_fit_data(self, n: int = 8, seed: int = 0) -> tuple:
        x = self.example_batch(n, seed)
        return (x, self.optimal_codes(x, 200))

    def example_endpoint_inputs(self, seed: int = 0) -> dict:
        x = self.example_batch(3, seed)
        return {"serve": (x,), "encode": (x,), "reconstruct": (x,)}

    def export_endpoints(self) -> dict:
        signature = self.input_signature()
        return {
            "serve": (lambda x: self(x, training=False), signature),
            "encode": (lambda x: self(x, training=False), signature),
            "reconstruct": (lambda x: tf.linalg.matmul(self(x, training=False), self.dictionary,
                                                       transpose_b=True), signature),
        }
