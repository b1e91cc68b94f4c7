"""The GAN of 002_e592b05206285d1e.txt L391-500: Theorem 1, the saturating loss, the k-step schedule."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.stats import norm

from tfzoo import testing
from tfzoo.lecture.gan import GAN, discriminator_loss, generator_loss
from tfzoo.recipe import Recipe


def fixed_shift_gan(**kwargs):
    """G(z) = z + 1 with z ~ N(0, 1): p_g = N(1, 1), a linear generator with known weights."""
    gan = GAN(data_shape=(1,), latent_dim=1, noise="normal", generator_units=(), **kwargs)
    gan.build_from_preset()
    gan.generator.layers[0].set_weights([np.ones((1, 1), "float32"), np.ones((1,), "float32")])
    return gan


def test_discriminator_approaches_theorem_1_optimum_for_fixed_generator():
    # Theorem 1 (L486-490): D*(x) = p_data / (p_data + p_g); here p_data = N(0, 1), p_g = N(1, 1).
    keras.utils.set_random_seed(0)
    gan = fixed_shift_gan(discriminator_units=(16,), seed=1)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.SGD(0.0))
    generator_before = [w.copy() for w in gan.generator.get_weights()]
    step = tf.function(gan.discriminator_step)
    rng = np.random.default_rng(0)
    for _ in range(1500):
        step(tf.constant(rng.standard_normal((256, 1)), tf.float32))
    grid = np.linspace(-2, 3, 26).astype("float32")[:, None]
    d_star = norm.pdf(grid) / (norm.pdf(grid) + norm.pdf(grid, loc=1.0))
    np.testing.assert_allclose(gan(grid).numpy(), d_star[:, 0], atol=0.05)
    for before, after in zip(generator_before, gan.generator.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_value_at_the_global_optimum_is_minus_log_4():
    # With D = 1/2 everywhere (p_g = p_data, L442), V = log(1/2) + log(1/2) = -log 4.
    zero_logits = tf.zeros([10])
    assert float(discriminator_loss(zero_logits, zero_logits)) == pytest.approx(np.log(4.0), rel=1e-6)


def test_minimax_generator_gradient_vanishes_at_saturation_but_non_saturating_does_not():
    gan = fixed_shift_gan(discriminator_units=(8,))
    last = gan.discriminator.layers[-1]
    kernel, _ = last.get_weights()
    last.set_weights([kernel, np.array([-20.0], "float32")])  # D(G(z)) ~ 1e-9: D rejects every sample
    z = tf.random.stateless_normal([64, 1], [0, 1])
    norms = {}
    for kind in ("minimax", "non_saturating"):
        with tf.GradientTape() as tape:
            loss = generator_loss(gan.discriminator_logits(gan.generate(z)), kind)
        grads = tape.gradient(loss, gan.generator.trainable_variables)
        norms[kind] = float(tf.linalg.global_norm(grads))
    assert norms["non_saturating"] > 1e-3
    assert norms["minimax"] < 1e-6 * norms["non_saturating"]
    # In closed form: d/dl log(1 - sigmoid(l)) = -sigmoid(l) -> 0, d/dl log sigmoid(l) = sigmoid(-l) -> 1.
    logit = tf.constant([-20.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logit)
        minimax, non_saturating = generator_loss(logit, "minimax"), generator_loss(logit, "non_saturating")
    assert abs(float(tape.gradient(minimax, logit)[0])) < 1e-8
    assert float(tape.gradient(non_saturating, logit)[0]) == pytest.approx(-1.0, abs=1e-6)


@pytest.mark.parametrize("k", [1, 3])
def test_exactly_k_discriminator_updates_per_generator_update(k):
    keras.utils.set_random_seed(0)
    gan = GAN(data_shape=(2,), latent_dim=2, generator_units=(4,), discriminator_units=(4,), k=k)
    gan.build_from_preset()
    gan.compile_from_recipe(Recipe(optimizer="sgd", learning_rate=0.05))
    snapshots = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: snapshots.append(
        (gan.generator.get_weights()[0].copy(), gan.discriminator.get_weights()[-2].copy())))
    gan.fit(testing.example_batch(gan, 24), batch_size=4, epochs=1, verbose=0, callbacks=[record], shuffle=False)
    assert int(gan.d_optimizer.iterations) == 6 and int(gan.g_optimizer.iterations) == 6 // k
    previous = gan.generator.get_weights()[0] * np.nan
    changed = []
    for g_weights, _ in snapshots:
        changed.append(not np.array_equal(g_weights, previous))
        previous = g_weights
    assert changed[1:] == [(step + 1) % k == 0 for step in range(1, 6)]
    assert all(not np.array_equal(a[1], b[1]) for a, b in zip(snapshots, snapshots[1:]))  # D moves every step


def test_sample_endpoint_is_seeded_and_stateless():
    gan = GAN(data_shape=(28, 28, 1), data_range=(0.0, 255.0), latent_dim=4, generator_units=(8,),
              discriminator_units=(8,))
    gan.build_from_preset()
    a, b, c = gan.sample(5, 3), gan.sample(5, 3), gan.sample(5, 4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (5, 28, 28, 1) and float(tf.reduce_min(a)) >= 0 and float(tf.reduce_max(a)) <= 255


def test_unknown_generator_loss_is_refused():
    with pytest.raises(ValueError, match="non_saturating"):
        GAN(generator_loss="wasserstein")


def test_result_figures_of_the_family():
    """tfzoo.lecture.plotting.panel: GAN samples (Goodfellow et al. 2014, Fig. 2), the sparse
    auto-encoder's maximally activating inputs, the stochastic-depth ResNet's classifier panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tfzoo.lecture.sparse_autoencoder import SparseAutoencoder
    from tfzoo.lecture.stochastic_depth import StochasticDepthResNet
    from tfzoo.plotting import family_panel

    gan = GAN(data_shape=(2,), latent_dim=2, generator_units=(4,), discriminator_units=(4,))
    images = GAN(data_shape=(4, 4, 1), data_range=(0.0, 255.0), latent_dim=2, generator_units=(4,),
                 discriminator_units=(4,))
    sae = SparseAutoencoder(input_shape=(16,), hidden_units=5, input_scale=1.0)
    resnet = StochasticDepthResNet(blocks_per_stage=1, filters=(2, 2, 2), input_shape=(8, 8, 1))
    for model in (gan, images, sae, resnet):
        model.build_from_preset()
        fig, ax = plt.subplots()
        assert family_panel(model, ax, {"test": testing.example_fit_data(model, 16, seed=1)}), model
        plt.close(fig)
