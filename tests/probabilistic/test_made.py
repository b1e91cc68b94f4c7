"""MADE (Germain et al. 2015; sketched in thesis 004 L1142-1168): the autoregressive property by
autodiff, exact normalisation by enumeration, ancestral sampling against the density."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from tfzoo.errors import InputError
from tfzoo.probabilistic.made import MADE, made_degrees


def all_binary(d):
    return np.array(list(itertools.product([0, 1], repeat=d)), "float32")


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("ordering", ["natural", "random"])
def test_autoregressive_property_by_jacobian(likelihood, ordering):
    model = MADE(input_shape=(6,), hidden_units=(16, 16), likelihood=likelihood, ordering=ordering, seed=4)
    x = tf.constant(np.random.default_rng(0).normal(size=(3, 6)), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        params = model.conditional_parameters(x)
        params = params if likelihood == "bernoulli" else tf.concat(params, -1)
    jacobian = np.abs(tape.batch_jacobian(params, x).numpy()).max(0)      # (outputs, inputs)
    order = model.degrees[0]                                               # m^0: position in the ordering
    per_parameter_degree = np.tile(order, jacobian.shape[0] // 6)
    forbidden = order[None, :] >= per_parameter_degree[:, None]           # j >= k in the order
    assert np.all(jacobian[forbidden] == 0.0)
    assert np.all(jacobian[per_parameter_degree == 1] == 0.0)             # the first is unconditional
    assert jacobian[~forbidden].max() > 0.0                               # and the rest is not trivial


@pytest.mark.parametrize("ordering,seed", [("natural", 0), ("random", 1), ("random", 2)])
def test_bernoulli_made_normalises_exactly(ordering, seed):
    model = MADE(input_shape=(5,), hidden_units=(10, 10), ordering=ordering, seed=seed)
    total = np.exp(model.log_prob(all_binary(5)).numpy().astype(np.float64)).sum()
    assert abs(total - 1.0) < 1e-5


def test_gaussian_made_integrates_to_one():
    model = MADE(input_shape=(2,), hidden_units=(8,), likelihood="gaussian", ordering="random", seed=3)
    step = 0.05
    g = np.arange(-10, 10, step) + step / 2
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2).astype("float32")
    assert abs(np.exp(model.log_prob(grid).numpy()).sum() * step**2 - 1.0) < 1e-3


def test_ancestral_samples_follow_log_prob():
    model = MADE(input_shape=(3,), hidden_units=(12,), ordering="random", seed=5)
    states = all_binary(3)
    probabilities = np.exp(model.log_prob(states).numpy())
    samples = model.sample(20000, 11).numpy()
    codes = samples @ np.array([4, 2, 1])
    frequencies = np.bincount(codes.astype(int), minlength=8) / len(samples)
    standard_error = np.sqrt(probabilities * (1 - probabilities) / len(samples))
    assert np.all(np.abs(frequencies - probabilities) < 5 * standard_error + 1e-4)
    np.testing.assert_array_equal(samples, model.sample(20000, 11).numpy())


def test_degrees_follow_germain():
    degrees = made_degrees(7, (20, 20), "random", seed=0)
    assert sorted(degrees[0]) == list(range(1, 8))
    for earlier, later in zip(degrees[:-1], degrees[1:]):
        assert later.min() >= min(earlier.min(), 6) and later.max() <= 6


def test_bad_input_is_refused():
    with pytest.raises(InputError, match="at least 2"):
        MADE(input_shape=(1,), hidden_units=(4,))
    model = MADE(input_shape=(4,), hidden_units=(4,))
    with pytest.raises(InputError, match=r"\(None, 4\)"):
        model.log_prob(np.zeros((2, 5), "float32"))
