"""NICE and Real NVP (Dinh's thesis, ``004_6b1d8905d771edf8.txt`` chapter 5) on TFP bijectors.

Importing this package imports TensorFlow; the registry imports only :mod:`tfzoo.flows.presets`.

Example:
    >>> import tfzoo
    >>> model = tfzoo.create_model("realnvp-moons")           # doctest: +SKIP
    >>> model.fit(x_train, epochs=10, batch_size=100)          # doctest: +SKIP
    >>> model.bits_per_dim(x_test)                             # doctest: +SKIP
"""

from tfzoo.flows.callbacks import BatchNormBijector
from tfzoo.flows.models import (DenseCouplingFlow, FlowModel, MultiScaleRealNVP, inpainting_masks,
                                manifold_latents)

__all__ = ["BatchNormBijector", "DenseCouplingFlow", "FlowModel", "MultiScaleRealNVP",
           "inpainting_masks", "manifold_latents"]
