"""The model registry: presets with paper hyper-parameters, reported numbers and citations.

Every model family keeps its presets in ``tfzoo/<family>/presets.py``; the registry discovers those
modules on first use, so adding a family needs no edit here. Importing the registry never imports
TensorFlow: a preset names its model class as ``"module:Class"`` and the class is imported only when
a model is created.

Example:
    >>> import tfzoo
    >>> tfzoo.list_models("lenet*")
    ['lenet-mnist']
    >>> tfzoo.get_preset("lenet-mnist").citation
    '002_e592b05206285d1e.txt:316-332'
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import importlib
import pkgutil
import re
from typing import Any

from tfzoo.recipe import Recipe

_NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9.]+)+$")


class UnknownModelError(KeyError):
    """Raised for a preset name that is not registered; the message lists the closest names."""

    def __str__(self):  # KeyError quotes its argument; show the message as written.
        return str(self.args[0])


@dataclasses.dataclass(frozen=True)
class Reported:
    """A number a paper reports, with its unit and where it is stated."""

    value: float
    unit: str
    source: str
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Artifact:
    """A packed trained model (a release asset): where to download it and its SHA-256.

    ``url`` may hold ``{base}``, replaced by ``$TFZOO_PRETRAINED_BASE_URL`` when it is set (mirrors,
    tests) and by :data:`tfzoo.pretrained.DEFAULT_BASE_URL` otherwise.
    """

    url: str
    sha256: str
    size_bytes: int

    def __post_init__(self):
        if not re.fullmatch(r"[0-9a-f]{64}", self.sha256):
            raise ValueError(f"Artifact sha256 must be 64 lower-case hex digits, got {self.sha256!r}")
        if not (isinstance(self.size_bytes, int) and self.size_bytes > 0):
            raise ValueError(f"Artifact size_bytes must be a positive integer, got {self.size_bytes!r}")


@dataclasses.dataclass(frozen=True)
class Preset:
    """A registered model: architecture, the paper's training recipe and what the paper reports.

    Attributes:
        name: ``<model>-<dataset>[-<variant>]``, lower case with dashes.
        model: ``"module:Class"`` of a :class:`tfzoo.base.ZooModel` subclass.
        config: keyword arguments of the model's constructor.
        task: the data task (see ``tfzoo.datasets.load_task``) the model trains on.
        recipe: the paper's training :class:`tfzoo.recipe.Recipe`.
        reported: metric name -> :class:`Reported` numbers from the paper.
        citation: ``"<paper file>:<first line>-<last line>"`` in ``shared/papers/``.
        description: one sentence for ``tfzoo list``.
        expected_params: the pinned parameter count (the paper's where it gives one).
        test_config: constructor overrides the registry-wide tests use for presets too large to
            build and step on a 2-core CPU in seconds (``None``: test the preset as it is).
        test_params: the pinned parameter count of the ``test_config`` model.
        pretrained: the packed trained model (:class:`Artifact`), if one is published.
    """

    name: str
    model: str
    config: dict = dataclasses.field(default_factory=dict)
    task: str | None = None
    recipe: Recipe = Recipe()
    reported: dict = dataclasses.field(default_factory=dict)
    citation: str = ""
    description: str = ""
    expected_params: int | None = None
    test_config: dict | None = None
    test_params: int | None = None
    pretrained: Artifact | None = None

    def __post_init__(self):
        if not _NAME_PATTERN.match(self.name):
            raise ValueError(
                f"preset name {self.name!r} must be lower-case words joined by dashes, "
                "'<model>-<dataset>[-<variant>]', e.g. 'lenet-mnist'"
            )
        if ":" not in self.model:
            raise ValueError(f"preset {self.name!r}: model must be 'module:Class', got {self.model!r}")
        if not isinstance(self.recipe, Recipe):
            raise TypeError(f"preset {self.name!r}: recipe must be a tfzoo.recipe.Recipe, got "
                            f"{type(self.recipe).__name__}")
        if self.pretrained is not None and not isinstance(self.pretrained, Artifact):
            raise TypeError(f"preset {self.name!r}: pretrained must be an Artifact or None")

    def model_class(self):
        """Imports and returns the model class."""
        module_name, class_name = self.model.split(":")
        return getattr(importlib.import_module(module_name), class_name)


_PRESETS: dict[str, Preset] = {}
_DISCOVERED = False


def register(preset: Preset) -> Preset:
    """Adds a preset; registering the same name twice with a different preset is an error.

    A preset without ``pretrained`` gets the Artifact that :mod:`tfzoo.published` lists for its name."""
    if preset.pretrained is None:
        from tfzoo.published import ARTIFACTS

        if preset.name in ARTIFACTS:
            preset = dataclasses.replace(preset, pretrained=ARTIFACTS[preset.name])
    existing = _PRESETS.get(preset.name)
    if existing is not None and existing != preset:
        raise ValueError(f"preset {preset.name!r} is already registered with different contents")
    _PRESETS[preset.name] = preset
    return preset


def _discover():
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    import tfzoo

    for info in pkgutil.iter_modules(tfzoo.__path__):
        if info.ispkg and importlib.util.find_spec(f"tfzoo.{info.name}.presets") is not None:
            importlib.import_module(f"tfzoo.{info.name}.presets")


def list_models(pattern: str | None = None) -> list[str]:
    """Registered preset names, sorted, optionally filtered by a shell-style ``pattern``."""
    _discover()
    names = sorted(_PRESETS)
    return [n for n in names if pattern is None or fnmatch.fnmatch(n, pattern)]


def get_preset(name: str) -> Preset:
    """The :class:`Preset` called ``name``; unknown names raise :class:`UnknownModelError`."""
    _discover()
    if not isinstance(name, str):
        raise TypeError(f"a model name must be a string such as 'lenet-mnist', got {type(name).__name__}")
    try:
        return _PRESETS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_PRESETS), n=5, cutoff=0.3)
        hint = f" Closest registered names: {', '.join(close)}." if close else ""
        raise UnknownModelError(
            f"unknown model name {name!r}.{hint} `python -m tfzoo list` shows all "
            f"{len(_PRESETS)} registered models."
        ) from None


#: Override names whose values are sizes: positive integers (or tuples of them).
_SIZE_NAME = re.compile(r"(units|classes|components|latent_dim|filters|channels|^dim$|^num_inputs$)")


def _check_override(model_name: str, cls, key: str, value, preset_value):
    """Raises :class:`tfzoo.errors.ArgumentError` unless ``value`` has the type of the constructor's default
    for ``key`` (or of the preset's value): bool, int, float, str, or a tuple/list of ints; sizes
    (units, classes, components, ...) must be positive."""
    import inspect
    import numbers

    from tfzoo.errors import ArgumentError

    default = inspect.signature(cls.__init__).parameters[key].default
    reference = preset_value if preset_value is not None else default
    if reference is inspect.Parameter.empty or reference is None or value is None:
        return
    size = bool(_SIZE_NAME.search(key))

    def fail(accepted):
        raise ArgumentError(f"{model_name}: override {key}={value!r} is not accepted; {key} must be {accepted}")

    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    if isinstance(reference, bool):
        if not isinstance(value, bool):
            fail("True or False")
    elif isinstance(reference, numbers.Integral):
        if not is_int(value):
            fail("a positive integer" if size else "an integer")
        if size and value <= 0:
            fail("a positive integer")
    elif isinstance(reference, numbers.Real):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            fail("a number")
    elif isinstance(reference, str):
        if not isinstance(value, str):
            fail("a string")
    elif isinstance(reference, (tuple, list)) and all(is_int(v) for v in reference):
        accepted = "a tuple of positive integers" if size else "a tuple of integers"
        if not isinstance(value, (tuple, list)) or not all(is_int(v) for v in value):
            fail(accepted)
        if size and any(v <= 0 for v in value):
            fail(accepted)


def create_model(name: str, compile: bool = True, **overrides: Any):
    """Builds the model of preset ``name`` with constructor ``overrides``.

    The model is built (its variables exist) and, with ``compile=True``, compiled with the paper's
    optimiser and loss so that ``model.fit`` works at once.
    """
    preset = get_preset(name)
    cls = preset.model_class()
    unknown = set(overrides) - set(cls.config_keys())
    if unknown:
        raise TypeError(
            f"{name}: unknown override(s) {sorted(unknown)}; the model accepts {sorted(cls.config_keys())}"
        )
    for key, value in overrides.items():
        _check_override(name, cls, key, value, preset.config.get(key))
    model = cls(**{**preset.config, **overrides})
    model.preset_name = name
    model.build_from_preset()
    if compile:
        model.compile_from_recipe(preset.recipe)
    return model
