"""Pictures of a trained flow: the log-density with samples (2-D data), samples (images).

``panel(model, ax, data)`` is what :func:`tfzoo.plotting.save_result_figure` draws beside the
training curves of a ``tfzoo train`` run: for 2-D data the model's log-density on a grid with 500
samples on top (thesis Fig. 5.1, Dinh 2018 §5.3); for images a grid of 36 samples (Fig. 5.3).
"""

from __future__ import annotations

import numpy as np

from tfzoo.plotting import density_and_samples, tile_images


def panel(model, ax, data) -> bool:
    """The flow's picture for a run: density and samples (2-D) or a grid of samples (images)."""
    shape = tuple(model.input_shape_per_example)
    if shape == (2,):
        density_and_samples(model, ax, np.asarray(data["test"][0]), "log p(x) and samples (cf. Dinh 2018, Fig. 5.1)")
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
