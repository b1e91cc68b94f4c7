"""Deep probabilistic models of Dinh's thesis, chapter 4 (``004_6b1d8905d771edf8.txt`` L1020–1310).

* :class:`~tfzoo.probabilistic.mixture.GaussianMixtureModel` — mixture of Gaussians (L1090–1129),
  fitted by EM (closed-form M-step) or by gradient descent with ``fit``.
* :class:`~tfzoo.probabilistic.made.MADE` — the masked autoencoder for distribution estimation the
  thesis cites for autoregressive masking (L1148–1160); the thesis only sketches it, so the
  degrees and masks follow Germain et al. (2015).
* :class:`~tfzoo.probabilistic.vae.VAE` — the Helmholtz machine / variational autoencoder with the
  reparametrization trick or the REINFORCE estimator, the analytic KL and the IWAE-K bound
  (L1203–1302), plus the thesis's Observation 1 (L1420–1444).

Example:
    >>> import tfzoo
    >>> model = tfzoo.create_model("mog-2d")               # doctest: +SKIP
    >>> model.count_params()                               # doctest: +SKIP
    48

Importing this package is free; the model modules import TensorFlow and TFP.
"""
