"""SavedModel export: signatures visible to saved_model_cli, clear errors, model cards."""

import os
import subprocess
import sys

import numpy as np
import pytest

import tfzoo
from tfzoo import testing
from tfzoo.savedmodel import OutputDirectoryError


@pytest.fixture(scope="module")
def lenet_export(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("export") / "lenet")
    model = tfzoo.create_model("lenet-mnist")
    tfzoo.export(model, path)
    return model, path


def test_saved_model_cli_lists_endpoints_with_names_dtypes_and_shapes(lenet_export):
    _, path = lenet_export
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run([cli, "show", "--dir", path, "--all"], capture_output=True, text=True,
                           check=True).stdout
    assert "signature_def['serve']" in shown
    assert "inputs['x'] tensor_info" in shown and "DT_FLOAT" in shown and "(-1, 28, 28, 1)" in shown


def test_reloaded_endpoint_refuses_a_wrong_shape_naming_the_expected_spec(lenet_export):
    _, path = lenet_export
    out = testing.run_in_fresh_python(f"""
        import tensorflow as tf
        loaded = tf.saved_model.load({path!r})
        try:
            loaded.serve(tf.zeros([2, 32, 32, 1]))
        except (ValueError, TypeError) as error:
            print(str(error))
    """, block_tfzoo=True)
    assert "TensorSpec(shape=(None, 28, 28, 1), dtype=tf.float32, name='x')" in out


def test_export_refuses_a_directory_holding_another_model(lenet_export, tmp_path):
    _, path = lenet_export
    other = tfzoo.create_model("mlp-moons")
    with pytest.raises(OutputDirectoryError, match="different model"):
        tfzoo.export(other, path)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputDirectoryError, match="not empty"):
        tfzoo.export(other, str(tmp_path))


def test_reexport_of_the_same_model_is_allowed(lenet_export):
    model, path = lenet_export
    tfzoo.export(model, path)
    assert os.path.exists(os.path.join(path, "saved_model.pb"))


def test_export_needs_a_serve_endpoint(tmp_path):
    model = tfzoo.create_model("mlp-moons")
    with pytest.raises(ValueError, match="serve"):
        tfzoo.export(model, str(tmp_path / "m"), endpoints={})
    assert np.isfinite(np.asarray(model(testing.example_batch(model, 2)))).all()
