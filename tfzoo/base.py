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
import numbers

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

    def describe(self) -> str:
        """``Class (preset)``: how error messages name this model."""
        return f"{type(self).__name__}{' (' + self.preset_name + ')' if self.preset_name else ''}"

    def shape_message(self, name: str = "x") -> str:
        """The text of a wrong-shape error, up to the shape received (shared by the Python and graph checks)."""
        return (f"{self.describe()}: input {name!r} must have shape "
                f"{(None, *self.input_shape_per_example)} (batch first), got")

    def check_input(self, x, name: str = "x"):
        """Converts ``x`` to a tensor of the model's dtype, or raises :class:`InputError`.

        The check is on static shapes and dtypes, so it costs nothing inside a traced function.
        """
        dtype = getattr(x, "dtype", None)
        if dtype is None:
            x = np.asarray(x)
        self.check_input_shape(x.shape, x.dtype, name)
        return tf.cast(x, self.input_dtype)

    def check_input_shape(self, shape, dtype, name: str = "x"):
        """:meth:`check_input` without the conversion: raises :class:`InputError` for a wrong dtype
        or (static) shape."""
        expected = (None, *self.input_shape_per_example)
        dtype = tf.as_dtype(dtype)
        if not (dtype.is_floating or dtype.is_integer):
            raise InputError(
                f"{self.describe()}: input {name!r} must be a real or integer array of shape {expected}, "
                f"got dtype {dtype.name}"
            )
        shape = tuple(shape)
        if len(shape) != len(expected) or any(
            e is not None and s is not None and s != e for s, e in zip(shape, expected)
        ):
            raise InputError(f"{self.shape_message(name)} {shape}")

    def outside_support_to_minus_inf(self, x, log_p):
        """``log_p`` with ``-inf`` for the examples of ``x`` outside the model's support (the density is
        0 there), as the flows do: binary models (``input_values == "binary"``) accept only 0 and 1,
        ``"integers"`` and bounded ``"uniform"`` models only ``input_range``; NaN is outside every support."""
        x = tf.convert_to_tensor(x)
        axes = list(range(1, len(x.shape)))
        if self.input_values == "binary":
            inside = (x == 0) | (x == 1)
        elif self.input_values in ("integers", "uniform") and getattr(self, "input_range_is_support", False):
            low, high = self.input_range
            inside = (x >= low) & (x <= high)
        else:
            inside = tf.math.is_finite(x)
        inside = tf.reduce_all(inside, axis=axes) if axes else inside
        return tf.where(inside, log_p, tf.constant(-np.inf, log_p.dtype))

    def check_count(self, value, name: str = "n", minimum: int = 0):
        """Raises :class:`InputError` unless ``value`` is an integer ``>= minimum`` (a number of samples,
        chain steps or draws). Python numbers, NumPy values and eager tensors are checked by value;
        a symbolic tensor only by dtype (the exported endpoints check its value in the graph)."""
        message = count_message(self, name, minimum)
        dtype = getattr(value, "dtype", None)
        if dtype is not None and not tf.as_dtype(dtype).is_integer:
            raise InputError(f"{message} {value!r} of dtype {tf.as_dtype(dtype).name}")
        if isinstance(value, tf.Tensor) and not tf.executing_eagerly():
            return value
        if isinstance(value, tf.Tensor):
            value = value.numpy()
        if isinstance(value, np.ndarray) and value.ndim == 0 and np.issubdtype(value.dtype, np.integer):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) \
                or np.ndim(value) != 0:
            raise InputError(f"{message} {value!r}")
        if value < minimum:
            raise InputError(f"{message} {value!r}")
        return value

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
        return {name: (checked_endpoint(self, name, endpoint), endpoint.signature)
                for name, endpoint in self.endpoints().items()}

    # ---------------------------------------------------------------- fit
    def check_fit_data(self, x, y=None):
        """Refuses, before Keras traces anything, training data ``fit`` cannot use: a wrong input shape
        or dtype, no examples, ``len(x) != len(y)``, labels outside ``[0, num_classes)``. Only arrays
        are checked (a ``tf.data.Dataset`` or generator is left to the traced checks)."""
        if x is None or isinstance(x, (tf.data.Dataset, dict)) or not hasattr(x, "__len__"):
            return
        if isinstance(x, (list, tuple)):
            if not x or not hasattr(x[0], "shape"):
                x = np.asarray(x)
            else:
                return
        if not hasattr(x, "shape"):
            return
        self.check_input_shape(x.shape, x.dtype, "x")
        if len(x) == 0:
            raise InputError(f"{self.describe()}: fit got an empty data set (x has 0 examples, "
                             f"shape {tuple(x.shape)}); pass at least one example")
        if y is None or not hasattr(y, "__len__") or isinstance(y, (dict, tf.data.Dataset)):
            return
        if len(y) != len(x):
            raise InputError(f"{self.describe()}: fit got {len(x)} inputs x but {len(y)} targets y; "
                             "len(x) must equal len(y)")
        if self.fit_targets == "labels" and getattr(self, "num_classes", None) is not None:
            labels = np.asarray(y)
            if labels.size and (not np.issubdtype(labels.dtype, np.number) or
                                np.any(labels != np.round(labels)) or labels.min() < 0 or
                                labels.max() >= self.num_classes):
                bad = labels[(labels < 0) | (labels >= self.num_classes) | (labels != np.round(labels))] \
                    if np.issubdtype(labels.dtype, np.number) else labels
                raise InputError(f"{self.describe()}: labels y must be integers in [0, {self.num_classes}), "
                                 f"got {np.unique(bad)[:10].tolist()}")

    def fit(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.fit`` with the data checked first (:meth:`check_fit_data`) and a
        :class:`tfzoo.callbacks.StopOnNaN` callback unless the caller passed one. A refused ``fit``
        leaves the model usable: the half-traced train function is discarded."""
        from tfzoo.callbacks import StopOnNaN

        self.check_fit_data(x, y)
        if len(args) < 5:  # callbacks not passed positionally
            callbacks = kwargs.get("callbacks")
            callbacks = list(callbacks) if callbacks is not None else []
            if not any(isinstance(c, StopOnNaN) for c in callbacks):
                callbacks.append(StopOnNaN())
            kwargs["callbacks"] = callbacks
        try:
            return super().fit(x, y, *args, **kwargs)
        except (InputError, tf.errors.InvalidArgumentError):
            self.train_function = None
            self.test_function = None
            self.predict_function = None
            raise


def count_message(model: ZooModel, name: str, minimum: int = 0) -> str:
    """The text of a wrong count/steps/k error, up to the value received."""
    return f"{model.describe()}: argument {name!r} must be an integer >= {minimum}, got"


def _graph_checks(model: ZooModel, endpoint: str, args, values) -> list:
    """The in-graph assertions of one endpoint call, from its arguments' domains (see :class:`Arg`)."""
    checks = []
    data = None
    for arg, value in zip(args, values):
        static = [d for d in arg.spec.shape[1:]]
        if arg.domain in ("data", "mask", "labels", "normal", "uniform") and static and all(
                d is not None for d in static):
            message = (f"{model.shape_message(arg.name)}" if arg.domain in ("data", "mask") else
                       f"{model.describe()}: input {arg.name!r} must have shape "
                       f"{tuple(arg.spec.shape.as_list())} (batch first), got")
            checks.append(tf.debugging.Assert(
                tf.reduce_all(tf.equal(tf.shape(value)[1:], tf.constant(static, tf.int32))),
                [f"{message}", tf.shape(value)], summarize=16))
        if arg.domain == "data" and data is None:
            data = value
        elif arg.domain == "mask":
            checks.append(tf.debugging.Assert(
                tf.reduce_all((value == 0) | (value == 1)),
                [f"{model.describe()}: input {arg.name!r} must hold only 0 and 1, got min/max",
                 tf.reduce_min(value), tf.reduce_max(value)]))
            if data is not None:
                checks.append(tf.debugging.Assert(
                    tf.reduce_all(tf.equal(tf.shape(value), tf.shape(data))),
                    [f"{model.describe()}: input {arg.name!r} must have the shape of the data, "
                     "got mask shape / data shape", tf.shape(value), tf.shape(data)], summarize=16))
        elif arg.domain in ("count", "steps", "k"):
            minimum = 1 if arg.domain == "k" else 0
            checks.append(tf.debugging.Assert(
                tf.reduce_all(value >= minimum),
                [f"{count_message(model, arg.name, minimum)}", value]))
        elif arg.domain == "labels" and getattr(model, "num_classes", None) is not None:
            checks.append(tf.debugging.Assert(
                tf.reduce_all((value >= 0) & (value < model.num_classes)),
                [f"{model.describe()}: labels {arg.name!r} must be integers in "
                 f"[0, {model.num_classes}), got", value], summarize=10))
    return checks


def checked_endpoint(model: ZooModel, name: str, endpoint: "Endpoint"):
    """``endpoint.fn`` behind the in-graph checks of its arguments (what every exported endpoint runs)."""
    fn, args = endpoint.fn, endpoint.args

    def checked(*values):
        checks = _graph_checks(model, name, args, values)
        if checks:
            with tf.control_dependencies(checks):
                values = [tf.identity(v) for v in values]
        return fn(*values)

    checked.__name__ = getattr(fn, "__name__", name)
    if checked.__name__ == "<lambda>":
        checked.__name__ = name
    return checked


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
