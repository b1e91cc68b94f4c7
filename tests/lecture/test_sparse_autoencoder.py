"""The sparse auto-encoder of 002_e592b05206285d1e.txt L532-578."""

import keras
import numpy as np
import pytest
import tensorflow_probability as tfp

from tfzoo.lecture.sparse_autoencoder import SparseAutoencoder, kl_sparsity_penalty
from tfzoo.recipe import Recipe

tfd = tfp.distributions


def test_penalty_equals_tfp_kl_between_bernoullis():
    rho, rho_hat = 0.05, np.array([0.2, 0.01, 0.05, 0.5, 0.93])
    expected = tfd.kl_divergence(tfd.Bernoulli(probs=np.float64(rho)), tfd.Bernoulli(probs=rho_hat))
    np.testing.assert_allclose(kl_sparsity_penalty(rho, rho_hat), np.sum(expected), rtol=1e-6)
    assert float(kl_sparsity_penalty(rho, np.array([0.2]))) == pytest.approx(0.093943, abs=1e-6)
    assert abs(float(kl_sparsity_penalty(rho, np.full(7, rho)))) < 1e-15  # zero iff rho_hat = rho (L539)


def test_objective_uses_the_batch_mean_activation_or_the_running_estimate():
    x = np.random.default_rng(0).uniform(0, 1, (16, 10)).astype("float32")
    batch = SparseAutoencoder(input_shape=(10,), hidden_units=4, rho=0.1, input_scale=1.0)
    batch.build_from_preset()
    reconstruction, penalty, rho_hat = batch.objective(x)
    hidden = batch.encode(x).numpy()
    np.testing.assert_allclose(rho_hat, hidden.mean(0), rtol=1e-6)
    np.testing.assert_allclose(penalty, kl_sparsity_penalty(0.1, hidden.mean(0)), rtol=1e-6)
    x_hat = batch(x).numpy()
    np.testing.assert_allclose(reconstruction, 0.5 * np.mean(np.sum((x - x_hat) ** 2, -1)), rtol=1e-5)
    running = SparseAutoencoder(input_shape=(10,), hidden_units=4, rho=0.1, input_scale=1.0,
                                rho_hat_mode="running", running_decay=0.9)
    running.build_from_preset()
    running.encoder.set_weights(batch.encoder.get_weights())
    running.running_rho_hat.assign(np.full(4, 0.3, "float32"))
    _, _, rho_hat_running = running.objective(x)
    np.testing.assert_allclose(rho_hat_running, 0.9 * 0.3 + 0.1 * hidden.mean(0), rtol=1e-6)


def test_trained_mean_activation_is_close_to_rho():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    # synthetic 10x10 "patches" (L524): smooth random images in [0, 1]
    basis = rng.normal(size=(12, 100))
    x = 1 / (1 + np.exp(-(rng.normal(size=(2000, 12)) @ basis) / 3))
    model = SparseAutoencoder(input_shape=(100,), hidden_units=25, rho=0.05, beta=3.0, input_scale=1.0)
    model.build_from_preset()
    model.compile_from_recipe(Recipe(optimizer="adam", learning_rate=1e-2))
    model.fit(x.astype("float32"), batch_size=100, epochs=6, verbose=0)
    mean_activation = model.encode(x.astype("float32")).numpy().mean(0)
    assert abs(mean_activation.mean() - 0.05) < 0.01
    assert np.all(np.abs(mean_activation - 0.05) < 0.02)


def test_max_activating_inputs_are_unit_norm_maximisers():
    # L572: among inputs with ||x|| <= 1 the pre-activation W_i x is largest at x = W_i / ||W_i||.
    model = SparseAutoencoder(input_shape=(100,), hidden_units=6, input_scale=1.0)
    model.build_from_preset()
    best = model.max_activating_inputs()
    np.testing.assert_allclose(np.linalg.norm(best, axis=1), 1.0, rtol=1e-6)
    w = np.asarray(model.encoder.kernel).T
    others = np.random.default_rng(1).normal(size=(1000, 100))
    others /= np.linalg.norm(others, axis=1, keepdims=True)
    assert np.all(np.sum(w * best, 1)[:, None] >= (w @ others.T).max(1, keepdims=True))


def test_fit_step_is_sgd_on_the_objective_and_updates_the_running_estimate():
    """One ``fit`` step (Keras's step on ``compute_loss``): the weights move by ``-lr ∇(J + beta KL)``
    at the old weights, the running ``rho_hat`` becomes that step's estimate, and the logs hold the loss
    and its two terms."""
    import tensorflow as tf

    x = np.random.default_rng(2).uniform(0, 1, (16, 10)).astype("float32")
    model = SparseAutoencoder(input_shape=(10,), hidden_units=4, rho=0.1, beta=2.0, input_scale=1.0,
                              rho_hat_mode="running", running_decay=0.9)
    model.build_from_preset()
    model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=False)
    with tf.GradientTape() as tape:
        reconstruction, penalty, rho_hat = model.objective(x)
        loss = reconstruction + 2.0 * penalty
    expected = [v.numpy() - 0.1 * g.numpy() for v, g in zip(model.trainable_variables,
                                                             tape.gradient(loss, model.trainable_variables))]
    history = model.fit(x, batch_size=16, epochs=1, verbose=0, shuffle=False).history
    for v, e in zip(model.trainable_variables, expected):
        np.testing.assert_allclose(v.numpy(), e, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.running_rho_hat.numpy(), rho_hat, rtol=1e-6)
    assert history["loss"][0] == pytest.approx(float(loss), rel=1e-5)
    assert history["reconstruction"][0] == pytest.approx(float(reconstruction), rel=1e-5)
    assert history["sparsity_penalty"][0] == pytest.approx(float(penalty), rel=1e-5)
