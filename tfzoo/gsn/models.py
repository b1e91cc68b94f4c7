"""Score-estimating auto-encoders (thesis Ch. 3) and Generative Stochastic Networks (Ch. 5).

Paper: /work/shared/papers/003_a93095073811cc34.txt.

* :class:`ScoreAutoencoder` -- ``r(x) = g(f(x))`` with ``f(x) = act(W^T x + b)`` and a linear (or
  sigmoid) decoder ``g(h) = c + V^T h`` (``V = W`` with ``tied_weights``), trained by one of
    - ``"dae"``  (3.2), L799: ``E ||r(x + eps) - x||^2``, ``eps ~ N(0, sigma^2 I)``;
    - ``"rcae"`` (3.6), L853: ``E ||r(x) - x||^2 + sigma^2 ||dr/dx||_F^2``;
    - ``"cae"``  (3.1), L793: ``E ||r(x) - x||^2 + sigma^2 ||df/dx||_F^2`` (lambda = sigma^2).
  Read-outs: ``score(x) = (r(x) - x) / sigma^2`` (3.5)/(3.10), ``hessian_log_prob(x) = (dr/dx - I) / sigma^2``
  (Sec. 3.3.8, from (3.9)), Metropolis-Hastings with energy differences (3.14) (:mod:`tfzoo.gsn.mcmc`),
  and ``fit_lbfgs`` -- full-batch L-BFGS on a fixed corrupted training set as in Sec. 3.3.4 (L960).
  ``init="data_scaled"`` / ``initialize_from_data`` [not in paper] start the tanh units with their
  transitions inside the data, which the spiral (|x| <= 0.5) needs to leave the near-affine regime.
* :class:`GenerativeDAE` -- Sec. 5.3.1-5.3.3: ``P_theta(X | X~)`` is a TFP distribution (factorised
  Bernoulli or Normal) of a one-hidden-layer network of the corrupted input; trained on the walkback
  chain ``X~_j = C(X_j)``, ``X_{j+1} ~ P_theta(X | X~_j)`` with every pair ``(X_0, X~_j)`` scored against
  the clean ``X_0`` (L1665-1671); learned scaling factors ``alpha_k`` (Bernoulli logits x alpha_k,
  Normal variance x alpha_k; L1715-1719).
* :class:`GSN` -- the deep GSN of Sec. 5.5.2 (L2110-2128, Fig. 5.5): layers ``x = h^0, h^1..h^D``;
  odd layers then even layers are updated at each step, ``a^l = b_l + W_l^T h^{l-1} + W_{l+1} h^{l+1}``
  (downward weights tied to the transposes of the upward ones), hidden units
  ``h = eta_out + tanh(eta_in + a)`` with Gaussian pre- and post-activation noise (none on the first
  hidden layer), ``H_0 = 0`` (L1841), salt-and-pepper corruption of every ``x_t`` entering the graph,
  and the NLL of ``x_0`` summed over the ``2D`` reconstructions.

The walkback schedule (mode, fixed length, continuation probability) lives in non-trainable
variables read inside ``train_step``; :class:`tfzoo.gsn.callbacks.Walkback` changes it between
epochs without retracing.

Example:
    >>> import tfzoo
    >>> from tfzoo import testing
    >>> model = tfzoo.create_model("dae-spiral", hidden_units=32)
    >>> model.score(testing.example_batch(model, 4)).shape
    TensorShape([4, 2])
    >>> samples, acceptance = model.mh_sample(testing.example_batch(model, 4), 10, seed=1)

Every sampling method and endpoint takes ``seed``, an int (``int32[]`` in the SavedModel): equal seeds
give equal draws (:func:`tfzoo.seeds.stateless_seed`; a shape-[2] seed is also accepted inside the
library).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfzoo.base import Arg, Endpoint, ZooModel
from tfzoo.gsn.callbacks import WALKBACK_MODES
from tfzoo.gsn.corruption import gaussian_corruption, salt_and_pepper
from tfzoo.gsn.mcmc import ScoreMetropolisHastings
from tfzoo.seeds import fold_seed, split_seed, stateless_seed

tfd = tfp.distributions


def _check_positive(name, value):
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")


class UnsupervisedLossModel(ZooModel):
    """A model that ``fit`` trains by minimising ``self._batch_loss(x)`` (labels, if any, ignored), a
    criterion with its own training noise: :meth:`compute_loss` returns it, so Keras's default
    train/test steps handle gradients, the ``loss`` metric and distribution. It owns the seed generator
    of that noise; subclasses call :meth:`_setup_training_state` in ``__init__``."""

    def _setup_training_state(self, seed: int):
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _batch_loss(self, x):
        raise NotImplementedError

    @staticmethod
    def _inputs(data):
        """The inputs of a batch ``fit`` passes (labels and sample weights dropped)."""
        return keras.utils.unpack_x_y_sample_weight(data)[0]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The training criterion on the batch ``x`` with fresh noise (``y``, ``y_pred`` and
        ``sample_weight`` are not used)."""
        del y, y_pred, sample_weight, training
        return self._batch_loss(x)

    def compile_from_recipe(self, recipe=None, **kwargs):
        kwargs.setdefault("jit_compile", False)
        super().compile_from_recipe(recipe, **kwargs)


