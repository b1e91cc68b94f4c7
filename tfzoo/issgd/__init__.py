"""ISSGD: importance-sampling SGD with stale, distributed per-example gradient norms.

Paper: ``shared/papers/003_a93095073811cc34.txt`` chapter 7 (lines 2365–2858), Alain, Lamb,
Sankar, Courville & Bengio, "Variance reduction in SGD by distributed importance sampling".

* :mod:`tfzoo.issgd.estimator` — the sampler, importance weights and the closed-form variance
  traces (Theorem 1, Corollary 2, eqs. 7.6–7.9);
* :mod:`tfzoo.issgd.norms` — per-example gradient norms: Proposition 3 for dense layers and a
  vectorised Jacobian path for any model;
* :class:`StaleImportanceWeights` — the ``model.fit`` callback with the weight table and
  simulated workers (exact and relaxed modes, staleness threshold, per-epoch √Tr Σ logs);
* :class:`ISSGDClassifier` — the paper's permutation-invariant MLP with a
  ``per_example_grad_norms`` SavedModel endpoint.

Importing this package is light (the registry imports ``tfzoo.issgd.presets``); the names below
import TensorFlow on first use.
"""

from tfzoo.lazy import lazy_attributes

_LAZY = {
    "ImportanceWeightTable": "tfzoo.issgd.callback",
    "StaleImportanceWeights": "tfzoo.issgd.callback",
    "check_unbiased_reduction": "tfzoo.issgd.callback",
    "ISSGDClassifier": "tfzoo.issgd.models",
}
__all__ = sorted(_LAZY)


__getattr__ = lazy_attributes(__name__, _LAZY)
