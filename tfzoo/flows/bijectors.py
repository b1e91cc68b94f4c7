"""NICE / Real NVP bijectors (Dinh's thesis, ``004_6b1d8905d771edf8.txt`` chapter 5, lines 1310–1740).

Every bijector here is a ``tfp.bijectors.Bijector`` whose *forward* direction is the thesis's
unmixing function f (data → latent, the normalising direction, eq. L1334–1338)::

    log p_X(x) = log p_Z(f(x)) + log |det ∂f(x)/∂xᵀ|

Their trainable variables live in Keras 3 layers (:mod:`tfzoo.flows.layers`); a bijector only holds
references to them, so it is cheap to create one per call (tfzoo's models do, which also keeps TFP's
forward/inverse cache from outliving a weight update or a batch-norm mode switch).

Each bijector also offers ``forward_and_log_det(x)`` / ``inverse_and_log_det(y)``, which return the
output and the log-determinant from *one* evaluation of the coupling network (TFP's public API calls
the network once for ``forward`` and again for ``forward_log_det_jacobian``). The models use the
fused path; ``tfb.Chain``, ``tfd.TransformedDistribution`` and the rest of TFP use the standard one.

Example:
    >>> import numpy as np, keras
    >>> from tfzoo.flows import bijectors, layers
    >>> layer = layers.CouplingLayer(event_shape=(4,), parity=0, coupling="affine",
    ...                              hidden_layers=1, hidden_units=8)
    >>> layer.build((None, 4))
    >>> b = layer.bijector()
    >>> x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    >>> y, log_det = b.forward_and_log_det(x)
    >>> bool(np.allclose(b.inverse(y), x, atol=1e-5))
    True
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfb = tfp.bijectors
tfd = tfp.distributions

COUPLING_ORDERS = ("shift_then_scale", "scale_then_shift")


# ----------------------------------------------------------------------------------------- masks
def alternating_mask(dim: int, parity: int) -> np.ndarray:
    """1-D odd/even partition: ``b_i = (i + parity) mod 2`` (1 marks I₁, the unchanged half).

    The thesis only says "alternating pattern" (L1454); NICE's own code alternates odd and even
    indices, which this follows.
    """
    return ((np.arange(dim) + parity) % 2).astype("float32")


def checkerboard_mask(height: int, width: int, parity: int) -> np.ndarray:
    """Spatial checkerboard ``b_ij = (i + j + parity) mod 2`` of shape (height, width, 1) (Fig. 5.8,
    L1547); broadcast over channels."""
    i, j = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    return ((i + j + parity) % 2).astype("float32")[:, :, None]


def checkerboard_mask_like(x, parity: int):
    """The checkerboard mask of :func:`checkerboard_mask` for the spatial size of images ``x``
    (any size: this is how a convolutional flow samples images larger than its training size)."""
    shape = tf.shape(x)
    i = tf.range(shape[-3])[:, None]
    j = tf.range(shape[-2])[None, :]
    return tf.cast((i + j + parity) % 2, tf.float32)[:, :, None]


def channel_mask(channels: int, parity: int) -> np.ndarray:
    """Channel-wise mask of shape (1, 1, channels) (Fig. 5.8): parity 0 keeps the first half of the
    channels unchanged, parity 1 the second half."""
    if channels % 2:
        raise ValueError(f"a channel-wise mask needs an even number of channels, got {channels}")
    first = np.arange(channels) < channels // 2
    return (first if parity == 0 else ~first).astype("float32")[None, None, :]


def _event_axes(event_ndims: int) -> list:
    return list(range(-event_ndims, 0))


# ------------------------------------------------------------------------------------ base class
class FusedBijector(tfb.Bijector):
    """A bijector defined by ``_forward_and_log_det`` and ``_inverse_and_log_det``.

    ``event_ndims`` is the rank of one example (1 for vectors, 3 for images); log-determinants are
    summed over it and have the batch shape.
    """

    def __init__(self, event_ndims: int, name: str, parameters: dict, inverse_event_ndims=None):
        self._event_ndims = event_ndims
        super().__init__(forward_min_event_ndims=event_ndims,
                         inverse_min_event_ndims=event_ndims if inverse_event_ndims is None
                         else inverse_event_ndims,
                         validate_args=False, parameters=parameters, name=name)

    def forward_and_log_det(self, x):
        """``(f(x), log|det ∂f/∂xᵀ|)`` with one evaluation of any inner network."""
        return self._forward_and_log_det(tf.convert_to_tensor(x, tf.float32))

    def inverse_and_log_det(self, y):
        """``(f⁻¹(y), log|det ∂f⁻¹/∂yᵀ|)`` with one evaluation of any inner network."""
        return self._inverse_and_log_det(tf.convert_to_tensor(y, tf.float32))

    def _forward(self, x):
        return self._forward_and_log_det(x)[0]

    def _inverse(self, y):
        return self._inverse_and_log_det(y)[0]

    def _forward_log_det_jacobian(self, x):
        return self._forward_and_log_det(x)[1]

    def _inverse_log_det_jacobian(self, y):
        return self._inverse_and_log_det(y)[1]

    def _batch_zeros(self, x):
        return tf.zeros(tf.shape(x)[: tf.rank(x) - self._event_ndims], x.dtype)


def forward_and_log_det(bijector, x, event_ndims: int):
    """``(f(x), log-det)`` for a tfzoo bijector (fused) or any TFP bijector (public API)."""
    if isinstance(bijector, FusedBijector):
        return bijector.forward_and_log_det(x)
    return bijector.forward(x), bijector.forward_log_det_jacobian(x, event_ndims=event_ndims)


def inverse_and_log_det(bijector, y, event_ndims: int):
    """``(f⁻¹(y), log-det of f⁻¹)`` for a tfzoo bijector (fused) or any TFP bijector."""
    if isinstance(bijector, FusedBijector):
        return bijector.inverse_and_log_det(y)
    return bijector.inverse(y), bijector.inverse_log_det_jacobian(y, event_ndims=event_ndims)


# ------------------------------------------------------------------------------------- couplings
class MaskedCoupling(FusedBijector):
    """Additive (NICE) or affine (Real NVP) coupling in the masked form of eq. L1368.

    With a binary mask b (1 on I₁, the part left unchanged) and ``(t, n) = net(b ⊙ x)``:

    * additive (``log_scale_factor=None``, L1370): ``y = x + (1 − b) ⊙ t``; log-det 0;
    * affine, ``s = (1 − b) ⊙ scale · tanh(n)`` (L1635–1637, ``scale`` a learned scalar):
      - ``"shift_then_scale"`` (the thesis, L1364): ``y = (x + (1 − b) ⊙ t) ⊙ exp(s)``;
      - ``"scale_then_shift"`` (the Real NVP paper and ``tfb.RealNVP``): ``y = x ⊙ exp(s) + (1 − b) ⊙ t``;
      both have ``log|det| = Σ s`` (L1391–1395). The inverse (L1385) re-evaluates the network on
      ``b ⊙ y = b ⊙ x`` and never inverts it.

    Args:
        mask: array broadcastable to one example (1 = unchanged), or a function of the input
            returning one (e.g. a checkerboard for any image size).
        shift_and_log_scale_fn: callable ``b ⊙ x -> (t, n)``; ``n`` is ignored when additive.
        log_scale_factor: the scalar ``scale`` (a Keras variable), or ``None`` for additive coupling.
        order: one of ``COUPLING_ORDERS``.
        event_ndims: rank of one example.
    """

    def __init__(self, mask, shift_and_log_scale_fn, log_scale_factor=None, order="shift_then_scale",
                 event_ndims: int = 1, name: str = "masked_coupling"):
        parameters = dict(locals())
        if order not in COUPLING_ORDERS:
            raise ValueError(f"order must be one of {COUPLING_ORDERS}, got {order!r}")
        self._mask = mask if callable(mask) else tf.constant(mask, tf.float32)
        self._fn = shift_and_log_scale_fn
        self._scale = log_scale_factor
        self._order = order
        super().__init__(event_ndims, name, parameters)

    def _shift_and_log_scale(self, x_unchanged):
        mask = self._mask(x_unchanged) if callable(self._mask) else self._mask
        shift, raw = self._fn(mask * x_unchanged)
        free = 1.0 - mask
        shift = free * shift
        if self._scale is None:
            return shift, None
        return shift, free * tf.cast(self._scale, tf.float32) * tf.tanh(raw)

    def _forward_and_log_det(self, x):
        shift, log_scale = self._shift_and_log_scale(x)
        if log_scale is None:
            return x + shift, self._batch_zeros(x)
        if self._order == "shift_then_scale":
            y = (x + shift) * tf.exp(log_scale)
        else:
            y = x * tf.exp(log_scale) + shift
        return y, tf.reduce_sum(log_scale, _event_axes(self._event_ndims))

    def _inverse_and_log_det(self, y):
        shift, log_scale = self._shift_and_log_scale(y)
        if log_scale is None:
            return y - shift, self._batch_zeros(y)
        if self._order == "shift_then_scale":
            x = y * tf.exp(-log_scale) - shift
        else:
            x = (y - shift) * tf.exp(-log_scale)
        return x, -tf.reduce_sum(log_scale, _event_axes(self._event_ndims))


class DiagonalScaling(FusedBijector):
    """NICE's final diagonal layer ``z = exp(γ) ⊙ h`` (L1454); log-det ``Σ γ``, inverse ``exp(−γ)``."""

    def __init__(self, log_scale, event_ndims: int = 1, name: str = "diagonal_scaling"):
        parameters = dict(locals())
        self._log_scale = log_scale
        super().__init__(event_ndims, name, parameters)

    def _forward_and_log_det(self, x):
        log_scale = tf.cast(self._log_scale, tf.float32)
        return x * tf.exp(log_scale), self._batch_zeros(x) + tf.reduce_sum(log_scale)

    def _inverse_and_log_det(self, y):
        log_scale = tf.cast(self._log_scale, tf.float32)
        return y * tf.exp(-log_scale), self._batch_zeros(y) - tf.reduce_sum(log_scale)


