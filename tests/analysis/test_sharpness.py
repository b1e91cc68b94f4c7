"""Sharp minima (004 chapter 3): α-scale invariance, Theorem 4's transforms, Theorem 5, ε-sharpness."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfzoo.analysis import sharpness
from tfzoo.analysis.hessian import HessianOperator
from tfzoo.errors import InputError


def relu_chain(dtype="float32", seed=0):
    keras.utils.set_random_seed(seed)
    L = keras.layers
    return keras.Sequential([
        keras.Input((6, 6, 1), dtype=dtype), L.Conv2D(2, 3, activation="relu", dtype=dtype),
        L.MaxPooling2D(2, dtype=dtype), L.Conv2D(3, 2, dtype=dtype), L.LeakyReLU(0.1, dtype=dtype),
        L.Flatten(dtype=dtype), L.Dense(4, activation="relu", dtype=dtype), L.Dense(3, dtype=dtype)])


def images(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 6, 6, 1)), rng.integers(0, 3, n)


def randomize_biases(model, seed=1):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if getattr(layer, "use_bias", False):
            layer.bias.assign(rng.normal(size=layer.bias.shape) * 0.3)


def test_alpha_scale_leaves_outputs_unchanged():
    model = relu_chain()
    randomize_biases(model)
    x, _ = images()
    x = x.astype("float32")
    for alphas in ([10.0, 0.1, 5.0, 0.2], [1e-2, 1e2, 1e-1, 1e1]):
        scaled = sharpness.alpha_scale(model, alphas)
        np.testing.assert_allclose(scaled(x), model(x), rtol=1e-5, atol=1e-5)
        assert not np.allclose(scaled.layers[0].kernel.numpy(), model.layers[0].kernel.numpy())
    from tfzoo.classifiers.models import ConvNet

    keras.utils.set_random_seed(0)
    convnet = ConvNet(filters=(2, 3), dense_units=8, dropout=0.5)
    convnet.build_from_preset()
    pixels = np.random.default_rng(2).uniform(0, 255, size=(4, 28, 28, 1)).astype("float32")
    scaled = sharpness.alpha_scale(convnet, [4.0, 0.5, 2.0, 0.25])
    np.testing.assert_allclose(scaled(pixels), convnet(pixels), rtol=1e-5, atol=1e-5)


def test_theorem4_gradient_and_hessian_transforms():
    model = relu_chain("float64")
    randomize_biases(model)
    x, y = images()
    alphas = [3.0, 0.5, 0.25, 8.0 / 3.0]
    scaled = sharpness.alpha_scale(model, alphas)
    op, op_scaled = HessianOperator(model, x, y), HessianOperator(scaled, x, y)
    s = sharpness.scaling_diagonal(model, alphas)
    np.testing.assert_allclose(op_scaled.get_parameters(), op.get_parameters() * s, rtol=1e-14)
    np.testing.assert_allclose(op_scaled.loss(), op.loss(), rtol=1e-12)
    np.testing.assert_allclose(op_scaled.gradient(), op.gradient() / s, rtol=1e-8, atol=1e-14)
    H, H_scaled = op.dense(), op_scaled.dense()
    D = np.diag(1.0 / s)
    np.testing.assert_allclose(H_scaled, D @ H @ D, rtol=1e-8, atol=1e-12)


def test_theorem5_construction_exceeds_M():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,), dtype="float64"), keras.layers.Dense(6, activation="relu", dtype="float64"),
                              keras.layers.Dense(2, dtype="float64")])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype("int64")
    model.compile(optimizer=keras.optimizers.Adam(0.05),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=64, epochs=30, verbose=0)
    op = HessianOperator(model, x, y)
    first_layer = slice(0, int(np.prod(model.layers[0].kernel.shape)))
    before = np.max(np.abs(np.linalg.eigvalsh(op.dense())))
    for M in (1e2, 1e4):
        alpha = sharpness.theorem5_alpha(op, first_layer, M)
        scaled = sharpness.alpha_scale(model, [alpha, 1 / alpha])
        np.testing.assert_allclose(scaled(x), model(x), rtol=1e-9, atol=1e-12)
        spectral = np.max(np.abs(np.linalg.eigvalsh(HessianOperator(scaled, x, y).dense())))
        assert spectral >= M > before


def quadratic_at_minimum():
    """Least squares at its exact minimum: L(θ+δ) − L(θ) = δ^T (H/2) δ exactly."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,), dtype="float64"), keras.layers.Dense(1, dtype="float64")])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)) * np.array([2.0, 1.0, 0.5])
    y = x @ np.array([1.0, -1.0, 2.0]) + 0.5 * rng.normal(size=40)
    design = np.concatenate([x, np.ones((40, 1))], 1)
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    model.layers[0].kernel.assign(solution[:3, None])
    model.layers[0].bias.assign(solution[3:])
    loss = lambda t, p: tf.square(tf.reshape(p, [-1]) - tf.cast(t, p.dtype))  # noqa: E731
    return HessianOperator(model, x, y, loss_fn=loss)


