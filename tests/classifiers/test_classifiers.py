"""The classic classifiers: the lecture's LeNet shapes, dropout's two conventions, input checks."""

import keras
import numpy as np
import pytest

import tfzoo
from tfzoo import testing
from tfzoo.classifiers.dropout import Dropout
from tfzoo.classifiers.models import keras_sequential_baseline
from tfzoo.errors import InputError


def test_lenet_intermediate_shapes_match_the_lecture_table():
    # 002 lines 316-332: 32 -> 28 -> 14 -> 10 -> 5 -> 150 -> 128 -> 10
    model = tfzoo.create_model("lenet-mnist")
    shapes = {k: tuple(v.shape[1:]) for k, v in model.intermediate_outputs(np.zeros((1, 28, 28, 1))).items()}
    assert shapes["pad"] == (32, 32, 1)
    assert shapes["conv1_relu"] == (28, 28, 4)
    assert shapes["pool1"] == (14, 14, 4)
    assert shapes["conv2_relu"] == (10, 10, 6)
    assert shapes["pool2"] == (5, 5, 6)
    assert shapes["flatten"] == (150,)
    assert shapes["fc1_relu"] == (128,)
    assert shapes["logits"] == (10,)


@pytest.mark.parametrize("convention", ["inverted", "scale_at_test"])
def test_dropout_training_expectation_equals_test_output(convention):
    # The lecture's caption (002 line 389): "The output at test time is same as the expected output
    # at training time." Monte-Carlo mean over 4000 masks, within 4 standard errors.
    layer = Dropout(0.5, convention=convention, seed=3)
    x = np.linspace(0.5, 2.0, 16, dtype="float32")[None, :]
    draws = np.stack([np.asarray(layer(x, training=True))[0] for _ in range(4000)])
    test_output = np.asarray(layer(x, training=False))[0]
    standard_error = draws.std(0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(0) - test_output) < 4 * standard_error + 1e-6)
    # Training draws are either 0 or the convention's scaled value.
    kept = x[0] if convention == "scale_at_test" else 2 * x[0]
    assert np.all(np.isclose(draws, 0) | np.isclose(draws, kept))


def test_dropout_conventions_differ_only_in_where_the_scale_goes():
    x = np.ones((1, 4), "float32")
    assert np.allclose(Dropout(0.25, "scale_at_test")(x, training=False), 0.75)
    assert np.allclose(Dropout(0.25, "inverted")(x, training=False), 1.0)
    with pytest.raises(ValueError, match="convention"):
        Dropout(0.5, "sometimes")
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Dropout(1.0)


def test_dropout_is_reproducible_from_its_seed():
    x = np.ones((2, 64), "float32")
    a = np.asarray(Dropout(0.5, seed=7)(x, training=True))
    b = np.asarray(Dropout(0.5, seed=7)(x, training=True))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["lenet-mnist", "convnet-mnist", "mlp-mnist"])
def test_keras_sequential_baseline_is_the_same_function(name):
    # keras.layers.Dropout is the inverted convention, so compare models in that convention.
    model = tfzoo.create_model(name, **({"dropout_convention": "inverted"} if name == "mlp-mnist" else {}))
    baseline = keras_sequential_baseline(model)
    assert baseline.count_params() == model.count_params()
    baseline.set_weights(model.get_weights())
    x = testing.example_batch(model, 3, seed=0)
    np.testing.assert_allclose(baseline(x, training=False), model(x, training=False), rtol=1e-5, atol=1e-5)


def test_wrong_inputs_get_messages_naming_the_expected_shape():
    model = tfzoo.create_model("lenet-mnist")
    with pytest.raises(InputError, match=r"shape \(None, 28, 28, 1\).*got \(2, 28, 28\)"):
        model(np.zeros((2, 28, 28), "float32"))
    with pytest.raises(InputError, match=r"got \(2, 32, 32, 1\)"):
        model.predict(np.zeros((2, 32, 32, 1), "float32"), verbose=0)
    with pytest.raises(InputError, match="dtype string"):
        model(np.array([[["a"]]]))
    # Integer pixels (what the MNIST loader returns) are accepted and cast.
    assert model(np.zeros((1, 28, 28, 1), "uint8")).shape == (1, 10)


def test_lenet_learns_a_separable_toy_problem_quickly():
    # Bright top half vs bright bottom half: a convnet must get this right after a few epochs.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=512)
    x = rng.uniform(0, 60, size=(512, 28, 28, 1)).astype("float32")
    x[y == 0, :14] += 150
    x[y == 1, 14:] += 150
    keras.utils.set_random_seed(0)
    model = tfzoo.create_model("lenet-mnist")
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] > 0.95


def test_result_figure_shows_decision_regions_or_labelled_images(tmp_path):
    from tfzoo.plotting import family_panel, save_result_figure

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for name in ("mlp-moons", "lenet-mnist"):
        model = tfzoo.create_model(name)
        x, y = testing.example_fit_data(model, 16, seed=1)
        fig, ax = plt.subplots()
        assert family_panel(model, ax, {"test": (x, y)})
        plt.close(fig)
    path = save_result_figure(str(tmp_path / "result.png"), model, {"test": (x, y)}, {"loss": [1.0, 0.5]})
    assert (tmp_path / "result.png").stat().st_size > 0 and path.endswith("result.png")
