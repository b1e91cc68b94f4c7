"""Is a trained Dense layer "random-like"? The statistics of the paper's Figure 4, for any layer.

The *random-like nets hypothesis* (``001_ba50c8426a439536.txt`` P30, P214, P596–610): the edge
weights of trained nets "behave like random numbers". The paper's evidence is three panels for
AlexNet's second fully connected layer (Figure 4, P596–610): (a) the weight entries' histogram is
"close to that of a Gaussian distribution", (b) the bias entries are "essentially constant ... mostly
within the interval [0.9, 1.1]", (c) "the distribution of the singular values of the weight matrix
is close to the quartercircular law of random Gaussian matrices". Footnote 3 (P133) measures bias
uniformity by the "mean to standard deviation ratio larger than 5".

:func:`random_likeness_report` measures, for a kernel ``W`` (``n_in × n_out``) and bias ``b``:

1. **Entries**: mean, standard deviation σ̂, skewness, excess kurtosis (0 for a Gaussian, −1.2 for a
   uniform law) and the Kolmogorov–Smirnov distance to ``N(mean, σ̂²)``, plus the histogram.
2. **Bias**: mean, std, ``|mean|/std`` (uniform ⇔ > 5, P133; None for a constant bias) and the fraction of entries within
   ``interval × mean`` (the AlexNet biases were ≈1 and within [0.9, 1.1]: relative interval 0.9–1.1).
3. **Spectrum**: singular values ``s`` of ``(W − mean)/(σ̂√N)``, ``N = max(n_in, n_out)``, against the
   law of a Gaussian matrix with the same shape: with ``λ = min/max ≤ 1`` the squared singular
   values follow the Marchenko–Pastur law on ``[(1 − √λ)², (1 + √λ)²]``, i.e. ``s`` has density
   ``p(s) = √((s₊² − s²)(s² − s₋²)) / (πλs)``; for a square matrix (``λ = 1``, AlexNet's 4096×4096
   layer) this is the paper's quarter-circle ``p(s) = √(4 − s²)/π`` on ``[0, 2]``. The KS distance
   between the empirical singular values and this law is reported. (The Marchenko–Pastur extension
   to non-square layers is ours; the paper only names the square case.) Entries with any law of
   finite variance give the same limit (universality, P30), so a *uniform* kernel is spectrally
   random-like although its histogram is not Gaussian: the two verdicts are separate.
4. **Reversibility** of the layer itself: Theorem 2.3 measured with the layer's own kernel
   (:func:`tfzoo.reversible.shadow.reversal_error`; ``α = 2/(tσ̂²)``).

Thresholds (ours; the paper gives none): spectrum random-like if KS < 0.05 (a Gaussian 256×256
kernel gives ≈0.01, a rank-8 kernel > 0.3), entries Gaussian if |excess kurtosis| < 0.5 and the
entry KS distance < 0.05, bias uniform if ``|mean|/std > 5``.

Example:
    >>> import numpy as np
    >>> W = np.random.default_rng(0).standard_normal((256, 256))
    >>> report = random_likeness_report(W, reversibility=False)
    >>> report["verdict"]["random_like"], report["spectrum"]["law"]
    (True, 'quarter-circle')
"""

from __future__ import annotations

import json
import math
import os

import keras
import numpy as np
from scipy import stats

from tfzoo.reversible.shadow import reversal_error

SPECTRUM_KS_THRESHOLD = 0.05
ENTRY_KS_THRESHOLD = 0.05
KURTOSIS_TOLERANCE = 0.5
BIAS_RATIO_THRESHOLD = 5.0


def singular_value_law(aspect_ratio: float, grid_size: int = 20001):
    """``(s, pdf, cdf)`` on a grid: the singular values of a Gaussian ``N × λN`` matrix over ``√N``.

    ``aspect_ratio`` is ``λ = min/max`` in (0, 1]; λ = 1 is the quarter-circle law. The CDF is the
    trapezoid integral of the density (exact at λ = 1 to 1e-6 against
    ``F(s) = (s√(4 − s²)/2 + 2 arcsin(s/2))/π``).
    """
    lam = float(aspect_ratio)
    if not 0 < lam <= 1:
        raise ValueError(f"aspect ratio min/max must be in (0, 1], got {lam}")
    lo, hi = 1 - math.sqrt(lam), 1 + math.sqrt(lam)
    s = np.linspace(lo, hi, grid_size)
    with np.errstate(divide="ignore", invalid="ignore"):
        pdf = np.sqrt(np.clip((hi**2 - s**2) * (s**2 - lo**2), 0, None)) / (math.pi * lam * s)
    pdf[~np.isfinite(pdf)] = 0.0 if lam < 1 else 2 / math.pi  # λ = 1: p(0) = 2/π
    cdf = np.concatenate([[0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2 * np.diff(s))])
    return s, pdf, cdf / cdf[-1]