class Squeeze(FusedBijector):
    """Invertible 2×2 downsampling (Fig. 5.9, L1562): (h, w, c) → (h/2, w/2, 4c), a permutation.

    Channel order (the thesis does not fix one) is ``tf.nn.space_to_depth``'s: output channel
    ``(2·dy + dx)·c + k`` holds input pixel ``(2i + dy, 2j + dx)``, channel ``k``. Log-det 0.
    """

    def __init__(self, name: str = "squeeze"):
        super().__init__(3, name, dict(locals()))

    def _forward_and_log_det(self, x):
        return tf.nn.space_to_depth(x, 2), self._batch_zeros(x)

    def _inverse_and_log_det(self, y):
        return tf.nn.depth_to_space(y, 2), self._batch_zeros(y)

    def _forward_event_shape(self, input_shape):
        h, w, c = input_shape[-3:]
        return tf.TensorShape([h // 2 if h else None, w // 2 if w else None, 4 * c if c else None])

    def _inverse_event_shape(self, output_shape):
        h, w, c = output_shape[-3:]
        return tf.TensorShape([2 * h if h else None, 2 * w if w else None, c // 4 if c else None])

    def _forward_event_shape_tensor(self, input_shape):
        return tf.stack([input_shape[-3] // 2, input_shape[-2] // 2, 4 * input_shape[-1]])

    def _inverse_event_shape_tensor(self, output_shape):
        return tf.stack([2 * output_shape[-3], 2 * output_shape[-2], output_shape[-1] // 4])


# --------------------------------------------------------------------------------- preprocessing
def dequantize(x, seed):
    """Uniform dequantisation ``x + u``, ``u ~ U[0, 1)^d`` (L1479–1481): bridges the quanta of 8-bit
    pixels, so the continuous density of ``x + u`` lower-bounds the discrete likelihood of ``x``.

    Not a bijector (it adds noise); ``seed`` is a stateless seed (int tensor of shape [2]).
    """
    x = tf.convert_to_tensor(x, tf.float32)
    noisy = x + tf.random.stateless_uniform(tf.shape(x), seed=seed, dtype=tf.float32)
    # 255 + u rounds to 256 in float32 for u > 1 − 2⁻¹⁷: keep every value inside [0, 256)
    return tf.minimum(noisy, 256.0 - 2.0**-16)


class PixelRescale(FusedBijector):
    """``y = x / 256`` (the thesis's [0, 1] hypercube for MNIST, L1462); log-det ``−d log 256``."""

    def __init__(self, event_ndims: int, name: str = "pixel_rescale"):
        super().__init__(event_ndims, name, dict(locals()))

    def _forward_and_log_det(self, x):
        d = tf.cast(tf.reduce_prod(tf.shape(x)[tf.rank(x) - self._event_ndims:]), tf.float32)
        return x / 256.0, self._batch_zeros(x) - d * math.log(256.0)

    def _inverse_and_log_det(self, y):
        d = tf.cast(tf.reduce_prod(tf.shape(y)[tf.rank(y) - self._event_ndims:]), tf.float32)
        return y * 256.0, self._batch_zeros(y) + d * math.log(256.0)


class Logit(FusedBijector):
    """The logit preprocessing of L1615–1617: ``y = logit(α + k·x)`` on pixels x ∈ [0, 256].

    ``variant="thesis"`` (default): ``k = (1 − α)/256``, so [0, 256] → [α, 1] (as printed; the upper
    end reaches 1). ``variant="symmetric"``: ``k = (1 − 2α)/256``, [0, 256] → [α, 1 − α].

    Per pixel, with ``s = α + k·x``: ``log|dy/dx| = log k − log s − log(1 − s)``, and
    ``log s + log(1 − s) = −softplus(−y) − softplus(y)``, computed from y for stability. This
    Jacobian enters ``log_prob`` so that densities (and bits/dim) are on the raw pixel scale.
    """

    VARIANTS = ("thesis", "symmetric")

    def __init__(self, alpha: float = 0.05, variant: str = "thesis", event_ndims: int = 3,
                 name: str = "logit"):
        parameters = dict(locals())
        if variant not in self.VARIANTS:
            raise ValueError(f"variant must be one of {self.VARIANTS}, got {variant!r}")
        if not 0.0 < alpha < 0.5:
            raise ValueError(f"alpha must lie in ]0, 1/2[ (L1617), got {alpha}")
        self._alpha = alpha
        self._variant = variant
        self._k = (1.0 - alpha) / 256.0 if variant == "thesis" else (1.0 - 2.0 * alpha) / 256.0
        super().__init__(event_ndims, name, parameters)

    def _log_det_from_y(self, y):
        per_pixel = math.log(self._k) + tf.nn.softplus(-y) + tf.nn.softplus(y)
        return tf.reduce_sum(per_pixel, _event_axes(self._event_ndims))

    def _forward_and_log_det(self, x):
        # 1 − s = c + k·(256 − x) with c = 0 (thesis) or α (symmetric): computed from 256 − x, which is
        # exact in float32, so pixels just below 256 do not round s to 1.
        c = 0.0 if self._variant == "thesis" else self._alpha
        y = tf.math.log(self._alpha + self._k * x) - tf.math.log(c + self._k * (256.0 - x))
        return y, self._log_det_from_y(y)

    def _inverse_and_log_det(self, y):
        return (tf.sigmoid(y) - self._alpha) / self._k, -self._log_det_from_y(y)


# ------------------------------------------------------------------------------------ batch norm
class BatchNorm(FusedBijector):
    """Batch normalisation as a bijector (L1574–1588): ``z = a ⊙ x + b`` per channel, with
    ``a = (σ̂² + ν)^(-1/2)``, ``b = −μ̂ ⊙ a`` and ``log|det| = −½ Σᵢ log(σ̂²ᵢ + ν)`` summed over every
    position of an example (``H·W`` times per channel for images).

    * ``training=True``: μ̂, σ̂² are the (biased) moments of the current batch over every axis but the
      last, gradients flow through them, and log p of an example depends on its batch.
    * ``training=False``: the stored statistics of ``statistics`` (a
      :class:`tfzoo.flows.layers.BatchNormStatistics`) are used: forward and inverse are exact
      inverses and an example's log p does not depend on its batch. If those statistics are stale
      (the weights changed since they were accumulated) evaluation fails with a message saying so.
    * The inverse (generation) never uses batch statistics: it refuses ``training=True``.

    ``tap``: a list; when given, every forward appends its *input* (used to accumulate statistics).
    """

    def __init__(self, statistics, training: bool, event_ndims: int, tap: list | None = None,
                 check_statistics: bool = True, name: str = "batch_norm"):
        parameters = dict(locals())
        self._stats = statistics
        self._training = training
        self._tap = tap
        self._check = check_statistics
        super().__init__(event_ndims, name, parameters)

    def _stored(self):
        mean = tf.convert_to_tensor(self._stats.mean)
        variance = tf.convert_to_tensor(self._stats.variance)
        if self._check:
            with tf.control_dependencies([tf.debugging.assert_less(
                    tf.convert_to_tensor(self._stats.status), 1.5, message=(
                        f"{self._stats.name}: batch-norm statistics are stale (the weights changed "
                        "since they were accumulated); call model.accumulate_batch_norm_statistics("
                        "x_train) or train with the tfzoo.flows.BatchNormBijector callback"))]):
                mean, variance = tf.identity(mean), tf.identity(variance)
        return mean, variance

    def _positions(self, x):
        return tf.cast(tf.reduce_prod(tf.shape(x)[tf.rank(x) - self._event_ndims:-1]), tf.float32)

    def _forward_and_log_det(self, x):
        if self._tap is not None:
            self._tap.append(x)
        if self._training:
            mean, variance = tf.nn.moments(x, axes=list(range(len(x.shape) - 1)))
        else:
            mean, variance = self._stored()
        log_var = tf.math.log(variance + self._stats.nu)
        y = (x - mean) * tf.exp(-0.5 * log_var)
        return y, self._batch_zeros(x) - 0.5 * tf.reduce_sum(log_var) * self._positions(x)

    def _inverse_and_log_det(self, y):
        if self._training:
            raise ValueError("the batch-norm bijector's inverse (generation) uses stored statistics "
                             "only; build it with training=False")
        mean, variance = self._stored()
        log_var = tf.math.log(variance + self._stats.nu)
        return y * tf.exp(0.5 * log_var) + mean, self._batch_zeros(y) + 0.5 * tf.reduce_sum(log_var) * self._positions(y)


# ----------------------------------------------------------------------------------- multi-scale
class MultiScale(FusedBijector):
    """Real NVP's multi-scale architecture with factor-out (Fig. 5.10, L1597–1609).

    ``levels[l]`` is a list of image bijectors (couplings, batch norm, squeeze) forming f⁽ˡ⁺¹⁾. After
    every level but the last, half of the channels (the second half) are factored out and kept as
    that level's latent; the first half goes on to the next level:
    ``z = (z⁽¹⁾_I₂, …, z⁽ᴸ⁻¹⁾_I₂, z⁽ᴸ⁾)``. The forward maps an (h, w, c) image to the flat
    concatenation of the levels' latents (each flattened in row-major order), so
    ``forward_levels`` gives the per-level tensors used for conceptual compression (Figs. 5.15–5.16).
    """

    def __init__(self, levels: list, image_shape, name: str = "multi_scale"):
        parameters = dict(locals())
        self._levels = levels
        self._image_shape = tuple(image_shape)
        self._level_shapes = self.level_shapes(self._image_shape, [
            sum(isinstance(b, Squeeze) for b in level) for level in levels])
        super().__init__(3, name, parameters, inverse_event_ndims=1)

    @staticmethod
    def level_shapes(image_shape, squeezes_per_level) -> list:
        """Shape of each level's factored-out latent, e.g. for 64×64×3 and squeezes (1, 1, 1, 1, 0)
        → [(32, 32, 6), (16, 16, 12), (8, 8, 24), (4, 4, 48), (4, 4, 48)]."""
        h, w, c = image_shape
        shapes = []
        for index, squeezes in enumerate(squeezes_per_level):
            h, w, c = h // 2**squeezes, w // 2**squeezes, c * 4**squeezes
            last = index == len(squeezes_per_level) - 1
            shapes.append((h, w, c if last else c // 2))
            c = c if last else c // 2
        return shapes

    @property
    def latent_sizes(self) -> list:
        return [int(np.prod(s)) for s in self._level_shapes]

    def forward_levels(self, x):
        """``([z⁽¹⁾_I₂, …, z⁽ᴸ⁾], log-det)`` for images x."""
        latents, log_det = [], 0.0
        h = x
        for index, level in enumerate(self._levels):
            for bijector in level:
                h, ld = bijector.forward_and_log_det(h)
                log_det += ld
            if index < len(self._levels) - 1:
                keep, out = tf.split(h, 2, axis=-1)
                latents.append(out)
                h = keep
        latents.append(h)
        return latents, log_det

    def split_latent(self, z):
        """Flat latents (n, D) → the list of per-level tensors."""
        parts = tf.split(z, self.latent_sizes, axis=-1)
        return [tf.reshape(p, (-1, *s)) for p, s in zip(parts, self._level_shapes)]

    def inverse_levels(self, latents):
        """Images and log-det of f⁻¹ from the list of per-level latents."""
        h, log_det = latents[-1], 0.0
        for index in reversed(range(len(self._levels))):
            if index < len(self._levels) - 1:
                h = tf.concat([h, latents[index]], axis=-1)
            for bijector in reversed(self._levels[index]):
                h, ld = bijector.inverse_and_log_det(h)
                log_det += ld
        return h, log_det

    def _forward_and_log_det(self, x):
        latents, log_det = self.forward_levels(x)
        n = tf.shape(x)[0]
        return tf.concat([tf.reshape(z, (n, -1)) for z in latents], axis=-1), log_det

    def _inverse_and_log_det(self, y):
        return self.inverse_levels(self.split_latent(y))

    def _forward_event_shape(self, input_shape):
        return tf.TensorShape([sum(self.latent_sizes)])

    def _inverse_event_shape(self, output_shape):
        return tf.TensorShape(self._image_shape)

    def _forward_event_shape_tensor(self, input_shape):
        return tf.constant([sum(self.latent_sizes)], tf.int32)

    def _inverse_event_shape_tensor(self, output_shape):
        return tf.constant(self._image_shape, tf.int32)


# ------------------------------------------------------------------------------------------ priors
PRIORS = ("logistic", "gaussian")


def prior(kind: str, dim: int):
    """Standard prior over ``dim`` independent latents: ``"logistic"``, p(z) = σ(z)σ(−z) (L1489), or
    ``"gaussian"``, N(0, I) (L1489, L1630)."""
    if kind == "logistic":
        base = tfd.Logistic(loc=0.0, scale=1.0)
    elif kind == "gaussian":
        base = tfd.Normal(loc=0.0, scale=1.0)
    else:
        raise ValueError(f"prior must be one of {PRIORS}, got {kind!r}")
    return tfd.Sample(base, sample_shape=[dim])


def stateless_prior_sample(kind: str, n, dim: int, seed):
    """``n`` draws of the standard prior with stateless ops (``seed``: int tensor of shape [2])."""
    if kind == "logistic":
        u = tf.random.stateless_uniform((n, dim), seed=seed, minval=1e-7, maxval=1.0 - 1e-7)
        return tf.math.log(u) - tf.math.log1p(-u)
    return tf.random.stateless_normal((n, dim), seed=seed)


def bits_per_dim_from_nll(nll_nats, dims: int, delta: float = 1.0):
    """Bits/dim of a mean negative log-likelihood (eq. L1497): ``NLL / (d log 2) − log₂ δ``.

    δ is the quantum width in the space the NLL was measured in: 1/256 for pixels rescaled to [0, 1]
    (MNIST, TFD, SVHN), 2/256 for CIFAR-10 in [−1, 1], 1 for raw 0..255 pixels. Table 5.1:
    ``bits_per_dim_from_nll(-1980.50, 784, 1/256) ≈ 4.36``.
    """
    return nll_nats / (dims * math.log(2.0)) - math.log2(delta)


class Sequence(FusedBijector):
    """The composition of fused bijectors applied in list order (``tfb.Chain`` takes the reverse
    order); log-determinants add (L1401–1418: ``det(BA) = det B · det A``)."""

    def __init__(self, steps: list, event_ndims: int, name: str = "sequence"):
        parameters = dict(locals())
        self._steps = list(steps)
        super().__init__(event_ndims, name, parameters)

    def _forward_and_log_det(self, x):
        log_det = self._batch_zeros(x)
        for step in self._steps:
            x, ld = step.forward_and_log_det(x)
            log_det += ld
        return x, log_det

    def _inverse_and_log_det(self, y):
        log_det = self._batch_zeros(y)
        for step in reversed(self._steps):
            y, ld = step.inverse_and_log_det(y)
            log_det += ld
        return y, log_det
