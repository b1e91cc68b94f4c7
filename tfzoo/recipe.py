"""Typed training recipes: everything :func:`tfzoo.train` needs to train a preset the paper's way.

A :class:`Recipe` says which optimiser (and its arguments), which learning-rate schedule, batch size,
epochs, whether to compile with XLA, which *method callbacks* the paper's training needs (walkback,
stale importance weights, exact batch-norm statistics...) and the default budget. Every field is read
by the trainer (:mod:`tfzoo.trainer`); an unknown field is a ``TypeError`` when the preset is
declared, so a recipe cannot carry a setting nothing uses. Free text goes in ``notes``.

This module does not import TensorFlow: presets are declared without it.

Example:
    >>> from tfzoo.recipe import Budget, CallbackSpec, Recipe
    >>> recipe = Recipe(optimizer="sgd", learning_rate=0.01, batch_size=128, epochs=20,
    ...                 callbacks=(CallbackSpec("tfzoo.issgd.callback:StaleImportanceWeights",
    ...                                         dict(smoothing=10.0)),))
    >>> recipe.callbacks[0].kwargs["smoothing"]
    10.0
    >>> recipe.replace(batch_size=64).batch_size
    64
    >>> Budget.parse_seconds("20m"), Budget.parse_seconds("1h30m"), Budget.parse_seconds("45")
    (1200.0, 5400.0, 45.0)
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import re

_SCHEDULES = ("constant", "exponential", "cosine")
_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$")


def _json_copy(value, what: str):
    try:
        return json.loads(json.dumps(value))
    except TypeError as error:
        raise TypeError(f"{what} must be JSON-serialisable: {error}") from None


@dataclasses.dataclass(frozen=True)
class CallbackSpec:
    """A training callback as data: ``"module:Class"`` and JSON keyword arguments.

    The trainer builds it with ``Class.from_recipe(context, **kwargs)`` when the class defines that
    classmethod (it receives the :class:`tfzoo.trainer.TrainingContext`: model, training data, batch
    size, seed, run directory, workers), else with ``Class(**kwargs)``.
    """

    target: str
    kwargs: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.target.count(":") != 1:
            raise ValueError(f"CallbackSpec target must be 'module:Class', got {self.target!r}")
        object.__setattr__(self, "kwargs", _json_copy(dict(self.kwargs), f"{self.target} kwargs"))

    def callback_class(self):
        module, name = self.target.split(":")
        return getattr(importlib.import_module(module), name)

    def build(self, context):
        cls = self.callback_class()
        if hasattr(cls, "from_recipe"):
            return cls.from_recipe(context, **self.kwargs)
        return cls(**self.kwargs)

    @property
    def name(self) -> str:
        return self.target.split(":")[1]


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule over epochs: ``lr(e) = learning_rate * f(e)``.

    ``constant``: f = 1; ``exponential``: f = decay**e (per epoch); ``cosine``: f = cos(pi e / (2 E))
    decays to 0 at ``E`` = the recipe's epochs.
    """

    kind: str = "constant"
    decay: float | None = None

    def __post_init__(self):
        if self.kind not in _SCHEDULES:
            raise ValueError(f"Schedule kind must be one of {_SCHEDULES}, got {self.kind!r}")
        if self.kind == "exponential" and not (self.decay is not None and 0 < self.decay <= 1):
            raise ValueError(f"an exponential schedule needs 0 < decay <= 1, got {self.decay!r}")
        if self.kind != "exponential" and self.decay is not None:
            raise ValueError(f"decay is only for the exponential schedule, not {self.kind!r}")

    def factor(self, epoch: int, epochs: int) -> float:
        if self.kind == "exponential":
            return self.decay**epoch
        if self.kind == "cosine":
            return math.cos(0.5 * math.pi * min(epoch, epochs) / max(epochs, 1))
        return 1.0


