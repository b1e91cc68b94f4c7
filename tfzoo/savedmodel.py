"""SavedModel export with named endpoints (model cards: :mod:`tfzoo.publisher`).

``export(model, path)`` writes a SavedModel through Keras 3's ``keras.export.ExportArchive`` with one
endpoint per entry of ``model.export_endpoints()``: ``serve`` for every model plus the family's own
(``log_prob``, ``sample``...). The SavedModel needs neither tfzoo nor Keras to run:

    >>> import tensorflow as tf                                        # doctest: +SKIP
    >>> loaded = tf.saved_model.load("savedmodels/lenet-mnist")        # doctest: +SKIP
    >>> logits = loaded.serve(tf.zeros([1, 28, 28, 1]))                # doctest: +SKIP

Sampling endpoints take an explicit integer ``seed`` and use stateless random ops, so the same seed
gives the same samples in every process. An input that does not match an endpoint's signature is
refused by TensorFlow with a message listing the expected ``TensorSpec``.
"""

from __future__ import annotations

import json
import os

from tfzoo.errors import OutputDirectoryError

METADATA_FILE = "tfzoo.json"


def _metadata(model) -> dict:
    """The identity written beside a SavedModel, normalised through JSON (tuples become lists)."""
    return json.loads(json.dumps({
        "preset": getattr(model, "preset_name", None),
        "class": f"{type(model).__module__}:{type(model).__name__}",
        "config": {k: v for k, v in model.get_config().items() if k != "name"},
        "endpoints": sorted(model.export_endpoints()),
    }))


def check_output_directory(path: str, metadata: dict):
    """Refuses a directory that holds a different model (another preset, class or config)."""
    meta_path = os.path.join(path, METADATA_FILE)
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            existing = json.load(f)
        for key in ("preset", "class", "config"):
            if existing.get(key) != metadata.get(key):
                raise OutputDirectoryError(
                    f"{path} already holds a different model ({key}: {existing.get(key)!r}, this "
                    f"model: {metadata.get(key)!r}); choose another directory or remove it"
                )
    elif os.path.isdir(path) and os.listdir(path):
        raise OutputDirectoryError(
            f"{path} exists, is not empty and was not written by tfzoo (no {METADATA_FILE}); "
            "choose an empty or new directory"
        )


def _store_each_variable_once(archive):
    """Lists the archive's variables as the ``tf.Variable`` objects the endpoints capture.

    Keras 3.15's archive saves its ``variables`` lists (Keras variable wrappers) and the endpoints'
    captured ``tf.Variable`` objects as different objects, so every weight is written twice and a
    SavedModel takes twice its size. Listing the underlying variables lets the SavedModel
    writer store each once; ``loaded.variables`` still lists them all.
    """
    trackable = archive._tf_trackable
    for attr in ("variables", "trainable_variables", "non_trainable_variables"):
        wrapped = getattr(trackable, attr, None)
        if wrapped is not None:
            setattr(trackable, attr, [getattr(v, "value", v) for v in wrapped])


def export(model, path: str, endpoints: dict | None = None) -> str:
    """Writes ``model`` as a SavedModel at ``path`` with its endpoints; returns ``path``.

    Args:
        model: a :class:`tfzoo.base.ZooModel`.
        path: the SavedModel directory. Re-exporting the same model there is allowed; a directory
            holding a different model raises :class:`OutputDirectoryError`.
        endpoints: name -> ``(function, input_signature)``; default ``model.export_endpoints()``.
    """
    endpoints = endpoints if endpoints is not None else model.export_endpoints()
    if "serve" not in endpoints:
        raise ValueError("every tfzoo SavedModel has a 'serve' endpoint; none was given")
    metadata = _metadata(model)
    check_output_directory(path, metadata)
    import keras

    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, (function, signature) in endpoints.items():
        archive.add_endpoint(name, function, input_signature=signature)
    _store_each_variable_once(archive)
    archive.write_out(path, verbose=False)
    with open(os.path.join(path, METADATA_FILE), "w") as f:
        json.dump(metadata, f, indent=1, sort_keys=True)
    return path


def directory_size_bytes(path: str) -> int:
    """Total size of the files below ``path``."""
    return sum(
        os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(path) for name in names
    )
