"""The neural dependency-network GSN (Sec. 5.3.7, L2040-2054): its sampled chains against the exact
finite-state chain of ``theory.dependency_network_chain``, Prop. 6 after training, clamping, seeds, the
pseudo-likelihood loss and input errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfzoo
from tfzoo import testing
from tfzoo.errors import InputError
from tfzoo.gsn import theory
from tfzoo.gsn.corruption import random_subset_mask
from tfzoo.gsn.dependency_network import (DependencyNetworkGSN, binary_states, exact_stationary_distribution,
                                          joint_conditionals, sample_binary_joint, toy_binary_joint)

D = 3
SHAPE = (2,) * D
POWERS = 2 ** np.arange(D)[::-1]  # C-order state index of theory.dependency_network_chain


def _tv(p, q):
    return 0.5 * float(np.abs(np.asarray(p) - np.asarray(q)).sum())


def _random_network(seed=1, scale=1.5, **kwargs):
    """A 3-variable network with large random weights: strongly dependent, inconsistent conditionals."""
    model = DependencyNetworkGSN(input_dim=D, hidden_units=(8,), seed=seed, **kwargs)
    model.build_from_preset()
    rng = np.random.default_rng(seed)
    for v in model.trainable_variables:
        v.assign(rng.normal(0.0, scale, v.shape).astype(np.float32))
    return model


def _network_conditionals(model, d):
    """``[i][x..., v] = P_theta(x_i = v | x_{-i})``, read from ``conditional(x, e_i)`` on all 2^d states."""
    states = binary_states(d)
    eye = np.eye(d, dtype=np.float32)
    probs = np.stack([model.conditional(states, np.tile(eye[i], (len(states), 1))).numpy()[:, i]
                      for i in range(d)], 1).astype(np.float64)
    return [np.stack([1 - probs[:, i], probs[:, i]], -1).reshape((2,) * d + (2,)) for i in range(d)]


def _frequencies(states):
    return np.bincount((np.asarray(states) @ POWERS).astype(int), minlength=2**D) / len(states)


def _mc_tolerance(p, n):
    """3 x the bound 1/2 sum_j sqrt(p_j (1 - p_j) / n) >= E TV(empirical, p) for n i.i.d. draws (Jensen)."""
    p = np.asarray(p)
    return 3.0 * 0.5 * float(np.sum(np.sqrt(p * (1 - p) / n)))


CHAINS = 20000


def test_sampled_chains_match_the_exact_dependency_network_chain():
    """The Monte-Carlo chain *is* the GSN chain of L2042: the final states of 20,000 independent chains
    started at x = 000 are i.i.d. draws from e_0 K^T, K = mean_i K_i (random scan) or K_1 K_2 K_3 per
    sweep (ordered scan), built by ``theory.dependency_network_chain`` from the conditionals the network
    outputs. T is long enough that e_0 K^T is within 1e-4 of the stationary pi (checked exactly), so
    the empirical TV to pi must be within 3x its expected sampling error (about 0.02 here). The
    conditionals are inconsistent (not those of pi), and the ordered scan's stationary distribution
    differs from the random scan's by more than both tolerances (L2050-2052)."""
    model = _random_network()
    conds = _network_conditionals(model, D)
    k_random = theory.dependency_network_chain(conds, SHAPE, "random")
    k_ordered = theory.dependency_network_chain(conds, SHAPE, "ordered")
    pi_random, pi_ordered = theory.stationary_distribution(k_random), theory.stationary_distribution(k_ordered)
    inconsistency = max(np.abs(joint_conditionals(pi_random)[i] - conds[i]).max() for i in range(D))
    assert inconsistency > 0.1  # a genuine dependency network, not a Gibbs sampler of pi
    x0 = np.zeros((CHAINS, D), np.float32)
    start = np.eye(2**D)[0]
    seed = 5

    sweeps = 20  # ordered: one sweep = D steps = one application of K_1 K_2 K_3
    runs = (("random", k_random, pi_random, 60, 60), ("ordered", k_ordered, pi_ordered, D * sweeps, sweeps))
    for scan, kernel, pi, steps, power in runs:
        exact = start @ np.linalg.matrix_power(kernel, power)
        assert _tv(exact, pi) < 1e-4, scan
        samples, _ = model.sample_chain(x0, steps, seed, scan=scan, thin=steps)
        freq = _frequencies(samples.numpy()[-1])
        tolerance = _mc_tolerance(pi, CHAINS) + 1e-4
        assert _tv(freq, pi) < tolerance, (scan, _tv(freq, pi), tolerance)
        other = pi_ordered if scan == "random" else pi_random
        assert _tv(freq, other) > 2 * tolerance, (scan, _tv(freq, other))


