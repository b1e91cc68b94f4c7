"""The one seed convention of tfzoo's sampling code.

Every endpoint that draws random numbers takes ``seed: int32[]``, a scalar integer, and uses only
stateless random ops, so equal seeds give equal draws in eager mode, inside a ``tf.function`` and
in a reloaded SavedModel. ``tf.random.stateless_*`` needs a shape-[2] seed: :func:`stateless_seed`
makes it, ``[seed, stream]``, where the *stream* number keeps the independent draws of one call
apart (a VAE's ``sample`` uses stream 3 for z and 4 for x). Inside the library a shape-[2] seed
(one :func:`fold_seed` or :func:`split_seed` derived, or a ``keras.random.SeedGenerator`` state)
is accepted wherever a seed is, and passed through unchanged.

Example:
    >>> import tensorflow as tf
    >>> stateless_seed(7).numpy().tolist()
    [7, 0]
    >>> stateless_seed(7, 3).numpy().tolist()
    [7, 3]
    >>> stateless_seed(tf.constant([7, 3])).numpy().tolist()
    [7, 3]
    >>> split_seed(7, 4).shape
    TensorShape([4, 2])
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["stateless_seed", "fold_seed", "split_seed"]


def stateless_seed(seed, stream=None, dtype=tf.int32) -> tf.Tensor:
    """The shape-[2] seed of ``tf.random.stateless_*`` for ``seed``.

    Args:
      seed: a Python int, a scalar integer tensor (an endpoint's ``seed: int32[]``), or, for
        internal use, an existing shape-[2] integer seed (returned unchanged, cast to ``dtype``).
      stream: for a scalar seed, the second entry (default 0): draws of one call with different
        streams are independent. Refused with a shape-[2] seed (derive one with :func:`fold_seed`).
      dtype: ``tf.int32`` (default) or ``tf.int64``.
    """
    seed = tf.convert_to_tensor(seed)
    if not seed.dtype.is_integer:
        raise TypeError(f"a seed must be an integer (int32[] in tfzoo's endpoints), got dtype {seed.dtype.name}")
    if seed.shape.rank == 0:
        stream = 0 if stream is None else stream
        return tf.stack([tf.cast(seed, dtype), tf.cast(stream, dtype)])
    if seed.shape.rank == 1 and seed.shape[0] == 2:
        if stream is not None:
            raise ValueError("stream applies to a scalar seed; derive from a shape-[2] seed with fold_seed")
        return tf.cast(seed, dtype)
    raise ValueError(f"a seed must be a scalar integer (or, internally, a shape-[2] seed), got shape {seed.shape}")


def fold_seed(seed, index) -> tf.Tensor:
    """A new shape-[2] seed from ``seed`` and an integer ``index`` (``stateless_fold_in``): the seed
    of draw ``index`` of a loop, independent of the others."""
    return tf.random.experimental.stateless_fold_in(stateless_seed(seed), tf.cast(index, tf.int32))


def split_seed(seed, n: int) -> tf.Tensor:
    """``n`` independent shape-[2] seeds derived from ``seed`` (``stateless_split``), shape ``(n, 2)``."""
    return tf.random.experimental.stateless_split(stateless_seed(seed), n)