@dataclasses.dataclass(frozen=True)
class Budget:
    """A limit on top of the recipe's epochs; training stops at whichever comes first.

    ``None`` is no limit of that kind.
    ``cpu_seconds`` counts this process's CPU time (user + system), so a shared machine stretches
    the wall clock without changing what the budget buys. Time and step limits are checked after
    every training step; the run then ends as a finished run with the budget it spent recorded.
    """

    steps: int | None = None
    wall_seconds: float | None = None
    cpu_seconds: float | None = None

    def __post_init__(self):
        if self.steps is not None and (not isinstance(self.steps, int) or isinstance(self.steps, bool)
                                       or self.steps < 1):
            raise ValueError(f"budget steps must be a positive integer, got {self.steps!r}")
        for name in ("wall_seconds", "cpu_seconds"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
                raise ValueError(f"budget {name} must be a positive number of seconds, got {value!r}")

    @staticmethod
    def parse_seconds(text: str) -> float:
        """``"90"``/``"90s"``, ``"20m"``, ``"1h30m"`` -> seconds; anything else is a ``ValueError``."""
        match = _DURATION.match(str(text))
        if not match or not any(match.groups()):
            raise ValueError(f"a duration must look like 45s, 20m or 1h30m, got {text!r}")
        hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
        total = 3600 * hours + 60 * minutes + seconds
        if total <= 0:
            raise ValueError(f"a duration must be positive, got {text!r}")
        return total

    def describe(self) -> str:
        parts = [f"{self.steps} steps" if self.steps else "",
                 f"{self.wall_seconds:g} s wall clock" if self.wall_seconds else "",
                 f"{self.cpu_seconds:g} s CPU" if self.cpu_seconds else ""]
        return " or ".join(p for p in parts if p) or "none"


def _coerce(field: str, value):
    """Recipe field values given as JSON data (``--set-recipe``) as their typed form."""
    if field == "schedule" and isinstance(value, dict):
        return Schedule(**value)
    if field == "budget" and isinstance(value, dict):
        return Budget(**value)
    if field == "callbacks" and isinstance(value, (list, tuple)):
        return tuple(CallbackSpec(**c) if isinstance(c, dict) else c for c in value)
    return value


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a preset is trained (see the module docstring).

    Attributes:
        optimizer: a ``keras.optimizers`` name (``"adam"``, ``"sgd"``, ``"rmsprop"``...).
        learning_rate: the initial learning rate.
        optimizer_args: other constructor arguments of the optimiser (``momentum``, ``beta_1``...).
        schedule: the learning-rate :class:`Schedule` over epochs.
        batch_size: examples per training step.
        epochs: epochs of a full run (the default budget).
        jit_compile: compile the training step with XLA (``"auto"``: Keras decides).
        callbacks: the method's training callbacks, as :class:`CallbackSpec` data.
        budget: a time or step limit on top of ``epochs`` (``None``: epochs only).
        notes: free text: where each value comes from, what is "[not in paper]".
    """

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    optimizer_args: dict = dataclasses.field(default_factory=dict)
    schedule: Schedule = Schedule()
    batch_size: int = 32
    epochs: int = 1
    jit_compile: bool | str = "auto"
    callbacks: tuple = ()
    budget: Budget | None = None
    notes: str = ""

    def __post_init__(self):
        if not isinstance(self.batch_size, int) or isinstance(self.batch_size, bool) or self.batch_size < 1:
            raise ValueError(f"recipe batch_size must be a positive integer, got {self.batch_size!r}")
        if not isinstance(self.epochs, int) or isinstance(self.epochs, bool) or self.epochs < 1:
            raise ValueError(f"recipe epochs must be a positive integer, got {self.epochs!r}")
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(f"recipe learning_rate must be a positive number, got {self.learning_rate!r}")
        if self.jit_compile not in (True, False, "auto"):
            raise ValueError(f"recipe jit_compile must be True, False or 'auto', got {self.jit_compile!r}")
        if not isinstance(self.schedule, Schedule):
            raise TypeError(f"recipe schedule must be a Schedule, got {type(self.schedule).__name__}")
        if self.budget is not None and not isinstance(self.budget, Budget):
            raise TypeError(f"recipe budget must be a Budget or None, got {type(self.budget).__name__}")
        callbacks = tuple(self.callbacks)
        for spec in callbacks:
            if not isinstance(spec, CallbackSpec):
                raise TypeError(f"recipe callbacks must be CallbackSpec objects, got {spec!r}")
        object.__setattr__(self, "callbacks", callbacks)
        object.__setattr__(self, "optimizer_args", _json_copy(dict(self.optimizer_args), "optimizer_args"))

    def replace(self, **changes) -> "Recipe":
        """A copy with ``changes`` (unknown names are a ``TypeError`` naming them)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"unknown recipe field(s) {sorted(unknown)}; a Recipe has "
                            f"{[f.name for f in dataclasses.fields(self)]}")
        return dataclasses.replace(self, **{k: _coerce(k, v) for k, v in changes.items()})

    def callback(self, name: str) -> CallbackSpec | None:
        """The callback spec whose class is called ``name``, if the recipe has one."""
        return next((spec for spec in self.callbacks if spec.name == name), None)

    def to_json(self) -> dict:
        """The recipe as JSON data (for ``tfzoo.json`` and model cards)."""
        return _json_copy(dataclasses.asdict(self), "recipe")
