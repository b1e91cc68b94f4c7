"""Helpers for tests of tfzoo models (used by tfzoo's own suite; usable for user models too).

Example inputs derive from a model's declarations: :func:`example_batch` from its input domain
(``input_values`` over ``input_range``), :func:`example_fit_data` adds the targets its ``fit_targets``
names, and :func:`example_inputs` gives valid arguments for every endpoint of
:meth:`tfzoo.base.ZooModel.endpoints` from each argument's :class:`tfzoo.base.Arg` domain.

Example:
    >>> import tfzoo
    >>> from tfzoo import testing
    >>> model = tfzoo.create_model("mog-2d")                       # doctest: +SKIP
    >>> sorted(testing.example_inputs(model))                      # doctest: +SKIP
    ['log_prob', 'sample', 'serve']
    >>> n, seed = testing.example_inputs(model)["sample"]          # doctest: +SKIP
    >>> int(n), seed.dtype                                         # doctest: +SKIP
    (3, dtype('int32'))

The fresh-process checks run a second Python process, so that a reloaded SavedModel is shown to work without
tfzoo (``block_tfzoo=True`` makes ``import tfzoo`` fail there) and a ``.keras`` file to reload
from nothing but its file and the registered classes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

#: The example value of each positive-integer domain of :class:`tfzoo.base.Arg`.
EXAMPLE_SIZES = {"count": 3, "steps": 3, "k": 3}
#: The batch size of example endpoint inputs.
EXAMPLE_BATCH = 3
#: P(1) of the examples of ``input_values="binary"`` (sparse, like binarised MNIST).
BINARY_FRACTION = 0.3


def example_batch(model, n: int = 2, seed: int = 0) -> np.ndarray:
    """``n`` valid inputs of ``model`` (its ``input_values`` over its ``input_range``), seeded."""
    rng = np.random.default_rng(seed)
    shape = (n, *model.input_shape_per_example)
    kind, (low, high) = model.input_values, model.input_range
    if kind == "uniform":
        x = rng.uniform(low, high, size=shape)
    elif kind == "integers":
        x = rng.integers(int(low), int(high), size=shape, endpoint=True)
    elif kind == "binary":
        x = rng.uniform(size=shape) < BINARY_FRACTION
    elif kind == "normal":
        x = rng.standard_normal(shape)
    else:
        raise ValueError(f"{type(model).__name__}.input_values must be 'uniform', 'integers', 'binary' "
                         f"or 'normal', got {kind!r}")
    return x.astype(model.input_dtype)


def example_labels(model, n: int, seed: int = 0, dtype="int64") -> np.ndarray:
    """``n`` class labels in ``[0, model.num_classes)``, seeded."""
    return np.random.default_rng(seed).integers(0, model.num_classes, size=n).astype(dtype)


def example_fit_data(model, n: int = 8, seed: int = 0) -> tuple:
    """``(x,)`` or ``(x, y)`` that ``model.fit`` accepts, by the model's ``fit_targets``."""
    x = example_batch(model, n, seed)
    targets = model.fit_targets
    if targets is None:
        return (x,)
    if targets == "labels":
        return (x, example_labels(model, n, seed))
    return (x, np.asarray(getattr(model, targets)(x)))


def _example_arg(model, arg, x, rng):
    spec = arg.spec
    dtype = spec.dtype.as_numpy_dtype
    shape = tuple(EXAMPLE_BATCH if d is None else d for d in spec.shape)
    if arg.domain == "data":
        if shape[1:] != tuple(model.input_shape_per_example):
            raise ValueError(f"{arg.name}: a 'data' Arg must have the model's input shape, got {spec.shape}")
        return x.astype(dtype)
    if arg.domain == "mask":
        return (rng.uniform(size=shape) < 0.5).astype(dtype)
    if arg.domain == "labels":
        return rng.integers(0, model.num_classes, size=shape).astype(dtype)
    if arg.domain in EXAMPLE_SIZES:
        return np.asarray(EXAMPLE_SIZES[arg.domain], dtype)
    if arg.domain == "seed":
        return np.asarray(rng.integers(0, 2**31 - 1), dtype)
    if arg.domain == "normal":
        return rng.standard_normal(shape).astype(dtype)
    if arg.domain == "uniform":
        return rng.uniform(*arg.bounds, size=shape).astype(dtype)
    if arg.domain == "constant":
        return np.asarray(arg.value, dtype)
    raise ValueError(f"{arg.name}: unknown domain {arg.domain!r}")


