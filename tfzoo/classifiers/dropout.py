"""Dropout in both conventions of the lecture (``002`` lines 362–389).

The lecture's figure caption (``002_e592b05206285d1e.txt`` line 389): "A unit at training time that
is present with probability p ... At test time, the unit is always present and the weights are
multiplied by p. The output at test time is same as the expected output at training time."

* ``convention="scale_at_test"`` (the lecture, Srivastava et al. 2014): train ``y = m * x``,
  test ``y = p * x``, with ``m ~ Bernoulli(p)`` and keep probability ``p = 1 - rate``.
* ``convention="inverted"`` (Keras' ``Dropout``): train ``y = m * x / p``, test ``y = x``.

Both satisfy ``E_m[y_train] = y_test``.

Example:
    >>> layer = Dropout(0.5, convention="scale_at_test", seed=1)
    >>> float(layer(np.ones((1, 4), "float32"), training=False)[0, 0])
    0.5
"""

from __future__ import annotations

import keras
import numpy as np  # noqa: F401  (used by the docstring example)

CONVENTIONS = ("inverted", "scale_at_test")


@keras.saving.register_keras_serializable(package="tfzoo")
class Dropout(keras.layers.Layer):
    """Dropout with drop probability ``rate`` in the ``inverted`` or ``scale_at_test`` convention."""

    def __init__(self, rate: float, convention: str = "inverted", seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
        if convention not in CONVENTIONS:
            raise ValueError(f"dropout convention must be one of {CONVENTIONS}, got {convention!r}")
        self.rate = float(rate)
        self.convention = convention
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        keep = 1.0 - self.rate
        if not training or self.rate == 0.0:
            return inputs * keep if self.convention == "scale_at_test" else inputs
        mask = keras.ops.cast(
            keras.random.uniform(keras.ops.shape(inputs), seed=self.seed_generator) < keep, inputs.dtype
        )
        return inputs * mask if self.convention == "scale_at_test" else inputs * mask / keep

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "convention": self.convention, "seed": self.seed}
