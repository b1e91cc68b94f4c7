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
    """Accumulates batch-norm statistics before validation and exact ones at the end of training.

    The exact pass costs one forward pass over the training data per batch-norm layer (layer k's
    input depends on layers < k's final statistics), so validation during training may use the
    first ``validation_max_batches`` batches only; the statistics a finished model keeps (for
    ``evaluate``, sampling and export) are always those of ``max_batches`` (default: all the data).

    Args:
        data: the training inputs (array or ``tf.data.Dataset``); default: what ``fit`` was given.
        batch_size: batch size of the statistics pass over an array.
        max_batches: limit the final pass to this many batches (then the statistics are of that subset).
        validation_max_batches: limit the passes before validation (default: ``max_batches``).
        seed: seed of the dequantisation noise of the statistics pass.
    """

    def __init__(self, data=None, batch_size: int = 100, max_batches: int | None = None, seed: int = 0,
                 validation_max_batches: int | None = None):
        super().__init__()
        self.data = data
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.validation_max_batches = validation_max_batches if validation_max_batches is not None else max_batches
        self.seed = seed
        self._statistics_batches = "none"  # how many batches the statistics in use were computed on

    @classmethod
    def from_recipe(cls, context, batch_size: int | None = None, max_batches: int | None = None,
                    validation_max_batches: int | None = None):
        """The recipe's form: statistics over the run's training split, seeded by the run."""
        return cls(data=context.x_train, batch_size=batch_size or context.batch_size, max_batches=max_batches,
                   validation_max_batches=validation_max_batches, seed=context.seed)

    def _accumulate(self, max_batches):
        if self.model.batch_norm_statistics_stale or self._statistics_batches != max_batches:
            self.model.accumulate_batch_norm_statistics(self.data, batch_size=self.batch_size,
                                                        seed=self.seed, max_batches=max_batches)
            self._statistics_batches = max_batches

    def on_test_begin(self, logs=None):
        if self.model.batch_norm_statistics_stale:
            self._accumulate(self.validation_max_batches)

    def on_train_end(self, logs=None):
        self._accumulate(self.max_batches)
