"""Classic classifiers: the lecture's MLP and LeNet, the probes paper's MNIST convnet, the Hessian
paper's ReLU LeNet.

Each is a stack of named stages, so :meth:`StagedClassifier.intermediate_outputs` exposes every
pre-activation, activation and pooling output by name (the places where the probes paper, ``003``
lines 3094–3113, inserts linear classifier probes). Inputs are raw pixel values (0..255 for
images), scaled inside the model, so ``model.predict(x_uint8)`` works on what the loaders return.
"""

from __future__ import annotations

import collections

import keras

from tfzoo.base import ZooModel
from tfzoo.classifiers.dropout import Dropout


class StagedClassifier(ZooModel):
    """A classifier made of named stages; ``call`` returns logits; ``fit(x, y)`` takes integer labels."""

    fit_targets = "labels"

    def __init__(self, *, input_shape, num_classes, input_scale, input_offset, **kwargs):
        super().__init__(**kwargs)
        self.input_shape_per_example = tuple(input_shape)
        self.num_classes = num_classes
        self.input_scale = input_scale
        self.input_offset = input_offset
        self.input_range = (0.0, 255.0) if len(self.input_shape_per_example) == 3 else (-2.0, 2.0)
        self.stages: list[tuple[str, keras.layers.Layer]] = []

    def add_stage(self, name: str, layer):
        self.stages.append((name, layer))
        setattr(self, f"stage_{name}", layer)

    def intermediate_outputs(self, x, training=False) -> collections.OrderedDict:
        """Every stage's output by name, from ``input`` (the scaled input) to ``logits``."""
        h = self.check_input(x) * self.input_scale + self.input_offset
        outputs = collections.OrderedDict(input=h)
        for name, layer in self.stages:
            h = layer(h, training=training)
            outputs[name] = h
        return outputs

    def call(self, x, training=False):
        return next(reversed(self.intermediate_outputs(x, training).values()))

    def compile_from_recipe(self, recipe=None, **kwargs):
        kwargs.setdefault("loss", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        kwargs.setdefault("metrics", [keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
        super().compile_from_recipe(recipe, **kwargs)


@keras.saving.register_keras_serializable(package="tfzoo")
class MLPClassifier(StagedClassifier):
    """A multi-layer perceptron with dropout before every hidden and output layer's weights.

    Dropout follows the lecture (``002`` lines 362–389) in either convention (see
    :mod:`tfzoo.classifiers.dropout`); ``dropout=0`` gives a plain MLP.
    """

    def __init__(self, *, hidden_units=(1024, 1024), activation="relu", dropout=0.5,
                 dropout_convention="inverted", input_shape=(28, 28, 1), num_classes=10,
                 input_scale=1 / 255, input_offset=0.0, seed=None, **kwargs):
        super().__init__(input_shape=input_shape, num_classes=num_classes, input_scale=input_scale,
                         input_offset=input_offset, **kwargs)
        self.add_stage("flatten", keras.layers.Flatten())
        for i, units in enumerate(hidden_units, start=1):
            self.add_stage(f"fc{i}_preact", keras.layers.Dense(units))
            self.add_stage(f"fc{i}_{activation}", keras.layers.Activation(activation))
            if dropout:
                seed_i = None if seed is None else seed + i
                self.add_stage(f"fc{i}_dropout", Dropout(dropout, dropout_convention, seed=seed_i))
        self.add_stage("logits", keras.layers.Dense(num_classes))


@keras.saving.register_keras_serializable(package="tfzoo")
class LeNet(StagedClassifier):
    """The lecture's LeNet, ``002_e592b05206285d1e.txt`` lines 316–332 (21,328 parameters).

    Input 1×32×32 (MNIST's 28×28 zero-padded by 2), conv 1→4 5×5, ReLU, max-pool 2×2, conv 4→6
    5×5, ReLU, max-pool 2×2, flatten to 150, dropout 0.5, dense 150→128, ReLU, dense 128→10.
    The lecture's size formula on line 321 ("(32−5+1)×(32−5+1)/2+1") is a typo: the output is
    28×28 = (32−5+1)².
    """

    def __init__(self, *, dropout=0.5, dropout_convention="inverted", pad_to_32=True,
                 input_shape=(28, 28, 1), num_classes=10, seed=None, **kwargs):
        super().__init__(input_shape=input_shape, num_classes=num_classes, input_scale=1 / 255,
                         input_offset=0.0, **kwargs)
        L = keras.layers
        if pad_to_32:
            self.add_stage("pad", L.ZeroPadding2D(2))
        self.add_stage("conv1_preact", L.Conv2D(4, 5))
        self.add_stage("conv1_relu", L.ReLU())
        self.add_stage("pool1", L.MaxPooling2D(2))
        self.add_stage("conv2_preact", L.Conv2D(6, 5))
        self.add_stage("conv2_relu", L.ReLU())
        self.add_stage("pool2", L.MaxPooling2D(2))
        self.add_stage("flatten", L.Flatten())
        self.add_stage("dropout", Dropout(dropout, dropout_convention, seed=seed))
        self.add_stage("fc1_preact", L.Dense(128))
        self.add_stage("fc1_relu", L.ReLU())
        self.add_stage("logits", L.Dense(num_classes))


@keras.saving.register_keras_serializable(package="tfzoo")
class ConvNet(StagedClassifier):
    """Two 5×5 SAME convolutions with ReLU and 2×2 max-pooling, a ReLU dense layer, a classifier.

    ``filters=(32, 64), dense_units=512`` is the MNIST model of tensorflow/models
    ``image/mnist/convolutional.py`` used by the probes paper (``003`` lines 3094–3113; 1,663,370
    parameters; input scaled to [−0.5, 0.5] as that script does). ``dense_units=1024`` is the ReLU
    LeNet of the Hessian paper (``003`` lines 3326–3338: "two convolutional layers, two fully
    connected layers ... approximately 3.3×10⁶ parameters": 3,274,634).
    """

    def __init__(self, *, filters=(32, 64), dense_units=512, dropout=0.5, input_shape=(28, 28, 1),
                 num_classes=10, l2=0.0, seed=None, **kwargs):
        super().__init__(input_shape=input_shape, num_classes=num_classes, input_scale=1 / 255,
                         input_offset=-0.5, **kwargs)
        L = keras.layers
        reg = keras.regularizers.L2(l2) if l2 else None
        for i, f in enumerate(filters, start=1):
            self.add_stage(f"conv{i}_preact", L.Conv2D(f, 5, padding="same"))
            self.add_stage(f"conv{i}_relu", L.ReLU())
            self.add_stage(f"pool{i}", L.MaxPooling2D(2, padding="same"))
        self.add_stage("flatten", L.Flatten())
        self.add_stage("fc1_preact", L.Dense(dense_units, kernel_regularizer=reg, bias_regularizer=reg))
        self.add_stage("fc1_relu", L.ReLU())
        if dropout:
            self.add_stage("fc1_dropout", Dropout(dropout, seed=seed))
        self.add_stage("logits", L.Dense(num_classes, kernel_regularizer=reg, bias_regularizer=reg))


def keras_sequential_baseline(model: StagedClassifier) -> keras.Sequential:
    """The same architecture as a plain ``keras.Sequential`` of stock layers (the benchmark baseline).

    tfzoo's ``Dropout`` becomes ``keras.layers.Dropout`` (the inverted convention).
    """
    layers = [keras.Input(model.input_shape_per_example),
              keras.layers.Rescaling(model.input_scale, model.input_offset)]
    for _, layer in model.stages:
        if isinstance(layer, Dropout):
            layers.append(keras.layers.Dropout(layer.rate))
        else:
            layers.append(layer.__class__.from_config(layer.get_config()))
    return keras.Sequential(layers)
