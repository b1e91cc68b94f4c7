"""NICE and Real NVP as tfzoo models (``004_6b1d8905d771edf8.txt`` chapter 5, lines 1310–1740).

A flow model maps raw inputs x (8-bit pixels 0..255, or real vectors) through

1. a preprocessing bijector (pixels → model space: ``x/256`` for NICE, L1462; the logit of
   L1615–1617 for Real NVP; nothing for vectors), then
2. the unmixing function f (couplings, squeezes, batch norm, factor-out) to a flat latent z,

and scores ``log p(x) = log p_Z(z) + log|det ∂f/∂yᵀ| + log|det ∂y/∂xᵀ|`` (eq. L1338, every Jacobian
counted), so densities are per unit of *raw pixel* and ``bits/dim = −log p(x) / (d log 2)`` (δ = 1
in eq. L1497). ``model(x)`` returns log p(x) in nats; ``fit`` minimises the mean negative log p of
dequantised data ``x + U[0, 1)`` (L1479–1481) and logs ``loss`` (nats) and ``bits_per_dim``.

Example:
    >>> import tfzoo
    >>> model = tfzoo.create_model("realnvp-moons")
    >>> x = model.sample(5, seed=0)                 # (5, 2)
    >>> log_p = model.log_prob(x)                   # nats
    >>> z = model.encode(x); x_back = model.decode(z)
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from tfzoo.base import Arg, Endpoint, ZooModel
from tfzoo.errors import InputError
from tfzoo.flows import bijectors
from tfzoo.flows.layers import BatchNormStatistics, CouplingLayer, DiagonalScalingLayer
from tfzoo.seeds import stateless_seed

PREPROCESSINGS = ("none", "rescale", "logit")


def manifold_latents(z1, z2, z3, z4, num: int = 8):
    """The four-point manifold of Fig. 5.14 (L1685) on a num×num grid of angles φ, φ' ∈ [0, π/2]:
    ``z = cos φ (cos φ' z₁ + sin φ' z₂) + sin φ (cos φ' z₃ + sin φ' z₄)``. Returns (num, num, D)."""
    angles = np.linspace(0.0, np.pi / 2, num)
    phi, phi_p = np.meshgrid(angles, angles, indexing="ij")
    c, s, cp, sp = (a[..., None] for a in (np.cos(phi), np.sin(phi), np.cos(phi_p), np.sin(phi_p)))
    z1, z2, z3, z4 = (np.asarray(z, np.float32).reshape(-1) for z in (z1, z2, z3, z4))
    return (c * (cp * z1 + sp * z2) + s * (cp * z3 + sp * z4)).astype(np.float32)


def sphere_latents(latent_dim: int, num_polar: int = 8, num_azimuth: int = 8, seed: int = 0,
                   radius: float = 1.0):
    """The "sphere in the latent space" of Fig. 5.6 (L1519–1523): a random three-dimensional
    subspace (orthonormal basis Q from the QR decomposition of a seeded Gaussian D×3 matrix), the
    sphere of ``radius`` (the thesis: unit sphere) centred at 0 in it, and an even grid in angle
    space: polar angles θᵢ = π(i + ½)/num_polar, azimuths φⱼ = 2πj/num_azimuth, and
    ``z = radius · Q (sin θ cos φ, sin θ sin φ, cos θ)``. Returns (num_polar, num_azimuth, D).
    The thesis gives no grid size [choice: 8×8 by default]."""
    if latent_dim < 3:
        raise ValueError(f"the latent sphere needs at least 3 latent dimensions, got {latent_dim}")
    basis, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(latent_dim, 3)))
    theta = np.pi * (np.arange(num_polar) + 0.5) / num_polar
    phi = 2 * np.pi * np.arange(num_azimuth) / num_azimuth
    theta, phi = np.meshgrid(theta, phi, indexing="ij")
    directions = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], -1)
    return (radius * directions @ basis.T).astype(np.float32)


def inpainting_masks(height: int, width: int, seed: int = 0) -> dict:
    """The ten masks of Fig. 5.7 (L1525–1534), 1 = visible pixel, shape (height, width, 1).

    Top rows / bottom rows / left / right hidden are halves; "middle" masks hide the central half;
    the random masks hide 75% and 90% of the pixels. The thesis gives no sizes [choice: halves].
    """
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    rng = np.random.default_rng(seed)
    hidden = {
        "top": rows < height // 2,
        "bottom": rows >= height // 2,
        "odd_pixels": (rows * width + cols) % 2 == 1,
        "even_pixels": (rows * width + cols) % 2 == 0,
        "left": cols < width // 2,
        "right": cols >= width // 2,
        "middle_vertical": (cols >= width // 4) & (cols < 3 * width // 4),
        "middle_horizontal": (rows >= height // 4) & (rows < 3 * height // 4),
        "random_75": rng.random((height, width)) < 0.75,
        "random_90": rng.random((height, width)) < 0.90,
    }
    return {k: (~v).astype(np.float32)[:, :, None] for k, v in hidden.items()}


class FlowModel(ZooModel):
    """Shared machinery of tfzoo's flows: log_prob, bits/dim, sampling, encode/decode, inpainting,
    training steps, batch-norm statistics and SavedModel endpoints.

    Subclasses build their layers in ``__init__`` and implement :meth:`core_bijector`.
    """

    def __init__(self, *, input_shape, prior, preprocessing, alpha, logit_variant, dequantize,
                 langevin_step_size, seed, horizontal_flips=False, **kwargs):
        super().__init__(**kwargs)
        if preprocessing not in PREPROCESSINGS:
            raise ValueError(f"preprocessing must be one of {PREPROCESSINGS}, got {preprocessing!r}")
        if prior not in bijectors.PRIORS:
            raise ValueError(f"prior must be one of {bijectors.PRIORS}, got {prior!r}")
        self.input_shape_per_example = tuple(input_shape)
        self.input_dtype = "float32"
        self.is_image = preprocessing != "none"
        self.input_values = "integers" if self.is_image else "uniform"  # 8-bit pixels, or real vectors
        self.input_range = (0.0, 255.0) if self.is_image else (-2.0, 2.0)
        self.dims = int(np.prod(self.input_shape_per_example))
        self.prior_kind = prior
        self.preprocessing = preprocessing
        self.alpha = alpha
        self.logit_variant = logit_variant
        self.dequantize = dequantize
        self.langevin_step_size = langevin_step_size
        self.noise_seeds = keras.random.SeedGenerator(seed)
        if horizontal_flips and len(self.input_shape_per_example) != 3:
            raise ValueError("horizontal_flips needs image inputs (height, width, channels)")
        self.horizontal_flips = horizontal_flips
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.bits_tracker = keras.metrics.Mean(name="bits_per_dim")
        object.__setattr__(self, "_statistics_source", None)

    # ------------------------------------------------------------------------------ bijectors
    def core_bijector(self, training=False, tap=None, check_statistics=True):
        """f: preprocessed example → flat latent (n, D), a :class:`bijectors.FusedBijector`."""
        raise NotImplementedError

    def preprocessing_bijector(self):
        """Raw inputs → model space (see the module docstring)."""
        ndims = len(self.input_shape_per_example)
        if self.preprocessing == "rescale":
            return bijectors.PixelRescale(ndims)
        if self.preprocessing == "logit":
            return bijectors.Logit(self.alpha, self.logit_variant, ndims)
        return bijectors.Sequence([], ndims, name="identity")

    def prior(self):
        return bijectors.prior(self.prior_kind, self.dims)

    # ---------------------------------------------------------------------------- densities
    def _log_prob(self, x, training=False, tap=None, check_statistics=True):
        y, log_det_pre = self.preprocessing_bijector().forward_and_log_det(x)
        z, log_det = self.core_bijector(training, tap, check_statistics).forward_and_log_det(y)
        log_p = self.prior().log_prob(z) + log_det + log_det_pre
        if self.is_image:  # outside the support [0, 256)^d the density is 0: log p = −inf
            inside = tf.reduce_all((x >= 0.0) & (x < 256.0), axis=list(range(1, len(x.shape))))
            log_p = tf.where(inside, log_p, -np.inf)
        return log_p

    def call(self, x, training=False):
        return self._log_prob(self.check_input(x), training=training)

    def _checked(self, x, name="x"):
        x = self.check_input(x, name)
        if tf.executing_eagerly() and not np.all(np.isfinite(x.numpy())):
            raise InputError(f"{type(self).__name__}: input {name!r} contains NaN or infinite values")
        return x

    def log_prob(self, x):
        """log p(x) in nats per example, every Jacobian counted (images: raw pixel units, so pass
        dequantised pixels ``x + u`` for the discrete-likelihood bound). Pixels outside [0, 256)
        get −inf; NaN raises :class:`InputError`."""
        return self._log_prob(self._checked(x))

    def _bits_per_dim(self, x, seed):
        if self.dequantize:
            x = bijectors.dequantize(x, stateless_seed(seed, 0))
        return -self._log_prob(x) / (self.dims * math.log(2.0))

    def bits_per_dim(self, x, seed: int = 0):
        """Bits per dimension ``−log p(x + u) / (d log 2)`` with one dequantisation draw u (seeded)
        for images (eq. L1497 with δ = 1 on the raw pixel scale); vectors are not dequantised."""
        x = self._checked(x)
        if self.is_image and tf.executing_eagerly() and (np.any(x.numpy() < 0) or np.any(x.numpy() > 255)):
            raise InputError(f"{type(self).__name__}: 8-bit pixels must lie in 0..255")
        return self._bits_per_dim(x, tf.constant(seed, tf.int32))

    # ------------------------------------------------------------------------ latent space
    def encode(self, x):
        """The flat latent z = f(preprocess(x)), shape (n, D)."""
        return self._encode(self._checked(x))

    def _encode(self, x):
        y = self.preprocessing_bijector().forward(x)
        return self.core_bijector().forward_and_log_det(y)[0]

    def decode(self, z):
        """x = preprocess⁻¹(f⁻¹(z)) for flat latents z of shape (n, D) (exact inverse, no clipping)."""
        return self._decode(tf.convert_to_tensor(z, tf.float32))

    def _decode(self, z):
        y = self.core_bijector().inverse_and_log_det(z)[0]
        return tf.reshape(self.preprocessing_bijector().inverse(y), (-1, *self.input_shape_per_example))

    def sample_latent(self, n, seed, temperature=1.0):
        """``n`` prior draws scaled by ``temperature`` (stateless in ``seed``)."""
        return temperature * bijectors.stateless_prior_sample(self.prior_kind, n, self.dims, stateless_seed(seed, 1))

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0):
        """``n`` samples ``g(z)``, ``z ~ p_Z`` scaled by ``temperature``; images are clipped to the
        8-bit range [0, 255] (the "data hypercube", L1503–1509). Same seed, same samples, in every process."""
        self.check_count(n, "n")
        x = self._decode(self.sample_latent(n, seed, temperature))
        return tf.clip_by_value(x, 0.0, 255.0) if self.is_image else x

    def inpaint(self, x, mask, steps: int = 100, seed: int = 0, step_size: float | None = None):
        """Langevin inpainting (L1525–1534, Welling & Teh 2011): the hidden entries (mask = 0) follow
        ``y ← y + (ε/2) ∇ log p(y) + √ε ξ`` in the preprocessed space (where every x is allowed) with
        the visible ones clamped; returns x with the visible entries exactly as given.

        ``step_size`` ε defaults to the preset's ``langevin_step_size`` (the thesis gives none).
        """
        x = self._checked(x)
        mask = self.check_input(mask, "mask")
        self.check_count(steps, "steps")
        return self._inpaint(x, mask, tf.constant(steps, tf.int32), tf.constant(seed, tf.int32),
                             step_size)

    def _inpaint(self, x, mask, steps, seed, step_size=None):
        eps = float(step_size or self.langevin_step_size)
        pre = self.preprocessing_bijector()
        core = self.core_bijector()
        prior = self.prior()
        visible = mask > 0.5
        if self.is_image:
            start = tf.random.stateless_uniform(tf.shape(x), stateless_seed(seed, 2), 0.0, 256.0)
        else:
            start = tf.random.stateless_normal(tf.shape(x), stateless_seed(seed, 2))
        y_observed = pre.forward(tf.where(visible, x, start))

        def step(i, y):
            with tf.GradientTape() as tape:
                tape.watch(y)
                z, log_det = core.forward_and_log_det(y)
                log_p = tf.reduce_sum(prior.log_prob(z) + log_det)
            grad = tape.gradient(log_p, y)
            noise = tf.random.stateless_normal(tf.shape(y), stateless_seed(seed, 3 + i))
            proposal = y + 0.5 * eps * grad + math.sqrt(eps) * noise
            return i + 1, tf.where(visible, y_observed, proposal)

        _, y = tf.while_loop(lambda i, y: i < steps, step, (tf.constant(0), y_observed))
        filled = pre.inverse(y)
        if self.is_image:
            filled = tf.clip_by_value(filled, 0.0, 255.0)
        return tf.where(visible, x, filled)

    def interpolate_manifold(self, x4, num: int = 8):
        """Fig. 5.14: decode the four-point manifold spanned by the latents of four examples."""
        z = self.encode(x4).numpy()
        grid = manifold_latents(*z, num=num)
        return self.decode(grid.reshape(num * num, -1)).numpy().reshape(num, num, *self.input_shape_per_example)

    def latent_sphere(self, num_polar: int = 8, num_azimuth: int = 8, seed: int = 0, radius: float = 1.0):
        """Fig. 5.6: decode :func:`sphere_latents` (clipped to the data range for images).
        Returns (num_polar, num_azimuth, *input_shape)."""
        grid = sphere_latents(self.dims, num_polar, num_azimuth, seed, radius)
        x = self.decode(grid.reshape(num_polar * num_azimuth, -1))
        if self.is_image:
            x = tf.clip_by_value(x, 0.0, 255.0)
        return x.numpy().reshape(num_polar, num_azimuth, *self.input_shape_per_example)

    # ------------------------------------------------------------------------------ training
    @property
    def metrics(self):
        return [self.loss_tracker, self.bits_tracker]

    def _data(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        return self.check_input(x)

    def _augmented(self, x):
        """With ``horizontal_flips``, each training image is mirrored left–right with probability ½
        ("The images are randomly flipped horizontally", L1652); otherwise ``x`` unchanged."""
        if not self.horizontal_flips:
            return x
        flip = keras.random.uniform(tf.shape(x)[:1], seed=self.noise_seeds) < 0.5
        return tf.where(flip[:, None, None, None], tf.reverse(x, axis=[2]), x)

    def _dequantized(self, x):
        if not self.dequantize:
            return x
        noisy = x + keras.random.uniform(tf.shape(x), seed=self.noise_seeds)
        return tf.minimum(noisy, 256.0 - 2.0**-16)  # see bijectors.dequantize

    def _record(self, nll):
        self.loss_tracker.update_state(nll)
        self.bits_tracker.update_state(nll / (self.dims * math.log(2.0)))
        return {"loss": self.loss_tracker.result(), "bits_per_dim": self.bits_tracker.result()}

    def train_step(self, data):
        """One step on ``-mean log p`` of the flipped (``horizontal_flips``) and dequantised batch, plus
        the weight-norm scales' L2 (``self.losses``); then every batch-norm bijector's statistics are
        marked stale.

        Hand-written because the loss is not a function of ``model(x)`` on the batch ``fit`` passes:
        it scores ``x + u`` (fresh dequantisation noise, after the random flip), so Keras's default
        step would add a full, unused forward pass on the raw batch (doubling the cost of a step);
        and the statistics become stale only once the optimiser has moved the weights.
        """
        x = self._dequantized(self._augmented(self._data(data)))
        with tf.GradientTape() as tape:
            nll = -tf.reduce_mean(self._log_prob(x, training=True))
            objective = nll + tf.add_n(self.losses) if self.losses else nll  # weight-norm scale L2
        grads = tape.gradient(objective, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        for statistics in self.batch_norm_statistics:
            statistics.status.assign(BatchNormStatistics.STALE)
        return self._record(nll)

    def test_step(self, data):
        x = self._dequantized(self._data(data))
        return self._record(-tf.reduce_mean(self._log_prob(x, training=False)))

    def fit(self, x=None, y=None, *args, **kwargs):
        # Remember the training data: the BatchNormBijector callback accumulates exact statistics on it.
        object.__setattr__(self, "_statistics_source",
                           (x, kwargs.get("batch_size") or 100, kwargs.get("steps_per_epoch")))
        return super().fit(x, y, *args, **kwargs)

    # -------------------------------------------------------------------- batch-norm statistics
    def _batches(self, x, batch_size, steps):
        if isinstance(x, tf.data.Dataset):
            dataset = x.take(steps) if steps else x
            for batch in dataset:
                yield self._data(batch)
        else:
            x = np.asarray(x[0] if isinstance(x, (tuple, list)) else x)
            for start in range(0, len(x), batch_size):
                yield self.check_input(x[start:start + batch_size])

    def accumulate_batch_norm_statistics(self, x=None, batch_size: int = 100, seed: int = 0,
                                         max_batches: int | None = None):
        """Sets every batch-norm bijector's statistics to the exact moments of its input over ``x``.

        The thesis "cumulate[s] the global statistics of the training set" (L1588). Layer k's input
        depends on layers < k, so the layers are done in flow order, one pass over ``x`` each, with
        the earlier layers already using their new statistics; moments are combined in float64
        (Chan et al.). Images are dequantised with a fixed seed. ``x`` defaults to the data of the
        last ``fit``; ``max_batches`` limits each pass (then the statistics are of that subset).
        """
        if x is None:
            if self._statistics_source is None:
                raise ValueError("no data: pass x, or call fit first")
            x, batch_size, steps = self._statistics_source
        else:
            steps = None

        @tf.function(reduce_retracing=True)
        def moments(batch, index):
            tap = []
            y = bijectors.dequantize(batch, stateless_seed(seed, index)) if self.dequantize else batch
            self._log_prob(y, training=False, tap=tap, check_statistics=False)
            return [tf.nn.moments(t, axes=list(range(len(t.shape) - 1))) + (
                tf.cast(tf.reduce_prod(tf.shape(t)[:-1]), tf.float32),) for t in tap]

        for k, statistics in enumerate(self.batch_norm_statistics):
            count, mean, m2 = 0.0, 0.0, 0.0
            for index, batch in enumerate(self._batches(x, batch_size, steps)):
                if max_batches is not None and index >= max_batches:
                    break
                batch_mean, batch_var, n = (np.asarray(v, np.float64)
                                            for v in moments(batch, tf.constant(index))[k])
                delta = batch_mean - mean
                total = count + n
                mean = mean + delta * n / total
                m2 = m2 + batch_var * n + delta**2 * count * n / total
                count = total
            statistics.mean.assign(np.asarray(mean, np.float32))
            statistics.variance.assign(np.asarray(m2 / count, np.float32))
            statistics.status.assign(BatchNormStatistics.ACCUMULATED)

    @property
    def batch_norm_statistics_stale(self) -> bool:
        return any(float(s.status.numpy()) == BatchNormStatistics.STALE
                   for s in self.batch_norm_statistics)

    # ---------------------------------------------------------------------------- building
    def _flow_layers(self) -> list:
        """The Keras layers holding the flow's variables, in flow order."""
        raise NotImplementedError

    def _build_flow_layers(self):
        for layer in self._flow_layers():
            layer.build(None)

    @property
    def batch_norm_statistics(self) -> list:
        return [layer for layer in self._flow_layers() if isinstance(layer, BatchNormStatistics)]

    # ---------------------------------------------------------------------------- exports
    def endpoints(self) -> dict:
        x, seed = self.data_arg(), Arg.seed()
        return {
            "serve": Endpoint(lambda x: self._log_prob(x), x),
            "log_prob": Endpoint(lambda x: self._log_prob(x), x),
            "bits_per_dim": Endpoint(lambda x, seed: self._bits_per_dim(x, seed), x, seed),
            "sample": Endpoint(lambda n, seed: self.sample(n, seed), Arg.count(), seed),
            "encode": Endpoint(lambda x: self._encode(x), x),
            "decode": Endpoint(lambda z: self._decode(z), Arg.normal((None, self.dims), "z")),
            "inpaint": Endpoint(lambda x, mask, steps, seed: self._inpaint(x, mask, steps, seed),
                                x, Arg.mask(self), Arg.steps(), seed),
        }


