"""Generative adversarial nets with k discriminator steps per generator step (Lecture 3, L391–500).

``shared/papers/002_e592b05206285d1e.txt``:

* value function (L450–452): ``V(G, D) = E_data[log D(x)] + E_{z~p_z}[log(1 - D(G(z)))]``, D maximises,
  G minimises;
* algorithm (L459–482, Goodfellow et al. 2014 Algorithm 1): for each iteration, ``k`` discriminator
  steps, each on a fresh minibatch of ``m`` data points and ``m`` noise samples, ascending
  ``∇ (1/m) Σ [log D(x) + log(1 - D(G(z)))]``; then one generator step on fresh noise descending
  ``∇ (1/m) Σ log(1 - D(G(z)))`` ("minimax" loss). L468/L475 write the noise prior as ``p_g(z)``,
  a typo for ``p_z(z)``; L416 says the prior is "usually uniform";
* the non-saturating alternative (L455): maximise ``log D(G(z))`` instead;
* Theorem 1 (L486–490): for fixed G the optimal discriminator is ``p_data / (p_data + p_g)``.

Implementation: each ``fit`` step (one data minibatch) is one discriminator step; after every
``k``-th discriminator step the same ``train_step`` also does one generator step on fresh noise, so
``k`` consecutive minibatches feed the ``k`` discriminator steps of one iteration exactly as in the
algorithm. Losses are computed from the discriminator's logit ``l`` in stable form:
``log D = -softplus(-l)`` and ``log(1 - D) = -softplus(l)``.

Example:
    >>> from tfzoo.recipe import Recipe
    >>> gan = GAN(data_shape=(2,), latent_dim=2, generator_units=(16,), discriminator_units=(16,), k=2)
    >>> gan.build_from_preset()
    >>> gan.compile_from_recipe(Recipe(optimizer="sgd", learning_rate=0.01))
    >>> from tfzoo import testing
    >>> _ = gan.fit(testing.example_batch(gan, 64), batch_size=16, epochs=1, verbose=0)
    >>> int(gan.d_optimizer.iterations), int(gan.g_optimizer.iterations)
    (4, 2)
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from tfzoo.base import Arg, Endpoint, ZooModel, make_optimizer
from tfzoo.recipe import Recipe
from tfzoo.seeds import stateless_seed

GENERATOR_LOSSES = ("minimax", "non_saturating")
NOISE_PRIORS = ("uniform", "normal")


def discriminator_loss(real_logits, fake_logits):
    """``-(1/m) Σ [log D(x) + log(1 - D(G(z)))]``: minimising it ascends L471's objective."""
    return tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits))


def generator_loss(fake_logits, kind: str):
    """``minimax``: ``(1/m) Σ log(1 - D(G(z)))`` (L478, descended); ``non_saturating``:
    ``-(1/m) Σ log D(G(z))`` (L455: maximise ``log D(G(z))``)."""
    if kind == "minimax":
        return -tf.reduce_mean(tf.nn.softplus(fake_logits))
    if kind == "non_saturating":
        return tf.reduce_mean(tf.nn.softplus(-fake_logits))
    raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}, got {kind!r}")


