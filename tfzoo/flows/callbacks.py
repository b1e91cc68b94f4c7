"""The ``BatchNormBijector`` callback: exact training-set statistics for batch-norm bijectors.

During training the batch-norm bijectors (:class:`tfzoo.flows.bijectors.BatchNorm`) normalise with
the statistics of the current batch. Every training step marks the stored statistics stale; this
callback, before each validation pass (``on_test_begin``) and when training ends (so that a later
``evaluate``, ``sample`` or export sees them), accumulates the exact moments of each batch-norm
input over the training data — the thesis "cumulate[s] the global statistics of the training set"
(``004_6b1d8905d771edf8.txt`` L1588) — and switches inference to them.

Example:
    >>> model = tfzoo.create_model("realnvp-mnist")                             # doctest: +SKIP
    >>> model.fit(x_train, batch_size=64, epochs=1, validation_data=(x_val,),
    ...           callbacks=[BatchNormBijector()])                              # doctest: +SKIP
"""

from __future__ import annotations

import keras


class BatchNormBijector(keras.callbacks.Callback):
    """Accumulates exact batch-norm statistics before validation and at the end of training.

    Args:
        data: the training inputs (array or ``tf.data.Dataset``); default: what ``fit`` was given.
        batch_size: batch size of the statistics pass over an array.
        max_batches: limit each pass to this many batches (then the statistics are of that subset).
        seed: seed of the dequantisation noise of the statistics pass.
    """

    def __init__(self, data=None, batch_size: int = 100, max_batches: int | None = None, seed: int = 0):
        super().__init__()
        self.data = data
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.seed = seed

    def _accumulate(self):
        if self.model.batch_norm_statistics_stale:
            self.model.accumulate_batch_norm_statistics(self.data, batch_size=self.batch_size,
                                                        seed=self.seed, max_batches=self.max_batches)

    def on_test_begin(self, logs=None):
        self._accumulate()

    def on_train_end(self, logs=None):
        self._accumulate()
