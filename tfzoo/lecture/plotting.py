"""Pictures of Lecture 3's models: GAN samples, the sparse auto-encoder's features.

``panel(model, ax, data)`` is what :func:`tfzoo.plotting.save_result_figure` draws beside the
training curves of a ``tfzoo train`` run:

* :class:`~tfzoo.lecture.gan.GAN`: generator samples, an image grid or a scatter over the data
  (Goodfellow et al. 2014, Fig. 2, which the lecture shows: samples from the model);
* :class:`~tfzoo.lecture.sparse_autoencoder.SparseAutoencoder`: the norm-bounded input that
  maximally activates each of up to 100 hidden units (the lecture's figure of them, from Ng's
  UFLDL sparse-autoencoder tutorial, Ng 2011);
* :class:`~tfzoo.lecture.stochastic_depth.StochasticDepthResNet`: the classifiers' panel
  (:func:`tfzoo.classifiers.plotting.panel`; Huang et al. 2016 plot only error curves);
* LISTA has none (its comparison with ISTA and FISTA, Gregor & LeCun 2010, is a curve of code error
  against iterations, which the lecture's notebook draws).

:func:`plot_samples` also draws the frames of :class:`tfzoo.lecture.gan.SampleGrid`.
"""

from __future__ import annotations

import math

import numpy as np

from tfzoo.plotting import tile_images


def plot_samples(ax, gan, real=None, n: int = 64, seed: int = 0):
    """Draws ``gan.sample(n, seed)`` on ``ax``: an 8-wide image grid, or a 2-D scatter over ``real``."""
    samples = np.asarray(gan.sample(n, seed))
    if samples.ndim == 4:
        side = int(math.sqrt(n))
        rows = [np.concatenate(list(samples[r * side:(r + 1) * side, ..., 0]), 1) for r in range(side)]
        ax.imshow(np.concatenate(rows, 0), cmap="gray")
        ax.axis("off")
    else:
        if real is not None:
            ax.scatter(real[:1000, 0], real[:1000, 1], s=3, alpha=0.3, label="data")
        ax.scatter(samples[:, 0], samples[:, 1], s=6, c="r", label="G(z)")
        ax.legend(fontsize=8)
    ax.set_title(f"generator samples ({gan.preset_name or 'GAN'})")


def max_activating_inputs(model, ax, max_units: int = 100):
    """The inputs maximally activating (L569–578) each of up to ``max_units`` hidden units, as tiles."""
    filters = model.max_activating_inputs()[:max_units]
    side = int(math.isqrt(filters.shape[1]))
    ax.imshow(tile_images(filters[:, : side * side].reshape(-1, side, side), 10), cmap="gray")
    ax.set_title("inputs maximally activating each hidden unit (L572)", fontsize=9)
    ax.axis("off")


def panel(model, ax, data) -> bool:
    """The family's picture of ``model`` (see the module docstring); False when it has none."""
    from tfzoo.classifiers.models import StagedClassifier
    from tfzoo.lecture.gan import GAN
    from tfzoo.lecture.sparse_autoencoder import SparseAutoencoder

    if isinstance(model, GAN):
        plot_samples(ax, model, data["test"][0])
        return True
    if isinstance(model, SparseAutoencoder):
        max_activating_inputs(model, ax)
        return True
    if isinstance(model, StagedClassifier):
        from tfzoo.classifiers import plotting

        return plotting.panel(model, ax, data)
    return False
