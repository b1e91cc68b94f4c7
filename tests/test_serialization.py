"""``keras.models.load_model`` finds tfzoo's classes after a plain ``import tfzoo``.

``import tfzoo`` imports no family module, TensorFlow nor Keras; :mod:`tfzoo.serialization` makes
Keras's registry import the module of a ``"tfzoo>..."`` name when a ``.keras`` file asks for it.
Each check runs in a fresh interpreter, since the mechanism depends on what is imported, and when.
"""

import ast
import json
import pathlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from tfzoo import serialization, testing

PACKAGE_DIR = pathlib.Path(serialization.__file__).resolve().parent

# Models of three families (a classifier with tfzoo's Dropout layers, a flow of bijector layers, a
# GSN), as presets and, should the presets be broken, as the same classes built directly.
MODELS = {
    "mlp-moons": ("tfzoo.classifiers.models", "MLPClassifier",
                  dict(hidden_units=(64, 64), dropout=0.1, input_shape=(2,), num_classes=2, input_scale=1.0)),
    "realnvp-moons": ("tfzoo.flows.models", "DenseCouplingFlow",
                      dict(input_shape=(2,), coupling="affine", num_couplings=6, hidden_layers=2,
                           hidden_units=64, prior="gaussian")),
    "dae-spiral": ("tfzoo.gsn.models", "ScoreAutoencoder",
                   dict(input_dim=2, hidden_units=1000, activation="tanh", output_activation="linear",
                        tied_weights=False, criterion="dae", sigma=0.01)),
}

SAVE = """
import importlib, json, sys
import numpy as np
import tensorflow as tf
import tfzoo
from tfzoo import testing

def build(name, module, cls, config):
    try:
        return tfzoo.create_model(name)
    except Exception as error:  # presets being migrated: the same model from its class
        print(f"create_model({name!r}) failed ({error!r}); building {cls} directly", file=sys.stderr)
        model = getattr(importlib.import_module(module), cls)(**config)
        model.build_from_preset()
        model.compile_from_recipe()
        return model

for name, (module, cls, config) in json.loads(MODELS).items():
    model = build(name, module, cls, config)
    x = testing.example_batch(model, 5, seed=1)
    y = [np.asarray(t) for t in tf.nest.flatten(model(x, training=False))]
    model.save(f"{OUT}/{name}.keras")
    np.savez(f"{OUT}/{name}.npz", x=x, **{f"y{i}": t for i, t in enumerate(y)})
"""

LOAD = """
import sys
{imports}
import numpy as np
assert not [m for m in MODULES if m in sys.modules], "the test must not import a model's module itself"
for name in NAMES:
    model = keras.models.load_model(f"{{OUT}}/{{name}}.keras")
    stored = np.load(f"{{OUT}}/{{name}}.npz")
    y = [np.asarray(t) for t in keras.tree.flatten(model(stored["x"], training=False))]
    assert len(y) == len(stored.files) - 1, (name, len(y), stored.files)
    for i, t in enumerate(y):
        np.testing.assert_allclose(t, stored[f"y{{i}}"], rtol=1e-5, atol=1e-6, err_msg=name)
    print(name, type(model).__module__, type(model).__name__)

from tfzoo import serialization
registry = keras.saving.get_custom_objects()
assert serialization.installed() and isinstance(registry, serialization.ImportingRegistry)
assert not any(isinstance(f, serialization._RegistryFinder) for f in sys.meta_path), sys.meta_path
assert "tfzoo>NoSuchClass" not in registry and registry.get("tfzoo>NoSuchClass") is None
assert keras.saving.get_registered_object("tfzoo>NoSuchClass") is None
assert "tfzoo.lecture.stochastic_depth" not in sys.modules
block = keras.saving.get_registered_object("tfzoo>StochasticDepthBlock")
assert block is sys.modules["tfzoo.lecture.stochastic_depth"].StochasticDepthBlock
assert registry["tfzoo>StochasticDepthBlock"] is block and serialization.install()
"""

