"""ShadowNet: a ReLU MLP trained with SHADOW, synthetic inputs from its own shadow distribution.

Paper: ``001_ba50c8426a439536.txt`` (Arora, Liang, Ma), experiments at P612–649, method at P36,
P232. The net (P612–616) is

    h̃₁ = r(W₁ᵀx + b₁),  h̃₂ = r(W₂ᵀh̃₁ + b₂),  h̃₃ = W₃ᵀh̃₂ + b₃     (5000, 5000 and 10 units),

:class:`tfzoo.classifiers.models.MLPClassifier` with dropout 0.5 after each hidden ReLU (P622:
"trained both with and without dropout ... the dropout ratio is 0.5"), which this class extends.
Its shadow sample (P618) runs the same weights backwards, without biases or scaling:

    h₁ = r(W₂h̃₂),  x′ = r(W₁h₁)                                      (P618; P618's "h̃₁" is this h₁)

with variants: from the logits ``h̃₃`` (P626, Figure 6: ``h₂ = r(W₃h̃₃)`` first), with a dropout mask
of keep probability 0.5 on every generated layer (eq. 27, P630–634), and with a 3×3 box smoothing
of x′ (eq. 28, P636–649: "each pixel of x″ [is] the average of the pixels in its 3×3
neighborhood"; at the border the average is over the pixels inside the image).

**SHADOW training** (P232): "During each iteration, for each real image one synthetic image is
generated from the highest hidden layer using the shadow distribution. The loss on the synthetic
images is weighted by a regularization parameter" λ = 2^b, b ∈ {−3..3} (P622). Per mini-batch

    L = (1/B) Σᵢ ℓ(f(xᵢ), yᵢ) + λ (1/B) Σᵢ ℓ(f(x′ᵢ), y′ᵢ),

x′ regenerated at every step from the current weights. What the paper leaves open is an option,
with the defaults of the notes (specs/lecture_and_arora.md B6.5):

* ``synthetic_label``: ``"true"`` (x′ keeps the label of its source image: P232 "synthetic images
  together with labels", scribe S36 "x̃ has the same label") or ``"predicted"`` (the current net's
  label z of x, P36);
* ``generator_gradient``: False stops the gradient at x′ (x′ is "added to the training set", P36);
  True backpropagates the synthetic loss through the generator too;
* ``scale``: ``"none"`` (P618 has no scale), ``"alpha"`` (eq. 1's α = 2/(ρn) on each generated layer
  of width n, ρ the sampling keep probability) or ``"match_norm"`` (x′ rescaled to ‖x‖ per example);
* the top activations used for generation are computed in inference mode (no dropout), and the
  synthetic forward pass draws its own dropout masks (so λ = 0 trains exactly like the plain
  :class:`~tfzoo.classifiers.models.MLPClassifier`).

``evaluate`` returns the real loss and accuracy plus ``shadow_loss``/``shadow_accuracy`` on synthetic
data generated from the evaluated set (the paper's "error on synthetic", P642).

Example:
    >>> import tfzoo                                                   # doctest: +SKIP
    >>> model = tfzoo.create_model("shadownet-mnist-small")            # doctest: +SKIP
    >>> x_synthetic = model.shadow_sample(x_test[:8])                  # doctest: +SKIP
    >>> model.fit(x_train, y_train, batch_size=100, epochs=1)          # doctest: +SKIP
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfzoo.base import Arg, Endpoint
from tfzoo.classifiers.dropout import Dropout
from tfzoo.classifiers.models import MLPClassifier
from tfzoo.seeds import stateless_seed

SHADOW_SOURCES = ("hidden", "logits")
SYNTHETIC_LABELS = ("true", "predicted")
SCALES = ("none", "alpha", "match_norm")


def box_smooth_3x3(images):
    """Eq. (28)'s Smooth: each pixel becomes the mean of its 3×3 neighbourhood, per channel.

    ``images``: ``(batch, H, W, C)``. At the border only pixels inside the image are averaged
    (``avg_pool2d`` with SAME padding excludes the padding from the count).
    """
    return tf.nn.avg_pool2d(images, ksize=3, strides=1, padding="SAME")


@keras.saving.register_keras_serializable(package="tfzoo")
class ShadowNet(MLPClassifier):
    """The SHADOW paper's fully connected ReLU net with ``shadow_sample`` and SHADOW training.

    Args:
        hidden_units: widths of the hidden ReLU layers (the paper: ``(5000, 5000)``, P616).
        dropout: dropout rate after each hidden ReLU (P622: 0.5 or none), tfzoo's
            :class:`~tfzoo.classifiers.dropout.Dropout` in ``dropout_convention``.
        shadow_weight: λ, the weight of the synthetic loss (P622: 2^b, b ∈ {−3, ..., 3}).
        shadow_from: ``"hidden"`` (h̃₂, the highest hidden layer, P618) or ``"logits"`` (h̃₃, P626).
        sampling_keep_prob: None, or the keep probability of eq. (27)'s masks (the paper: 0.5).
        smooth: apply eq. (28)'s 3×3 box filter to x′ (needs an image input shape ``(H, W, C)``).
        synthetic_label, generator_gradient, scale: see the module docstring.
        input_shape, num_classes, input_scale, input_offset, seed: as ``MLPClassifier``; inputs are
            raw pixels, scaled by ``input_scale`` inside the model (x′ lives in that scaled space;
            :meth:`shadow_sample` returns it in raw units).
    """

    def __init__(self, *, hidden_units=(5000, 5000), dropout=0.5, dropout_convention="inverted",
                 shadow_weight=1.0, shadow_from="hidden", sampling_keep_prob=None, smooth=False,
                 synthetic_label="true", generator_gradient=False, scale="none", input_shape=(28, 28, 1),
                 num_classes=10, input_scale=1 / 255, input_offset=0.0, seed=None, **kwargs):
        for name, value, allowed in (("shadow_from", shadow_from, SHADOW_SOURCES),
                                     ("synthetic_label", synthetic_label, SYNTHETIC_LABELS),
                                     ("scale", scale, SCALES)):
            if value not in allowed:
                raise ValueError(f"ShadowNet: {name} must be one of {allowed}, got {value!r}")
        if sampling_keep_prob is not None and not 0 < sampling_keep_prob <= 1:
            raise ValueError(f"ShadowNet: sampling_keep_prob must be None or in (0, 1], got {sampling_keep_prob}")
        if shadow_weight < 0:
            raise ValueError(f"ShadowNet: shadow_weight (λ) must be >= 0, got {shadow_weight}")
        if smooth and len(input_shape) != 3:
            raise ValueError(f"ShadowNet: smooth=True needs an image input shape (H, W, C), got {tuple(input_shape)}")
        super().__init__(hidden_units=hidden_units, activation="relu", dropout=dropout,
                         dropout_convention=dropout_convention, input_shape=input_shape,
                         num_classes=num_classes, input_scale=input_scale, input_offset=input_offset,
                         seed=seed, **kwargs)
        self.shadow_weight = float(shadow_weight)
        self.shadow_from = shadow_from
        self.sampling_keep_prob = sampling_keep_prob
        self.smooth = smooth
        self.synthetic_label = synthetic_label
        self.generator_gradient = generator_gradient
        self.scale = scale
        self.dense_layers = [layer for _, layer in self.stages if isinstance(layer, keras.layers.Dense)]
        # The synthetic forward pass draws its own dropout masks, leaving the real pass's RNG alone.
        self.synthetic_dropout = {
            name: Dropout(layer.rate, layer.convention, seed=None if seed is None else seed + 1000 + i)
            for i, (name, layer) in enumerate(self.stages) if isinstance(layer, Dropout)}
        for layer in self.synthetic_dropout.values():
            layer.build(None)  # weightless; built now so that building the model sees no unbuilt state
        self.shadow_seed_generator = keras.random.SeedGenerator(None if seed is None else seed + 2000)
        self.shadow_loss_tracker = keras.metrics.Mean(name="shadow_loss")
        self.shadow_accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="shadow_accuracy")

    # ------------------------------------------------------------ forward
    def scale_input(self, x):
        """Raw input → the network's input space ``x·input_scale + input_offset`` (checked)."""
        return self.check_input(x) * self.input_scale + self.input_offset

    def unscale_input(self, z):
        """The network's input space → raw input units (inverse of :meth:`scale_input`)."""
        return (z - self.input_offset) / self.input_scale

    def forward_scaled(self, z, training=False, synthetic=False):
        """Logits and hidden ReLU activations ``[h̃₁, ..., h̃_L]`` of a scaled input ``z``.

        ``synthetic=True`` uses the synthetic pass's own dropout layers.
        """
        h, hidden = z, []
        for name, layer in self.stages:
            if synthetic and name in self.synthetic_dropout:
                layer = self.synthetic_dropout[name]
            h = layer(h, training=training)
            if name.endswith("_relu"):
                hidden.append(h)
        return h, hidden

    def hidden(self, x):
        """The hidden ReLU activations ``(h̃₁, ..., h̃_L)`` in inference mode."""
        return tuple(self.forward_scaled(self.scale_input(x))[1])

    # --------------------------------------------------------- generation
    def generate_scaled(self, z, seed=None):
        """x′ in the scaled input space, and the inference-mode logits of ``z``.

        ``seed``: the seed of the masks of eq. (27), an int or a shape-[2] seed (unused without sampling).
        Runs ``v ← r(α·v Wᵀ) [⊙ mask]`` down through the Dense kernels from h̃_L (or the logits),
        then smooths and rescales as configured. Gradients flow into the kernels only with
        ``generator_gradient=True``.
        """
        logits, hidden = self.forward_scaled(z, training=False)
        if self.shadow_from == "logits":
            top, kernels = logits, [layer.kernel for layer in self.dense_layers]
        else:
            top, kernels = hidden[-1], [layer.kernel for layer in self.dense_layers[:-1]]
        keep = self.sampling_keep_prob
        v = top
        for depth, kernel in enumerate(reversed(kernels)):
            width = kernel.shape[0]
            alpha = 2.0 / ((keep or 1.0) * width) if self.scale == "alpha" else 1.0
            v = tf.nn.relu(alpha * tf.matmul(v, kernel, transpose_b=True))
            if keep is not None and keep < 1:
                layer_seed = tf.random.experimental.stateless_fold_in(stateless_seed(seed, dtype=tf.int64), depth)
                mask = tf.random.stateless_uniform(tf.shape(v), seed=layer_seed) < keep
                v = v * tf.cast(mask, v.dtype)
        x_synthetic = tf.reshape(v, tf.shape(z))
        if self.smooth:
            x_synthetic = box_smooth_3x3(x_synthetic)
        if self.scale == "match_norm":
            axes = list(range(1, len(z.shape)))
            real_norm = tf.sqrt(tf.reduce_sum(tf.square(z), axis=axes, keepdims=True))
            synthetic_norm = tf.sqrt(tf.reduce_sum(tf.square(x_synthetic), axis=axes, keepdims=True))
            x_synthetic = x_synthetic * real_norm / tf.maximum(synthetic_norm, 1e-12)
        if not self.generator_gradient:
            x_synthetic = tf.stop_gradient(x_synthetic)
        return x_synthetic, logits

    def shadow_sample(self, x, seed: int = 0):
        """Synthetic inputs x′ for the raw inputs ``x`` (same shape and units as ``x``).

        ``seed`` (an integer) fixes the masks of the sampling variant (eq. 27); the base variant is
        deterministic.
        """
        x_synthetic, _ = self.generate_scaled(self.scale_input(x), stateless_seed(seed, 0, dtype=tf.int64))
        return self.unscale_input(x_synthetic)

    # ----------------------------------------------------------- training
    def synthetic_batch(self, x, y, seed):
        """``(x′ scaled, y′, synthetic logits)`` for a real batch: one synthetic per real example."""
        z = self.scale_input(x)
        x_synthetic, logits = self.generate_scaled(z, seed)
        if self.synthetic_label == "predicted":
            y = tf.argmax(logits, axis=-1)
        return x_synthetic, y

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """``real loss + λ · synthetic loss`` in training; the real loss in evaluation.

        The synthetic loss (and accuracy) is tracked as ``shadow_loss``/``shadow_accuracy`` in both,
        so ``evaluate`` reports the error on synthetic data generated from the evaluated set.
        """
        real_loss = super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        x_synthetic, y_synthetic = self.synthetic_batch(x, y, self.shadow_seed_generator.next())
        logits_synthetic, _ = self.forward_scaled(x_synthetic, training=training, synthetic=True)
        shadow_loss = super().compute_loss(x=x_synthetic, y=y_synthetic, y_pred=logits_synthetic,
                                           sample_weight=sample_weight, training=training)
        self.shadow_loss_tracker.update_state(shadow_loss)
        self.shadow_accuracy_tracker.update_state(y_synthetic, logits_synthetic)
        return real_loss + self.shadow_weight * shadow_loss if training else real_loss

    # ------------------------------------------------------------- export
    def endpoints(self) -> dict:
        """``serve(x) → logits``, ``shadow_sample(x, seed) → x′``, ``hidden(x) → (h̃₁, ..., h̃_L)``."""
        endpoints = super().endpoints()
        endpoints["shadow_sample"] = Endpoint(self.shadow_sample, self.data_arg(), Arg.seed())
        endpoints["hidden"] = Endpoint(self.hidden, self.data_arg())
        return endpoints


