"""Pictures of the score-estimating auto-encoders and GSNs (Alain 2018, Ch. 3 and 5).

``panel(model, ax, data)`` is what :func:`tfzoo.plotting.save_result_figure` draws beside the
training curves of a ``tfzoo train`` run:

* :class:`~tfzoo.gsn.models.ScoreAutoencoder` on 2-D data: the vector field ``r(x) - x`` over the
  training points (Alain 2018, Fig. 3.5: the learned score on the spiral);
* :class:`~tfzoo.gsn.models.GenerativeDAE` and :class:`~tfzoo.gsn.models.GSN`: consecutive samples
  (mean field) of the generative chain from four test images, one row each (Alain 2018, Figs. 5.4
  and 5.6);
* :class:`~tfzoo.gsn.dependency_network.DependencyNetworkGSN` on square binary images: the same
  rows for its chain, one frame per sweep of ``d`` steps (in the manner of Fig. 5.6; the thesis has
  no figure of a dependency network's samples).
"""

from __future__ import annotations

import numpy as np

from tfzoo.plotting import tile_images


def score_field(model, ax, x, grid_size: int = 25):
    """``r(x) - x`` on a grid over the 2-D points ``x``, drawn on top of them."""
    lo, hi = x.min(0) - 0.1, x.max(0) + 0.1
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], grid_size), np.linspace(lo[1], hi[1], grid_size))
    grid = np.stack([gx.ravel(), gy.ravel()], 1).astype(model.input_dtype)
    field = np.asarray(model.reconstruct(grid)) - grid
    ax.scatter(x[:, 0], x[:, 1], s=1, c="violet")
    ax.quiver(grid[:, 0], grid[:, 1], field[:, 0], field[:, 1], angles="xy")
    ax.set_title(f"{model.preset_name or 'DAE'}: r(x) - x (cf. Alain 2018, Fig. 3.5)")


def chain_rows(ax, means, title: str):
    """``means`` (frames, chains, d) of square images as one row of frames per chain."""
    frames, chains, d = means.shape
    side = int(round(np.sqrt(d)))
    ax.imshow(tile_images(np.transpose(means, (1, 0, 2)).reshape(chains * frames, side, side), frames),
              cmap="gray")
    ax.set_title(title)
    ax.axis("off")


def _square_side(d: int) -> int | None:
    side = int(round(np.sqrt(d)))
    return side if side * side == d and side >= 4 else None


def panel(model, ax, data) -> bool:
    """The family's picture of ``model`` (see the module docstring); False when it has none."""
    import tensorflow as tf

    from tfzoo.gsn.dependency_network import DependencyNetworkGSN
    from tfzoo.gsn.models import ScoreAutoencoder

    d = model.input_shape_per_example[0]
    if isinstance(model, ScoreAutoencoder):
        if d != 2:
            return False
        score_field(model, ax, np.asarray(data["train"][0][:2000]))
        return True
    x0 = np.asarray(data["test"][0][:4]).reshape(4, -1).astype("float32")
    if isinstance(model, DependencyNetworkGSN):
        if _square_side(d) is None or model.reconstruction != "bernoulli":
            return False
        chain = tf.function(lambda x: model.sample_chain(x, 10 * d, 1, thin=d))
        _, means = chain(tf.constant(x0))
        chain_rows(ax, np.asarray(means), f"{model.scan}-scan chains, one frame per {d} steps")
        return True
    if _square_side(d) is None:
        return False
    _, means = model.sample_chain(x0, 10, 1)
    chain_rows(ax, np.asarray(means), "chain samples, one row per start")
    return True
