"""tfzoo: deep-learning papers implemented in Keras 3, TensorFlow and TensorFlow Probability.

Importing ``tfzoo`` is light (no TensorFlow); a model's code is imported when it is created, trained
or deserialised (``keras.models.load_model`` of a tfzoo ``.keras`` file works after ``import tfzoo``).

Example:
    >>> import tfzoo
    >>> "realnvp-moons" in tfzoo.list_models()
    True
    >>> run = tfzoo.train("realnvp-moons", "runs/realnvp-moons")     # doctest: +SKIP
    >>> flow = tfzoo.load_pretrained("realnvp-mnist")                  # doctest: +SKIP
    >>> model = tfzoo.create_model("mlp-moons")                        # doctest: +SKIP
"""

from tfzoo import serialization as _serialization
from tfzoo.registry import UnknownModelError, create_model, get_preset, list_models

__version__ = "0.2.0"
__all__ = ["UnknownModelError", "create_model", "export", "get_preset", "list_models", "load_pretrained",
           "publish", "train"]

_serialization.install()  # keras.models.load_model finds tfzoo's classes (imported on first use)


def train(preset, run_dir=None, **kwargs):
    """Trains a preset the paper's way (see :func:`tfzoo.trainer.train`); the same as ``tfzoo train``."""
    from tfzoo.trainer import train as _train

    return _train(preset, run_dir, **kwargs)


def publish(run_dir, destination, **kwargs):
    """Exports a finished run with its model card (see :func:`tfzoo.publisher.publish`)."""
    from tfzoo.publisher import publish as _publish

    return _publish(run_dir, destination, **kwargs)


def load_pretrained(name, **kwargs):
    """A trained model as a loaded SavedModel (see :func:`tfzoo.pretrained.load_pretrained`)."""
    from tfzoo.pretrained import load_pretrained as _load

    return _load(name, **kwargs)


def export(model, path, endpoints=None):
    """Writes ``model`` as a SavedModel with its endpoints (see :func:`tfzoo.savedmodel.export`)."""
    from tfzoo.savedmodel import export as _export

    return _export(model, path, endpoints)