def test_inpainting_samples_the_clamped_chain_and_never_moves_clamped_coordinates():
    """Sec. 5.3.6 for a dependency network: with x_3 = 1 clamped, the random scan resamples x_1 or x_2
    only. Exact counterpart: the chain with P(x_3 | .) replaced by a point mass on its current value
    (K_3 = I, a lazy version with the same stationary law) restricted to {x_3 = 1}. The 20,000 inpainted
    chains' final states match it within 3x the sampling error; clamped coordinates equal x at every
    step, in the samples and the mean field, for both scans and per-row masks."""
    model = _random_network()
    conds = _network_conditionals(model, D)
    conds[2] = np.broadcast_to(np.eye(2)[None, None], SHAPE + (2,)).copy()  # [x1, x2, x3, v] = 1[v = x3]
    allowed = np.arange(2**D)[np.arange(2**D) % 2 == 1]  # x_3 = 1
    kernel = theory.dependency_network_chain(conds, SHAPE, "random")[np.ix_(allowed, allowed)]
    pi = theory.stationary_distribution(kernel)
    steps = 60
    # the model picks s among the 2 free coordinates: (K_1 + K_2) / 2 = (3 K - I) / 2 on {x_3 = 1}
    exact = np.full(4, 0.25) @ np.linalg.matrix_power((3 * kernel - np.eye(4)) / 2, steps)
    assert _tv(exact, pi) < 1e-4
    x = np.tile(np.float32([[0, 0, 1]]), (CHAINS, 1))
    mask = np.tile(np.float32([[0, 0, 1]]), (CHAINS, 1))
    samples, means = model.inpaint(x, mask, steps, 7, thin=steps)
    final = samples.numpy()[-1]
    assert np.all(final[:, 2] == 1)
    freq = _frequencies(final)[allowed]
    assert _tv(freq, pi) < _mc_tolerance(pi, CHAINS) + 1e-4, _tv(freq, pi)

    big = DependencyNetworkGSN(input_dim=8, hidden_units=(6,), subset_size=2, seed=3)
    x = testing.example_batch(big, 5, seed=1)
    mask = (np.random.default_rng(2).uniform(size=x.shape) < 0.5).astype(np.float32)
    for scan in ("random", "ordered"):
        samples, means = big.inpaint(x, mask, 12, 1, scan=scan)
        for array in (samples.numpy(), means.numpy()):
            np.testing.assert_array_equal(array * mask, np.broadcast_to(x * mask, array.shape))
        assert np.any(samples.numpy()[:, mask == 0] != samples.numpy()[:1, mask == 0])


