"""MADE: the masked autoencoder for distribution estimation (Germain, Gregor, Murray & Larochelle 2015).

The thesis (``004_6b1d8905d771edf8.txt`` §4.2.1, L1142–1168) writes the autoregressive chain rule
``p(x) = p(x_1) prod_k p(x_{k+1} | x_{<=k})`` (the printed index ``x_{<k}`` is a typo, see
``shared/specs/dinh.md`` §5.9), says one network with an "autoregressive masking pattern" (Germain
et al. 2015) computes every conditional such that "there is no path connecting x_k to
p(x_k | x_<k)" (Fig. 4.3, L1160), and that ancestral sampling is sequential (L1164–1168). It does
**not** give the construction; the degrees and masks here follow Germain et al. (2015), §4:

* each input ``d`` gets a degree ``m^0(d)`` in ``1..D``: its position in the chosen ordering (natural,
  or a seeded random permutation: "order randomisation");
* each hidden unit ``k`` of layer ``l`` gets a degree ``m^l(k)`` drawn uniformly from
  ``min_k' m^{l-1}(k') .. D-1`` (seeded);
* hidden masks ``M^l[k', k] = 1[m^l(k) >= m^{l-1}(k')]`` and the output mask
  ``M^V[k, d] = 1[m^0(d) > m^L(k)]`` (strict), so output ``d`` depends only on inputs of smaller degree.

Conditionals are Bernoulli (binary data, one logit per dimension) or Gaussian (real data, a mean and
a log standard deviation per dimension). Germain et al.'s training with several masks
(connectivity-agnostic / order-agnostic training) is not implemented: one mask and one ordering are
fixed at construction.

Example:
    >>> import numpy as np, itertools
    >>> from tfzoo.probabilistic.made import MADE
    >>> model = MADE(input_shape=(3,), hidden_units=(8,), ordering="random", seed=1)
    >>> states = np.array(list(itertools.product([0, 1], repeat=3)), "float32")
    >>> round(float(np.exp(model.log_prob(states)).sum()), 5)
    1.0
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfzoo.errors import InputError
from tfzoo.probabilistic.density import DensityModel
from tfzoo.seeds import stateless_seed

tfd = tfp.distributions

LIKELIHOODS = ("bernoulli", "gaussian")
ORDERINGS = ("natural", "random")


def made_degrees(num_inputs: int, hidden_units, ordering: str = "natural", seed: int = 0) -> list:
    """Germain et al.'s degrees: ``[m^0 (D,), m^1 (H_1,), ..., m^L (H_L,)]`` as int arrays.

    ``m^0`` is the position of each input in the ordering (1..D); hidden degrees are drawn uniformly
    from ``min(m^{l-1})..D-1`` with ``np.random.default_rng(seed)``.
    """
    if ordering not in ORDERINGS:
        raise ValueError(f"ordering must be one of {ORDERINGS}, got {ordering!r}")
    if num_inputs < 2:
        raise InputError(f"MADE needs at least 2 input dimensions, got {num_inputs}")
    rng = np.random.default_rng(seed)
    first = np.arange(1, num_inputs + 1) if ordering == "natural" else rng.permutation(num_inputs) + 1
    degrees = [first]
    for units in hidden_units:
        low = min(int(degrees[-1].min()), num_inputs - 1)
        degrees.append(rng.integers(low, num_inputs, size=units))  # uniform on low..D-1
    return degrees


def made_masks(degrees: list) -> list:
    """The masks ``M^1..M^L`` (``1[m^l(k) >= m^{l-1}(k')]``) and the output mask ``1[m^0(d) > m^L(k)]``."""
    hidden = [(later[None, :] >= earlier[:, None]).astype(np.float32)
              for earlier, later in zip(degrees[:-1], degrees[1:])]
    output = (degrees[0][None, :] > degrees[-1][:, None]).astype(np.float32)
    return hidden + [output]


class MaskedDense(keras.layers.Layer):
    """``y = activation(x @ (W * M) + b)`` for a fixed 0/1 mask ``M`` of shape ``(in, units)``.

    Masked weights get a zero gradient and never influence the output. The layer is rebuilt from
    its owner's configuration (the mask is not part of this layer's config).
    """

    def __init__(self, mask: np.ndarray, activation=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.mask = tf.constant(mask, tf.float32)
        self.activation = keras.activations.get(activation)
        self.kernel = self.add_weight(shape=mask.shape, name="kernel",
                                      initializer=keras.initializers.GlorotUniform(seed=seed))
        self.bias = self.add_weight(shape=(mask.shape[1],), initializer="zeros", name="bias")

    def call(self, x):
        return self.activation(tf.matmul(x, self.kernel * self.mask) + self.bias)


@keras.saving.register_keras_serializable(package="tfzoo")
class MADE(DensityModel):
    """An autoregressive density ``p(x) = prod_d p(x_d | x_{m^0 < m^0(d)})`` computed in one pass.

    Args:
        input_shape: per-example shape (flattened to D = prod(input_shape) inside).
        hidden_units: sizes of the masked hidden layers.
        likelihood: ``"bernoulli"`` (inputs in {0, 1}) or ``"gaussian"`` (real inputs).
        ordering: ``"natural"`` (raster order) or ``"random"`` (a seeded permutation).
        activation: hidden nonlinearity.
        seed: seeds the ordering, the hidden degrees and the initial weights.
    """

    def __init__(self, *, input_shape=(28, 28, 1), hidden_units=(500,), likelihood="bernoulli",
                 ordering="natural", activation="relu", seed=0, **kwargs):
        super().__init__(**kwargs)
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        self.input_shape_per_example = tuple(input_shape)
        self.num_inputs = int(np.prod(input_shape))
        self.likelihood = likelihood
        self.input_values = "binary" if likelihood == "bernoulli" else "uniform"
        self.input_range = (0.0, 1.0) if likelihood == "bernoulli" else (-2.0, 2.0)
        self.degrees = made_degrees(self.num_inputs, hidden_units, ordering, seed)
        masks = made_masks(self.degrees)
        params_per_input = 1 if likelihood == "bernoulli" else 2
        self.hidden_layers = [MaskedDense(mask, activation, seed=seed + i, name=f"masked_hidden_{i + 1}")
                              for i, mask in enumerate(masks[:-1])]
        self.output_layer = MaskedDense(np.tile(masks[-1], (1, params_per_input)), seed=seed + len(masks),
                                        name="masked_output")

    def conditional_parameters(self, x):
        """The parameters of every conditional ``p(x_d | x_<d)``: logits ``(n, D)`` (Bernoulli) or
        ``(loc, log_scale)`` each ``(n, D)`` (Gaussian), for inputs ``x`` flattened to ``(n, D)``."""
        h = x
        for layer in self.hidden_layers:
            h = layer(h)
        out = self.output_layer(h)
        if self.likelihood == "bernoulli":
            return out
        return out[:, :self.num_inputs], out[:, self.num_inputs:]

    def conditionals(self, x):
        """``prod_d p(x_d | x_<d)`` as a TFP ``Independent`` distribution over the flat ``(n, D)`` x."""
        params = self.conditional_parameters(x)
        if self.likelihood == "bernoulli":
            return tfd.Independent(tfd.Bernoulli(logits=params, dtype=tf.float32), 1)
        loc, log_scale = params
        return tfd.Independent(tfd.Normal(loc, tf.exp(log_scale)), 1)

    def call(self, x, training=False):
        x = tf.reshape(self.check_input(x), [-1, self.num_inputs])
        # Outside the support ({0, 1}^D for Bernoulli conditionals) the density is 0: log p = -inf.
        return self.outside_support_to_minus_inf(x, self.conditionals(x).log_prob(x))

    def sample(self, n, seed):
        """Ancestral sampling (thesis L1164–1168): D passes, pass ``i`` fills the input of degree ``i``.

        All noise is drawn up front from the stateless seed; pass ``i`` keeps only the dimension of
        degree ``i``, whose conditional depends on already-filled dimensions only.
        """
        self.check_count(n, "n")
        shape = tf.stack([n, self.num_inputs])
        if self.likelihood == "bernoulli":
            noise = tf.random.stateless_uniform(shape, seed=stateless_seed(seed, 0))
        else:
            noise = tf.random.stateless_normal(shape, seed=stateless_seed(seed, 0))
        first_degrees = tf.constant(self.degrees[0], tf.int32)

        def fill(i, x):
            params = self.conditional_parameters(x)
            if self.likelihood == "bernoulli":
                proposal = tf.cast(noise < tf.sigmoid(params), tf.float32)
            else:
                proposal = params[0] + tf.exp(params[1]) * noise
            return i + 1, tf.where(first_degrees[None, :] == i, proposal, x)

        _, x = tf.while_loop(lambda i, x: i <= self.num_inputs, fill,
                             (tf.constant(1), tf.zeros(shape, tf.float32)))
        return tf.reshape(x, tf.concat([[n], self.input_shape_per_example], 0))
