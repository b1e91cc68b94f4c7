"""The registry: names, presets, errors, and a light ``import tfzoo``."""

import subprocess
import sys
import types

import numpy as np
import pytest

import tfzoo
from tfzoo.recipe import CallbackSpec, Recipe, Schedule
from tfzoo.registry import Preset, UnknownModelError


def test_import_tfzoo_does_not_load_tensorflow():
    code = ("import sys, tfzoo; names = tfzoo.list_models(); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, sorted(sys.modules); "
            "print(len(names))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == len(tfzoo.list_models())


def test_list_models_filters_by_pattern():
    assert tfzoo.list_models("lenet*") == ["lenet-mnist"]
    assert set(tfzoo.list_models("*-mnist")) >= {"lenet-mnist", "convnet-mnist", "mlp-mnist"}
    assert tfzoo.list_models() == sorted(tfzoo.list_models())


def test_unknown_name_lists_closest_names():
    with pytest.raises(UnknownModelError) as error:
        tfzoo.get_preset("lenet-mnsit")
    message = str(error.value)
    assert "unknown model name 'lenet-mnsit'" in message and "lenet-mnist" in message
    with pytest.raises(UnknownModelError):
        tfzoo.create_model("no-such-model")


def test_unknown_override_names_accepted_arguments():
    with pytest.raises(TypeError, match="dropout"):
        tfzoo.create_model("lenet-mnist", dropuot=0.1)


def test_preset_names_follow_the_convention():
    for name in tfzoo.list_models():
        assert name == name.lower() and "-" in name and " " not in name
    with pytest.raises(ValueError, match="lower-case"):
        Preset(name="LeNet_MNIST", model="m:C")


def test_preset_carries_paper_recipe_and_citation():
    preset = tfzoo.get_preset("convnet-mnist")
    assert preset.citation == "003_a93095073811cc34.txt:3094-3113"
    assert preset.recipe.batch_size == 64
    assert preset.recipe.optimizer == "sgd" and preset.recipe.optimizer_args == {"momentum": 0.9}
    assert preset.recipe.schedule == Schedule("exponential", decay=0.95)
    assert preset.reported["probe_test_error_random_best"].value == 0.02


def test_overrides_reach_the_model():
    model = tfzoo.create_model("mlp-moons", hidden_units=(8,), compile=False)
    assert model.count_params() == 2 * 8 + 8 + 8 * 2 + 2
    assert model.get_config()["hidden_units"] == (8,)


def test_presets_take_a_typed_recipe_not_a_training_dict():
    with pytest.raises(TypeError, match="training"):
        Preset(name="lenet-mnist", model="m:C", training=dict(batch_size=64))
    with pytest.raises(TypeError, match="bogus"):
        Recipe(bogus=1)
    with pytest.raises(TypeError, match="recipe"):
        Preset(name="lenet-mnist", model="m:C", recipe=dict(batch_size=64))


def test_every_preset_has_a_task_and_a_recipe():
    for name in tfzoo.list_models():
        preset = tfzoo.get_preset(name)
        assert isinstance(preset.task, str) and preset.task, name
        assert isinstance(preset.recipe, Recipe), name
        assert all(isinstance(spec, CallbackSpec) for spec in preset.recipe.callbacks), name


def test_issgd_recipe_has_the_stale_importance_weights_callback():
    spec = tfzoo.get_preset("issgd-mnist-small").recipe.callback("StaleImportanceWeights")
    assert spec is not None and spec.target == "tfzoo.issgd.callback:StaleImportanceWeights"
    assert spec.kwargs["smoothing"] == 10.0
    assert (spec.kwargs["publish_every"], spec.kwargs["refresh_size"]) == (10, 64)
    for name in tfzoo.list_models("issgd-*"):
        assert tfzoo.get_preset(name).recipe.callback("StaleImportanceWeights") is not None, name


def test_batch_norm_flows_have_the_batch_norm_callback():
    names = [n for n in tfzoo.list_models() if tfzoo.get_preset(n).config.get("batch_norm") is True]
    assert "realnvp-mnist" in names and "realnvp-celeba" in names
    for name in names:
        spec = tfzoo.get_preset(name).recipe.callback("BatchNormBijector")
        assert spec is not None and spec.target == "tfzoo.flows.callbacks:BatchNormBijector", name


def test_walkback_models_have_the_walkback_callback():
    names = [n for n in tfzoo.list_models() if "walkback" in tfzoo.get_preset(n).config]
    assert {"gdae-mnist", "gdae-mnist-walkback", "gsn-mnist"} <= set(names)
    for name in names:
        spec = tfzoo.get_preset(name).recipe.callback("Walkback")
        assert spec is not None and spec.target == "tfzoo.gsn.callbacks:Walkback" and spec.kwargs == {}, name


def test_every_callback_spec_names_a_keras_callback_class():
    import keras

    targets = {spec.target for name in tfzoo.list_models() for spec in tfzoo.get_preset(name).recipe.callbacks}
    assert len(targets) >= 4
    for target in targets:
        cls = CallbackSpec(target).callback_class()
        assert isinstance(cls, type) and issubclass(cls, keras.callbacks.Callback), target


def test_mog_recipe_runs_em_once_before_the_gradient_epochs():
    spec = tfzoo.get_preset("mog-2d").recipe.callback("ExpectationMaximization")
    assert spec.kwargs == {"iterations": 100, "init": "data", "min_variance": 1e-6}
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    model = tfzoo.create_model("mog-2d", num_components=2)
    context = types.SimpleNamespace(x_train=x, seed=0, initial_epoch=0)
    em = CallbackSpec(spec.target, dict(spec.kwargs, iterations=3)).build(context)
    model.fit(x, epochs=1, batch_size=32, verbose=0, callbacks=[em])
    assert em.ran and len(em.log_likelihoods) == 4
    assert np.all(np.diff(em.log_likelihoods) >= -1e-9)
    em.log_likelihoods = None
    model.fit(x, epochs=1, batch_size=32, verbose=0, callbacks=[em])  # the same callback: no second EM
    assert em.log_likelihoods is None
    resumed = CallbackSpec(spec.target, spec.kwargs).build(types.SimpleNamespace(x_train=x, seed=0,
                                                                                 initial_epoch=2))
    tfzoo.create_model("mog-2d", num_components=2).fit(x, epochs=3, initial_epoch=2, batch_size=32, verbose=0,
                                                       callbacks=[resumed])
    assert not resumed.ran
