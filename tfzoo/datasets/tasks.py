"""Named train/validation/test tasks as numpy arrays: ``load_task(name)``.

Each task is a dict {"train": (x, y), "validation": (x, y), "test": (x, y)}, ``y`` None for
unlabelled data.  Toy splits are drawn with seeds ``(seed, 0)``, ``(seed, 1)``, ``(seed, 2)``, so
they are independent and reproducible.  Sizes: MNIST 50k/10k/10k (see :mod:`tfzoo.datasets.mnist`);
toy tasks 10k/2k/2k (the spiral's 10 000 training points follow Alain's thesis, L960).
"""

from __future__ import annotations

import difflib

from . import toy
from .mnist import mnist_splits

__all__ = ["load_task", "list_tasks"]

_TOY_SIZES = {"train": 10000, "validation": 2000, "test": 2000}


def _toy_task(sample) -> dict:
    """Builds splits from ``sample(n, seed) -> x or (x, y)``."""
    splits = {}
    for index, (split, n) in enumerate(_TOY_SIZES.items()):
        out = sample(n, index)
        splits[split] = out if isinstance(out, tuple) else (out, None)
    return splits


_TASKS = {
    "mnist": lambda data_dir, seed: mnist_splits(data_dir),
    "mnist-binarized": lambda data_dir, seed: mnist_splits(data_dir, binarized=True),
    "moons": lambda data_dir, seed: _toy_task(lambda n, i: toy.two_moons(n, noise=0.1, seed=(seed, i))),
    "spiral": lambda data_dir, seed: _toy_task(lambda n, i: toy.spiral_2d(n, seed=(seed, i))),
    "gmm1d": lambda data_dir, seed: _toy_task(lambda n, i: toy.gaussian_mixture_1d().sample(n, seed=(seed, i))),
    "curve10d": lambda data_dir, seed: _toy_task(lambda n, i: toy.smooth_curve_10d(n, seed=(seed, i))),
}


def list_tasks() -> list[str]:
    """Names accepted by :func:`load_task`."""
    return list(_TASKS)


def load_task(name: str, data_dir=None, seed=0) -> dict:
    """Loads task ``name`` (one of :func:`list_tasks`); ``data_dir`` is used by the MNIST tasks only,
    ``seed`` by the toy tasks only."""
    if name not in _TASKS:
        close = difflib.get_close_matches(name, _TASKS, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"Unknown task {name!r}.{hint} Known tasks: {', '.join(_TASKS)}.")
    return _TASKS[name](data_dir, seed)