# ====================================================================== Paper 1: score auto-encoders
@keras.saving.register_keras_serializable(package="tfzoo")
class ScoreAutoencoder(UnsupervisedLossModel):
    """A one-hidden-layer auto-encoder whose ``(r(x) - x) / sigma^2`` estimates the score (Ch. 3).

    Args:
      input_dim: d.
      hidden_units: encoder width (Sec. 3.3.4 uses 1000 tanh units, L953).
      activation: encoder nonlinearity, "tanh", "sigmoid" or "linear" (then r is affine).
      output_activation: "linear" (Sec. 3.3.4) or "sigmoid" (the CAE of L795).
      tied_weights: decoder ``V = W`` (conservative field, Sec. 3.3.6) instead of a free ``V``.
      criterion: "dae", "rcae" or "cae" (see the module docstring).
      sigma: DAE noise std; for "rcae"/"cae" the penalty coefficient is ``sigma^2`` (Prop. 1, L849).
      mh_proposal_scale, mh_points: sigma_MH and n of (3.14) used by ``mh_sample``.
      seed: seed of the training noise and of the initial weights.
      dtype: Keras dtype policy; ``"float64"`` makes weights, inputs and the criterion float64. From the
        Glorot start, full-batch L-BFGS on the spiral needs it (in float32 the objective stops changing
        near the identity's loss d sigma^2 = 2e-4 after a few iterations); from ``init="data_scaled"``
        float32 also goes on (300 iterations: loss 1.018e-4, float64 1.013e-4; sigma^2 = 1e-4).
      init: initial weights. ``"glorot"``: Glorot-uniform ``W`` and ``V``, zero biases (Keras's default).
        ``"data_scaled"`` [not in paper; the thesis gives no initialisation]: a random-features-style
        start scaled to the data, ``W_ij ~ N(0, init_gain^2 / (d init_scale_i^2))`` and
        ``b_j = -w_j . c_j`` with a centre ``c_j ~ N(init_center, diag(init_scale^2))`` per unit, so each
        unit's tanh transition passes through the data region and its pre-activation ``w_j . (x - c_j)``
        has standard deviation about ``init_gain`` over data of mean ``init_center`` and per-coordinate
        standard deviation ``init_scale``; the decoder starts at ``V = 0`` (and ``c = init_center``), i.e.
        ``r(x) = init_center`` (with ``tied_weights`` the decoder is ``W^T``, not zero). With Glorot weights on the spiral (|x| <= 0.5) every pre-activation is
        about 0.04: all units are in their linear regime, the network is nearly affine, and full-batch
        L-BFGS stays at the identity map's loss d sigma^2; from the data-scaled start it reaches the
        denoising optimum (about sigma^2) -- see benchmarks/gsn.py R2.
      init_center, init_scale: the data's mean and per-coordinate standard deviation used by
        ``init="data_scaled"`` (a number or ``input_dim`` numbers; defaults 0 and 1);
        :meth:`initialize_from_data` redraws the weights from a training set's statistics instead.
      init_gain: the pre-activation standard deviation of ``init="data_scaled"`` (default 2).
    """

    def __init__(self, *, input_dim=2, hidden_units=1000, activation="tanh", output_activation="linear",
                 tied_weights=False, criterion="dae", sigma=0.01, mh_proposal_scale=0.1, mh_points=10,
                 seed=0, dtype="float32", init="glorot", init_center=None, init_scale=None, init_gain=2.0,
                 **kwargs):
        super().__init__(dtype=dtype, **kwargs)
        if criterion not in ("dae", "rcae", "cae"):
            raise ValueError(f"criterion must be 'dae', 'rcae' or 'cae', got {criterion!r}")
        if activation not in ("tanh", "sigmoid", "linear") or output_activation not in ("linear", "sigmoid"):
            raise ValueError("activation must be 'tanh', 'sigmoid' or 'linear' (an affine r) and "
                             "output_activation 'linear' or 'sigmoid'")
        _check_positive("sigma", sigma)
        if init not in ("glorot", "data_scaled"):
            raise ValueError(f"init must be 'glorot' or 'data_scaled', got {init!r}")
        _check_positive("init_gain", init_gain)
        self.input_shape_per_example = (int(input_dim),)
        self.input_dtype = self.compute_dtype
        self.criterion, self.sigma = criterion, float(sigma)
        self.activation, self.output_activation = activation, output_activation
        self.mh_proposal_scale, self.mh_points = float(mh_proposal_scale), int(mh_points)
        glorot = keras.initializers.GlorotUniform(seed=seed)
        self.encoder_kernel = self.add_weight(shape=(input_dim, hidden_units), initializer=glorot, name="W")
        self.encoder_bias = self.add_weight(shape=(hidden_units,), initializer="zeros", name="b")
        self.decoder_kernel = None if tied_weights else self.add_weight(
            shape=(hidden_units, input_dim), initializer=keras.initializers.GlorotUniform(seed=seed + 1), name="V")
        self.decoder_bias = self.add_weight(shape=(input_dim,), initializer="zeros", name="c")
        self._setup_training_state(seed)
        self.init_seed, self.init_gain = int(seed), float(init_gain)
        if init == "data_scaled":
            self._data_scaled_init(0.0 if init_center is None else init_center,
                                   1.0 if init_scale is None else init_scale, init_gain, self.init_seed)

    def _data_scaled_init(self, center, scale, gain, seed):
        """Assigns the ``init="data_scaled"`` weights (see the class docstring) [not in paper]."""
        d, units = self.encoder_kernel.shape
        center = np.broadcast_to(np.asarray(center, np.float64), (d,))
        scale = np.broadcast_to(np.asarray(scale, np.float64), (d,))
        if not np.all(scale > 0):
            raise ValueError(f"init_scale must be positive, got {scale}")
        rng = np.random.default_rng([int(seed), 0x5CA1ED])
        kernel = rng.standard_normal((d, units)) * gain / (np.sqrt(d) * scale[:, None])
        centres = center + scale * rng.standard_normal((units, d))
        self.encoder_kernel.assign(kernel.astype(self.encoder_kernel.dtype))
        self.encoder_bias.assign((-np.sum(centres * kernel.T, 1)).astype(self.encoder_bias.dtype))
        if self.decoder_kernel is not None:
            self.decoder_kernel.assign(np.zeros(self.decoder_kernel.shape, self.decoder_kernel.dtype))
        self.decoder_bias.assign(center.astype(self.decoder_bias.dtype))

    def initialize_from_data(self, x, gain=None, seed=None) -> dict:
        """Redraws every weight by the ``init="data_scaled"`` rule with ``x``'s mean and per-coordinate
        standard deviation as ``init_center`` / ``init_scale`` [not in paper]; whatever ``init`` was.

        Call it before training (``fit`` and ``fit_lbfgs`` never re-initialise on their own, so a resumed
        or loaded model keeps its weights). ``gain`` defaults to the constructor's ``init_gain``, ``seed``
        to its ``seed``. Returns ``{"center": ..., "scale": ...}`` (lists), the values to pass as
        ``init_center`` / ``init_scale`` to build the same start without the data.
        """
        x = np.asarray(self.check_input(x), np.float64)
        center, scale = x.mean(0), np.maximum(x.std(0), 1e-12)
        gain = self.init_gain if gain is None else gain
        _check_positive("gain", gain)
        self._data_scaled_init(center, scale, gain, self.init_seed if seed is None else seed)
        return {"center": center.tolist(), "scale": scale.tolist()}

    # ----------------------------------------------------------------------- the function r
    def _act(self, a):
        return {"tanh": tf.tanh, "sigmoid": tf.sigmoid, "linear": tf.identity}[self.activation](a)

    def encode(self, x):
        return self._act(tf.matmul(x, self.encoder_kernel) + self.encoder_bias)

    def decode(self, h):
        kernel = tf.transpose(self.encoder_kernel) if self.decoder_kernel is None else self.decoder_kernel
        out = tf.matmul(h, kernel) + self.decoder_bias
        return out if self.output_activation == "linear" else tf.sigmoid(out)

    def reconstruct(self, x):
        """``r(x) = g(f(x))``."""
        return self.decode(self.encode(self.check_input(x)))

    def call(self, x, training=False):
        return self.reconstruct(x)

    def score(self, x):
        """``(r(x) - x) / sigma^2``, the estimate of ``d log p / dx`` (3.5), L831."""
        x = self.check_input(x)
        return (self.reconstruct(x) - x) / self.sigma**2

    def reconstruction_jacobian(self, x):
        """``dr/dx`` per example, (batch, d, d) with ``[n, i, j] = d r_i / d x_j``."""
        x = self.check_input(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            r = self.reconstruct(x)
        return tape.batch_jacobian(r, x)

    def hessian_log_prob(self, x):
        """``(dr/dx - I) / sigma^2``, the estimate of ``d^2 log p / dx^2`` (Sec. 3.3.8, L1028-1040)."""
        jac = self.reconstruction_jacobian(x)
        return (jac - tf.eye(self.input_shape_per_example[0], dtype=jac.dtype)) / self.sigma**2

    def corrupt(self, x, seed):
        """The training corruption ``x + N(0, sigma^2 I)`` (stateless in the int ``seed``)."""
        return gaussian_corruption(self.check_input(x), self.sigma, seed)

    # ----------------------------------------------------------------------------- losses
    def criterion_loss(self, x, noise):
        """Mean over the batch of the criterion; ``noise`` is the standard-normal ``eps/sigma`` ("dae" only)."""
        if self.criterion == "dae":
            return tf.reduce_mean(tf.reduce_sum(tf.square(self.reconstruct(x + self.sigma * noise) - x), -1))
        error = tf.reduce_sum(tf.square(self.reconstruct(x) - x), -1)
        if self.criterion == "rcae":
            penalty = tf.reduce_sum(tf.square(self.reconstruction_jacobian(x)), axis=[1, 2])
        else:  # ||df/dx||_F^2 = sum_j act'(a_j)^2 ||W_{:, j}||^2 for an elementwise encoder (Rifai et al.)
            h = self.encode(x)
            slope = {"tanh": lambda: 1.0 - tf.square(h), "sigmoid": lambda: h * (1.0 - h),
                     "linear": lambda: tf.ones_like(h)}[self.activation]()
            penalty = tf.reduce_sum(tf.square(slope) * tf.reduce_sum(tf.square(self.encoder_kernel), 0), -1)
        return tf.reduce_mean(error + self.sigma**2 * penalty)

    def _batch_loss(self, x):
        """The criterion on a batch with fresh corruption noise."""
        x = self.check_input(x)
        return self.criterion_loss(x, keras.random.normal(tf.shape(x), dtype=x.dtype, seed=self.seed_generator))

    def fit_lbfgs(self, x, num_iterations: int = 1000, seed: int = 0, tolerance: float = 0.0) -> dict:
        """Full-batch L-BFGS on a fixed corrupted set (Sec. 3.3.4, L960: "full-batch BFGS ... 1000 iterations").

        The noise ``eps`` is drawn once (seed ``seed``) and kept, so the objective is deterministic.
        ``tolerance`` is the gradient-norm stopping threshold (default 0: stop only at ``num_iterations``,
        or earlier when the objective stops changing or the line search fails);
        returns ``{"loss": final loss, "iterations": ..., "converged": ...}``.
        The start matters: from the default Glorot weights the 1000-unit spiral DAE stays at the identity
        map's loss d sigma^2 = 2e-4 (in float32 the objective then stops changing after a few iterations;
        in float64 it runs on without leaving it). Start it from ``init="data_scaled"`` or
        :meth:`initialize_from_data` [not in paper]: 300 iterations then reach 1.01e-4 (about sigma^2,
        the optimum) in float64 or float32 (benchmarks/gsn.py R2).
        """
        x = self.check_input(x)
        noise = tf.random.stateless_normal(tf.shape(x), stateless_seed(seed), dtype=x.dtype)
        variables = self.trainable_variables
        shapes = [v.shape for v in variables]
        sizes = [int(np.prod(s)) for s in shapes]

        def assign(flat):
            for v, part, shape in zip(variables, tf.split(flat, sizes), shapes):
                v.assign(tf.reshape(part, shape))

        @tf.function
        def value_and_gradient(flat):
            assign(flat)
            with tf.GradientTape() as tape:
                loss = self.criterion_loss(x, noise)
            grads = tape.gradient(loss, variables)
            return loss, tf.concat([tf.reshape(g, [-1]) for g in grads], 0)

        start = tf.concat([tf.reshape(v, [-1]) for v in variables], 0)
        result = tfp.optimizer.lbfgs_minimize(value_and_gradient, start, max_iterations=num_iterations,
                                              tolerance=tolerance)
        assign(result.position)
        return {"loss": float(result.objective_value), "iterations": int(result.num_iterations),
                "converged": bool(result.converged)}

    # ------------------------------------------------------------------------ sampling
    def mh_sample(self, x0, steps, seed):
        """Score-based Metropolis-Hastings (Sec. 3.4.2) from ``x0`` (independent chains = rows), seeded by
        the int ``seed``.

        Returns ``(samples (steps, batch, d), acceptance_rate (batch,))``.
        """
        x0 = self.check_input(x0)
        kernel = ScoreMetropolisHastings(self.score, self.mh_proposal_scale, self.mh_points)
        steps = tf.convert_to_tensor(steps, tf.int32)

        def body(t, x, accepted, samples):
            x, results = kernel.one_step(x, None, seed=fold_seed(seed, t))
            return t + 1, x, accepted + tf.cast(results.is_accepted, x.dtype), samples.write(t, x)

        samples = tf.TensorArray(x0.dtype, size=steps, element_shape=x0.shape)
        _, _, accepted, samples = tf.while_loop(lambda t, *_: t < steps, body,
                                                (0, x0, tf.zeros(tf.shape(x0)[:1], x0.dtype), samples))
        return samples.stack(), accepted / tf.maximum(tf.cast(steps, x0.dtype), 1.0)

    # -------------------------------------------------------------------------- export
    def endpoints(self) -> dict:
        """``serve``/``reconstruct`` (r(x)), ``score``, ``hessian_log_prob``, ``corrupt(x, seed)`` and
        ``mh_sample(x, steps, seed)`` (``seed: int32[]``)."""
        x, seed = self.data_arg(), Arg.seed()
        return {
            "serve": Endpoint(self.reconstruct, x),
            "reconstruct": Endpoint(self.reconstruct, x),
            "score": Endpoint(self.score, x),
            "hessian_log_prob": Endpoint(self.hessian_log_prob, x),
            "corrupt": Endpoint(self.corrupt, x, seed),
            "mh_sample": Endpoint(self.mh_sample, x, Arg.steps(), seed),
        }


# ============================================================== Paper 2: walkback-trained chains
class _WalkbackChain(ZooModel):
    """Shared machinery of :class:`GenerativeDAE` and :class:`GSN`: the walkback schedule variables,
    the walkback training step, the learned scaling factors and the sampling/inpainting chains.

    Subclasses define ``initial_hidden(x)``, ``transition(x_prev, hidden, seed, step, stochastic)``
    returning ``(hidden, pre-activation output a)``, and ``reconstruction_distribution(a, step)``.
    """

    reconstruction = "bernoulli"

    def _setup_walkback(self, walkback, walkback_steps, max_walkback_steps, p_continue, learn_scaling, seed,
                        backprop_through_chain):
        if walkback not in WALKBACK_MODES:
            raise ValueError(f"walkback must be one of {WALKBACK_MODES}, got {walkback!r}")
        if not 1 <= walkback_steps <= max_walkback_steps:
            raise ValueError(f"need 1 <= walkback_steps <= max_walkback_steps, got {walkback_steps}, {max_walkback_steps}")
        if not 0.0 <= p_continue < 1.0:
            raise ValueError(f"p_continue must be in [0, 1), got {p_continue}")
        self.max_walkback_steps = int(max_walkback_steps)
        self.learn_scaling = bool(learn_scaling)
        self.backprop_through_chain = bool(backprop_through_chain)
        self.walkback_mode = self.add_weight(shape=(), dtype="int32", trainable=False, name="walkback_mode",
                                             initializer=keras.initializers.Constant(WALKBACK_MODES.index(walkback)))
        self.walkback_fixed_steps = self.add_weight(shape=(), dtype="int32", trainable=False,
                                                    name="walkback_fixed_steps",
                                                    initializer=keras.initializers.Constant(walkback_steps))
        self.walkback_p_continue = self.add_weight(shape=(), trainable=False, name="walkback_p_continue",
                                                   initializer=keras.initializers.Constant(p_continue))
        self.walkback_length_counts = self.add_weight(shape=(max_walkback_steps,), dtype="int32", trainable=False,
                                                      name="walkback_length_counts", initializer="zeros")
        # alpha_k = exp(log_alpha[k - 1]); 1 when not learned (L1715-1719; positivity by exp [not in paper]).
        self.log_alpha = self.add_weight(shape=(max_walkback_steps,), initializer="zeros", name="log_alpha") \
            if learn_scaling else None
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.length_tracker = keras.metrics.Mean(name="walkback_length")

    @property
    def metrics(self):
        return [self.loss_tracker, self.length_tracker]

    def check_input(self, x, name: str = "x"):
        """Flat ``(batch, d)`` vectors; image batches ``(batch, *shape)`` with ``prod(shape) = d`` (as the
        MNIST tasks give, (batch, 28, 28, 1)) are flattened first."""
        shape = getattr(x, "shape", None) or np.shape(x)
        if len(shape) > 2 and None not in shape[1:] and int(np.prod(shape[1:])) == self.input_shape_per_example[0]:
            x = tf.reshape(x, [-1, self.input_shape_per_example[0]])
        return super().check_input(x, name)

    def alpha(self, step):
        """The scaling factor ``alpha_k`` of walkback step ``k = step + 1`` (1 without learned scaling)."""
        if self.log_alpha is None:
            return tf.constant(1.0)
        return tf.exp(tf.gather(self.log_alpha, tf.minimum(step, self.max_walkback_steps - 1)))

    def set_walkback(self, mode: str, steps: int | None = None, p_continue: float | None = None):
        """Changes the schedule through the variables (no retracing of the training step)."""
        if mode not in WALKBACK_MODES:
            raise ValueError(f"mode must be one of {WALKBACK_MODES}, got {mode!r}")
        self.walkback_mode.assign(WALKBACK_MODES.index(mode))
        if steps is not None:
            if not 1 <= steps <= self.max_walkback_steps:
                raise ValueError(f"steps must be in [1, {self.max_walkback_steps}] (the unrolled length), got {steps}")
            self.walkback_fixed_steps.assign(steps)
        if p_continue is not None:
            if not 0.0 <= p_continue < 1.0:
                raise ValueError(f"p_continue must be in [0, 1), got {p_continue}")
            self.walkback_p_continue.assign(p_continue)

    def walkback_lengths(self, batch_size, seed):
        """Per-example walkback lengths k under the current schedule: 1 ("none"), ``walkback_fixed_steps``
        ("fixed"), or ``1 + Geometric`` with continuation probability p (L1651: P(k) = p^{k-1}(1 - p)),
        truncated at ``max_walkback_steps`` (the unrolled length)."""
        failures = tfd.Geometric(probs=1.0 - self.walkback_p_continue).sample(batch_size, seed=stateless_seed(seed))
        geometric = 1 + tf.cast(failures, tf.int32)
        fixed = tf.fill([batch_size], self.walkback_fixed_steps)
        k = tf.where(tf.equal(self.walkback_mode, 1), geometric,
                     tf.where(tf.equal(self.walkback_mode, 2), fixed, tf.ones([batch_size], tf.int32)))
        return tf.minimum(k, self.max_walkback_steps)

    def _sample_visible(self, dist, seed):
        sample = dist.sample(seed=stateless_seed(seed))
        if self.reconstruction == "normal" and self.backprop_through_chain:
            return sample  # reparameterised: gradients flow through the chain (L1659-1663)
        return tf.stop_gradient(sample)

    def walkback_losses(self, x0, seed):
        """``-log P_theta(x0 | chain step j)`` for j = 0 .. max_walkback_steps-1, (steps, batch): every
        reconstruction along the chain scored against the clean ``x0`` (L1665-1671)."""
        hidden = self.initial_hidden(x0)
        x, losses = x0, []
        for step in range(self.max_walkback_steps):
            step_seeds = split_seed(fold_seed(seed, step), 2)
            hidden, a = self.transition(x, hidden, step_seeds[0], step, stochastic=True)
            dist = self.reconstruction_distribution(a, step)
            losses.append(-dist.log_prob(x0))
            x = self._sample_visible(dist, step_seeds[1])
        return tf.stack(losses)

    def _batch_loss(self, data):
        """The walkback loss of a batch under the current schedule, and the realised lengths."""
        x0 = self.check_input(keras.utils.unpack_x_y_sample_weight(data)[0])
        seeds = split_seed(self.seed_generator.next(), 2)
        lengths = self.walkback_lengths(tf.shape(x0)[0], seeds[0])
        mask = tf.cast(tf.range(self.max_walkback_steps)[:, None] < lengths[None, :], x0.dtype)
        return tf.reduce_mean(tf.reduce_sum(mask * self.walkback_losses(x0, seeds[1]), axis=0)), lengths

    def _track(self, loss, lengths):
        self.loss_tracker.update_state(loss)
        self.length_tracker.update_state(tf.cast(lengths, tf.float32))
        return {"loss": self.loss_tracker.result(), "walkback_length": self.length_tracker.result()}

    def train_step(self, data):
        """One step on the walkback loss; counts the realised chain lengths.

        Hand-written because each step must add its per-example walkback lengths ``k`` to
        ``walkback_length_counts`` (read by :class:`tfzoo.gsn.callbacks.Walkback`) and log their mean
        (``walkback_length``): the lengths are drawn with the loss and are not a Keras loss or
        metric input; the default step would also run an unused reconstruction ``self(x)``.
        """
        with tf.GradientTape() as tape:
            loss, lengths = self._batch_loss(data)
        self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_variables), self.trainable_variables))
        self.walkback_length_counts.assign_add(
            tf.math.bincount(lengths - 1, minlength=self.max_walkback_steps, maxlength=self.max_walkback_steps))
        return self._track(loss, lengths)

    def test_step(self, data):
        """The same loss on held-out data; the realised-length counts log training only."""
        return self._track(*self._batch_loss(data))

    def compile_from_recipe(self, recipe=None, **kwargs):
        kwargs.setdefault("jit_compile", False)
        super().compile_from_recipe(recipe, **kwargs)

    def walkback_schedule(self) -> dict:
        """The current schedule as :class:`tfzoo.gsn.callbacks.Walkback` arguments."""
        return dict(mode=WALKBACK_MODES[int(self.walkback_mode.numpy())],
                    steps=int(self.walkback_fixed_steps.numpy()),
                    p_continue=float(self.walkback_p_continue.numpy()))

    # ------------------------------------------------------------------------- chains
    def mean_field(self, a, step=0):
        """The mean of ``P(X | .)`` for pre-activation ``a`` at walkback step ``step``."""
        return self.reconstruction_distribution(a, step).mean()

    def reconstruct(self, x):
        """Deterministic reconstruction: one noise-free step from the uncorrupted ``x`` with ``H = 0``,
        returning the mean of the reconstruction distribution (with ``alpha_1``)."""
        x = self.check_input(x)
        _, a = self.transition(x, self.initial_hidden(x), None, 0, stochastic=False)
        return self.mean_field(a)

    def call(self, x, training=False):
        return self.reconstruct(x)

    def corrupt(self, x, seed):
        """The corruption C(X~ | X) used at every chain step (stateless)."""
        return self.corruption_fn(self.check_input(x), seed)

    def _chain(self, x0, steps, seed, clamp_values=None, clamp_mask=None):
        x0 = self.check_input(x0)
        steps = tf.convert_to_tensor(steps, tf.int32)

        def body(t, x, hidden, samples, means):
            step_seeds = split_seed(fold_seed(seed, t), 2)
            hidden, a = self.transition(x, hidden, step_seeds[0], 0, stochastic=True)
            dist = self.reconstruction_distribution(a, 0)  # sampling with alpha_1 (L1721-1724)
            x_new, mean = dist.sample(seed=step_seeds[1]), dist.mean()
            if clamp_mask is not None:  # Sec. 5.3.6: resample only the unobserved coordinates
                x_new = clamp_mask * clamp_values + (1.0 - clamp_mask) * x_new
                mean = clamp_mask * clamp_values + (1.0 - clamp_mask) * mean
            return t + 1, x_new, hidden, samples.write(t, x_new), means.write(t, mean)

        arrays = [tf.TensorArray(x0.dtype, size=steps, element_shape=x0.shape) for _ in range(2)]
        hidden = self.initial_hidden(x0)
        shapes = tf.nest.map_structure(lambda h: h.shape, hidden)
        _, _, _, samples, means = tf.while_loop(lambda t, *_: t < steps, body, (0, x0, hidden, *arrays),
                                                shape_invariants=(tf.TensorShape([]), x0.shape, shapes,
                                                                  tf.TensorShape(None), tf.TensorShape(None)))
        return samples.stack(), means.stack()

    def sample_chain(self, x0, steps, seed):
        """``steps`` consecutive states of the generative chain from ``x0`` (H_0 = 0):
        returns ``(samples, mean_field)``, each (steps, batch, d); Parzen centres use ``mean_field``
        (footnote 3, L2137)."""
        return self._chain(x0, steps, seed)

    def inpaint(self, x, mask, steps, seed):
        """Clamped chain (Sec. 5.3.6, Fig. 5.6 bottom): coordinates with ``mask == 1`` stay at ``x``;
        the others start from random values and are resampled. Returns ``(samples, mean_field)``."""
        x = self.check_input(x)
        self.check_count(steps, "steps")
        mask = tf.cast(self.check_input(mask, "mask"), x.dtype)
        init_seed, chain_seed = tf.unstack(split_seed(seed, 2))
        x_init = mask * x + (1.0 - mask) * self.random_visible(tf.shape(x), init_seed)
        return self._chain(x_init, steps, chain_seed, clamp_values=x, clamp_mask=mask)

    def random_visible(self, shape, seed):
        """Random initial pixels: Bernoulli(1/2) for binary outputs, N(0, 1) for Normal outputs."""
        if self.reconstruction == "bernoulli":
            return tf.cast(tf.random.stateless_uniform(shape, stateless_seed(seed)) < 0.5, tf.float32)
        return tf.random.stateless_normal(shape, stateless_seed(seed))

    # -------------------------------------------------------------------------- export
    def endpoints(self) -> dict:
        """``serve``/``reconstruct``, ``corrupt(x, seed)``, ``sample_chain(x, steps, seed)`` and
        ``inpaint(x, mask, steps, seed)`` (``seed: int32[]``)."""
        x, steps, seed = self.data_arg(), Arg.steps(), Arg.seed()
        return {
            "serve": Endpoint(self.reconstruct, x),
            "reconstruct": Endpoint(self.reconstruct, x),
            "corrupt": Endpoint(self.corrupt, x, seed),
            "sample_chain": Endpoint(self.sample_chain, x, steps, seed),
            "inpaint": Endpoint(self.inpaint, x, Arg.mask(self), steps, seed),
        }


