"""``StaleImportanceWeights``: ISSGD for ``model.fit`` with stale, simulated-worker importance weights.

Paper: ``shared/papers/003_a93095073811cc34.txt`` section 7.4 (lines 2523–2588) and appendices
7.A.3–7.A.5 (lines 2826–2858). One *master* (here: ``model.fit``) trains on minibatches drawn with
probability ∝ ``ω̃_n + c`` and weighted by ``mean(ω̃ + c)/(ω̃_n + c)`` (line 2531); *workers* keep the
probability weights ``ω̃_n = ‖∇_θ L_n‖`` fresh from parameters the master published earlier. This
callback plays the database and the workers on one machine:

* the master **publishes** its parameters every ``publish_every`` (P) steps into a snapshot copy of
  the model ("fire and forget", line 2559); a published snapshot is 0 to P−1 steps old when used;
* **relaxed mode** (no barrier, line 2583): every ``refresh_every`` (K) steps the simulated workers
  recompute ``refresh_size`` (R) weights, round-robin over the training set, from the snapshot;
* **exact mode** (the barriers of Fig. 7.1, line 2581): at every publication all N weights are
  recomputed before training goes on; with ``publish_every=1`` this is the oracle ISSGD of 7.4.1;
* the **table** keeps, per example, ``ω̃_n``, its previous value, the step and wall-clock time it
  was written and the parameter version (published step) it came from. Weights older than
  ``max_age`` steps, or ``max_age_seconds`` seconds (the paper's threshold is in seconds: 4 s keeps
  15% of the weights, line 2832), are left out (7.A.3) and the estimator is renormalised over the
  kept set.

Before the first step of the first ``fit`` all weights are computed from the initial parameters; a
later ``fit`` with the same callback continues with the table as it is. At each epoch end the
callback adds to the Keras logs (and to :attr:`StaleImportanceWeights.history`):

* ``issgd_sqrt_trace_ideal``, ``issgd_sqrt_trace_uniform``: √ of eqs. (7.7) and (7.8) from norms
  recomputed at the *current* parameters on ``monitor_size`` examples;
* ``issgd_sqrt_trace_stale``: √ of eq. (7.9) with ``ω̃^OLD`` the table weights in use, plus ``c``
  (the proposal actually sampled; with ``c = 0`` exactly eq. 7.9);
* ``issgd_sqrt_trace_stale_table``: √ of eq. (7.9) from the table alone (``ω̃`` = latest,
  ``ω̃^OLD`` = previous values, plus ``c``), the paper's cheap version "without having to run the
  model" (line 2565), with the exact ``‖g_TRUE‖``;
* ``issgd_grad_true_norm`` (exact, ``‖1/N Σ ∇L_n‖``) and ``issgd_grad_true_norm_bound`` (7.A.4:
  the mean over minibatches of their gradient norms, an upper bound); the traces use the exact one;
* ``issgd_weights_kept_fraction``, ``issgd_weight_age_steps`` and ``issgd_weight_age_seconds``
  (means over the table).

The traces are for one draw; a minibatch of M draws has ``Tr Σ / M``.

Example::

    import keras, tfzoo
    from tfzoo import testing
    from tfzoo.issgd import StaleImportanceWeights
    model = tfzoo.create_model("issgd-mnist-small")
    x, y = testing.example_fit_data(model, 1000)
    issgd = StaleImportanceWeights(x, y, batch_size=32, smoothing=1.0, publish_every=5,
                                   refresh_every=1, refresh_size=100)
    model.fit(issgd.dataset(), steps_per_epoch=50, epochs=2, callbacks=[issgd])
    print(issgd.history["issgd_sqrt_trace_stale"])

The loss must reduce with Keras' default ``"sum_over_batch_size"`` (Keras 3 divides the weighted
sum by the number of examples ``M``, ``keras/src/losses/loss.py:reduce_values``); a loss with
``reduction="mean_with_sample_weight"`` (divides by ``Σ s``) is refused.
"""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from tfzoo.issgd import estimator, norms

