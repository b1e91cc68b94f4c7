"""Hessian-vector products, extreme eigenpairs, the eigen-direction line search and spectral densities.

Implements the machinery of "Negative eigenvalues of the Hessian in deep neural networks"
(``003_a93095073811cc34.txt`` chapter 11, lines 3305–3496) for any Keras model:

* :class:`HessianOperator` — the loss ``L(θ)``, its gradient ``g(θ)`` and the product ``v ↦ H(θ)v``
  over a **fixed, deterministic** data set (same examples, same order, ``training=False``), all
  parameters concatenated into one vector θ ∈ R^d (lines 3336, 3464–3470). ``Hv`` is computed
  "forward-over-reverse": a ``tf.autodiff.ForwardAccumulator`` pushes the tangent ``v`` through the
  reverse-mode gradient, ``Hv = J_g(θ) v`` (the "Jacobian Vector Product trick", line 3397).
  The loss is the **mean** over the examples by default (line 3336 "averaged") or the **sum**
  (line 3466 writes ``L(θ) = Σ_n L_θ(x_n, y_n)``); the text uses both, the eigenvalues scale by N.
* :func:`extreme_eigenpairs` — ``LA(k)``/``SA(k)`` (line 3407) by ``scipy.sparse.linalg.eigsh`` on a
  ``LinearOperator`` whose ``matvec`` is the HVP (lines 3397–3401), and :func:`lanczos` /
  :func:`lanczos_eigenpairs`, a TensorFlow-native Lanczos with full re-orthogonalisation.
* :func:`eigendirection_line_search` — eq. (11.1), ``L(θ − α [g^T v] v)`` on a grid of α, the quadratic
  model ``L − α (g^T v)² + ½ α² λ (g^T v)²`` and the best step α*; for a quadratic loss
  α* = 1/λ (eq. 11.2, line 3456).
* :class:`HessianSpectrum` — a callback recording ``LA(k)`` and ``SA(k)`` during training (Fig. 11.5,
  lines 3416–3432).
* :func:`spectral_density` — stochastic Lanczos quadrature (Gauss quadrature nodes and weights of
  the Lanczos tridiagonal matrix, averaged over random probe vectors), used to reproduce the
  lecture's spectrum at a CNN minimum (``002_e592b05206285d1e.txt`` lines 644–650). SLQ itself is
  not in the thesis: it follows ``google/spectral-density`` (Ghorbani et al. 2019) [external].

Example (runs in a few seconds)::

    import keras, numpy as np
    from tfzoo.analysis.hessian import HessianOperator, extreme_eigenpairs, eigendirection_line_search
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2)])
    x = np.random.default_rng(0).normal(size=(256, 2)).astype("float32"); y = (x[:, 0] > 0).astype("int64")
    op = HessianOperator(model, x, y)                     # mean cross-entropy over the 256 examples
    top = extreme_eigenpairs(op, k=3, which="LA")         # LA(3): eigenvalues λ1 ≥ λ2 ≥ λ3
    search = eigendirection_line_search(op, top.vectors[:, 0], np.geomspace(1e-3, 1e2, 41))
    print(top.values, search.best_alpha, 1 / top.values[0])
"""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np
import tensorflow as tf

from tfzoo.errors import InputError
from tfzoo.seeds import stateless_seed


def sparse_softmax_cross_entropy(y_true, logits):
    """Per-example cross-entropy of integer labels and logits (the default loss)."""
    return tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(y_true, tf.int32), logits)


