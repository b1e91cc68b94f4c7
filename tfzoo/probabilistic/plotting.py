"""Pictures of the deep probabilistic models: a mixture's density with samples, MADE and VAE samples.

``panel(model, ax, data)`` is what :func:`tfzoo.plotting.save_result_figure` draws beside the
training curves of a ``tfzoo train`` run:

* :class:`~tfzoo.probabilistic.mixture.GaussianMixtureModel`: the log-density on a grid with 500
  samples of the model (Dinh 2018, Fig. 4.1);
* :class:`~tfzoo.probabilistic.made.MADE`: 16 ancestral samples (image data; Germain et al. 2015,
  Fig. 3, left: samples of a MADE trained on binarised MNIST);
* :class:`~tfzoo.probabilistic.vae.VAE`: the decoder means of 16 prior draws ``z ~ N(0, I)``
  (image data; Kingma & Welling 2014, Fig. 5: random samples of the learned generative model).
"""

from __future__ import annotations

import numpy as np

from tfzoo.plotting import density_and_samples, tile_images


def image_grid(ax, images, title: str):
    ax.imshow(tile_images(np.asarray(images), 4), cmap="gray")
    ax.set_title(title)
    ax.axis("off")


def panel(model, ax, data) -> bool:
    """The family's picture of ``model`` (see the module docstring); False when it has none."""
    from tfzoo.probabilistic.made import MADE
    from tfzoo.probabilistic.mixture import GaussianMixtureModel
    from tfzoo.probabilistic.vae import VAE

    images = len(model.input_shape_per_example) == 3
    if isinstance(model, GaussianMixtureModel):
        if model.dim != 2:
            return False
        density_and_samples(model, ax, np.asarray(data["test"][0]), "log p(x) and samples (cf. Dinh 2018, Fig. 4.1)")
        return True
    if isinstance(model, MADE) and images:
        image_grid(ax, model.sample(16, 0), "MADE samples")
        return True
    if isinstance(model, VAE) and images:
        import tensorflow as tf

        z = tf.random.stateless_normal([16, model.latent_dim], seed=[0, 0])
        image_grid(ax, model.decode(z), "decoder means of z ~ N(0, I)")
        return True
    return False
