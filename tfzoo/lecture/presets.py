"""Presets of the Lecture 3 models (``002_e592b05206285d1e.txt``). The lecture gives almost no training
hyper-parameters; values it does not give are marked "[not in paper]", values from the papers it
cites are marked "[external: ...]"."""

from tfzoo.recipe import Recipe
from tfzoo.registry import Preset, Reported, register

_L = "002_e592b05206285d1e.txt"

register(Preset(
    name="sdresnet-mnist",
    model="tfzoo.lecture.stochastic_depth:StochasticDepthResNet",
    config=dict(blocks_per_stage=3, filters=(16, 32, 64), final_survival_probability=0.5),
    task="mnist",
    recipe=Recipe(optimizer="sgd", learning_rate=0.1, optimizer_args=dict(momentum=0.9), batch_size=128,
                  epochs=10, notes="SGD 0.1, momentum 0.9, batch 128 [external: Huang et al. 2016 sec. 4]; "
                                   "ResNet-20 size and 10 MNIST epochs [not in paper]. Constant-depth "
                                   "baseline: override final_survival_probability=1.0"),
    reported=dict(
        final_survival_probability=Reported(0.5, "probability", "external: Huang et al. 2016 eq. 4",
                                            "the lecture only cites the paper (L33)"),
        training_speedup=Reported(25, "percent less time per epoch", "external: Huang et al. 2016 sec. 4",
                                  "110-layer ResNet on CIFAR-10, not MNIST"),
    ),
    citation=f"{_L}:33-33",
    description="CIFAR-style ResNet-20 with stochastic depth (linear decay to p_L = 0.5) for MNIST.",
    expected_params=270810,
    test_config=dict(blocks_per_stage=1, filters=(4, 8, 16)),
    test_params=5054,
))

_GAN_NOTES = "momentum SGD per L482; its values, k = 1 (L462) [lr, momentum, batch: not in paper]"

register(Preset(
    name="gan-mixture2d",
    model="tfzoo.lecture.gan:GAN",
    config=dict(data_shape=(2,), latent_dim=2, noise="uniform", generator_units=(64, 64),
                discriminator_units=(64, 64), k=1, generator_loss="non_saturating"),
    task="gaussian-mixture-2d",
    recipe=Recipe(optimizer="sgd", learning_rate=0.01, optimizer_args=dict(momentum=0.9), batch_size=128,
                  epochs=20,
                  notes=_GAN_NOTES + "; data: the task gaussian-mixture-2d, "
                                     "tfzoo.datasets.gaussian_mixture_nd(dim=2, n_components=4) [not in paper]"),
    citation=f"{_L}:391-500",
    description="MLP GAN on a 2-D Gaussian mixture, k discriminator steps per generator step.",
    expected_params=8899,
))

register(Preset(
    name="gan-mnist",
    model="tfzoo.lecture.gan:GAN",
    config=dict(data_shape=(28, 28, 1), data_range=(0.0, 255.0), latent_dim=100, noise="uniform",
                generator_units=(256, 512), discriminator_units=(512, 256), k=1,
                generator_loss="non_saturating"),
    task="mnist",
    recipe=Recipe(optimizer="adam", learning_rate=2e-4, optimizer_args=dict(beta_1=0.5), batch_size=100,
                  epochs=50,
                  notes="L482: 'any standard gradient-based learning rule' (the paper used momentum). On this "
                        "MLP GAN, momentum SGD 0.01/0.9 diverged (NaN in epoch 2) and momentum 0.5 collapsed "
                        "to one mode within 4 epochs; Adam 2e-4, beta_1 0.5 (Radford et al. 2016) [external]"),
    citation=f"{_L}:391-509",
    description="MLP GAN on MNIST (the lecture's L509 samples figure); uniform noise prior (L416).",
    expected_params=1093137,
    test_config=dict(latent_dim=8, generator_units=(16,), discriminator_units=(16,)),
    test_params=26049,
))

register(Preset(
    name="sparseae-mnist",
    model="tfzoo.lecture.sparse_autoencoder:SparseAutoencoder",
    config=dict(input_shape=(28, 28, 1), hidden_units=196, rho=0.05, beta=3.0, rho_hat_mode="batch"),
    task="mnist",
    recipe=Recipe(optimizer="adam", learning_rate=1e-3, batch_size=256, epochs=10,
                  notes="rho = 0.05 from L536; beta, sizes and optimiser [not in paper]"),
    reported=dict(rho=Reported(0.05, "mean hidden activation", f"{_L}:536")),
    citation=f"{_L}:532-578",
    description="Sigmoid auto-encoder 784-196-784 with the KL(rho || rho_hat) sparsity penalty.",
    expected_params=308308,
    test_config=dict(hidden_units=8),
    test_params=13336,
))

for _m, _params in ((100, 22900), (400, 211600)):
    _reported_fista_iterations = 18 if _m == 100 else 35  # L636, "LISTA with just one iteration"
    _lista_config = dict(n_inputs=64, n_codes=_m, num_steps=1, alpha=0.1, tied=True, dictionary_seed=0)
    register(Preset(
        name=f"lista-gaussian-m{_m}",
        model="tfzoo.lecture.sparse_coding:LISTA",
        config=_lista_config,
        task=f"sparse-gaussian-m{_m}",
        recipe=Recipe(optimizer="adam", learning_rate=1e-3, batch_size=100, epochs=30,
                      notes=f"data: the task sparse-gaussian-m{_m}, "
                            "x = W_d z + 0.01 noise, 5-sparse z (tfzoo.lecture.sparse_coding.sparse_signals) "
                            "[not in paper]; targets: FISTA codes (L624)"),
        reported=dict(fista_iterations_to_match_lista_1=Reported(
            _reported_fista_iterations, "FISTA iterations", f"{_L}:636",
            "Gregor & LeCun's natural-image patches, not this Gaussian dictionary")),
        citation=f"{_L}:582-636",
        description=f"LISTA with one unrolled step (two shrinkages), m = {_m} codes, random unit-norm dictionary.",
        expected_params=_params,
    ))
    # The same encoder for 8×8 patches of real MNIST digits; W_d is learned from the patches as L588 says
    # and installed with set_dictionary (the constructor's random dictionary is only a placeholder).
    register(Preset(
        name=f"lista-mnist-patches-m{_m}",
        model="tfzoo.lecture.sparse_coding:LISTA",
        config=dict(_lista_config, dictionary="learned", learn_steps=30),
        task="mnist-patches-8x8",
        recipe=Recipe(optimizer="adam", learning_rate=3e-3, batch_size=50, epochs=15,
                      notes="data: the task mnist-patches-8x8, "
                            "x = 8×8 patches of MNIST training digits, mean removed, scaled by 1/255, blank "
                            "patches skipped (tfzoo.lecture.sparse_coding.mnist_patches); W_d = learn_dictionary"
                            f"(x, {_m}, alpha=0.1, steps=30) (SGD on min_z E, L588), set with model.set_dictionary; "
                            "targets: FISTA codes (L624) [patch size, optimiser, epochs: not in paper]"),
        reported=dict(fista_iterations_to_match_lista_1=Reported(
            _reported_fista_iterations, "FISTA iterations", f"{_L}:636",
            "Gregor & LeCun's natural-image patches, not MNIST digit patches")),
        citation=f"{_L}:582-636",
        description=f"LISTA with one unrolled step, m = {_m} codes, for 8×8 MNIST patches (dictionary learned, L588).",
        expected_params=_params,
        test_config=dict(n_codes=16),
        test_params=2320,
    ))
