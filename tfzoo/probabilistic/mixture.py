"""Mixture of Gaussians, fitted by expectation-maximisation or by gradient descent.

Thesis ``004_6b1d8905d771edf8.txt`` §4.1.3, L1090–1129. Generative process (L1103–1109)::

    z ~ Cat(alpha_1..alpha_K),      x | z ~ N(mu_z, Sigma_z)

so ``p(x) = sum_k alpha_k N(x; mu_k, Sigma_k)`` (marginal) and ``p(x, z) = alpha_z N(x; mu_z, Sigma_z)``
(joint, L1113–1117). EM (L1119–1127) alternates

* E-step: the posterior ``p_theta(z | x) = alpha_z N(x; mu_z, Sigma_z) / p_theta(x)`` (responsibilities);
* M-step: ``theta' = argmax E_{z ~ p_theta(z|x)} [log p_theta'(x, z)]``, in closed form
  ``alpha_k = N_k / N``, ``mu_k = sum_n r_nk x_n / N_k``,
  ``Sigma_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T / N_k`` with ``N_k = sum_n r_nk`` (for diagonal
  covariances the argmax is the diagonal of that matrix).

Each EM step cannot decrease the log-likelihood (Neal & Hinton 1998, cited L1119). The thesis gives
no number of components or data for Fig. 4.1; the ``mog-2d`` preset fits two moons, where (L1129) a
mixture "only captures linear correlations within a cluster" and needs many components.

The density is a TFP ``MixtureSameFamily`` of ``MultivariateNormalTriL`` (full) or
``MultivariateNormalDiag`` components; the Keras variables are the mixture logits, the means and the
unconstrained scale parameters (``tfb.FillScaleTriL`` with an exponentiated diagonal).

Example:
    >>> import numpy as np
    >>> from tfzoo.probabilistic.mixture import GaussianMixtureModel
    >>> x = np.random.default_rng(0).normal(size=(500, 2)).astype("float32")
    >>> model = GaussianMixtureModel(num_components=3, dim=2)
    >>> history = model.fit_em(x, iterations=20)
    >>> bool(np.all(np.diff(history) >= -1e-9))
    True
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfzoo.errors import InputError
from tfzoo.probabilistic.density import DensityModel, stateless_seed

tfd = tfp.distributions
tfb = tfp.bijectors

COVARIANCES = ("full", "diag")


@keras.saving.register_keras_serializable(package="tfzoo")
class GaussianMixtureModel(DensityModel):
    """``p(x) = sum_k alpha_k N(x; mu_k, Sigma_k)`` with ``K = num_components`` in ``R^dim``.

    Args:
        num_components: K.
        dim: the data dimension d.
        covariance: ``"full"`` (``K * d(d+1)/2`` scale parameters) or ``"diag"`` (``K * d``).
        init_scale: standard deviation of the initial means and initial component scale.
        seed: seeds the initial means.

    ``call(x)`` returns ``log p(x)`` (nats); ``fit(x)`` minimises the mean negative log-likelihood and
    :meth:`fit_em` runs EM from the current parameters or from ``init="data"``.
    """

    def __init__(self, *, num_components=8, dim=2, covariance="full", init_scale=1.0, seed=0, **kwargs):
        super().__init__(**kwargs)
        if covariance not in COVARIANCES:
            raise ValueError(f"covariance must be one of {COVARIANCES}, got {covariance!r}")
        if num_components < 1 or dim < 1:
            raise ValueError(f"need num_components >= 1 and dim >= 1, got {num_components} and {dim}")
        self.num_components, self.dim, self.covariance = num_components, dim, covariance
        self.input_shape_per_example = (dim,)
        self.input_range = (-2.0, 2.0)
        self._scale_tril = tfb.FillScaleTriL(diag_bijector=tfb.Exp(), diag_shift=None)
        initial_scale = np.log(init_scale) * np.ones((num_components, dim), np.float32)
        if covariance == "full":
            initial_scale = self._scale_tril.inverse(tf.linalg.diag(np.exp(initial_scale))).numpy()
        self.mixture_logits = self.add_weight(shape=(num_components,), initializer="zeros",
                                              name="mixture_logits")
        self.means = self.add_weight(
            shape=(num_components, dim), name="means",
            initializer=keras.initializers.RandomNormal(stddev=init_scale, seed=seed))
        self.scale_params = self.add_weight(
            shape=initial_scale.shape, name="scale_params",
            initializer=keras.initializers.Constant(initial_scale))

    # ---------------------------------------------------------------- density
    def components(self):
        """The K Gaussian components as one batched TFP distribution."""
        loc = tf.convert_to_tensor(self.means)
        raw = tf.convert_to_tensor(self.scale_params)
        if self.covariance == "full":
            return tfd.MultivariateNormalTriL(loc=loc, scale_tril=self._scale_tril.forward(raw))
        return tfd.MultivariateNormalDiag(loc=loc, scale_diag=tf.exp(raw))

    def distribution(self):
        """``MixtureSameFamily(Categorical(logits), components)``: the marginal ``p_theta(x)``."""
        return tfd.MixtureSameFamily(tfd.Categorical(logits=tf.convert_to_tensor(self.mixture_logits)),
                                     self.components())

    def call(self, x, training=False):
        return self.distribution().log_prob(self.check_input(x))

    def sample(self, n, seed):
        """``n`` samples by ancestral sampling ``z ~ Cat(alpha)``, ``x ~ N(mu_z, Sigma_z)`` (stateless)."""
        return self.distribution().sample(n, seed=stateless_seed(seed, 0))

    def posterior(self, x):
        """Responsibilities ``p_theta(z = k | x)``, shape ``(n, K)`` (the E-step, L1121)."""
        x = self.check_input(x)
        log_joint = tf.nn.log_softmax(self.mixture_logits) + self.components().log_prob(x[:, None, :])
        return tf.nn.softmax(log_joint, axis=-1)

    @property
    def covariances(self) -> np.ndarray:
        """The ``(K, d, d)`` covariance matrices ``Sigma_k``."""
        return self.components().covariance().numpy()

    # --------------------------------------------------------------------- EM
    def fit_em(self, x, iterations: int = 50, init: str = "current", seed: int = 0,
               min_variance: float = 0.0) -> np.ndarray:
        """Runs ``iterations`` EM steps in float64 and writes the result into the model's variables.

        Args:
            x: data ``(N, dim)``.
            init: ``"current"`` starts from the model's parameters; ``"data"`` from K distinct data
                points as means, the data covariance for every component and equal weights.
            seed: picks the initial data points for ``init="data"``.
            min_variance: added to every covariance's diagonal after the M-step (0 = exact EM; a
                positive value guards against a component collapsing onto one point, at the price
                of the exact monotonicity guarantee).

        Returns:
            The mean log-likelihood ``(1/N) sum_n log p(x_n)`` before each step and after the last
            (``iterations + 1`` values, float64); EM guarantees it never decreases.
        """
        if init not in ("current", "data"):
            raise ValueError(f"init must be 'current' or 'data', got {init!r}")
        x = tf.cast(self.check_input(x), tf.float64)
        n = int(x.shape[0])
        if n < self.num_components:
            raise InputError(f"EM needs at least num_components={self.num_components} points, got {n}")
        if init == "data":
            pick = np.random.default_rng(seed).choice(n, self.num_components, replace=False)
            means = tf.gather(x, pick)
            centred = x - tf.reduce_mean(x, 0)
            data_cov = tf.matmul(centred, centred, transpose_a=True) / n
            covs = tf.tile(_restrict(data_cov, self.covariance == "diag")[None], [self.num_components, 1, 1])
            log_weights = tf.fill([self.num_components], -np.log(self.num_components).astype(np.float64))
        else:
            means = tf.cast(self.means, tf.float64)
            covs = tf.cast(self.components().covariance(), tf.float64)
            log_weights = tf.cast(tf.nn.log_softmax(self.mixture_logits), tf.float64)
        history = []
        for _ in range(iterations):
            mean_log_likelihood, log_weights, means, covs = _em_step(
                x, log_weights, means, covs, tf.constant(min_variance, tf.float64), self.covariance == "diag")
            history.append(float(mean_log_likelihood))
        history.append(float(_log_likelihood_terms(x, log_weights, means, covs)[1]))
        self.mixture_logits.assign(tf.cast(log_weights, tf.float32))
        self.means.assign(tf.cast(means, tf.float32))
        chol = tf.linalg.cholesky(covs)
        raw = self._scale_tril.inverse(chol) if self.covariance == "full" else tf.math.log(
            tf.linalg.diag_part(chol))
        self.scale_params.assign(tf.cast(raw, tf.float32))
        return np.asarray(history)

    # ------------------------------------------------------------------ plots
    def plot_panel(self, ax, data) -> bool:
        """Fig. 4.1 of the thesis: the log-density on a grid with samples of the model."""
        x = data["test"][0]
        lo, hi = x.min(0) - 0.5, x.max(0) + 0.5
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 150), np.linspace(lo[1], hi[1], 150))
        grid = np.stack([gx.ravel(), gy.ravel()], 1).astype("float32")
        log_density = np.reshape(self.log_prob(grid).numpy(), gx.shape)
        samples = self.sample(500, 0).numpy()
        ax.contourf(gx, gy, np.maximum(log_density, -10), levels=30, cmap="viridis")
        ax.scatter(samples[:, 0], samples[:, 1], s=3, c="w")
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_title("log p(x) and samples (cf. thesis Fig. 4.1)")
        return True


def _restrict(cov, diagonal: bool):
    """A covariance restricted to the model's family: its diagonal part for diagonal mixtures."""
    return tf.linalg.diag(tf.linalg.diag_part(cov)) if diagonal else cov


