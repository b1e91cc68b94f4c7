"""Reading a TensorFlow Datasets split into numpy arrays, with a :class:`~tfzoo.datasets.DataError`
that says how to get the data when TFDS cannot load it.

TensorFlow and TensorFlow Datasets are imported inside the functions.

Why not ``tfds.load(..., batch_size=-1)``: it batches the whole split with a batch size taken from the
builder's metadata (``info.splits.total_num_examples or sys.maxsize``). Under
``tfds.testing.mock_data`` without metadata files (none ship with TFDS 4.9) that is ``sys.maxsize``,
and TensorFlow aborts the process (``std::length_error`` in ``vector::reserve``). We read the split in
batches of :data:`READ_BATCH` into a preallocated array instead (one copy of the data in memory,
where ``batch_size=-1`` followed by a concatenation would need two for variable-size sources).
"""

from __future__ import annotations

import re

import numpy as np

from .mnist import DataError

__all__ = ["READ_BATCH", "split_spec", "load_tfds_arrays", "collect_arrays"]

READ_BATCH = 1024


def split_spec(base: str, part: str = "all", held_out: int = 0, limit: int | None = None) -> str:
    """A TFDS split string for one of our splits, honouring ``limit`` by slicing.

    ``part``: ``"all"`` (the whole TFDS split ``base``), ``"head"`` (all but its last ``held_out``
    examples) or ``"tail"`` (its last ``held_out`` examples). With ``limit``, only the first ``limit``
    examples of that part: e.g. ``split_spec("train", "tail", 5000, 3) == "train[-5000:-4997]"``.
    """
    if part == "all":
        return base if limit is None else f"{base}[:{limit}]"
    if part == "head":
        return f"{base}[:-{held_out}]" if limit is None else f"{base}[:{limit}]"
    if part == "tail":
        if limit is None or limit >= held_out:
            return f"{base}[-{held_out}:]"
        return f"{base}[-{held_out}:-{held_out - limit}]"
    raise ValueError(f"part must be 'all', 'head' or 'tail', got {part!r}")


def collect_arrays(ds, n: int | None = None) -> tuple:
    """Reads a ``tf.data`` dataset of tuples of tensors into a tuple of numpy arrays.

    ``n`` (default: the dataset's cardinality when known) preallocates the arrays; otherwise the
    batches are concatenated.
    """
    import tensorflow as tf

    if n is None:
        cardinality = int(ds.cardinality())
        n = cardinality if cardinality >= 0 else None
    batches = ds.batch(READ_BATCH)
    spec = batches.element_spec
    if n is not None:
        out = tuple(np.empty((n, *s.shape[1:]), s.dtype.as_numpy_dtype) for s in spec)
        filled = 0
        for batch in batches.as_numpy_iterator():
            size = len(batch[0])
            if filled + size > n:
                raise DataError(f"the dataset holds more than the {n} examples it declared")
            for array, part in zip(out, batch):
                array[filled:filled + size] = part
            filled += size
        if filled != n:
            raise DataError(f"the dataset declared {n} examples but held {filled}")
        return out
    parts = [[] for _ in spec]
    for batch in batches.as_numpy_iterator():
        for store, part in zip(parts, batch):
            store.append(part)
    return tuple(np.concatenate(store) if store else np.empty((0, *s.shape[1:]), s.dtype.as_numpy_dtype)
                 for store, s in zip(parts, spec))


def _op_error_text(exc) -> str:
    """A TensorFlow op error's message without its graph-node decorations."""
    text = re.sub(r"\{\{function_node [^}]*\}\}|\[\[.*?\]\]", "", exc.message, flags=re.S)
    return " ".join(text.split()).rstrip(".")


def load_tfds_arrays(tfds_name: str, split: str, *, data_dir=None, supervised: bool, limit: int | None = None,
                     preprocess=None, how_to_get: str = "") -> tuple:
    """``(x, y)`` numpy arrays (``y`` None when ``supervised`` is False) of one TFDS split.

    Args:
      tfds_name: e.g. ``"cifar10"`` or ``"lsun/bedroom"``.
      split: a TFDS split string (see :func:`split_spec`).
      data_dir: TFDS's data directory (None: ``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``).
      supervised: ``as_supervised=True`` (image, label) or the ``"image"`` feature only.
      limit: at most this many examples (also enforced with ``take``, since ``split`` slicing is
        not honoured by ``tfds.testing.mock_data``).
      preprocess: ``f(index, image) -> image`` applied per example before batching (``index`` is
        the int64 position in the split); images must have one static shape after it.
      how_to_get: appended to error messages.

    Raises:
      DataError: TFDS cannot load the split (not prepared and not downloadable, e.g. offline), or
        an example fails the preprocessing's checks (e.g. an unexpected image shape).
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    where = (data_dir if data_dir is not None
             else "TFDS's default data directory ($TFDS_DATA_DIR or ~/tensorflow_datasets)")
    try:
        ds = tfds.load(tfds_name, split=split, data_dir=data_dir, as_supervised=supervised, shuffle_files=False)
    except Exception as exc:  # not prepared, download failure, manual-download assertion inside TFDS
        raise DataError(
            f"TFDS could not load dataset {tfds_name!r} split {split!r} from {where} "
            f"({type(exc).__name__}: {exc}). {how_to_get}"
        ) from exc
    if limit is not None:
        ds = ds.take(limit)
    if supervised:
        ds = ds.map(lambda image, label: (image, tf.cast(label, tf.int64)))
    else:
        ds = ds.map(lambda example: (example["image"],))
    if preprocess is not None:
        if supervised:
            ds = ds.enumerate().map(lambda i, pair: (preprocess(i, pair[0]), pair[1]))
        else:
            ds = ds.enumerate().map(lambda i, one: (preprocess(i, one[0]),))
    try:
        arrays = collect_arrays(ds)
    except tf.errors.OpError as exc:
        raise DataError(
            f"TFDS dataset {tfds_name!r} split {split!r} (from {where}) has an example that does not fit "
            f"this task: {_op_error_text(exc)}. {how_to_get}"
        ) from exc
    return (arrays[0], arrays[1]) if supervised else (arrays[0], None)