@keras.saving.register_keras_serializable(package="tfzoo")
class GAN(ZooModel):
    """A GAN of two MLPs trained with ``k`` discriminator steps per generator step (L459–482).

    Args:
        data_shape: shape of one data point, e.g. ``(2,)`` or ``(28, 28, 1)``.
        data_range: ``(low, high)`` of the data; the generator's output is squashed into it with a
            sigmoid when given (images), left linear when ``None`` (toy densities).
        latent_dim, noise: the prior ``p_z``: ``uniform`` on ``[-1, 1]^d`` (L416) or standard ``normal``.
        generator_units, discriminator_units: hidden widths (ReLU in G, LeakyReLU 0.2 in D).
        k: discriminator steps per generator step (L462; the lecture sets ``k = 1``).
        generator_loss: ``"minimax"`` (L478) or ``"non_saturating"`` (L455).
        seed: seeds the training noise.

    ``call(x)`` (and the ``serve`` endpoint) is the discriminator ``D(x)``, a probability. Endpoints:
    ``serve``/``discriminate`` (x ↦ D(x)), ``generate`` (z ↦ G(z)) and ``sample(n, seed)`` (stateless).
    """

    def __init__(self, *, data_shape=(2,), data_range=None, latent_dim=2, noise="uniform",
                 generator_units=(64, 64), discriminator_units=(64, 64), k=1,
                 generator_loss="non_saturating", seed=0, **kwargs):
        super().__init__(**kwargs)
        if noise not in NOISE_PRIORS:
            raise ValueError(f"noise must be one of {NOISE_PRIORS}, got {noise!r}")
        if generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}, got {generator_loss!r}")
        if int(k) < 1:
            raise ValueError(f"k (discriminator steps per generator step) must be >= 1, got {k}")
        self.input_shape_per_example = tuple(data_shape)
        self.data_range = None if data_range is None else tuple(float(v) for v in data_range)
        self.input_range = self.data_range or (-2.0, 2.0)
        self.latent_dim, self.noise, self.k, self.generator_loss_kind = latent_dim, noise, int(k), generator_loss
        size = math.prod(self.input_shape_per_example)
        L = keras.layers
        self.generator = keras.Sequential(
            [L.Dense(u, activation="relu") for u in generator_units]
            + [L.Dense(size, activation="sigmoid" if self.data_range else None),
               L.Reshape(self.input_shape_per_example)], name="generator")
        self.discriminator = keras.Sequential(
            [L.Flatten()] + [L.Dense(u, activation=keras.activations.leaky_relu) for u in discriminator_units]
            + [L.Dense(1)], name="discriminator")
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    # ----------------------------------------------------------------- parts
    def sample_noise(self, n, seed):
        """``n`` draws of the prior ``p_z``; ``seed`` is a SeedGenerator (training) or a stateless seed
        (an int, or a shape-[2] seed: :func:`tfzoo.seeds.stateless_seed`)."""
        stateless = not isinstance(seed, keras.random.SeedGenerator)
        if stateless:
            seed = stateless_seed(seed)
        shape = [n, self.latent_dim]
        if self.noise == "uniform":
            if stateless:
                return tf.random.stateless_uniform(shape, seed, minval=-1.0, maxval=1.0)
            return keras.random.uniform(shape, -1.0, 1.0, seed=seed)
        return tf.random.stateless_normal(shape, seed) if stateless else keras.random.normal(shape, seed=seed)

    def generate(self, z, training=False):
        """``G(z)`` in data space."""
        out = self.generator(z, training=training)
        if self.data_range:
            low, high = self.data_range
            out = low + (high - low) * out
        return out

    def discriminator_logits(self, x, training=False):
        """The logit ``l`` with ``D(x) = sigmoid(l)``; data are mapped to [-1, 1] first when ranged."""
        x = tf.cast(x, "float32")
        if self.data_range:
            low, high = self.data_range
            x = 2.0 * (x - low) / (high - low) - 1.0
        return self.discriminator(x, training=training)[:, 0]

    def call(self, x, training=False):
        return tf.sigmoid(self.discriminator_logits(self.check_input(x), training))

    def build_from_preset(self):
        self.generator.build((None, self.latent_dim))
        self(tf.zeros((1, *self.input_shape_per_example)))
        self.built = True

    # -------------------------------------------------------------- training
    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Two optimisers: ``d_optimizer`` for D and ``g_optimizer`` for G (default: SGD momentum 0.9)."""
        super().compile(optimizer=d_optimizer or keras.optimizers.SGD(0.01, momentum=0.9), **kwargs)
        self.d_optimizer = self.optimizer
        self.g_optimizer = g_optimizer or keras.optimizers.SGD(0.01, momentum=0.9)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def compile_from_recipe(self, recipe=None, **kwargs):
        """The recipe's optimiser for both players; L482: "We used momentum in our experiments"."""
        recipe = recipe if recipe is not None else Recipe()
        kwargs.setdefault("jit_compile", False)
        self.compile(d_optimizer=make_optimizer(recipe), g_optimizer=make_optimizer(recipe), **kwargs)

    def discriminator_step(self, real):
        """One ascent step of L469–471 on ``real`` and as many fresh generator samples; returns D's loss."""
        fake = self.generate(self.sample_noise(tf.shape(real)[0], self.noise_seed), training=True)
        with tf.GradientTape() as tape:
            loss = discriminator_loss(self.discriminator_logits(real, True), self.discriminator_logits(fake, True))
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    def generator_step(self, m):
        """One descent step of L474–478 (or L455's non-saturating loss) on ``m`` fresh noise samples."""
        z = self.sample_noise(m, self.noise_seed)
        with tf.GradientTape() as tape:
            loss = generator_loss(self.discriminator_logits(self.generate(z, True), True), self.generator_loss_kind)
        variables = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def train_step(self, data):
        """One discriminator step; after every ``k``-th one, also one generator step (L462–478).

        Hand-written because the method needs it: two players with their own losses, variables and
        optimisers (``d_optimizer``, ``g_optimizer``), the generator updated on fresh noise only every
        ``k``-th step; Keras's default step applies one loss's gradient with one optimiser.
        """
        real = self.check_input(data[0] if isinstance(data, tuple) else data)
        self.d_loss_tracker.update_state(self.discriminator_step(real))

        def generator_update():
            self.g_loss_tracker.update_state(self.generator_step(tf.shape(real)[0]))
            return tf.constant(True)

        tf.cond(self.d_optimizer.iterations % self.k == 0, generator_update, lambda: tf.constant(False))
        d_loss = self.d_loss_tracker.result()
        return {"loss": d_loss, "d_loss": d_loss, "g_loss": self.g_loss_tracker.result()}

    def test_step(self, data):
        real = self.check_input(data[0] if isinstance(data, tuple) else data)
        fake = self.generate(self.sample_noise(tf.shape(real)[0], self.noise_seed))
        real_logits, fake_logits = self.discriminator_logits(real), self.discriminator_logits(fake)
        return {"loss": discriminator_loss(real_logits, fake_logits),
                "d_real": tf.reduce_mean(tf.sigmoid(real_logits)), "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits))}

    # ---------------------------------------------------------------- export
    def sample(self, n, seed):
        """``n`` generator samples from stateless noise seeded by the integer ``seed``."""
        self.check_count(n, "n")
        return self.generate(self.sample_noise(n, stateless_seed(seed, 0)))

    def endpoints(self) -> dict:
        """``serve``/``discriminate`` (x ↦ D(x)), ``generate`` (z ↦ G(z)) and ``sample(n, seed)``."""
        x = self.data_arg()
        z_shape = (None, self.latent_dim)
        z = Arg.uniform(z_shape, (-1.0, 1.0), "z") if self.noise == "uniform" else Arg.normal(z_shape, "z")
        return {
            "serve": Endpoint(lambda x: self(x, training=False), x),
            "discriminate": Endpoint(lambda x: self(x, training=False), x),
            "generate": Endpoint(lambda z: self.generate(z), z),
            "sample": Endpoint(lambda n, seed: self.sample(n, seed), Arg.count(), Arg.seed()),
        }


class SampleGrid(keras.callbacks.Callback):
    """Saves ``gan.sample(n, seed)`` with a fixed seed every ``every`` epochs as ``<directory>/epoch_XXX.png``."""

    def __init__(self, directory: str, every: int = 1, n: int = 64, seed: int = 0, real=None):
        super().__init__()
        self.directory, self.every, self.n, self.seed, self.real = directory, every, n, seed, real
        self.paths: list[str] = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        import os

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from tfzoo.lecture.plotting import plot_samples

        os.makedirs(self.directory, exist_ok=True)
        fig, ax = plt.subplots(figsize=(4, 4))
        plot_samples(ax, self.model, self.real, self.n, self.seed)
        path = os.path.join(self.directory, f"epoch_{epoch + 1:03d}.png")
        fig.savefig(path, dpi=80)
        plt.close(fig)
        self.paths.append(path)
