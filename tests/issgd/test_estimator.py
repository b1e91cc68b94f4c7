"""The ISSGD estimator (003 chapter 7): unbiasedness, Corollary 2, Theorem 1, smoothing, Keras loss.

Everything is enumerated exactly in float64 over a small training set: no Monte Carlo tolerance,
except for the TensorFlow sampler's frequencies.
"""

import itertools

import numpy as np
import pytest

from tfzoo.issgd import estimator

N, D = 7, 5


def gradients(seed=0):
    """Per-example gradients with very different norms (the case ISSGD is for)."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, D)) * rng.gamma(0.7, size=(N, 1)) + 0.2


def weight_cases():
    g = gradients()
    norms = np.linalg.norm(g, axis=1)
    rng = np.random.default_rng(1)
    stale = np.linalg.norm(g + 0.5 * rng.normal(size=g.shape), axis=1)  # norms of older gradients
    return {
        "uniform": (np.ones(N), 0.0),
        "optimal": (norms, 0.0),
        "random": (rng.uniform(0.05, 5.0, N), 0.0),
        "stale": (stale, 0.0),
        "smoothed": (stale, 10.0),
        "smoothed_with_zeros": (np.where(np.arange(N) % 2 == 0, 0.0, stale), 1.0),
    }


def one_draw_moments(g, omega, c, kept=None):
    """Exact mean and covariance trace of ``s_i g_i`` with ``i ~ q`` (sum over all i)."""
    q = estimator.sampling_probabilities(omega, c, kept)
    support = np.flatnonzero(q)
    s = np.zeros(N)
    s[support] = estimator.importance_weights(omega, support, c, kept)
    values = s[:, None] * g
    mean = q @ values
    return mean, float(q @ np.sum((values - mean) ** 2, axis=1))


@pytest.mark.parametrize("case", list(weight_cases()))
def test_estimator_is_unbiased_by_enumeration(case):
    g = gradients()
    omega, c = weight_cases()[case]
    mean, _ = one_draw_moments(g, omega, c)
    np.testing.assert_allclose(mean, g.mean(axis=0), rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", list(weight_cases()))
def test_corollary2_trace_equals_enumerated_covariance_trace(case):
    g = gradients()
    omega, c = weight_cases()[case]
    norms = np.linalg.norm(g, axis=1)
    mu = np.linalg.norm(g.mean(axis=0))
    closed = estimator.covariance_trace(norms, omega + c, mu)
    _, enumerated = one_draw_moments(g, omega, c)
    np.testing.assert_allclose(closed, enumerated, rtol=1e-12)


def test_minibatch_of_m_draws_has_trace_over_m_and_line_2531_loss_is_unbiased():
    """Enumerates all N^M minibatches of the line-2531 estimator (1/M) Σ_m s_{i_m} g_{i_m}."""
    g = gradients()
    omega, c = weight_cases()["smoothed"]
    q = estimator.sampling_probabilities(omega, c)
    s = estimator.importance_weights(omega, np.arange(N), c)
    m = 3
    mean, second = np.zeros(D), 0.0
    for batch in itertools.product(range(N), repeat=m):
        batch = list(batch)
        prob = np.prod(q[batch])
        value = (s[batch, None] * g[batch]).sum(axis=0) / m
        mean += prob * value
        second += prob * value @ value
    np.testing.assert_allclose(mean, g.mean(axis=0), atol=1e-12)
    trace = second - mean @ mean
    norms = np.linalg.norm(g, axis=1)
    np.testing.assert_allclose(trace, estimator.covariance_trace(norms, omega + c, np.linalg.norm(mean)) / m,
                               rtol=1e-10)


def test_optimal_trace_is_theorem1_value_and_the_minimum():
    g = gradients()
    norms = np.linalg.norm(g, axis=1)
    mu = np.linalg.norm(g.mean(axis=0))
    ideal = estimator.trace_ideal(norms, mu)
    np.testing.assert_allclose(ideal, norms.mean() ** 2 - mu**2, rtol=1e-14)
    _, enumerated = one_draw_moments(g, norms, 0.0)
    np.testing.assert_allclose(ideal, enumerated, rtol=1e-12)
    uniform = estimator.trace_uniform(norms, mu)
    _, enumerated_uniform = one_draw_moments(g, np.ones(N), 0.0)
    np.testing.assert_allclose(uniform, enumerated_uniform, rtol=1e-12)
    assert ideal < uniform
    rng = np.random.default_rng(2)
    for _ in range(200):
        assert ideal <= estimator.covariance_trace(norms, rng.uniform(0.01, 3.0, N), mu) + 1e-12
    # eq. (7.9) is Corollary 2 with h = the stale weights
    stale = weight_cases()["stale"][0]
    assert estimator.trace_stale(norms, stale, mu) == estimator.covariance_trace(norms, stale, mu)


def test_staleness_threshold_keeps_the_estimator_unbiased_for_the_kept_set():
    g = gradients()
    omega, c = weight_cases()["smoothed"]
    kept = np.array([1, 0, 1, 1, 0, 0, 1], bool)
    q = estimator.sampling_probabilities(omega, c, kept)
    assert np.all(q[~kept] == 0) and np.all(q[kept] > 0)
    mean, trace = one_draw_moments(g, omega, c, kept)
    np.testing.assert_allclose(mean, g[kept].mean(axis=0), atol=1e-12)
    norms = np.linalg.norm(g[kept], axis=1)
    np.testing.assert_allclose(trace, estimator.covariance_trace(norms, omega[kept] + c,
                                                                 np.linalg.norm(g[kept].mean(0))), rtol=1e-12)
    with pytest.raises(ValueError, match="outside the kept set"):
        estimator.importance_weights(omega, [1], c, kept)


def test_large_smoothing_gives_uniform_sampling_and_unit_weights():
    omega = weight_cases()["optimal"][0]
    for c, tolerance in [(1e3, 1e-2), (1e6, 1e-5), (1e12, 1e-11)]:
        np.testing.assert_allclose(estimator.sampling_probabilities(omega, c), np.full(N, 1 / N),
                                   rtol=tolerance)
        np.testing.assert_allclose(estimator.importance_weights(omega, np.arange(N), c), 1.0, rtol=tolerance)
    # c = 0 with ω̃ = ‖g‖ is the optimal proposal q* of eq. (7.5)
    np.testing.assert_allclose(estimator.sampling_probabilities(omega, 0.0), omega / omega.sum())
    # c > 0 gives every example a positive probability, even with zero weights
    assert np.all(estimator.sampling_probabilities(np.zeros(N), 1.0) > 0)


def test_equal_weights_give_unit_importance_weights():
    """Line 2533: equal ω̃ fall back to the usual 1/M."""
    s = estimator.importance_weights(np.full(N, 2.0), np.arange(N), 0.5)
    assert np.all(s == 1.0)


def test_invalid_weights_are_refused():
    with pytest.raises(ValueError, match="smoothing"):
        estimator.sampling_probabilities(np.ones(3), -1.0)
    with pytest.raises(ValueError, match="nothing can be sampled"):
        estimator.sampling_probabilities(np.zeros(3), 0.0)
    with pytest.raises(ValueError, match="vector"):
        estimator.sampling_probabilities(np.ones((2, 2)))


def test_tensorflow_sampler_draws_from_q_with_paper_weights():
    import tensorflow as tf

    omega, c = weight_cases()["smoothed_with_zeros"]
    kept = np.array([1, 1, 0, 1, 1, 0, 1], bool)
    proposal = np.where(kept, omega + c, 0.0).astype(np.float32)
    indices, weights = estimator.sample_minibatch(tf.constant(proposal), kept.sum(), 20000,
                                                  tf.constant([3, 4], tf.int64))
    indices, weights = np.asarray(indices), np.asarray(weights)
    assert np.all(kept[indices])
    np.testing.assert_allclose(weights, estimator.importance_weights(omega, indices, c, kept), rtol=1e-6)
    q = estimator.sampling_probabilities(omega, c, kept)
    freq = np.bincount(indices, minlength=N) / len(indices)
    sigma = np.sqrt(q * (1 - q) / len(indices))
    assert np.all(np.abs(freq - q) <= 5 * sigma + 1e-12)


def test_keras_sample_weight_reduction_is_the_line_2531_loss():
    """Keras 3's default reduction divides Σ s_i L_i by M (not by Σ s_i): exactly the paper's loss."""
    import keras

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 4)).astype("float32")
    labels = rng.integers(0, 4, 6)
    s = rng.uniform(0.2, 5.0, 6).astype("float32")
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    per_example = np.asarray(loss.call(labels, logits))
    np.testing.assert_allclose(float(loss(labels, logits, sample_weight=s)), np.sum(s * per_example) / 6,
                               rtol=1e-6)
    assert float(loss(labels, logits, sample_weight=np.ones(6, "float32"))) == float(loss(labels, logits))

    from tfzoo.issgd import check_unbiased_reduction

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="mean_with_sample_weight"))
    with pytest.raises(ValueError, match="self-normalised"):
        check_unbiased_reduction(model)