def test_prop6_trained_conditionals_give_a_consistent_joint():
    """Prop. 6 (L2044): after ``fit`` on 20,000 samples of a known 4-variable joint (pseudo-likelihood,
    |s| = 1), the network's conditionals are close to the true ones and the stationary distribution of
    its random-scan chain is close to the true joint -- as close as the training sample's own empirical
    distribution (TV 0.010), and far closer than the untrained network's chain or the product of the
    marginals. The ordered scan's stationary distribution is close too (its conditionals are nearly
    consistent)."""
    d = 4
    p = toy_binary_joint(d, seed=0, coupling=0.5, field=0.3)
    x = sample_binary_joint(p, 20000, seed=1)
    true = np.stack([c[..., 1].reshape(-1) for c in joint_conditionals(p)], 1)
    keras.utils.set_random_seed(0)
    model = tfzoo.create_model("dngsn-toy", seed=0)

    _, pi_untrained = exact_stationary_distribution(model, "random")
    epochs, batch = 10, 200
    schedule = keras.optimizers.schedules.CosineDecay(1e-2, epochs * len(x) // batch, alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(schedule), jit_compile=False)
    model.fit(x, batch_size=batch, epochs=epochs, verbose=0)
    learned, pi_random = exact_stationary_distribution(model, "random")
    _, pi_ordered = exact_stationary_distribution(model, "ordered")
    marginals = x.mean(0)
    independent = np.prod(np.where(binary_states(d) == 1, marginals, 1 - marginals), axis=1)
    assert np.abs(learned - true).max() < 0.06
    assert _tv(pi_random, p) < 0.025, _tv(pi_random, p)
    assert _tv(pi_ordered, p) < 0.03
    assert _tv(pi_untrained, p) > 0.1 and _tv(independent, p) > 0.1


def test_chains_are_reproducible_from_their_seed():
    model = _random_network(seed=2, scale=1.0)
    x0 = testing.example_batch(model, 6, seed=3)
    for scan in ("random", "ordered"):
        a, ma = model.sample_chain(x0, 9, 1, scan=scan)
        b, mb = model.sample_chain(x0, 9, 1, scan=scan)
        c, _ = model.sample_chain(x0, 9, 2, scan=scan)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ma, mb)
        assert not np.array_equal(a, c)
    traced = tf.function(lambda x: model.sample_chain(x, 9, 1))
    np.testing.assert_array_equal(traced(tf.constant(x0))[0], model.sample_chain(x0, 9, 1)[0])
    # each random-scan step changes at most subset_size coordinates of a chain
    samples = model.sample_chain(x0, 9, 1)[0].numpy()
    assert np.all(np.abs(np.diff(np.concatenate([x0[None], samples]), axis=0)).sum(-1) <= 1)


def _numpy_outputs(model, x, mask):
    """The masked MLP in NumPy (float64) from the model's weights: the heads' pre-activations."""
    h = np.concatenate([x * (1 - mask), mask], -1).astype(np.float64)
    for kernel, bias in zip(model.kernels, model.biases):
        h = np.tanh(h @ kernel.numpy() + bias.numpy())
    return [h @ kernel.numpy() + bias.numpy() for kernel, bias in zip(model.head_kernels, model.head_biases)]


def test_training_loss_is_the_masked_nll():
    """``fit`` minimises -sum_{i in s} log P(x_i | x_{-s}), batch mean, with s drawn by
    ``random_subset_mask`` from the seed generator's seed: recomputed here in NumPy (SGD with lr 0 keeps the
    weights, so the logged loss is that of the weights we read). Same for the Normal variant."""
    model = DependencyNetworkGSN(input_dim=10, hidden_units=(7, 5), subset_size=3, seed=4)
    model.build_from_preset()
    model.compile(optimizer=keras.optimizers.SGD(0.0), jit_compile=False)
    x = testing.example_batch(model, 16, seed=5)
    seed = model.seed_generator.state.numpy().astype(np.int32)
    loss = model.fit(x, batch_size=16, epochs=1, verbose=0, shuffle=False).history["loss"][0]
    mask = random_subset_mask(16, 10, 3, seed).numpy()
    assert np.all(mask.sum(1) == 3)
    (logits,) = _numpy_outputs(model, x, mask)
    nll = np.logaddexp(0, logits) - x * logits  # -log Bernoulli(x; sigmoid(logits))
    np.testing.assert_allclose(loss, np.mean(np.sum(mask * nll, 1)), rtol=1e-5)

    normal = DependencyNetworkGSN(input_dim=10, hidden_units=(7,), reconstruction="normal", subset_size=0.2)
    normal.build_from_preset()
    assert normal.subset_size == 2
    xr = testing.example_batch(normal, 8, seed=6)
    mask = random_subset_mask(8, 10, 2, 3).numpy()
    loc, pre_scale = _numpy_outputs(normal, xr, mask)
    scale = np.logaddexp(0, pre_scale) + 1e-3
    nll = 0.5 * ((xr - loc) / scale) ** 2 + np.log(scale) + 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(normal.pseudo_likelihood_loss(xr, 3),
                               np.mean(np.sum(mask * nll, 1)), rtol=1e-5)


