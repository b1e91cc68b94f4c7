"""The ISSGD paper's permutation-invariant MLP, with a per-example gradient-norm endpoint.

Paper: ``shared/papers/003_a93095073811cc34.txt`` section 7.5.1 (lines 2600–2616): "an MLP with 4
hidden layers, each with 2048 hidden units and with a ReLU at its output (except for a softmax at
the final layer)" on flattened (permutation-invariant) images. It is
:class:`tfzoo.classifiers.models.MLPClassifier` without dropout (the paper mentions none), plus the
``per_example_grad_norms(x, y)`` SavedModel endpoint: ``‖∇_θ L_n‖₂`` of the softmax cross-entropy
of every example by Proposition 3 (lines 2495–2511), which is what a norm-worker computes.

Example:
    >>> import tfzoo
    >>> from tfzoo import testing
    >>> model = tfzoo.create_model("issgd-mnist-small")                 # doctest: +SKIP
    >>> x, y = testing.example_fit_data(model, 4)                       # doctest: +SKIP
    >>> model.per_example_grad_norms(x, y).shape                         # doctest: +SKIP
    TensorShape([4])
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfzoo.base import Arg, Endpoint
from tfzoo.classifiers.models import MLPClassifier
from tfzoo.errors import InputError
from tfzoo.issgd import norms


@keras.saving.register_keras_serializable(package="tfzoo")
class ISSGDClassifier(MLPClassifier):
    """A ReLU MLP on flattened inputs, returning logits; trained with ISSGD by
    :class:`tfzoo.issgd.StaleImportanceWeights`."""

    def __init__(self, *, hidden_units=(2048, 2048, 2048, 2048), activation="relu",
                 input_shape=(28, 28, 1), num_classes=10, input_scale=1 / 255, input_offset=0.0,
                 **kwargs):
        super().__init__(hidden_units=hidden_units, activation=activation, dropout=0.0,
                         input_shape=input_shape, num_classes=num_classes, input_scale=input_scale,
                         input_offset=input_offset, **kwargs)
        self._cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def per_example_grad_norms(self, x, y):
        """``‖∇_θ L_n‖₂`` of the softmax cross-entropy of each example (Proposition 3)."""
        y = tf.convert_to_tensor(y)
        if y.shape.rank != 1:
            raise InputError(f"{type(self).__name__}: labels y must have shape (None,), got {tuple(y.shape)}")
        return norms.dense_grad_norms(self, x, y, self._cross_entropy.call)

    def endpoints(self) -> dict:
        endpoints = super().endpoints()
        endpoints["per_example_grad_norms"] = Endpoint(self.per_example_grad_norms, self.data_arg(), Arg.labels())
        return endpoints
