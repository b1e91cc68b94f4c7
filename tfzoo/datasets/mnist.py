"""MNIST (LeCun, Cortes & Burges) as numpy arrays, in the canonical IDX-file order.

Two sources give byte-identical arrays:

* ``source="idx"``: the four official gzip'd IDX files in a local directory, resolved from
  the ``data_dir`` argument, else the ``TFZOO_MNIST_DIR`` environment variable, else
  ``<repo root>/../shared/data/mnist`` when that directory exists.
* ``source="tfds"``: the *same four files*, fetched by TensorFlow Datasets' own download
  manager (``tfds.download.DownloadManager``) from the URLs of TFDS's ``mnist`` builder
  (``tfds.image_classification.MNIST.URL``) into TFDS's download directory, then parsed by
  the same IDX parser.  We deliberately do not read the prepared ``tfds.load("mnist")``
  records: TFDS writes them in an order given by a salted hash of each example's key, so
  their order is not the official one.

``source="auto"`` uses the IDX directory if one resolves and TFDS otherwise.

Every file is checked against the official size and md5 before parsing (results cached
per ``(path, mtime, size)``), and the IDX magic numbers and shapes are validated.

What is verified offline (tests/datasets/test_mnist.py): the TFDS branch, run against a TFDS
download directory pre-populated with the official files under the names TFDS's download
manager gives them, returns arrays identical to the IDX branch; this exercises TFDS's URL
list, cache naming and sha256 registry.  Not verified offline: the actual network download.

The 50k/10k/10k split of :func:`mnist_splits` follows Alain's thesis
(/work/shared/papers/003_a93095073811cc34.txt L2087: "trained for 200 epochs with the 50000
training examples", binarized "thresholding at 0.5"); Dinh's thesis
(/work/shared/papers/004_6b1d8905d771edf8.txt L384) motivates the held-out validation set
and uses MNIST in [0, 1] (L1458-1462) but does not state the split sizes.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["DataError", "MnistArrays", "MNIST_FILES", "load_mnist", "binarize", "mnist_splits"]


class DataError(ValueError):
    """A data set is missing, incomplete or corrupt; the message says how to fix it."""


class _IdxFile(NamedTuple):
    size: int
    md5: str
    magic: int
    shape: tuple[int, ...]


# Official sizes and md5s (see /work/shared/data/README.md); magic 0x803 = ubyte 3-D, 0x801 = ubyte 1-D.
MNIST_FILES: dict[str, _IdxFile] = {
    "train-images-idx3-ubyte.gz": _IdxFile(9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873", 0x803, (60000, 28, 28)),
    "train-labels-idx1-ubyte.gz": _IdxFile(28881, "d53e105ee54ea40749a09fcbcd1e9432", 0x801, (60000,)),
    "t10k-images-idx3-ubyte.gz": _IdxFile(1648877, "9fb629c4189551a2d022fa330f9573f3", 0x803, (10000, 28, 28)),
    "t10k-labels-idx1-ubyte.gz": _IdxFile(4542, "ec29112dd5afa0611ce80d1b7f02629c", 0x801, (10000,)),
}

ENV_VAR = "TFZOO_MNIST_DIR"
_FIX = (
    "To fix: pass load_mnist(data_dir=...) pointing at a directory with the four official files, "
    f"set the environment variable {ENV_VAR}, or use source='tfds' on a machine with internet."
)
_verified: set[tuple[str, int, int]] = set()


class MnistArrays(NamedTuple):
    """MNIST in official file order: uint8 images (N, 28, 28, 1) in 0..255, int64 labels (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _default_dir() -> Path:
    """``<repo root>/../shared/data/mnist``, the repo root being the parent of the ``tfzoo`` package."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"


def _resolve_idx_dir(data_dir) -> tuple[Path | None, str]:
    """Returns (directory or None, description of where it came from)."""
    if data_dir is not None:
        return Path(data_dir), "the data_dir argument"
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]), f"the {ENV_VAR} environment variable"
    default = _default_dir()
    return (default if default.is_dir() else None), f"the default location {default}"


def _expected_listing() -> str:
    return "; ".join(f"{name} ({f.size:,} bytes, md5 {f.md5})" for name, f in MNIST_FILES.items())


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path, name: str) -> Path:
    """Checks presence, size and md5 of the file ``name`` at ``path``; caches success per (path, mtime, size)."""
    expected = MNIST_FILES[name]
    directory = path.parent
    if not path.is_file():
        raise DataError(
            f"MNIST file {name!r} is missing from directory {directory} "
            f"(expected {expected.size:,} bytes, md5 {expected.md5}). {_FIX}"
        )
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key in _verified:
        return path
    actual = _md5(path)
    if stat.st_size != expected.size or actual != expected.md5:
        raise DataError(
            f"MNIST file {name!r} in directory {directory} is corrupt: it has {stat.st_size:,} bytes and "
            f"md5 {actual}, expected {expected.size:,} bytes and md5 {expected.md5}. "
            f"Replace it with the official file. {_FIX}"
        )
    _verified.add(key)
    return path


def _parse_idx(path: Path, expected: _IdxFile) -> np.ndarray:
    """Parses a gzip'd IDX file of unsigned bytes, validating magic number and shape."""
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    magic = int.from_bytes(raw[:4], "big")
    ndim = magic & 0xFF
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if magic != expected.magic or shape != expected.shape:
        raise DataError(
            f"IDX file {path} has magic 0x{magic:08x} and shape {shape}, "
            f"expected magic 0x{expected.magic:08x} and shape {expected.shape}. {_FIX}"
        )
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DataError(f"IDX file {path} holds {data.size} bytes of data, expected {int(np.prod(shape))}. {_FIX}")
    return data.reshape(shape)


def _load_idx_dir(directory: Path, origin: str) -> MnistArrays:
    if not directory.is_dir():
        raise DataError(
            f"MNIST directory {directory} (from {origin}) does not exist; "
            f"it should contain: {_expected_listing()}. {_FIX}"
        )
    return _load_files({name: directory / name for name in MNIST_FILES})


def _load_files(paths: dict[str, Path]) -> MnistArrays:
    """Verifies and parses the four files, given as {official name: path}."""
    arrays = {name: _parse_idx(_verify(Path(path), name), MNIST_FILES[name]) for name, path in paths.items()}
    return MnistArrays(
        x_train=arrays["train-images-idx3-ubyte.gz"][..., None],
        y_train=arrays["train-labels-idx1-ubyte.gz"].astype(np.int64),
        x_test=arrays["t10k-images-idx3-ubyte.gz"][..., None],
        y_test=arrays["t10k-labels-idx1-ubyte.gz"].astype(np.int64),
    )


def _tfds_download(download_dir) -> dict[str, Path]:
    """Fetches the four files with TFDS's download manager; returns {official name: cached path}.

    TFDS caches each URL under a name derived from the URL and its registered sha256 and
    verifies that sha256 after downloading; a cached file is reused without network access.
    """
    import tensorflow_datasets as tfds
    from tensorflow_datasets.image_classification import mnist as tfds_mnist

    download_dir = Path(download_dir or os.path.join(tfds.core.constants.DATA_DIR, "downloads"))
    urls = {name: tfds_mnist.MNIST.URL + name for name in MNIST_FILES}
    try:
        return tfds.download.DownloadManager(download_dir=download_dir).download(urls)
    except Exception as exc:  # network, checksum or permission failure inside TFDS
        raise DataError(
            f"TFDS could not fetch MNIST into {download_dir} ({type(exc).__name__}: {exc}); "
            f"files needed: {_expected_listing()}. {_FIX}"
        ) from exc


def load_mnist(data_dir=None, source: str = "auto") -> MnistArrays:
    """Loads MNIST in the official IDX order.

    Args:
      data_dir: for ``source="idx"``/``"auto"``, the directory with the four ``.gz`` files
        (default: ``$TFZOO_MNIST_DIR``, else ``<repo root>/../shared/data/mnist``). For
        ``source="tfds"``, TFDS's download directory (default ``<TFDS data dir>/downloads``).
      source: ``"idx"``, ``"tfds"`` or ``"auto"`` (IDX directory if one resolves, else TFDS).

    Returns:
      :class:`MnistArrays`: x uint8 (60000|10000, 28, 28, 1), y int64.

    Raises:
      DataError: directory missing, a file missing, a file corrupt (size/md5), or bad IDX header.
    """
    if source not in ("auto", "idx", "tfds"):
        raise ValueError(f"source must be 'auto', 'idx' or 'tfds', got {source!r}")
    if source == "tfds":
        return _load_files(_tfds_download(data_dir))
    directory, origin = _resolve_idx_dir(data_dir)
    if directory is not None:
        return _load_idx_dir(directory, origin)
    if source == "idx":
        raise DataError(
            f"No MNIST directory found: data_dir is None, {ENV_VAR} is unset and {origin} does not exist; "
            f"it should contain: {_expected_listing()}. {_FIX}"
        )
    return _load_files(_tfds_download(None))


def binarize(x: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Binarizes uint8 pixels: returns float32 ``1.0`` where ``x / 255 > threshold`` (strictly), else ``0.0``.

    With the default 0.5, pixel 127 -> 0 and 128 -> 1 (Alain's thesis, L2087: "thresholding at 0.5").
    The comparison is made exactly in float64 for each of the 256 possible values.
    """
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise ValueError(f"binarize expects uint8 pixels in 0..255, got dtype {x.dtype}")
    table = (np.arange(256, dtype=np.float64) / 255.0 > threshold).astype(np.float32)
    return table[x]


def mnist_splits(data_dir=None, source: str = "auto", binarized: bool = False, dtype=None) -> dict:
    """The 50k/10k/10k MNIST split: {"train", "validation", "test"} -> (x, y).

    train = first 50,000 training images, validation = last 10,000 training images,
    test = the 10,000 test images (all in official order; see the module docstring for sources).

    Args:
      data_dir, source: as in :func:`load_mnist`.
      binarized: if True, images are ``binarize(x)`` (float32 in {0, 1}).
      dtype: None keeps uint8 0..255 (float32 {0, 1} when binarized); a floating dtype gives
        images scaled to [0, 1] (``x / 255``; binarized images are just cast).
    """
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.floating):
        raise ValueError(f"dtype must be None or a floating dtype, got {dtype!r}")
    data = load_mnist(data_dir, source)

    def images(x: np.ndarray) -> np.ndarray:
        if binarized:
            x = binarize(x)
            return x if dtype is None else x.astype(dtype)
        return x if dtype is None else (x / 255.0).astype(dtype)

    return {
        "train": (images(data.x_train[:50000]), data.y_train[:50000]),
        "validation": (images(data.x_train[50000:]), data.y_train[50000:]),
        "test": (images(data.x_test), data.y_test),
    }
