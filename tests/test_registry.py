"""The registry: names, presets, errors, and a light ``import tfzoo``."""

import subprocess
import sys

import pytest

import tfzoo
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
    assert preset.training["batch_size"] == 64
    assert preset.reported["probe_test_error_random_best"].value == 0.02


def test_overrides_reach_the_model():
    model = tfzoo.create_model("mlp-moons", hidden_units=(8,), compile=False)
    assert model.count_params() == 2 * 8 + 8 + 8 * 2 + 2
    assert model.get_config()["hidden_units"] == (8,)