@keras.saving.register_keras_serializable(package="tfzoo")
class DenseCouplingFlow(FlowModel):
    """NICE (additive couplings + exp(γ), L1454) and the vector Real NVP (affine couplings).

    The example is flattened to d coordinates; ``num_couplings`` couplings alternate odd/even
    partitions (:func:`bijectors.alternating_mask`), each with a ReLU MLP of ``hidden_layers`` ×
    ``hidden_units`` (:class:`tfzoo.flows.layers.MLPCouplingNet`); NICE ends with the diagonal
    scaling exp(γ).

    Example:
        >>> model = DenseCouplingFlow(input_shape=(2,), coupling="affine", num_couplings=4,
        ...                           hidden_layers=2, hidden_units=16, prior="gaussian",
        ...                           preprocessing="none", diagonal_scaling=False)
        >>> model.build_from_preset()
        >>> model.log_prob([[0.0, 0.5]]).shape
        TensorShape([1])
    """

    def __init__(self, *, input_shape=(28, 28, 1), coupling="additive", num_couplings=4,
                 hidden_layers=5, hidden_units=1000, order="shift_then_scale", prior="logistic",
                 diagonal_scaling=True, preprocessing="rescale", alpha=0.05, logit_variant="thesis",
                 dequantize=True, langevin_step_size=1e-4, seed=0, **kwargs):
        super().__init__(input_shape=input_shape, prior=prior, preprocessing=preprocessing,
                         alpha=alpha, logit_variant=logit_variant, dequantize=dequantize,
                         langevin_step_size=langevin_step_size, seed=seed, **kwargs)
        self.couplings = [
            CouplingLayer(event_shape=(self.dims,), mask="alternating", parity=i % 2,
                          coupling=coupling, order=order, hidden_layers=hidden_layers,
                          hidden_units=hidden_units, name=f"coupling{i}")
            for i in range(num_couplings)]
        self.scaling = DiagonalScalingLayer(self.dims, name="diagonal_scaling") if diagonal_scaling else None
        self._build_flow_layers()

    def _flow_layers(self):
        return self.couplings + ([self.scaling] if self.scaling is not None else [])

    def core_bijector(self, training=False, tap=None, check_statistics=True):
        steps = [layer.bijector() for layer in self._flow_layers()]
        return _Flatten(self.input_shape_per_example, bijectors.Sequence(steps, 1, name="couplings"))


