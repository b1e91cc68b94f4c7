"""Pictures of a trained classifier: decision regions (2-D inputs) or labelled test images.

``panel(model, ax, data)`` is what :func:`tfzoo.plotting.save_result_figure` draws beside the
training curves of a ``tfzoo train`` run. Neither picture reproduces a figure of the papers
(Choromanska's Lecture 3 shows only architecture diagrams for the MLP and LeNet; Alain 2018, Ch. 9
and 11, plot probes and Hessian spectra, drawn by :mod:`tfzoo.analysis`): they are a check of the
run. The other families' classifiers draw it too: :mod:`tfzoo.issgd`'s MLP (it has no plotting
module of its own, so :func:`tfzoo.plotting.family_plotting` finds this one) and the stochastic-depth
ResNet of :mod:`tfzoo.lecture`.
"""

from __future__ import annotations

import numpy as np

from tfzoo.plotting import tile_images


def decision_regions(model, ax, x, y, grid_size: int = 200):
    """``P(class 1 | x)`` on a grid around the 2-D points ``x``, with up to 500 of them coloured by ``y``."""
    from keras import ops

    lo, hi = x.min(0) - 0.5, x.max(0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], grid_size), np.linspace(lo[1], hi[1], grid_size))
    grid = np.stack([gx.ravel(), gy.ravel()], 1).astype("float32")
    prob = np.asarray(ops.softmax(model.predict(grid, verbose=0)))[:, 1]
    ax.contourf(gx, gy, np.reshape(prob, gx.shape), levels=20, cmap="RdBu_r", alpha=0.6)
    ax.scatter(x[:500, 0], x[:500, 1], c=y[:500], s=6, cmap="RdBu_r", edgecolors="k", linewidths=0.2)
    ax.set_title("P(class 1) and test points")


def labelled_images(model, ax, x, n: int = 16):
    """The first ``n`` images of ``x`` in a grid, titled with the model's predicted classes."""
    pred = np.argmax(model.predict(x[:n], verbose=0), -1)
    ax.imshow(tile_images(x[:n], int(np.ceil(np.sqrt(n)))), cmap="gray")
    ax.set_title("test images; predicted: " + " ".join(map(str, pred)), fontsize=8)
    ax.axis("off")


def panel(model, ax, data) -> bool:
    """Decision regions with test points (2-D inputs) or labelled test images (image inputs)."""
    x, y = data["test"]
    shape = tuple(model.input_shape_per_example)
    if shape == (2,):
        decision_regions(model, ax, x, y)
    elif len(shape) == 3:
        labelled_images(model, ax, x)
    else:
        return False
    return True
