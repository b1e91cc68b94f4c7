"""Named train/validation/test tasks as numpy arrays: ``load_task(name)``, ``get_task(name)``, ``list_tasks()``.

Each task is a dict {"train": (x, y), "validation": (x, y), "test": (x, y)}, ``y`` None for
unlabelled data. Each task has a :class:`Task` record (``get_task(name)``) with its full split
sizes, dtype, value range, per-example shape and sources. ``load_task(..., limit=N)`` keeps the
first N examples of every split, cut before the heavy work (decoding, cropping, resizing), so
tests and quick runs are cheap; a limited split is a prefix of the full one.

Tasks (train / validation / test; x dtype, range, shape; see each family's module for details):

* ``mnist`` 50k/10k/10k uint8 [0, 255] (28, 28, 1), labels; ``mnist-binarized`` the same as float32
  {0, 1}; ``mnist-unit`` the same as float32 intensities / 255 in [0, 1]
  (:mod:`tfzoo.datasets.mnist`; sources ``"idx"``, ``"tfds"``; None = IDX directory if one resolves,
  else TFDS).
* toy tasks, 10k/2k/2k, float32 (:mod:`tfzoo.datasets.toy`): ``moons`` (2,) with labels,
  ``spiral`` (2,) in [-0.48, 0.48], ``gmm1d`` (1,), ``curve10d`` (10,) in [-1.5, 1.5] (the
  spiral's 10 000 training points follow Alain's thesis, L960).
* ``cifar10``, ``cifar100`` 45k/5k/10k, ``svhn`` 67,257/6,000/26,032: uint8 [0, 255] (32, 32, 3),
  int64 labels; sources ``"files"`` (the official archives in ``data_dir``) and ``"tfds"``; None =
  files when ``data_dir`` is given, else TFDS (:mod:`tfzoo.datasets.images`).
* ``imagenet32``, ``imagenet64`` (1,271,149/10,000/49,999), ``celeba64`` (162,770/19,867/19,962),
  ``lsun-bedroom``, ``lsun-tower``, ``lsun-church`` (TFDS train minus 10,000 / 10,000 / 300):
  uint8 [0, 255], (32, 32, 3) or (64, 64, 3), unlabelled; source ``"tfds"``
  (:mod:`tfzoo.datasets.images`; ImageNet and LSUN "test" is the official validation set, on which
  Real NVP reports).
* generated, unlabelled, float32 (:mod:`tfzoo.datasets.generated`): ``gaussian-mixture-2d``
  10k/2k/2k (2,); ``binary-toy4`` 20k/2k/2k {0, 1} (4,); ``sparse-gaussian-m100``,
  ``sparse-gaussian-m400`` 2k/1k/1k (64,); ``mnist-patches-8x8`` 10k/1k/1k (64,) in [-1, 1]
  (sources those of MNIST).

Seeds: toy and generated splits are drawn with seeds ``(seed, 0)``, ``(seed, 1)``, ``(seed, 2)``,
so they are independent and reproducible (``sparse-gaussian-*`` and ``mnist-patches-8x8`` follow
the seeds of the shipped LISTA models, see their functions); ``lsun-*`` draws its training crops
from ``seed``; the other real data sets do not use it.

Errors: an unknown name, source or limit raises ``ValueError`` naming the argument, the value and
the accepted values; missing or corrupt data raises :class:`tfzoo.datasets.DataError` saying which
file was expected, where it was looked for and how to get it.
"""

from __future__ import annotations

import dataclasses
import difflib
import numbers
import types
from typing import Callable

from . import generated, images, toy
from .mnist import mnist_splits

__all__ = ["Task", "get_task", "load_task", "list_tasks", "SPLITS"]

SPLITS = ("train", "validation", "test")
_TOY_SIZES = {"train": 10000, "validation": 2000, "test": 2000}
GENERATED = ("generated",)


@dataclasses.dataclass(frozen=True)
class Task:
    """What a task holds, and how to load it.

    Attributes:
      name: the name :func:`load_task` takes.
      description: one line: the data, its splits and where they come from.
      sizes: split -> number of examples of the full task (read-only mapping).
      dtype: numpy dtype name of x.
      value_range: (low, high) bounds of x, or None when unbounded (e.g. Gaussian noise).
      sources: the accepted ``source`` values; ``source=None`` picks the default (see the module doc).
      loader: ``loader(data_dir, seed, source, limit) -> splits`` (``source`` may be None).
      shape: per-example shape of x.
      num_classes: number of label values (y int64 in 0..num_classes-1), or None when unlabelled.
    """

    name: str
    description: str
    sizes: types.MappingProxyType
    dtype: str
    value_range: tuple | None
    sources: tuple
    loader: Callable = dataclasses.field(repr=False, compare=False)
    shape: tuple = ()
    num_classes: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "sizes", types.MappingProxyType(dict(self.sizes)))

    @property
    def labelled(self) -> bool:
        return self.num_classes is not None

    def load(self, data_dir=None, seed=0, source=None, limit=None) -> dict:
        """The same as ``load_task(self.name, ...)``."""
        return load_task(self.name, data_dir=data_dir, seed=seed, source=source, limit=limit)


