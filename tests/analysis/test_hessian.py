"""Hessian tools (003 chapter 11): HVP = dense Hessian × v, symmetry, eigenpairs, eq. (11.1)–(11.2), SLQ."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfzoo.analysis import hessian
from tfzoo.errors import InputError


def tanh_net(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((3,), dtype="float64"), keras.layers.Dense(5, activation="tanh", dtype="float64"),
                             keras.layers.Dense(3, dtype="float64")])


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.integers(0, 3, n)


def tape_hessian(model, x, y):
    """The dense Hessian of the mean cross-entropy by reverse-over-reverse tf.GradientTape.jacobian."""
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = tf.reduce_mean(hessian.sparse_softmax_cross_entropy(y, model(x)))
        grads = inner.gradient(loss, model.trainable_variables)
        flat = tf.concat([tf.reshape(g, [-1]) for g in grads], 0)
    blocks = outer.jacobian(flat, model.trainable_variables)
    return np.concatenate([np.reshape(b, (flat.shape[0], -1)) for b in blocks], axis=1)


@pytest.fixture(scope="module")
def problem():
    model = tanh_net()
    x, y = data()
    op = hessian.HessianOperator(model, x, y, batch_size=16)
    return model, x, y, op, tape_hessian(model, x, y)


def test_hvp_equals_dense_hessian_times_v(problem):
    model, x, y, op, H = problem
    rng = np.random.default_rng(1)
    for _ in range(3):
        v = rng.normal(size=op.dimension)
        np.testing.assert_allclose(op.hvp(v), H @ v, rtol=1e-8, atol=1e-12)
    summed = hessian.HessianOperator(model, x, y, reduction="sum", batch_size=7)
    np.testing.assert_allclose(summed.hvp(v), len(x) * (H @ v), rtol=1e-8, atol=1e-12)


def test_hvp_is_symmetric_and_matches_gradient_differences(problem):
    _, _, _, op, _ = problem
    rng = np.random.default_rng(2)
    u, v = rng.normal(size=(2, op.dimension))
    np.testing.assert_allclose(u @ op.hvp(v), v @ op.hvp(u), rtol=1e-10)
    theta, h = op.get_parameters(), 1e-5
    central = (op.loss_and_gradient_at(theta + h * v)[1] - op.loss_and_gradient_at(theta - h * v)[1]) / (2 * h)
    np.testing.assert_allclose(op.hvp(v), central, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(op.get_parameters(), theta)


@pytest.mark.parametrize("which", ["LA", "SA"])
def test_eigenpairs_equal_numpy_eigh(problem, which):
    _, _, _, op, H = problem
    values, vectors = np.linalg.eigh(H)
    order = np.argsort(-values) if which == "LA" else np.argsort(values)
    for found in (hessian.extreme_eigenpairs(op, 3, which),
                  hessian.lanczos_eigenpairs(op, 3, which, num_steps=op.dimension)):
        np.testing.assert_allclose(found.values, values[order[:3]], rtol=1e-6, atol=1e-10)
        cosines = np.abs(np.sum(found.vectors * vectors[:, order[:3]], axis=0))
        assert np.all(cosines > 0.999), cosines


def test_operator_does_not_depend_on_batching(problem):
    model, x, y, op, _ = problem
    v = np.random.default_rng(3).normal(size=op.dimension)
    other = hessian.HessianOperator(model, x, y, batch_size=40)
    np.testing.assert_allclose(other.hvp(v), op.hvp(v), rtol=1e-12, atol=1e-15)
    assert other.loss() == pytest.approx(op.loss(), rel=1e-13)


def linear_regression(seed=0):
    """Mean squared error of a linear model: an exact quadratic in θ with H = 2 [X 1]^T [X 1] / N."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,), dtype="float64"), keras.layers.Dense(1, dtype="float64")])
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(50, 3)) * np.array([3.0, 1.0, 0.3])
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=50)
    loss = lambda t, p: tf.square(tf.reshape(p, [-1]) - tf.cast(t, p.dtype))  # noqa: E731
    return model, x, y, hessian.HessianOperator(model, x, y, loss_fn=loss)