def _kernel_and_bias(layer_or_kernel, bias):
    if isinstance(layer_or_kernel, keras.layers.Layer):
        if not hasattr(layer_or_kernel, "kernel"):
            raise TypeError(f"random_likeness_report needs a Dense layer (with a kernel), "
                            f"got {type(layer_or_kernel).__name__}")
        kernel = np.asarray(layer_or_kernel.kernel)
        layer_bias = getattr(layer_or_kernel, "bias", None)
        bias = np.asarray(layer_bias) if bias is None and layer_bias is not None else bias
    else:
        kernel = np.asarray(layer_or_kernel, dtype=float)
    if kernel.ndim != 2 or min(kernel.shape) < 2:
        raise ValueError(f"expected a 2-D kernel (n_in, n_out) with both sizes >= 2, got shape {kernel.shape}")
    return kernel.astype(float), (None if bias is None else np.asarray(bias, float).ravel())


def random_likeness_report(layer_or_kernel, bias=None, *, bias_interval=(0.9, 1.1), bins: int = 60,
                           reversibility: bool = True, reversibility_keep_prob: float = 0.5,
                           reversibility_k: int | None = None, seed: int = 0) -> dict:
    """The JSON-serialisable report described in the module docstring.

    Args:
        layer_or_kernel: a ``keras.layers.Dense`` (built) or a kernel array ``(n_in, n_out)``.
        bias: the bias vector when a kernel array is given (a layer's own bias is used otherwise).
        bias_interval: the fraction of bias entries within ``[lo·mean, hi·mean]`` is reported.
        bins: histogram bins for the entry and bias panels.
        reversibility: also measure Theorem 2.3 with this kernel (costs a few matrix products).
        reversibility_keep_prob: ρ of the shadow samples; ``t = ρ·n_in``.
        reversibility_k: sparsity of ``h``; default the smallest ``k`` with ``k² > t`` (so
            ``k < t < k²``, the theorem's regime), capped at ``n_out``.
        seed: seed of the reversibility samples.
    """
    kernel, bias = _kernel_and_bias(layer_or_kernel, bias)
    entries = kernel.ravel()
    mean, std = float(entries.mean()), float(entries.std())
    counts, edges = np.histogram(entries, bins=bins)
    entry_stats = {
        "shape": list(kernel.shape), "mean": mean, "std": std,
        "skewness": float(stats.skew(entries)), "excess_kurtosis": float(stats.kurtosis(entries)),
        "ks_to_gaussian": float(stats.kstest(entries, "norm", args=(mean, std)).statistic),
        "histogram_counts": counts.tolist(), "histogram_edges": edges.tolist(),
    }

    n_max, n_min = max(kernel.shape), min(kernel.shape)
    singular_values = np.linalg.svd((kernel - mean) / (std * math.sqrt(n_max)), compute_uv=False)
    grid, pdf, cdf = singular_value_law(n_min / n_max)
    spectrum = {
        "law": "quarter-circle" if n_min == n_max else "marchenko-pastur",
        "aspect_ratio": n_min / n_max,
        "ks_distance": float(stats.kstest(singular_values, lambda s: np.interp(s, grid, cdf)).statistic),
        "singular_values": np.sort(singular_values)[::-1].tolist(),
        "law_support": [float(grid[0]), float(grid[-1])],
    }

    bias_stats = None
    if bias is not None:
        b_mean, b_std = float(bias.mean()), float(bias.std())
        lo, hi = sorted((bias_interval[0] * b_mean, bias_interval[1] * b_mean))
        b_counts, b_edges = np.histogram(bias, bins=bins)
        bias_stats = {
            "mean": b_mean, "std": b_std,
            "mean_to_std_ratio": float(abs(b_mean) / b_std) if b_std > 0 else None,  # None: constant
            "fraction_in_interval": float(np.mean((bias >= lo) & (bias <= hi))),
            "interval": [lo, hi], "histogram_counts": b_counts.tolist(), "histogram_edges": b_edges.tolist(),
        }

    reversal = None
    if reversibility:
        n_in, n_out = kernel.shape
        t = reversibility_keep_prob * n_in
        k = reversibility_k or min(n_out, int(math.floor(math.sqrt(t))) + 1)
        reversal = reversal_error(kernel, k=k, keep_prob=reversibility_keep_prob, n_samples=50,
                                  n_calibration=30, seed=seed)

    spectral = spectrum["ks_distance"] < SPECTRUM_KS_THRESHOLD
    gaussian = (abs(entry_stats["excess_kurtosis"]) < KURTOSIS_TOLERANCE
                and entry_stats["ks_to_gaussian"] < ENTRY_KS_THRESHOLD)
    verdict = {
        "spectrum_random_like": bool(spectral), "entries_gaussian": bool(gaussian),
        "random_like": bool(spectral and gaussian),
        "bias_uniform": None if bias_stats is None else bool(
            bias_stats["std"] == 0 or bias_stats["mean_to_std_ratio"] > BIAS_RATIO_THRESHOLD),
    }
    return {"entries": entry_stats, "bias": bias_stats, "spectrum": spectrum, "reversibility": reversal,
            "verdict": verdict}


