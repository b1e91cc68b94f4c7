"""The random-like nets hypothesis report (P214, P596–610, footnote 3 at P133)."""

import json
import math

import keras
import numpy as np
import pytest
from scipy.integrate import trapezoid

from tfzoo.reversible.random_likeness import (RandomLikenessCallback, plot_random_likeness,
                                              random_likeness_report, singular_value_law)

RNG = np.random.default_rng(0)
GAUSSIAN = RNG.standard_normal((256, 256))


@pytest.fixture(scope="module")
def gaussian_report():
    return random_likeness_report(GAUSSIAN, bias=1.0 + 0.02 * RNG.standard_normal(256))


def test_quarter_circle_and_marchenko_pastur_laws():
    s, pdf, cdf = singular_value_law(1.0)
    closed_form = (s * np.sqrt(4 - s**2) / 2 + 2 * np.arcsin(s / 2)) / math.pi
    np.testing.assert_allclose(cdf, closed_form, atol=1e-5)
    for ratio in (1.0, 0.25):  # X of N × λN: mean eigenvalue of XᵀX/N is tr(XᵀX)/(N·λN) = 1
        s, pdf, _ = singular_value_law(ratio)
        assert trapezoid(s**2 * pdf, s) == pytest.approx(1.0, abs=1e-3)


def test_gaussian_kernel_is_random_like_with_uniform_bias(gaussian_report):
    report = gaussian_report
    assert report["spectrum"]["law"] == "quarter-circle" and report["spectrum"]["ks_distance"] < 0.05
    assert abs(report["entries"]["excess_kurtosis"]) < 0.2
    assert report["bias"]["mean_to_std_ratio"] > 5 and report["bias"]["fraction_in_interval"] > 0.99
    assert report["verdict"] == {"spectrum_random_like": True, "entries_gaussian": True, "random_like": True,
                                 "bias_uniform": True}
    assert report["reversibility"]["relative_error"] < 0.3 * report["reversibility"]["linear_relative_error"]
    json.dumps(report)


def test_uniform_kernel_is_spectrally_random_like_but_not_gaussian():
    report = random_likeness_report(RNG.uniform(-1, 1, (256, 256)), reversibility=False)
    assert report["entries"]["excess_kurtosis"] == pytest.approx(-1.2, abs=0.1)
    assert report["verdict"]["spectrum_random_like"] and not report["verdict"]["entries_gaussian"]
    assert not report["verdict"]["random_like"]


def test_low_rank_kernel_is_not_random_like_nor_reversible(gaussian_report):
    low_rank = RNG.standard_normal((256, 8)) @ RNG.standard_normal((8, 256)) + 0.1 * RNG.standard_normal((256, 256))
    report = random_likeness_report(low_rank)
    assert report["spectrum"]["ks_distance"] > 0.3 and not report["verdict"]["random_like"]
    assert report["reversibility"]["relative_error"] > 1.5 * gaussian_report["reversibility"]["relative_error"]


def test_non_square_kernels_use_marchenko_pastur():
    report = random_likeness_report(RNG.standard_normal((600, 200)), reversibility=False)
    assert report["spectrum"]["law"] == "marchenko-pastur" and report["spectrum"]["ks_distance"] < 0.05
    assert report["spectrum"]["law_support"] == pytest.approx([1 - math.sqrt(1 / 3), 1 + math.sqrt(1 / 3)])


def test_dense_layer_report_figure_and_callback(tmp_path):
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(48, name="fc", bias_initializer="ones")])
    report = random_likeness_report(model.get_layer("fc"), reversibility=False)
    assert report["entries"]["shape"] == [64, 48]
    assert report["bias"]["mean_to_std_ratio"] is None and report["verdict"]["bias_uniform"]  # constant bias
    figure = plot_random_likeness(report, str(tmp_path / "panels.png"))
    assert len(figure.axes) == 3 and (tmp_path / "panels.png").exists()
    callback = RandomLikenessCallback("fc", str(tmp_path / "reports"), reversibility=False)
    callback.set_model(model)
    logs = {}
    callback.on_epoch_end(0, logs)
    assert (tmp_path / "reports" / "fc_epoch001.json").exists() and "fc_spectrum_ks" in logs
    with pytest.raises(TypeError, match="Dense"):
        random_likeness_report(keras.layers.ReLU())
    with pytest.raises(ValueError, match="2-D kernel"):
        random_likeness_report(np.ones(5))
