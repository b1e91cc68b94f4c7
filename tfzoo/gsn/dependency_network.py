"""A neural dependency network run as a GSN (Alain's thesis, Ch. 5, Sec. 5.3.7).

Paper: /work/shared/papers/003_a93095073811cc34.txt, L2040-2054.

A dependency network (Heckerman et al., 2000) estimates conditionals ``P_i(x_i | x_{-i})`` that need not
be the conditionals of any joint (L2040). The thesis views it as a GSN (L2042):

* corruption ``H = f(X, Z) = X_{-s}``, ``s`` a uniformly random subset of the coordinates ("possibly
  constrained to be of size 1");
* reconstruction ``P_theta(X = x | H) = delta_{x_{-s} = X_{-s}} P_{theta, s}(X_s = x_s | x_{-s})``.

Proposition 6 (L2044): if this chain has a stationary distribution, the dependency network defines
that joint; if the conditionals are consistent estimators of the true conditionals, the stationary
distribution is a consistent estimator of the true joint -- so (generalised) pseudo-likelihood
training is consistent as long as the chain is ergodic (L2052). Heckerman's *ordered* pseudo-Gibbs
sampler (``x_1, x_2, ...`` in turn) is not covered: cycling deterministically may be periodic
(L2050); a random scan gives a mixture over resampling orders (L2052).

:class:`DependencyNetworkGSN` implements all conditionals with **one** masked MLP (notes §9.1): the
input is ``(x * (1 - m), m)``, ``m`` the 0/1 mask of ``s``, and the output gives, for every coordinate,
the parameters of a factorised ``P(x_s | x_{-s})`` (Bernoulli logits for binary data; Normal location
and scale for real data); only the coordinates in ``s`` are scored or resampled. Nothing ties the
conditionals of different ``s`` together, so they may be inconsistent, as the thesis allows.

Training (``fit``): for each example a random subset ``s`` of ``subset_size`` coordinates is drawn
(:func:`tfzoo.gsn.corruption.random_subset_mask`) and the loss is ``-log P(x_s | x_{-s})`` summed over
``s``, averaged over the batch: with ``|s| = 1`` an unbiased estimate of ``1/d`` times the negative
pseudo-log-likelihood ``-sum_i log P(x_i | x_{-i})``, "each conditional trained separately" (L2040).

Sampling: ``sample_chain(x0, steps, seed, scan="random")`` is the GSN chain of L2042 (``s`` uniform at
each step, per chain); ``scan="ordered"`` resamples coordinates ``0, 1, ..., d-1, 0, ...`` in turn
(blocks of ``subset_size``), Heckerman's pseudo-Gibbs sampler, for comparison. ``inpaint`` is the clamped
chain (Sec. 5.3.6): observed coordinates are never resampled. All randomness is stateless
(``tf.random.stateless_*`` from an int ``seed``, ``int32[]`` in the SavedModel,
:func:`tfzoo.seeds.stateless_seed`); equal seeds give equal chains.

Exact finite-state counterpart: :func:`tfzoo.gsn.theory.dependency_network_chain`.

Example:
    >>> import numpy as np, tfzoo
    >>> model = tfzoo.create_model("dngsn-toy")
    >>> samples, means = model.sample_chain(np.zeros((2, 4), np.float32), 10, seed=1)
    >>> samples.shape
    TensorShape([10, 2, 4])
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfzoo.base import Arg, Endpoint, ZooModel
from tfzoo.errors import InputError
from tfzoo.gsn.corruption import random_subset_mask
from tfzoo.gsn.models import UnsupervisedLossModel
from tfzoo.seeds import fold_seed, split_seed, stateless_seed

tfd = tfp.distributions

__all__ = ["DependencyNetworkGSN", "SCANS", "binary_states", "toy_binary_joint", "sample_binary_joint",
           "joint_conditionals", "exact_stationary_distribution"]

SCANS = ("random", "ordered")
_MIN_SCALE = 1e-3  # floor of the Normal scale, softplus(a) + 1e-3 [not in paper]


def _check_scan(scan):
    if scan not in SCANS:
        raise ValueError(f"scan must be one of {SCANS}, got {scan!r}")
    return scan


@keras.saving.register_keras_serializable(package="tfzoo")
class DependencyNetworkGSN(UnsupervisedLossModel):
    """A dependency network whose conditionals come from one masked MLP, sampled as a GSN (Sec. 5.3.7).

    The network computes ``a = MLP([x * (1 - m), m])`` (``act`` hidden layers, linear output) and
    ``P(x_s | x_{-s}) = prod_{i in s} Bernoulli(x_i; sigmoid(a_i))`` (or ``Normal(x_i; loc_i, scale_i)``);
    outputs for coordinates outside ``s`` are computed but never used.

    Args:
      input_dim: d, the number of variables.
      hidden_units: widths of the hidden layers (``()``: logistic-regression conditionals).
      activation: "tanh", "relu" or "sigmoid".
      reconstruction: "bernoulli" (binary data, checked) or "normal" (real data).
      subset_size: ``|s|`` for training and for the random-scan chain: an int in ``[1, d]`` or a fraction
        in ``(0, 1)`` of d (rounded, at least 1). 1 gives pseudo-likelihood and single-site updates.
      scan: the default scan of ``sample_chain``/``inpaint``, "random" (the GSN chain) or "ordered".
      seed: initial weights and the training masks.
    """

    def __init__(self, *, input_dim=784, hidden_units=(500, 500), activation="tanh", reconstruction="bernoulli",
                 subset_size=1, scan="random", seed=0, **kwargs):
        super().__init__(**kwargs)
        if reconstruction not in ("bernoulli", "normal"):
            raise ValueError(f"reconstruction must be 'bernoulli' or 'normal', got {reconstruction!r}")
        if activation not in ("tanh", "relu", "sigmoid"):
            raise ValueError(f"activation must be 'tanh', 'relu' or 'sigmoid', got {activation!r}")
        input_dim = int(input_dim)
        if input_dim < 1:
            raise ValueError(f"input_dim must be positive, got {input_dim}")
        self.input_shape_per_example = (input_dim,)
        self.input_values = "binary" if reconstruction == "bernoulli" else "normal"
        self.reconstruction, self.activation = reconstruction, activation
        self.subset_size = self._resolve_subset_size(subset_size, input_dim)
        self.scan = _check_scan(scan)
        self.hidden_units = tuple(int(h) for h in hidden_units)
        if any(h < 1 for h in self.hidden_units):
            raise ValueError(f"hidden_units must be positive, got {hidden_units}")
        init = keras.initializers.GlorotUniform
        sizes = (2 * input_dim, *self.hidden_units)
        self.kernels = [self.add_weight(shape=(sizes[l], sizes[l + 1]), initializer=init(seed + l), name=f"W{l}")
                        for l in range(len(self.hidden_units))]
        self.biases = [self.add_weight(shape=(sizes[l + 1],), initializer="zeros", name=f"b{l}")
                       for l in range(len(self.hidden_units))]
        # one linear head per distribution parameter: logits, or (loc, pre-softplus scale)
        head_names = ("logits",) if reconstruction == "bernoulli" else ("loc", "scale")
        self.head_kernels = [self.add_weight(shape=(sizes[-1], input_dim), initializer=init(seed + 100 + k),
                                             name=f"V_{name}") for k, name in enumerate(head_names)]
        self.head_biases = [self.add_weight(shape=(input_dim,), initializer="zeros", name=f"c_{name}")
                            for name in head_names]
        self._setup_training_state(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @staticmethod
    def _resolve_subset_size(subset_size, dim):
        if isinstance(subset_size, bool) or not isinstance(subset_size, (int, float, np.integer, np.floating)):
            raise ValueError(f"subset_size must be an int in [1, {dim}] or a fraction in (0, 1), got {subset_size!r}")
        if isinstance(subset_size, (float, np.floating)) and not float(subset_size).is_integer():
            if not 0.0 < subset_size < 1.0:
                raise ValueError(f"a fractional subset_size must be in (0, 1), got {subset_size}")
            return max(1, int(round(subset_size * dim)))
        size = int(subset_size)
        if not 1 <= size <= dim:
            raise ValueError(f"subset_size must be in [1, {dim}] (input_dim), got {subset_size}")
        return size


    # -------------------------------------------------------------------------- inputs
    def check_input(self, x, name: str = "x"):
        """Flat ``(batch, d)`` vectors (image batches with ``prod(shape[1:]) = d`` are flattened); for the
        Bernoulli model the values must be 0 or 1 (checked eagerly; an assertion inside traced functions)."""
        shape = getattr(x, "shape", None)
        shape = np.shape(x) if shape is None else shape
        d = self.input_shape_per_example[0]
        if len(shape) > 2 and None not in tuple(shape[1:]) and int(np.prod(shape[1:])) == d:
            x = tf.reshape(x, [-1, d])
        x = super().check_input(x, name)
        return self._check_binary(x, name) if self.reconstruction == "bernoulli" else x

    def _check_binary(self, x, name):
        binary = tf.reduce_all(tf.logical_or(tf.equal(x, 0.0), tf.equal(x, 1.0)))
        message = (f"{type(self).__name__}: input {name!r} must be binary (0/1) for the Bernoulli "
                   f"dependency network")
        if tf.executing_eagerly() and not isinstance(x, tf.Variable) and hasattr(x, "numpy"):
            if not bool(binary):
                values = np.unique(np.asarray(x))
                raise InputError(f"{message}; got values such as {values[~np.isin(values, [0.0, 1.0])][:5]}")
            return x
        with tf.control_dependencies([tf.debugging.Assert(binary, [message])]):
            return tf.identity(x)

    def _check_mask(self, mask, x, name="mask"):
        """A 0/1 mask of the shape of ``x`` (static shapes checked; values checked eagerly or asserted)."""
        mask_shape = getattr(mask, "shape", None)
        mask_shape = tuple(np.shape(mask) if mask_shape is None else mask_shape)
        if len(mask_shape) != 2:
            raise InputError(f"{type(self).__name__}: {name!r} must have shape (batch, "
                             f"{self.input_shape_per_example[0]}) like x, got {mask_shape}")
        mask = ZooModel.check_input(self, mask, name)
        if x.shape[0] is not None and mask.shape[0] is not None and x.shape[0] != mask.shape[0]:
            raise InputError(f"{type(self).__name__}: {name!r} must have the shape of x {tuple(x.shape)}, "
                             f"got {tuple(mask.shape)}")
        return self._check_binary(mask, name)

    # ------------------------------------------------------------------ the conditionals
    def _act(self, a):
        return {"tanh": tf.tanh, "relu": tf.nn.relu, "sigmoid": tf.sigmoid}[self.activation](a)

    def conditional_parameters(self, x, mask):
        """Raw outputs of the masked MLP for ``H = X_{-s}`` (``mask`` = 1 on ``s``): a list with the
        logits (Bernoulli) or the location and the pre-softplus scale (Normal), each (batch, d).
        No input checks (used inside the chain)."""
        h = tf.concat([x * (1.0 - mask), mask], axis=-1)
        for kernel, bias in zip(self.kernels, self.biases):
            h = self._act(tf.matmul(h, kernel) + bias)
        return [tf.matmul(h, kernel) + bias for kernel, bias in zip(self.head_kernels, self.head_biases)]

    def _distribution(self, params):
        """The factorised per-coordinate distribution (batch shape (batch, d), not Independent)."""
        if self.reconstruction == "bernoulli":
            return tfd.Bernoulli(logits=params[0], dtype=params[0].dtype)
        return tfd.Normal(params[0], tf.nn.softplus(params[1]) + _MIN_SCALE)

    def conditional_distribution(self, x, mask):
        """``P_theta(X_i = . | x_{-s})`` for every coordinate i, as a TFP distribution with batch shape
        (batch, d) (only the coordinates with ``mask == 1`` are meaningful: the others are observed)."""
        x = self.check_input(x)
        return self._distribution(self.conditional_parameters(x, self._check_mask(mask, x)))

    def conditional(self, x, mask):
        """The conditional of ``x_s`` given ``x_{-s}`` (``mask == 1`` on ``s``), coordinate-wise: the
        probabilities ``P(x_i = 1 | x_{-s})`` (Bernoulli) or ``(loc, scale)`` (Normal), each (batch, d);
        entries outside ``s`` are computed as if in ``s`` and should be ignored."""
        dist = self.conditional_distribution(x, mask)
        if self.reconstruction == "bernoulli":
            return dist.probs_parameter()
        return dist.loc, dist.scale

    def masked_nll(self, x, mask):
        """``-log P_theta(x_s | x_{-s}) = -sum_{i in s} log P_theta(x_i | x_{-s})`` per example, (batch,)."""
        x = self.check_input(x)
        mask = self._check_mask(mask, x)
        log_prob = self._distribution(self.conditional_parameters(x, mask)).log_prob(x)
        return -tf.reduce_sum(mask * log_prob, axis=-1)

    def all_conditional_parameters(self, x):
        """The parameters of ``P(x_i | x_{-i})`` for every i at once (``s = {i}`` for coordinate i), each
        (batch, d). Exact and cheap: the first layer's pre-activation for ``m = e_i`` is the unmasked one
        plus the rank-one change ``W_m[i] - x_i W_x[i]``, so no (batch * d, 2d) input is formed; the
        deeper layers run on (batch * d) rows and each output head is read on the diagonal only."""
        d = self.input_shape_per_example[0]
        first_kernel = self.kernels[0] if self.kernels else None
        if first_kernel is None:  # no hidden layer: the heads are the first affine layer
            outputs = []
            for kernel, bias in zip(self.head_kernels, self.head_biases):
                diag_x, diag_m = tf.linalg.diag_part(kernel[:d]), tf.linalg.diag_part(kernel[d:])
                outputs.append(tf.matmul(x, kernel[:d]) + bias - x * diag_x + diag_m)
            return outputs
        base = tf.matmul(x, first_kernel[:d]) + self.biases[0]  # (B, n1), mask = 0
        a = base[:, None, :] + first_kernel[d:][None] - x[:, :, None] * first_kernel[:d][None]  # (B, d, n1)
        h = self._act(a)
        for kernel, bias in zip(self.kernels[1:], self.biases[1:]):
            h = self._act(tf.einsum("bin,nk->bik", h, kernel) + bias)
        return [tf.einsum("bin,ni->bi", h, kernel) + bias for kernel, bias in zip(self.head_kernels, self.head_biases)]

    def reconstruct(self, x):
        """``P(x_i = 1 | x_{-i})`` for every coordinate i (Bernoulli), or ``(loc, scale)`` of
        ``P(x_i | x_{-i})`` (Normal), each (batch, d): the single-site conditionals of the dependency
        network, the model's deterministic read-out (``serve``)."""
        dist = self._distribution(self.all_conditional_parameters(self.check_input(x)))
        if self.reconstruction == "bernoulli":
            return dist.probs_parameter()
        return dist.loc, dist.scale

    def call(self, x, training=False):
        return self.reconstruct(x)

    def pseudo_log_likelihood(self, x):
        """``sum_i log P_theta(x_i | x_{-i})`` per example, (batch,) (Besag's pseudo-log-likelihood)."""
        x = self.check_input(x)
        return tf.reduce_sum(self._distribution(self.all_conditional_parameters(x)).log_prob(x), axis=-1)

    # -------------------------------------------------------------------------- training
    def training_mask(self, batch_size, seed):
        """The random subsets of a training batch: ``subset_size`` ones per row, uniformly placed."""
        return random_subset_mask(batch_size, self.input_shape_per_example[0], self.subset_size, seed)

    def pseudo_likelihood_loss(self, x, seed):
        """The training loss for masks drawn with ``seed``: the batch mean of ``-log P(x_s | x_{-s})``."""
        x = self.check_input(x)
        return tf.reduce_mean(self.masked_nll(x, self.training_mask(tf.shape(x)[0], seed)))

    def _batch_loss(self, x):
        return self.pseudo_likelihood_loss(x, stateless_seed(self.seed_generator.next()))

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, data):
        """One step on :meth:`compute_loss` (the masked NLL of fresh random subsets).

        Hand-written because Keras's default step first runs ``self(x)``, here :meth:`reconstruct`:
        all ``d`` single-site conditionals at once, a (batch, d, hidden) computation about ``d`` times
        the cost of the loss, whose output the loss does not use.
        """
        x = self._inputs(data)
        with tf.GradientTape() as tape:
            loss = self.compute_loss(x)
        self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_variables), self.trainable_variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        """The same loss on held-out data, without the unused ``self(x)`` (see :meth:`train_step`)."""
        self.loss_tracker.update_state(self.compute_loss(self._inputs(data), training=False))
        return {"loss": self.loss_tracker.result()}

    # --------------------------------------------------------------------------- chains
    def _scan_mask(self, t, batch_size, seed, scan, free):
        """The subset ``s`` resampled at step ``t`` (batch, d): ``subset_size`` uniformly random free
        coordinates per chain ("random"), or the block ``(t k + j) mod d``, ``j < k`` ("ordered"; clamped
        coordinates in the block are skipped)."""
        d, k = self.input_shape_per_example[0], self.subset_size
        if scan == "random":
            keys = tf.random.stateless_uniform(tf.stack([batch_size, d]), seed) + free  # free ones rank first
            _, chosen = tf.math.top_k(keys, k=k)
            mask = tf.reduce_sum(tf.one_hot(chosen, d, dtype=free.dtype), axis=1)
        else:
            block = tf.math.floormod(t * k + tf.range(k), d)
            mask = tf.reduce_sum(tf.one_hot(block, d, dtype=free.dtype), axis=0)[None, :]
        return mask * free

    def _draw(self, params, seed):
        if self.reconstruction == "bernoulli":
            probs = tf.sigmoid(params[0])
            return tf.cast(tf.random.stateless_uniform(tf.shape(probs), seed) < probs, probs.dtype), probs
        loc, scale = params[0], tf.nn.softplus(params[1]) + _MIN_SCALE
        return loc + scale * tf.random.stateless_normal(tf.shape(loc), seed, dtype=loc.dtype), loc

    def _chain(self, x0, steps, seed, scan, free, thin=1):
        """Runs ``steps // thin * thin`` steps from ``x0``; every ``thin``-th state and its mean field."""
        scan = _check_scan(self.scan if scan is None else scan)
        thin = int(thin)
        if thin < 1:
            raise ValueError(f"thin must be a positive int, got {thin}")
        n_out = tf.convert_to_tensor(steps, tf.int32) // thin
        batch = tf.shape(x0)[0]
        seed = stateless_seed(seed)

        def step(t, x, mean):
            seeds = split_seed(fold_seed(seed, t), 2)
            s = self._scan_mask(t, batch, seeds[0], scan, free)
            draw, expected = self._draw(self.conditional_parameters(x, s), seeds[1])
            # P(X | H) = delta_{x_{-s} = X_{-s}} P(X_s | x_{-s})  (L2042)
            return t + 1, s * draw + (1.0 - s) * x, s * expected + (1.0 - s) * x

        def outer(j, t, x, mean, samples, means):
            stop = t + thin
            t, x, mean = tf.while_loop(lambda u, *_: u < stop, step, (t, x, mean))
            return j + 1, t, x, mean, samples.write(j, x), means.write(j, mean)

        arrays = [tf.TensorArray(x0.dtype, size=n_out, element_shape=x0.shape) for _ in range(2)]
        loop = tf.while_loop(lambda j, *_: j < n_out, outer, (0, 0, x0, x0, *arrays))
        return loop[4].stack(), loop[5].stack()

    def sample_chain(self, x0, steps, seed, scan=None, thin=1):
        """``steps`` consecutive states of the dependency-network chain from ``x0`` (one chain per row).

        ``scan="random"`` (default: the model's ``scan``): at each step a uniformly random subset ``s`` of
        ``subset_size`` coordinates is resampled from ``P_theta(X_s | x_{-s})`` -- the GSN chain of
        L2040-2044, whose stationary distribution is the joint of Prop. 6. ``scan="ordered"``: coordinate
        blocks in the order ``0, 1, ..., d-1, 0, ...`` (Heckerman's pseudo-Gibbs; a full sweep is d steps
        for ``subset_size = 1``). ``seed`` is an int; equal seeds give equal chains.
        ``thin`` (Python int) keeps every ``thin``-th state. Returns ``(samples, mean_field)``, each
        (steps // thin, batch, d); the mean field replaces the resampled coordinates by their conditional
        mean.
        """
        x0 = self.check_input(x0, "x0")
        return self._chain(x0, steps, seed, scan, tf.ones_like(x0), thin)

    def inpaint(self, x, mask, steps, seed, scan=None, thin=1):
        """The clamped chain (Sec. 5.3.6): coordinates with ``mask == 1`` stay at ``x`` and are never
        resampled; the others start from Bernoulli(1/2) (or N(0, 1)) values and are resampled by the
        chain of :meth:`sample_chain`, the random scan choosing ``s`` among the free coordinates only.
        Returns ``(samples, mean_field)``, each (steps // thin, batch, d)."""
        x = self.check_input(x)
        self.check_count(steps, "steps")
        mask = self._check_mask(mask, x)
        init_seed, chain_seed = tf.unstack(split_seed(seed, 2))
        if self.reconstruction == "bernoulli":
            noise = tf.cast(tf.random.stateless_uniform(tf.shape(x), init_seed) < 0.5, x.dtype)
        else:
            noise = tf.random.stateless_normal(tf.shape(x), init_seed, dtype=x.dtype)
        x_init = mask * x + (1.0 - mask) * noise
        return self._chain(x_init, steps, chain_seed, scan, 1.0 - mask, thin)

    # ---------------------------------------------------------------------------- export
    def endpoints(self) -> dict:
        """``serve``/``reconstruct`` (the single-site conditionals), ``pseudo_log_likelihood``,
        ``conditional(x, mask)``, ``sample_chain(x, steps, seed)`` and ``inpaint(x, mask, steps, seed)``
        (the model's default ``scan``; ``seed: int32[]``)."""
        x, mask, steps, seed = self.data_arg(), Arg.mask(self), Arg.steps(), Arg.seed()

        def sample_chain(x0, steps, seed):
            return self.sample_chain(x0, steps, seed)

        def inpaint(x, mask, steps, seed):
            return self.inpaint(x, mask, steps, seed)

        return {
            "serve": Endpoint(self.reconstruct, x),
            "reconstruct": Endpoint(self.reconstruct, x),
            "pseudo_log_likelihood": Endpoint(self.pseudo_log_likelihood, x),
            "conditional": Endpoint(self.conditional, x, mask),
            "sample_chain": Endpoint(sample_chain, x, steps, seed),
            "inpaint": Endpoint(inpaint, x, mask, steps, seed),
        }


