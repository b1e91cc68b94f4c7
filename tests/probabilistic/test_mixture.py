"""Mixture of Gaussians (thesis 004 L1090-1129): log_prob against SciPy, EM monotonicity, sampling."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats
from scipy.special import logsumexp

from tfzoo.datasets import gaussian_mixture_nd
from tfzoo.errors import InputError
from tfzoo.probabilistic.mixture import GaussianMixtureModel


def random_model(covariance, seed=0, k=3, d=2):
    model = GaussianMixtureModel(num_components=k, dim=d, covariance=covariance, seed=seed)
    rng = np.random.default_rng(seed)
    model.mixture_logits.assign(rng.normal(size=k).astype("float32"))
    model.scale_params.assign(0.3 * rng.normal(size=model.scale_params.shape).astype("float32"))
    return model


def scipy_log_prob(model, x):
    weights = tf.nn.softmax(model.mixture_logits).numpy()
    per_component = [np.log(w) + stats.multivariate_normal(m, c).logpdf(x)
                     for w, m, c in zip(weights, model.means.numpy(), model.covariances)]
    return logsumexp(np.stack(per_component, -1), axis=-1)


@pytest.mark.parametrize("covariance", ["full", "diag"])
def test_log_prob_and_posterior_equal_scipy(covariance):
    model = random_model(covariance)
    x = np.random.default_rng(1).normal(size=(50, 2)).astype("float32")
    expected = scipy_log_prob(model, x)
    np.testing.assert_allclose(model.log_prob(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    if covariance == "diag":
        assert np.allclose(model.covariances, np.apply_along_axis(np.diag, 1, np.diagonal(
            model.covariances, axis1=1, axis2=2)))
    # E-step: p(z=k | x) = alpha_k N_k(x) / p(x) (thesis L1121)
    weights = tf.nn.softmax(model.mixture_logits).numpy()
    joint = np.stack([np.log(w) + stats.multivariate_normal(m, c).logpdf(x)
                      for w, m, c in zip(weights, model.means.numpy(), model.covariances)], -1)
    np.testing.assert_allclose(model.posterior(x).numpy(), np.exp(joint - expected[:, None]), atol=1e-5)


@pytest.mark.parametrize("covariance,init", [("full", "data"), ("diag", "data"), ("full", "current")])
def test_em_log_likelihood_never_decreases(covariance, init):
    truth = gaussian_mixture_nd(dim=2, n_components=4, spread=2.0, std=0.4, seed=3)
    x = truth.sample(600, seed=4)
    model = GaussianMixtureModel(num_components=4, dim=2, covariance=covariance, seed=0)
    history = model.fit_em(x, iterations=25, init=init, seed=1)
    assert len(history) == 26
    assert np.all(np.diff(history) >= -1e-10), np.diff(history).min()
    assert history[-1] > history[0] + 0.1
    # the written-back float32 model has the log-likelihood EM reports
    assert abs(float(np.mean(model.log_prob(x))) - history[-1]) < 1e-4
    if covariance == "full":  # EM fits the true mixture about as well as the truth itself
        assert history[-1] > np.mean(truth.log_prob(x)) - 0.05


def test_gradient_fit_lowers_nll():
    x = gaussian_mixture_nd(dim=2, n_components=3, seed=5).sample(400, seed=6)
    model = GaussianMixtureModel(num_components=3, dim=2, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    start = -float(np.mean(model.log_prob(x)))
    history = model.fit(x, batch_size=100, epochs=8, verbose=0).history["loss"]
    assert history[-1] < start - 0.2


def test_samples_are_stateless_and_follow_the_mixture():
    model = random_model("full", seed=2)
    a, b = model.sample(4000, 7).numpy(), model.sample(4000, 7).numpy()
    np.testing.assert_array_equal(a, b)
    weights = tf.nn.softmax(model.mixture_logits).numpy()
    np.testing.assert_allclose(a.mean(0), weights @ model.means.numpy(), atol=0.1)


def test_bad_input_names_the_expected_shape():
    model = GaussianMixtureModel(num_components=2, dim=2)
    with pytest.raises(InputError, match=r"\(None, 2\)"):
        model.log_prob(np.zeros((3, 3), "float32"))


def test_result_figures_of_the_family():
    """Each model's panel (tfzoo.probabilistic.plotting): the mixture's density with samples (Dinh
    2018, Fig. 4.1), MADE and VAE samples for image data; no panel for vector data without one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tfzoo import testing
    from tfzoo.plotting import family_panel
    from tfzoo.probabilistic.made import MADE
    from tfzoo.probabilistic.vae import VAE

    models = [(GaussianMixtureModel(num_components=2, dim=2), True),
              (MADE(input_shape=(4, 4, 1), hidden_units=(8,)), True),
              (VAE(input_shape=(4, 4, 1), hidden_units=(), latent_dim=2), True),
              (VAE(input_shape=(6,), hidden_units=(), latent_dim=2), False)]
    for model, drawn in models:
        fig, ax = plt.subplots()
        data = {"test": testing.example_fit_data(model, 20, seed=1)}
        assert family_panel(model, ax, data) is drawn, type(model).__name__
        plt.close(fig)
