"""The base class of every tfzoo model: configuration, input checks, recipes and export endpoints.

A :class:`ZooModel` is a ``keras.Model`` subclass that also knows

* the per-example shape and dtype it expects (:meth:`ZooModel.input_signature`), and checks inputs
  against them with an error that names what was expected (:meth:`ZooModel.check_input`);
* how to compile itself from a preset's training recipe (:meth:`ZooModel.compile_from_recipe`);
* which SavedModel endpoints it exports, declared once by :meth:`ZooModel.endpoints` as
  :class:`Endpoint` objects whose :class:`Arg` give each argument's ``tf.TensorSpec`` and the domain
  of its valid values (``serve`` always); :meth:`ZooModel.export_endpoints` (for :func:`tfzoo.export`)
  and :func:`tfzoo.testing.example_inputs` (valid arguments for every endpoint) derive from it.

Figures live in each family's ``plotting`` module and example inputs in :mod:`tfzoo.testing`.

Constructor arguments must be keyword arguments with JSON-serialisable values: ``ZooModel`` records
them as the instance is created, so ``get_config``/``from_config`` and ``.keras`` files work without
per-class code.
"""

from __future__ import annotations

import dataclasses
import inspect

import keras
import numpy as np
import tensorflow as tf

from tfzoo.errors import InputError
from tfzoo.recipe import Recipe


def make_optimizer(recipe: Recipe):
    """The ``keras.optimizers`` optimiser a :class:`tfzoo.recipe.Recipe` names, with its arguments."""
    args = {**recipe.optimizer_args, "learning_rate": recipe.learning_rate}
    try:
        return keras.optimizers.get({"class_name": recipe.optimizer, "config": args})
    except (ValueError, TypeError) as error:
        raise ValueError(f"recipe optimizer {recipe.optimizer!r} with arguments {args} is not a Keras "
                         f"optimizer configuration: {error}") from None


