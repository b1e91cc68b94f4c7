"""Linear classifier probes (003 chapter 9): no gradient reaches the model, bit-identical training,
random subsets, early stopping, post-hoc fitting and the SavedModel of a probed model."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfzoo import testing
from tfzoo.analysis import probes
from tfzoo.classifiers.models import ConvNet
from tfzoo.errors import InputError
from tfzoo.recipe import Recipe


def small_convnet():
    keras.utils.set_random_seed(0)
    model = ConvNet(filters=(3, 4), dense_units=8, dropout=0.5, seed=1)
    model.build_from_preset()
    model.compile_from_recipe(Recipe(optimizer="sgd", learning_rate=0.05, optimizer_args=dict(momentum=0.9)))
    return model


@pytest.fixture(scope="module")
def pixels():
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, size=(48, 28, 28, 1)).astype("float32"), rng.integers(0, 10, 48)


def test_probe_gradients_never_reach_model_variables(pixels):
    x, y = pixels
    model = small_convnet()
    probed = probes.attach_probes(model)
    assert set(probed.layer_names) >= {"input", "conv1_preact", "conv1_relu", "pool1", "fc1_preact", "logits"}
    with tf.GradientTape(persistent=True) as tape:
        logits = probed.probe_logits(x[:8])
        loss = tf.add_n([tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y[:8], z)) for z in logits])
    for g in tape.gradient(loss, model.trainable_variables):
        assert g is None or not np.any(g.numpy())
    probe_grads = tape.gradient(loss, probed.trainable_variables)
    assert all(g is not None and np.any(g.numpy()) for g in probe_grads)
    assert {id(v) for v in probed.trainable_variables}.isdisjoint({id(v) for v in model.trainable_variables})


def dropout_net():
    keras.utils.set_random_seed(0)
    L = keras.layers
    model = keras.Sequential([keras.Input((6, 6, 1)), L.Conv2D(3, 3, name="conv"), L.ReLU(name="relu"),
                              L.Flatten(name="flat"), L.Dropout(0.5, seed=1, name="drop"),
                              L.Dense(10, name="logits")])
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_training_with_probes_leaves_model_weights_bit_identical():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(48, 6, 6, 1)).astype("float32"), rng.integers(0, 10, 48)
    alone = dropout_net()
    alone.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    model = dropout_net()
    probed = probes.attach_probes(model, reduction="random_subset", n_features=20)
    probed.compile(probe_optimizer=keras.optimizers.Adam(1e-2))
    before = [w.numpy() for w in probed.trainable_variables]
    history = probed.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(alone.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert all(not np.array_equal(a, b.numpy()) for a, b in zip(before, probed.trainable_variables))
    assert "probe_relu_error" in history.history and "loss" in history.history


def test_random_subset_as_large_as_the_layer_equals_flatten(pixels):
    x, _ = pixels
    model = small_convnet()
    flat = probes.attach_probes(model, reduction="flatten", seed=3)
    subset = probes.attach_probes(model, reduction="random_subset", n_features=10**6, seed=3)
    for a, b in zip(flat.features(x[:4]), subset.features(x[:4])):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(flat.probe_logits(x[:4]), subset.probe_logits(x[:4])):
        np.testing.assert_array_equal(a, b)
    small = probes.attach_probes(model, layers=["conv1_relu"], reduction="random_subset", n_features=50, seed=4)
    indices = small.reducers[0].indices.numpy()
    assert len(np.unique(indices)) == 50 and np.all(np.diff(indices) > 0) and indices.max() < 28 * 28 * 3
    again = probes.attach_probes(model, layers=["conv1_relu"], reduction="random_subset", n_features=50, seed=4)
    np.testing.assert_array_equal(again.reducers[0].indices.numpy(), indices)
    features = model.intermediate_outputs(x[:2])["conv1_relu"].numpy().reshape(2, -1)[:, indices]
    np.testing.assert_array_equal(small.features(x[:2])[0], features)


def test_functional_models_and_global_pooling():
    L = keras.layers
    inputs = keras.Input((8, 8, 2))
    h = L.Conv2D(5, 3, name="conv")(inputs)
    skip = L.Conv2D(5, 3, name="side")(inputs)
    h = L.Add(name="add")([L.ReLU(name="relu")(h), skip])
    model = keras.Model(inputs, L.Dense(3, name="head")(L.Flatten(name="flat")(h)))
    probed = probes.attach_probes(model, layers=["input", "conv", "add"], reduction="global_pool")
    assert [p.kernel.shape[0] for p in probed.probes] == [2, 5, 5]
    x = np.random.default_rng(0).normal(size=(3, 8, 8, 2)).astype("float32")
    pooled = keras.Model(inputs, model.get_layer("add").output)(x).numpy().mean(axis=(1, 2))
    np.testing.assert_allclose(probed.features(x)[2], pooled, rtol=1e-6)
    with pytest.raises(InputError, match="no layer 'nope'"):
        probes.attach_probes(model, layers=["nope"])

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(3)

        def call(self, x):
            return self.dense(x)

    sub = Subclassed()
    sub(np.zeros((1, 4), "float32"))
    with pytest.raises(InputError, match="taps"):
        probes.attach_probes(sub)
    tapped = probes.attach_probes(sub, layers=["in", "out"], num_classes=3,
                                  taps=lambda x: {"in": x, "out": sub.dense(x)})
    out = tapped(np.ones((2, 4), "float32"))
    assert set(out) == {"output", "probe_in", "probe_out"}
    assert [p.kernel.shape[0] for p in tapped.probes] == [4, 3]


def separable(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype("float32")
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64")


def two_layer_model():
    keras.utils.set_random_seed(0)
    L = keras.layers
    return keras.Sequential([keras.Input((2,)), L.Dense(16, name="hidden"), L.ReLU(name="relu"), L.Dense(2, name="out")])


def test_posthoc_probes_on_a_frozen_model():
    train, valid, test = separable(300, 0), separable(200, 1), separable(200, 2)
    model = two_layer_model()
    weights = model.get_weights()
    probed = probes.attach_probes(model, layers=["input", "relu"])
    results = probes.fit_probes_posthoc(probed, train, valid, test, epochs=30, batch_size=32, learning_rate=0.05)
    assert results["input"]["test_error"] <= 0.02  # the labels are linear in the input
    assert results["input"]["num_features"] == 2 and results["relu"]["num_features"] == 16
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    measured = probed.evaluate_probes(*test)
    assert measured["input"]["error"] == pytest.approx(results["input"]["test_error"])
    assert measured["relu"]["cross_entropy"] == pytest.approx(results["relu"]["test_cross_entropy"], rel=1e-5)


def test_probe_monitor_records_errors_and_early_stops_on_validation():
    train, valid, test = separable(256, 0), separable(100, 1), separable(100, 2)
    model = two_layer_model()
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    probed = probes.attach_probes(model, layers=["input", "relu", "out"])
    probed.compile(probe_optimizer=keras.optimizers.SGD(0.5))
    monitor = probes.ProbeMonitor({"validation": valid, "test": test}, measure_at_start=True)
    probed.fit(*train, batch_size=32, epochs=3, verbose=0, callbacks=[monitor])
    assert monitor.epochs == [0, 1, 2, 3] and len(monitor.history["test"]["relu"]) == 4
    final = probed.evaluate_probes(*test)
    assert monitor.history["test"]["relu"][-1] == pytest.approx(final["relu"])
    for row in monitor.table():
        errors = [r["error"] for r in monitor.history["validation"][row["layer"]]]
        assert row["validation_error"] == min(errors)
        assert row["epoch"] == monitor.epochs[int(np.argmin(errors))]
        assert row["test_error"] == monitor.history["test"][row["layer"]][int(np.argmin(errors))]["error"]
    # on a frozen model the early-stopped probe weights are restored at the end
    frozen = probes.attach_probes(two_layer_model(), layers=["input", "relu"])
    frozen.compile(probe_optimizer=keras.optimizers.SGD(2.0), train_base=False)
    monitor = probes.ProbeMonitor({"validation": valid}, restore_best=True)
    frozen.fit(*train, batch_size=32, epochs=3, verbose=0, callbacks=[monitor])
    for row in monitor.table():
        now = frozen.evaluate_probes(*valid)[row["layer"]]
        assert now["error"] == pytest.approx(row["validation_error"])
        assert now["cross_entropy"] == pytest.approx(row["validation_cross_entropy"], rel=1e-5)


def test_savedmodel_returns_output_and_every_probe(tmp_path, pixels):
    x, _ = pixels
    model = small_convnet()
    probed = probes.attach_probes(model, layers=["input", "pool1", "fc1_relu"], reduction="random_subset",
                                  n_features=30, seed=2)
    probes.fit_probes_posthoc(probed, (x[:32], pixels[1][:32]), (x[32:], pixels[1][32:]), epochs=1)
    path = probes.export_probed(probed, str(tmp_path / "probed"))
    expected = probed(x[:3])
    assert set(expected) == {"output", "probe_input", "probe_pool1", "probe_fc1_relu"}
    np.testing.assert_allclose(expected["output"], model(x[:3]), rtol=1e-6)
    np.testing.assert_allclose(np.sum(expected["probe_pool1"], -1), 1.0, rtol=1e-5)
    np.save(tmp_path / "x.npy", x[:3])
    out = testing.run_in_fresh_python(f"""
        import json, numpy as np, tensorflow as tf
        loaded = tf.saved_model.load({path!r})
        result = loaded.serve(tf.constant(np.load({str(tmp_path / 'x.npy')!r})))
        print(json.dumps({{k: np.asarray(v).tolist() for k, v in result.items()}}))
    """, block_tfzoo=True)
    reloaded = json.loads(out.strip().splitlines()[-1])
    assert set(reloaded) == set(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(reloaded[key], value, rtol=1e-5, atol=1e-6)
    assert os.path.isdir(path)
