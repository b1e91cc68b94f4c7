"""The ``Walkback`` callback: sets a GSN/generative DAE's walkback schedule and logs realised lengths.

Walkback (thesis Sec. 5.3.2, L1635-1705): the training chain alternates the corruption and the
model's own reconstruction distribution for k steps, with k ~ Geometric (P(k) = p^{k-1}(1-p), p = 0.5,
L1651), a fixed k (5 in Sec. 5.5.1, L2091; 2D in Sec. 5.5.2, L2120), or k = 1 (plain denoising).
The schedule lives in non-trainable variables of the model read inside ``train_step``, so switching
it between epochs never retraces the compiled training step.

Example:
    >>> import tfzoo
    >>> from tfzoo import testing
    >>> from tfzoo.gsn.callbacks import Walkback
    >>> model = tfzoo.create_model("gdae-mnist-walkback", hidden_units=8)
    >>> callback = Walkback(mode="geometric", start_epoch=1)
    >>> _ = model.fit(testing.example_batch(model, 16), epochs=2, batch_size=8, verbose=0, callbacks=[callback])
    >>> callback.mean_lengths[0]          # epoch 0 ran without walkback
    1.0
"""

from __future__ import annotations

import keras
import numpy as np

WALKBACK_MODES = ("none", "geometric", "fixed")

__all__ = ["Walkback"]


class Walkback(keras.callbacks.Callback):
    """Sets the walkback schedule at each epoch start and records the realised chain lengths.

    Args:
      mode: "geometric", "fixed" or "none".
      steps: the fixed length (mode "fixed"); must not exceed the model's ``max_walkback_steps``.
      p_continue: probability of one more step (mode "geometric"; 0.5 in the thesis).
      start_epoch: epochs before this one train without walkback (k = 1).

    After training, ``length_counts[e][k - 1]`` is how many training examples of epoch ``e`` had a chain
    of length k, and ``mean_lengths[e]`` their mean.
    """

    def __init__(self, mode: str = "geometric", steps: int | None = None, p_continue: float = 0.5,
                 start_epoch: int = 0):
        super().__init__()
        if mode not in WALKBACK_MODES:
            raise ValueError(f"mode must be one of {WALKBACK_MODES}, got {mode!r}")
        self.mode, self.steps, self.p_continue, self.start_epoch = mode, steps, p_continue, start_epoch
        self.length_counts: list[np.ndarray] = []
        self.mean_lengths: list[float] = []

    @classmethod
    def from_recipe(cls, context, start_epoch: int = 0, **schedule):
        """The recipe's form: the model's configured schedule unless ``schedule`` overrides it."""
        return cls(**{**context.model.walkback_schedule(), **schedule}, start_epoch=start_epoch)

    def on_epoch_begin(self, epoch, logs=None):
        mode = self.mode if epoch >= self.start_epoch else "none"
        self.model.set_walkback(mode, steps=self.steps, p_continue=self.p_continue)
        self.model.walkback_length_counts.assign(np.zeros(self.model.max_walkback_steps, np.int32))

    def on_epoch_end(self, epoch, logs=None):
        counts = np.asarray(self.model.walkback_length_counts.numpy(), np.int64)
        self.length_counts.append(counts)
        mean = float(np.dot(counts, np.arange(1, counts.size + 1)) / max(counts.sum(), 1))
        self.mean_lengths.append(mean)
        if logs is not None:
            logs["walkback_length_mean"] = mean
