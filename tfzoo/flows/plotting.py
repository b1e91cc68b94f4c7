"""Pictures of a trained flow: the log-density with samples (2-D data), samples (images).

``panel(model, ax, data)`` is what :func:`tfzoo.plotting.save_result_figure` draws beside the
training curves of a ``tfzoo train`` run: for 2-D data the model's log-density on a grid with 500
samples on top (thesis Fig. 5.1, Dinh 2018 §5.3); for images a grid of 36 samples (Fig. 5.3).
"""

from __future__ import annotations

import numpy as np

from tfzoo.plotting import tile_images


def density_and_samples(model, ax, points, n_samples: int = 500, seed: int = 0, grid_size: int = 150):
    """``log p(x)`` on a grid around ``points`` (clipped 10 nats below its maximum) and samples."""
    lo, hi = points.min(0) - 0.5, points.max(0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], grid_size), np.linspace(lo[1], hi[1], grid_size))
    grid = np.stack([gx.ravel(), gy.ravel()], 1).astype("float32")
    log_density = np.reshape(np.asarray(model.log_prob(grid)), gx.shape)
    samples = np.asarray(model.sample(n_samples, seed))
    ax.contourf(gx, gy, np.maximum(log_density, log_density.max() - 10), levels=30, cmap="viridis")
    ax.scatter(samples[:, 0], samples[:, 1], s=3, c="w")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title("log p(x) and samples (cf. Dinh 2018, Fig. 5.1)")


def panel(model, ax, data) -> bool:
    """The flow's picture for a run: density and samples (2-D) or a grid of samples (images)."""
    shape = tuple(model.input_shape_per_example)
    if shape == (2,):
        density_and_samples(model, ax, data["test"][0])
        return True
    if len(shape) == 3:
        samples = np.asarray(model.sample(36, 0))
        if shape[-1] == 1:
            ax.imshow(tile_images(samples, 6), cmap="gray")
        else:
            ax.imshow(tile_images(np.clip(samples / 255.0, 0, 1), 6))
        ax.set_title("samples")
        ax.axis("off")
        return True
    return False
