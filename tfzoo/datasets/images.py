"""Natural-image tasks as uint8 numpy arrays: CIFAR-10/100 and SVHN (TFDS or the official files),
downsampled ImageNet, CelebA and LSUN (TFDS, with Real NVP's preprocessing).

Importing this module is light (numpy only); TensorFlow, TensorFlow Datasets and SciPy are imported
inside the loaders. Every loader returns ``{"train": (x, y), "validation": (x, y), "test": (x, y)}``
with x uint8 (N, H, W, 3) in [0, 255] and y int64 labels, or None for the unlabelled sets.

Splits (full sizes; ``limit`` keeps the first ``limit`` examples of each):

========================= =========== ========== ======== =================================================
task                      train       validation test      where the splits come from
========================= =========== ========== ======== =================================================
cifar10, cifar100         45,000      5,000      10,000   official train minus / = its last 5,000; test
svhn                      67,257      6,000      26,032   official train minus / = its last 6,000; test
imagenet32, imagenet64    1,271,149   10,000     49,999   TFDS train minus / = its last 10,000; TFDS
                                                          validation as "test" (see below)
celeba64                  162,770     19,867     19,962   the official partition (TFDS splits)
lsun-bedroom              3,023,042   10,000     300      TFDS train minus / = its last 10,000; TFDS
lsun-tower                698,264     10,000     300      validation (the official LSUN val set) as "test"
lsun-church               116,227     10,000     300
========================= =========== ========== ======== =================================================

The TFDS sizes are those of the TFDS catalog (TFDS 4.9); they are not checked at load time.

**Which set the papers report on.** Real NVP (Dinh et al. 2017, Table 1; Dinh's thesis Table 5.2,
``shared/papers/004_6b1d8905d771edf8.txt`` L1650: "Test results for CIFAR-10 and validation results
for Imagenet, LSUN and CelebA") reports ImageNet and LSUN on their official *validation* sets, which
are our ``"test"`` splits, so that our ``"validation"`` split can be held out of the training set
for model selection. CelebA's official partition has its own validation and test sets; Real NVP's
CelebA number is on the official validation set (our ``"validation"``).

**Order.** The ``"files"`` source keeps the order of the official files (CIFAR: data_batch_1..5, so
the validation set is data_batch_5). TFDS stores examples in an order given by a hash of their keys,
so ``source="tfds"`` gives the same images in another order, and the last 5,000 (CIFAR) or 6,000
(SVHN) training examples of TFDS are a different held-out set than those of the files.

**Preprocessing** (Dinh's thesis L1621-1623; Real NVP's code, ``tensorflow/models``
``research/real_nvp``): see :func:`celeba_crop_resize` and :func:`lsun_resize_crop`.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

from .mnist import DataError
from .tfds_io import load_tfds_arrays, split_spec

__all__ = [
    "CIFAR_VALIDATION",
    "SVHN_VALIDATION",
    "HELD_OUT_VALIDATION",
    "CELEBA_CROP",
    "celeba_crop_resize",
    "lsun_resize_crop",
    "cifar_splits",
    "svhn_splits",
    "imagenet_splits",
    "celeba_splits",
    "lsun_splits",
]

CIFAR_VALIDATION = 5000       # the last 5,000 official training images
SVHN_VALIDATION = 6000        # the last 6,000 official training images
HELD_OUT_VALIDATION = 10000   # ImageNet and LSUN: the last 10,000 TFDS training images

# (first row, first column, side) of Real NVP's CelebA crop of the 218 x 178 aligned images:
# ``image[40:188, 15:163]`` in research/real_nvp/real_nvp_multiscale_dataset.py. The thesis says
# "an approximately central crop of 148x148" (L1623): the columns are centred (15 + 148 + 15 = 178),
# the rows start 5 below the centre (35 + 148 + 35 = 218).
CELEBA_CROP = (40, 15, 148)
CELEBA_SHAPE = (218, 178, 3)

_CIFAR = {
    10: dict(
        task="cifar10", title="CIFAR-10", tfds="cifar10", archive="cifar-10-python.tar.gz",
        md5="c58f30108f718f92721af3b95e74349a", folder="cifar-10-batches-py",
        train=[f"data_batch_{i}" for i in range(1, 6)], test=["test_batch"], meta="batches.meta",
        label_key=b"labels",
    ),
    100: dict(
        task="cifar100", title="CIFAR-100", tfds="cifar100", archive="cifar-100-python.tar.gz",
        md5="eb9058c3a382ffc7106e4002c42a8d85", folder="cifar-100-python",
        train=["train"], test=["test"], meta="meta", label_key=b"fine_labels",
    ),
}
_CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
_SVHN_URL = "http://ufldl.stanford.edu/housenumbers/"
_SVHN_FILES = {"train": ("train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"),
               "test": ("test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3")}
_TFDS_HINT = ("TFDS downloads and prepares it into its data directory on first use (this needs the "
              "internet); on an offline machine, prepare it where TFDS can download it and copy the "
              "prepared folder '{name}/<version>' of TFDS's data directory into data_dir.")


def _tfds_how_to_get(tfds_name: str, homepage: str, extra: str = "") -> str:
    return (f"To fix: it is TFDS dataset {tfds_name!r} (official page: {homepage}). "
            + _TFDS_HINT.format(name=tfds_name) + (" " + extra if extra else ""))


# ----------------------------------------------------------------------------------- preprocessing
def _to_uint8(x):
    import tensorflow as tf

    return tf.cast(tf.round(tf.clip_by_value(x, 0.0, 255.0)), tf.uint8)


def celeba_crop_resize(image, size: int = 64):
    """Real NVP's CelebA preprocessing of one aligned 218 x 178 x 3 uint8 image (Dinh's thesis L1623,
    after Larsen et al. 2015: "an approximately central crop of 148x148 then resize it to 64x64").

    Crop rows 40..187 and columns 15..162 (:data:`CELEBA_CROP`, the window of Real NVP's code), then
    ``tf.image.resize`` bilinear without antialiasing to ``size`` x ``size`` (as Real NVP's code),
    then round to the nearest integer: uint8 (size, size, 3). (Real NVP kept the resized float
    values and added the uniform dequantisation noise to them; the rounding moves a pixel by at most
    half a quantisation step.) Raises ``tf.errors.InvalidArgumentError`` on another input shape.
    """
    import tensorflow as tf

    image = tf.ensure_shape(tf.convert_to_tensor(image), CELEBA_SHAPE)
    row, col, side = CELEBA_CROP
    crop = tf.cast(image[row:row + side, col:col + side], tf.float32)
    return _to_uint8(tf.image.resize(crop, [size, size], method="bilinear", antialias=False))


def lsun_resize_crop(image, size: int = 64, smallest_side: int = 96, crop: str = "centre", seed=None):
    """Real NVP's LSUN preprocessing of one uint8 H x W x 3 image (Dinh's thesis L1622, after Radford
    et al. 2015: "downsample the image so that the smallest side is 96 pixels and take random uniform
    crops of 64x64").

    Resize to ``(ceil(H * 96 / min(H, W)), ceil(W * 96 / min(H, W)))`` (the smallest side is then
    exactly 96) with ``tf.image.resize`` bilinear *with* antialiasing (Real NVP's
    ``skimage.transform.pyramid_reduce`` also smooths before subsampling), round to uint8, then crop
    ``size`` x ``size``:

    * ``crop="random"``: ``tf.image.stateless_random_crop`` with ``seed`` (a pair of ints: the task
      seed and the example's index), so every example has one fixed, reproducible random crop;
    * ``crop="centre"``: the central window (offsets ``(h - size) // 2``, ``(w - size) // 2``), for the
      validation and test sets, so that they do not depend on a seed. Real NVP's code took random
      crops for evaluation too.
    """
    import tensorflow as tf

    if crop not in ("centre", "random"):
        raise ValueError(f"crop must be 'centre' or 'random', got {crop!r}")
    image = tf.ensure_shape(tf.convert_to_tensor(image), (None, None, 3))
    shape = tf.shape(image, out_type=tf.int64)
    h, w = shape[0], shape[1]
    m = tf.minimum(h, w)
    new_h = (h * smallest_side + m - 1) // m
    new_w = (w * smallest_side + m - 1) // m
    resized = _to_uint8(tf.image.resize(tf.cast(image, tf.float32), tf.cast(tf.stack([new_h, new_w]), tf.int32),
                                        method="bilinear", antialias=True))
    if crop == "random":
        if seed is None:
            raise ValueError("crop='random' needs a seed (a pair of ints)")
        return tf.image.stateless_random_crop(resized, [size, size, 3], seed=tf.cast(seed, tf.int64))
    top, left = (new_h - size) // 2, (new_w - size) // 2
    out = tf.image.crop_to_bounding_box(resized, tf.cast(top, tf.int32), tf.cast(left, tf.int32), size, size)
    return tf.ensure_shape(out, (size, size, 3))


# --------------------------------------------------------------------------------------- files
def _files_dir(data_dir, title: str, listing: str, tfds_name: str) -> Path:
    fix = f"or use source='tfds' (TFDS dataset {tfds_name!r})."
    if data_dir is None:
        raise DataError(f"{title} with source='files' needs data_dir: a directory holding {listing}, {fix}")
    directory = Path(data_dir)
    if not directory.is_dir():
        raise DataError(f"{title} directory {directory} (from the data_dir argument) does not exist; it should "
                        f"contain {listing}. Pass the directory that holds it, {fix}")
    return directory


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles the official CIFAR batches (dicts of bytes, lists and numpy arrays) and nothing else:
    pickles can run arbitrary code, so only numpy's array reconstruction is allowed."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("_codecs", "encode"),  # bytes in protocol-2 pickles written by Python 3
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a CIFAR batch")


def _read_cifar_archive(path: Path, spec: dict) -> dict:
    """{"train": (x, y), "test": (x, y)} from an official CIFAR ``.tar.gz``, in file order."""
    out = {}
    with tarfile.open(path, "r:gz") as archive:
        for part in ("train", "test"):
            images, labels = [], []
            for member in spec[part]:
                name = f"{spec['folder']}/{member}"
                try:
                    handle = archive.extractfile(name)
                except KeyError:
                    raise DataError(f"{spec['title']} archive {path} has no member {name!r}; expected "
                                    f"{', '.join(spec['folder'] + '/' + m for m in spec['train'] + spec['test'])}. "
                                    f"Download the official {spec['archive']} again from {_CIFAR_URL} "
                                    f"(md5 {spec['md5']}).")
                batch = _ArrayUnpickler(io.BytesIO(handle.read()), encoding="bytes").load()
                data = np.asarray(batch[b"data"])
                label = np.asarray(batch[spec["label_key"]], np.int64)
                if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or label.shape != (len(data),):
                    raise DataError(f"{spec['title']} archive {path}: {name} holds data {data.dtype} {data.shape} and "
                                    f"{label.shape} labels, expected uint8 (N, 3072) and (N,)")
                images.append(data)
                labels.append(label)
            x = np.concatenate(images).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            out[part] = (np.ascontiguousarray(x), np.concatenate(labels))
    return out


def _cifar_files(classes: int, data_dir, limit) -> dict:
    spec = _CIFAR[classes]
    listing = f"the official {spec['archive']} (md5 {spec['md5']}, from {_CIFAR_URL})"
    path = _files_dir(data_dir, spec["title"], listing, spec["tfds"]) / spec["archive"]
    if not path.is_file():
        raise DataError(f"{spec['title']} archive {spec['archive']!r} is missing from directory {path.parent} "
                        f"(expected {listing}). Download it there, or use source='tfds' (TFDS dataset "
                        f"{spec['tfds']!r}).")
    try:
        parts = _read_cifar_archive(path, spec)
    except DataError:
        raise
    except Exception as exc:  # truncated gzip, bad tar, bad pickle
        raise DataError(f"{spec['title']} archive {path} is corrupt or incomplete ({type(exc).__name__}: {exc}); "
                        f"expected {listing}. Download it again.") from exc
    for part, (_, y) in parts.items():
        if len(y) and (y.min() < 0 or y.max() >= classes):
            raise DataError(f"{spec['title']} archive {path}: {part} labels outside 0..{classes - 1}")
    (x, y), test = parts["train"], parts["test"]
    k = CIFAR_VALIDATION
    return _take({"train": (x[:-k], y[:-k]), "validation": (x[-k:], y[-k:]), "test": test}, limit)


def _take(splits: dict, limit) -> dict:
    if limit is None:
        return splits
    return {s: (x[:limit], None if y is None else y[:limit]) for s, (x, y) in splits.items()}


def _read_svhn_mat(path: Path) -> tuple:
    import scipy.io

    mat = scipy.io.loadmat(path)
    x, y = mat.get("X"), mat.get("y")
    if x is None or y is None:
        names = sorted(k for k in mat if not k.startswith("__"))
        raise DataError(f"SVHN file {path} has no 'X' and 'y' variables (it has {names})")
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[:3] != (32, 32, 3) or y.shape != (x.shape[3],):
        raise DataError(f"SVHN file {path} holds X {x.dtype} {x.shape} and y {y.shape}, expected uint8 "
                        "(32, 32, 3, N) and N labels")
    if len(y) and (y.min() < 1 or y.max() > 10):
        raise DataError(f"SVHN file {path} has labels outside 1..10")
    y = y.astype(np.int64)
    y[y == 10] = 0  # the official files label the digit 0 as 10
    return np.ascontiguousarray(np.transpose(x, (3, 0, 1, 2))), y


def _svhn_files(data_dir, limit) -> dict:
    listing = (", ".join(f"{name} (md5 {md5})" for name, md5 in _SVHN_FILES.values()) + f" from {_SVHN_URL}")
    directory = _files_dir(data_dir, "SVHN", listing, "svhn_cropped")
    parts = {}
    for part, (name, md5) in _SVHN_FILES.items():
        path = directory / name
        if not path.is_file():
            raise DataError(f"SVHN file {name!r} is missing from directory {directory} (expected {listing}). "
                            "Download it there, or use source='tfds' (TFDS dataset 'svhn_cropped').")
        try:
            parts[part] = _read_svhn_mat(path)
        except DataError:
            raise
        except Exception as exc:  # truncated or not a MATLAB file
            raise DataError(f"SVHN file {path} is corrupt or not the official MATLAB file ({type(exc).__name__}: "
                            f"{exc}); expected {name} (md5 {md5}) from {_SVHN_URL}. Download it again.") from exc
    (x, y), k = parts["train"], SVHN_VALIDATION
    return _take({"train": (x[:-k], y[:-k]), "validation": (x[-k:], y[-k:]), "test": parts["test"]}, limit)


# ---------------------------------------------------------------------------------------- TFDS
def _tfds_three(tfds_name, parts: dict, *, data_dir, supervised, limit, how_to_get, preprocess=None) -> dict:
    """``parts``: our split -> (TFDS split, "all" | "head" | "tail", held_out); ``preprocess``: our
    split -> per-example function or None."""
    out = {}
    for split, (base, part, held_out) in parts.items():
        spec = split_spec(base, part, held_out, limit)
        fn = None if preprocess is None else preprocess(split)
        out[split] = load_tfds_arrays(tfds_name, spec, data_dir=data_dir, supervised=supervised, limit=limit,
                                      preprocess=fn, how_to_get=how_to_get)
    return out


def _resolve_files_or_tfds(source, data_dir) -> str:
    """``None`` -> ``"files"`` when a data_dir is given, else ``"tfds"``."""
    return source if source is not None else ("files" if data_dir is not None else "tfds")


def cifar_splits(classes: int = 10, data_dir=None, source=None, limit=None) -> dict:
    """CIFAR-10 (``classes=10``) or CIFAR-100 (fine labels) as uint8 (N, 32, 32, 3), int64 labels.

    ``source="files"``: the official ``cifar-10-python.tar.gz`` / ``cifar-100-python.tar.gz`` in
    ``data_dir`` (read without extracting; only numpy arrays are unpickled); ``source="tfds"``: TFDS
    ``cifar10`` / ``cifar100`` (``data_dir`` is then TFDS's data directory). ``None``: files when
    ``data_dir`` is given, else TFDS. Splits 45,000 / 5,000 (the last official training images) /
    10,000.
    """
    spec = _CIFAR[classes]
    if _resolve_files_or_tfds(source, data_dir) == "files":
        return _cifar_files(classes, data_dir, limit)
    k = CIFAR_VALIDATION
    return _tfds_three(spec["tfds"], {"train": ("train", "head", k), "validation": ("train", "tail", k),
                                      "test": ("test", "all", 0)},
                       data_dir=data_dir, supervised=True, limit=limit,
                       how_to_get=_tfds_how_to_get(spec["tfds"], _CIFAR_URL,
                                                   f"Or put {spec['archive']} in data_dir and use source='files'."))


def svhn_splits(data_dir=None, source=None, limit=None) -> dict:
    """SVHN cropped digits as uint8 (N, 32, 32, 3), int64 labels 0..9 (the files' label 10 is 0).

    ``source="files"``: the official ``train_32x32.mat`` and ``test_32x32.mat`` in ``data_dir`` (read
    with ``scipy.io.loadmat``); ``source="tfds"``: TFDS ``svhn_cropped``. ``None``: files when
    ``data_dir`` is given, else TFDS. Splits 67,257 / 6,000 (the last official training images) /
    26,032; the "extra" set is not used.
    """
    if _resolve_files_or_tfds(source, data_dir) == "files":
        return _svhn_files(data_dir, limit)
    k = SVHN_VALIDATION
    return _tfds_three("svhn_cropped", {"train": ("train", "head", k), "validation": ("train", "tail", k),
                                        "test": ("test", "all", 0)},
                       data_dir=data_dir, supervised=True, limit=limit,
                       how_to_get=_tfds_how_to_get("svhn_cropped", _SVHN_URL,
                                                   "Or put train_32x32.mat and test_32x32.mat in data_dir and use "
                                                   "source='files'."))


def imagenet_splits(size: int = 32, data_dir=None, limit=None) -> dict:
    """Downsampled ImageNet (van den Oord et al. 2016) at ``size`` 32 or 64: TFDS
    ``downsampled_imagenet/32x32`` or ``/64x64``, uint8 (N, size, size, 3), no labels.

    train = TFDS train minus its last 10,000 images (our validation); test = TFDS validation (49,999),
    the set Real NVP reports on. Every image is checked to be size x size x 3.
    """
    import tensorflow as tf

    name = f"downsampled_imagenet/{size}x{size}"
    k = HELD_OUT_VALIDATION

    def check(_, image):
        return tf.ensure_shape(image, (size, size, 3))

    return _tfds_three(name, {"train": ("train", "head", k), "validation": ("train", "tail", k),
                              "test": ("validation", "all", 0)},
                       data_dir=data_dir, supervised=False, limit=limit, preprocess=lambda split: check,
                       how_to_get=_tfds_how_to_get(
                           name, "https://image-net.org/download-images (Downsampled ImageNet)",
                           "TFDS's download URL for it no longer serves the files (tensorflow/datasets#4662)."))


def celeba_splits(data_dir=None, limit=None) -> dict:
    """CelebA at 64 x 64 the Real NVP way (:func:`celeba_crop_resize`): TFDS ``celeb_a``, uint8
    (N, 64, 64, 3), no labels; the official partition 162,770 / 19,867 / 19,962."""
    return _tfds_three("celeb_a", {"train": ("train", "all", 0), "validation": ("validation", "all", 0),
                                   "test": ("test", "all", 0)},
                       data_dir=data_dir, supervised=False, limit=limit,
                       preprocess=lambda split: lambda _, image: celeba_crop_resize(image),
                       how_to_get=_tfds_how_to_get("celeb_a", "http://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
                                                   "TFDS fetches it from Google Drive, which often refuses "
                                                   "(quota)."))


def lsun_splits(category: str, data_dir=None, seed=0, limit=None) -> dict:
    """An LSUN scene category (TFDS ``lsun/<category>``) at 64 x 64 the Real NVP way
    (:func:`lsun_resize_crop`), uint8 (N, 64, 64, 3), no labels.

    train = TFDS train minus its last 10,000 images, each with one random 64 x 64 crop drawn from
    ``(seed, index)``; validation = those last 10,000, test = TFDS validation (the official 300
    images), both centre crops.
    """
    name = f"lsun/{category}"
    k = HELD_OUT_VALIDATION

    def preprocess(split):
        if split == "train":
            return lambda i, image: lsun_resize_crop(image, crop="random", seed=_pair(seed, i))
        return lambda _, image: lsun_resize_crop(image, crop="centre")

    return _tfds_three(name, {"train": ("train", "head", k), "validation": ("train", "tail", k),
                              "test": ("validation", "all", 0)},
                       data_dir=data_dir, supervised=False, limit=limit, preprocess=preprocess,
                       how_to_get=_tfds_how_to_get(name, "https://www.yf.io/p/lsun (files at http://dl.yf.io/lsun/)"))


def _pair(seed, index):
    import tensorflow as tf

    return tf.stack([tf.constant(int(seed), tf.int64), tf.cast(index, tf.int64)])