class SyntheticTestError(keras.callbacks.Callback):
    """Adds ``test_error`` and ``synthetic_test_error`` to the logs every ``every_n_epochs``.

    ``synthetic_test_error`` is the error on shadow samples generated from the test set, each
    scored against the true label of its source image (P642: "'error on synthetic'
    is the testing error on the synthetic data generated from the test set"; P234/P624: it "tracks"
    the real test error). Works for any :class:`ShadowNet`, whatever its ``shadow_weight``.
    """

    def __init__(self, x_test, y_test, batch_size: int = 500, every_n_epochs: int = 1, seed: int = 0):
        super().__init__()
        self.x_test = x_test
        self.y_test = np.asarray(y_test)
        self.batch_size = batch_size
        self.every_n_epochs = every_n_epochs
        self.seed = seed
        self.history: dict = {"epoch": [], "test_error": [], "synthetic_test_error": []}

    def errors(self, model) -> tuple:
        """``(real test error, synthetic test error)`` of ``model`` now."""
        wrong_real = wrong_synthetic = 0
        for start in range(0, len(self.y_test), self.batch_size):
            x = self.x_test[start:start + self.batch_size]
            y = self.y_test[start:start + self.batch_size]
            seed = stateless_seed(self.seed, start, dtype=tf.int64)
            x_synthetic, logits = model.generate_scaled(model.scale_input(x), seed)
            logits_synthetic, _ = model.forward_scaled(x_synthetic)
            wrong_real += int(np.sum(np.argmax(logits, -1) != y))
            wrong_synthetic += int(np.sum(np.argmax(logits_synthetic, -1) != y))
        return wrong_real / len(self.y_test), wrong_synthetic / len(self.y_test)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        real, synthetic = self.errors(self.model)
        self.history["epoch"].append(epoch + 1)
        self.history["test_error"].append(real)
        self.history["synthetic_test_error"].append(synthetic)
        if logs is not None:
            logs["test_error"], logs["synthetic_test_error"] = real, synthetic
