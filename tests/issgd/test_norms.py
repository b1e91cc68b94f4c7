"""Proposition 3 (003 lines 2495–2511, 2775–2824) against per-example gradients formed explicitly."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfzoo.issgd import norms
from tfzoo.issgd.models import ISSGDClassifier


def loop_grad_norms(model, x, y, loss_fn):
    """‖∇_θ L_n‖ one example at a time: the definition, for reference."""
    out = []
    for n in range(len(x)):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(loss_fn(y[n:n + 1], model(x[n:n + 1], training=False)))
        grads = tape.gradient(loss, model.trainable_variables)
        out.append(np.sqrt(sum(np.sum(np.square(g)) for g in grads)))
    return np.array(out)


@pytest.fixture(scope="module")
def mlp():
    keras.utils.set_random_seed(0)
    model = ISSGDClassifier(hidden_units=(12, 9, 7), input_shape=(5,), num_classes=4, input_scale=1.0)
    model.build_from_preset()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 5)).astype("float32")
    y = rng.integers(0, 4, 10)
    return model, x, y, norms.per_example_loss(model, keras.losses.SparseCategoricalCrossentropy(from_logits=True))


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_prop3_equals_vectorized_per_example_norms(mlp, reduction):
    model, x, y, loss_fn = mlp
    prop3 = np.asarray(norms.dense_grad_norms(model, x, y, loss_fn, loss_reduction=reduction))
    vectorized = np.asarray(norms.vectorized_grad_norms(model, x, y, loss_fn))
    np.testing.assert_allclose(prop3, vectorized, rtol=1e-5)
    np.testing.assert_allclose(vectorized, loop_grad_norms(model, x, y, loss_fn), rtol=1e-5)


def test_prop3_with_fused_activations_and_no_bias_in_a_sequential_model():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"),
                              keras.layers.Dense(5, activation="relu", use_bias=False),
                              keras.layers.Dense(3, activation="softmax")])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(9, 6)).astype("float32")
    y = rng.integers(0, 3, 9)
    loss_fn = norms.per_example_loss(model, "sparse_categorical_crossentropy")
    np.testing.assert_allclose(norms.dense_grad_norms(model, x, y, loss_fn),
                               loop_grad_norms(model, x, y, loss_fn), rtol=1e-5)


def test_convolutions_need_the_vectorized_path():
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(3, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(4)])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 4, 6)
    loss_fn = norms.per_example_loss(model)
    with pytest.raises(norms.NotDenseChainError, match="Conv2D"):
        norms.dense_grad_norms(model, x, y, loss_fn)
    auto = norms.grad_norm_function(model, "auto")
    np.testing.assert_allclose(auto(x, y), loop_grad_norms(model, x, y, loss_fn), rtol=1e-5)


def test_exported_endpoint_function_is_prop3_of_the_cross_entropy(mlp):
    model, x, y, loss_fn = mlp
    np.testing.assert_allclose(model.per_example_grad_norms(x, y.astype("int64")),
                               norms.vectorized_grad_norms(model, x, y, loss_fn), rtol=1e-5)
    with pytest.raises(ValueError, match=r"labels y must have shape \(None,\)"):
        model.per_example_grad_norms(x, y[:, None])