# ------------------------------------------------------------------ small binary toy joints (NumPy)
def binary_states(dim: int) -> np.ndarray:
    """All ``2^dim`` binary states, (2^dim, dim) float32, in C order (state index ``sum_i x_i 2^(dim-1-i)``),
    the order of :func:`tfzoo.gsn.theory.dependency_network_chain`."""
    return np.array(list(np.ndindex(*(2,) * dim)), np.float32)


def toy_binary_joint(dim: int = 4, seed: int = 0, coupling: float = 1.0, field: float = 0.5) -> np.ndarray:
    """A full-support joint over ``{0, 1}^dim`` (flat, C order): a fully connected Ising model
    ``p(x) ∝ exp(sum_{i<j} J_ij s_i s_j + sum_i h_i s_i)``, ``s = 2x - 1``, with ``J ~ N(0, coupling^2)``
    and ``h ~ N(0, field^2)`` drawn from ``seed`` [not in paper: a test joint for Prop. 6]."""
    rng = np.random.default_rng(seed)
    j = np.triu(rng.normal(0.0, coupling, (dim, dim)), 1)
    h = rng.normal(0.0, field, dim)
    s = 2.0 * binary_states(dim).astype(np.float64) - 1.0
    energy = np.einsum("ni,ij,nj->n", s, j, s) + s @ h
    p = np.exp(energy - energy.max())
    return p / p.sum()