def test_epsilon_sharpness_on_a_quadratic_minimum():
    op = quadratic_at_minimum()
    H = op.dense()
    loss, eps = op.loss(), 0.1
    top = np.max(np.linalg.eigvalsh(H))
    ball = sharpness.epsilon_sharpness(op, eps, "ball", steps=200)
    assert ball.value == pytest.approx(top * eps ** 2 / 2 / (1 + loss), rel=1e-3)  # 004 lines 686-694
    assert np.linalg.norm(ball.perturbation) <= eps * (1 + 1e-12)
    width = eps * (np.abs(op.get_parameters()) + 1)
    corners = np.array(np.meshgrid(*[[-1, 1]] * 4)).reshape(4, -1).T * width
    best_corner = max(0.5 * c @ H @ c for c in corners) / (1 + loss)
    box = sharpness.epsilon_sharpness(op, eps, "box", steps=100)
    assert np.all(np.abs(box.perturbation) <= width * (1 + 1e-12))
    # ascent on a convex function ends at a vertex of the box: a local maximum, a lower bound
    np.testing.assert_allclose(np.abs(box.perturbation), width, rtol=1e-12)
    assert 0.85 * best_corner <= box.value <= best_corner * (1 + 1e-9)
    full = sharpness.epsilon_sharpness(op, eps, "ball", steps=200, subspace_dim=op.dimension)
    assert full.value == pytest.approx(ball.value, rel=1e-3)
    line = sharpness.epsilon_sharpness(op, eps, "ball", steps=50, subspace_dim=1, seed=3)
    assert 0 <= line.value <= ball.value * (1 + 1e-6)


def test_hutchinson_trace_is_unbiased():
    op = quadratic_at_minimum()
    estimate, stderr = sharpness.hutchinson_trace(op, num_samples=400, seed=1)
    assert abs(estimate - np.trace(op.dense())) < 4 * stderr
    assert sharpness.spectral_norm(op) == pytest.approx(np.max(np.abs(np.linalg.eigvalsh(op.dense()))), rel=1e-6)


def test_non_homogeneous_models_are_refused():
    L = keras.layers
    tanh = keras.Sequential([keras.Input((2,)), L.Dense(3, activation="tanh"), L.Dense(2)])
    with pytest.raises(InputError, match="tanh"):
        sharpness.alpha_scale(tanh, [2.0, 0.5])
    sigmoid = keras.Sequential([keras.Input((2,)), L.Dense(3), L.Activation("sigmoid"), L.Dense(2)])
    with pytest.raises(InputError, match="sigmoid"):
        sharpness.alpha_scale(sigmoid, [2.0, 0.5])
    capped = keras.Sequential([keras.Input((2,)), L.Dense(3), L.ReLU(max_value=6.0), L.Dense(2)])
    with pytest.raises(InputError, match="max_value"):
        sharpness.alpha_scale(capped, [2.0, 0.5])
    relu = keras.Sequential([keras.Input((2,)), L.Dense(3, activation="relu"), L.Dense(2, activation="softmax")])
    sharpness.alpha_scale(relu, [2.0, 0.5])  # any activation after the last scaled layer is fine
    with pytest.raises(InputError, match="multiply to 1"):
        sharpness.alpha_scale(relu, [2.0, 2.0])
    with pytest.raises(InputError, match="> 0"):
        sharpness.alpha_scale(relu, [-1.0, -1.0])
    inputs = keras.Input((2,))
    hidden = L.Dense(2, activation="relu")(inputs)
    branch = keras.Model(inputs, L.Dense(2)(L.Add()([hidden, inputs])))
    with pytest.raises(InputError, match="chain"):
        sharpness.alpha_scale(branch, [2.0, 0.5])
