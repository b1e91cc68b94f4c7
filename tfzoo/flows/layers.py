"""Keras 3 layers that own the flows' variables; each hands out a TFP bijector that uses them.

* :class:`MLPCouplingNet` — NICE's t network (L1454): a ReLU MLP reading x_I₁ and writing (t, n) for I₂;
* :class:`ResNetCouplingNet` — Real NVP's convolutional ResNet (L1630–1652), optionally with
  :class:`WeightNormConv2D` (weight normalisation, L1576, with the L2 penalty on its scales, L1652);
* :class:`CouplingLayer` — a mask, a network and the learned scalar ``scale`` of
  ``s = scale · tanh(n)`` (initialised to 0, so an affine coupling starts as the identity in s);
  ``bijector()`` returns a :class:`tfzoo.flows.bijectors.MaskedCoupling`;
* :class:`DiagonalScalingLayer` — NICE's exp(γ);
* :class:`BatchNormStatistics` — the explicit statistics of a batch-norm bijector.

Example:
    >>> from tfzoo.flows.layers import CouplingLayer
    >>> layer = CouplingLayer(event_shape=(8, 8, 2), mask="checkerboard", parity=1,
    ...                       coupling="affine", num_blocks=1, feature_maps=4)
    >>> layer.build((None, 8, 8, 2))
    >>> float(layer.scale.numpy())
    0.0
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfzoo.flows import bijectors

MASKS = ("alternating", "checkerboard", "channel")
COUPLINGS = ("additive", "affine")


class MLPCouplingNet(keras.layers.Layer):
    """ReLU MLP on the unchanged coordinates I₁ (mask = 1) with a linear output for I₂.

    The network sees ``x[I₁]`` (|I₁| inputs) and returns full-length ``(t, n)`` with zeros on I₁, as
    NICE's split form: for MNIST with 5×1000 hidden units this is 4,789,392 weights per coupling.
    """

    def __init__(self, mask, hidden_layers: int, hidden_units: int, with_log_scale: bool, **kwargs):
        super().__init__(**kwargs)
        mask = np.asarray(mask).reshape(-1)
        self.kept = np.flatnonzero(mask == 1).astype("int32")
        self.free = np.flatnonzero(mask == 0).astype("int32")
        # position of each coordinate in concat([x_I₁, out_I₂]), to scatter outputs back in place
        self.unpermute = np.argsort(np.concatenate([self.kept, self.free])).astype("int32")
        self.with_log_scale = with_log_scale
        self.hidden = [keras.layers.Dense(hidden_units, activation="relu", name=f"hidden{i}")
                       for i in range(hidden_layers)]
        self.out = keras.layers.Dense(len(self.free) * (2 if with_log_scale else 1), name="output")

    def build(self, input_shape):
        width = len(self.kept)
        for layer in self.hidden:
            layer.build((None, width))
            width = layer.units
        self.out.build((None, width))

    def _scatter(self, values):
        zeros = tf.zeros((tf.shape(values)[0], len(self.kept)), values.dtype)
        return tf.gather(tf.concat([zeros, values], -1), self.unpermute, axis=-1)

    def call(self, masked_x):
        h = tf.gather(masked_x, self.kept, axis=-1)
        for layer in self.hidden:
            h = layer(h)
        h = self.out(h)
        if not self.with_log_scale:
            return self._scatter(h), None
        t, n = tf.split(h, 2, axis=-1)
        return self._scatter(t), self._scatter(n)


class WeightNormConv2D(keras.layers.Layer):
    """A "same"-padded, stride-1 convolution with weight normalisation (Salimans & Kingma 2016),
    the reparametrisation Real NVP uses against poor conditioning (L1574–1576): each output
    channel's kernel is ``w_c = g_c · v_c / ‖v_c‖₂`` with a free direction ``v_c`` and a scale
    ``g_c``. The thesis adds "a small L2 regularizer ‖θ‖² on the weight scale parameters (in weight
    normalization parametrization) with a coefficient of 5·10⁻⁵" (L1652): ``scale_l2`` · Σ g_c²
    enters ``layer.losses``. At initialisation ``g_c = ‖v_c‖₂``, so w starts as the Glorot-uniform
    kernel an ordinary ``Conv2D`` would have [choice: the thesis gives no initialisation].

    Example:
        >>> conv = WeightNormConv2D(4, 3)
        >>> conv.build((None, 8, 8, 2))
        >>> [tuple(v.shape) for v in (conv.direction, conv.scale, conv.bias)]
        [(3, 3, 2, 4), (4,), (4,)]
    """

    def __init__(self, filters: int, kernel_size: int = 3, scale_l2: float = 5e-5, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.scale_l2 = filters, kernel_size, scale_l2

    def build(self, input_shape):
        k = self.kernel_size
        self.direction = self.add_weight(shape=(k, k, input_shape[-1], self.filters),
                                         initializer="glorot_uniform", name="direction")
        self.scale = self.add_weight(shape=(self.filters,), initializer="ones", name="scale",
                                     regularizer=keras.regularizers.L2(self.scale_l2) if self.scale_l2 else None)
        self.scale.assign(tf.norm(tf.reshape(self.direction, (-1, self.filters)), axis=0))
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")

    @property
    def kernel(self):
        return self.scale * tf.math.l2_normalize(self.direction, axis=(0, 1, 2))

    def call(self, x):
        return tf.nn.conv2d(x, self.kernel, 1, "SAME") + self.bias


class ResNetCouplingNet(keras.layers.Layer):
    """Real NVP's s/t network (L1635–1652): 3×3 conv to ``feature_maps``, ``num_blocks`` residual
    blocks ``h + conv(relu(conv(relu(h))))`` (one hidden layer each, identity shortcut), ReLU and a
    linear 3×3 conv to 2c outputs (t and n). Kernel sizes are not in the thesis [choice: 3×3].
    With ``weight_norm`` every convolution is a :class:`WeightNormConv2D` (L1576, L1652) whose
    scales carry the L2 penalty ``weight_scale_l2``. Whether batch norm is also used *inside* s/t is
    not in the thesis (notes §5.3): tfzoo's batch norm is the bijector between couplings only.
    """

    def __init__(self, channels: int, num_blocks: int, feature_maps: int, with_log_scale: bool,
                 weight_norm: bool = False, weight_scale_l2: float = 5e-5, **kwargs):
        super().__init__(**kwargs)
        if weight_norm:
            def conv(filters, kernel_size, padding, name):
                return WeightNormConv2D(filters, kernel_size, weight_scale_l2, name=name)
        else:
            conv = keras.layers.Conv2D
        self.with_log_scale = with_log_scale
        self.inp = conv(feature_maps, 3, padding="same", name="input_conv")
        self.blocks = [(conv(feature_maps, 3, padding="same", name=f"block{i}_hidden"),
                        conv(feature_maps, 3, padding="same", name=f"block{i}_out"))
                       for i in range(num_blocks)]
        self.out = conv(channels * (2 if with_log_scale else 1), 3, padding="same", name="output_conv")

    def build(self, input_shape):
        shape = (None, None, None, input_shape[-1])
        self.inp.build(shape)
        hidden = (None, None, None, self.inp.filters)
        for first, second in self.blocks:
            first.build(hidden)
            second.build(hidden)
        self.out.build(hidden)

    def call(self, masked_x):
        h = self.inp(masked_x)
        for first, second in self.blocks:
            h = h + second(tf.nn.relu(first(tf.nn.relu(h))))
        h = self.out(tf.nn.relu(h))
        if not self.with_log_scale:
            return h, None
        t, n = tf.split(h, 2, axis=-1)
        return t, n


class CouplingLayer(keras.layers.Layer):
    """A coupling layer's variables and mask; :meth:`bijector` returns the TFP bijector.

    Args:
        event_shape: shape of one example: (d,) uses an MLP network, (h, w, c) a ResNet.
        mask: ``"alternating"`` (1-D), ``"checkerboard"`` or ``"channel"`` (images).
        parity: 0 or 1, which half is left unchanged.
        coupling: ``"additive"`` (NICE) or ``"affine"`` (Real NVP).
        order: ``"shift_then_scale"`` (thesis L1364) or ``"scale_then_shift"`` (paper, TFP).
        hidden_layers, hidden_units: the MLP's size.
        num_blocks, feature_maps: the ResNet's size.
        weight_norm, weight_scale_l2: weight-normalised ResNet convolutions and the L2 coefficient
            on their scales (:class:`WeightNormConv2D`; images only).
    """

    def __init__(self, *, event_shape, mask="alternating", parity=0, coupling="affine",
                 order="shift_then_scale", hidden_layers=2, hidden_units=64, num_blocks=2,
                 feature_maps=32, weight_norm=False, weight_scale_l2=5e-5, **kwargs):
        super().__init__(**kwargs)
        if mask not in MASKS or coupling not in COUPLINGS:
            raise ValueError(f"mask must be one of {MASKS} and coupling one of {COUPLINGS}, "
                             f"got {mask!r}, {coupling!r}")
        self.event_shape = tuple(event_shape)
        self._mask_fn = None  # a size-independent mask function (checkerboards)
        self.coupling = coupling
        self.order = order
        affine = coupling == "affine"
        if len(self.event_shape) == 1:
            if mask != "alternating":
                raise ValueError(f"vector events use the 'alternating' mask, got {mask!r}")
            self.mask = bijectors.alternating_mask(self.event_shape[0], parity)
            self.net = MLPCouplingNet(self.mask, hidden_layers, hidden_units, affine, name="net")
        elif len(self.event_shape) == 3:
            h, w, c = self.event_shape
            if mask == "checkerboard":
                self.mask = bijectors.checkerboard_mask(h, w, parity)
                self._mask_fn = lambda x, parity=parity: bijectors.checkerboard_mask_like(x, parity)
            elif mask == "channel":
                self.mask = bijectors.channel_mask(c, parity)
            else:
                raise ValueError("images use the 'checkerboard' or 'channel' mask")
            self.net = ResNetCouplingNet(c, num_blocks, feature_maps, affine, weight_norm,
                                         weight_scale_l2, name="net")
        else:
            raise ValueError(f"event_shape must be (d,) or (h, w, c), got {self.event_shape}")

    def build(self, input_shape):
        self.net.build((None, *self.event_shape))
        # s = scale · tanh(n): scale starts at 0, so the layer starts with s = 0 (A8, tensorflow/models).
        self.scale = (self.add_weight(shape=(), initializer="zeros", name="scale")
                      if self.coupling == "affine" else None)

    def bijector(self) -> bijectors.MaskedCoupling:
        return bijectors.MaskedCoupling(self._mask_fn or self.mask, self.net, self.scale, self.order,
                                        event_ndims=len(self.event_shape), name=self.name)


class DiagonalScalingLayer(keras.layers.Layer):
    """The learned vector γ of NICE's final ``exp(γ)`` scaling (L1454), initialised to 0."""

    def __init__(self, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim

    def build(self, input_shape):
        self.log_scale = self.add_weight(shape=(self.dim,), initializer="zeros", name="log_scale")

    def bijector(self) -> bijectors.DiagonalScaling:
        return bijectors.DiagonalScaling(self.log_scale, event_ndims=1, name=self.name)


class BatchNormStatistics(keras.layers.Layer):
    """The stored statistics of one batch-norm bijector (non-trainable, saved with the model).

    ``mean`` and ``variance`` (per channel) start at 0 and 1 (the identity map); ``status`` is 0 for
    those initial values, 1 once exact statistics were accumulated and 2 when a training step has
    made them stale (inference then fails with a clear message).
    """

    INITIAL, ACCUMULATED, STALE = 0.0, 1.0, 2.0

    def __init__(self, channels: int, nu: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.nu = nu

    def build(self, input_shape):
        self.mean = self.add_weight(shape=(self.channels,), initializer="zeros", trainable=False,
                                    name="mean")
        self.variance = self.add_weight(shape=(self.channels,), initializer="ones", trainable=False,
                                        name="variance")
        self.status = self.add_weight(shape=(), initializer="zeros", trainable=False, name="status")

    def bijector(self, training: bool, tap=None, check_statistics=True) -> bijectors.BatchNorm:
        return bijectors.BatchNorm(self, training, event_ndims=3, tap=tap,
                                   check_statistics=check_statistics, name=self.name)
