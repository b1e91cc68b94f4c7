"""VAE (thesis 004 L1197-1302, Observation 1 at L1420-1444) on a linear-Gaussian model where
log p(x), the true posterior and the ELBO are known in closed form."""

import numpy as np
import pytest
import tensorflow as tf

from tfzoo import testing
from tfzoo.errors import InputError
from tfzoo.probabilistic.vae import VAE, standard_normal_entropy

D, DZ = 4, 2


@pytest.fixture(scope="module")
def toy():
    """An affine encoder and an affine Gaussian decoder with correlated columns (so the true
    posterior is far from mean-field and every bound is strict)."""
    vae = VAE(input_shape=(D,), hidden_units=(), latent_dim=DZ, likelihood="gaussian", seed=3)
    decoder = vae.decoder_layers[0]
    decoder.kernel.assign(np.array([[2.0, 1.5, 1.0, -0.5], [1.8, 1.2, 1.3, -0.2]], "float32"))
    decoder.bias.assign(np.array([0.1, -0.2, 0.3, 0.0], "float32"))
    vae.decoder_log_scale.assign(np.log(np.array([0.5, 0.7, 0.6, 0.9], "float32")))
    x = np.random.default_rng(0).normal(size=(5, D)).astype("float32")
    return vae, x


def closed_form_elbo(vae, x):
    """-L_ELBO = E_q[log p(x|z)] - KL(q || N(0, I)) for the affine Gaussian decoder, exactly."""
    loc, log_scale = vae.encode(x)
    kernel, bias = vae.decoder_layers[0].kernel, vae.decoder_layers[0].bias
    variance = tf.exp(2 * vae.decoder_log_scale)
    mean = tf.matmul(loc, kernel) + bias
    spread = tf.matmul(tf.exp(2 * log_scale), tf.square(kernel))           # Var_q of the decoder mean
    reconstruction = tf.reduce_sum(-0.5 * tf.math.log(2 * np.pi * variance)
                                   - (tf.square(x - mean) + spread) / (2 * variance), -1)
    kl = 0.5 * tf.reduce_sum(tf.exp(2 * log_scale) + tf.square(loc) - 1 - 2 * log_scale, -1)
    return reconstruction - kl


def exact_posterior(vae, x):
    """p(z | x) = N(Sigma K diag(1/s^2) (x - b), Sigma), Sigma = (I + K diag(1/s^2) K^T)^-1."""
    kernel = vae.decoder_layers[0].kernel.numpy().astype(np.float64)
    bias = vae.decoder_layers[0].bias.numpy()
    precision_x = np.exp(-2 * vae.decoder_log_scale.numpy().astype(np.float64))
    covariance = np.linalg.inv(np.eye(DZ) + (kernel * precision_x) @ kernel.T)
    means = (x - bias) * precision_x @ kernel.T @ covariance
    return means, covariance


def test_elbo_estimator_matches_closed_form(toy):
    vae, x = toy
    terms = vae.elbo_terms(x, tf.random.stateless_normal([20000, len(x), DZ], seed=[0, 0])).numpy()
    standard_error = terms.std(0) / np.sqrt(len(terms))
    assert np.all(np.abs(terms.mean(0) - closed_form_elbo(vae, x).numpy()) < 4 * standard_error + 1e-3)
    np.testing.assert_allclose(vae.elbo(x, 3, 5).numpy(), np.mean(vae.elbo_terms(
        x, tf.random.stateless_normal([3, len(x), DZ], seed=[5, 1])).numpy(), 0), rtol=1e-6)


def test_elbo_below_iwae_below_log_p_and_iwae_rises_with_k(toy):
    vae, x = toy
    log_p = vae.linear_gaussian_log_prob(x).numpy()
    elbo = closed_form_elbo(vae, x).numpy()
    repeats = 400
    x_repeated = np.tile(x, (repeats, 1))
    means, errors = [], []
    for k in (1, 5, 50):
        draws = vae.iwae(x_repeated, k, k).numpy().reshape(repeats, len(x))
        means.append(draws.mean(0))
        errors.append(draws.std(0) / np.sqrt(repeats))
    np.testing.assert_allclose(means[0], elbo, atol=4 * errors[0].max())   # IWAE-1 is the ELBO
    assert np.all(elbo < log_p - 0.1)
    for (low, low_err), (high, high_err) in zip(zip(means, errors), zip(means[1:], errors[1:])):
        assert np.all(high - low > 3 * np.hypot(low_err, high_err))       # rises with K
    assert np.all(means[-1] < log_p + 3 * errors[-1])                      # and stays below log p(x)


def test_observation_1(toy):
    """log p(x, eps) = log(p(x,z)/q(z|x)) + log p*(eps) and E_eps[log p(x, eps)] = -L_ELBO - H(p*)."""
    vae, x = toy
    eps = tf.random.stateless_normal([20000, len(x), DZ], seed=[1, 2])
    joint = vae.joint_log_prob_with_noise(x, eps).numpy()
    # the proof's first lines, computed independently: log p(x) + log p(z | x) + sum_k log sigma_k(x)
    loc, log_scale = (t.numpy() for t in vae.encode(x))
    z = loc + np.exp(log_scale) * eps.numpy()
    post_mean, post_cov = exact_posterior(vae, x)
    log_posterior = np.stack([
        _mvn_logpdf(z[:, i], post_mean[i], post_cov) for i in range(len(x))], 1)
    route = vae.linear_gaussian_log_prob(x).numpy() + log_posterior + log_scale.sum(-1)
    np.testing.assert_allclose(joint, route, atol=2e-3)
    expectation = closed_form_elbo(vae, x).numpy() - standard_normal_entropy(DZ)
    standard_error = joint.std(0) / np.sqrt(len(joint))
    assert np.all(np.abs(joint.mean(0) - expectation) < 4 * standard_error + 1e-3)
    assert abs(standard_normal_entropy(1) - 1.41894) < 1e-5


