"""Lazy package attributes, so that ``import tfzoo.<family>`` (and the registry) stays light."""

import importlib


def lazy_attributes(package: str, names: dict):
    """A module ``__getattr__`` importing ``names[attribute]`` (a module path) on first access."""

    def __getattr__(name):
        if name in names:
            return getattr(importlib.import_module(names[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
