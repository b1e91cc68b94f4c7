"""Presets of the chapter-4 models of Dinh's thesis. The thesis gives no hyper-parameters for them
(``shared/specs/dinh.md`` §5.10): architectures and recipes not in the thesis are marked, and the
numbers to compare with come from the papers the thesis cites (external, stated with their source)."""

from tfzoo.recipe import CallbackSpec, Recipe
from tfzoo.registry import Preset, Reported, register

_PACKAGE = "tfzoo.probabilistic"

register(Preset(
    name="mog-2d",
    model=f"{_PACKAGE}.mixture:GaussianMixtureModel",
    config=dict(num_components=8, dim=2, covariance="full", init_scale=1.0, seed=0),
    task="moons",
    recipe=Recipe(optimizer="adam", learning_rate=1e-2, batch_size=500, epochs=30,
                  callbacks=(CallbackSpec("tfzoo.probabilistic.mixture:ExpectationMaximization",
                                          dict(iterations=100, init="data", min_variance=1e-6)),),
                  notes="100 EM iterations from K distinct data points (before the first epoch; L1119-1127), "
                        "with 1e-6 added to the covariance diagonals so no component collapses onto one "
                        "point (scikit-learn's reg_covar) [not in paper]; "
                        "then the Adam epochs fine-tune; K = 8, the two-moons data, Adam and the EM iteration "
                        "count [not in paper]: the thesis's Fig. 4.1 gives no parameters (004 L1096)"),
    citation="004_6b1d8905d771edf8.txt:1090-1129",
    description="Full-covariance mixture of 8 Gaussians in 2-D fitted by EM or gradient descent (thesis Fig. 4.1).",
    expected_params=48,
))

register(Preset(
    name="made-mnist",
    model=f"{_PACKAGE}.made:MADE",
    config=dict(input_shape=(28, 28, 1), hidden_units=(500,), likelihood="bernoulli", ordering="natural",
                activation="relu", seed=0),
    task="mnist-binarized",
    recipe=Recipe(optimizer="adam", learning_rate=1e-3, batch_size=100, epochs=20,
                  notes="one hidden layer of 500 units and one mask, Germain et al. (2015)'s smallest "
                        "MNIST model [external]; optimiser, rate and epochs [not in paper]"),
    reported=dict(test_nll=Reported(
        88.40, "nats", "Germain et al. 2015, Table 6 [external, not in the thesis; quoted from memory, "
        "not checkable offline]",
        "MADE, 1 hidden layer, 1 mask, on the fixed stochastic binarization of Larochelle & Murray "
        "(ours: thresholded at 0.5)")),
    citation="004_6b1d8905d771edf8.txt:1142-1168",
    description="MADE (Germain et al. 2015) with one masked hidden layer of 500 ReLUs, Bernoulli conditionals.",
    expected_params=785284,
))

register(Preset(
    name="vae-mnist",
    model=f"{_PACKAGE}.vae:VAE",
    config=dict(input_shape=(28, 28, 1), hidden_units=(200, 200), latent_dim=50, activation="tanh",
                likelihood="bernoulli", estimator="reparametrization", seed=0),
    task="mnist-binarized",
    recipe=Recipe(optimizer="adam", learning_rate=1e-3, batch_size=20, epochs=20,
                  notes="784-200-200-50 tanh with a Bernoulli decoder, batch 20: Burda et al. (2016)'s "
                        "one-stochastic-layer model [external]; rate and epochs [not in paper] (Burda "
                        "et al. train 3280 passes with a decaying rate)"),
    reported=dict(
        test_nll_vae=Reported(
            86.76, "nats", "Burda et al. 2016, Table 1 [external; quoted from memory, not checkable "
            "offline]", "VAE k=1, one stochastic layer, -log p(x) estimated by IWAE-5000; dynamically "
            "binarized MNIST (ours: thresholded)"),
        test_nll_iwae_k50=Reported(
            84.78, "nats", "Burda et al. 2016, Table 1 [external; quoted from memory]",
            "the same architecture trained with the IWAE k=50 objective (not implemented here)"),
    ),
    citation="004_6b1d8905d771edf8.txt:1197-1302",
    description="VAE 784-200-200-50 (tanh, Bernoulli decoder) with reparametrized or REINFORCE gradients, IWAE-K.",
    expected_params=425284,
))
