"""Entropy-SGD (002_e592b05206285d1e.txt L711-751; inner loop: Chaudhari et al. 2016 Alg. 1, EXTERNAL)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfzoo.lecture.entropy_sgd import EntropySGD


def small_model(optimizer):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def regression_data():
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    return x, np.sin(x).sum(1, keepdims=True)


def test_reduces_exactly_to_sgd():
    # L = 1, alpha = 1, no noise, eta * gamma = 1:  x <- x - eta' grad f(x)
    entropy = small_model(EntropySGD(learning_rate=2.0, gamma0=0.5, gamma1=0.0, sgld_learning_rate=0.05,
                                     langevin_steps=1, averaging=1.0, thermal_noise=0.0))
    sgd = small_model(keras.optimizers.SGD(0.05))
    for model in (entropy, sgd):
        model.fit(*regression_data(), batch_size=16, epochs=3, verbose=0, shuffle=False)
    for a, b in zip(entropy.get_weights(), sgd.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def outer_gradient(a, x0, gamma, steps, noise, averaging, sgld_learning_rate=0.05, seed=0):
    """gamma (x - mu) after one outer loop on f(x) = a/2 x^2 (the L732 estimate of -grad F)."""
    v = keras.Variable(np.array([x0], "float32"))
    optimizer = EntropySGD(learning_rate=1.0, sgld_learning_rate=sgld_learning_rate, langevin_steps=steps, gamma0=gamma,
                           gamma1=0.0, thermal_noise=noise, averaging=averaging, seed=seed)
    optimizer.build([v])

    @tf.function
    def run():
        for _ in tf.range(steps):
            optimizer.apply([a * v.value], [v])

    run()
    return x0 - float(v.numpy()[0])  # learning_rate = 1: x_new = x - gamma (x - mu)


def test_quadratic_local_entropy_gradient_matches_closed_form():
    # f = a/2 x'^2: P(x'; x, gamma) = N(gamma x/(a + gamma), 1/(a + gamma)), so -grad F = a gamma x/(a + gamma).
    a, x0, gamma = 4.0, 3.0, 1.0
    estimate = outer_gradient(a, x0, gamma, steps=4000, noise=np.sqrt(2.0), averaging=0.002)
    assert estimate == pytest.approx(a * gamma * x0 / (a + gamma), rel=0.03)


def test_large_scope_recovers_the_gradient_of_f():
    # gamma -> infinity: -grad F -> grad f(x) = a x (L715: "equivalent as gamma -> infinity")
    a, x0, gamma = 4.0, 3.0, 400.0
    estimate = outer_gradient(a, x0, gamma, steps=200, noise=0.0, averaging=0.05, sgld_learning_rate=0.002)
    assert estimate == pytest.approx(a * gamma * x0 / (a + gamma), rel=1e-3)
    assert estimate == pytest.approx(a * x0, rel=0.02)


def test_scoping_schedule_and_model_ends_holding_the_outer_variable():
    optimizer = EntropySGD(learning_rate=0.5, sgld_learning_rate=0.01, langevin_steps=4, gamma0=0.03,
                           gamma1=0.1, thermal_noise=1e-3)
    model = small_model(optimizer)
    x, y = regression_data()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)   # 16 steps = 4 outer updates
    assert int(optimizer.iterations) == 16
    assert float(optimizer.scope()) == pytest.approx(0.03 * 1.1**4, rel=1e-6)
    assert [float(optimizer.scope(t)) for t in range(3)] == pytest.approx([0.03, 0.033, 0.0363], rel=1e-6)
    for variable, anchor in zip(model.trainable_variables, optimizer.anchors):
        np.testing.assert_array_equal(variable.numpy(), anchor.numpy())
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, steps_per_epoch=3)  # stops inside an inner loop
    for variable, anchor in zip(model.trainable_variables, optimizer.anchors):
        np.testing.assert_array_equal(variable.numpy(), anchor.numpy())


def test_optimizer_config_round_trips():
    optimizer = EntropySGD(learning_rate=0.3, langevin_steps=7, gamma1=0.01, momentum=0.9)
    clone = EntropySGD.from_config(optimizer.get_config())
    assert clone.langevin_steps == 7 and clone.gamma1 == 0.01 and clone.momentum == 0.9
    with pytest.raises(ValueError, match="langevin_steps"):
        EntropySGD(langevin_steps=0)
