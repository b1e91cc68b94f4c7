"""Every registered model, as timm and keras-hub test theirs.

For each preset: the parameter count is pinned (the paper's where it gives one); a forward pass is
finite; two ``fit`` steps change every trainable variable (so each receives a non-zero gradient);
the ``.keras`` file reloads in a fresh process with equal outputs; every exported SavedModel
endpoint, reloaded in a fresh process where tfzoo is not importable, equals the in-memory model.

Presets too large for a CPU test declare ``test_config`` overrides (and pin ``test_params``).
Presets whose test models are identical (the configuration-only Real NVP presets share one small
test configuration) are built and checked once, under the first such name; every preset still has
its own pinned parameter count.
"""

import json
import os

import numpy as np
import pytest

import tfzoo
from tfzoo import testing

NAMES = tfzoo.list_models()


def _test_model_identity(name):
    preset = tfzoo.get_preset(name)
    return preset.model, json.dumps({**preset.config, **(preset.test_config or {})}, sort_keys=True)


_FIRST_WITH_IDENTITY = {}
for _name in NAMES:
    _FIRST_WITH_IDENTITY.setdefault(_test_model_identity(_name), _name)
#: One name per distinct test model.
BUILT = sorted(set(_FIRST_WITH_IDENTITY.values()))


def build(name):
    preset = tfzoo.get_preset(name)
    return tfzoo.create_model(name, **(preset.test_config or {}))


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """Builds every model once, exports it, saves it as .keras, and reloads both in fresh processes."""
    import keras

    root = tmp_path_factory.mktemp("registry")
    models, expected, jobs, keras_jobs = {}, {}, [], []
    for name in BUILT:
        keras.utils.set_random_seed(0)
        model = build(name)
        endpoints = model.export_endpoints()
        inputs = model.example_endpoint_inputs(seed=1)
        assert set(inputs) == set(endpoints), f"{name}: example inputs must cover every endpoint"
        expected[name] = testing.call_endpoints(endpoints, inputs)
        tfzoo.export(model, str(root / name / "savedmodel"))
        testing.save_inputs(str(root / name / "inputs.npz"), inputs)
        jobs.append(dict(savedmodel=str(root / name / "savedmodel"), inputs=str(root / name / "inputs.npz"),
                         outputs=str(root / name / "reloaded.npz")))
        model.save(str(root / name / "model.keras"))
        np.save(root / name / "serve_input.npy", inputs["serve"][0])
        keras_jobs.append(name)
        models[name] = model
    testing.reload_savedmodels_without_tfzoo(jobs, str(root / "manifest.json"))
    testing.run_in_fresh_python(f"""
        import numpy as np, keras, tfzoo
        for name in {keras_jobs!r}:
            tfzoo.get_preset(name).model_class()
            model = keras.models.load_model({str(root)!r} + f"/{{name}}/model.keras")
            x = np.load({str(root)!r} + f"/{{name}}/serve_input.npy")
            np.save({str(root)!r} + f"/{{name}}/keras_reloaded.npy", np.asarray(model(x, training=False)))
    """)
    return root, models, expected


@pytest.mark.parametrize("name", NAMES)
def test_parameter_count_is_pinned(name):
    preset = tfzoo.get_preset(name)
    model = build(name)
    pinned = preset.test_params if preset.test_config else preset.expected_params
    assert pinned is not None, f"{name}: pin the parameter count in its preset"
    assert model.count_params() == pinned


@pytest.mark.parametrize("name", BUILT)
def test_forward_pass_is_finite(name, exported):
    _, models, _ = exported
    model = models[name]
    out = model(model.example_batch(4, seed=2), training=False)
    for tensor in testing.flatten_outputs(out):
        assert np.all(np.isfinite(tensor)), f"{name}: non-finite output"


@pytest.mark.parametrize("name", BUILT)
def test_fit_steps_change_every_trainable_variable_and_evaluate_runs(name):
    import keras

    keras.utils.set_random_seed(0)
    model = build(name)
    before = [np.array(v) for v in model.trainable_variables]
    history = model.fit(*model.example_fit_data(8, seed=3), batch_size=4, epochs=1, verbose=0,
                        callbacks=model.training_callbacks())
    assert np.isfinite(history.history["loss"][-1])
    unchanged = [v.path for v, b in zip(model.trainable_variables, before) if np.array_equal(np.array(v), b)]
    assert not unchanged, f"{name}: no gradient reached {unchanged}"
    # evaluate (the train job's validation and test) works too
    evaluated = model.evaluate(*model.example_fit_data(8, seed=4), batch_size=4, verbose=0, return_dict=True)
    assert np.isfinite(evaluated["loss"])


@pytest.mark.parametrize("name", BUILT)
def test_keras_file_round_trips_in_fresh_process(name, exported):
    root, models, _ = exported
    x = np.load(root / name / "serve_input.npy")
    reloaded = np.load(root / name / "keras_reloaded.npy")
    np.testing.assert_allclose(reloaded, np.asarray(models[name](x, training=False)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", BUILT)
def test_savedmodel_endpoints_match_without_tfzoo(name, exported):
    root, _, expected = exported
    with np.load(root / name / "reloaded.npz") as reloaded:
        for endpoint, outputs in expected[name].items():
            for j, value in enumerate(outputs):
                np.testing.assert_allclose(reloaded[f"{endpoint}|{j}"], value, rtol=1e-5, atol=1e-5,
                                           err_msg=f"{name}.{endpoint} output {j}")


def test_every_model_has_a_citation_and_task():
    for name in NAMES:
        preset = tfzoo.get_preset(name)
        paper, _, lines = preset.citation.partition(":")
        assert os.path.basename(paper).endswith(".txt") and lines, f"{name}: cite paper file and lines"
        assert preset.description, name