class ZooModel(keras.Model):
    """Base class of tfzoo models.

    Subclasses set ``input_shape_per_example`` (a tuple, without the batch axis) and
    ``input_dtype`` in ``__init__`` before building, and implement ``call``; they declare the domain
    of valid inputs (``input_values``, ``input_range``), what ``fit`` takes (``fit_targets``) and
    their endpoints (:meth:`endpoints`).
    """

    input_shape_per_example: tuple = ()
    input_dtype: str = "float32"
    preset_name: str | None = None

    def __new__(cls, *args, **kwargs):
        # keras.Model.__new__ drops the constructor arguments, so record them here for get_config.
        instance = super().__new__(cls, *args, **kwargs)
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
        bound.apply_defaults()
        config = {k: v for k, v in bound.arguments.items() if k not in ("self", "kwargs")}
        config.update({k: v for k, v in bound.arguments.get("kwargs", {}).items() if k != "name"})
        object.__setattr__(instance, "_constructor_config", config)
        return instance

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, **self._constructor_config}

    @classmethod
    def config_keys(cls) -> list[str]:
        """Names of the constructor's keyword arguments."""
        params = inspect.signature(cls.__init__).parameters
        kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return [p for p, v in params.items() if p != "self" and v.kind in kinds]

    # ---------------------------------------------------------------- inputs
    def input_signature(self) -> list:
        """The ``tf.TensorSpec`` list of the ``serve`` endpoint (batch axis unknown)."""
        return [self.data_arg().spec]

    def check_input(self, x, name: str = "x"):
        """Converts ``x`` to a tensor of the model's dtype, or raises :class:`InputError`.

        The check is on static shapes and dtypes, so it costs nothing inside a traced function.
        """
        expected = (None, *self.input_shape_per_example)
        what = f"{type(self).__name__}{' (' + self.preset_name + ')' if self.preset_name else ''}"
        dtype = getattr(x, "dtype", None)
        if dtype is None:
            x = np.asarray(x)
            dtype = x.dtype
        dtype = tf.as_dtype(dtype)
        if not (dtype.is_floating or dtype.is_integer):
            raise InputError(
                f"{what}: input {name!r} must be a real or integer array of shape {expected}, "
                f"got dtype {dtype.name}"
            )
        shape = tuple(x.shape)
        if len(shape) != len(expected) or any(
            e is not None and s is not None and s != e for s, e in zip(shape, expected)
        ):
            raise InputError(
                f"{what}: input {name!r} must have shape {expected} (batch first), got {shape}"
            )
        return tf.cast(x, self.input_dtype)

    # ----------------------------------------------- the domain of valid inputs
    #: The values a valid input takes (the ``"data"`` domain of :class:`Arg`): ``"uniform"`` (reals
    #: over ``input_range``), ``"integers"`` (integers in ``input_range``, both ends included: 8-bit
    #: pixels), ``"binary"`` (0 or 1) or ``"normal"`` (any real; standard-normal examples).
    input_values: str = "uniform"
    input_range: tuple = (-1.0, 1.0)
    #: What ``fit`` takes besides the inputs: ``None`` (nothing, ``fit(x)``), ``"labels"`` (integer
    #: class labels in ``[0, num_classes)``) or the name of the model's method computing the targets
    #: of a batch of inputs (LISTA: ``"optimal_codes"``).
    fit_targets: str | None = None

    # ------------------------------------------------------------- building
    def build_from_preset(self):
        """Creates every variable by calling the model once on a zero batch."""
        self(tf.zeros((1, *self.input_shape_per_example), self.input_dtype), training=False)

    def compile_from_recipe(self, recipe: Recipe | None = None, **kwargs):
        """Compiles with the optimiser of ``recipe`` (default: a plain :class:`Recipe`); subclasses add
        their loss and metrics."""
        recipe = recipe if recipe is not None else Recipe()
        kwargs.setdefault("optimizer", make_optimizer(recipe))
        kwargs.setdefault("jit_compile", recipe.jit_compile)
        self.compile(**kwargs)

    def prepare_training_data(self, splits: dict, seed: int = 0) -> dict:
        """The task's splits as this model trains on them (default: unchanged).

        Models whose targets are computed from their own parameters override it (LISTA's optimal
        codes for its dictionary); :func:`tfzoo.train` calls it before training.
        """
        return splits

    # --------------------------------------------------------------- export
    def data_arg(self, name: str = "x") -> "Arg":
        """The :class:`Arg` of a batch of inputs (``input_signature``'s spec, domain ``"data"``)."""
        return Arg.data(self, name)

    def endpoints(self) -> dict:
        """The declaration of the SavedModel endpoints: name -> :class:`Endpoint`.

        ``serve`` runs the model in inference mode. Families add their own endpoints by extending
        the returned dictionary; :meth:`export_endpoints` (what :func:`tfzoo.export` writes) and
        :func:`tfzoo.testing.example_inputs` (valid arguments for every endpoint) derive from it.
        """
        return {"serve": Endpoint(lambda x: self(x, training=False), self.data_arg())}

    def export_endpoints(self) -> dict:
        """Endpoint name -> ``(function, input_signature)`` for :func:`tfzoo.export`, from :meth:`endpoints`."""
        return {name: (endpoint.fn, endpoint.signature) for name, endpoint in self.endpoints().items()}


#: The domains of :class:`Arg`.
DOMAINS = ("data", "mask", "labels", "count", "steps", "k", "seed", "normal", "uniform", "constant")


