"""tf.data input pipelines whose shuffling order is resumable.

With ``shuffle_seed`` set, the permutation used in epoch ``e`` is
``argsort(stateless_uniform([n], seed=(shuffle_seed, e), alg="philox"))`` (stable argsort), a pure
function of ``(shuffle_seed, e)``.  It does not depend on how often the data set was iterated, so a
run resumed at ``initial_epoch=e`` in a fresh process sees exactly the batches of an uninterrupted run.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["make_dataset", "steps_per_epoch"]


def steps_per_epoch(n: int, batch_size: int, drop_remainder: bool = False) -> int:
    """Number of batches in one epoch of ``n`` examples."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    return n // batch_size if drop_remainder else math.ceil(n / batch_size)


def make_dataset(x, y=None, batch_size: int = 32, shuffle_seed: int | None = None, epochs: int | None = None,
                 initial_epoch: int = 0, drop_remainder: bool = False, prefetch: bool = True):
    """Batches of ``x`` (if ``y`` is None) or ``(x, y)`` for epochs ``initial_epoch, ..., epochs - 1``.

    Args:
      x, y: arrays with equal first dimension n; ``y=None`` for unsupervised data.
      batch_size, drop_remainder: as in ``tf.data.Dataset.batch``; batches never span two epochs.
      shuffle_seed: None keeps the given order; an int shuffles each epoch with a permutation that
        is a pure function of ``(shuffle_seed, epoch)`` (see the module docstring).
      epochs: end epoch (exclusive), as Keras's ``fit(epochs=..., initial_epoch=...)``.  None means
        a single pass without shuffling, and an endless sequence of epochs with shuffling (use with
        ``fit(steps_per_epoch=steps_per_epoch(n, batch_size, drop_remainder))``).
      initial_epoch: first epoch produced (for resuming); ``initial_epoch == epochs`` gives an
        empty data set (a finished run).
      prefetch: append ``prefetch(tf.data.AUTOTUNE)``.
    """
    import tensorflow as tf

    x = np.asarray(x)
    n = len(x)
    if y is not None and len(y) != n:
        raise ValueError(f"x and y have different lengths: {n} and {len(y)}")
    steps_per_epoch(n, batch_size, drop_remainder)  # validates batch_size
    if epochs is None:
        epochs = initial_epoch + 1 if shuffle_seed is None else np.iinfo(np.int64).max
    if not 0 <= initial_epoch <= epochs:
        raise ValueError(f"need 0 <= initial_epoch <= epochs, got initial_epoch={initial_epoch}, epochs={epochs}")

    tensors = (tf.constant(x),) if y is None else (tf.constant(x), tf.constant(np.asarray(y)))

    def epoch_indices(epoch):
        if shuffle_seed is None:
            order = tf.range(n, dtype=tf.int64)
        else:
            seed = tf.stack([tf.constant(shuffle_seed, tf.int64), epoch])
            keys = tf.random.stateless_uniform([n], seed=seed, dtype=tf.float64, alg="philox")
            order = tf.cast(tf.argsort(keys, stable=True), tf.int64)
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=drop_remainder)

    def gather(indices):
        batch = tuple(tf.gather(t, indices) for t in tensors)
        return batch[0] if y is None else batch

    ds = tf.data.Dataset.range(initial_epoch, epochs).flat_map(epoch_indices).map(gather)
    if epochs != np.iinfo(np.int64).max:
        # flat_map hides the length; state it, so Keras knows where an epoch or a pass ends.
        total = (epochs - initial_epoch) * steps_per_epoch(n, batch_size, drop_remainder)
        ds = ds.apply(tf.data.experimental.assert_cardinality(total))
    return ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds
