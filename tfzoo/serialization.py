"""Lets ``keras.models.load_model`` find tfzoo's classes after a plain ``import tfzoo``.

tfzoo's classes are registered with ``@keras.saving.register_keras_serializable(package="tfzoo")``
(registered name ``"tfzoo>ClassName"``) when their family module is imported, and ``import tfzoo``
imports no family module (nor TensorFlow or Keras). Keras imports a class's module while
deserialising only for its own packages, so without help a ``.keras`` file of a tfzoo model fails to
load with ``Could not locate class 'MLPClassifier'``.

:func:`install` (called by ``tfzoo/__init__.py``) makes Keras's global object registry import the
module of a tfzoo name the first time that name is looked up. It replaces
``keras.src.saving.object_registration.GLOBAL_CUSTOM_OBJECTS`` (a plain dict that every Keras
module reads as that module attribute, and ``register_keras_serializable`` writes to) by a dict
subclass with the same contents whose ``__contains__``, ``__getitem__`` and ``get`` import
``REGISTERED_CLASSES[name]`` on a miss. If Keras is not imported yet, a ``sys.meta_path`` finder
applies the replacement right after ``keras.src.saving.object_registration`` has been executed (so
before Keras registers anything), then removes itself; ``install`` therefore never imports Keras.

If a future Keras lacks these internals, nothing is patched and nothing is logged (the tests of
``tests/test_serialization.py`` fail instead).

Example:
    >>> import keras, tfzoo                                    # doctest: +SKIP
    >>> model = keras.models.load_model("runs/x/model.keras")  # doctest: +SKIP
"""

from __future__ import annotations

import _thread  # not threading: importing it would cost more than the rest of this module
import importlib
import sys

# Every name that tfzoo registers with Keras -> the module whose import registers it. Kept complete
# by tests/test_serialization.py, which reads every ``register_keras_serializable`` in tfzoo/.
REGISTERED_CLASSES: dict[str, str] = {
    "tfzoo>RandomFeatureSubset": "tfzoo.analysis.probes",
    "tfzoo>Dropout": "tfzoo.classifiers.dropout",
    "tfzoo>MLPClassifier": "tfzoo.classifiers.models",
    "tfzoo>LeNet": "tfzoo.classifiers.models",
    "tfzoo>ConvNet": "tfzoo.classifiers.models",
    "tfzoo>DenseCouplingFlow": "tfzoo.flows.models",
    "tfzoo>MultiScaleRealNVP": "tfzoo.flows.models",
    "tfzoo>DependencyNetworkGSN": "tfzoo.gsn.dependency_network",
    "tfzoo>ScoreAutoencoder": "tfzoo.gsn.models",
    "tfzoo>GenerativeDAE": "tfzoo.gsn.models",
    "tfzoo>GSN": "tfzoo.gsn.models",
    "tfzoo>ISSGDClassifier": "tfzoo.issgd.models",
    "tfzoo>EntropySGD": "tfzoo.lecture.entropy_sgd",
    "tfzoo>GAN": "tfzoo.lecture.gan",
    "tfzoo>SparseAutoencoder": "tfzoo.lecture.sparse_autoencoder",
    "tfzoo>half_squared_code_error": "tfzoo.lecture.sparse_coding",
    "tfzoo>LISTA": "tfzoo.lecture.sparse_coding",
    "tfzoo>StochasticDepthBlock": "tfzoo.lecture.stochastic_depth",
    "tfzoo>StochasticDepthResNet": "tfzoo.lecture.stochastic_depth",
    "tfzoo>MADE": "tfzoo.probabilistic.made",
    "tfzoo>GaussianMixtureModel": "tfzoo.probabilistic.mixture",
    "tfzoo>VAE": "tfzoo.probabilistic.vae",
    "tfzoo>ShadowNet": "tfzoo.reversible.models",
}

# The Keras module holding the registry, and the registry's attribute in it (Keras 3.13 to 3.15).
REGISTRY_MODULE = "keras.src.saving.object_registration"
REGISTRY_ATTRIBUTE = "GLOBAL_CUSTOM_OBJECTS"

_lock = _thread.RLock()


class ImportingRegistry(dict):
    """Keras's registry dict, importing the module of a tfzoo name that is looked up but missing."""

    __slots__ = ()

    def _load(self, key) -> bool:
        """Imports ``key``'s tfzoo module if ``key`` is a tfzoo name not registered yet."""
        if dict.__contains__(self, key) or not isinstance(key, str):
            return False
        module = REGISTERED_CLASSES.get(key)
        if module is None:
            return False
        importlib.import_module(module)  # registers the class (into this dict) as a side effect
        return True

    def __contains__(self, key):
        return dict.__contains__(self, key) or (self._load(key) and dict.__contains__(self, key))

    def __missing__(self, key):  # called by dict.__getitem__ on a miss
        if self._load(key) and dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        raise KeyError(key)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __reduce__(self):  # copies and pickles are plain dicts
        return dict, (dict(self),)


def _patch(registry_module) -> bool:
    """Replaces the module's registry dict by an :class:`ImportingRegistry`; False if impossible."""
    with _lock:
        current = getattr(registry_module, REGISTRY_ATTRIBUTE, None)
        if isinstance(current, ImportingRegistry):
            return True
        if type(current) is not dict:  # internals changed (or module half-initialised): do nothing
            return False
        replacement = ImportingRegistry(current)
        setattr(registry_module, REGISTRY_ATTRIBUTE, replacement)
        # A registration that raced with the copy went to the old dict: carry it over.
        for key, value in list(current.items()):
            dict.setdefault(replacement, key, value)
        return True


class _PatchingLoader:
    """Wraps the registry module's loader: executes the module, then patches it."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        # The module keeps the original loader (tracebacks, importlib.reload, inspect).
        module.__loader__ = self._loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)  # on an error the finder stays, for a retried import
        _patch(module)
        _remove_finder()

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _RegistryFinder:
    """A ``sys.meta_path`` finder that only intercepts the Keras registry module."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != REGISTRY_MODULE:
            return None
        for finder in list(sys.meta_path):
            if finder is self or isinstance(finder, _RegistryFinder):
                continue
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is None:
                continue
            if spec.loader is None or not hasattr(spec.loader, "exec_module"):
                return spec  # cannot wrap it: import unpatched
            spec.loader = _PatchingLoader(spec.loader)
            return spec
        return None

    def invalidate_caches(self):
        pass


_finder = _RegistryFinder()


def _remove_finder():
    with _lock:
        while _finder in sys.meta_path:
            sys.meta_path.remove(_finder)


def install() -> bool:
    """Makes Keras import tfzoo's module of a ``"tfzoo>..."`` name when it is looked up.

    Cheap and idempotent; never imports Keras. Returns True if the registry is patched now, False
    if the patch waits for Keras's import (or Keras's internals are not the expected ones).
    """
    with _lock:
        module = sys.modules.get(REGISTRY_MODULE)
        if module is not None:
            _remove_finder()
            return _patch(module)
        if REGISTRY_MODULE in sys.modules:  # None: the import of Keras's registry is blocked
            return False
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
        return False


def installed() -> bool:
    """Whether Keras's registry is patched (False while Keras is not imported)."""
    module = sys.modules.get(REGISTRY_MODULE)
    return isinstance(getattr(module, REGISTRY_ATTRIBUTE, None), ImportingRegistry)
