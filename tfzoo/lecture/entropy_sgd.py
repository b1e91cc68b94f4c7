"""Entropy-SGD as a Keras optimiser (Lecture 3, L680–751; Chaudhari et al. 2016, arXiv 1611.01838).

From the lecture (``shared/papers/002_e592b05206285d1e.txt``):

* local entropy, Definition 4 (L711–713): ``F(x, γ) = log ∫ exp(-f(x') - γ/2 ||x - x'||²) dx'``;
* Entropy-SGD minimises ``-F`` (L728) with the gradient (L732)
  ``-∇F(x, γ) = γ (x - <x'>)``, ``<·>`` the mean under ``P(x'; x, γ) ∝ exp(-f(x') - γ/2 ||x - x'||²)`` (L736);
* "two nested loops of SGD, where stochastic gradient Langevin dynamics (SGLD) is used to compute
  the gradient of the local entropy at each update of the weights" (L738);
* scoping (L747–749): ``γ(t) = γ₀ (1 + γ₁)^t`` for the ``t``-th parameter update; learning rate and
  thermal noise are fixed (L751).

**EXTERNAL** — the inner loop is Algorithm 1 of Chaudhari et al. (the lecture gives no formula for it):
``x', μ ← x``; for ``l = 1..L`` (each on a fresh minibatch):
``dx' = ∇f(x') - γ (x - x')``, ``x' ← x' - η' dx' + sqrt(η') ε N(0, I)``, ``μ ← (1 - α) μ + α x'``;
then ``x ← x - η γ (x - μ)``. The paper's experiments use ``α = 0.75`` and ``L = 20``; none of
``η'``, ``ε``, ``α``, ``L``, ``γ₀``, ``γ₁`` has a value in the lecture, so all are arguments.

Keras mapping: one ``apply`` (one ``fit`` step, one minibatch gradient) is one SGLD step. The model's
variables hold ``x'`` during the inner loop; the optimiser's slots hold the anchor ``x`` and ``μ``
(initialised from the variables on the first step). Every ``L``-th step applies the outer update and
resets ``x' = μ = x``, so after a multiple of ``L`` steps the model holds ``x``;
:meth:`EntropySGD.finalize_variable_values` (called by ``fit`` at its end) also copies ``x`` into the
model. ``γ_t`` uses ``t`` = number of completed outer updates. One outer update costs ``L`` gradient
evaluations.

Reduction to SGD: with ``langevin_steps=1``, ``averaging=1``, ``thermal_noise=0`` and
``learning_rate * gamma0 = 1``, one step is ``x ← x - η' ∇f(x)``, i.e. ``SGD(sgld_learning_rate)``.

Example:
    >>> import keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=EntropySGD(learning_rate=1.0, sgld_learning_rate=0.1, langevin_steps=5), loss="mse")
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfzoo.seeds import stateless_seed


@keras.saving.register_keras_serializable(package="tfzoo")
class EntropySGD(keras.optimizers.Optimizer):
    """Entropy-SGD (see the module docstring).

    Args:
        learning_rate: ``η``, the outer step on ``x`` (the outer gradient is ``γ (x - μ)``).
        sgld_learning_rate: ``η'``, the Langevin step size.
        langevin_steps: ``L``, SGLD steps (gradient evaluations) per outer update.
        gamma0, gamma1: the scope ``γ_t = γ₀ (1 + γ₁)^t`` (L747).
        thermal_noise: ``ε``; the Langevin noise is ``sqrt(η') ε N(0, I)``.
        averaging: ``α`` of the running mean ``μ``.
        momentum: heavy-ball momentum on the outer update (0: none).
        seed: seeds the Langevin noise (stateless, from the step counter and the variable index).
    """

    def __init__(self, learning_rate=1.0, sgld_learning_rate=0.1, langevin_steps=20, gamma0=0.03, gamma1=1e-3,
                 thermal_noise=1e-4, averaging=0.75, momentum=0.0, seed=0, name="entropy_sgd", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if int(langevin_steps) < 1:
            raise ValueError(f"langevin_steps must be >= 1 (0 inner steps give a zero update), got {langevin_steps}")
        if not 0.0 < averaging <= 1.0:
            raise ValueError(f"averaging must be in (0, 1], got {averaging}")
        self.sgld_learning_rate, self.langevin_steps = float(sgld_learning_rate), int(langevin_steps)
        self.gamma0, self.gamma1, self.thermal_noise = float(gamma0), float(gamma1), float(thermal_noise)
        self.averaging, self.momentum, self.seed = float(averaging), float(momentum), int(seed)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.anchors = self.add_optimizer_variables(variables, "anchor")
        self.means = self.add_optimizer_variables(variables, "langevin_mean")
        self.velocities = self.add_optimizer_variables(variables, "velocity") if self.momentum else []

    def scope(self, outer_updates=None):
        """``γ_t = γ₀ (1 + γ₁)^t``; ``t`` defaults to the number of completed outer updates."""
        t = self.iterations // self.langevin_steps if outer_updates is None else outer_updates
        return self.gamma0 * (1.0 + self.gamma1) ** tf.cast(t, tf.float32)

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        anchor, mean = self.anchors[index], self.means[index]
        dtype = variable.dtype
        first = tf.equal(self.iterations, 0)
        x = tf.where(first, variable, anchor)
        mu = tf.where(first, variable, mean)
        gamma = tf.cast(self.scope(), dtype)
        eta_prime = tf.cast(self.sgld_learning_rate, dtype)
        noise = tf.random.stateless_normal(
            tf.shape(variable), stateless_seed(self.seed + index, tf.cast(self.iterations, tf.int32)), dtype=dtype)
        x_prime = (variable - eta_prime * (tf.cast(gradient, dtype) - gamma * (x - variable))
                   + tf.sqrt(eta_prime) * self.thermal_noise * noise)
        mu = (1.0 - self.averaging) * mu + self.averaging * x_prime
        step = tf.cast(learning_rate, dtype) * gamma * (x - mu)
        if self.momentum:
            velocity = self.velocities[index]
            new_velocity = self.momentum * velocity - step
            self.assign(velocity, tf.where(self._outer_step_now(), new_velocity, velocity))
            x_new = x + new_velocity
        else:
            x_new = x - step
        outer = self._outer_step_now()
        self.assign(anchor, tf.where(outer, x_new, x))
        self.assign(variable, tf.where(outer, x_new, x_prime))
        self.assign(mean, tf.where(outer, x_new, mu))

    def _outer_step_now(self):
        return tf.equal((self.iterations + 1) % self.langevin_steps, 0)

    def finalize_variable_values(self, var_list):
        """Leaves the model holding the outer variable ``x`` rather than the Langevin iterate ``x'``."""
        super().finalize_variable_values(var_list)
        if self.built and int(self.iterations) > 0:
            for variable in var_list:
                variable.assign(self.anchors[self._get_variable_index(variable)])

    def get_config(self):
        return {**super().get_config(), "sgld_learning_rate": self.sgld_learning_rate,
                "langevin_steps": self.langevin_steps, "gamma0": self.gamma0, "gamma1": self.gamma1,
                "thermal_noise": self.thermal_noise, "averaging": self.averaging, "momentum": self.momentum,
                "seed": self.seed}
