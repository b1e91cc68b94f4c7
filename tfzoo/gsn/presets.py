"""Presets of the score auto-encoders and GSNs (Alain's thesis, 003_a93095073811cc34.txt Ch. 3 and 5).

Values the thesis does not give are marked "[not in paper]"; "[external]" values come from the
authors' code as described in shared/specs/anchors.md A2-A3.

Parameter counts of the walkback models include their non-trainable schedule variables (walkback
mode, fixed length, continuation probability: 3 scalars) and the per-length counters
(``max_walkback_steps`` integers); the learned ``alpha_k`` add ``max_walkback_steps`` weights.
"""

from tfzoo.recipe import CallbackSpec, Recipe, Schedule
from tfzoo.registry import Preset, Reported, register

_MODELS = "tfzoo.gsn.models"
_PAPER = "003_a93095073811cc34.txt"
# Sets the walkback schedule of the model's config at each epoch and logs the realised chain lengths.
_WALKBACK = CallbackSpec("tfzoo.gsn.callbacks:Walkback")

register(Preset(
    name="dae-spiral",
    model=f"{_MODELS}:ScoreAutoencoder",
    config=dict(input_dim=2, hidden_units=1000, activation="tanh", output_activation="linear",
                tied_weights=False, criterion="dae", sigma=0.01,
                init="data_scaled", init_center=0.0, init_scale=0.22),
    task="spiral",
    recipe=Recipe(optimizer="adam", learning_rate=1e-3, batch_size=1000, epochs=50,
                  notes="the thesis trains by full-batch BFGS for 1000 iterations on a fixed corrupted set "
                        "(L960): ScoreAutoencoder.fit_lbfgs; the Adam recipe for fit is [not in paper]; the data-scaled start "
                        "(init, init_center = 0, init_scale = 0.22, about the spiral's coordinate std) is [not in paper]: "
                        "from Glorot weights every unit is linear on the data and L-BFGS stays at the identity map's loss"),
    citation=f"{_PAPER}:947-976",
    description="DAE on the 2-D spiral: 1000 tanh units, untied linear decoder, sigma = 0.01 (Fig. 3.5).",
    expected_params=5002,
))

register(Preset(
    name="dae-gmm1d",
    model=f"{_MODELS}:ScoreAutoencoder",
    config=dict(input_dim=1, hidden_units=256, activation="tanh", output_activation="linear", criterion="dae",
                sigma=0.06),
    task="gmm1d",
    recipe=Recipe(optimizer="adam", learning_rate=1e-3, batch_size=500, epochs=100,
                  notes="the thesis fits a non-parametric r on a grid (tfzoo.gsn.theory.dae_grid_solution / "
                        "rcae_grid_solution); this parametric DAE, its size and optimiser are [not in paper]"),
    citation=f"{_PAPER}:926-945",
    description="DAE on a 1-D Gaussian mixture (Sec. 3.3.3) with sigma = 0.06, the smallest sigma of Fig. 3.4.",
    expected_params=769,
))

register(Preset(
    name="dae-curve10d",
    model=f"{_MODELS}:ScoreAutoencoder",
    config=dict(input_dim=10, hidden_units=1000, activation="tanh", output_activation="linear", criterion="dae",
                sigma=0.1, mh_proposal_scale=0.1, mh_points=10,
                init="data_scaled", init_center=0.0, init_scale=0.6),
    task="curve10d",
    recipe=Recipe(optimizer="adam", learning_rate=1e-3, batch_size=500, epochs=100,
                  notes="architecture and optimiser [not in paper] (the spiral's is reused); "
                        "sigma_train = sigma_MH = 0.1 (L1070-1073); mh_points n [not in paper]; the data-scaled start "
                        "(init_scale = 0.6 for data in [-1.5, 1.5], L1066) is [not in paper]"),
    citation=f"{_PAPER}:1064-1079",
    description="DAE on a 1-D manifold in R^10, sampled by score-based Metropolis-Hastings (Fig. 3.6).",
    expected_params=21010,
))

_GDAE = dict(input_dim=784, hidden_units=2000, reconstruction="bernoulli", corruption="salt_and_pepper",
             corruption_level=0.5)
_GDAE_RECIPE = Recipe(optimizer="sgd", learning_rate=0.1, batch_size=100, epochs=200,
                      optimizer_args=dict(momentum=0.5), callbacks=(_WALKBACK,),
                      notes="200 epochs (L2091); learning rate, momentum and batch size were 'selected on the "
                            "training objective' and are not given [not in paper]")