@pytest.mark.parametrize("hidden,reconstruction", [((), "bernoulli"), ((6,), "bernoulli"), ((6, 5), "normal")])
def test_all_single_site_conditionals_at_once_equal_one_mask_at_a_time(hidden, reconstruction):
    """``reconstruct`` (the rank-one first-layer shortcut) equals ``conditional`` with s = {i} for each i,
    and ``pseudo_log_likelihood`` is sum_i log P(x_i | x_{-i})."""
    d = 5
    model = DependencyNetworkGSN(input_dim=d, hidden_units=hidden, reconstruction=reconstruction, seed=2)
    model.build_from_preset()
    for j, v in enumerate(model.trainable_variables):  # non-zero biases too
        v.assign(tf.random.stateless_normal(v.shape, [j, 1]))
    x = testing.example_batch(model, 4, seed=3)
    eye = np.eye(d, dtype=np.float32)
    one_at_a_time = [model.conditional(x, np.tile(eye[i], (4, 1))) for i in range(d)]
    if reconstruction == "bernoulli":
        expected = np.stack([c.numpy()[:, i] for i, c in enumerate(one_at_a_time)], 1)
        np.testing.assert_allclose(model.reconstruct(x), expected, rtol=1e-5, atol=1e-6)
        log_p = np.log(np.where(x == 1, expected, 1 - expected)).sum(1)
    else:
        loc = np.stack([c[0].numpy()[:, i] for i, c in enumerate(one_at_a_time)], 1)
        scale = np.stack([c[1].numpy()[:, i] for i, c in enumerate(one_at_a_time)], 1)
        np.testing.assert_allclose(model.reconstruct(x)[0], loc, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(model.reconstruct(x)[1], scale, rtol=1e-5, atol=1e-5)
        log_p = (-0.5 * ((x - loc) / scale) ** 2 - np.log(scale) - 0.5 * np.log(2 * np.pi)).sum(1)
    np.testing.assert_allclose(model.pseudo_log_likelihood(x), log_p, rtol=1e-4, atol=1e-4)


def test_bad_inputs_raise_clear_errors():
    model = DependencyNetworkGSN(input_dim=4, hidden_units=(3,))
    x = np.zeros((2, 4), np.float32)
    seed = 0
    with pytest.raises(InputError, match=r"shape \(None, 4\)"):
        model.reconstruct(np.zeros((2, 5), np.float32))
    with pytest.raises(InputError, match="mask"):
        model.conditional(x, np.zeros((2, 3), np.float32))
    with pytest.raises(InputError, match="mask"):
        model.inpaint(x, np.zeros((3, 4), np.float32), 2, seed)
    with pytest.raises(InputError, match="mask"):
        model.conditional(x, np.zeros((4,), np.float32))
    with pytest.raises(InputError, match="binary"):
        model.sample_chain(np.full((2, 4), 0.5, np.float32), 2, seed)
    with pytest.raises(InputError, match="binary"):
        model.conditional(x, np.full((2, 4), 0.5, np.float32))
    with pytest.raises(ValueError, match="scan"):
        model.sample_chain(x, 2, seed, scan="sequential")
    with pytest.raises(ValueError, match="scan"):
        DependencyNetworkGSN(input_dim=4, scan="gibbs")
    with pytest.raises(ValueError, match="subset_size"):
        DependencyNetworkGSN(input_dim=4, subset_size=5)
    with pytest.raises(ValueError, match="subset_size"):
        DependencyNetworkGSN(input_dim=4, subset_size=1.5)
    with pytest.raises(ValueError, match="reconstruction"):
        DependencyNetworkGSN(input_dim=4, reconstruction="categorical")
    with pytest.raises(tf.errors.InvalidArgumentError, match="binary"):  # inside fit's traced step
        model.compile(optimizer="sgd", jit_compile=False)
        model.fit(np.full((4, 4), 0.5, np.float32), batch_size=4, verbose=0)
    # real-valued data is fine for the Normal variant
    normal = DependencyNetworkGSN(input_dim=4, hidden_units=(3,), reconstruction="normal")
    assert normal.sample_chain(np.full((2, 4), 0.5, np.float32), 2, seed)[0].shape == (2, 2, 4)