def example_inputs(model, seed: int = 0) -> dict:
    """Endpoint name -> tuple of valid NumPy arguments (dtypes and shapes as in the signatures),
    for every endpoint of ``model.endpoints()``, derived from each argument's domain; the ``"data"``
    arguments of all endpoints are one batch of :data:`EXAMPLE_BATCH` inputs."""
    x = example_batch(model, EXAMPLE_BATCH, seed)
    inputs = {}
    for index, (name, endpoint) in enumerate(sorted(model.endpoints().items())):
        rng = np.random.default_rng([seed, index])
        inputs[name] = tuple(_example_arg(model, arg, x, rng) for arg in endpoint.args)
    return inputs


_BLOCK_TFZOO = """
import sys
sys.path = [p for p in sys.path if p not in ('', '.')]
sys.modules['tfzoo'] = None  # any `import tfzoo` now raises ImportError
try:
    import tfzoo  # noqa
    raise SystemExit('tfzoo must not be importable in this check')
except ImportError:
    pass
"""


def mock_tfds_task(task_name: str, num_examples: int):
    """``tfds.testing.mock_data`` for a TFDS task, offline: random examples of the task's shape.

    TFDS declares ``downsampled_imagenet``'s images as ``(None, None, 3)``, so its default mock draws
    random sizes; for such tasks every example here has the task's per-example shape instead.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    from tfzoo.datasets import get_task

    shape = get_task(task_name).shape
    if not task_name.startswith("imagenet"):
        return tfds.testing.mock_data(num_examples=num_examples)

    def as_dataset(self, split, **kwargs):
        images = np.random.default_rng(len(split)).integers(0, 256, (num_examples, *shape), dtype=np.uint8)
        return tf.data.Dataset.from_tensor_slices({"image": images})

    return tfds.testing.mock_data(num_examples=num_examples, as_dataset_fn=as_dataset)


def run_in_fresh_python(code: str, *, block_tfzoo: bool = False, timeout: float = 600, cwd=None) -> str:
    """Runs ``code`` in a new interpreter and returns its standard output; raises on failure."""
    source = (_BLOCK_TFZOO if block_tfzoo else "") + textwrap.dedent(code)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONNOUSERSITE": "1"}
    if block_tfzoo:
        env.pop("PYTHONPATH", None)
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd or os.path.dirname(os.path.abspath(__file__)) + "/..")
    if done.returncode != 0:
        raise AssertionError(f"fresh-process check failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout


def flatten_outputs(outputs) -> list:
    """Every tensor of a nested endpoint output, as NumPy arrays, in ``tf.nest`` order."""
    import tensorflow as tf

    return [np.asarray(t) for t in tf.nest.flatten(outputs)]


def call_endpoints(endpoints: dict, inputs: dict) -> dict:
    """``{name: [arrays]}``: each endpoint called on its inputs (``inputs[name]`` is a tuple)."""
    return {name: flatten_outputs(endpoints[name][0](*args)) for name, args in inputs.items()}


def save_inputs(path: str, inputs: dict):
    """Stores endpoint inputs in ``path`` (npz) with their dtypes, for a fresh process to replay."""
    arrays = {f"{name}|{i}": np.asarray(a) for name, args in inputs.items() for i, a in enumerate(args)}
    np.savez(path, **arrays)


RELOAD_SAVEDMODELS = """
import json
import numpy as np
import tensorflow as tf
for job in json.load(open(MANIFEST)):
    loaded = tf.saved_model.load(job["savedmodel"])
    stored = np.load(job["inputs"])
    args = {}
    for key in stored.files:
        name, position = key.split("|")
        args.setdefault(name, {})[int(position)] = tf.constant(stored[key])
    outputs = {}
    for name, by_position in args.items():
        result = getattr(loaded, name)(*[by_position[i] for i in sorted(by_position)])
        for j, tensor in enumerate(tf.nest.flatten(result)):
            outputs[f"{name}|{j}"] = np.asarray(tensor)
    np.savez(job["outputs"], **outputs)
"""


def reload_savedmodels_without_tfzoo(jobs: list, manifest_path: str):
    """Reloads each job's SavedModel in one fresh process where tfzoo is not importable.

    ``jobs``: dicts with ``savedmodel``, ``inputs`` (from :func:`save_inputs`) and ``outputs``
    (an npz path the fresh process writes: ``"<endpoint>|<j>"`` -> j-th flattened output).
    """
    with open(manifest_path, "w") as f:
        json.dump(jobs, f)
    run_in_fresh_python(f"MANIFEST = {manifest_path!r}\n" + RELOAD_SAVEDMODELS, block_tfzoo=True)
