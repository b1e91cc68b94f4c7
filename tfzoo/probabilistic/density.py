"""The base class of the family's explicit density models: ``call`` returns ``log p(x)``.

Training minimises the empirical negative log-likelihood of the thesis (``004_6b1d8905d771edf8.txt``
L1052–1058): ``L_hat = (1/N) sum_x -log p_theta(x)``, so ``fit(x)`` needs no targets and the
reported ``loss`` is the mean NLL in nats.
"""

from __future__ import annotations

import tensorflow as tf

from tfzoo.base import Arg, Endpoint, ZooModel


class DensityModel(ZooModel):
    """A model whose ``call(x)`` is the per-example log-density (nats); ``fit`` minimises its negative mean.

    Subclasses implement ``call`` and ``sample(n, seed)`` (stateless, ``seed`` an int: the same seed
    gives the same samples in every process; :func:`tfzoo.seeds.stateless_seed`).
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

    def endpoints(self) -> dict:
        """``serve`` and ``log_prob`` (both ``log p(x)``), and ``sample(n, seed)``."""
        endpoints = super().endpoints()
        endpoints["log_prob"] = Endpoint(self.log_prob, self.data_arg())
        endpoints["sample"] = Endpoint(self.sample, Arg.count(), Arg.seed())
        return endpoints


__all__ = ["DensityModel"]