class _Flatten(bijectors.FusedBijector):
    """Flattens each example, then applies a vector bijector (the latent is flat)."""

    def __init__(self, event_shape, inner, name="flatten"):
        parameters = dict(locals())
        self._shape = tuple(event_shape)
        self._inner = inner
        super().__init__(len(self._shape), name, parameters, inverse_event_ndims=1)

    def _forward_and_log_det(self, x):
        return self._inner.forward_and_log_det(tf.reshape(x, (-1, int(np.prod(self._shape)))))

    def _inverse_and_log_det(self, y):
        x, log_det = self._inner.inverse_and_log_det(y)
        return tf.reshape(x, (-1, *self._shape)), log_det


@keras.saving.register_keras_serializable(package="tfzoo")
class MultiScaleRealNVP(FlowModel):
    """Real NVP's convolutional multi-scale flow (Section 5.4, L1630–1652, Fig. 5.11).

    Each of the first ``num_scales − 1`` levels: 3 affine couplings with alternating checkerboard
    masks, squeeze, 3 affine couplings with alternating channel masks, then half of the channels are
    factored out; the last level is ``final_couplings`` checkerboard couplings. Coupling networks are
    ResNets of ``num_blocks`` blocks and ``feature_maps`` maps, doubled after every squeeze (L1652).
    With ``batch_norm`` a batch-norm bijector (ν = ``bn_nu``, L1630) follows each group of couplings
    [placement not in the thesis: after each group, so exact statistics cost one pass per group].
    With ``weight_norm`` (the thesis's setting, L1576) the coupling ResNets' convolutions are weight
    normalised and ``weight_scale_l2`` · Σ g² (5·10⁻⁵, L1652) is added to the training loss. With
    ``horizontal_flips`` training images are mirrored at random (L1652).
    Inputs are raw pixels; the logit preprocessing (α = 0.05) is part of the density. Prior N(0, I).

    Example:
        >>> model = MultiScaleRealNVP(input_shape=(8, 8, 1), num_scales=2, num_blocks=1,
        ...                           feature_maps=4)
        >>> model.build_from_preset()
        >>> model.latent_sizes
        [32, 32]
    """

    def __init__(self, *, input_shape=(28, 28, 1), num_scales=2, num_blocks=2, feature_maps=32,
                 final_couplings=4, order="shift_then_scale", prior="gaussian", batch_norm=True,
                 bn_nu=1e-6, weight_norm=True, weight_scale_l2=5e-5, alpha=0.05, logit_variant="thesis",
                 dequantize=True, horizontal_flips=False, langevin_step_size=1e-2, seed=0, **kwargs):
        super().__init__(input_shape=input_shape, prior=prior, preprocessing="logit", alpha=alpha,
                         logit_variant=logit_variant, dequantize=dequantize,
                         langevin_step_size=langevin_step_size, seed=seed,
                         horizontal_flips=horizontal_flips, **kwargs)
        h, w, c = self.input_shape_per_example
        if h % 2 ** (num_scales - 1) or w % 2 ** (num_scales - 1):
            raise ValueError(f"{num_scales} scales need height and width divisible by "
                             f"{2 ** (num_scales - 1)}, got {h}×{w}")
        self.flow_layers = []  # every coupling and batch-norm layer, in flow order
        self.level_plan = []  # per level: ("coupling" | "bn" | "squeeze", index in flow_layers)
        fmaps = feature_maps
        for level in range(num_scales):
            plan, last = [], level == num_scales - 1

            def add(kind, layer):
                plan.append((kind, len(self.flow_layers)))
                self.flow_layers.append(layer)

            def group(kind, count, shape):
                for i in range(count):
                    add("coupling", CouplingLayer(
                        event_shape=shape, mask=kind, parity=i % 2, coupling="affine", order=order,
                        num_blocks=num_blocks, feature_maps=fmaps, weight_norm=weight_norm,
                        weight_scale_l2=weight_scale_l2, name=f"level{level}_{kind}{i}"))
                if batch_norm:
                    add("bn", BatchNormStatistics(shape[-1], bn_nu, name=f"level{level}_{kind}_bn"))

            group("checkerboard", final_couplings if last else 3, (h, w, c))
            if not last:
                plan.append(("squeeze", -1))
                h, w, c = h // 2, w // 2, 4 * c
                fmaps *= 2
                group("channel", 3, (h, w, c))
                c //= 2
            self.level_plan.append(plan)
        self._build_flow_layers()

    def _flow_layers(self):
        return self.flow_layers

    def core_bijector(self, training=False, tap=None, check_statistics=True, image_shape=None):
        """The multi-scale f; ``image_shape`` (default: the training size) sets the flat latent's
        layout, so the same weights model larger images (all couplings are convolutional)."""
        levels = []
        for plan in self.level_plan:
            level = []
            for kind, index in plan:
                if kind == "coupling":
                    level.append(self.flow_layers[index].bijector())
                elif kind == "bn":
                    level.append(self.flow_layers[index].bijector(training, tap, check_statistics))
                else:
                    level.append(bijectors.Squeeze())
            levels.append(level)
        return bijectors.MultiScale(levels, image_shape or self.input_shape_per_example)

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0, height=None, width=None):
        """Samples as :meth:`FlowModel.sample`; ``height``/``width`` larger than the training size
        give the larger, texture-like samples of Fig. 5.13 (L1674–1680)."""
        self.check_count(n, "n")
        if height is None and width is None:
            return super().sample(n, seed, temperature)
        h, w, c = self.input_shape_per_example
        shape = (height or h, width or w, c)
        scale = 2 ** (len(self.level_plan) - 1)
        if shape[0] % scale or shape[1] % scale:
            raise InputError(f"height and width must be multiples of {scale}, got {shape[:2]}")
        z = temperature * bijectors.stateless_prior_sample(self.prior_kind, n, int(np.prod(shape)),
                                                           stateless_seed(seed, 1))
        y = self.core_bijector(image_shape=shape).inverse(z)
        return tf.clip_by_value(self.preprocessing_bijector().inverse(y), 0.0, 255.0)

    @property
    def latent_sizes(self) -> list:
        return self.core_bijector().latent_sizes

    def encode_levels(self, x):
        """The per-level latents ``[z⁽¹⁾_I₂, …, z⁽ᴸ⁾]`` (Fig. 5.10)."""
        y = self.preprocessing_bijector().forward(self._checked(x))
        return self.core_bijector().forward_levels(y)[0]

    def resample_levels(self, x, num_levels: int, seed: int = 0, temperature: float = 1.0):
        """Conceptual compression (Figs. 5.15–5.16): keep the latents of the coarsest levels, replace
        those of the ``num_levels`` finest (first factored-out) levels by prior draws, decode."""
        latents = self.encode_levels(x)
        core = self.core_bijector()
        for k in range(num_levels):
            latents[k] = temperature * tf.random.stateless_normal(
                tf.shape(latents[k]), stateless_seed(seed, k))
        y = core.inverse_levels(latents)[0]
        return tf.clip_by_value(self.preprocessing_bijector().inverse(y), 0.0, 255.0)
