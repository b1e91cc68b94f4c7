"""ShadowNet: the shadow sample of P618 and its variants (eqs. 27, 28), and the SHADOW loss (P232)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfzoo.classifiers.models import MLPClassifier
from tfzoo.errors import InputError
from tfzoo.reversible.models import ShadowNet, SyntheticTestError, box_smooth_3x3

SHAPE = (6, 6, 1)


def make(weights_from=None, **overrides):
    """A small ShadowNet; ``weights_from``: another one whose weights it copies."""
    config = dict(hidden_units=(16, 12), dropout=0.0, input_shape=SHAPE, seed=1)
    config.update(overrides)
    model = ShadowNet(**config)
    model.build_from_preset()
    if weights_from is not None:
        for target, source in zip(model.trainable_variables, weights_from.trainable_variables):
            target.assign(source)
    return model


def batch(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (n, *SHAPE)).astype("float32"), rng.integers(0, 10, n)


def kernels(model):
    return [np.asarray(layer.kernel, np.float64) for layer in model.dense_layers]


def relu(v):
    return np.maximum(v, 0.0)


def numpy_shadow(model, x, from_logits=False):
    """P618 by hand: h̃₂ forward, then h₁ = r(W₂h̃₂), x′ = r(W₁h₁), in raw units."""
    h1, h2 = (np.asarray(a, np.float64) for a in model.hidden(x))
    w1, w2, w3 = kernels(model)
    top = h2
    if from_logits:
        top = relu((h2 @ w3 + np.asarray(model.dense_layers[-1].bias)) @ w3.T)
    return (relu(relu(top @ w2.T) @ w1.T) / model.input_scale).reshape(x.shape)


def cross_entropy(logits, y):
    logits = logits - logits.max(1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), y])


def test_shadow_sample_is_the_reversed_net_without_biases():
    model, (x, _) = make(), batch()
    np.testing.assert_allclose(model.shadow_sample(x), numpy_shadow(model, x), rtol=1e-4, atol=1e-3)
    assert np.all(np.asarray(model.shadow_sample(x)) >= 0)
    from_logits = make(shadow_from="logits")
    np.testing.assert_allclose(from_logits.shadow_sample(x), numpy_shadow(from_logits, x, True),
                               rtol=1e-4, atol=1e-3)


def test_sampling_variant_drops_half_of_every_generated_layer_reproducibly():
    base = make(hidden_units=(400, 300))
    sampled = make(base, hidden_units=(400, 300), sampling_keep_prob=0.5)
    x, _ = batch(32)
    base_nonzero = np.mean(np.asarray(base.shadow_sample(x)) > 0)
    sample = np.asarray(sampled.shadow_sample(x, seed=3))
    assert np.mean(sample > 0) == pytest.approx(0.5 * base_nonzero, abs=0.08)
    np.testing.assert_array_equal(sample, sampled.shadow_sample(x, seed=3))
    assert not np.array_equal(sample, sampled.shadow_sample(x, seed=4))


def test_smoothing_is_a_3x3_box_filter():
    images = np.random.default_rng(1).normal(size=(2, 5, 7, 2)).astype("float32")
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=np.nan)
    expected = np.stack([np.stack([np.nanmean(padded[:, i:i + 3, j:j + 3], axis=(1, 2)) for j in range(7)], 1)
                         for i in range(5)], 1)
    np.testing.assert_allclose(box_smooth_3x3(images), expected, rtol=1e-5, atol=1e-6)
    model = make()
    smoothed = make(model, smooth=True)
    x, _ = batch()
    np.testing.assert_allclose(smoothed.shadow_sample(x), box_smooth_3x3(model.shadow_sample(x)), rtol=1e-4, atol=1e-3)


def test_scale_options():
    x, _ = batch()
    matched = make(scale="match_norm")
    norms = lambda a: np.linalg.norm(np.reshape(a, (len(a), -1)), axis=1)  # noqa: E731
    np.testing.assert_allclose(norms(matched.shadow_sample(x)), norms(x), rtol=1e-4)
    base = make()
    alpha = make(base, scale="alpha")
    # eq. (1): α = 2/(ρn) per generated layer (ρ = 1): widths 16 (h₁) then 36 (x′).
    np.testing.assert_allclose(alpha.shadow_sample(x), np.asarray(base.shadow_sample(x)) * (2 / 16) * (2 / 36),
                               rtol=1e-4, atol=1e-4)


def test_loss_is_real_plus_lambda_times_synthetic_and_no_gradient_flows_through_x_prime():
    model, (x, y) = make(shadow_weight=0.5), batch()
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss=keras.losses.SparseCategoricalCrossentropy(True),
                  jit_compile=False)
    x_syn = numpy_shadow(model, x).astype("float32")    # a constant: no gradient through x′
    before = [np.array(v) for v in model.trainable_variables]
    with tf.GradientTape() as tape:
        real = keras.losses.sparse_categorical_crossentropy(y, model(x), from_logits=True)
        synthetic = keras.losses.sparse_categorical_crossentropy(y, model(x_syn), from_logits=True)
        expected = tf.reduce_mean(real) + 0.5 * tf.reduce_mean(synthetic)
    gradients = tape.gradient(expected, model.trainable_variables)
    expected_by_hand = cross_entropy(np.asarray(model(x), np.float64), y) + 0.5 * cross_entropy(
        np.asarray(model(x_syn), np.float64), y)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert logs["loss"] == pytest.approx(expected_by_hand, rel=1e-5)
    assert logs["shadow_loss"] == pytest.approx(float(tf.reduce_mean(synthetic)), rel=1e-5)
    for variable, old, gradient in zip(model.trainable_variables, before, gradients):
        np.testing.assert_allclose(np.array(variable), old - np.asarray(gradient), rtol=1e-4, atol=1e-6)


def test_generator_gradient_option_backpropagates_through_x_prime():
    x, y = batch()
    gradients, base = {}, make()
    for flag in (False, True):
        model = make(base, generator_gradient=flag)
        with tf.GradientTape() as tape:
            x_syn, y_syn = model.synthetic_batch(x, y, tf.constant([0, 0], tf.int64))
            logits, _ = model.forward_scaled(x_syn)
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y_syn, logits, from_logits=True))
        gradients[flag] = np.asarray(tape.gradient(loss, model.dense_layers[0].kernel))
    model = base
    with tf.GradientTape() as tape:  # the stopped version equals feeding x′ as data
        logits, _ = model.forward_scaled(tf.constant(numpy_shadow(model, x) * model.input_scale, tf.float32))
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
    np.testing.assert_allclose(gradients[False], tape.gradient(loss, model.dense_layers[0].kernel), rtol=1e-3, atol=1e-6)
    assert not np.allclose(gradients[False], gradients[True], rtol=1e-3, atol=1e-6)


def test_lambda_zero_reproduces_plain_mlp_training_with_dropout():
    x, y = batch(24)
    config = dict(hidden_units=(16, 12), dropout=0.5, input_shape=SHAPE, seed=7)
    shadow_net, plain = ShadowNet(shadow_weight=0.0, **config), MLPClassifier(**config)
    for model in (shadow_net, plain):
        model.build_from_preset()
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.SparseCategoricalCrossentropy(True),
                      jit_compile=False)
    for target, source in zip(plain.trainable_variables, shadow_net.trainable_variables):
        target.assign(source)
    for model in (shadow_net, plain):
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(shadow_net.trainable_variables, plain.trainable_variables):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-6, atol=1e-7)


def test_predicted_labels_and_synthetic_test_error_callback():
    model, (x, y) = make(synthetic_label="predicted"), batch()
    _, y_syn = model.synthetic_batch(x, y, tf.constant([0, 0], tf.int64))
    np.testing.assert_array_equal(y_syn, np.argmax(model(x), -1))
    callback = SyntheticTestError(x, y, batch_size=3)
    real, synthetic = callback.errors(model)
    assert real == pytest.approx(np.mean(np.argmax(model(x), -1) != y))
    assert synthetic == pytest.approx(np.mean(np.argmax(model(numpy_shadow(model, x)), -1) != y))


def test_bad_inputs_and_options_are_named():
    model = make()
    with pytest.raises(InputError, match=r"\(None, 6, 6, 1\)"):
        model.shadow_sample(np.zeros((2, 36), "float32"))
    with pytest.raises(ValueError, match="shadow_from"):
        ShadowNet(shadow_from="h7")
    with pytest.raises(ValueError, match="smooth"):
        ShadowNet(input_shape=(784,), smooth=True)


def test_endpoints_and_result_figure():
    """``shadow_sample(x, seed: int32[])`` is declared with the one seed convention, its example inputs
    derive from the declaration, and the family's panel shows test images above their shadow samples
    (Arora, Liang & Ma 2016, Fig. 2)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tfzoo import testing
    from tfzoo.plotting import family_panel

    model = make(sampling_keep_prob=0.5)
    endpoints = model.endpoints()
    assert sorted(endpoints) == ["hidden", "serve", "shadow_sample"]
    assert [(a.name, a.spec.shape, a.domain) for a in endpoints["shadow_sample"].args] == [
        ("x", (None, *SHAPE), "data"), ("seed", (), "seed")]
    x, seed = testing.example_inputs(model, seed=1)["shadow_sample"]
    np.testing.assert_array_equal(endpoints["shadow_sample"].fn(x, seed), model.shadow_sample(x, int(seed)))
    fig, ax = plt.subplots()
    assert family_panel(model, ax, {"test": batch(8)})
    plt.close(fig)
