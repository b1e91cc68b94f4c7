"""Corruption processes C(X~|X) that stay active at sampling time (thesis Ch. 5, L1569-1651).

Unlike ``keras.layers.GaussianNoise``/``Dropout`` (identity at inference), a GSN chain corrupts at
every sampling step, so these are plain functions of ``(x, level, seed)``; ``seed`` is an int (or a
shape-[2] seed, :func:`tfzoo.seeds.stateless_seed`) and only stateless random ops are used, so equal
seeds give equal corruptions, in eager mode, in a ``tf.function`` and in a reloaded SavedModel.

Example:
    >>> import tensorflow as tf
    >>> x = tf.ones((2, 4))
    >>> salt_and_pepper(x, 0.4, 1).shape
    TensorShape([2, 4])
"""

from __future__ import annotations

import tensorflow as tf

from tfzoo.seeds import split_seed, stateless_seed

__all__ = ["gaussian_corruption", "salt_and_pepper", "random_subset_mask"]


def gaussian_corruption(x, sigma, seed) -> tf.Tensor:
    """``x~ = x + eps``, ``eps ~ N(0, sigma^2 I)``: the corruption of Theorem 1 (L803-813)."""
    x = tf.convert_to_tensor(x)
    return x + tf.cast(sigma, x.dtype) * tf.random.stateless_normal(tf.shape(x), stateless_seed(seed), dtype=x.dtype)


def salt_and_pepper(x, rate, seed) -> tf.Tensor:
    """Salt-and-pepper noise (L2089, L2128): each coordinate is corrupted with probability ``rate``,
    and a corrupted coordinate is set to 0 or 1 with probability 1/2 each.

    On binary data a coordinate therefore *changes* with probability ``rate / 2``; uncorrupted
    coordinates are returned unchanged.
    """
    x = tf.convert_to_tensor(x)
    seeds = split_seed(seed, 2)
    corrupted = tf.random.stateless_uniform(tf.shape(x), seeds[0], dtype=x.dtype) < tf.cast(rate, x.dtype)
    replacement = tf.cast(tf.random.stateless_uniform(tf.shape(x), seeds[1], dtype=x.dtype) < 0.5, x.dtype)
    return tf.where(corrupted, replacement, x)


def random_subset_mask(batch_size, dim: int, subset_size: int, seed) -> tf.Tensor:
    """A float mask (batch, dim) with exactly ``subset_size`` ones per row at uniformly random positions:
    the subset ``s`` a dependency-network GSN resamples at one step, ``H = X_{-s}`` (Sec. 5.3.7, L2040-2044)."""
    if not 1 <= subset_size <= dim:
        raise ValueError(f"subset_size must be in [1, {dim}], got {subset_size}")
    keys = tf.random.stateless_uniform(tf.stack([batch_size, dim]), stateless_seed(seed))
    _, chosen = tf.math.top_k(keys, k=subset_size)
    return tf.reduce_sum(tf.one_hot(chosen, dim), axis=1)