_GDAE_REPORTED = dict(
    rbm_ais=Reported(-64.1, "nats", f"{_PAPER}:2099", "RBM, AIS estimate (Cho et al. 2013)"),
    rbm_mixture=Reported(-233.0, "nats", f"{_PAPER}:2099", "RBM, same estimator, 100 Gibbs steps between samples"),
)

register(Preset(
    name="gdae-mnist",
    model=f"{_MODELS}:GenerativeDAE",
    config=dict(**_GDAE, walkback="none", walkback_steps=1, max_walkback_steps=1),
    task="mnist-binarized",
    recipe=_GDAE_RECIPE,
    reported=dict(test_log_likelihood=Reported(-142.0, "nats", f"{_PAPER}:2099-2101",
                                               "reconstruction-mixture estimator, 10,000 consecutive chain states"),
                  **_GDAE_REPORTED),
    citation=f"{_PAPER}:2087-2106",
    description="Generative DAE 784-2000-784 (tanh, Bernoulli output), salt-and-pepper 0.5, no walkback.",
    expected_params=3138784 + 4,
    test_config=dict(hidden_units=16),
    test_params=784 * 16 + 16 + 16 * 784 + 784 + 4,
))

register(Preset(
    name="gdae-mnist-walkback",
    model=f"{_MODELS}:GenerativeDAE",
    config=dict(**_GDAE, walkback="fixed", walkback_steps=5, max_walkback_steps=5),
    task="mnist-binarized",
    recipe=_GDAE_RECIPE,
    reported=dict(test_log_likelihood=Reported(-116.0, "nats", f"{_PAPER}:2099-2101",
                                               "reconstruction-mixture estimator, 10,000 consecutive chain states"),
                  **_GDAE_REPORTED),
    citation=f"{_PAPER}:2087-2106",
    description="Generative DAE 784-2000-784 trained with walkback (5 fixed steps, all 5 pairs; L2091).",
    expected_params=3138784 + 8,
    test_config=dict(hidden_units=16),
    test_params=784 * 16 + 16 + 16 * 784 + 784 + 8,
))

_GSN = dict(layer_sizes=(784, 1000, 1000), hidden_noise_std=2.0, noiseless_first_hidden=True,
            input_corruption_level=0.4, walkback="fixed", walkback_steps=4)
_GSN_RECIPE = Recipe(optimizer="sgd", learning_rate=0.25 * (1 - 0.5) / 784, batch_size=100, epochs=600,
                     optimizer_args=dict(momentum=0.5), schedule=Schedule("exponential", decay=0.99),
                     callbacks=(_WALKBACK,),
                     notes="thesis (L2128): lr 0.25, momentum 0.5, x0.99 per epoch, 100-600 epochs, minibatch 1. "
                           "[reference code yaoli/GSN] (model.py, run_dsn.py): real-valued MNIST /255 as inputs "
                           "and cross-entropy targets (load_mnist; givens X: indexed_batch, the binomially "
                           "sampled batch is unused), minibatch 100 (used here: minibatch 1 costs 660 CPU s per "
                           "epoch here), cost = sum over the 4 reconstructions of the per-pixel mean "
                           "cross-entropy, averaged momentum m <- 0.5 m + 0.5 g, p <- p - 0.25 m, Glorot-uniform "
                           "weights, zero biases, no visible-bias init (vis_init 0); that update is Keras SGD "
                           "momentum 0.5 at lr 0.25 (1 - 0.5), divided by 784 for tfzoo's NLL summed over "
                           "pixels [inferred]. The code's annealing 0.995, 1000 epochs, 1500 hidden units and "
                           "training on train + validation are not used (the thesis gives 0.99, 100-600 epochs, "
                           "1000-1000 in Sec. 5.5.3; validation stays held out for the Parzen sigma)")
_GSN_PARAMS = 784 * 1000 + 1000 * 1000 + 784 + 1000 + 1000

