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
from tfzoo.probabilistic.density import DensityModel
from tfzoo.seeds import stateless_seed

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
        x = self.check_input(x)  # support R^dim: only non-finite inputs get -inf
        return self.outside_support_to_minus_inf(x, self.distribution().log_prob(x))

    def sample(self, n, seed):
        """``n`` samples by ancestral sampling ``z ~ Cat(alpha)``, ``x ~ N(mu_z, Sigma_z)`` (stateless)."""
        self.check_count(n, "n")
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


class ExpectationMaximization(keras.callbacks.Callback):
    """Runs :meth:`GaussianMixtureModel.fit_em` once, before the first gradient step of ``fit``.

    The ``mog-2d`` recipe fits the mixture by EM (L1119-1127) and then fine-tunes it with the recipe's
    gradient epochs. EM runs in ``on_train_begin`` at most once per callback object, and not at all
    when training resumes from a checkpoint (``initial_epoch > 0``, or the optimiser has already
    taken steps), so a resumed run keeps its restored parameters.

    Args:
        iterations: EM steps.
        init: ``"data"`` (K distinct training points as means, the data covariance, equal weights)
            or ``"current"`` (the model's parameters); see :meth:`GaussianMixtureModel.fit_em`.
        x: the training inputs ``(N, dim)`` (an array or a ``tf.data.Dataset`` of inputs or of
            ``(x, ...)`` tuples).
        seed: picks the initial data points of ``init="data"``.
        initial_epoch: the epoch training starts at; EM is skipped when it is positive.
        min_variance: added to each covariance's diagonal after every M-step (see
            :meth:`GaussianMixtureModel.fit_em`; 0 is exact EM).

    After EM ran, :attr:`log_likelihoods` holds the mean log-likelihood before each EM step and after
    the last (``fit_em``'s return value) and :attr:`ran` is ``True``.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(200, 2)).astype("float32")
        >>> model = GaussianMixtureModel(num_components=2, dim=2)
        >>> model.compile(optimizer="adam")
        >>> em = ExpectationMaximization(iterations=5, x=x)
        >>> _ = model.fit(x, epochs=1, batch_size=100, verbose=0, callbacks=[em])
        >>> em.ran, len(em.log_likelihoods)
        (True, 6)
    """

    def __init__(self, iterations: int = 100, init: str = "data", *, x=None, seed: int = 0,
                 initial_epoch: int = 0, min_variance: float = 0.0):
        super().__init__()
        if not min_variance >= 0:
            raise ValueError(f"min_variance must be >= 0, got {min_variance}")
        self.min_variance = float(min_variance)
        if int(iterations) < 0:
            raise ValueError(f"iterations must be >= 0, got {iterations}")
        if init not in ("current", "data"):
            raise ValueError(f"init must be 'current' or 'data', got {init!r}")
        self.iterations, self.init = int(iterations), init
        self.x, self.seed, self.initial_epoch = x, int(seed), int(initial_epoch)
        self.ran = False
        self.log_likelihoods: np.ndarray | None = None

    @classmethod
    def from_recipe(cls, context, **kwargs):
        """Built by the trainer: the training inputs, seed and start epoch come from ``context``."""
        return cls(x=context.x_train, seed=getattr(context, "seed", 0),
                   initial_epoch=getattr(context, "initial_epoch", 0) or 0, **kwargs)

    def _inputs(self):
        x = self.x
        if isinstance(x, tf.data.Dataset):
            batches = [b[0] if isinstance(b, (tuple, list)) else b for b in x.as_numpy_iterator()]
            x = np.concatenate([np.reshape(b, (-1, np.shape(b)[-1])) for b in batches])
        elif isinstance(x, (tuple, list)) and len(x) and not np.isscalar(x[0]) and np.ndim(x[0]) == 2:
            x = x[0]  # an (x, y) pair
        return np.asarray(x, np.float32)

    def on_train_begin(self, logs=None):
        if self.ran or self.initial_epoch > 0:
            return
        iterations = getattr(getattr(self.model, "optimizer", None), "iterations", None)
        if iterations is not None and int(iterations.numpy()) > 0:  # restored or already trained
            return
        if self.x is None:
            raise ValueError("ExpectationMaximization needs the training inputs: pass x=... (the trainer "
                             "passes them through from_recipe)")
        self.log_likelihoods = self.model.fit_em(self._inputs(), iterations=self.iterations, init=self.init,
                                                 seed=self.seed, min_variance=self.min_variance)
        self.ran = True


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