def test_line_search_on_a_quadratic_gives_alpha_star_equal_to_one_over_lambda():
    model, x, y, op = linear_regression()
    design = np.concatenate([x, np.ones((len(x), 1))], 1)
    np.testing.assert_allclose(op.dense(), 2 * design.T @ design / len(x), rtol=1e-10)
    pairs = hessian.extreme_eigenpairs(op, 3, "LA")
    theta = op.get_parameters()
    for lam, v in zip(pairs.values, pairs.vectors.T):
        alphas = np.geomspace(1e-3, 1e2, 31)
        search = hessian.eigendirection_line_search(op, v, alphas)
        assert search.best_alpha == pytest.approx(1 / lam, rel=1e-5)
        np.testing.assert_allclose(search.losses, search.quadratic_prediction, rtol=1e-9)
        flipped = hessian.eigendirection_line_search(op, -v, alphas)
        np.testing.assert_allclose(flipped.losses, search.losses, rtol=1e-12)
        assert search.curvature == pytest.approx(lam, rel=1e-8)
    np.testing.assert_array_equal(op.get_parameters(), theta)


def test_slq_is_gauss_quadrature():
    _, _, _, op = linear_regression()
    H = op.dense()
    nodes, weights = hessian.spectral_density(op, num_steps=3, num_probes=2, seed=5)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-12)
    rng = np.random.default_rng(5)
    for row in range(2):
        v = rng.choice([-1.0, 1.0], size=op.dimension)
        for power in range(6):  # exact for polynomials of degree < 2m = 6
            exact = v @ np.linalg.matrix_power(H, power) @ v / (v @ v)
            assert np.sum(weights[row] * nodes[row] ** power) == pytest.approx(exact, rel=1e-8)
    full_nodes, full_weights = hessian.spectral_density(op, num_steps=op.dimension, num_probes=1)
    np.testing.assert_allclose(np.sort(full_nodes[0]), np.linalg.eigvalsh(H), rtol=1e-8)
    grid = np.linspace(-5, 60, 4001)
    density = hessian.density_on_grid(full_nodes, full_weights, grid, sigma=0.5)
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-3)


def test_hessian_spectrum_callback_records_extreme_eigenvalues():
    model = tanh_net(1)
    x, y = data(32, seed=1)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    monitor = hessian.HessianSpectrum(x, y, k_largest=2, k_smallest=1, every_n_batches=2, tol=0)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[monitor])
    assert [r["step"] for r in monitor.records] == [0, 2, 4]
    op = hessian.HessianOperator(model, x, y)
    np.testing.assert_allclose(monitor.records[-1]["LA"], hessian.extreme_eigenpairs(op, 2, "LA").values, rtol=1e-6)
    np.testing.assert_allclose(monitor.records[-1]["SA"], hessian.extreme_eigenpairs(op, 1, "SA").values, rtol=1e-6)
    assert monitor.records[-1]["loss"] == pytest.approx(op.loss(), rel=1e-12)


def test_bad_inputs_raise_clear_errors(problem):
    model, x, y, op, _ = problem
    with pytest.raises(InputError, match="reduction"):
        hessian.HessianOperator(model, x, y, reduction="median")
    with pytest.raises(InputError, match="flat vector"):
        op.hvp(np.zeros(3))
    with pytest.raises(InputError, match="which"):
        hessian.extreme_eigenpairs(op, 2, "XX")
    sub_x, sub_y = hessian.subset(x, y, fraction=0.05 * 5, seed=3)
    again_x, _ = hessian.subset(x, y, fraction=0.25, seed=3)
    assert len(sub_x) == 10 and np.array_equal(sub_x, again_x)