@dataclasses.dataclass(frozen=True)
class Arg:
    """One argument of an endpoint: its ``tf.TensorSpec`` and the domain of its valid values.

    Domains (:data:`DOMAINS`):

    * ``"data"``: a batch of the model's inputs (``input_values`` over ``input_range``, shape
      ``(None, *input_shape_per_example)``);
    * ``"mask"``: 0/1 values, the shape of the data (1 = observed or selected);
    * ``"labels"``: integer class labels in ``[0, num_classes)``, shape ``(None,)``;
    * ``"count"``: a number of samples (a positive int); ``"steps"``: a chain length (a positive int);
      ``"k"``: a number of draws (an int >= 1);
    * ``"seed"``: any int, a stateless seed (:func:`tfzoo.seeds.stateless_seed`);
    * ``"normal"``: any reals (latent codes; standard-normal examples);
    * ``"uniform"``: reals in ``bounds = (low, high)``;
    * ``"constant"``: exactly ``value``.

    The constructors below give each domain its usual spec; build an ``Arg`` directly for others.
    """

    spec: tf.TensorSpec
    domain: str
    bounds: tuple | None = None
    value: object = None

    def __post_init__(self):
        if self.domain not in DOMAINS:
            raise ValueError(f"Arg domain must be one of {DOMAINS}, got {self.domain!r}")
        if self.domain == "uniform" and (self.bounds is None or len(self.bounds) != 2):
            raise ValueError("a 'uniform' Arg needs bounds=(low, high)")

    @property
    def name(self) -> str:
        return self.spec.name

    @classmethod
    def data(cls, model: ZooModel, name: str = "x") -> "Arg":
        """A batch of ``model``'s inputs."""
        return cls(tf.TensorSpec((None, *model.input_shape_per_example), model.input_dtype, name=name), "data")

    @classmethod
    def mask(cls, model: ZooModel, name: str = "mask") -> "Arg":
        """A 0/1 mask the shape of a batch of ``model``'s inputs (and of their dtype)."""
        return cls(tf.TensorSpec((None, *model.input_shape_per_example), model.input_dtype, name=name), "mask")

    @classmethod
    def labels(cls, name: str = "y", dtype=tf.int64) -> "Arg":
        """Integer class labels, one per example."""
        return cls(tf.TensorSpec((None,), dtype, name=name), "labels")

    @classmethod
    def count(cls, name: str = "n") -> "Arg":
        """A number of samples, ``int32[]``."""
        return cls(tf.TensorSpec((), tf.int32, name=name), "count")

    @classmethod
    def steps(cls, name: str = "steps") -> "Arg":
        """A number of chain steps, ``int32[]``."""
        return cls(tf.TensorSpec((), tf.int32, name=name), "steps")

    @classmethod
    def k(cls, name: str = "k") -> "Arg":
        """A number of draws (>= 1), ``int32[]``."""
        return cls(tf.TensorSpec((), tf.int32, name=name), "k")

    @classmethod
    def seed(cls, name: str = "seed") -> "Arg":
        """A stateless seed, ``int32[]`` (the convention of every sampling endpoint)."""
        return cls(tf.TensorSpec((), tf.int32, name=name), "seed")

    @classmethod
    def normal(cls, shape, name: str, dtype=tf.float32) -> "Arg":
        """Reals of ``shape`` (batch axis ``None``), e.g. latent codes."""
        return cls(tf.TensorSpec(shape, dtype, name=name), "normal")

    @classmethod
    def uniform(cls, shape, bounds, name: str, dtype=tf.float32) -> "Arg":
        """Reals of ``shape`` in ``bounds = (low, high)``."""
        return cls(tf.TensorSpec(shape, dtype, name=name), "uniform", bounds=tuple(bounds))


class Endpoint:
    """One SavedModel endpoint: ``Endpoint(fn, *args)``, ``args`` the :class:`Arg` of each argument
    of ``fn`` in order.

    Example (a density model's sampler; :meth:`ZooModel.endpoints` returns a dictionary of these)::

        "sample": Endpoint(self.sample, Arg.count(), Arg.seed())
    """

    __slots__ = ("fn", "args")

    def __init__(self, fn, *args: Arg):
        if not all(isinstance(a, Arg) for a in args):
            raise TypeError("Endpoint arguments must be tfzoo.base.Arg instances")
        self.fn, self.args = fn, tuple(args)

    @property
    def signature(self) -> list:
        """The ``tf.TensorSpec`` list of the endpoint (what :func:`tfzoo.export` traces)."""
        return [a.spec for a in self.args]

    def __repr__(self):
        args = ", ".join(f"{a.name}: {a.spec.dtype.name}{list(a.spec.shape)} ({a.domain})" for a in self.args)
        return f"Endpoint({getattr(self.fn, '__name__', 'fn')}({args}))"
