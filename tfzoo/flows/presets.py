"""Presets of NICE and Real NVP (``004_6b1d8905d771edf8.txt`` chapter 5). Numbers the thesis does not
give are marked "[not in paper]". This module does not import TensorFlow."""

from tfzoo.recipe import CallbackSpec, Recipe
from tfzoo.registry import Preset, Reported, register

_MODELS = "tfzoo.flows.models"
_PAPER = "004_6b1d8905d771edf8.txt"
# ADAM alpha 1e-3, beta1 0.9, beta2 0.999, damping 1e-8 (L1454; reused in Section 5.4, L1652)
_ADAM = dict(optimizer="adam", learning_rate=1e-3,
             optimizer_args=dict(beta_1=0.9, beta_2=0.999, epsilon=1e-8))
# Batch-norm flows export with the exact training-set statistics (L1588); validation during training
# uses statistics of the first 20 batches [not in paper], since the exact pass costs one pass over the
# training set per batch-norm layer.
_BATCH_NORM = CallbackSpec("tfzoo.flows.callbacks:BatchNormBijector", dict(validation_max_batches=20))

register(Preset(
    name="nice-mnist",
    model=f"{_MODELS}:DenseCouplingFlow",
    config=dict(input_shape=(28, 28, 1), coupling="additive", num_couplings=4, hidden_layers=5,
                hidden_units=1000, prior="logistic", diagonal_scaling=True, preprocessing="rescale"),
    task="mnist",
    recipe=Recipe(**_ADAM, batch_size=100, epochs=1000, jit_compile=True,
                  notes="epochs [not in paper]; 4 additive couplings, 5x1000 ReLU, logistic prior, "
                        "exp(gamma) scaling, Adam 1e-3/0.9/0.999/1e-8, batch 100 (L1454, Table 5.1)"),
    reported=dict(
        log_likelihood=Reported(1980.50, "nats (data in [0,1])", f"{_PAPER}:1472", "Table 5.1"),
        bits_per_dim=Reported(4.36, "bits/dim", f"{_PAPER}:1473", "Table 5.1"),
    ),
    citation=f"{_PAPER}:1454-1499",
    description="NICE on MNIST: 4 additive couplings with 5x1000 ReLU MLPs, exp(gamma), logistic prior.",
    expected_params=19158352,
    test_config=dict(hidden_layers=2, hidden_units=16),
    test_params=4 * (392 * 16 + 16 + 16 * 16 + 16 + 16 * 392 + 392) + 784,
))

register(Preset(
    name="nice-mnist-small",
    model=f"{_MODELS}:DenseCouplingFlow",
    config=dict(input_shape=(28, 28, 1), coupling="additive", num_couplings=4, hidden_layers=2,
                hidden_units=256, prior="logistic", diagonal_scaling=True, preprocessing="rescale"),
    task="mnist",
    recipe=Recipe(**_ADAM, batch_size=100, epochs=10, jit_compile=False,
                  notes="a CPU-sized NICE: 2x256 hidden units instead of 5x1000 [not in paper]"),
    citation=f"{_PAPER}:1454-1499",
    description="A small NICE on MNIST (4 additive couplings, 2x256 ReLU) for CPUs.",
    expected_params=4 * (392 * 256 + 256 + 256 * 256 + 256 + 256 * 392 + 392) + 784,
))

register(Preset(
    name="realnvp-moons",
    model=f"{_MODELS}:DenseCouplingFlow",
    config=dict(input_shape=(2,), coupling="affine", num_couplings=6, hidden_layers=2,
                hidden_units=64, prior="gaussian", diagonal_scaling=False, preprocessing="none",
                dequantize=False, langevin_step_size=1e-3),
    task="moons",
    recipe=Recipe(**_ADAM, batch_size=100, epochs=30, jit_compile=False,
                  notes="Fig. 5.1 gives no hyper-parameters: sizes and epochs [not in paper]"),
    citation=f"{_PAPER}:1342-1348",
    description="Real NVP on two moons (Fig. 5.1): 6 affine couplings with 2x64 ReLU MLPs, Gaussian prior.",
    expected_params=6 * (1 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2 + 1),
))

