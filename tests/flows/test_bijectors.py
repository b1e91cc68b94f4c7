"""The bijectors' mathematics: invertibility, log-det against autodiff, chains, masks, squeeze,
logit, priors and the Table 5.1 bits/dim conversions (004_6b1d8905d771edf8.txt chapter 5)."""

import math

import keras
import numpy as np
import pytest
import scipy.stats
import tensorflow as tf
import tensorflow_probability as tfp

from tfzoo.flows import bijectors
from tfzoo.flows.layers import BatchNormStatistics, CouplingLayer, DiagonalScalingLayer

tfb = tfp.bijectors
RNG = np.random.default_rng(0)


def autodiff_log_det(bijector, x):
    """log|det| of the Jacobian of the flattened map, by autodiff (float32)."""
    x = tf.constant(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = bijector.forward(x)
        y_flat = tf.reshape(y, (x.shape[0], -1))
    jac = tape.batch_jacobian(y_flat, x, experimental_use_pfor=False)
    jac = tf.reshape(jac, (x.shape[0], y_flat.shape[1], -1))
    return np.linalg.slogdet(jac.numpy().astype(np.float64))[1]


def coupling(event_shape, mask, parity, kind="affine", order="shift_then_scale", scale=0.7):
    keras.utils.set_random_seed(0)  # the same coupling network whatever ran before
    layer = CouplingLayer(event_shape=event_shape, mask=mask, parity=parity, coupling=kind,
                          order=order, hidden_layers=1, hidden_units=8, num_blocks=1, feature_maps=4)
    layer.build(None)
    if layer.scale is not None:
        layer.scale.assign(scale)  # scale starts at 0 (identity in s); make s non-zero for the tests
    return layer


def check_bijector(bijector, x, atol=1e-5):
    y, log_det = bijector.forward_and_log_det(x)
    x_back, inverse_log_det = bijector.inverse_and_log_det(y)
    np.testing.assert_allclose(x_back, x, atol=atol)
    np.testing.assert_allclose(inverse_log_det, -log_det, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(log_det, autodiff_log_det(bijector, x), rtol=1e-4, atol=1e-4)
    # the standard TFP API agrees with the fused path
    np.testing.assert_allclose(bijector.forward_log_det_jacobian(x), log_det, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(bijector.forward(x), y, rtol=1e-6, atol=1e-6)
    return y, log_det


VECTOR = RNG.normal(size=(3, 6)).astype("float32")
IMAGE = RNG.normal(size=(2, 4, 4, 2)).astype("float32")


@pytest.mark.parametrize("order,parity", [("shift_then_scale", 0), ("scale_then_shift", 1)])
def test_affine_vector_coupling(order, parity):
    layer = coupling((6,), "alternating", parity, order=order)
    y, log_det = check_bijector(layer.bijector(), VECTOR)
    kept = bijectors.alternating_mask(6, parity) == 1
    np.testing.assert_array_equal(y.numpy()[:, kept], VECTOR[:, kept])
    # not volume-preserving (a row whose ReLU units are all inactive may have s = 0)
    assert np.any(np.abs(log_det) > 1e-3)


def test_additive_coupling_is_volume_preserving():
    layer = coupling((6,), "alternating", 0, kind="additive")
    y, log_det = check_bijector(layer.bijector(), VECTOR)
    np.testing.assert_array_equal(log_det, 0.0)
    assert not np.allclose(y, VECTOR)


@pytest.mark.parametrize("mask,parity,order", [
    ("checkerboard", 0, "shift_then_scale"), ("checkerboard", 1, "scale_then_shift"),
    ("channel", 0, "scale_then_shift"), ("channel", 1, "shift_then_scale")])
def test_image_couplings(mask, parity, order):
    layer = coupling((4, 4, 2), mask, parity, order=order)
    y, _ = check_bijector(layer.bijector(), IMAGE)
    b = np.broadcast_to(layer.mask, IMAGE.shape[1:]) == 1
    np.testing.assert_array_equal(y.numpy()[:, b], IMAGE[:, b])


def test_coupling_jacobian_is_triangular_with_identity_block():
    layer = coupling((6,), "alternating", 1)
    x = tf.constant(VECTOR)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = layer.bijector().forward(x)
    jac = tape.batch_jacobian(y, x, experimental_use_pfor=False).numpy()
    kept = np.flatnonzero(bijectors.alternating_mask(6, 1) == 1)
    free = np.flatnonzero(bijectors.alternating_mask(6, 1) == 0)
    np.testing.assert_array_equal(jac[:, kept][:, :, kept], np.broadcast_to(np.eye(3), (3, 3, 3)))
    np.testing.assert_array_equal(jac[:, kept][:, :, free], 0.0)
    # I₂ block is diag(exp(s)): off-diagonal entries are zero
    block = jac[:, free][:, :, free]
    np.testing.assert_array_equal(block * (1 - np.eye(3)), 0.0)


def test_affine_coupling_starts_with_zero_log_scale():
    layer = CouplingLayer(event_shape=(6,), mask="alternating", parity=0, coupling="affine",
                          hidden_layers=1, hidden_units=8)
    layer.build(None)
    assert float(layer.scale.numpy()) == 0.0
    _, log_det = layer.bijector().forward_and_log_det(VECTOR)
    np.testing.assert_array_equal(log_det, 0.0)


def test_both_orders_are_the_same_function_class():
    """(x + t)·e^s equals x·e^s + t' with t' = t·e^s (L1364 vs the paper/TFP form)."""
    layer = coupling((6,), "alternating", 0, order="shift_then_scale")
    t, n = layer.net(layer.mask * VECTOR)
    s = (1 - layer.mask) * 0.7 * np.tanh(n.numpy())
    y_thesis = layer.bijector().forward(VECTOR).numpy()
    np.testing.assert_allclose(y_thesis, VECTOR * np.exp(s) + t.numpy() * np.exp(s), rtol=1e-5, atol=1e-5)


def test_chain_log_det_is_sum_of_parts():
    layers = [coupling((6,), "alternating", i % 2, kind=k) for i, k in enumerate(["affine", "additive", "affine"])]
    parts = [layer.bijector() for layer in layers]
    chain = tfb.Chain(list(reversed(parts)))  # Chain applies its last element first
    x, total = VECTOR, 0.0
    for part in parts:
        total += part.forward_log_det_jacobian(x)
        x = part.forward(x)
    np.testing.assert_allclose(chain.forward(VECTOR), x, rtol=1e-6)
    np.testing.assert_allclose(chain.forward_log_det_jacobian(VECTOR, event_ndims=1), total, rtol=1e-5)
    np.testing.assert_allclose(autodiff_log_det(chain, VECTOR), total, rtol=1e-4, atol=1e-4)
    sequence = bijectors.Sequence(parts, 1)
    np.testing.assert_allclose(sequence.forward_and_log_det(VECTOR)[1], total, rtol=1e-5)


def test_diagonal_scaling():
    layer = DiagonalScalingLayer(6)
    layer.build(None)
    layer.log_scale.assign(RNG.normal(size=6).astype("float32"))
    _, log_det = check_bijector(layer.bijector(), VECTOR)
    np.testing.assert_allclose(log_det, layer.log_scale.numpy().sum(), rtol=1e-6)


def test_squeeze_is_the_documented_permutation():
    squeeze = bijectors.Squeeze()
    x = RNG.normal(size=(2, 4, 6, 3)).astype("float32")
    y, log_det = squeeze.forward_and_log_det(x)
    assert y.shape == (2, 2, 3, 12)
    np.testing.assert_array_equal(np.sort(y.numpy().ravel()), np.sort(x.ravel()))
    np.testing.assert_array_equal(log_det, 0.0)
    np.testing.assert_array_equal(squeeze.inverse(y), x)
    for dy in range(2):
        for dx in range(2):
            for k in range(3):
                np.testing.assert_array_equal(y.numpy()[:, 1, 2, (2 * dy + dx) * 3 + k], x[:, 2 + dy, 4 + dx, k])
    assert squeeze.forward_event_shape([4, 6, 3]) == [2, 3, 12]


@pytest.mark.parametrize("variant", bijectors.Logit.VARIANTS)
def test_logit_preprocessing(variant):
    logit = bijectors.Logit(0.05, variant, event_ndims=3)
    x = RNG.uniform(0, 256, size=(2, 3, 3, 1)).astype("float32")
    check_bijector(logit, x, atol=1e-3)  # pixel scale 0..256: 1e-3 is 4e-6 relative
    k = 0.95 / 256 if variant == "thesis" else 0.9 / 256
    edges = logit.forward(np.array([[[[0.0]], [[255.0]]]], "float32")).numpy().ravel()
    np.testing.assert_allclose(edges, scipy.special.logit([0.05, 0.05 + k * 255]), rtol=1e-5)
    s = 0.05 + k * x.astype(np.float64)
    expected = np.sum(np.log(k) - np.log(s) - np.log1p(-s), axis=(1, 2, 3))
    np.testing.assert_allclose(logit.forward_log_det_jacobian(x), expected, rtol=1e-5)


def test_pixel_rescale_log_det():
    _, log_det = bijectors.PixelRescale(3).forward_and_log_det(np.zeros((2, 28, 28, 1), "float32"))
    np.testing.assert_allclose(log_det, -784 * math.log(256), rtol=1e-6)


def test_priors_match_closed_forms():
    z = RNG.normal(size=(5, 3)).astype("float32") * 3
    logistic = bijectors.prior("logistic", 3).log_prob(z).numpy()
    np.testing.assert_allclose(logistic, scipy.stats.logistic.logpdf(z).sum(1), rtol=1e-5)
    sigma = scipy.special.expit
    np.testing.assert_allclose(logistic, np.log(sigma(z) * sigma(-z)).sum(1), rtol=1e-5)
    np.testing.assert_allclose(bijectors.prior("gaussian", 3).log_prob(z),
                               scipy.stats.norm.logpdf(z).sum(1), rtol=1e-5)
    a = bijectors.stateless_prior_sample("logistic", 4, 3, tf.constant([1, 2]))
    b = bijectors.stateless_prior_sample("logistic", 4, 3, tf.constant([1, 2]))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="prior must be one of"):
        bijectors.prior("laplace", 3)


@pytest.mark.parametrize("log_likelihood,dims,delta,bits", [
    (1980.50, 784, 1 / 256, 4.36), (5514.71, 2304, 1 / 256, 4.55),
    (11496.55, 3072, 1 / 256, 2.60), (5371.78, 3072, 2 / 256, 4.48)])
def test_table_5_1_bits_per_dim(log_likelihood, dims, delta, bits):
    assert round(bijectors.bits_per_dim_from_nll(-log_likelihood, dims, delta), 2) == bits


def test_masks():
    board0, board1 = bijectors.checkerboard_mask(4, 4, 0), bijectors.checkerboard_mask(4, 4, 1)
    np.testing.assert_array_equal(board0 + board1, 1.0)
    assert board0[0, 0, 0] == 0 and board0[0, 1, 0] == 1 and board0.sum() == 8
    np.testing.assert_array_equal(bijectors.channel_mask(4, 0).ravel(), [1, 1, 0, 0])
    np.testing.assert_array_equal(bijectors.channel_mask(4, 1).ravel(), [0, 0, 1, 1])
    np.testing.assert_array_equal(bijectors.alternating_mask(5, 1), [1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="even number of channels"):
        bijectors.channel_mask(3, 0)


# ------------------------------------------------------------------------------------ batch norm
def bn_layer(channels=2):
    stats = BatchNormStatistics(channels, nu=1e-6)
    stats.build(None)
    return stats


def test_batch_norm_training_mode():
    stats = bn_layer()
    x = (RNG.normal(size=(8, 4, 4, 2)) * [2.0, 0.5] + [1.0, -3.0]).astype("float32")
    y, log_det = stats.bijector(training=True).forward_and_log_det(x)
    var = x.reshape(-1, 2).astype(np.float64).var(0)
    np.testing.assert_allclose(y.numpy().reshape(-1, 2).mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.numpy().reshape(-1, 2).var(0), var / (var + 1e-6), rtol=1e-4)
    np.testing.assert_allclose(log_det, -0.5 * np.log(var + 1e-6).sum() * 16, rtol=1e-4)
    with pytest.raises(ValueError, match="stored statistics only"):
        stats.bijector(training=True).inverse(y)


def test_batch_norm_inference_mode_is_exact_and_batch_independent():
    stats = bn_layer()
    stats.mean.assign([0.5, -1.0])
    stats.variance.assign([4.0, 0.25])
    stats.status.assign(BatchNormStatistics.ACCUMULATED)
    bijector = stats.bijector(training=False)
    check_bijector(bijector, IMAGE)
    alone = bijector.forward_and_log_det(IMAGE[:1])
    together = bijector.forward_and_log_det(np.concatenate([IMAGE[:1], 100 * IMAGE[1:]]))
    np.testing.assert_array_equal(alone[0], together[0][:1])
    np.testing.assert_array_equal(alone[1], together[1][:1])


def test_stale_batch_norm_statistics_raise():
    stats = bn_layer()
    stats.status.assign(BatchNormStatistics.STALE)
    with pytest.raises(tf.errors.InvalidArgumentError, match="statistics are stale"):
        stats.bijector(training=False).forward(IMAGE)
