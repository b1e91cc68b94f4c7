"""Models of Lecture 3 (``shared/papers/002_e592b05206285d1e.txt``): stochastic depth, GANs with k
discriminator steps, the sparse auto-encoder, ISTA/FISTA/LISTA and Entropy-SGD.

LeNet, the MLP and dropout of the same lecture live in :mod:`tfzoo.classifiers` and are reused here.

Modules:

* :mod:`tfzoo.lecture.sparse_coding` — energy, soft threshold, ISTA, FISTA, the LISTA encoder (L582–636).
* :mod:`tfzoo.lecture.gan` — the GAN of L391–500 with k discriminator steps per generator step.
* :mod:`tfzoo.lecture.sparse_autoencoder` — the KL-penalised sparse auto-encoder (L532–578).
* :mod:`tfzoo.lecture.stochastic_depth` — stochastic-depth residual networks (Huang et al. 2016, cited L33).
* :mod:`tfzoo.lecture.entropy_sgd` — Entropy-SGD as a Keras optimiser (L723–751, Chaudhari et al. 2016).
"""