register(Preset(
    name="realnvp-mnist",
    model=f"{_MODELS}:MultiScaleRealNVP",
    config=dict(input_shape=(28, 28, 1), num_scales=2, num_blocks=2, feature_maps=16,
                final_couplings=4, batch_norm=True, weight_norm=False),
    task="mnist",
    recipe=Recipe(**_ADAM, batch_size=64, epochs=10, jit_compile=False, callbacks=(_BATCH_NORM,),
                  notes="a small multi-scale Real NVP for MNIST; MNIST is not among Section 5.4's "
                        "datasets, so sizes are [not in paper]; Adam and batch 64 follow L1652; plain "
                        "(not weight-normalised) convolutions, the configuration of the 60-minute CPU "
                        "benchmark and of savedmodels/realnvp-mnist"),
    citation=f"{_PAPER}:1630-1652",
    description="Small convolutional multi-scale Real NVP on MNIST (2 scales, ResNet couplings, batch norm).",
    expected_params=305705,
    test_config=dict(num_blocks=1, feature_maps=4),
    test_params=13849,
))

# The presets of Section 5.4 (L1630–1652) with Table 5.2's bits/dim (L1641–1650), each on its data task
# (tfzoo.datasets.load_task: "cifar10", "imagenet32", "imagenet64", "lsun-bedroom", "lsun-tower",
# "lsun-church", "celeba64"). 64x64 images use L = 5 scales (four squeezes, final 4x4, as the 64x64
# example of L1693–1699); ImageNet 32x32 squeezes to 4x4 (L = 4); CIFAR-10 "downscale[s] only once"
# with 8 residual blocks and 64 feature maps. The test_config is a tiny stand-in.
_TABLE_5_2 = f"{_PAPER}:1641-1650"
_TINY = dict(num_scales=2, num_blocks=0, feature_maps=4)  # the preset's image shape, so its task's data fit
_TINY_PARAMS = 14399  # convolutions: the same count at 32x32 and 64x64

for _name, _task, _shape, _scales, _blocks, _fmaps, _test, _train, _params, _data in [
    ("realnvp-cifar10", "cifar10", (32, 32, 3), 2, 8, 64, 3.49, None, 18544779, "CIFAR-10 (test set)"),
    ("realnvp-imagenet32", "imagenet32", (32, 32, 3), 4, 4, 32, 4.28, 4.26, 44288555,
     "ImageNet 32x32 (validation)"),
    ("realnvp-imagenet64", "imagenet64", (64, 64, 3), 5, 2, 32, 3.98, 3.75, 93420915,
     "ImageNet 64x64 (validation)"),
    ("realnvp-lsun-bedroom", "lsun-bedroom", (64, 64, 3), 5, 2, 32, 2.72, 2.70, 93420915,
     "LSUN bedroom (validation)"),
    ("realnvp-lsun-tower", "lsun-tower", (64, 64, 3), 5, 2, 32, 2.81, 2.78, 93420915,
     "LSUN tower (validation)"),
    ("realnvp-lsun-church", "lsun-church", (64, 64, 3), 5, 2, 32, 3.08, 2.94, 93420915,
     "LSUN church_outdoor (validation)"),
    ("realnvp-celeba", "celeba64", (64, 64, 3), 5, 2, 32, 3.02, 2.97, 93420915, "CelebA 64x64 (validation)"),
]:
    _reported = dict(bits_per_dim=Reported(_test, "bits/dim", _TABLE_5_2, _data))
    if _train is not None:
        _reported["train_bits_per_dim"] = Reported(_train, "bits/dim", _TABLE_5_2, "training set")
    register(Preset(
        name=_name,
        model=f"{_MODELS}:MultiScaleRealNVP",
        config=dict(input_shape=_shape, num_scales=_scales, num_blocks=_blocks, feature_maps=_fmaps,
                    final_couplings=4, batch_norm=True, bn_nu=1e-6, horizontal_flips=True),
        task=_task,
        recipe=Recipe(**_ADAM, batch_size=64, epochs=100, jit_compile=False, callbacks=(_BATCH_NORM,),
                      notes="weight-normalised coupling ResNets with L2 5e-5 on the scales (L1576, "
                            "L1652); random horizontal flips of training images (L1652); Adam and batch "
                            "64 (L1652); exact training-set batch-norm statistics (L1588); the thesis "
                            "gives no iteration count: epochs=100 is a paper-scale default [not in paper]"),
        reported=_reported,
        citation=f"{_PAPER}:1630-1652",
        description=f"Real NVP for {_data.split(' (')[0]} (Section 5.4, Table 5.2).",
        expected_params=_params,
        test_config=_TINY,
        test_params=_TINY_PARAMS,
    ))
