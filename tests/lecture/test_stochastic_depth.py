"""Stochastic depth (Huang et al. 2016, EXTERNAL; cited by 002_e592b05206285d1e.txt L33)."""

import numpy as np
import pytest
import tensorflow as tf

from tfzoo.lecture.stochastic_depth import StochasticDepthBlock, StochasticDepthResNet, linear_decay_survival


def test_survival_probabilities_decay_linearly_to_one_half():
    p = linear_decay_survival(54)  # the 110-layer ResNet of Huang et al. has L = 54 blocks
    assert p[-1] == 0.5 and p[0] == pytest.approx(1 - 0.5 / 54)
    np.testing.assert_allclose(np.diff(p), -0.5 / 54)
    # expected depth sum_l p_l = (3L - 1)/4, "about 3L/4" (Huang et al. sec. 3)
    assert sum(p) == pytest.approx((3 * 54 - 1) / 4)
    model = StochasticDepthResNet(blocks_per_stage=2, filters=(4, 8, 8))
    assert [b.survival_probability for b in model.blocks] == linear_decay_survival(6)
    assert StochasticDepthResNet(blocks_per_stage=1, final_survival_probability=1.0).survival_probabilities == [1.0] * 3


def block_and_input(p, seed=0):
    block = StochasticDepthBlock(4, survival_probability=p, seed=seed)
    x = tf.random.stateless_normal([2, 6, 6, 4], [1, 2])
    block(x)
    return block, x


def test_inference_scales_the_branch_by_its_survival_probability():
    block, x = block_and_input(0.7)
    expected = tf.nn.relu(0.7 * block.residual(x) + x)
    np.testing.assert_allclose(block(x, training=False), expected, atol=1e-6)
    np.testing.assert_allclose(block(x, training=False), block(x, training=False))


def test_branch_is_skipped_per_minibatch_with_probability_one_minus_p():
    block, x = block_and_input(0.6, seed=3)
    skip_output = tf.nn.relu(x).numpy()
    call = tf.function(lambda: block(x, training=True))
    outcomes = [np.array_equal(call().numpy(), skip_output) for _ in range(400)]
    skipped = np.mean(outcomes)
    assert abs(skipped - 0.4) < 3 * np.sqrt(0.4 * 0.6 / 400)


def test_skipped_block_gets_zero_gradient_and_kept_block_does_not():
    block, x = block_and_input(0.5, seed=7)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            y = block(x, training=True)
            loss = tf.reduce_sum(y**2)
        grads = tape.gradient(loss, block.trainable_variables, unconnected_gradients="zero")
        return y, tf.add_n([tf.reduce_sum(tf.abs(g)) for g in grads])

    seen = set()
    for _ in range(20):
        y, grad_size = step()
        skipped = np.array_equal(y.numpy(), tf.nn.relu(x).numpy())
        assert (float(grad_size) == 0.0) == skipped
        seen.add(skipped)
    assert seen == {True, False}


def test_downsampling_shortcut_pools_and_zero_pads_channels():
    block = StochasticDepthBlock(8, strides=2, survival_probability=1.0)
    x = tf.random.stateless_normal([1, 6, 6, 4], [0, 1])
    block(x)
    shortcut = block.shortcut(x).numpy()
    assert shortcut.shape == (1, 3, 3, 8)
    np.testing.assert_allclose(shortcut[..., 2:6], tf.nn.avg_pool2d(x, 2, 2, "SAME"), atol=1e-6)
    assert np.all(shortcut[..., :2] == 0) and np.all(shortcut[..., 6:] == 0)