# The orders of import a user may write; Keras is imported before tfzoo (the registry is patched at
# once), after it (by the import hook), and inside TensorFlow's import (which imports keras.src).
IMPORT_ORDERS = {
    "keras-then-tfzoo": "import keras\nimport tfzoo",
    "tfzoo-then-keras": "import tfzoo\nimport keras",
    "tensorflow-keras-tfzoo": "import tensorflow\nimport keras\nimport tfzoo",
    "tfzoo-tensorflow-keras": "import tfzoo\nimport tensorflow\nimport keras",
}


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    out = tmp_path_factory.mktemp("keras_files")
    testing.run_in_fresh_python(f"OUT = {str(out)!r}\nMODELS = {json.dumps(MODELS)!r}\n" + SAVE)
    return out


def test_load_model_after_plain_import_tfzoo(saved_models):
    """Each ``.keras`` file reloads with equal outputs whatever the order of ``import keras, tfzoo``."""
    def load(imports):
        modules = [module for module, _, _ in MODELS.values()]
        header = f"OUT = {str(saved_models)!r}\nNAMES = {list(MODELS)!r}\nMODULES = {modules!r}\n"
        return testing.run_in_fresh_python(header + LOAD.format(imports=imports))

    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = dict(zip(IMPORT_ORDERS, pool.map(load, IMPORT_ORDERS.values())))
    for order, stdout in outputs.items():
        for name, (module, cls, _) in MODELS.items():
            assert f"{name} {module} {cls}" in stdout, (order, stdout)


def test_import_tfzoo_is_light():
    """``import tfzoo`` imports neither TensorFlow nor Keras, and takes well under a second.

    Measured on the shared 2-core machine: 50-70 ms for ``import tfzoo`` (75 ms without bytecode
    caches); ``tfzoo.serialization`` adds about 2 ms (``python -X importtime``). Bound: 3x that.
    """
    stdout = testing.run_in_fresh_python("""
        import json, sys, time
        start = time.perf_counter()
        import tfzoo
        seconds = time.perf_counter() - start
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras",
                                                                  "tensorflow_probability", "numpy"))
        hooked = any(type(f).__name__ == "_RegistryFinder" for f in sys.meta_path)
        print(json.dumps({"seconds": seconds, "heavy": heavy, "hooked": hooked}))
    """)
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    assert result["hooked"], "tfzoo/__init__.py must call tfzoo.serialization.install()"
    assert result["seconds"] < 0.2, result


def _registrations(path: pathlib.Path) -> dict:
    """``{registered name: module}`` of every ``register_keras_serializable`` decorator in ``path``."""
    module = ".".join(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    found = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            function = call.func if call else decorator
            called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
            if called != "register_keras_serializable":
                continue
            assert call is not None, f"{path}:{node.lineno}: call the decorator with package='tfzoo'"
            arguments = dict(zip(("package", "name"), call.args))
            arguments.update({k.arg: k.value for k in call.keywords})
            package = ast.literal_eval(arguments["package"]) if "package" in arguments else "Custom"
            name = ast.literal_eval(arguments["name"]) if "name" in arguments else node.name
            key = f"{package}>{name}"
            assert key not in found, f"{path}:{node.lineno}: {key} registered twice"
            found[key] = module
    return found


def test_registered_classes_table_is_complete():
    """REGISTERED_CLASSES lists exactly the registrations found in tfzoo's source."""
    found = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        for key, module in _registrations(path).items():
            assert key not in found, f"{key} registered by {found[key]} and {module}"
            found[key] = module
    assert found, "no register_keras_serializable found: the scan is broken"
    assert all(key.startswith("tfzoo>") for key in found), sorted(found)
    missing = {k: v for k, v in found.items() if serialization.REGISTERED_CLASSES.get(k) != v}
    stale = sorted(set(serialization.REGISTERED_CLASSES) - set(found))
    assert not missing and not stale, (
        f"update tfzoo/serialization.py REGISTERED_CLASSES: add/fix {missing}, remove {stale}")
