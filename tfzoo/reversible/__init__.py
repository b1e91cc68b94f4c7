"""Reversible ReLU nets (Arora, Liang, Ma, ``shared/papers/001_ba50c8426a439536.txt``).

* :mod:`tfzoo.reversible.shadow` — the shadow distribution (eqs. 1, 6, 14), the linear model of
  Proposition 2.2 and the reversibility theorems 2.3, 2.4, 3.1 measured (NumPy, seeded).
* :mod:`tfzoo.reversible.models` — :class:`ShadowNet` (SHADOW training, ``shadow_sample``) and the
  :class:`SyntheticTestError` callback.
* :mod:`tfzoo.reversible.random_likeness` — :func:`random_likeness_report` for any Dense layer, the
  Figure 4 panels and a callback.

Importing this package imports neither TensorFlow nor Keras; the submodules do.
"""
