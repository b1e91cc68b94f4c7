"""The base class of the family's explicit density models: ``call`` returns ``log p(x)``.

Training minimises the empirical negative log-likelihood of the thesis (``004_6b1d8905d771edf8.txt``
L1052–1058): ``L_hat = (1/N) sum_x -log p_theta(x)``, so ``fit(x)`` needs no targets and the
reported ``loss`` is the mean NLL in nats.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfzoo.base import ZooModel


class DensityModel(ZooModel):
    """A model whose ``call(x)`` is the per-example log-density (nats); ``fit`` minimises its negative mean.

    Subclasses implement ``call`` and ``sample(n, seed)`` (stateless: the same integer seed gives the
    same samples in every process).
    """

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Mean negative log-likelihood of the batch (``y_pred`` is ``log p(x)``)."""
        del x, y, sample_weight, training
        return -tf.reduce_mean(y_pred)

    def log_prob(self, x):
        """``log p(x)`` per example, in nats."""
        return self(x, training=False)

    def sample(self, n, seed):
        raise NotImplementedError

    def export_endpoints(self) -> dict:
        """``serve`` and ``log_prob`` (both ``log p(x)``), and ``sample(n, seed)``."""
        endpoints = super().export_endpoints()
        endpoints["log_prob"] = (self.log_prob, self.input_signature())
        endpoints["sample"] = (self.sample, [tf.TensorSpec((), tf.int32, name="n"),
                                             tf.TensorSpec((), tf.int32, name="seed")])
        return endpoints

    def example_endpoint_inputs(self, seed: int = 0) -> dict:
        x = self.example_batch(3, seed)
        return {"serve": (x,), "log_prob": (x,), "sample": (np.int32(4), np.int32(seed))}


def stateless_seed(seed, stream: int):
    """The ``[2]`` int32 seed of ``tf.random.stateless_*`` for an integer ``seed`` and a stream number."""
    return tf.stack([tf.cast(seed, tf.int32), tf.constant(stream, tf.int32)])


__all__ = ["DensityModel", "stateless_seed"]
