"""NICE and Real NVP (Dinh's thesis, ``004_6b1d8905d771edf8.txt`` chapter 5) on TFP bijectors.

Importing this package is light (the registry imports :mod:`tfzoo.flows.presets`); the names below
import TensorFlow on first use.

Example:
    >>> import tfzoo
    >>> model = tfzoo.create_model("realnvp-moons")           # doctest: +SKIP
    >>> model.fit(x_train, epochs=10, batch_size=100)          # doctest: +SKIP
    >>> model.bits_per_dim(x_test)                             # doctest: +SKIP
"""

from tfzoo.lazy import lazy_attributes

_LAZY = {
    "BatchNormBijector": "tfzoo.flows.callbacks",
    "DenseCouplingFlow": "tfzoo.flows.models",
    "FlowModel": "tfzoo.flows.models",
    "MultiScaleRealNVP": "tfzoo.flows.models",
    "inpainting_masks": "tfzoo.flows.models",
    "manifold_latents": "tfzoo.flows.models",
    "sphere_latents": "tfzoo.flows.models",
}
__all__ = sorted(_LAZY)


__getattr__ = lazy_attributes(__name__, _LAZY)
