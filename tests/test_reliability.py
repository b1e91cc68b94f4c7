"""Reliability (#15): wrong input is refused with an error naming it, in Python and in the served
SavedModel alike; densities are -inf outside their support; a refused ``fit`` leaves the model usable;
every ``fit`` stops on NaN. One small export per model kind, shared by the module."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfzoo
from tfzoo.errors import ArgumentError, InputError, TrainingDivergedError
from tfzoo.savedmodel import export

#: One small model per kind: the presets' test_config, MNIST models with tiny hidden layers.
KINDS = {"mlp-moons": {}, "mog-2d": {}, "realnvp-moons": {}, "vae-mnist": dict(hidden_units=(16,), latent_dim=4),
         "made-mnist": dict(hidden_units=(16,))}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """name -> (python model, reloaded SavedModel)."""
    out = {}
    for name, small in KINDS.items():
        model = tfzoo.create_model(name, **{**(tfzoo.get_preset(name).test_config or {}), **small})
        path = str(tmp_path_factory.mktemp(name) / "model")
        export(model, path)
        out[name] = (model, tf.saved_model.load(path))
    return out


def refused(call, *patterns):
    """Runs ``call``; asserts it raises (InputError in Python, InvalidArgumentError when served) with
    every pattern in the message."""
    with pytest.raises((InputError, tf.errors.InvalidArgumentError)) as info:
        call()
    message = str(info.value).replace("\\'", "'")  # TF escapes quotes
    for pattern in patterns:
        assert pattern in message, message
    return message


# ------------------------------------------------------------------ create_model overrides
@pytest.mark.parametrize("override, pattern", [
    (dict(hidden_units="abc"), "hidden_units='abc'"),
    (dict(hidden_units=(64, -1)), "hidden_units=(64, -1)"),
    (dict(num_classes=-2), "num_classes=-2"),
    (dict(num_classes=2.5), "num_classes=2.5"),
    (dict(dropout="x"), "dropout='x'"),
])
def test_create_model_refuses_a_wrong_override_naming_it(override, pattern):
    with pytest.raises(ArgumentError, match="must be") as info:
        tfzoo.create_model("mlp-moons", **override)
    assert pattern in str(info.value)


def test_mixture_components_must_be_positive():
    with pytest.raises(ArgumentError, match="num_components=0"):
        tfzoo.create_model("mog-2d", num_components=0)


# ------------------------------------------------------------------ counts, steps, k
@pytest.mark.parametrize("n", [2.5, -1, True])
@pytest.mark.parametrize("name", ["mog-2d", "realnvp-moons", "vae-mnist", "made-mnist"])
def test_python_sample_refuses_a_bad_count(served, name, n):
    model, _ = served[name]
    refused(lambda: model.sample(n, 0), "argument 'n' must be an integer >= 0", repr(n))


@pytest.mark.parametrize("name", ["mog-2d", "realnvp-moons", "vae-mnist", "made-mnist"])
def test_served_sample_refuses_a_negative_count_and_accepts_zero(served, name):
    model, loaded = served[name]
    refused(lambda: loaded.sample(tf.constant(-1), tf.constant(0)), "argument 'n' must be an integer >= 0", "[-1]")
    assert loaded.sample(tf.constant(0), tf.constant(0)).shape[0] == 0
    assert loaded.sample(tf.constant(2), tf.constant(0)).shape[0] == 2


@pytest.mark.parametrize("endpoint", ["elbo", "iwae"])
def test_vae_bounds_refuse_k_zero(served, endpoint):
    model, loaded = served["vae-mnist"]
    x = np.zeros((2, 28, 28, 1), np.float32)
    refused(lambda: getattr(model, endpoint)(x, 0, 0), "argument 'k' must be an integer >= 1, got 0")
    refused(lambda: getattr(loaded, endpoint)(tf.constant(x), tf.constant(0), tf.constant(0)),
            "argument 'k' must be an integer >= 1, got", "[0]")
    assert np.all(np.isfinite(getattr(loaded, endpoint)(tf.constant(x), tf.constant(2), tf.constant(0))))


def test_flow_inpaint_refuses_negative_steps_and_a_bad_mask(served):
    model, loaded = served["realnvp-moons"]
    x, mask = np.zeros((3, 2), np.float32), np.ones((3, 2), np.float32)
    refused(lambda: model.inpaint(x, mask, steps=-1), "argument 'steps' must be an integer >= 0, got -1")
    seed = tf.constant(0)
    refused(lambda: loaded.inpaint(x, mask, tf.constant(-1), seed), "argument 'steps' must be an integer >= 0")
    refused(lambda: loaded.inpaint(x, mask * 0.5, tf.constant(1), seed), "input 'mask' must hold only 0 and 1")
    refused(lambda: loaded.inpaint(x, np.ones((2, 2), np.float32), tf.constant(1), seed),
            "input 'mask' must have the shape of the data")
    assert loaded.inpaint(x, mask, tf.constant(2), seed).shape == (3, 2)


# ------------------------------------------------------------------ shapes in the served graph
SHAPE_CASES = [  # (model, endpoint, extra arguments after x, wrong x shapes)
    ("mlp-moons", "serve", (), [(3, 1), (3, 3)]),
    ("mog-2d", "log_prob", (), [(3, 1), (3, 3)]),
    ("realnvp-moons", "log_prob", (), [(3, 1), (3, 3)]),
    ("realnvp-moons", "encode", (), [(3, 1)]),
    ("vae-mnist", "encode", (), [(3, 1, 28, 1), (3, 28, 29, 1)]),
    ("made-mnist", "log_prob", (), [(3, 1, 28, 1), (3, 28, 28, 2)]),
]


def relaxed(model, endpoint):
    """The exported function of ``endpoint`` traced for inputs of any shape: what a caller reaching the
    graph without the Python-side binding check (``loaded.signatures[...]``, TF Serving) runs."""
    fn, specs = model.export_endpoints()[endpoint]
    return tf.function(fn).get_concrete_function(
        *[tf.TensorSpec([None] * len(s.shape), s.dtype, name=s.name) for s in specs])


@pytest.mark.parametrize("name, endpoint, extra, shapes", SHAPE_CASES)
def test_exported_endpoints_refuse_a_wrong_feature_shape_with_the_python_message(served, name, endpoint, extra,
                                                                                 shapes):
    model, loaded = served[name]
    graph = relaxed(model, endpoint)
    expected = model.shape_message("x")
    python = model.log_prob if endpoint == "log_prob" else model
    for shape in shapes:
        refused(lambda: graph(tf.zeros(shape), *extra), expected, str(list(shape)).replace(",", ""))
        refused(lambda: python(np.zeros(shape, np.float32)), expected, str(shape))
        with pytest.raises(TypeError):  # the reloaded tf.function's own binding check
            getattr(loaded, endpoint)(tf.zeros(shape), *extra)


def test_serving_default_signature_refuses_a_broadcastable_shape(served):
    model, loaded = served["mog-2d"]
    signature = loaded.signatures["serving_default"]
    refused(lambda: signature(x=tf.zeros((3, 1))), model.shape_message("x"), "[3 1]")
    assert np.all(np.isfinite(signature(x=tf.zeros((3, 2)))["output_0"]))


def test_served_decode_refuses_a_wrong_latent_shape(served):
    model, _ = served["realnvp-moons"]
    refused(lambda: relaxed(model, "decode")(tf.zeros((3, 1))), "input 'z' must have shape (None, 2)", "[3 1]")


# ------------------------------------------------------------------ support
@pytest.mark.parametrize("name", ["vae-mnist", "made-mnist"])
def test_binary_densities_are_minus_inf_outside_their_support(served, name):
    model, loaded = served[name]
    x = np.stack([np.zeros((28, 28, 1)), np.full((28, 28, 1), 300.0), np.full((28, 28, 1), -5.0),
                  np.full((28, 28, 1), 0.5)]).astype(np.float32)
    for log_p in (model.log_prob(x), loaded.log_prob(tf.constant(x))):
        log_p = np.asarray(log_p)
        assert np.isfinite(log_p[0]) and np.all(log_p[1:] == -np.inf), log_p


def test_mixture_and_flow_log_prob(served):
    x = np.array([[0.0, 0.0], [np.nan, 0.0]], np.float32)
    model, loaded = served["mog-2d"]
    for log_p in (model.log_prob(x), loaded.log_prob(tf.constant(x))):
        assert np.isfinite(log_p[0]) and log_p[1] == -np.inf
    model, loaded = served["realnvp-moons"]
    assert np.all(np.isfinite(loaded.log_prob(tf.zeros((2, 2)))))


# ------------------------------------------------------------------ fit
def moons(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)).astype(np.float32), rng.integers(0, 2, n)


def test_fit_refuses_bad_labels_lengths_and_empty_data():
    model = tfzoo.create_model("mlp-moons")
    x, y = moons()
    refused(lambda: model.fit(x, y + 5, verbose=0), "labels y must be integers in [0, 2)", "[5, 6]")
    refused(lambda: model.fit(x, -y - 1, verbose=0), "labels y must be integers in [0, 2)")
    refused(lambda: model.fit(x, y[:10], verbose=0), "64 inputs x but 10 targets y")
    refused(lambda: model.fit(x[:0], y[:0], verbose=0), "empty data set")
    refused(lambda: model.fit(np.zeros((8, 3), np.float32), y[:8], verbose=0), model.shape_message("x"))
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_a_model_stays_usable_after_a_refused_fit_inside_the_trace():
    model = tfzoo.create_model("mlp-moons")
    x, y = moons()
    bad = tf.data.Dataset.from_tensor_slices((np.zeros((8, 3), np.float32), y[:8])).batch(4)
    with pytest.raises(InputError, match="must have shape"):
        model.fit(bad, verbose=0)
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_every_fit_stops_on_nan_naming_epoch_and_step():
    model = tfzoo.create_model("mlp-moons")
    x, y = moons()
    x[40] = np.nan
    with pytest.raises(TrainingDivergedError, match=r"at epoch 1, step 2 of that epoch"):
        model.fit(x, y, epochs=2, batch_size=32, verbose=0, shuffle=False)


def test_fit_adds_stop_on_nan_once(monkeypatch):
    from tfzoo.callbacks import StopOnNaN

    seen = []
    monkeypatch.setattr(keras.Model, "fit", lambda self, x, y, *a, **kw: seen.append(kw["callbacks"]))
    model = tfzoo.create_model("mlp-moons")
    x, y = moons()
    mine = StopOnNaN()
    model.fit(x, y, callbacks=[mine])
    model.fit(x, y)
    assert seen[0] == [mine]
    assert len(seen[1]) == 1 and isinstance(seen[1][0], StopOnNaN)


# ------------------------------------------------------------------ ISSGD float64
def test_issgd_snapshot_keeps_a_float64_models_policy():
    from tfzoo.issgd.callback import StaleImportanceWeights

    keras.config.set_dtype_policy("float64")
    try:
        model = keras.Sequential([keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(2)])
        model(np.zeros((1, 2)))
    finally:
        keras.config.set_dtype_policy("float32")
    model.compile(optimizer=keras.optimizers.SGD(0.05),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 2)), rng.integers(0, 2, 64)
    issgd = StaleImportanceWeights(x, y, batch_size=16, smoothing=1.0, refresh_size=16, monitor_size=0)
    keras.Model.fit(model, issgd.dataset(), steps_per_epoch=3, epochs=1, callbacks=[issgd], verbose=0,
                    shuffle=False)
    assert issgd._snapshot.dtype_policy.name == "float64"