def _log_likelihood_terms(x, log_weights, means, covs):
    """``(log p(x, z=k) of shape (N, K), mean_n log p(x_n))`` in float64 (the joint of L1117)."""
    components = tfd.MultivariateNormalTriL(loc=means, scale_tril=tf.linalg.cholesky(covs))
    log_joint = log_weights + components.log_prob(x[:, None, :])
    return log_joint, tf.reduce_mean(tf.reduce_logsumexp(log_joint, axis=1))


@tf.function(reduce_retracing=True)
def _em_step(x, log_weights, means, covs, min_variance, diagonal: bool):
    """One E-step and closed-form M-step; returns the log-likelihood before it and the new θ'."""
    log_joint, mean_log_likelihood = _log_likelihood_terms(x, log_weights, means, covs)
    responsibilities = tf.nn.softmax(log_joint, axis=1)                            # p(z | x), (N, K)
    counts = tf.reduce_sum(responsibilities, axis=0)                               # N_k
    new_log_weights = tf.math.log(counts / tf.cast(tf.shape(x)[0], tf.float64))
    new_means = tf.matmul(responsibilities, x, transpose_a=True) / counts[:, None]
    diff = x[:, None, :] - new_means                                               # (N, K, d)
    new_covs = tf.einsum("nk,nki,nkj->kij", responsibilities, diff, diff) / counts[:, None, None]
    new_covs = _restrict(new_covs, diagonal) + min_variance * tf.eye(tf.shape(x)[1], dtype=tf.float64)
    return mean_log_likelihood, new_log_weights, new_means, new_covs
