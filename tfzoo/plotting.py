"""Pictures shared by every family: image tiles, training curves, the ``train`` job's PNG.

Each family's picture of a result (samples, decision regions, densities) is drawn by
``panel(model, ax, data) -> bool`` in its ``tfzoo/<family>/plotting.py``;
:func:`save_result_figure` puts it beside the training curves and writes the PNG.
"""

from __future__ import annotations

import importlib

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


def density_and_samples(model, ax, points, title: str, n_samples: int = 500, seed: int = 0,
                        grid_size: int = 150):
    """A 2-D model's ``log p(x)`` on a grid around ``points`` (clipped 10 nats below its maximum) with
    ``n_samples`` of its samples on top (``model.log_prob(x)``, ``model.sample(n, seed)``)."""
    lo, hi = points.min(0) - 0.5, points.max(0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], grid_size), np.linspace(lo[1], hi[1], grid_size))
    grid = np.stack([gx.ravel(), gy.ravel()], 1).astype("float32")
    log_density = np.reshape(np.asarray(model.log_prob(grid)), gx.shape)
    samples = np.asarray(model.sample(n_samples, seed))
    ax.contourf(gx, gy, np.maximum(log_density, log_density.max() - 10), levels=30, cmap="viridis")
    ax.scatter(samples[:, 0], samples[:, 1], s=3, c="w")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title(title)


#: History entries that are bookkeeping of the run (tfzoo.callbacks.BudgetStop), not learning curves.
BOOKKEEPING = ("steps", "cpu_seconds", "epoch_wall_seconds", "epoch_cpu_seconds", "learning_rate")


def plot_history(ax, history: dict, title: str = ""):
    """One curve per logged metric against the epoch (run bookkeeping left out)."""
    history = {k: v for k, v in history.items() if k not in BOOKKEEPING}
    for key, values in history.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=key)
    ax.set_xlabel("epoch")
    if history:
        ax.legend(fontsize=8)
    ax.set_title(title)


def family_plotting(model):
    """The ``tfzoo.<family>.plotting`` module of ``model``'s class, or of the nearest tfzoo class it
    derives from (a user's subclass of a tfzoo model gets its family's picture); None if none has one."""
    for cls in type(model).__mro__:
        parts = cls.__module__.split(".")
        if len(parts) < 3 or parts[0] != "tfzoo":
            continue
        name = f"tfzoo.{parts[1]}.plotting"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        if hasattr(module, "panel"):
            return module
    return None


def family_panel(model, ax, data) -> bool:
    """Draws the picture of ``model``'s family (``tfzoo.<family>.plotting.panel``) on ``ax``;
    returns False when the family has none for this model."""
    plotting = family_plotting(model)
    return bool(plotting.panel(model, ax, data)) if plotting is not None else False


def save_result_figure(path: str, model, data, history: dict) -> str:
    """Writes the family's panel of ``model`` (when it draws one) beside the training curves as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    if not family_panel(model, left, data):
        left.remove()
    plot_history(right, history, model.preset_name or type(model).__name__)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
