"""Pictures shared by every family: image tiles, training curves, the ``train`` job's PNG.

A model's :meth:`tfzoo.base.ZooModel.plot_panel` draws its own picture of a result (samples,
decision regions, densities) on one axis; :func:`save_result_figure` puts it beside the training
curves and writes the PNG.
"""

from __future__ import annotations

import numpy as np


def tile_images(images, columns: int) -> np.ndarray:
    """Arranges ``images`` (n, h, w) or (n, h, w, 1) in a grid ``columns`` wide (missing tiles are 0)."""
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[..., 0]
    n, h, w = images.shape
    rows = -(-n // columns)
    grid = np.zeros((rows * h, columns * w), images.dtype)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[r * h:(r + 1) * h, c * w:(c + 1) * w] = image
    return grid


def plot_history(ax, history: dict, title: str = ""):
    """One curve per logged metric against the epoch."""
    for key, values in history.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=key)
    ax.set_xlabel("epoch")
    if history:
        ax.legend(fontsize=8)
    ax.set_title(title)


def save_result_figure(path: str, model, data, history: dict) -> str:
    """Writes ``model.plot_panel`` (when it draws one) beside the training curves as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    if not model.plot_panel(left, data):
        left.remove()
    plot_history(right, history, model.preset_name or type(model).__name__)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
