"""The auto-encoder read-outs (score, Hessian), Prop. 1's affine identity, L-BFGS training, the walkback
training step and callback, the GSN's odd/even schedule, clamping and scaling factors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfzoo import testing
from tfzoo.errors import InputError
from tfzoo.gsn.callbacks import Walkback
from tfzoo.gsn.models import GSN, GenerativeDAE, ScoreAutoencoder
from tfzoo.recipe import Recipe


def test_score_and_hessian_readouts_match_autodiff():
    model = ScoreAutoencoder(input_dim=3, hidden_units=20, sigma=0.1, seed=1)
    x = tf.random.stateless_normal((5, 3), [1, 2])
    np.testing.assert_allclose(model.score(x), (model.reconstruct(x) - x) / 0.01, rtol=1e-5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = model.score(x)
    np.testing.assert_allclose(model.hessian_log_prob(x), tape.batch_jacobian(score, x), rtol=1e-4, atol=1e-3)
    with pytest.raises(InputError, match=r"shape \(None, 3\)"):
        model.score(tf.zeros((2, 4)))


def test_tied_weights_give_a_conservative_field():
    """Sec. 3.3.6: with V = W the Jacobian of r is symmetric (a potential exists); untied in general not."""
    x = tf.random.stateless_normal((6, 4), [3, 4])
    tied = ScoreAutoencoder(input_dim=4, hidden_units=10, tied_weights=True, seed=2).reconstruction_jacobian(x)
    untied = ScoreAutoencoder(input_dim=4, hidden_units=10, seed=2).reconstruction_jacobian(x)
    np.testing.assert_allclose(tied, tf.transpose(tied, [0, 2, 1]), atol=1e-6)
    assert float(tf.reduce_max(tf.abs(untied - tf.transpose(untied, [0, 2, 1])))) > 1e-2


def test_cae_penalty_is_the_encoder_jacobian_norm():
    model = ScoreAutoencoder(input_dim=3, hidden_units=7, activation="sigmoid", criterion="cae", sigma=0.5)
    x = tf.random.stateless_normal((4, 3), [5, 6])
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = model.encode(x)
    jac = tape.batch_jacobian(h, x)
    error = tf.reduce_sum(tf.square(model.reconstruct(x) - x), -1)
    expected = tf.reduce_mean(error + 0.25 * tf.reduce_sum(tf.square(jac), [1, 2]))
    np.testing.assert_allclose(model.criterion_loss(x, None), expected, rtol=1e-5)


def test_affine_dae_equals_rcae_prop1_exactly():
    """For affine r(x) = Ax + b: E_eps ||r(x + eps) - x||^2 = ||r(x) - x||^2 + sigma^2 ||A||_F^2 for any sigma
    (notes §2.3 [derived]): the DAE criterion averaged over noise equals the RCAE criterion (3.6)."""
    sigma = 0.8
    common = dict(input_dim=2, hidden_units=3, activation="linear", sigma=sigma, seed=3)
    dae, rcae = ScoreAutoencoder(criterion="dae", **common), ScoreAutoencoder(criterion="rcae", **common)
    x = tf.random.stateless_normal((40, 2), [1, 3])
    noise = tf.random.stateless_normal((5000, 40, 2), [2, 3])
    noise = tf.reshape(tf.concat([noise, -noise], 0), [-1, 2])  # antithetic pairs cancel the cross term
    x_rep = tf.reshape(tf.tile(x[None], [10000, 1, 1]), [-1, 2])
    np.testing.assert_allclose(dae.criterion_loss(x_rep, noise), rcae.criterion_loss(x, None), rtol=1e-2)


def test_lbfgs_linear_dae_recovers_the_gaussian_hessian():
    """A linear DAE fitted by full-batch L-BFGS on a fixed corrupted set (Sec. 3.3.4) is the least-squares
    regression of x on x~ (checked to 1e-4), and (J - I)/sigma^2 = -(Sigma + sigma^2 I)^{-1} for Gaussian
    data (notes §8.7.5), here within the sampling error of 40k points."""
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.6], [0.6, 0.5]])
    x = (rng.multivariate_normal([0.3, -0.2], cov, size=40000)).astype(np.float32)
    sigma = 0.5
    model = ScoreAutoencoder(input_dim=2, hidden_units=2, activation="linear", sigma=sigma, seed=4)
    result = model.fit_lbfgs(x, num_iterations=100, seed=9)
    noise = tf.random.stateless_normal(x.shape, [9, 0]).numpy()  # the fixed noise fit_lbfgs(seed=9) draws
    x_tilde = np.c_[x + sigma * noise, np.ones(len(x))]
    coef = np.linalg.lstsq(x_tilde.astype(np.float64), x.astype(np.float64), rcond=None)[0]
    jac = model.reconstruction_jacobian(x[:1]).numpy()[0]
    np.testing.assert_allclose(jac, coef[:2].T, atol=1e-4)
    assert result["loss"] > 0
    hessian = model.hessian_log_prob(x[:1]).numpy()[0]
    expected = -np.linalg.inv(cov + sigma**2 * np.eye(2))
    np.testing.assert_allclose(hessian, expected, atol=3e-2 * np.abs(expected).max())


def test_float64_lbfgs_reaches_the_least_squares_solution_to_float64_precision():
    """With ``dtype="float64"`` weights, inputs and the criterion are float64, so full-batch L-BFGS
    (the spiral's optimiser, Sec. 3.3.4) can go past float32's resolution: the linear DAE matches the
    least-squares regression of x on x~ to 1e-8 instead of 1e-4."""
    rng = np.random.default_rng(0)
    x = rng.multivariate_normal([0.3, -0.2], [[1.0, 0.6], [0.6, 0.5]], size=4000)
    model = ScoreAutoencoder(input_dim=2, hidden_units=2, activation="linear", sigma=0.5, seed=4, dtype="float64")
    assert model.encoder_kernel.dtype == "float64" and model.reconstruct(x[:2]).dtype == tf.float64
    model.fit_lbfgs(x, num_iterations=200, seed=9)
    noise = tf.random.stateless_normal(x.shape, [9, 0], dtype=tf.float64).numpy()
    coef = np.linalg.lstsq(np.c_[x + 0.5 * noise, np.ones(len(x))], x, rcond=None)[0]
    np.testing.assert_allclose(model.reconstruction_jacobian(x[:1]).numpy()[0], coef[:2].T, atol=1e-8)


def test_mh_sample_is_reproducible_from_its_seed():
    model = ScoreAutoencoder(input_dim=2, hidden_units=8, sigma=0.1, mh_proposal_scale=0.05)
    x0 = np.zeros((3, 2), np.float32)
    a, rate_a = model.mh_sample(x0, 6, 1)
    b, _ = model.mh_sample(x0, 6, 1)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (6, 3, 2) and np.all((rate_a >= 0) & (rate_a <= 1))


def test_data_scaled_init_puts_the_tanh_transitions_inside_the_data():
    """``init="data_scaled"`` [not in paper]: on the spiral (|x| <= 0.5) Glorot weights leave every tanh unit
    in its linear regime (pre-activations ~0.04), the data-scaled start spreads each unit's pre-activation
    over about +-init_gain with its sign change inside the data, and starts the decoder at r(x) = mean;
    the constructor arguments rebuild the start that ``initialize_from_data`` draws, parameters unchanged."""
    from tfzoo.datasets import spiral_2d

    x = spiral_2d(2000, seed=3).astype(np.float64)

    def preactivations(model):
        return x @ model.encoder_kernel.numpy() + model.encoder_bias.numpy()

    glorot = ScoreAutoencoder(input_dim=2, hidden_units=200, dtype="float64", seed=1)
    assert np.abs(preactivations(glorot)).max() < 0.25 and preactivations(glorot).std(0).mean() < 0.06
    model = ScoreAutoencoder(input_dim=2, hidden_units=200, dtype="float64", seed=1)
    stats = model.initialize_from_data(x)
    np.testing.assert_allclose(stats["center"], x.mean(0))
    np.testing.assert_allclose(stats["scale"], x.std(0))
    a = preactivations(model)
    assert 1.6 < a.std(0).mean() < 2.4  # init_gain = 2
    assert np.mean((a.min(0) < 0) & (a.max(0) > 0)) > 0.8  # most transitions lie inside the data
    np.testing.assert_allclose(model.reconstruct(x[:5]).numpy(), np.tile(x.mean(0), (5, 1)), atol=1e-12)
    rebuilt = ScoreAutoencoder(input_dim=2, hidden_units=200, dtype="float64", seed=1, init="data_scaled",
                               init_center=stats["center"], init_scale=stats["scale"])
    for v, w in zip(model.weights, rebuilt.weights):
        np.testing.assert_array_equal(v.numpy(), w.numpy())
    glorot.build_from_preset(), rebuilt.build_from_preset()
    assert rebuilt.count_params() == glorot.count_params() == 2 * 200 + 200 + 200 * 2 + 2
    with pytest.raises(ValueError, match="init must be"):
        ScoreAutoencoder(init="he")


def test_lbfgs_from_the_data_scaled_start_goes_below_the_identity_loss_on_the_spiral():
    """Sec. 3.3.4 (Fig. 3.5) in small: full-batch L-BFGS on a fixed corrupted spiral. From the Glorot start
    the loss stays at the identity map's d sigma^2 = 2e-4; from the data-scaled start it falls towards
    sigma^2 = 1e-4 (only the noise normal to the spiral can be removed). A sharper start (gain 3) and 200
    units make 40 iterations enough at this size."""
    from tfzoo.datasets import spiral_2d

    x = spiral_2d(500, seed=4)
    losses = {}
    for init, iterations in (("glorot", 20), ("data_scaled", 40)):
        model = ScoreAutoencoder(input_dim=2, hidden_units=200, sigma=0.01, dtype="float64", seed=2)
        if init == "data_scaled":
            model.initialize_from_data(x, gain=3.0)
        losses[init] = model.fit_lbfgs(x, num_iterations=iterations, seed=0)["loss"]
    assert losses["glorot"] > 1.9e-4
    assert losses["data_scaled"] < 1.45e-4


class _CountingDAE(GenerativeDAE):
    traces = 0

    def train_step(self, data):
        type(self).traces += 1  # Python side effect: runs only when the step is traced
        return super().train_step(data)


def test_walkback_callback_changes_schedule_without_retracing_and_logs_lengths():
    keras.utils.set_random_seed(0)
    model = _CountingDAE(input_dim=16, hidden_units=8, walkback="none", max_walkback_steps=6)
    model.build_from_preset()
    model.compile_from_recipe(Recipe(optimizer="sgd", learning_rate=0.05))

    class Schedule(Walkback):
        def on_epoch_begin(self, epoch, logs=None):
            self.mode = ("none", "fixed", "geometric")[epoch]
            super().on_epoch_begin(epoch, logs)

    callback = Schedule(steps=3)
    history = model.fit(testing.example_batch(model, 64), epochs=3, batch_size=16, verbose=0, callbacks=[callback])
    assert _CountingDAE.traces == 1
    np.testing.assert_array_equal(callback.length_counts[0], [64, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(callback.length_counts[1], [0, 0, 64, 0, 0, 0])
    assert callback.length_counts[2].sum() == 64 and callback.length_counts[2][0] > 16
    assert history.history["walkback_length"][:2] == [1.0, 3.0]


def test_walkback_loss_scores_every_step_against_the_clean_example():
    """With a fixed length k the training loss is the sum of the first k chain NLLs of x0 (L1665-1671)."""
    model = GenerativeDAE(input_dim=12, hidden_units=5, walkback="fixed", walkback_steps=3, max_walkback_steps=4)
    x0 = tf.constant(testing.example_batch(model, 6))
    losses = model.walkback_losses(x0, tf.constant([4, 2]))
    assert losses.shape == (4, 6)
    first = model.reconstruction_distribution(
        model.transition(x0, (), tf.random.experimental.stateless_split(
            tf.random.experimental.stateless_fold_in(tf.constant([4, 2]), 0), 2)[0], 0, True)[1], 0)
    np.testing.assert_allclose(losses[0], -first.log_prob(x0), rtol=1e-6)


def test_gsn_odd_even_schedule_matches_a_direct_computation():
    """With no noise at all the GSN step is: h1 = tanh(b1 + W1^T x + W2 h2); then x-hat logits
    a0 = b0 + W1 h1 and h2 = tanh(b2 + W2^T h1), starting from H_0 = 0 (L1841, L2110-2118)."""
    model = GSN(layer_sizes=(6, 5, 4), hidden_noise_std=0.0, input_corruption_level=0.0, seed=3)
    model.build_from_preset()
    for v in model.biases:
        v.assign(tf.random.stateless_normal(v.shape, [1, v.shape[0]]))
    w1, w2 = (k.numpy() for k in model.kernels)
    b0, b1, b2 = (b.numpy() for b in model.biases)
    x = testing.example_batch(model, 3)
    h2 = np.zeros((3, 4), np.float32)
    hidden = model.initial_hidden(tf.constant(x))
    for step in range(3):
        h1 = np.tanh(b1 + x @ w1 + h2 @ w2.T)
        a0 = b0 + h1 @ w1.T
        h2 = np.tanh(b2 + h1 @ w2)
        hidden, a = model.transition(tf.constant(x), hidden, tf.constant([step, 0]), step, stochastic=True)
        np.testing.assert_allclose(a, a0, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(hidden[1], h2, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.reconstruct(x), 1 / (1 + np.exp(-(b0 + np.tanh(b1 + x @ w1) @ w1.T))),
                               rtol=1e-5)


def test_gsn_hidden_noise_only_above_the_first_layer():
    model = GSN(layer_sizes=(6, 5, 4), hidden_noise_std=2.0, input_corruption_level=0.0)
    a = tf.zeros((1000, 5))
    assert np.array_equal(model._hidden_unit(a, 1, tf.constant([1, 1]), True), np.zeros((1000, 5)))
    noisy = model._hidden_unit(a, 2, tf.constant([1, 1]), True).numpy()
    # Var(eta_out + tanh(eta_in)) = 4 + E tanh(N(0, 4))^2 ~= 4 + 0.79
    assert abs(noisy.var() - 4.79) < 0.25


def test_scaling_factors_multiply_the_logits():
    model = GSN(layer_sizes=(6, 5, 4), learn_scaling=True)
    model.build_from_preset()
    model.log_alpha.assign(np.log([1.0, 2.0, 0.5, 3.0]))
    a = tf.constant([[0.3, -1.0, 2.0, 0.0, 1.0, -0.5]])
    for k, alpha in enumerate([1.0, 2.0, 0.5, 3.0]):
        np.testing.assert_allclose(model.reconstruction_distribution(a, k).distribution.logits, alpha * a, rtol=1e-6)


def test_gsn_trains_on_real_valued_pixels_with_the_cross_entropy_of_real_targets():
    """The authors' code trains on real-valued MNIST in [0, 1]: -log P(x0 | .) is the binary cross-entropy
    against the real-valued x0 ([reference code yaoli/GSN]); gsn-mnist trains on that task."""
    import tfzoo

    model = GSN(layer_sizes=(6, 5, 4), hidden_noise_std=0.0, input_corruption_level=0.0, walkback_steps=2)
    model.build_from_preset()
    assert (model.input_values, model.input_range) == ("uniform", (0.0, 1.0))
    x0 = tf.constant(np.random.default_rng(0).uniform(size=(3, 6)).astype(np.float32))
    losses = model.walkback_losses(x0, tf.constant([1, 2]))
    _, a = model.transition(x0, model.initial_hidden(x0), tf.constant([0, 0]), 0, stochastic=False)
    bce = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x0, logits=a), -1)
    np.testing.assert_allclose(losses[0], bce, rtol=1e-5)
    assert tfzoo.get_preset("gsn-mnist").task == "mnist-unit"
    assert tfzoo.get_preset("gsn-mnist-binarized").task == "mnist-binarized"
    assert tfzoo.get_preset("gsn-mnist-binarized").recipe == tfzoo.get_preset("gsn-mnist").recipe


@pytest.mark.parametrize("cls", [GSN, GenerativeDAE])
def test_inpainting_clamps_and_chains_are_seeded(cls):
    """Sec. 5.3.6: clamped coordinates never change along the chain; equal seeds give equal chains."""
    model = cls(layer_sizes=(20, 6, 6)) if cls is GSN else cls(input_dim=20, hidden_units=6)
    x = testing.example_batch(model, 4, seed=1)
    mask = np.zeros_like(x)
    mask[:, 10:] = 1.0
    samples, means = model.inpaint(x, mask, 5, 3)
    np.testing.assert_array_equal(samples.numpy()[:, :, 10:], np.broadcast_to(x[:, 10:], (5, 4, 10)))
    np.testing.assert_array_equal(means.numpy()[:, :, 10:], np.broadcast_to(x[:, 10:], (5, 4, 10)))
    assert not np.array_equal(samples.numpy()[-1, :, :10], x[:, :10])
    a, _ = model.sample_chain(x, 5, 3)
    b, _ = model.sample_chain(x, 5, 3)
    np.testing.assert_array_equal(a, b)


def _gsn_family():
    from tfzoo.gsn.dependency_network import DependencyNetworkGSN

    return [ScoreAutoencoder(input_dim=2, hidden_units=4), GenerativeDAE(input_dim=16, hidden_units=4),
            GSN(layer_sizes=(16, 5, 4)), DependencyNetworkGSN(input_dim=16, hidden_units=(4,))]


def test_every_sampling_endpoint_takes_a_scalar_int32_seed_and_the_methods_agree():
    """The one seed convention: ``seed: int32[]`` in every endpoint; a scalar s is the stateless seed
    [s, 0], so the methods given [s, 0] (the form accepted inside the library) draw the same."""
    for model in _gsn_family():
        endpoints = model.endpoints()
        seeded = [name for name, e in endpoints.items() if any(a.domain == "seed" for a in e.args)]
        assert seeded, type(model).__name__
        for name in seeded:
            (spec,) = [a.spec for a in endpoints[name].args if a.domain == "seed"]
            assert spec.shape == () and spec.dtype == tf.int32, (type(model).__name__, name)
        inputs = testing.example_inputs(model, seed=2)
        assert set(inputs) == set(endpoints)
        for name in seeded:
            args = inputs[name]
            scalar = testing.flatten_outputs(endpoints[name].fn(*args))
            pair = testing.flatten_outputs(endpoints[name].fn(*args[:-1], np.array([args[-1], 0], np.int32)))
            for a, b in zip(scalar, pair):
                np.testing.assert_array_equal(a, b)


def test_result_figures_of_the_family():
    """tfzoo.gsn.plotting.panel: the r(x) - x field (2-D, Alain 2018 Fig. 3.5) and chain rows (Figs. 5.4, 5.6)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tfzoo.plotting import family_panel

    for model in _gsn_family():
        x = testing.example_batch(model, 8, seed=1)
        fig, ax = plt.subplots()
        assert family_panel(model, ax, {"train": (x,), "test": (x,)}), type(model).__name__
        plt.close(fig)
