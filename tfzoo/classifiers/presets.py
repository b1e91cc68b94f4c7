"""Presets of the classic classifiers. Numbers the sources do not give are marked "[not in paper]"."""

from tfzoo.recipe import Recipe, Schedule
from tfzoo.registry import Preset, Reported, register

_MODELS = "tfzoo.classifiers.models"

register(Preset(
    name="mlp-moons",
    model=f"{_MODELS}:MLPClassifier",
    config=dict(hidden_units=(64, 64), dropout=0.1, input_shape=(2,), num_classes=2, input_scale=1.0),
    task="moons",
    recipe=Recipe(optimizer="adam", learning_rate=1e-2, batch_size=100, epochs=10),
    citation="002_e592b05206285d1e.txt:362-389",
    description="Two-hidden-layer ReLU MLP with dropout on two moons: the offline quick-start model.",
    expected_params=4482,
))

register(Preset(
    name="mlp-mnist",
    model=f"{_MODELS}:MLPClassifier",
    config=dict(hidden_units=(1024, 1024), dropout=0.5, dropout_convention="scale_at_test"),
    task="mnist",
    recipe=Recipe(optimizer="adam", learning_rate=1e-3, batch_size=100, epochs=20,
                  notes="optimiser and sizes [not in paper]: the lecture gives dropout 0.5 only"),
    citation="002_e592b05206285d1e.txt:362-389",
    description="ReLU MLP 784-1024-1024-10 with the lecture's scale-at-test dropout (p = 0.5).",
    expected_params=1863690,
))

register(Preset(
    name="lenet-mnist",
    model=f"{_MODELS}:LeNet",
    config=dict(dropout=0.5),
    task="mnist",
    recipe=Recipe(optimizer="adam", learning_rate=1e-3, batch_size=128, epochs=10,
                  notes="optimiser, batch size and epochs [not in paper]"),
    citation="002_e592b05206285d1e.txt:316-332",
    description="The lecture's LeNet: 32x32 input, conv 4 and 6 maps 5x5, max-pool, 150-128-10.",
    expected_params=21328,
))

register(Preset(
    name="convnet-mnist",
    model=f"{_MODELS}:ConvNet",
    config=dict(filters=(32, 64), dense_units=512, dropout=0.5, l2=5e-4),
    task="mnist",
    recipe=Recipe(optimizer="sgd", learning_rate=0.01, batch_size=64, epochs=10,
                  optimizer_args=dict(momentum=0.9), schedule=Schedule("exponential", decay=0.95),
                  notes="recipe of tensorflow/models image/mnist/convolutional.py [external, "
                        "not in the thesis]; the thesis trains 10 epochs (003 line 3108)"),
    reported=dict(
        probe_test_error_random_first=Reported(0.08, "fraction", "003_a93095073811cc34.txt:3110",
                                               "probe at the input, untrained model"),
        probe_test_error_random_best=Reported(0.02, "fraction", "003_a93095073811cc34.txt:3110",
                                              "best probe on random features"),
    ),
    citation="003_a93095073811cc34.txt:3094-3113",
    description="The MNIST convnet the probes paper studies (tensorflow/models convolutional.py).",
    expected_params=1663370,
))

register(Preset(
    name="relu-lenet-mnist",
    model=f"{_MODELS}:ConvNet",
    config=dict(filters=(32, 64), dense_units=1024, dropout=0.0),
    task="mnist",
    recipe=Recipe(optimizer="rmsprop", learning_rate=1e-3, batch_size=32, epochs=5,
                  notes="RMSProp and batch 32 from 003 line 3336; learning rate and epochs [not in paper]"),
    reported=dict(parameters=Reported(3.3e6, "parameters", "003_a93095073811cc34.txt:3326-3328")),
    citation="003_a93095073811cc34.txt:3326-3338",
    description="LeNet with ReLU of the Hessian paper: 2 conv, 2 dense, about 3.3M parameters.",
    expected_params=3274634,
))
