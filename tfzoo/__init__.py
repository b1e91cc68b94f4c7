"""tfzoo: deep-learning papers implemented in Keras 3, TensorFlow and TensorFlow Probability.

Importing ``tfzoo`` is light (no TensorFlow); the registry functions import a model's code only when
it is created.

Example:
    >>> import tfzoo
    >>> "lenet-mnist" in tfzoo.list_models()
    True
    >>> model = tfzoo.create_model("mlp-moons")          # doctest: +SKIP
    >>> tfzoo.export(model, "/tmp/mlp-moons")            # doctest: +SKIP
"""

from tfzoo.registry import UnknownModelError, create_model, get_preset, list_models

__version__ = "0.1.0"
__all__ = ["UnknownModelError", "create_model", "export", "get_preset", "list_models"]


def export(model, path, endpoints=None):
    """Writes ``model`` as a SavedModel with its endpoints (see :func:`tfzoo.savedmodel.export`)."""
    from tfzoo.savedmodel import export as _export

    return _export(model, path, endpoints)
