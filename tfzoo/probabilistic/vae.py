"""The variational autoencoder / Helmholtz machine with reparametrized or REINFORCE gradients, and IWAE.

Thesis ``004_6b1d8905d771edf8.txt`` §4.2.2, L1197–1302; sign conventions as in the thesis:
``L_ELBO`` is a *loss* and the evidence lower bound is ``-L_ELBO``.

* Emission model (L1197–1201): ``z ~ N(0, I)``, ``x | z ~ p_theta(x | z)`` whose parameters a
  network computes from z: Bernoulli logits for binary data, or a Gaussian mean with a learned
  per-dimension standard deviation (independent of z, so that with no hidden layer the model is
  the linear-Gaussian model whose ``log p(x)`` is exact).
* Approximate posterior (L1240, L1248–1250): a mean-field Gaussian
  ``q_lambda(z | x) = N(mu_lambda(x), diag(sigma_lambda(x)^2))`` from an inference network.
* Bound (L1222–1233, L1252): ``-L_ELBO = E_q[log p(x, z) - log q(z | x)]
  = E_q[log p(x | z)] - KL(q_lambda(z | x) || p_Z(z))``, the KL in closed form.
* REINFORCE / score function (L1256–1268): ``d(-L_ELBO)/d lambda
  = E_q[log(p(x, z)/q_lambda(z | x)) d log q_lambda(z | x)/d lambda]``, estimated with one z per x.
  The decoder's gradient ``E_q[d log p_theta(x | z)/d theta]`` needs no score term.
* Reparametrization (L1270–1278): ``z = mu_lambda(x) + sigma_lambda(x) ⊙ eps``, ``eps ~ N(0, I)``
  (the printed formula drops ``⊙ eps``), gradient of ``log p(x | z(eps)) - KL`` by backpropagation.
* IWAE-K (L1291–1302): ``E[log (1/K) sum_k p(x, z_k)/q(z_k | x)] <= log p(x)``, rising to
  ``log p(x)`` as K grows.
* Observation 1 (L1420–1444): with ``z = mu + sigma ⊙ eps``, ``log p_{theta,lambda}(x, eps)
  = log(p(x, z)/q(z | x)) + log p*(eps)`` and ``E_eps[log p(x, eps)] = -L_ELBO - H(p*_eps)``, with
  ``H(N(0, I_d)) = d/2 log(2 pi e)``. (The statement on L1420 omits the expectation; the proof on
  L1440–1444 has it.)

The thesis gives no architecture; the ``vae-mnist`` preset is the one-stochastic-layer model of
Burda et al. (2016): 784-200-200-50 with tanh, Bernoulli decoder.

Example:
    >>> import numpy as np
    >>> from tfzoo.probabilistic.vae import VAE
    >>> vae = VAE(input_shape=(6,), hidden_units=(), latent_dim=2, likelihood="gaussian")
    >>> x = np.ones((1, 6), "float32")
    >>> log_p = float(vae.linear_gaussian_log_prob(x)[0])       # exact here
    >>> bool(float(vae.elbo(x, 1000, 0)[0]) < log_p)
    True
    >>> abs(float(vae.iwae(x, 100000, 1)[0]) - log_p) < 0.05
    True
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfzoo.base import Arg, Endpoint, ZooModel
from tfzoo.seeds import stateless_seed

tfd = tfp.distributions

LIKELIHOODS = ("bernoulli", "gaussian")
ESTIMATORS = ("reparametrization", "reinforce")


def standard_normal_entropy(dim: int) -> float:
    """``H(N(0, I_dim)) = dim/2 log(2 pi e)`` nats (1.41894 per dimension)."""
    return 0.5 * dim * np.log(2 * np.pi * np.e)


@keras.saving.register_keras_serializable(package="tfzoo")
class VAE(ZooModel):
    """Encoder ``q_lambda(z|x)``, decoder ``p_theta(x|z)``, prior ``N(0, I)``.

    Args:
        input_shape: per-example shape (flattened to D inside).
        hidden_units: hidden layer sizes of the encoder (the decoder uses them reversed); ``()``
            makes both networks affine.
        latent_dim: d_Z.
        activation: hidden nonlinearity.
        likelihood: ``"bernoulli"`` or ``"gaussian"`` decoder.
        estimator: the gradient ``fit`` uses, ``"reparametrization"`` or ``"reinforce"``.
        seed: seeds the initial weights and the training noise.

    ``call(x)`` returns the posterior's ``(mean, log_std)``; ``fit(x)`` maximises the ELBO (the
    reported ``loss`` is the single-sample estimate of ``L_ELBO = -ELBO`` in nats per example).
    """

    def __init__(self, *, input_shape=(28, 28, 1), hidden_units=(200, 200), latent_dim=50,
                 activation="tanh", likelihood="bernoulli", estimator="reparametrization", seed=0,
                 **kwargs):
        super().__init__(**kwargs)
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
        self.input_shape_per_example = tuple(input_shape)
        self.num_inputs = int(np.prod(input_shape))
        self.latent_dim, self.likelihood, self.estimator = latent_dim, likelihood, estimator
        self.input_values = "binary" if likelihood == "bernoulli" else "uniform"
        self.input_range = (0.0, 1.0) if likelihood == "bernoulli" else (-2.0, 2.0)

        def dense(units, fan_in, activation_name, index, name):
            layer = keras.layers.Dense(units, activation=activation_name, name=name,
                                       kernel_initializer=keras.initializers.GlorotUniform(seed + index))
            layer.build((None, fan_in))
            return layer

        sizes = [self.num_inputs, *hidden_units]
        self.encoder_layers = [dense(u, f, activation, i, f"encoder_hidden_{i + 1}")
                               for i, (f, u) in enumerate(zip(sizes[:-1], sizes[1:]))]
        self.encoder_layers.append(dense(2 * latent_dim, sizes[-1], None, len(sizes), "encoder_posterior"))
        sizes = [latent_dim, *reversed(hidden_units)]
        self.decoder_layers = [dense(u, f, activation, 100 + i, f"decoder_hidden_{i + 1}")
                               for i, (f, u) in enumerate(zip(sizes[:-1], sizes[1:]))]
        self.decoder_layers.append(dense(self.num_inputs, sizes[-1], None, 100 + len(sizes), "decoder_output"))
        if likelihood == "gaussian":
            self.decoder_log_scale = self.add_weight(shape=(self.num_inputs,), initializer="zeros",
                                                     name="decoder_log_scale")
        self.noise = keras.random.SeedGenerator(seed)

    # ------------------------------------------------------------- networks
    def _flat(self, x):
        return tf.reshape(self.check_input(x), [-1, self.num_inputs])

    def encode(self, x):
        """``(mu_lambda(x), log sigma_lambda(x))``, each ``(n, latent_dim)``."""
        return self._encode_flat(self._flat(x))

    def _encode_flat(self, flat):
        h = flat
        for layer in self.encoder_layers:
            h = layer(h)
        return h[:, :self.latent_dim], h[:, self.latent_dim:]

    def call(self, x, training=False):
        return self.encode(x)

    @property
    def encoder_variables(self) -> list:
        """The inference network's parameters lambda."""
        return [v for layer in self.encoder_layers for v in layer.trainable_variables]

    def _decoder_output(self, z):
        h = z
        for layer in self.decoder_layers:
            h = layer(h)
        return h

    def decoder_distribution(self, z):
        """``p_theta(x | z)`` over the flat ``(..., D)`` x, for z of shape ``(..., latent_dim)``."""
        out = self._decoder_output(z)
        if self.likelihood == "bernoulli":
            return tfd.Independent(tfd.Bernoulli(logits=out, dtype=tf.float32), 1)
        return tfd.Independent(tfd.Normal(out, tf.exp(tf.convert_to_tensor(self.decoder_log_scale))), 1)

    def decode(self, z):
        """The mean of ``p_theta(x | z)`` (Bernoulli probabilities or Gaussian means), input-shaped."""
        mean = self.decoder_distribution(tf.convert_to_tensor(z, tf.float32)).mean()
        return tf.reshape(mean, tf.concat([tf.shape(z)[:1], self.input_shape_per_example], 0))

    def prior(self):
        """``p_Z = N(0, I_{d_Z})``."""
        return tfd.MultivariateNormalDiag(loc=tf.zeros([self.latent_dim]))

    # ------------------------------------------------------------- bounds
    def log_importance_weights(self, x, eps):
        """``log p(x, z) - log q(z | x)`` with ``z = mu + sigma ⊙ eps``; eps ``(S, n, d_Z)`` -> ``(S, n)``."""
        return self._log_importance_weights_flat(self._flat(x), eps)

    def _log_importance_weights_flat(self, flat, eps):
        loc, log_scale = self._encode_flat(flat)
        q = tfd.MultivariateNormalDiag(loc=loc, scale_diag=tf.exp(log_scale))
        z = loc + tf.exp(log_scale) * eps
        return self.decoder_distribution(z).log_prob(flat) + self.prior().log_prob(z) - q.log_prob(z)

    def elbo_terms(self, x, eps):
        """``log p(x | z(eps)) - KL(q || p_Z)`` per draw, ``(S, n)``: the reparametrized ``-L_ELBO``."""
        return self._elbo_terms_flat(self._flat(x), eps)

    def _elbo_terms_flat(self, flat, eps, posterior=None):
        loc, log_scale = self._encode_flat(flat) if posterior is None else posterior
        q = tfd.MultivariateNormalDiag(loc=loc, scale_diag=tf.exp(log_scale))
        z = loc + tf.exp(log_scale) * eps
        return self.decoder_distribution(z).log_prob(flat) - tfd.kl_divergence(q, self.prior())

    def _noise(self, k, n, seed):
        self.check_count(k, "k", minimum=1)
        return tf.random.stateless_normal(tf.stack([k, n, self.latent_dim]), seed=stateless_seed(seed, 1))

    def elbo(self, x, k, seed):
        """``-L_ELBO`` per example: ``log p(x|z) - KL`` averaged over ``k`` draws of z (stateless seed)."""
        flat = self._flat(x)
        elbo = tf.reduce_mean(self._elbo_terms_flat(flat, self._noise(k, tf.shape(flat)[0], seed)), axis=0)
        return self.outside_support_to_minus_inf(flat, elbo)

    def iwae(self, x, k, seed):
        """The IWAE-k bound ``log (1/k) sum_j p(x, z_j)/q(z_j | x)`` per example (one draw of k z's)."""
        flat = self._flat(x)
        log_w = self._log_importance_weights_flat(flat, self._noise(k, tf.shape(flat)[0], seed))
        bound = tf.reduce_logsumexp(log_w, axis=0) - tf.math.log(tf.cast(k, tf.float32))
        return self.outside_support_to_minus_inf(flat, bound)  # p(x) = 0 outside the support

    #: Importance samples of the ``log_prob`` estimate (Burda et al. 2016 report IWAE-5000).
    log_prob_samples = 1000

    def log_prob(self, x):
        """An estimate of ``log p(x)``: the IWAE bound with ``log_prob_samples`` draws and seed 0.

        ``log p(x)`` has no closed form with a neural decoder. IWAE-K is a stochastic lower bound whose
        expectation increases to ``log p(x)`` as K grows (Burda et al. 2016, Theorem 1); the fixed
        seed makes this estimate a deterministic function of ``x``. ``iwae(x, k, seed)`` chooses K
        and the draw.
        """
        return self.iwae(x, self.log_prob_samples, 0)

    def joint_log_prob_with_noise(self, x, eps):
        """Observation 1's ``log p_{theta,lambda}(x, eps) = log(p(x, z)/q(z | x)) + log N(eps; 0, I)``."""
        return self.log_importance_weights(x, eps) + self.prior().log_prob(eps)

    def linear_gaussian_log_prob(self, x):
        """Exact ``log p(x)`` when the decoder is affine and Gaussian (``hidden_units=()``):
        ``p(x) = N(b, W^T W + diag(sigma^2))`` for ``mean(z) = z W + b``."""
        if self.likelihood != "gaussian" or len(self.decoder_layers) != 1:
            raise ValueError("log p(x) is exact only for an affine Gaussian decoder (hidden_units=())")
        kernel, bias = self.decoder_layers[0].kernel, self.decoder_layers[0].bias
        cov = tf.matmul(kernel, kernel, transpose_a=True) + tf.linalg.diag(tf.exp(2 * self.decoder_log_scale))
        return tfd.MultivariateNormalTriL(bias, tf.linalg.cholesky(cov)).log_prob(self._flat(x))

    # ------------------------------------------------------------- gradients
    def surrogate_objective(self, x, eps, estimator: str):
        """A function of the parameters whose gradient estimates ``d L_ELBO`` with one z per example.

        Returns ``(S,)``: for each draw ``eps[s]`` the batch mean of the surrogate.

        * ``"reparametrization"``: ``-(log p(x | mu + sigma ⊙ eps) - KL)``, backpropagated (L1276–1278).
        * ``"reinforce"``: with ``z`` held constant, ``-(stop_gradient(log p(x,z) - log q(z|x)) log q(z|x)
          + log p_theta(x | z))``: the score-function term of L1266 for lambda, the plain
          ``d log p_theta(x|z)/d theta`` for the decoder.
        """
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
        return self._surrogate_flat(self._flat(x), eps, estimator)

    def _surrogate_flat(self, flat, eps, estimator, posterior=None):
        if estimator == "reparametrization":
            return -tf.reduce_mean(self._elbo_terms_flat(flat, eps, posterior), axis=-1)
        loc, log_scale = self._encode_flat(flat) if posterior is None else posterior
        q = tfd.MultivariateNormalDiag(loc=loc, scale_diag=tf.exp(log_scale))
        z = tf.stop_gradient(loc + tf.exp(log_scale) * eps)
        log_q = q.log_prob(z)
        log_likelihood = self.decoder_distribution(z).log_prob(flat)
        reward = tf.stop_gradient(log_likelihood + self.prior().log_prob(z) - log_q)
        return -tf.reduce_mean(reward * log_q + log_likelihood, axis=-1)

    def encoder_gradient_draws(self, x, estimator: str, num_draws: int, seed: int) -> list:
        """``num_draws`` independent estimates of ``d L_ELBO / d lambda`` on the batch x.

        Returns one array ``(num_draws, *variable.shape)`` per encoder variable; each row is the
        gradient of the batch-mean surrogate for one draw of eps per example (``tape.jacobian``).
        """
        flat = self._flat(x)
        eps = tf.random.stateless_normal([num_draws, flat.shape[0], self.latent_dim],
                                         seed=stateless_seed(seed, 2))
        variables = self.encoder_variables
        with tf.GradientTape() as tape:
            surrogate = self._surrogate_flat(flat, eps, estimator)
        return [j.numpy() for j in tape.jacobian(surrogate, variables)]

    # ------------------------------------------------------------- training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The single-sample estimate of ``L_ELBO`` (nats per example, the logged ``loss``) on fresh noise.

        In training its gradient is the ``estimator``'s (:meth:`surrogate_objective` with one z per
        example): for ``"reparametrization"`` the surrogate is ``L_ELBO`` itself; for ``"reinforce"``
        the loss is ``surrogate + stop_gradient(L_ELBO - surrogate)``, whose value is ``L_ELBO`` and
        whose gradient is the score-function estimate. ``y_pred`` is ``call``'s posterior
        ``(mu, log sigma)``, reused; targets and sample weights are not used.
        """
        del y, sample_weight
        flat = self._flat(x)
        eps = keras.random.normal((1, tf.shape(flat)[0], self.latent_dim), seed=self.noise)
        neg_elbo = -tf.reduce_mean(self._elbo_terms_flat(flat, eps, y_pred))
        if not training or self.estimator == "reparametrization":
            return neg_elbo
        surrogate = tf.reduce_mean(self._surrogate_flat(flat, eps, self.estimator, y_pred))
        return surrogate + tf.stop_gradient(neg_elbo - surrogate)

    # ------------------------------------------------------------- export
    def sample(self, n, seed):
        """``z ~ N(0, I)``, ``x ~ p_theta(x | z)`` (stateless seed); input-shaped samples."""
        self.check_count(n, "n")
        z = tf.random.stateless_normal(tf.stack([n, self.latent_dim]), seed=stateless_seed(seed, 3))
        x = self.decoder_distribution(z).sample(seed=stateless_seed(seed, 4))
        return tf.reshape(x, tf.concat([[n], self.input_shape_per_example], 0))

    def endpoints(self) -> dict:
        """``serve``/``encode`` (posterior mean and log std), ``decode(z)``, ``sample(n, seed)``,
        ``elbo(x, k, seed)``, ``iwae(x, k, seed)`` and ``log_prob(x)`` (the IWAE-1000 estimate)."""
        x, k, seed = self.data_arg(), Arg.k(), Arg.seed()
        return {
            "serve": Endpoint(self.encode, x),
            "encode": Endpoint(self.encode, x),
            "decode": Endpoint(self.decode, Arg.normal((None, self.latent_dim), "z")),
            "sample": Endpoint(self.sample, Arg.count(), seed),
            "elbo": Endpoint(self.elbo, x, k, seed),
            "iwae": Endpoint(self.iwae, x, k, seed),
            "log_prob": Endpoint(self.log_prob, x),
        }
