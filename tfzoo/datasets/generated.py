"""Generated tasks of the presets that train on synthetic data, built exactly as their docs, tests and
benchmarks build it; unlabelled (``y`` None). Every function returns
``{"train": (x, None), "validation": (x, None), "test": (x, None)}``; ``limit`` keeps the first
``limit`` examples of each split of the full-size data (so a limited split is a prefix of the full one).

* ``gaussian-mixture-2d`` (``gan-mixture2d``, lecture L391-500): ``gaussian_mixture_nd(dim=2,
  n_components=4)`` with its defaults (means ~ U[-1, 1]^2 drawn with mixture seed 0, std 0.2, equal
  weights), the data named by the preset's recipe and ``docs/lecture.md``
  (``gaussian_mixture_nd(2).sample(10000)``); float32 (N, 2), unbounded.
* ``binary-toy4`` (``dngsn-toy``, Prop. 6): i.i.d. states of ``toy_binary_joint(4, seed=0,
  coupling=0.5, field=0.3)``, the joint of ``tests/gsn/test_dependency_network.py`` and
  ``benchmarks/gsn.py``, drawn by ``sample_binary_joint``; float32 {0, 1} (N, 4).
* ``sparse-gaussian-m100`` / ``-m400`` (``lista-gaussian-m*``, L582-636): ``x = W_d z + 0.01 noise``,
  5-sparse ``z``, by ``sparse_signals(random_dictionary(64, m, seed=0), ...)`` (the presets'
  ``dictionary_seed=0``); float32 (N, 64), unbounded. The LISTA targets (FISTA codes) are computed by
  the model (``LISTA.prepare_training_data``).
* ``mnist-patches-8x8`` (``lista-mnist-patches-m*``): ``mnist_patches`` of the MNIST 50k/10k/10k
  split's images, as ``benchmarks/lecture_exports.py``; float32 (N, 64) in [-1, 1].

These three toy-style tasks draw split ``i`` (train 0, validation 1, test 2) with the seed
``(seed, i)``, like the toy tasks of :mod:`tfzoo.datasets.tasks`.
"""

from __future__ import annotations

import numpy as np

from . import toy
from .mnist import mnist_splits

__all__ = [
    "SPLITS",
    "GAUSSIAN_MIXTURE_2D_SIZES",
    "BINARY_TOY4_SIZES",
    "SPARSE_GAUSSIAN_SIZES",
    "MNIST_PATCHES_SIZES",
    "BINARY_TOY4_JOINT",
    "gaussian_mixture_2d_splits",
    "binary_toy4_splits",
    "sparse_gaussian_splits",
    "mnist_patches_splits",
]

SPLITS = ("train", "validation", "test")
GAUSSIAN_MIXTURE_2D_SIZES = {"train": 10000, "validation": 2000, "test": 2000}
BINARY_TOY4_SIZES = {"train": 20000, "validation": 2000, "test": 2000}   # 20,000: the Prop. 6 test's sample
SPARSE_GAUSSIAN_SIZES = {"train": 2000, "validation": 1000, "test": 1000}
MNIST_PATCHES_SIZES = {"train": 10000, "validation": 1000, "test": 1000}
BINARY_TOY4_JOINT = dict(dim=4, seed=0, coupling=0.5, field=0.3)


def _limited(splits: dict, limit) -> dict:
    if limit is None:
        return splits
    return {s: (x[:limit], y if y is None else y[:limit]) for s, (x, y) in splits.items()}


def gaussian_mixture_2d_splits(seed=0, limit=None) -> dict:
    """Samples of ``tfzoo.datasets.gaussian_mixture_nd(dim=2, n_components=4)``: 10k/2k/2k, float32 (N, 2)."""
    mixture = toy.gaussian_mixture_nd(dim=2, n_components=4)
    return _limited({s: (mixture.sample(GAUSSIAN_MIXTURE_2D_SIZES[s], seed=(seed, i)), None)
                     for i, s in enumerate(SPLITS)}, limit)


def binary_toy4_splits(seed=0, limit=None) -> dict:
    """States of the 4-variable Ising joint of ``dngsn-toy``: 20k/2k/2k, float32 {0, 1} (N, 4)."""
    from tfzoo.gsn.dependency_network import sample_binary_joint, toy_binary_joint

    joint = toy_binary_joint(**BINARY_TOY4_JOINT)
    return _limited({s: (sample_binary_joint(joint, BINARY_TOY4_SIZES[s], seed=(seed, i)), None)
                     for i, s in enumerate(SPLITS)}, limit)


def sparse_gaussian_splits(n_codes: int, seed=0, limit=None) -> dict:
    """``x = W_d z + 0.01 noise`` for the random unit-norm 64 x ``n_codes`` dictionary of seed 0.

    ``x = sparse_signals(W_d, 3000, seed=seed + 1)``: train its first 2,000 signals, test the last
    1,000, so seed 0 is exactly the data of ``savedmodels/lista-gaussian-m100/MODEL_CARD.md``
    (``x = sparse_signals(model.dictionary, 3000, seed=1)``, trained on ``x[:2000]``); validation
    ``sparse_signals(W_d, 1000, seed=(seed + 1, 1))``. float32 (N, 64).
    """
    from tfzoo.lecture.sparse_coding import random_dictionary, sparse_signals

    d = random_dictionary(64, n_codes, seed=0)
    n_train = SPARSE_GAUSSIAN_SIZES["train"]
    x = sparse_signals(d, n_train + SPARSE_GAUSSIAN_SIZES["test"], seed=seed + 1)
    validation = sparse_signals(d, SPARSE_GAUSSIAN_SIZES["validation"], seed=(seed + 1, 1))
    return _limited({"train": (x[:n_train], None), "validation": (validation, None), "test": (x[n_train:], None)},
                    limit)


def mnist_patches_splits(data_dir=None, seed=0, source=None, limit=None) -> dict:
    """8 x 8 patches (``tfzoo.lecture.sparse_coding.mnist_patches``: mean removed, pixels / 255, blank
    patches skipped) of the MNIST 50k/10k/10k split: train 10,000 patches of the training images
    (seed ``seed``), validation 1,000 of the validation images (seed ``seed + 2``), test 1,000 of the
    test images (seed ``seed + 1``), as ``benchmarks/lecture_exports.py`` draws its train and test
    patches. float32 (N, 64) in [-1, 1]. ``data_dir`` and ``source`` are those of MNIST."""
    from tfzoo.lecture.sparse_coding import mnist_patches

    images = mnist_splits(data_dir, source or "auto")
    seeds = {"train": seed, "validation": seed + 2, "test": seed + 1}
    out = {}
    for split in SPLITS:
        n = MNIST_PATCHES_SIZES[split] if limit is None else min(limit, MNIST_PATCHES_SIZES[split])
        # mnist_patches draws candidates one by one, so n patches are the first n of a larger draw.
        out[split] = (np.asarray(mnist_patches(images[split][0], n, seed=seeds[split]), np.float32), None)
    return out