# gsn-mnist trains on real-valued MNIST as the authors' code does; gsn-mnist-binarized is the same
# model and recipe on binarized MNIST (the protocol of an earlier tfzoo version), kept for comparison.
for _name, _task, _reported in (
        ("gsn-mnist", "mnist-unit", dict(
            parzen_log_likelihood=Reported(214.0, "nats", f"{_PAPER}:2130-2158", "GSN-2, standard error 1.1, "
                                           "Gaussian Parzen on 10,000 consecutive mean-field samples"),
            parzen_mnist_train_centres=Reported(24.0, "nats", f"{_PAPER}:2156-2158", "10,000 MNIST training "
                                                "examples as Parzen centres, standard error 1.6"),
            parzen_dae=Reported(-152.0, "nats", f"{_PAPER}:2156-2158", "DAE (GSN-1 without hidden noise), SE 2.2"),
        )),
        ("gsn-mnist-binarized", "mnist-binarized", {})):
    register(Preset(
        name=_name,
        model=f"{_MODELS}:GSN",
        config=_GSN,
        task=_task,
        recipe=_GSN_RECIPE,
        reported=_reported,
        citation=f"{_PAPER}:2108-2158",
        description=f"GSN-2 784-1000-1000 on {_task}: odd/even updates, tied weights, hidden noise std 2, "
                    "salt-and-pepper 0.4.",
        expected_params=_GSN_PARAMS + 7,
        test_config=dict(layer_sizes=(784, 16, 16)),
        test_params=784 * 16 + 16 * 16 + 784 + 16 + 16 + 7,
    ))

register(Preset(
    name="gsn-mnist-scaled",
    model=f"{_MODELS}:GSN",
    config=dict(_GSN, learn_scaling=True),
    task="mnist-unit",
    recipe=_GSN_RECIPE,
    reported=dict(parzen_log_likelihood=Reported(237.44, "nats", f"{_PAPER}:2171",
                                                 "best GSN with learned scaling factors, sampled with alpha_1; "
                                                 "Parzen sigma on validation, 10,000 consecutive samples")),
    citation=f"{_PAPER}:2160-2182",
    description="GSN-2 784-1000-1000 with learned walkback scaling factors alpha_k (Sec. 5.3.3, 5.5.3).",
    expected_params=_GSN_PARAMS + 7 + 4,
    test_config=dict(layer_sizes=(784, 16, 16)),
    test_params=784 * 16 + 16 * 16 + 784 + 16 + 16 + 7 + 4,
))

# ---------------------------------------------- dependency networks as GSNs (Sec. 5.3.7, L2040-2054)
# The thesis has no dependency-network experiment: every size and recipe below is [not in paper].
_DNGSN = "tfzoo.gsn.dependency_network:DependencyNetworkGSN"

register(Preset(
    name="dngsn-mnist",
    model=_DNGSN,
    config=dict(input_dim=784, hidden_units=(500, 500), activation="tanh", reconstruction="bernoulli",
                subset_size=1, scan="random"),
    task="mnist-binarized",
    recipe=Recipe(optimizer="adam", learning_rate=1e-3, batch_size=100, epochs=20,
                  notes="no dependency-network experiment in the thesis: the masked MLP 1568-500-500-784 "
                        "(input (x(1-m), m)), |s| = 1 (pseudo-likelihood, 'possibly constrained to be of size 1', "
                        "L2042) and the Adam recipe are [not in paper]"),
    citation=f"{_PAPER}:2040-2054",
    description="Dependency-network GSN on binarized MNIST: one masked MLP gives every conditional "
                "P(x_s given x_-s); random-scan chain.",
    expected_params=2 * 784 * 500 + 500 + 500 * 500 + 500 + 500 * 784 + 784,
    test_config=dict(hidden_units=(16, 16)),
    test_params=2 * 784 * 16 + 16 + 16 * 16 + 16 + 16 * 784 + 784,
))

register(Preset(
    name="dngsn-toy",
    model=_DNGSN,
    config=dict(input_dim=4, hidden_units=(32, 32), activation="tanh", reconstruction="bernoulli",
                subset_size=1, scan="random"),
    task="binary-toy4",
    recipe=Recipe(optimizer="adam", learning_rate=1e-2, batch_size=200, epochs=10,
                  notes="[not in paper]: the task binary-toy4, samples of "
                        "tfzoo.gsn.dependency_network.toy_binary_joint (4 binary variables, exact joint "
                        "known) so Prop. 6 can be checked against the exact chain "
                        "(theory.dependency_network_chain); tests add cosine decay of the learning rate"),
    citation=f"{_PAPER}:2040-2054",
    description="Dependency-network GSN on 4 binary variables (toy Ising joint), for Prop. 6 checks.",
    expected_params=8 * 32 + 32 + 32 * 32 + 32 + 32 * 4 + 4,
))
