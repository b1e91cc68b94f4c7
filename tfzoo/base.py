"""The base class of every tfzoo model: configuration, input checks, recipes and export endpoints.

A :class:`ZooModel` is a ``keras.Model`` subclass that also knows

* the per-example shape and dtype it expects (:meth:`ZooModel.input_signature`), and checks inputs
  against them with an error that names what was expected (:meth:`ZooModel.check_input`);
* how to compile itself from a preset's training recipe (:meth:`ZooModel.compile_from_recipe`);
* which SavedModel endpoints it exports (:meth:`ZooModel.export_endpoints`), ``serve`` always.

Constructor arguments must be keyword arguments with JSON-serialisable values: ``ZooModel`` records
them as the instance is created, so ``get_config``/``from_config`` and ``.keras`` files work without
per-class code.
"""

from __future__ import annotations

import inspect

import keras
import numpy as np
import tensorflow as tf

from tfzoo.errors import InputError


def make_optimizer(training: dict):
    """Builds the optimiser a preset's ``training`` recipe names.

    Recognised keys: ``optimizer`` (a ``keras.optimizers`` name, default ``"adam"``),
    ``learning_rate`` and any other constructor argument of that optimiser under ``optimizer_args``.
    """
    name = training.get("optimizer", "adam")
    args = dict(training.get("optimizer_args", {}))
    if "learning_rate" in training:
        args["learning_rate"] = training["learning_rate"]
    return keras.optimizers.get({"class_name": name, "config": args})


class ZooModel(keras.Model):
    """Base class of tfzoo models.

    Subclasses set ``input_shape_per_example`` (a tuple, without the batch axis) and
    ``input_dtype`` in ``__init__`` before building, and implement ``call``.
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
        return [tf.TensorSpec((None, *self.input_shape_per_example), self.input_dtype, name="x")]

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

    # ----------------------------------------------------- examples for tests
    input_range: tuple = (-1.0, 1.0)

    def example_batch(self, n: int = 2, seed: int = 0) -> np.ndarray:
        """A valid input batch (uniform over ``input_range``), for tests and documentation."""
        rng = np.random.default_rng(seed)
        x = rng.uniform(*self.input_range, size=(n, *self.input_shape_per_example))
        return x.astype(self.input_dtype)

    def example_fit_data(self, n: int = 8, seed: int = 0) -> tuple:
        """``(x,)`` or ``(x, y)`` that ``fit`` accepts; unsupervised models need no targets."""
        return (self.example_batch(n, seed),)

    def example_endpoint_inputs(self, seed: int = 0) -> dict:
        """Endpoint name -> tuple of NumPy arguments (dtypes as in the signatures)."""
        return {"serve": (self.example_batch(3, seed),)}

    # ------------------------------------------------------------- building
    def build_from_preset(self):
        """Creates every variable by calling the model once on a zero batch."""
        self(tf.zeros((1, *self.input_shape_per_example), self.input_dtype), training=False)

    def compile_from_recipe(self, training: dict, **kwargs):
        """Compiles with the optimiser of ``training``; subclasses add their loss and metrics."""
        kwargs.setdefault("optimizer", make_optimizer(training))
        kwargs.setdefault("jit_compile", training.get("jit_compile", "auto"))
        self.compile(**kwargs)

    def training_callbacks(self) -> list:
        """Callbacks the family's training needs (e.g. a walkback schedule); none by default."""
        return []

    def plot_panel(self, ax, data) -> bool:
        """Draws the family's picture of a result on ``ax``; returns False when it has none."""
        return False

    def plot_result(self, path, data, history):
        """Saves a PNG: :meth:`plot_panel` beside the training curves."""
        from tfzoo.plotting import save_result_figure

        return save_result_figure(path, self, data, history)

    # --------------------------------------------------------------- export
    def export_endpoints(self) -> dict:
        """Endpoint name -> ``(function, input_signature)`` for :func:`tfzoo.export`.

        ``serve`` runs the model in inference mode. Families add their own endpoints by extending
        the returned dictionary.
        """
        return {"serve": (lambda x: self(x, training=False), self.input_signature())}