def _toy_task(sample, limit) -> dict:
    """Builds splits from ``sample(n, index) -> x or (x, y)``."""
    splits = {}
    for index, (split, n) in enumerate(_TOY_SIZES.items()):
        out = sample(n, index)
        x, y = out if isinstance(out, tuple) else (out, None)
        splits[split] = (x, y) if limit is None else (x[:limit], None if y is None else y[:limit])
    return splits


def _mnist_loader(binarized: bool, dtype=None):
    def load(data_dir, seed, source, limit):
        splits = mnist_splits(data_dir, source or "auto", binarized=binarized, dtype=dtype)
        if limit is None:
            return splits
        return {s: (x[:limit], y[:limit]) for s, (x, y) in splits.items()}

    return load


def _toy(make):
    return lambda data_dir, seed, source, limit: _toy_task(lambda n, i: make(n, (seed, i)), limit)


def _register(*tasks: Task) -> dict:
    return {task.name: task for task in tasks}


_MNIST_SIZES = {"train": 50000, "validation": 10000, "test": 10000}
_IMAGE_SOURCES = ("files", "tfds")
_TFDS = ("tfds",)
_U8 = (0, 255)

_TASKS: dict[str, Task] = _register(
    Task("mnist", "MNIST digits, official order: first 50,000 / last 10,000 training images / 10,000 test images",
         _MNIST_SIZES, "uint8", _U8, ("idx", "tfds"), _mnist_loader(False), (28, 28, 1), 10),
    Task("mnist-binarized", "MNIST thresholded at 0.5 (pixel > 127.5 -> 1), the 50k/10k/10k split",
         _MNIST_SIZES, "float32", (0, 1), ("idx", "tfds"), _mnist_loader(True), (28, 28, 1), 10),
    Task("mnist-unit", "MNIST real-valued intensities / 255 in [0, 1] (the GSN code's mnist.pkl), the 50k/10k/10k split",
         _MNIST_SIZES, "float32", (0, 1), ("idx", "tfds"), _mnist_loader(False, "float32"), (28, 28, 1), 10),
    Task("moons", "two moons, noise 0.1, balanced labels", _TOY_SIZES, "float32", None, GENERATED,
         _toy(lambda n, s: toy.two_moons(n, noise=0.1, seed=s)), (2,), 2),
    Task("spiral", "the 2-D spiral of Alain's thesis sec. 3.3.4", _TOY_SIZES, "float32", (-0.48, 0.48), GENERATED,
         _toy(lambda n, s: toy.spiral_2d(n, seed=s)), (2,)),
    Task("gmm1d", "3-component 1-D Gaussian mixture", _TOY_SIZES, "float32", None, GENERATED,
         _toy(lambda n, s: toy.gaussian_mixture_1d().sample(n, seed=s)), (1,)),
    Task("curve10d", "a smooth closed curve in R^10 (Alain's thesis sec. 3.4.2)", _TOY_SIZES, "float32",
         (-1.5, 1.5), GENERATED, _toy(lambda n, s: toy.smooth_curve_10d(n, seed=s)), (10,)),
    Task("cifar10", "CIFAR-10: official train minus its last 5,000 / those 5,000 / official test",
         {"train": 45000, "validation": 5000, "test": 10000}, "uint8", _U8, _IMAGE_SOURCES,
         lambda data_dir, seed, source, limit: images.cifar_splits(10, data_dir, source, limit), (32, 32, 3), 10),
    Task("cifar100", "CIFAR-100 (fine labels): official train minus its last 5,000 / those 5,000 / official test",
         {"train": 45000, "validation": 5000, "test": 10000}, "uint8", _U8, _IMAGE_SOURCES,
         lambda data_dir, seed, source, limit: images.cifar_splits(100, data_dir, source, limit), (32, 32, 3), 100),
    Task("svhn", "SVHN cropped digits (label 0 for the files' 10): official train minus its last 6,000 / those "
                 "6,000 / official test", {"train": 67257, "validation": 6000, "test": 26032}, "uint8", _U8,
         _IMAGE_SOURCES, lambda data_dir, seed, source, limit: images.svhn_splits(data_dir, source, limit),
         (32, 32, 3), 10),
    *(Task(f"imagenet{s}", f"downsampled ImageNet {s}x{s} (TFDS downsampled_imagenet/{s}x{s}): TFDS train minus "
                           "its last 10,000 / those 10,000 / TFDS validation (Real NVP reports on it)",
           {"train": 1271149, "validation": 10000, "test": 49999}, "uint8", _U8, _TFDS,
           (lambda size: lambda data_dir, seed, source, limit: images.imagenet_splits(size, data_dir, limit))(s),
           (s, s, 3)) for s in (32, 64)),
    Task("celeba64", "CelebA (TFDS celeb_a), Real NVP's 148x148 crop resized to 64x64; official partition",
         {"train": 162770, "validation": 19867, "test": 19962}, "uint8", _U8, _TFDS,
         lambda data_dir, seed, source, limit: images.celeba_splits(data_dir, limit), (64, 64, 3)),
    *(Task(f"lsun-{short}", f"LSUN {category} (TFDS lsun/{category}), smallest side 96 then 64x64 crops (random, "
                            "seeded, for train; central for validation/test): TFDS train minus its last 10,000 / "
                            "those 10,000 / TFDS validation (Real NVP reports on it)",
           {"train": train - 10000, "validation": 10000, "test": 300}, "uint8", _U8, _TFDS,
           (lambda c: lambda data_dir, seed, source, limit: images.lsun_splits(c, data_dir, seed, limit))(category),
           (64, 64, 3))
      for short, category, train in (("bedroom", "bedroom", 3033042), ("tower", "tower", 708264),
                                     ("church", "church_outdoor", 126227))),
    Task("gaussian-mixture-2d", "samples of gaussian_mixture_nd(dim=2, n_components=4) (gan-mixture2d's data)",
         generated.GAUSSIAN_MIXTURE_2D_SIZES, "float32", None, GENERATED,
         lambda data_dir, seed, source, limit: generated.gaussian_mixture_2d_splits(seed, limit), (2,)),
    Task("binary-toy4", "states of toy_binary_joint(4, seed=0, coupling=0.5, field=0.3) (dngsn-toy's data)",
         generated.BINARY_TOY4_SIZES, "float32", (0, 1), GENERATED,
         lambda data_dir, seed, source, limit: generated.binary_toy4_splits(seed, limit), (4,)),
    *(Task(f"sparse-gaussian-m{m}", f"x = W_d z + 0.01 noise, 5-sparse z, W_d = random_dictionary(64, {m}, seed=0) "
                                    "(lista-gaussian's data; targets from the model)",
           generated.SPARSE_GAUSSIAN_SIZES, "float32", None, GENERATED,
           (lambda m: lambda data_dir, seed, source, limit: generated.sparse_gaussian_splits(m, seed, limit))(m),
           (64,)) for m in (100, 400)),
    Task("mnist-patches-8x8", "8x8 patches of MNIST digits, mean removed, pixels / 255 (lista-mnist-patches' data)",
         generated.MNIST_PATCHES_SIZES, "float32", (-1, 1), ("idx", "tfds"),
         lambda data_dir, seed, source, limit: generated.mnist_patches_splits(data_dir, seed, source, limit), (64,)),
)