@keras.saving.register_keras_serializable(package="tfzoo")
class GenerativeDAE(_WalkbackChain):
    """A denoising auto-encoder as a generative model (Sec. 5.3.1-5.3.3; MNIST setting of Sec. 5.5.1).

    ``P_theta(X | X~)``: ``a = c + V^T tanh(b + W^T x~)``; Bernoulli(logits = alpha_k a) or
    Normal(a, sqrt(alpha_k) exp(log_scale)) per coordinate, as a ``tfd.Independent`` distribution.

    Args:
      input_dim, hidden_units: 784 and 2000 tanh units in Sec. 5.5.1 (L2089).
      reconstruction: "bernoulli" or "normal".
      corruption: "salt_and_pepper" (level = probability of corrupting a coordinate, 0.5 at L2089) or
        "gaussian" (level = noise std).
      walkback: "none", "geometric" (k = 1 + Geometric, L1651) or "fixed" (``walkback_steps``, 5 at L2091).
      max_walkback_steps: the unrolled chain length (geometric lengths are truncated there).
      p_continue: probability of another walkback step (0.5, L1651).
      learn_scaling: learn alpha_k (Sec. 5.3.3).
      backprop_through_chain: differentiate through reparameterised Normal samples (binary samples
        never carry a gradient).
    """

    def __init__(self, *, input_dim=784, hidden_units=2000, reconstruction="bernoulli",
                 corruption="salt_and_pepper", corruption_level=0.5, walkback="none", walkback_steps=1,
                 max_walkback_steps=1, p_continue=0.5, learn_scaling=False, backprop_through_chain=False,
                 seed=0, **kwargs):
        super().__init__(**kwargs)
        if reconstruction not in ("bernoulli", "normal"):
            raise ValueError(f"reconstruction must be 'bernoulli' or 'normal', got {reconstruction!r}")
        if corruption not in ("salt_and_pepper", "gaussian"):
            raise ValueError(f"corruption must be 'salt_and_pepper' or 'gaussian', got {corruption!r}")
        self.input_shape_per_example = (int(input_dim),)
        self.input_values = "binary" if reconstruction == "bernoulli" else "normal"
        self.reconstruction = reconstruction
        self.corruption, self.corruption_level = corruption, float(corruption_level)
        init = keras.initializers.GlorotUniform
        self.encoder_kernel = self.add_weight(shape=(input_dim, hidden_units), initializer=init(seed), name="W")
        self.encoder_bias = self.add_weight(shape=(hidden_units,), initializer="zeros", name="b")
        self.decoder_kernel = self.add_weight(shape=(hidden_units, input_dim), initializer=init(seed + 1), name="V")
        self.decoder_bias = self.add_weight(shape=(input_dim,), initializer="zeros", name="c")
        self.log_scale = self.add_weight(shape=(input_dim,), initializer="zeros", name="log_scale") \
            if reconstruction == "normal" else None
        self._setup_walkback(walkback, walkback_steps, max_walkback_steps, p_continue, learn_scaling, seed,
                             backprop_through_chain)

    def corruption_fn(self, x, seed):
        if self.corruption == "gaussian":
            return gaussian_corruption(x, self.corruption_level, seed)
        return salt_and_pepper(x, self.corruption_level, seed)

    def initial_hidden(self, x):
        return ()

    def transition(self, x_prev, hidden, seed, step, stochastic):
        """Corrupt ``x_prev`` (when ``stochastic``) and return the output pre-activation ``a`` (no latent state)."""
        x_tilde = self.corruption_fn(x_prev, seed) if stochastic else x_prev
        h = tf.tanh(tf.matmul(x_tilde, self.encoder_kernel) + self.encoder_bias)
        return (), tf.matmul(h, self.decoder_kernel) + self.decoder_bias

    def reconstruction_distribution(self, a, step):
        """``P_theta(X | X~)`` at walkback step ``step + 1`` (L1715-1719)."""
        alpha = self.alpha(step)
        if self.reconstruction == "bernoulli":
            return tfd.Independent(tfd.Bernoulli(logits=alpha * a, dtype=a.dtype), reinterpreted_batch_ndims=1)
        return tfd.Independent(tfd.Normal(a, tf.sqrt(alpha) * tf.exp(self.log_scale)), reinterpreted_batch_ndims=1)