def plot_random_likeness(report: dict, path: str | None = None, title: str = ""):
    """The three panels of the paper's Figure 4 (P604–608): entries, bias, singular values.

    Returns the matplotlib figure; saves it as PNG when ``path`` is given.
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    entries = report["entries"]
    edges = np.asarray(entries["histogram_edges"])
    widths = np.diff(edges)
    density = np.asarray(entries["histogram_counts"]) / (np.sum(entries["histogram_counts"]) * widths)
    axes[0].bar(edges[:-1], density, widths, align="edge", color="tab:blue", alpha=0.7)
    axes[0].plot(edges, stats.norm.pdf(edges, entries["mean"], entries["std"]), "k-", lw=1.2)
    axes[0].set_title(f"(a) weight entries: kurtosis {entries['excess_kurtosis']:+.2f}, "
                      f"KS {entries['ks_to_gaussian']:.3f}", fontsize=9)
    if report["bias"] is not None:
        bias = report["bias"]
        b_edges = np.asarray(bias["histogram_edges"])
        axes[1].bar(b_edges[:-1], bias["histogram_counts"], np.diff(b_edges), align="edge", color="tab:orange")
        ratio = "constant" if bias["mean_to_std_ratio"] is None else f"|mean|/std {bias['mean_to_std_ratio']:.2f}"
        axes[1].set_title(f"(b) bias entries: {ratio}", fontsize=9)
    else:
        axes[1].set_title("(b) no bias", fontsize=9)
    spectrum = report["spectrum"]
    grid, pdf, _ = singular_value_law(spectrum["aspect_ratio"], grid_size=400)
    axes[2].hist(spectrum["singular_values"], bins=40, density=True, color="tab:green", alpha=0.7)
    axes[2].plot(grid, pdf, "k-", lw=1.2)
    axes[2].set_title(f"(c) singular values vs {spectrum['law']}: KS {spectrum['ks_distance']:.3f}", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=90)
        plt.close(fig)
    return fig


class RandomLikenessCallback(keras.callbacks.Callback):
    """Writes ``random_likeness_report`` of a named Dense layer to JSON every ``every_n_epochs``.

    ``layer_name`` is a stage name of a :class:`tfzoo.classifiers.models.StagedClassifier` (e.g.
    ``"fc2_preact"`` of a ShadowNet) or a Keras layer name. Files: ``<directory>/<layer>_epoch<NNN>.json``; the verdicts also go into the epoch logs as
    ``<layer>_spectrum_ks`` and ``<layer>_entry_kurtosis``.
    """

    def __init__(self, layer_name: str, directory: str, every_n_epochs: int = 1, **report_kwargs):
        super().__init__()
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        self.layer_name = layer_name
        self.directory = directory
        self.every_n_epochs = every_n_epochs
        self.report_kwargs = report_kwargs

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        layer = getattr(self.model, f"stage_{self.layer_name}", None) or self.model.get_layer(self.layer_name)
        report = random_likeness_report(layer, **self.report_kwargs)
        os.makedirs(self.directory, exist_ok=True)
        with open(os.path.join(self.directory, f"{self.layer_name}_epoch{epoch + 1:03d}.json"), "w") as f:
            json.dump(report, f)
        if logs is not None:
            logs[f"{self.layer_name}_spectrum_ks"] = report["spectrum"]["ks_distance"]
            logs[f"{self.layer_name}_entry_kurtosis"] = report["entries"]["excess_kurtosis"]
