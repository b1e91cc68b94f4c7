"""The sparse auto-encoder with the KL sparsity penalty (Lecture 3, L511–578).

``shared/papers/002_e592b05206285d1e.txt``:

* sigmoid hidden units ``a⁽²⁾ = f(W⁽¹⁾x + b⁽¹⁾)``; average activation of unit ``j`` (L535)
  ``rho_hat_j = (1/m) Σ_i a_j⁽²⁾(x⁽ⁱ⁾)``; sparsity target ``rho`` "close to 0, e.g. 0.05" (L536–537);
* penalty (L553) ``Σ_j KL(rho || rho_hat_j) = Σ_j rho log(rho/rho_hat_j) + (1-rho) log((1-rho)/(1-rho_hat_j))``,
  the KL divergence between Bernoulli(rho) and Bernoulli(rho_hat_j);
* objective (L560) ``J_sparse(W, b) = J(W, b) + beta Σ_j KL(rho || rho_hat_j)``, ``J`` a squared
  reconstruction loss (L562); the lecture gives no ``beta``;
* the input of norm at most 1 that maximally activates hidden unit ``i`` (L571–572):
  ``x_j = W⁽¹⁾_ij / sqrt(Σ_j (W⁽¹⁾_ij)²)``.

``rho_hat`` is defined over the whole training set (L535). With minibatches this model offers
``rho_hat_mode="batch"`` (the minibatch mean) or ``"running"``: ``rho_hat = decay * running +
(1 - decay) * batch mean``, where ``running`` (a non-trainable weight, updated every step) carries the
older batches and receives no gradient.

Example:
    >>> model = SparseAutoencoder(input_shape=(64,), hidden_units=25, rho=0.05, beta=3.0)
    >>> model.build_from_preset()
    >>> from tfzoo.recipe import Recipe
    >>> model.compile_from_recipe(Recipe(optimizer="adam", learning_rate=1e-3))
    >>> from tfzoo import testing
    >>> _ = model.fit(testing.example_batch(model, 32), batch_size=16, epochs=1, verbose=0)
    >>> model.max_activating_inputs().shape
    (25, 64)
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from tfzoo.base import Endpoint, ZooModel

RHO_HAT_MODES = ("batch", "running")


def kl_sparsity_penalty(rho, rho_hat):
    """``Σ_j KL(rho || rho_hat_j)`` of L553 (sum over the last axis)."""
    rho_hat = tf.convert_to_tensor(rho_hat)
    rho = tf.cast(rho, rho_hat.dtype)
    return tf.reduce_sum(rho * tf.math.log(rho / rho_hat) + (1 - rho) * tf.math.log((1 - rho) / (1 - rho_hat)), -1)


@keras.saving.register_keras_serializable(package="tfzoo")
class SparseAutoencoder(ZooModel):
    """One sigmoid hidden layer, a sigmoid reconstruction, and L560's objective.

    Args:
        input_shape: shape of an input (flattened inside), e.g. ``(28, 28, 1)``.
        hidden_units: ``s_2``, the number of hidden units.
        rho: the sparsity target (L536); beta: the penalty weight (L560, no value in the lecture).
        rho_hat_mode: ``"batch"`` or ``"running"`` (see the module docstring); running_decay: its decay.
        input_scale: inputs are multiplied by it (``1/255`` for raw MNIST pixels) to lie in [0, 1].

    ``call`` (the ``serve`` endpoint) returns the reconstruction in input units; ``encode`` the hidden
    activations ``a⁽²⁾``. The loss is ``J = (1/m) Σ_i 1/2 ||x⁽ⁱ⁾ - x̂⁽ⁱ⁾||²`` (inputs scaled to [0, 1])
    plus ``beta Σ_j KL(rho || rho_hat_j)``.
    """

    def __init__(self, *, input_shape=(28, 28, 1), hidden_units=196, rho=0.05, beta=3.0, rho_hat_mode="batch",
                 running_decay=0.99, input_scale=1 / 255, **kwargs):
        super().__init__(**kwargs)
        if rho_hat_mode not in RHO_HAT_MODES:
            raise ValueError(f"rho_hat_mode must be one of {RHO_HAT_MODES}, got {rho_hat_mode!r}")
        if not 0.0 < rho < 1.0:
            raise ValueError(f"rho must be in (0, 1), got {rho}")
        self.input_shape_per_example = tuple(input_shape)
        self.input_range = (0.0, 1.0 / input_scale)
        self.rho, self.beta, self.rho_hat_mode, self.running_decay = float(rho), float(beta), rho_hat_mode, running_decay
        self.input_scale = float(input_scale)
        size = math.prod(self.input_shape_per_example)
        self.encoder = keras.layers.Dense(hidden_units, activation="sigmoid", name="encoder")
        self.decoder = keras.layers.Dense(size, activation="sigmoid", name="decoder")
        self.running_rho_hat = None
        if rho_hat_mode == "running":
            self.running_rho_hat = self.add_weight(shape=(hidden_units,), trainable=False, name="running_rho_hat",
                                                   initializer=keras.initializers.Constant(rho))
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.penalty_tracker = keras.metrics.Mean(name="sparsity_penalty")

    def _flat(self, x):
        x = self.check_input(x) * self.input_scale
        return tf.reshape(x, [-1, math.prod(self.input_shape_per_example)])

    def encode(self, x):
        """Hidden activations ``a⁽²⁾(x)`` (B, s_2)."""
        return self.encoder(self._flat(x))

    def call(self, x, training=False):
        x_hat = self.decoder(self.encode(x))
        return tf.reshape(x_hat / self.input_scale, [-1, *self.input_shape_per_example])

    def max_activating_inputs(self) -> np.ndarray:
        """Row ``i``: the unit-norm input that maximally activates hidden unit ``i`` (L572), (s_2, n)."""
        w = np.asarray(self.encoder.kernel).T
        return w / np.linalg.norm(w, axis=1, keepdims=True)

    def objective(self, x, training=False):
        """``(J, penalty, rho_hat)`` for a batch: L560's two terms and the ``rho_hat`` they used."""
        flat = self._flat(x)
        hidden = self.encoder(flat)
        reconstruction = 0.5 * tf.reduce_mean(tf.reduce_sum(tf.square(flat - self.decoder(hidden)), -1))
        rho_hat = tf.reduce_mean(hidden, 0)
        if self.rho_hat_mode == "running":
            rho_hat = self.running_decay * self.running_rho_hat + (1 - self.running_decay) * rho_hat
        return reconstruction, kl_sparsity_penalty(self.rho, rho_hat), rho_hat

    def compile_from_recipe(self, recipe=None, **kwargs):
        kwargs.setdefault("jit_compile", False)
        super().compile_from_recipe(recipe, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """L560's ``J + beta Σ_j KL(rho || rho_hat_j)`` on the batch ``x`` (targets unused: the input is
        the target), logging its two terms as ``reconstruction`` and ``sparsity_penalty``.

        In training with ``rho_hat_mode="running"`` the running average takes this batch's
        ``rho_hat`` (computed, like the loss, from the weights before the step's update).
        """
        del y, y_pred, sample_weight
        reconstruction, penalty, rho_hat = self.objective(x, training=training)
        if training and self.rho_hat_mode == "running":
            self.running_rho_hat.assign(tf.stop_gradient(rho_hat))
        batch = tf.cast(tf.shape(x)[0], reconstruction.dtype)  # weighted by the batch size, as Keras's loss
        self.reconstruction_tracker.update_state(reconstruction, sample_weight=batch)
        self.penalty_tracker.update_state(penalty, sample_weight=batch)
        return reconstruction + self.beta * penalty

    def endpoints(self) -> dict:
        x = self.data_arg()
        return {"serve": Endpoint(lambda x: self(x, training=False), x), "encode": Endpoint(self.encode, x)}
