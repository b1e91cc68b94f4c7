"""Residual networks with stochastic depth (Huang et al. 2016, cited by Lecture 3 at L33).

The lecture (``shared/papers/002_e592b05206285d1e.txt``) only lists the paper in its bibliography
(L33, next to dropout's regularisation section L355–389). **EXTERNAL** — the definitions below are
Huang, Sun, Liu, Sedra, Weinberger, "Deep Networks with Stochastic Depth" (arXiv 1603.09382), §3:

* training, eq. (2): ``H_l = ReLU(b_l f_l(H_{l-1}) + id(H_{l-1}))`` with ``b_l ~ Bernoulli(p_l)`` drawn
  once per minibatch (the whole branch is kept or skipped for every example of the batch);
* linear decay rule, eq. (4): ``p_l = 1 - l/L (1 - p_L)`` with ``p_0 = 1`` and ``p_L = 0.5``;
* test time, eq. (5): ``H_l = ReLU(p_l f_l(H_{l-1}) + H_{l-1})``;
* ``f_l`` is the Conv-BN-ReLU-Conv-BN branch of He et al.'s CIFAR ResNets, and downsampling shortcuts
  are average pooling with zero-padded channels ("option A", ``ResidualDrop.lua`` of the authors' code);
* expected depth under linear decay is ``Σ p_l ≈ 3L/4``, which is where the training speed-up
  (about 25% on CIFAR-10, 110 layers) comes from: a skipped branch is not computed at all
  (``tf.cond``), so its weights get a zero gradient for that minibatch.

Example:
    >>> model = StochasticDepthResNet(blocks_per_stage=1, filters=(4, 8, 16))
    >>> model.build_from_preset()
    >>> [round(p, 3) for p in model.survival_probabilities]
    [0.833, 0.667, 0.5]
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfzoo.classifiers.models import StagedClassifier

# Torch's BatchNorm default (momentum 0.1: running = 0.9 running + 0.1 batch), used by the authors' code.
BN_MOMENTUM = 0.9


def linear_decay_survival(num_blocks: int, final_survival_probability: float = 0.5) -> list[float]:
    """``p_l = 1 - l/L (1 - p_L)`` for ``l = 1..L`` (Huang et al. eq. 4, EXTERNAL)."""
    if not 0.0 < final_survival_probability <= 1.0:
        raise ValueError(f"final_survival_probability must be in (0, 1], got {final_survival_probability}")
    return [1.0 - l / num_blocks * (1.0 - final_survival_probability) for l in range(1, num_blocks + 1)]


@keras.saving.register_keras_serializable(package="tfzoo")
class StochasticDepthBlock(keras.layers.Layer):
    """``ReLU(b f(x) + shortcut(x))`` in training, ``ReLU(p f(x) + shortcut(x))`` at inference.

    ``f`` = Conv3×3-BN-ReLU-Conv3×3-BN with ``filters`` channels and ``strides``; the shortcut is the
    identity, or 2×2 average pooling with zero-padded extra channels when the shape changes.
    ``b ~ Bernoulli(survival_probability)`` once per call; with ``b = 0`` the branch is not run.
    """

    def __init__(self, filters: int, strides: int = 1, survival_probability: float = 1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.strides, self.survival_probability, self.seed = filters, strides, survival_probability, seed
        L = keras.layers
        self.branch = [L.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False),
                       L.BatchNormalization(momentum=BN_MOMENTUM), L.ReLU(),
                       L.Conv2D(filters, 3, padding="same", use_bias=False), L.BatchNormalization(momentum=BN_MOMENTUM)]
        self.gate_seed = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.branch:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.input_channels = input_shape[-1]

    def residual(self, x, training=False):
        """The branch ``f(x)``."""
        for layer in self.branch:
            x = layer(x, training=training)
        return x

    def shortcut(self, x):
        """Identity, or option A: average-pool by the stride and zero-pad the new channels."""
        if self.strides > 1:
            x = tf.nn.avg_pool2d(x, self.strides, self.strides, "SAME")
        extra = self.filters - self.input_channels
        if extra:
            x = tf.pad(x, [[0, 0], [0, 0], [0, 0], [extra // 2, extra - extra // 2]])
        return x

    def gate(self):
        """One ``Bernoulli(p)`` draw (a boolean scalar) for the whole minibatch."""
        return keras.random.uniform((), seed=self.gate_seed) < self.survival_probability

    def call(self, x, training=False):
        identity = self.shortcut(x)
        if not training:
            return tf.nn.relu(self.survival_probability * self.residual(x) + identity)
        if self.survival_probability == 1.0:
            return tf.nn.relu(self.residual(x, training=True) + identity)
        return tf.cond(self.gate(), lambda: tf.nn.relu(self.residual(x, training=True) + identity),
                       lambda: tf.nn.relu(identity))

    def compute_output_shape(self, input_shape):
        h, w = input_shape[1], input_shape[2]
        shrink = (lambda s: None if s is None else -(-s // self.strides))
        return (input_shape[0], shrink(h), shrink(w), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides,
                "survival_probability": self.survival_probability, "seed": self.seed}


@keras.saving.register_keras_serializable(package="tfzoo")
class StochasticDepthResNet(StagedClassifier):
    """He et al.'s CIFAR ResNet (3 stages, ``6n + 2`` layers) with stochastic depth on every block.

    Conv3×3(16)-BN-ReLU, then ``blocks_per_stage`` blocks of ``filters[0]``, ``filters[1]`` (stride 2)
    and ``filters[2]`` (stride 2) channels, global average pooling and a dense classifier. Survival
    probabilities decay linearly over all ``L = 3 × blocks_per_stage`` blocks to
    ``final_survival_probability`` (Huang et al. eq. 4, EXTERNAL); ``final_survival_probability=1``
    is the same ResNet at constant depth (the baseline of the paper's Table 1). Inputs are raw pixel
    values (0..255), scaled by 1/255 inside.
    """

    def __init__(self, *, blocks_per_stage=3, filters=(16, 32, 64), final_survival_probability=0.5,
                 input_shape=(28, 28, 1), num_classes=10, seed=0, **kwargs):
        super().__init__(input_shape=input_shape, num_classes=num_classes, input_scale=1 / 255,
                         input_offset=0.0, **kwargs)
        L = keras.layers
        num_blocks = 3 * blocks_per_stage
        self.survival_probabilities = linear_decay_survival(num_blocks, final_survival_probability)
        self.add_stage("stem_conv", L.Conv2D(filters[0], 3, padding="same", use_bias=False))
        self.add_stage("stem_bn", L.BatchNormalization(momentum=BN_MOMENTUM))
        self.add_stage("stem_relu", L.ReLU())
        index = 0
        for stage, width in enumerate(filters):
            for block in range(blocks_per_stage):
                strides = 2 if stage > 0 and block == 0 else 1
                self.add_stage(f"block{index + 1}", StochasticDepthBlock(
                    width, strides, self.survival_probabilities[index], seed=seed + index))
                index += 1
        self.add_stage("pool", L.GlobalAveragePooling2D())
        self.add_stage("logits", L.Dense(num_classes))

    @property
    def blocks(self) -> list[StochasticDepthBlock]:
        return [layer for _, layer in self.stages if isinstance(layer, StochasticDepthBlock)]

    def expected_depth(self) -> float:
        """``Σ_l p_l``, the expected number of residual branches run per training step (≈ 3L/4 at p_L = 0.5)."""
        return float(np.sum(self.survival_probabilities))