def list_tasks() -> list[str]:
    """Names accepted by :func:`load_task`."""
    return list(_TASKS)


def get_task(name: str) -> Task:
    """The :class:`Task` record of ``name``; ``ValueError`` (with close matches) for an unknown name."""
    if name not in _TASKS:
        close = difflib.get_close_matches(str(name), _TASKS, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"Unknown task name={name!r}.{hint} Known tasks: {', '.join(_TASKS)}.")
    return _TASKS[name]


def load_task(name: str, data_dir=None, seed=0, source=None, limit=None) -> dict:
    """Loads task ``name`` (one of :func:`list_tasks`).

    Args:
      name: the task.
      data_dir: the directory of the task's files (MNIST's IDX files, the CIFAR/SVHN archives) or,
        for TFDS sources, TFDS's data directory; unused by generated tasks.
      seed: seeds the generated tasks' samples and LSUN's training crops.
      source: one of ``get_task(name).sources``, or None for the task's default.
      limit: None, or a positive int: at most this many examples per split (the first ones).

    Returns:
      {"train": (x, y), "validation": (x, y), "test": (x, y)} of numpy arrays, ``y`` None when unlabelled.

    Raises:
      ValueError: unknown name, a source the task does not have, or a bad limit.
      DataError: the data is missing or corrupt (the message says how to get it).
    """
    task = get_task(name)
    if source is not None and source not in task.sources:
        raise ValueError(f"Unknown source={source!r} for task {name!r}: accepted sources are "
                         f"{', '.join(map(repr, task.sources))} (or None for the default).")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 1:
            raise ValueError(f"limit must be None or a positive int, got limit={limit!r}")
        limit = int(limit)
    splits = task.loader(data_dir, seed, source, limit)
    if limit is not None:  # every loader honours it; this only guards the contract
        splits = {s: (x[:limit], None if y is None else y[:limit]) for s, (x, y) in splits.items()}
    return splits