def sample_binary_joint(p, n: int, seed: int = 0) -> np.ndarray:
    """``n`` i.i.d. states (n, dim) float32 from the flat joint ``p`` over ``{0, 1}^dim``."""
    p = np.asarray(p, np.float64)
    dim = int(round(np.log2(p.size)))
    if 2**dim != p.size:
        raise ValueError(f"p must have 2^dim entries, got {p.size}")
    index = np.random.default_rng(seed).choice(p.size, size=n, p=p / p.sum())
    return binary_states(dim)[index]


def joint_conditionals(p) -> list:
    """The exact conditionals of a flat joint ``p`` over ``{0, 1}^dim`` in the format of
    :func:`tfzoo.gsn.theory.dependency_network_chain`: ``[i][x..., v] = p(x_i = v | x_{-i})``."""
    p = np.asarray(p, np.float64)
    dim = int(round(np.log2(p.size)))
    table = p.reshape((2,) * dim)
    out = []
    for i in range(dim):
        marginal = table.sum(axis=i, keepdims=True)
        cond = np.stack([np.take(table, [v], axis=i) / marginal for v in (0, 1)], axis=-1)
        out.append(np.broadcast_to(cond, (2,) * dim + (2,)).copy())
    return out


def exact_stationary_distribution(model: DependencyNetworkGSN, scan: str = "random") -> tuple:
    """For a Bernoulli model with ``subset_size = 1`` on a few binary variables: its conditionals
    ``P(x_i = 1 | x_{-i})`` at every state (``(2^d, d)``, the order of :func:`binary_states`) and the exact
    stationary distribution of its ``scan`` chain (Prop. 6, L2044), through
    :func:`tfzoo.gsn.theory.dependency_network_chain`."""
    from tfzoo.gsn import theory

    if model.reconstruction != "bernoulli" or model.subset_size != 1:
        raise ValueError("exact_stationary_distribution needs reconstruction='bernoulli' and subset_size=1, got "
                         f"{model.reconstruction!r} and {model.subset_size}")
    d = model.input_shape_per_example[0]
    learned = model.reconstruct(binary_states(d)).numpy().astype(np.float64)
    conditionals = [np.stack([1 - learned[:, i], learned[:, i]], -1).reshape((2,) * d + (2,)) for i in range(d)]
    chain = theory.dependency_network_chain(conditionals, (2,) * d, _check_scan(scan))
    return learned, theory.stationary_distribution(chain)