_UNBIASED_REDUCTIONS = ("sum_over_batch_size", "mean")



def _clone_keeping_dtype_policy(model):
    """``keras.models.clone_model`` under ``model``'s dtype policy: the clone (a ``Sequential``'s own
    policy included) takes the global policy otherwise, so a float64 model cloned under the default
    float32 policy casts its inputs to float32."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(model.dtype_policy)
    try:
        return keras.models.clone_model(model)
    finally:
        keras.config.set_dtype_policy(previous)

class ImportanceWeightTable:
    """The database of section 7.4.2: per-example weight, previous weight, step, time, version."""

    def __init__(self, size: int):
        self.omega = np.zeros(size)
        self.omega_previous = np.zeros(size)
        self.updated_step = np.full(size, -1, np.int64)
        self.param_version = np.full(size, -1, np.int64)
        self.updated_time = np.full(size, np.nan)

    def __len__(self):
        return len(self.omega)

    def update(self, indices, values, *, step: int, param_version: int, wall_time):
        """Writes new weights for ``indices``; the replaced ones become the previous values.
        ``wall_time``: when they were computed (seconds since the epoch; a scalar or one per index)."""
        indices = np.asarray(indices)
        values = np.asarray(values, np.float64)
        never = self.updated_step[indices] < 0
        self.omega_previous[indices] = np.where(never, values, self.omega[indices])
        self.omega[indices] = values
        self.updated_step[indices] = step
        self.param_version[indices] = param_version
        self.updated_time[indices] = wall_time

    def age_steps(self, step: int) -> np.ndarray:
        return step - self.updated_step

    def kept_mask(self, step: int, max_age: int | None, max_age_seconds: float | None = None,
                  now: float | None = None) -> np.ndarray:
        """Weights written at most ``max_age`` steps and ``max_age_seconds`` seconds before ``now``
        (all written ones when both are ``None``)."""
        kept = self.updated_step >= 0
        if max_age is not None:
            kept &= self.age_steps(step) <= max_age
        if max_age_seconds is not None:
            kept &= (time.time() if now is None else now) - self.updated_time <= max_age_seconds
        return kept


def check_unbiased_reduction(model):
    """Raises unless the compiled loss divides the weighted sum by the batch size M (line 2531)."""
    loss = model.loss
    reduction = getattr(loss, "reduction", "sum_over_batch_size")
    if reduction not in _UNBIASED_REDUCTIONS:
        raise ValueError(
            f"ISSGD needs the loss reduced as Σ s_i L_i / M (003 line 2531), i.e. Keras' "
            f"'sum_over_batch_size'; the compiled loss uses reduction={reduction!r}"
            + (" (divides by Σ s: a biased, self-normalised estimator)"
               if reduction == "mean_with_sample_weight" else ""))


class StaleImportanceWeights(keras.callbacks.Callback):
    """Importance-sampling SGD with stale per-example gradient norms (see the module docstring).

    Args:
        x, y: the training set (arrays with N rows), sampled by :meth:`dataset`.
        batch_size: M, examples drawn with replacement per step.
        smoothing: the constant ``c`` added to every weight (7.A.5; the paper uses 10 and 1).
        mode: ``"relaxed"`` (simulated workers, no barrier) or ``"exact"`` (barrier at each
            publication).
        publish_every: P, steps between parameter publications.
        refresh_every, refresh_size: K and R of the relaxed mode (R defaults to N / 10).
        max_age: staleness threshold in steps (7.A.3); ``None`` keeps every weight.
        max_age_seconds: staleness threshold in seconds of wall clock (the paper's form, line 2832:
            4 s); with real workers the age counts from when a worker wrote the weight.
        norm_method: ``"auto"``, ``"dense"`` (Prop. 3) or ``"vectorized"`` (see
            :func:`tfzoo.issgd.norms.grad_norm_function`).
        loss: the per-example loss for the norms (default: the compiled loss).
        norm_batch_size: chunk size of the norm computations.
        monitor_size: examples used by the per-epoch diagnostics (default all N; 0 disables them).
        seed: seeds the minibatch draws (stateless: draw ``k`` uses ``(seed, k)``).
        workers: a :class:`tfzoo.issgd.distributed.DistributedNormWorkers`: real worker processes
            replace the simulated ones. The master publishes every P steps; every K steps it reads
            the table from the parameter server and, when the workers are idle, schedules the next
            sweep (relaxed), or schedules a sweep and waits for it at each publication (exact).
            ``refresh_size`` is then unused; a weight's step is the step the master read it.
    """

    def __init__(self, x, y, *, batch_size: int, smoothing: float = 1.0, mode: str = "relaxed",
                 publish_every: int = 1, refresh_every: int = 1, refresh_size: int | None = None,
                 max_age: int | None = None, max_age_seconds: float | None = None,
                 norm_method: str = "auto", loss=None,
                 norm_batch_size: int = 256, monitor_size: int | None = None, seed: int = 0,
                 workers=None):
        super().__init__()
        x, y = np.asarray(x), np.asarray(y)
        if len(x) != len(y) or len(x) == 0:
            raise ValueError(f"x and y must have the same non-zero number of rows, got {len(x)} and {len(y)}")
        if mode not in ("relaxed", "exact"):
            raise ValueError(f"mode must be 'relaxed' or 'exact', got {mode!r}")
        if smoothing < 0:
            raise ValueError(f"the smoothing constant must be >= 0, got {smoothing}")
        for name, value in dict(batch_size=batch_size, publish_every=publish_every,
                                refresh_every=refresh_every, norm_batch_size=norm_batch_size).items():
            if int(value) < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}")
        self.x, self.y, self.size = x, y, len(x)
        self.batch_size, self.smoothing, self.mode = int(batch_size), float(smoothing), mode
        self.publish_every, self.refresh_every = int(publish_every), int(refresh_every)
        self.refresh_size = int(refresh_size or max(1, self.size // 10))
        if max_age_seconds is not None and not max_age_seconds > 0:
            raise ValueError(f"max_age_seconds must be a positive number of seconds, got {max_age_seconds}")
        self.max_age, self.norm_method, self.loss = max_age, norm_method, loss
        self.max_age_seconds = max_age_seconds
        self.norm_batch_size = int(norm_batch_size)
        self.monitor_size = self.size if monitor_size is None else min(int(monitor_size), self.size)
        self.seed = int(seed)
        self.workers = workers
        self.table = ImportanceWeightTable(self.size)
        self.step = 0
        self.published_step = -1
        self.refreshed_examples = 0
        self.history: dict[str, list] = {}
        self._cursor = 0
        self._proposal = tf.Variable(tf.ones([self.size]), trainable=False, name="issgd_proposal")
        self._kept_count = tf.Variable(float(self.size), trainable=False, name="issgd_kept_count")
        self._snapshot = None
        self._monitor = np.random.default_rng(self.seed).permutation(self.size)[: self.monitor_size]

    @classmethod
    def from_recipe(cls, context, *, simulated_workers: int | None = None, **kwargs):
        """The recipe's form: ISSGD over the run's training split, batch size and seed.

        ``simulated_workers`` describes the paper's setting (3 workers, Sec. 7.5) that the simulated
        refreshes stand for; with ``tfzoo train --workers N`` (or a ``TF_CONFIG`` cluster) real
        worker processes compute the weights instead (``context.workers``).
        """
        if simulated_workers is not None and (not isinstance(simulated_workers, int) or simulated_workers < 1):
            raise ValueError(f"simulated_workers must be a positive integer, got {simulated_workers!r}")
        callback = cls(context.x_train, context.y_train, batch_size=context.batch_size, seed=context.seed,
                       workers=context.workers, **kwargs)
        callback.simulated_workers = simulated_workers
        return callback

    def training_dataset(self) -> tf.data.Dataset:
        """What :func:`tfzoo.train` fits on: the importance-sampled stream of :meth:`dataset`."""
        return self.dataset()

    # ------------------------------------------------------------------ sampling
    def dataset(self) -> tf.data.Dataset:
        """An endless ``tf.data`` stream of ``(x, y, sample_weight)`` minibatches drawn from the table.

        Each draw reads the current proposal (prefetching is disabled, so step ``t`` samples from
        the table as it is after step ``t − 1``); pass ``steps_per_epoch`` to ``fit``.
        """
        x, y = tf.constant(self.x), tf.constant(self.y)
        seed = tf.constant(self.seed, tf.int64)

        def draw(k):
            indices, weights = estimator.sample_minibatch(
                self._proposal, self._kept_count, self.batch_size, tf.stack([seed, k]))
            return tf.gather(x, indices), tf.gather(y, indices), weights

        options = tf.data.Options()
        options.experimental_optimization.inject_prefetch = False
        options.autotune.enabled = False
        return tf.data.Dataset.range(2**62).map(draw).with_options(options)

    def kept_mask(self) -> np.ndarray:
        return self.table.kept_mask(self.step, self.max_age, self.max_age_seconds)

    def _push(self):
        kept = self.kept_mask()
        if not kept.any():
            raise RuntimeError(
                f"step {self.step}: no importance weight is younger than max_age={self.max_age} steps "
                f"and max_age_seconds={self.max_age_seconds}; raise the threshold or refresh more often "
                "(refresh_every / refresh_size)")
        self._proposal.assign(np.where(kept, self.table.omega + self.smoothing, 0.0).astype(np.float32))
        self._kept_count.assign(float(kept.sum()))

    # ------------------------------------------------------------------ workers
    def _norms(self, function, indices) -> np.ndarray:
        out = [np.asarray(function(self.x[chunk], self.y[chunk]))
               for chunk in np.array_split(indices, max(1, -(-len(indices) // self.norm_batch_size)))]
        return np.concatenate(out)

    def publish(self):
        """The master's fire-and-forget publication: the snapshot takes the current parameters."""
        for target, source in zip(self._snapshot.weights, self.model.weights):
            target.assign(source)
        self.published_step = self.step

    def refresh(self, indices):
        """Simulated workers: ``ω̃_n`` for ``indices`` from the published (stale) parameters."""
        values = self._norms(self._snapshot_norms, np.asarray(indices))
        self.table.update(indices, values, step=self.step, param_version=self.published_step,
                          wall_time=time.time())
        self.refreshed_examples += len(indices)

    def _pull(self):
        """Reads the workers' table; entries computed from newer parameters enter the local table."""
        omega, version, written = self.workers.read()
        new = np.flatnonzero(version > self.table.param_version)
        for v in np.unique(version[new]):
            chosen = new[version[new] == v]
            self.table.update(chosen, omega[chosen], step=self.step, param_version=int(v),
                              wall_time=written[chosen])
        self.refreshed_examples += len(new)
        return len(new) > 0

    def _next_chunk(self):
        indices = (self._cursor + np.arange(self.refresh_size)) % self.size
        self._cursor = int((self._cursor + self.refresh_size) % self.size)
        return indices

    # ------------------------------------------------------------------ Keras hooks
    def on_train_begin(self, logs=None):
        check_unbiased_reduction(self.model)
        if self._snapshot is None:
            self._snapshot = _clone_keeping_dtype_policy(self.model)
            self._snapshot(self.x[:1], training=False)  # creates the snapshot's variables
            loss = norms.per_example_loss(self.model, self.loss)
            self._snapshot_norms = norms.grad_norm_function(self._snapshot, self.norm_method, loss)
            self._current_norms = norms.grad_norm_function(self.model, self.norm_method, loss)
            self._loss_fn = loss
        self.publish()
        unwritten = np.flatnonzero(self.table.updated_step < 0)
        if len(unwritten):  # the first fit: every weight from the initial parameters
            self.refresh(unwritten)
        if self.workers is not None:
            if self.workers.size is None:
                self.workers.attach(self.model, self.x, self.y, self.loss)
            self.workers.publish(self.model, self.step)
            if self.workers.idle():
                self.workers.schedule_sweep()
        self._push()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        changed = self.max_age is not None or self.max_age_seconds is not None
        if self.workers is not None:
            changed |= self._step_with_workers()
        else:
            if self.step % self.publish_every == 0:
                self.publish()
                if self.mode == "exact":
                    self.refresh(np.arange(self.size))
                    changed = True
            if self.mode == "relaxed" and self.step % self.refresh_every == 0:
                self.refresh(self._next_chunk())
                changed = True
        if changed:
            self._push()

    def _step_with_workers(self) -> bool:
        changed = False
        if self.step % self.publish_every == 0:
            self.workers.publish(self.model, self.step)
            if self.mode == "exact":
                self.workers.wait()  # finish what is in flight, then a full sweep at this version
                self.workers.schedule_sweep()
                self.workers.wait()
                changed = self._pull()
        if self.mode == "relaxed" and self.step % self.refresh_every == 0:
            changed = self._pull()
            if self.workers.idle():
                self.workers.schedule_sweep()
        return changed

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_size == 0:
            return
        values = self.diagnostics()
        for key, value in values.items():
            self.history.setdefault(key, []).append(value)
        if logs is not None:
            logs.update(values)

    # ------------------------------------------------------------------ diagnostics
    def _gradient_sums(self, indices):
        """``(Σ_n ∇L_n over indices, [‖mean gradient of each chunk‖])`` at the current parameters."""
        variables = self.model.trainable_variables

        @tf.function
        def summed_gradient(x, y):
            with tf.GradientTape() as tape:
                total = tf.reduce_sum(self._loss_fn(y, self.model(x, training=False)))
            return tape.gradient(total, variables)

        totals, chunk_norms = None, []
        for chunk in np.array_split(indices, max(1, -(-len(indices) // self.norm_batch_size))):
            grads = [np.asarray(g, np.float64) for g in summed_gradient(self.x[chunk], self.y[chunk])]
            chunk_norms.append(np.sqrt(sum(np.sum(g**2) for g in grads)) / len(chunk))
            totals = grads if totals is None else [t + g for t, g in zip(totals, grads)]
        return totals, chunk_norms

    def diagnostics(self) -> dict:
        """The per-epoch measurements listed in the module docstring, as floats."""
        indices = self._monitor
        current = self._norms(self._current_norms, indices).astype(np.float64)
        totals, chunk_norms = self._gradient_sums(indices)
        g_true = float(np.sqrt(sum(np.sum(t**2) for t in totals))) / len(indices)
        c = self.smoothing
        stale_table = self.table.omega[indices]
        traces = dict(
            ideal=estimator.trace_ideal(current, g_true),
            uniform=estimator.trace_uniform(current, g_true),
            stale=estimator.trace_stale(current, stale_table, g_true, c),
            stale_table=estimator.trace_stale(self.table.omega[indices],
                                              self.table.omega_previous[indices], g_true, c),
        )
        kept = self.kept_mask()
        written = self.table.updated_step >= 0
        values = {f"issgd_sqrt_trace_{k}": float(np.sqrt(max(v, 0.0))) for k, v in traces.items()}
        values.update(
            issgd_grad_true_norm=g_true,
            issgd_grad_true_norm_bound=float(np.mean(chunk_norms)),
            issgd_weights_kept_fraction=float(kept.mean()),
            issgd_weight_age_steps=float(self.table.age_steps(self.step)[written].mean()),
            issgd_weight_age_seconds=float(np.mean(time.time() - self.table.updated_time[written])),
        )
        return values