def _mvn_logpdf(z, mean, covariance):
    diff = z - mean
    solved = np.linalg.solve(covariance, diff.T).T
    return -0.5 * (np.sum(diff * solved, -1) + np.log(np.linalg.det(2 * np.pi * covariance)))


def test_reinforce_and_reparametrization_agree_in_mean(toy):
    vae, x = toy
    draws = 3000
    reinforce = vae.encoder_gradient_draws(x[:1], "reinforce", draws, seed=0)
    reparam = vae.encoder_gradient_draws(x[:1], "reparametrization", draws, seed=1)
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(closed_form_elbo(vae, x[:1]))
    exact = [g.numpy() for g in tape.gradient(loss, vae.encoder_variables)]
    variance = {"reinforce": 0.0, "reparametrization": 0.0}
    for r, p, e in zip(reinforce, reparam, exact):
        for name, estimates in (("reinforce", r), ("reparametrization", p)):
            error = estimates.std(0) / np.sqrt(draws)
            assert np.all(np.abs(estimates.mean(0) - e) < 4.5 * error + 1e-4), name   # unbiased
            variance[name] += float(estimates.var(0).sum())
    ratio = variance["reinforce"] / variance["reparametrization"]
    print(f"gradient variance ratio REINFORCE / reparametrization on the toy: {ratio:.1f}")
    assert ratio > 5.0


def test_reinforce_training_step_updates_every_variable():
    vae = VAE(input_shape=(6,), hidden_units=(5,), latent_dim=2, estimator="reinforce", seed=1)
    vae.compile(optimizer="adam")
    before = [v.numpy().copy() for v in vae.trainable_variables]
    logs = vae.train_step(tf.constant(testing.example_batch(vae, 8, 0)))   # one eager step
    assert np.isfinite(float(logs["loss"]))
    assert all(not np.array_equal(v.numpy(), b) for v, b in zip(vae.trainable_variables, before))


@pytest.mark.parametrize("estimator", ["reparametrization", "reinforce"])
def test_fit_loss_is_minus_the_elbo_with_the_estimators_gradient(estimator):
    """``compute_loss`` (what ``fit`` minimises): value ``L_ELBO`` on one draw of eps, gradient that of
    :meth:`surrogate_objective` on the same draw (REINFORCE's differs from ``L_ELBO``'s)."""
    import keras

    vae = VAE(input_shape=(6,), hidden_units=(5,), latent_dim=2, estimator=estimator, seed=2)
    x = tf.constant(testing.example_batch(vae, 8, 1))
    twin = keras.random.SeedGenerator(0)
    twin.state.assign(vae.noise.state)
    eps = keras.random.normal((1, 8, 2), seed=twin)
    with tf.GradientTape(persistent=True) as tape:
        loss = vae.compute_loss(x, y_pred=vae(x, training=True), training=True)
        surrogate = tf.reduce_mean(vae.surrogate_objective(x, eps, estimator))
    np.testing.assert_allclose(loss, -tf.reduce_mean(vae.elbo_terms(x, eps)), rtol=1e-6)
    for g, h in zip(tape.gradient(loss, vae.trainable_variables), tape.gradient(surrogate, vae.trainable_variables)):
        np.testing.assert_allclose(g, h, rtol=1e-5, atol=1e-6)


def test_endpoints_are_stateless_and_bad_input_is_refused(toy):
    vae, x = toy
    np.testing.assert_array_equal(vae.iwae(x, 7, 3).numpy(), vae.iwae(x, 7, 3).numpy())
    np.testing.assert_array_equal(vae.sample(5, 2).numpy(), vae.sample(5, 2).numpy())
    with pytest.raises(InputError, match=r"\(None, 4\)"):
        vae.elbo(np.zeros((2, 3), "float32"), 1, 0)
    with pytest.raises(ValueError, match="affine Gaussian"):
        VAE(input_shape=(4,), hidden_units=(3,), latent_dim=2).linear_gaussian_log_prob(x)


def test_log_prob_is_the_deterministic_iwae_estimate_close_to_exact_log_p(toy):
    vae, x = toy
    estimate = vae.log_prob(x).numpy()
    np.testing.assert_array_equal(estimate, vae.log_prob(x).numpy())            # a function of x
    np.testing.assert_allclose(estimate, vae.iwae(x, vae.log_prob_samples, 0).numpy())
    log_p, elbo = vae.linear_gaussian_log_prob(x).numpy(), closed_form_elbo(vae, x).numpy()
    # IWAE-1000 closes most of the ELBO's gap to the exact log-likelihood here.
    assert np.all(np.abs(estimate - log_p) < 0.2 * (log_p - elbo))