class HessianOperator:
    """``L(θ)``, ``g(θ)`` and ``H(θ)v`` of a Keras model over a fixed data set, on a flat θ ∈ R^d.

    Args:
        model: any built Keras model (functional, Sequential or subclassed).
        x, y: the fixed data set (arrays); it is cut into batches in order, never shuffled, and the
            model runs with ``training=False`` (no dropout, no batch-norm updates), so the operator
            is deterministic as ``eigsh`` requires (``003`` lines 3468–3470).
        loss_fn: ``loss_fn(y, model_output) -> per-example losses``; default: softmax cross-entropy
            of integer labels on logits.
        reduction: ``"mean"`` (loss averaged over the examples, ``003`` line 3336) or ``"sum"``
            (line 3466).
        batch_size: examples per forward pass; the result does not depend on it beyond rounding.
        variables: the parameters θ, default ``model.trainable_variables`` in that order.

    The loss is the data loss only: penalties the model adds to ``model.losses`` (e.g. an L2
    kernel regulariser) are not included; add them to ``loss_fn`` if the analysis needs them.
    """

    def __init__(self, model, x, y, loss_fn=None, reduction: str = "mean", batch_size: int = 512,
                 variables=None):
        if reduction not in ("mean", "sum"):
            raise InputError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        x = np.asarray(x)
        y = np.asarray(y)
        if len(x) == 0 or len(x) != len(y):
            raise InputError(f"x and y must be non-empty with equal lengths, got {len(x)} and {len(y)}")
        self.model = model
        self.loss_fn = loss_fn or sparse_softmax_cross_entropy
        self.reduction = reduction
        self.variables = list(variables if variables is not None else model.trainable_variables)
        if not self.variables:
            raise InputError("the model has no trainable variables; build it (call it once) first")
        self.shapes = [tuple(v.shape) for v in self.variables]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.dimension = int(sum(self.sizes))
        self.dtype = self.variables[0].dtype
        self.num_examples = len(x)
        self._batches = [(tf.constant(x[i:i + batch_size]), tf.constant(y[i:i + batch_size]))
                         for i in range(0, len(x), batch_size)]
        self.scale = 1.0 / len(x) if reduction == "mean" else 1.0
        self.num_hvp_calls = 0
        self._loss_batch = tf.function(self._loss_batch_eager, reduce_retracing=True)
        self._grad_batch = tf.function(self._grad_batch_eager, reduce_retracing=True)
        self._hvp_batch = tf.function(self._hvp_batch_eager, reduce_retracing=True)

    # ---------------------------------------------------------------- flat <-> variables
    def flatten(self, tensors) -> np.ndarray:
        """Concatenates per-variable tensors into one float64 vector of length ``d``."""
        return np.concatenate([np.asarray(t, dtype=np.float64).reshape(-1) for t in tensors])

    def unflatten(self, flat) -> list:
        """Splits a length-``d`` vector into tensors shaped like the variables (their dtype)."""
        flat = np.asarray(flat)
        if flat.shape != (self.dimension,):
            raise InputError(f"expected a flat vector of shape ({self.dimension},), got {flat.shape}")
        parts = np.split(flat, np.cumsum(self.sizes)[:-1])
        return [tf.constant(p.reshape(s), dtype=self.dtype) for p, s in zip(parts, self.shapes)]

    def get_parameters(self) -> np.ndarray:
        """The current θ as a float64 vector."""
        return self.flatten([v.numpy() for v in self.variables])

    def set_parameters(self, theta):
        """Assigns the flat vector ``theta`` to the model's variables."""
        for v, value in zip(self.variables, self.unflatten(theta)):
            v.assign(value)

    # ---------------------------------------------------------------- per-batch kernels
    def _batch_loss_sum(self, xb, yb):
        return tf.reduce_sum(self.loss_fn(yb, self.model(xb, training=False)))

    def _loss_batch_eager(self, xb, yb):
        return self._batch_loss_sum(xb, yb)

    def _grad_batch_eager(self, xb, yb):
        with tf.GradientTape() as tape:
            loss = self._batch_loss_sum(xb, yb)
        return loss, tape.gradient(loss, self.variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)

    def _hvp_batch_eager(self, xb, yb, tangents):
        primals = [getattr(v, "value", v) for v in self.variables]
        with tf.autodiff.ForwardAccumulator(primals, tangents) as accumulator:
            with tf.GradientTape() as tape:
                loss = self._batch_loss_sum(xb, yb)
            grads = tape.gradient(loss, self.variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return accumulator.jvp(grads, unconnected_gradients=tf.UnconnectedGradients.ZERO)

    # ---------------------------------------------------------------- public operator
    def loss(self) -> float:
        """``L(θ)`` at the current parameters (mean or sum over the fixed data)."""
        return self.scale * float(sum(float(self._loss_batch(xb, yb)) for xb, yb in self._batches))

    def gradient(self) -> np.ndarray:
        """``g(θ)`` as a float64 vector."""
        total = None
        for xb, yb in self._batches:
            _, grads = self._grad_batch(xb, yb)
            flat = self.flatten(grads)
            total = flat if total is None else total + flat
        return self.scale * total

    def loss_and_gradient(self) -> tuple[float, np.ndarray]:
        """``(L(θ), g(θ))`` in one pass."""
        loss, total = 0.0, None
        for xb, yb in self._batches:
            batch_loss, grads = self._grad_batch(xb, yb)
            loss += float(batch_loss)
            flat = self.flatten(grads)
            total = flat if total is None else total + flat
        return self.scale * loss, self.scale * total

    def hvp(self, v) -> np.ndarray:
        """``H(θ) v`` (float64 vector) by forward-over-reverse differentiation, summed over batches."""
        self.num_hvp_calls += 1
        tangents = self.unflatten(np.asarray(v).reshape(-1))
        total = None
        for xb, yb in self._batches:
            flat = self.flatten(self._hvp_batch(xb, yb, tangents))
            total = flat if total is None else total + flat
        return self.scale * total

    def as_linear_operator(self):
        """A ``scipy.sparse.linalg.LinearOperator`` (float64, symmetric) whose matvec is :meth:`hvp`."""
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator((self.dimension, self.dimension), matvec=self.hvp, rmatvec=self.hvp,
                              dtype=np.float64)

    def dense(self) -> np.ndarray:
        """The full ``d × d`` Hessian, one HVP per basis vector (for small models and tests only)."""
        if self.dimension > 5000:
            raise InputError(f"dense() builds a {self.dimension}² matrix; use it only for d ≤ 5000")
        eye = np.eye(self.dimension)
        return np.stack([self.hvp(eye[i]) for i in range(self.dimension)], axis=1)

    def loss_at(self, theta) -> float:
        """``L`` at parameters ``theta``; the model's parameters are restored afterwards."""
        saved = self.get_parameters()
        try:
            self.set_parameters(theta)
            return self.loss()
        finally:
            self.set_parameters(saved)

    def loss_and_gradient_at(self, theta) -> tuple[float, np.ndarray]:
        """``(L, g)`` at ``theta``; the model's parameters are restored afterwards."""
        saved = self.get_parameters()
        try:
            self.set_parameters(theta)
            return self.loss_and_gradient()
        finally:
            self.set_parameters(saved)


def subset(x, y, fraction: float | None = None, size: int | None = None, seed: int = 0):
    """A fixed random subset of ``(x, y)`` (``003`` lines 3468–3470: "always the same samples").

    Give ``fraction`` (e.g. 0.05, the thesis's 5%) or ``size``; indices are drawn without
    replacement from ``numpy.random.default_rng(seed)`` and kept in increasing order.
    """
    n = len(x)
    if (fraction is None) == (size is None):
        raise InputError("give exactly one of fraction or size")
    count = int(round(fraction * n)) if fraction is not None else int(size)
    if not 0 < count <= n:
        raise InputError(f"the subset must hold between 1 and {n} examples, got {count}")
    idx = np.sort(np.random.default_rng(seed).choice(n, count, replace=False))
    return np.asarray(x)[idx], np.asarray(y)[idx]


@dataclasses.dataclass
class Eigenpairs:
    """Eigenvalues (1-D) and unit eigenvectors (columns), in the order the request implies."""

    values: np.ndarray
    vectors: np.ndarray
    num_hvp_calls: int = 0
    seconds: float = 0.0


def extreme_eigenpairs(op: HessianOperator, k: int, which: str = "LA", tol: float = 0.0,
                       seed: int = 0, maxiter: int | None = None, ncv: int | None = None) -> Eigenpairs:
    """``LA(k)`` or ``SA(k)`` (``003`` line 3407) by ARPACK's implicitly restarted Lanczos.

    ``scipy.sparse.linalg.eigsh`` calls :meth:`HessianOperator.hvp` (``003`` lines 3397–3401).
    ``which="LA"`` returns λ1 ≥ … ≥ λk, ``"SA"`` returns λd ≤ … ≤ λ(d−k+1) (most negative first) and
    ``"LM"`` the largest magnitudes, largest first. The start vector is seeded, so repeated calls
    give identical results.
    """
    from scipy.sparse.linalg import eigsh

    if which not in ("LA", "SA", "LM"):
        raise InputError(f"which must be 'LA', 'SA' or 'LM', got {which!r}")
    if not 0 < k < op.dimension:
        raise InputError(f"k must be in [1, d-1] = [1, {op.dimension - 1}], got {k}")
    v0 = np.random.default_rng(seed).normal(size=op.dimension)
    calls, start = op.num_hvp_calls, time.perf_counter()
    values, vectors = eigsh(op.as_linear_operator(), k=k, which=which, tol=tol, v0=v0,
                            maxiter=maxiter, ncv=ncv)
    order = {"LA": np.argsort(-values), "SA": np.argsort(values), "LM": np.argsort(-np.abs(values))}[which]
    return Eigenpairs(values[order], vectors[:, order], op.num_hvp_calls - calls,
                      time.perf_counter() - start)


def lanczos(matvec, dimension: int, num_steps: int, seed: int = 0, start=None,
            reorthogonalize: bool = True, dtype=tf.float64):
    """The Lanczos tridiagonalisation ``Q^T A Q = T`` of a symmetric operator, in TensorFlow.

    Args:
        matvec: ``v ↦ A v`` on 1-D tensors or arrays of length ``dimension``.
        num_steps: m, the size of T (m ≤ d).
        start: the first Lanczos vector (normalised); default a seeded standard-normal vector.
        reorthogonalize: full Gram–Schmidt against every previous vector (twice), which keeps Q
            orthonormal in floating point; without it the classic three-term recurrence is used.

    Returns:
        ``(alphas, betas, Q)``: the diagonal (m,), the off-diagonal (m−1,) of T and Q (d, m).
        Lanczos stops early (returning fewer steps) when an invariant subspace is found.
    """
    if not 0 < num_steps <= dimension:
        raise InputError(f"num_steps must be in [1, {dimension}], got {num_steps}")
    if start is None:
        start = tf.random.stateless_normal([dimension], seed=stateless_seed(seed), dtype=dtype)
    q = tf.cast(tf.reshape(start, [-1]), dtype)
    q = q / tf.norm(q)
    basis, alphas, betas = [q], [], []
    previous, beta = tf.zeros_like(q), tf.constant(0.0, dtype)
    for step in range(num_steps):
        w = tf.cast(tf.reshape(tf.convert_to_tensor(matvec(basis[-1])), [-1]), dtype)
        alpha = tf.tensordot(w, basis[-1], 1)
        w = w - alpha * basis[-1] - beta * previous
        if reorthogonalize:
            Q = tf.stack(basis, axis=1)
            for _ in range(2):
                w = w - tf.linalg.matvec(Q, tf.linalg.matvec(Q, w, transpose_a=True))
        alphas.append(alpha)
        if step == num_steps - 1:
            break
        beta = tf.norm(w)
        if float(beta) <= 1e-10 * max(1.0, float(tf.abs(alpha))):
            break
        betas.append(beta)
        previous = basis[-1]
        basis.append(w / beta)
    m = len(alphas)
    return tf.stack(alphas), tf.stack(betas) if betas else tf.zeros([0], dtype), tf.stack(basis[:m], axis=1)


def tridiagonal(alphas, betas):
    """The symmetric tridiagonal matrix with diagonal ``alphas`` and off-diagonal ``betas``."""
    return tf.linalg.diag(alphas) + tf.linalg.diag(betas, k=1) + tf.linalg.diag(betas, k=-1)


def lanczos_eigenpairs(op: HessianOperator, k: int, which: str = "LA", num_steps: int | None = None,
                       seed: int = 0) -> Eigenpairs:
    """``LA(k)``/``SA(k)`` from the Ritz pairs of :func:`lanczos` on the HVP (TensorFlow-native).

    ``num_steps`` defaults to ``min(d, max(4k, 40))``; with ``num_steps = d`` the Ritz values are the
    exact eigenvalues.
    """
    if which not in ("LA", "SA"):
        raise InputError(f"which must be 'LA' or 'SA', got {which!r}")
    m = num_steps or min(op.dimension, max(4 * k, 40))
    calls, start = op.num_hvp_calls, time.perf_counter()
    alphas, betas, Q = lanczos(op.hvp, op.dimension, m, seed=seed)
    ritz_values, ritz_vectors = tf.linalg.eigh(tridiagonal(alphas, betas))
    order = np.argsort(-ritz_values.numpy()) if which == "LA" else np.argsort(ritz_values.numpy())
    order = order[:k]
    vectors = tf.matmul(Q, tf.gather(ritz_vectors, order, axis=1)).numpy()
    return Eigenpairs(ritz_values.numpy()[order], vectors, op.num_hvp_calls - calls,
                      time.perf_counter() - start)


@dataclasses.dataclass
class LineSearch:
    """The result of :func:`eigendirection_line_search` (eq. 11.1)."""

    alphas: np.ndarray
    losses: np.ndarray
    quadratic_prediction: np.ndarray
    loss_at_zero: float
    gradient_projection: float
    curvature: float
    best_alpha: float
    best_loss: float


def eigendirection_line_search(op: HessianOperator, v, alphas, curvature: float | None = None,
                               refine: bool = True) -> LineSearch:
    """Eq. (11.1): ``L(θ − α [g(θ)^T v] v)`` for every α, and the best step α* (``003`` 3342–3374).

    Args:
        v: a unit eigenvector of ``H(θ)`` (flat); its sign does not matter.
        alphas: the step sizes to evaluate (the thesis spans "a few orders of magnitude", line 3360;
            include negative values to search both ways).
        curvature: λ = v^T H v for the quadratic model; computed with one HVP when ``None``.
        refine: refine the best grid point by Brent's method between its grid neighbours.

    Returns a :class:`LineSearch` with the exact losses, the quadratic model's prediction
    ``L(θ) − α c² + ½ α² λ c²`` with ``c = g^T v``, and α* with ``L(α*)``. On a quadratic loss,
    α* = 1/λ for λ > 0 (eq. 11.2, line 3456). The parameters are restored afterwards.
    """
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    v = v / np.linalg.norm(v)
    alphas = np.sort(np.asarray(alphas, dtype=np.float64).reshape(-1))
    theta = op.get_parameters()
    loss0, grad = op.loss_and_gradient()
    c = float(grad @ v)
    lam = float(v @ op.hvp(v)) if curvature is None else float(curvature)
    step = c * v

    def loss_at(alpha):
        return op.loss_at(theta - alpha * step)

    losses = np.array([loss_at(a) for a in alphas])
    quadratic = loss0 - alphas * c ** 2 + 0.5 * alphas ** 2 * lam * c ** 2
    best = int(np.argmin(losses))
    best_alpha, best_loss = float(alphas[best]), float(losses[best])
    if refine and len(alphas) > 2:
        from scipy.optimize import minimize_scalar

        lo, hi = alphas[max(best - 1, 0)], alphas[min(best + 1, len(alphas) - 1)]
        found = minimize_scalar(loss_at, bounds=(lo, hi), method="bounded",
                                options=dict(xatol=1e-10 * max(1.0, abs(hi)), maxiter=200))
        if found.fun < best_loss:
            best_alpha, best_loss = float(found.x), float(found.fun)
    op.set_parameters(theta)
    return LineSearch(alphas, losses, quadratic, loss0, c, lam, best_alpha, best_loss)


def spectral_density(op: HessianOperator, num_steps: int = 80, num_probes: int = 4, seed: int = 0):
    """Stochastic Lanczos quadrature: nodes and weights approximating the eigenvalue density.

    For each of ``num_probes`` Rademacher vectors v, Lanczos on ``H`` started at v gives T = S Λ S^T;
    the nodes are Λ and the weights ``S[0, j]²``, so that ``Σ_j w_j f(λ_j) ≈ v^T f(H) v / v^T v``
    (Gauss quadrature, exact for polynomials of degree < 2m). Averaged over probes,
    ``Σ w f(λ) ≈ tr f(H) / d``: the weights are fractions of the d eigenvalues.

    Returns ``(nodes, weights)`` of shape ``(num_probes, m)`` each (weights of a row sum to 1, rows
    averaged give the density; see :func:`density_on_grid`). [external: Ghorbani et al. 2019,
    ``google/spectral-density``; not in the thesis.]
    """
    rng = np.random.default_rng(seed)
    nodes, weights = [], []
    for _ in range(num_probes):
        start = rng.choice([-1.0, 1.0], size=op.dimension)
        alphas, betas, _ = lanczos(op.hvp, op.dimension, num_steps, start=start)
        values, vectors = np.linalg.eigh(tridiagonal(alphas, betas).numpy())
        pad = num_steps - len(values)
        nodes.append(np.pad(values, (0, pad)))
        weights.append(np.pad(vectors[0] ** 2, (0, pad)))
    return np.array(nodes), np.array(weights)


def density_on_grid(nodes, weights, grid, sigma: float):
    """The SLQ density smoothed by Gaussians of width ``sigma``, evaluated on ``grid`` (integrates to 1)."""
    grid = np.asarray(grid, dtype=np.float64)[:, None]
    kernels = np.exp(-0.5 * ((grid - np.ravel(nodes)[None]) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return kernels @ (np.ravel(weights) / len(nodes))


def fraction_below(nodes, weights, threshold: float) -> float:
    """The SLQ estimate of the fraction of eigenvalues with ``|λ| < threshold``."""
    return float(np.sum(np.asarray(weights)[np.abs(nodes) < threshold]) / len(nodes))


class HessianSpectrum(keras.callbacks.Callback):
    """Records ``LA(k)`` and ``SA(k)`` of the full-data Hessian during training (``003`` Fig. 11.5).

    Every ``every_n_batches`` training batches (and before the first one) it builds a
    :class:`HessianOperator` on the fixed ``(x, y)`` subset and stores
    ``{"step", "loss", "LA", "SA"}`` in :attr:`records`. ``loss_fn`` and ``reduction`` as in
    :class:`HessianOperator`.

    Example::

        spectrum = HessianSpectrum(x_fixed, y_fixed, k_largest=5, k_smallest=3, every_n_batches=100)
        model.fit(x, y, batch_size=32, epochs=2, callbacks=[spectrum])
        spectrum.plot("spectrum.png")
    """

    def __init__(self, x, y, k_largest: int = 5, k_smallest: int = 3, every_n_batches: int = 100,
                 loss_fn=None, reduction: str = "mean", tol: float = 1e-3, seed: int = 0):
        super().__init__()
        self.x, self.y = x, y
        self.k_largest, self.k_smallest = k_largest, k_smallest
        self.every_n_batches = every_n_batches
        self.loss_fn, self.reduction, self.tol, self.seed = loss_fn, reduction, tol, seed
        self.records: list[dict] = []
        self._step = 0
        self._operator = None

    def measure(self) -> dict:
        if self._operator is None:
            self._operator = HessianOperator(self.model, self.x, self.y, self.loss_fn, self.reduction)
        op = self._operator
        record = {"step": self._step, "loss": op.loss()}
        if self.k_largest:
            record["LA"] = extreme_eigenpairs(op, self.k_largest, "LA", self.tol, self.seed).values.tolist()
        if self.k_smallest:
            record["SA"] = extreme_eigenpairs(op, self.k_smallest, "SA", self.tol, self.seed).values.tolist()
        self.records.append(record)
        return record

    def on_train_begin(self, logs=None):
        if not self.records:
            self.measure()

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._step % self.every_n_batches == 0:
            self.measure()

    def plot(self, path):
        """Saves ``log10|λ|`` of LA (blue) and SA (red) against the step, with the loss (dotted)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        steps = [r["step"] for r in self.records]
        fig, ax = plt.subplots(figsize=(6, 4))
        for key, color in (("LA", "tab:blue"), ("SA", "tab:red")):
            if self.records and key in self.records[0]:
                values = np.array([r[key] for r in self.records])
                ax.plot(steps, np.log10(np.abs(values)), color=color, alpha=0.7)
        ax.set_xlabel("training step")
        ax.set_ylabel("log10 |λ|  (LA blue, SA red)")
        right = ax.twinx()
        right.plot(steps, np.log10([r["loss"] for r in self.records]), "k:", label="loss")
        right.set_ylabel("log10 loss")
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        return path
