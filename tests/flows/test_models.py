"""Whole-model mathematics of NICE / Real NVP (004_6b1d8905d771edf8.txt chapter 5): exact inverses,
every Jacobian in log p of raw pixels, normalisation on a grid, multi-scale bookkeeping, batch-norm
statistics and the callback, sampling, the manifold, inpainting, bad input."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfzoo import testing
from tfzoo.errors import InputError
from tfzoo.flows import BatchNormBijector, DenseCouplingFlow, MultiScaleRealNVP, bijectors
from tfzoo.flows.layers import BatchNormStatistics, WeightNormConv2D
from tfzoo.flows.models import inpainting_masks, manifold_latents, sphere_latents

tfd = tfp.distributions
tfb = tfp.bijectors


def perturb(model, seed=0):
    """Non-zero coupling scales and γ, so that no part of the flow is the identity."""
    rng = np.random.default_rng(seed)
    for v in model.trainable_variables:
        if v.path.endswith("scale") or v.path.endswith("log_scale"):
            v.assign(rng.uniform(0.3, 0.8, size=v.shape).astype("float32"))
    return model


@pytest.fixture(scope="module")
def moons():
    keras.utils.set_random_seed(0)
    model = DenseCouplingFlow(input_shape=(2,), coupling="affine", num_couplings=4, hidden_layers=2,
                              hidden_units=16, prior="gaussian", diagonal_scaling=False,
                              preprocessing="none", dequantize=False)
    model.build_from_preset()
    return perturb(model)


@pytest.fixture(scope="module")
def nice():
    keras.utils.set_random_seed(0)
    model = DenseCouplingFlow(input_shape=(6, 6, 1), hidden_layers=2, hidden_units=16)
    model.build_from_preset()
    return perturb(model)


@pytest.fixture(scope="module")
def multiscale():
    keras.utils.set_random_seed(0)
    model = MultiScaleRealNVP(input_shape=(8, 8, 2), num_scales=2, num_blocks=1, feature_maps=4)
    model.build_from_preset()
    x = np.random.default_rng(1).integers(0, 256, size=(40, 8, 8, 2)).astype("float32")
    perturb(model)
    model.accumulate_batch_norm_statistics(x, batch_size=16)
    return model, x


def test_moons_density_integrates_to_one(moons):
    step = 0.02
    axis = np.arange(-6, 6, step) + step / 2
    grid = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2).astype("float32")
    total = np.exp(moons.log_prob(grid).numpy().astype(np.float64)).sum() * step**2
    assert abs(total - 1.0) < 0.01


def test_log_prob_agrees_with_tfp_transformed_distribution(moons):
    x = np.random.default_rng(2).normal(size=(5, 2)).astype("float32")
    flow = tfd.TransformedDistribution(moons.prior(), tfb.Invert(moons.core_bijector()))
    np.testing.assert_allclose(moons.log_prob(x), flow.log_prob(x), rtol=1e-5)


@pytest.mark.parametrize("which", ["nice", "multiscale"])
def test_whole_model_is_invertible_and_counts_every_jacobian(which, nice, multiscale):
    model = nice if which == "nice" else multiscale[0]
    pixels = testing.example_batch(model, 3, seed=4)
    x = pixels + 0.5
    y, log_det_pre = model.preprocessing_bijector().forward_and_log_det(x)
    z, log_det = model.core_bijector().forward_and_log_det(y)
    y_back = model.core_bijector().inverse(z)
    np.testing.assert_allclose(y_back, y, atol=1e-5 * max(1.0, float(np.abs(y).max())))
    np.testing.assert_allclose(model.decode(z), x, atol=256 * 1e-5)
    expected = model.prior().log_prob(z) + log_det + log_det_pre
    np.testing.assert_allclose(model.log_prob(x), expected, rtol=1e-6)
    # bits/dim is −log p / (d log 2) on the raw pixel scale (δ = 1)
    u = bijectors.dequantize(pixels, tf.constant([9, 0]))
    np.testing.assert_allclose(model.bits_per_dim(pixels, seed=9),
                               -model.log_prob(u) / (x[0].size * math.log(2)), rtol=1e-6)


def test_nice_log_prob_includes_rescaling_jacobian(nice):
    x = testing.example_batch(nice, 2, seed=5)
    y = x / 256.0
    z, log_det = nice.core_bijector().forward_and_log_det(y)
    expected = nice.prior().log_prob(z) + log_det - 36 * math.log(256.0)
    np.testing.assert_allclose(nice.log_prob(x), expected, rtol=1e-6)


def test_multiscale_bookkeeping_64x64x3():
    shapes = bijectors.MultiScale.level_shapes((64, 64, 3), [1, 1, 1, 1, 0])
    assert [int(np.prod(s)) for s in shapes] == [6144, 3072, 1536, 768, 768]
    keras.utils.set_random_seed(0)
    model = MultiScaleRealNVP(input_shape=(64, 64, 3), num_scales=5, num_blocks=0, feature_maps=2,
                              batch_norm=False)
    model.build_from_preset()
    x = testing.example_batch(model, 1)
    levels = model.encode_levels(x)
    assert [int(np.prod(z.shape[1:])) for z in levels] == [6144, 3072, 1536, 768, 768]
    # Figs. 5.15–5.16: the fraction of dimensions kept when the finest k levels are resampled
    kept = [1 - sum([6144, 3072, 1536, 768][:k]) / 12288 for k in range(5)]
    np.testing.assert_allclose(kept, [1, 0.5, 0.25, 0.125, 0.0625])
    np.testing.assert_allclose(model.resample_levels(x, 0), x, atol=256 * 1e-5)
    resampled = model.resample_levels(x, 2, seed=1).numpy()
    assert not np.allclose(resampled, x)


def test_batch_norm_statistics_are_exact_training_set_moments(multiscale):
    model, x = multiscale
    first = model.batch_norm_statistics[0]
    assert float(first.status.numpy()) == BatchNormStatistics.ACCUMULATED
    # the first batch-norm layer's input: dequantised x (seeds as in the pass), logit, 3 couplings
    couplings = [layer.bijector() for layer in model.flow_layers[:3]]
    inputs = []
    for index, start in enumerate(range(0, 40, 16)):
        h = bijectors.dequantize(x[start:start + 16], tf.constant([0, index]))
        h = model.preprocessing_bijector().forward(h)
        for c in couplings:
            h = c.forward(h)
        inputs.append(h.numpy().reshape(-1, 2))
    inputs = np.concatenate(inputs).astype(np.float64)
    np.testing.assert_allclose(first.mean.numpy(), inputs.mean(0), atol=1e-4)
    np.testing.assert_allclose(first.variance.numpy(), inputs.var(0), rtol=1e-4)


def test_inference_log_prob_is_batch_independent_training_is_not(multiscale):
    model, x = multiscale
    alone = model(x[:1], training=False).numpy()
    together = model(x[:4], training=False).numpy()
    np.testing.assert_allclose(alone, together[:1], rtol=1e-6)
    train_alone = model(x[:2], training=True).numpy()
    train_together = model(x[:4], training=True).numpy()
    assert not np.allclose(train_alone[:1], train_together[:1])


def test_callback_accumulates_before_validation_and_stale_statistics_raise():
    keras.utils.set_random_seed(0)
    model = MultiScaleRealNVP(input_shape=(4, 4, 1), num_scales=1, num_blocks=0, feature_maps=2,
                              final_couplings=2)
    model.build_from_preset()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    x = np.random.default_rng(3).integers(0, 256, size=(16, 4, 4, 1)).astype("float32")
    model.fit(x, batch_size=8, epochs=1, verbose=0)
    assert model.batch_norm_statistics_stale
    with pytest.raises(tf.errors.InvalidArgumentError, match="statistics are stale"):
        model.log_prob(x[:2])
    history = model.fit(x, batch_size=8, epochs=1, verbose=0, validation_data=(x,),
                        callbacks=[BatchNormBijector()])
    assert not model.batch_norm_statistics_stale
    assert np.isfinite(history.history["val_bits_per_dim"][-1])
    assert np.all(np.isfinite(model.sample(2, seed=0)))


def test_sampling_is_seeded_and_temperature_scales_latents(nice):
    a, b = nice.sample(3, seed=4), nice.sample(3, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, nice.sample(3, seed=5))
    z1, z0 = nice.sample_latent(3, 4, 1.0), nice.sample_latent(3, 4, 0.5)
    np.testing.assert_allclose(z0, 0.5 * z1.numpy(), rtol=1e-6)
    assert np.all((a.numpy() >= 0) & (a.numpy() <= 256))


def test_manifold_hits_its_four_corners():
    z = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    grid = manifold_latents(*z, num=5)
    np.testing.assert_allclose(grid[0, 0], z[0], atol=1e-6)   # φ = 0, φ' = 0
    np.testing.assert_allclose(grid[0, -1], z[1], atol=1e-6)  # φ = 0, φ' = π/2
    np.testing.assert_allclose(grid[-1, 0], z[2], atol=1e-6)  # φ = π/2, φ' = 0
    np.testing.assert_allclose(grid[-1, -1], z[3], atol=1e-6)


def test_inpainting_never_changes_visible_pixels(nice):
    masks = inpainting_masks(6, 6)
    assert len(masks) == 10 and masks["random_90"].mean() < 0.25
    x = testing.example_batch(nice, 2, seed=6)
    mask = np.broadcast_to(masks["odd_pixels"], x.shape).astype("float32")
    filled = nice.inpaint(x, mask, steps=5, seed=1).numpy()
    np.testing.assert_array_equal(filled[mask == 1], x[mask == 1])
    assert not np.allclose(filled[mask == 0], x[mask == 0])
    assert np.all((filled >= 0) & (filled <= 256))


def test_bad_inputs_give_clear_errors(nice):
    x = testing.example_batch(nice, 2)
    with pytest.raises(InputError, match="NaN"):
        nice.log_prob(np.where(x > 100, np.nan, x))
    with pytest.raises(InputError, match=r"shape \(None, 6, 6, 1\)"):
        nice.log_prob(np.zeros((2, 6, 6, 3), "float32"))
    with pytest.raises(InputError, match="0..255"):
        nice.bits_per_dim(x + 300)
    assert np.all(np.isneginf(nice.log_prob(x - 300).numpy()))  # outside the support: log p = −inf
    with pytest.raises(ValueError, match="divisible by 4"):
        MultiScaleRealNVP(input_shape=(6, 6, 1), num_scales=3)


def test_convolutional_flow_samples_larger_images(multiscale):
    model, _ = multiscale
    big = model.sample(2, seed=3, height=16, width=12).numpy()
    assert big.shape == (2, 16, 12, 2) and np.all(np.isfinite(big))
    # the checkerboard couplings are size-independent: a 16×12 image round-trips exactly
    core = model.core_bijector(image_shape=(16, 12, 2))
    y = np.random.default_rng(0).normal(size=(2, 16, 12, 2)).astype("float32")
    np.testing.assert_allclose(core.inverse(core.forward(y)), y, atol=1e-5)
    np.testing.assert_array_equal(model.sample(2, seed=3), model.sample(2, seed=3))


def test_dequantised_255_pixels_stay_in_the_support(multiscale, nice):
    x = np.full((4, 8, 8, 2), 255.0, "float32")
    u = bijectors.dequantize(x, tf.constant([0, 0])).numpy()
    assert u.max() < 256.0
    worst = np.full((1, 8, 8, 2), 256.0 - 2.0**-16, "float32")  # the largest float32 below 256
    assert np.all(np.isfinite(multiscale[0].log_prob(worst)))
    assert np.all(np.isfinite(multiscale[0].bits_per_dim(x, seed=3)))
    assert np.all(np.isfinite(nice.bits_per_dim(np.full((2, 6, 6, 1), 255.0, "float32"), seed=3)))


def test_weight_norm_conv_is_the_normalised_kernel_and_scale_invariant():
    conv = WeightNormConv2D(4, 3, scale_l2=5e-5)
    conv.build((None, 6, 6, 2))
    v, g = conv.direction.numpy(), conv.scale.numpy()
    np.testing.assert_allclose(g, np.linalg.norm(v.reshape(-1, 4), axis=0), rtol=1e-6)  # w = v at init
    conv.scale.assign([0.5, 1.0, 2.0, 3.0])
    conv.bias.assign([0.1, -0.2, 0.3, 0.0])
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 2)).astype("float32")
    kernel = np.array([0.5, 1.0, 2.0, 3.0]) * v / np.linalg.norm(v.reshape(-1, 4), axis=0)
    expected = tf.nn.conv2d(x, kernel.astype("float32"), 1, "SAME") + [0.1, -0.2, 0.3, 0.0]
    np.testing.assert_allclose(conv(x), expected, atol=1e-5)
    conv.direction.assign(7.0 * v)  # w depends on v only through its direction
    np.testing.assert_allclose(conv(x), expected, atol=1e-5)
    np.testing.assert_allclose(float(tf.add_n(conv.losses)), 5e-5 * (0.25 + 1 + 4 + 9), rtol=1e-5)


def test_weight_scale_l2_enters_the_training_objective_exactly():
    """Same seed, same data, one SGD step: the scales of a model with L2 coefficient λ move by
    exactly −lr · 2λg more than those of the same model with λ = 0 (L1652)."""
    x = np.random.default_rng(2).integers(0, 256, size=(8, 4, 4, 1)).astype("float32")
    scales = {}
    for l2 in (0.0, 10.0):
        keras.utils.set_random_seed(0)
        model = MultiScaleRealNVP(input_shape=(4, 4, 1), num_scales=1, num_blocks=0, feature_maps=2,
                                  final_couplings=2, batch_norm=False, weight_scale_l2=l2)
        model.build_from_preset()
        model.compile(optimizer=keras.optimizers.SGD(0.01))
        before = {v.path: v.numpy() for v in model.trainable_variables if v.path.endswith("net/input_conv/scale")}
        assert len(before) == 2 and len(model.losses) == (4 if l2 else 0)  # 2 couplings × 2 convs
        model.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False)
        scales[l2] = {k: (before[k], v.numpy()) for v in model.trainable_variables for k in before if v.path == k}
    for key, (g, after_regularised) in scales[10.0].items():
        np.testing.assert_allclose(scales[0.0][key][0], g)  # same initialisation
        np.testing.assert_allclose(scales[0.0][key][1] - after_regularised, 0.01 * 2 * 10.0 * g, rtol=1e-3)


def test_latent_sphere_is_an_even_angle_grid_on_a_random_unit_sphere(nice):
    grid = sphere_latents(36, num_polar=4, num_azimuth=6, seed=3)
    assert grid.shape == (4, 6, 36)
    points = grid.reshape(-1, 36)
    np.testing.assert_allclose(np.linalg.norm(points, axis=1), 1.0, rtol=1e-6)
    assert np.linalg.matrix_rank(points, tol=1e-5) == 3  # a three-dimensional subspace
    basis = np.linalg.svd(points, full_matrices=False)[2][:3]
    np.testing.assert_allclose(np.linalg.norm(points @ basis.T, axis=1), 1.0, rtol=1e-5)
    # neighbouring azimuths on the same polar circle are equally far apart
    steps = np.linalg.norm(np.diff(grid[1], axis=0), axis=1)
    np.testing.assert_allclose(steps, steps[0], rtol=1e-5)
    assert not np.allclose(grid, sphere_latents(36, 4, 6, seed=4))
    images = nice.latent_sphere(num_polar=2, num_azimuth=3, seed=3, radius=2.0)
    assert images.shape == (2, 3, 6, 6, 1)
    expected = np.clip(nice.decode(sphere_latents(36, 2, 3, 3, 2.0).reshape(6, 36)), 0, 255)
    np.testing.assert_allclose(images.reshape(6, 6, 6, 1), expected, rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="at least 3"):
        sphere_latents(2)


def test_horizontal_flips_mirror_about_half_of_the_training_images():
    model = MultiScaleRealNVP(input_shape=(4, 4, 1), num_scales=1, num_blocks=0, feature_maps=2,
                              final_couplings=2, horizontal_flips=True, seed=3)
    model.build_from_preset()
    x = np.random.default_rng(0).integers(0, 256, size=(200, 4, 4, 1)).astype("float32")
    out = model._augmented(tf.constant(x)).numpy()
    same = np.all(out == x, axis=(1, 2, 3))
    mirrored = np.all(out == x[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(same | mirrored)  # every image is itself or its left-right mirror
    assert 70 < mirrored.sum() < 130
    plain = MultiScaleRealNVP(input_shape=(4, 4, 1), num_scales=1, num_blocks=0, feature_maps=2, final_couplings=2)
    np.testing.assert_array_equal(plain._augmented(tf.constant(x)), x)
    with pytest.raises(ValueError, match="image inputs"):
        DenseCouplingFlow(input_shape=(2,), preprocessing="none", horizontal_flips=True)


def test_result_figure_draws_density_and_samples_or_a_sample_grid():
    """tfzoo.flows.plotting.panel: log-density with samples for 2-D data (Dinh 2018, Fig. 5.1), a grid
    of samples for images."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tfzoo.plotting import family_panel

    flat = DenseCouplingFlow(input_shape=(2,), coupling="affine", num_couplings=2, hidden_layers=1,
                             hidden_units=8, prior="gaussian", preprocessing="none", diagonal_scaling=False)
    image = MultiScaleRealNVP(input_shape=(4, 4, 1), num_scales=1, num_blocks=1, feature_maps=2,
                              final_couplings=1, batch_norm=False)
    for model in (flat, image):
        fig, ax = plt.subplots()
        assert family_panel(model, ax, {"test": (testing.example_batch(model, 50, seed=1),)})
        plt.close(fig)
