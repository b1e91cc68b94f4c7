"""Model analysis toolkit for any Keras model: linear classifier probes, Hessian spectra, sharpness.

Submodules (each imports TensorFlow; this package itself does not, so the registry can read
``tfzoo.analysis.presets`` cheaply):

* :mod:`tfzoo.analysis.probes` — ``attach_probes``, ``ProbeMonitor``, post-hoc probes on cached
  features and SavedModel export of a probed model (``003_a93095073811cc34.txt`` chapter 9);
* :mod:`tfzoo.analysis.hessian` — Hessian-vector products, ``LA(k)``/``SA(k)``, the eq. (11.1) line
  search, ``HessianSpectrum`` and spectral densities (``003`` chapter 11);
* :mod:`tfzoo.analysis.sharpness` — ``alpha_scale`` and sharpness measures
  (``004_6b1d8905d771edf8.txt`` chapter 3).
"""
