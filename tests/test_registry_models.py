"""Every registered model, trained through ``tfzoo.train``, as timm and keras-hub test theirs.

For each preset: the parameter count is pinned (the paper's where it gives one). For each distinct
test model, ``tfzoo.train`` runs two steps on the preset's own task (the TFDS tasks on
``tfds.testing.mock_data``) with the recipe's method callbacks, and then: every trainable variable
moved (each received a gradient); the forward pass is finite; the run's ``.keras`` file reloads in a
fresh process with equal outputs; every endpoint of the run's SavedModel, reloaded in a fresh
process where tfzoo is not importable, equals the in-memory model.

Presets too large for a CPU test declare ``test_config`` overrides (and pin ``test_params``).
Presets whose test models and tasks are identical are trained once, under the first such name; the
reload checks run once per distinct test model (the other presets of that model train with
``artifacts=False``).
"""

import contextlib
import json

import numpy as np
import pytest

import tfzoo
from tfzoo import testing
from tfzoo.datasets import get_task

NAMES = tfzoo.list_models()
TRAIN_EXAMPLES, EVAL_EXAMPLES, BATCH, STEPS = 16, 8, 4, 2


def _test_model(name):
    preset = tfzoo.get_preset(name)
    return preset.model, json.dumps({**preset.config, **(preset.test_config or {})}, sort_keys=True)


def _first_names(identity) -> list:
    first = {}
    for name in NAMES:
        first.setdefault(identity(name), name)
    return sorted(set(first.values()))


#: One name per distinct (test model, task): each is trained through tfzoo.train.
TRAINED = _first_names(lambda name: (*_test_model(name), tfzoo.get_preset(name).task))
#: One name per distinct test model: its run's SavedModel and .keras file are reloaded and compared.
BUILT = _first_names(_test_model)


def build(name):
    import keras

    keras.utils.set_random_seed(0)
    return tfzoo.create_model(name, **(tfzoo.get_preset(name).test_config or {}))


def _data_context(task_name):
    task = get_task(task_name)
    if "tfds" in task.sources and "idx" not in task.sources:  # no data_dir given: TFDS, mocked offline
        return testing.mock_tfds_task(task_name, TRAIN_EXAMPLES + 2 * EVAL_EXAMPLES)
    return contextlib.nullcontext()


def _needs_mnist(task_name):
    return "mnist" in task_name


@pytest.fixture(scope="session")
def trained(tmp_path_factory, request):
    """Trains every distinct test model for two steps through tfzoo.train and reloads its artifacts."""
    root = tmp_path_factory.mktemp("registry")
    mnist_dir = None
    if any(_needs_mnist(tfzoo.get_preset(n).task) for n in TRAINED):
        mnist_dir = request.getfixturevalue("mnist_dir")
    runs, expected, jobs = {}, {}, []
    for name in TRAINED:
        preset = tfzoo.get_preset(name)
        with _data_context(preset.task):
            run = tfzoo.train(name, str(root / name), steps=STEPS, batch_size=BATCH, limit_train=TRAIN_EXAMPLES,
                              limit_eval=EVAL_EXAMPLES, overrides=preset.test_config or {}, verbose=0,
                              data_dir=mnist_dir if _needs_mnist(preset.task) else None,
                              artifacts=name in BUILT)
        runs[name] = run
        if name not in BUILT:
            continue
        model = run.model
        endpoints = model.export_endpoints()
        inputs = testing.example_inputs(model, seed=1)
        assert set(inputs) == set(endpoints), f"{name}: example inputs must cover every endpoint"
        expected[name] = testing.call_endpoints(endpoints, inputs)
        testing.save_inputs(str(root / name / "inputs.npz"), inputs)
        jobs.append(dict(savedmodel=run.paths["savedmodel"], inputs=str(root / name / "inputs.npz"),
                         outputs=str(root / name / "reloaded.npz")))
        np.save(root / name / "serve_input.npy", inputs["serve"][0])
    testing.reload_savedmodels_without_tfzoo(jobs, str(root / "manifest.json"))
    testing.run_in_fresh_python(f"""
        import numpy as np, keras, tfzoo
        for name in {BUILT!r}:
            model = keras.models.load_model({str(root)!r} + f"/{{name}}/model.keras")
            x = np.load({str(root)!r} + f"/{{name}}/serve_input.npy")
            np.save({str(root)!r} + f"/{{name}}/keras_reloaded.npy", np.asarray(model(x, training=False)))
    """)
    return root, runs, expected


@pytest.mark.parametrize("name", NAMES)
def test_parameter_count_is_pinned(name):
    preset = tfzoo.get_preset(name)
    model = build(name)
    pinned = preset.test_params if preset.test_config else preset.expected_params
    assert pinned is not None, f"{name}: pin the parameter count in its preset"
    assert model.count_params() == pinned


@pytest.mark.parametrize("name", TRAINED)
def test_train_steps_change_every_trainable_variable(name, trained):
    _, runs, _ = trained
    run = runs[name]
    assert run.spent["steps"] == STEPS and run.spent["stopped_by"] == "steps"
    assert np.isfinite(run.history["loss"][-1])
    assert all(np.isfinite(v) for v in run.metrics.values()), run.metrics
    before = build(name)
    unchanged = [v.path for v, b in zip(run.model.trainable_variables, before.trainable_variables)
                 if np.array_equal(np.array(v), np.array(b))]
    assert not unchanged, f"{name}: no gradient reached {unchanged}"
    # the recipe's method callbacks are the ones the run trained with
    assert [type(c).__name__ for c in run.callbacks] == [s.name for s in tfzoo.get_preset(name).recipe.callbacks]


@pytest.mark.parametrize("name", BUILT)
def test_forward_pass_is_finite(name, trained):
    _, runs, _ = trained
    model = runs[name].model
    out = model(testing.example_batch(model, 4, seed=2), training=False)
    for tensor in testing.flatten_outputs(out):
        assert np.all(np.isfinite(tensor)), f"{name}: non-finite output"


@pytest.mark.parametrize("name", BUILT)
def test_keras_file_round_trips_in_fresh_process(name, trained):
    root, runs, _ = trained
    x = np.load(root / name / "serve_input.npy")
    reloaded = np.load(root / name / "keras_reloaded.npy")
    np.testing.assert_allclose(reloaded, np.asarray(runs[name].model(x, training=False)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", BUILT)
def test_savedmodel_endpoints_match_without_tfzoo(name, trained):
    root, _, expected = trained
    with np.load(root / name / "reloaded.npz") as reloaded:
        for endpoint, outputs in expected[name].items():
            for j, value in enumerate(outputs):
                # 1e-4: a 32x32x3 flow's inverse (sampling) differs by ~3e-5 across processes
                np.testing.assert_allclose(reloaded[f"{endpoint}|{j}"], value, rtol=1e-4, atol=1e-4,
                                           err_msg=f"{name}.{endpoint} output {j}")


def test_every_model_has_a_citation_task_and_description():
    for name in NAMES:
        preset = tfzoo.get_preset(name)
        assert preset.citation, name
        assert preset.description, name
        assert preset.task and get_task(preset.task), name
