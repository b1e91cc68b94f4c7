"""Theorems 2.3, 2.4, 3.1 and Proposition 2.2 of 001_ba50c8426a439536.txt, measured on Gaussian W.

The theorems hide constants and logarithms (Õ), so the tests check the stated regime, orderings and
scalings; the constants (≈5–11·k/t) were calibrated in specs/lecture_and_arora.md B4 [MY CHECK] and
re-measured here.
"""

import numpy as np
import pytest

from tfzoo.reversible import shadow


@pytest.fixture(scope="module")
def w_2000():
    return shadow.gaussian_weights(2000, 1000, seed=0)


@pytest.fixture(scope="module")
def w_4000():
    return shadow.gaussian_weights(4000, 1000, seed=1)


def test_theorem_2_3_recovers_h_within_k_over_t_and_beats_linear_read_out(w_2000):
    result = shadow.reversal_error(w_2000, k=50, keep_prob=0.5, seed=2)
    assert result["in_regime"] and result["k_over_t"] == pytest.approx(0.05)
    assert result["relative_error"] < 10 * result["k_over_t"]          # eq. (9), constant ≈ 6
    assert result["relative_error"] < 0.3 * result["linear_relative_error"]  # ReLU + offset denoise (P143)
    assert result["offset"] < 0                                         # b = −δ‖h‖ (P145)


def test_doubling_t_roughly_halves_the_error():
    sweep = shadow.reversal_sweep([1000, 2000, 4000], m=1000, k=40, keep_prob=0.5, seed=3)
    errors = [r["relative_error"] for r in sweep]
    for larger_t_error, smaller_t_error in zip(errors[1:], errors[:-1]):
        assert 1.5 < smaller_t_error / larger_t_error < 2.5
    linear = [r["linear_relative_error"] for r in sweep]  # P141: ≈ m/t-type growth without the ReLU
    assert all(lin > 4 * err for lin, err in zip(linear, errors))


def test_theorem_2_4_dropout_half_with_factor_two_is_theorem_2_3_at_half_t(w_4000):
    full = shadow.reversal_error(w_4000, k=50, keep_prob=0.5, seed=4)
    dropped = shadow.reversal_error(w_4000, k=50, keep_prob=0.5, dropout_half=True, seed=4)
    half_t = shadow.reversal_error(w_4000, k=50, keep_prob=0.25, seed=4)
    no_factor = shadow.reversal_error(w_4000, k=50, keep_prob=0.5, dropout_half=True, dropout_factor=1.0, seed=4)
    assert dropped["relative_error"] < 2.5 * full["relative_error"]
    assert dropped["relative_error"] == pytest.approx(half_t["relative_error"], rel=0.2)  # proof at P319
    assert no_factor["relative_error"] > 1.3 * dropped["relative_error"]  # the factor 2 matters (P129)


def test_alpha_two_over_t_puts_the_linear_read_out_on_the_scale_of_h(w_2000):
    rng = np.random.default_rng(5)
    h = shadow.sparse_nonnegative_hidden(1000, 50, 40, seed=rng)
    x = shadow.shadow_sample_layer(w_2000, h, keep_prob=0.5, seed=rng)
    ratio = (x @ w_2000)[h > 0] / h[h > 0]          # E[W_ji x_j] = h_i / 2 and α t = 2 (P172, P311)
    assert 0.9 < ratio.mean() < 1.1


def test_shadow_sample_is_sparse_nonnegative_and_masks_keep_the_right_count(w_2000):
    h = shadow.sparse_nonnegative_hidden(1000, 50, 20, seed=6)
    assert np.all(h >= 0) and np.all(np.count_nonzero(h, axis=1) == 50)
    x = shadow.shadow_sample_layer(w_2000, h, keep_prob=0.3, seed=7)
    assert np.all(x >= 0)
    assert np.mean(x > 0) == pytest.approx(0.3 * 0.5, abs=0.02)  # kept with ρ, then ReLU halves
    fixed = shadow.keep_mask((5, 2000), 0.3, seed=8, mask="fixed_count")
    assert np.all(fixed.sum(axis=1) == 600)
    bernoulli_error = shadow.reversal_error(w_2000, k=50, keep_prob=0.5, seed=9)["relative_error"]
    fixed_error = shadow.reversal_error(w_2000, k=50, keep_prob=0.5, mask="fixed_count", seed=9)["relative_error"]
    assert fixed_error == pytest.approx(bernoulli_error, rel=0.2)


def test_proposition_2_2_linear_model_error_scales_as_sqrt_m_over_n():
    rng = np.random.default_rng(10)
    h = (rng.random((40, 100)) < 0.5).astype(float)      # h ∈ {0, 1}^m
    small = shadow.linear_model_error(shadow.gaussian_weights(1000, 100, seed=11), h)
    large = shadow.linear_model_error(shadow.gaussian_weights(4000, 100, seed=12), h)
    assert 1.6 < small["max_abs_error"] / large["max_abs_error"] < 2.4   # n × 4 → error / 2
    assert small["ratio"] == pytest.approx(large["ratio"], rel=0.2)


def test_theorem_3_1_two_layers_compose_at_modest_extra_cost():
    result = shadow.two_layer_reversal_error((8000, 1000, 200), (4000, 200, 10), seed=13)
    assert result["layer1_relative_error"] < 0.2
    assert result["layer2_relative_error"] < 0.6
    assert result["layer2_relative_error"] <= 1.5 * result["layer2_from_true_h1_relative_error"]
    assert result["linear_layer2_relative_error"] > 4 * result["layer2_relative_error"]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="k <= m"):
        shadow.sparse_nonnegative_hidden(10, 20, 1)
    with pytest.raises(ValueError, match="keep_prob"):
        shadow.keep_mask((2, 3), 0.0)
    with pytest.raises(ValueError, match="coordinates"):
        shadow.shadow_sample_layer(np.ones((4, 3)), np.ones((1, 5)), 0.5)