@keras.saving.register_keras_serializable(package="tfzoo")
class GSN(_WalkbackChain):
    """The deep GSN of Sec. 5.5.2 (GSN-2 of Table 5.1), Bernoulli visible layer over pixels in [0, 1].

    Inputs may be binary or real-valued intensities in [0, 1]: ``-log P(x0 | .)`` is then the binary
    cross-entropy against the real-valued ``x0`` and salt-and-pepper sets pixels to 0 or 1, as the
    authors' code trains on real-valued MNIST ([reference code yaoli/GSN] ``model.py``); the chain's
    resampled ``X_t`` are binary (Bernoulli draws).

    Args:
      layer_sizes: (784, h_1, ..., h_D); Sec. 5.5.3 uses 1000-1000 for MNIST, Sec. 5.5.2 "between 1000 and 1500".
      hidden_noise_std: std of the pre- and post-activation Gaussian noise (2, L2128).
      noiseless_first_hidden: no noise on the first hidden layer (L2128, "all hidden layers except the first").
      input_corruption_level: salt-and-pepper level of every x_t entering the graph (0.4, L2128).
      walkback_steps: number of reconstructions scored (2D, L2120); ``walkback`` defaults to "fixed".
      learn_scaling: learned alpha_k (Sec. 5.5.3).
    """

    def __init__(self, *, layer_sizes=(784, 1000, 1000), hidden_noise_std=2.0, noiseless_first_hidden=True,
                 input_corruption_level=0.4, walkback="fixed", walkback_steps=None, max_walkback_steps=None,
                 p_continue=0.5, learn_scaling=False, seed=0, **kwargs):
        super().__init__(**kwargs)
        layer_sizes = [int(s) for s in layer_sizes]
        if len(layer_sizes) < 2:
            raise ValueError(f"layer_sizes needs the visible size and at least one hidden size, got {layer_sizes}")
        depth = len(layer_sizes) - 1
        walkback_steps = 2 * depth if walkback_steps is None else walkback_steps
        max_walkback_steps = walkback_steps if max_walkback_steps is None else max_walkback_steps
        self.input_shape_per_example = (layer_sizes[0],)
        # Pixels in [0, 1]: binary images, or real-valued intensities scored by the Bernoulli
        # cross-entropy against real targets, as the authors' code trains on MNIST ([reference code yaoli/GSN]).
        self.input_values, self.input_range = "uniform", (0.0, 1.0)
        self.layer_sizes, self.depth = layer_sizes, depth
        self.hidden_noise_std = float(hidden_noise_std)
        self.noiseless_first_hidden = bool(noiseless_first_hidden)
        self.input_corruption_level = float(input_corruption_level)
        init = keras.initializers.GlorotUniform
        self.kernels = [self.add_weight(shape=(layer_sizes[l - 1], layer_sizes[l]), initializer=init(seed + l),
                                        name=f"W{l}") for l in range(1, depth + 1)]
        self.biases = [self.add_weight(shape=(size,), initializer="zeros", name=f"b{l}")
                       for l, size in enumerate(layer_sizes)]
        self._setup_walkback(walkback, walkback_steps, max_walkback_steps, p_continue, learn_scaling, seed, True)

    def corruption_fn(self, x, seed):
        return salt_and_pepper(x, self.input_corruption_level, seed)

    def initial_hidden(self, x):
        """``H_0 = 0`` (L1841)."""
        batch = tf.shape(x)[0]
        return [tf.zeros(tf.stack([batch, size]), x.dtype) for size in self.layer_sizes[1:]]

    def _hidden_unit(self, a, layer, seed, stochastic):
        """``h = eta_out + tanh(eta_in + a)`` (L2110), noise-free on layer 1 if ``noiseless_first_hidden``."""
        if not stochastic or (layer == 1 and self.noiseless_first_hidden) or self.hidden_noise_std == 0:
            return tf.tanh(a)
        seeds = split_seed(seed, 2)
        eta_in = self.hidden_noise_std * tf.random.stateless_normal(tf.shape(a), seeds[0], dtype=a.dtype)
        eta_out = self.hidden_noise_std * tf.random.stateless_normal(tf.shape(a), seeds[1], dtype=a.dtype)
        return eta_out + tf.tanh(eta_in + a)

    def _pre_activation(self, layer, values):
        """``a^l = b_l + W_l^T h^{l-1} + W_{l+1} h^{l+1}`` (tied downward weights); ``values[0]`` is x or x~."""
        a = self.biases[layer]
        if layer > 0:
            a = a + tf.matmul(values[layer - 1], self.kernels[layer - 1])
        if layer < self.depth:
            a = a + tf.matmul(values[layer + 1], self.kernels[layer], transpose_b=True)
        return a

    def transition(self, x_prev, hidden, seed, step, stochastic):
        """One GSN step: corrupt ``x_prev`` (salt-and-pepper), update the odd layers, then the even layers;
        returns the new hidden layers and the visible pre-activation."""
        seeds = split_seed(seed, self.depth + 2) if stochastic else [None] * (self.depth + 2)
        x_tilde = self.corruption_fn(x_prev, seeds[0]) if stochastic else x_prev
        values = [x_tilde, *hidden]
        visible_a = None
        for parity in (1, 0):
            for layer in range(parity, self.depth + 1, 2):
                a = self._pre_activation(layer, values)
                if layer == 0:
                    visible_a = a
                else:
                    values[layer] = self._hidden_unit(a, layer, seeds[layer + 1], stochastic)
        return values[1:], visible_a

    def reconstruction_distribution(self, a, step):
        """Factorised Bernoulli with logits ``alpha_k a`` (L1715)."""
        return tfd.Independent(tfd.Bernoulli(logits=self.alpha(step) * a, dtype=a.dtype), reinterpreted_batch_ndims=1)
