"""Helpers for tests of tfzoo models (used by tfzoo's own suite; usable for user models too).

The checks run a second Python process, so that a reloaded SavedModel is shown to work without
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
