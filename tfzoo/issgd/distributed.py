"""ISSGD's norm workers on TensorFlow's parameter-server runtime, and a localhost cluster launcher.

Paper: ``shared/papers/003_a93095073811cc34.txt`` section 7.4.2 and Figure 7.1 (lines 2553–2598):
one *master* trains alone and pushes its parameters to a *database* "as regularly as possible"
without waiting ("fire and forget"); *workers* loop: fetch recent parameters, compute per-example
gradient norms for chunks of the training set, write them back; the master reads the weights when it
resamples. The paper used Theano and Redis; here every actor is a TensorFlow process:

* the **parameter server** (job ``ps``) holds the database: the published parameters, their version
  (the master's step at publication), the weight vector ``ω̃`` and, per example, the version its
  weight was computed from;
* the **workers** (job ``worker``) run :meth:`DistributedNormWorkers.schedule_sweep`'s chunks, each a
  ``tf.function`` that reads the published parameters from the parameter server, computes
  Proposition 3 norms for its examples and ``scatter_update``-s them into ``ω̃``;
* the **master** is the ``chief``: its ``tf.distribute.coordinator.ClusterCoordinator`` schedules the
  chunks without waiting (``schedule`` returns at once) and :class:`StaleImportanceWeights` reads
  the table every K steps. If a worker dies, the coordinator re-runs its chunks on the others and
  training goes on with the weights it has; a worker restarted on the same address rejoins.

On one machine, :class:`LocalCluster` starts the parameter server and the workers as separate
processes on 127.0.0.1 (servers inside the master's own process hung, ``shared/specs/measured.md``).
Across machines, run on each host ``python -m tfzoo.issgd.distributed --cluster '<json>' --job
worker --index i`` (and ``--job ps --index 0`` on one), with the same cluster JSON
``{"chief": ["master:port"], "ps": ["db:port"], "worker": ["w0:port", "w1:port"]}``, and build
``DistributedNormWorkers`` on the master with
``tf.distribute.cluster_resolver.SimpleClusterResolver(tf.train.ClusterSpec(spec),
rpc_layer="grpc", task_type="chief", task_id=0)``.

Limitations: the training set is captured in the chunk function and shipped to every worker (fine
for MNIST-sized data); the workers use Proposition 3, so the model must be a dense chain; the
coordinator's threads keep the master's interpreter from exiting at the end of a script (measured
here: it hung), so end such a script with ``os._exit(0)`` after closing the cluster.

Example::

    from tfzoo.issgd import StaleImportanceWeights
    from tfzoo.issgd.distributed import DistributedNormWorkers, LocalCluster

    with LocalCluster(num_workers=2) as cluster:
        workers = DistributedNormWorkers(cluster.cluster_resolver(), chunk_size=500)
        model = tfzoo.create_model("issgd-mnist-small")   # after connecting (see below)
        issgd = StaleImportanceWeights(x, y, batch_size=64, smoothing=1.0, publish_every=10,
                                       refresh_every=5, workers=workers)
        model.fit(issgd.dataset(), steps_per_epoch=100, epochs=3, callbacks=[issgd])
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    """A parameter server and ``num_workers`` workers as separate processes on 127.0.0.1.

    Each server exits by itself after ``lifetime_s`` seconds; :meth:`close` (or leaving the
    ``with`` block) ends them sooner. The calling process is the ``chief`` (the master).
    """

    def __init__(self, num_workers: int = 2, lifetime_s: float = 600.0):
        if num_workers < 1:
            raise ValueError(f"num_workers must be >= 1, got {num_workers}")
        self.lifetime_s = float(lifetime_s)
        self.spec = {"chief": [f"127.0.0.1:{_free_port()}"], "ps": [f"127.0.0.1:{_free_port()}"],
                     "worker": [f"127.0.0.1:{_free_port()}" for _ in range(num_workers)]}
        self._processes = {("ps", 0): self._launch("ps", 0)}
        for index in range(num_workers):
            self._processes[("worker", index)] = self._launch("worker", index)

    def _launch(self, job: str, index: int) -> subprocess.Popen:
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
        command = [sys.executable, "-m", "tfzoo.issgd.distributed", "--cluster", json.dumps(self.spec),
                   "--job", job, "--index", str(index), "--lifetime", str(self.lifetime_s)]
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill_worker(self, index: int):
        """Ends worker ``index`` abruptly (SIGKILL), as a crashed machine would."""
        process = self._processes[("worker", index)]
        process.kill()
        process.wait()

    def restart_worker(self, index: int):
        """Starts worker ``index`` again on its address; the coordinator reconnects to it."""
        if self._processes[("worker", index)].poll() is None:
            raise RuntimeError(f"worker {index} is still running")
        self._processes[("worker", index)] = self._launch("worker", index)

    def cluster_resolver(self):
        import tensorflow as tf

        return tf.distribute.cluster_resolver.SimpleClusterResolver(
            tf.train.ClusterSpec(self.spec), rpc_layer="grpc", task_type="chief", task_id=0)

    def close(self):
        for process in self._processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DistributedNormWorkers:
    """The database on the parameter server and the norm computations scheduled on the workers.

    Connecting to the cluster resets TensorFlow's eager context, so variables created earlier in
    this process become unusable: **create this object before the model**.
    :class:`StaleImportanceWeights` calls :meth:`attach` with its model and data.

    Args:
        cluster_resolver: a resolver whose task is the ``chief`` (see :meth:`LocalCluster.cluster_resolver`).
        chunk_size: examples per scheduled function.
    """

    def __init__(self, cluster_resolver, *, chunk_size: int = 256):
        import tensorflow as tf

        self.chunk_size = int(chunk_size)
        self.strategy = tf.distribute.experimental.ParameterServerStrategy(cluster_resolver)
        self.coordinator = tf.distribute.experimental.coordinator.ClusterCoordinator(self.strategy)
        self.size = None

    def attach(self, model, x, y, loss=None):
        """Creates the database on the parameter server and the workers' norm function.

        ``model`` is the master's model, a dense chain (Proposition 3): the workers use its
        structure with the *published* parameters; ``x, y`` is the training set in the callback's
        order; ``loss`` the per-example loss (default: the model's compiled loss).
        """
        import keras
        import tensorflow as tf

        from tfzoo.issgd import norms

        self.size = len(x)
        _, layers = norms.dense_chain(model)
        dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
        with self.strategy.scope():
            self._published = [
                (tf.Variable(np.asarray(layer.kernel), name="published_kernel"),
                 tf.Variable(np.asarray(layer.bias), name="published_bias") if layer.use_bias else None)
                for layer in dense]
            self._version = tf.Variable(tf.constant(-1, tf.int64), name="published_version")
            self._omega = tf.Variable(tf.zeros([self.size]), name="omega")
            self._omega_version = tf.Variable(tf.fill([self.size], tf.constant(-1, tf.int64)),
                                              name="omega_version")
            self._omega_time = tf.Variable(tf.fill([self.size], tf.constant(np.nan, tf.float64)),
                                           name="omega_time")
        x_all, y_all = tf.constant(np.asarray(x)), tf.constant(np.asarray(y))
        loss_fn = norms.per_example_loss(model, loss)
        size = self.size

        @tf.function
        def refresh_chunk(start):
            indices = (start + tf.range(self.chunk_size, dtype=tf.int64)) % size
            version = self._version.read_value()
            values = norms.dense_grad_norms(model, tf.gather(x_all, indices), tf.gather(y_all, indices),
                                            loss_fn, parameters=self._published)
            self._omega.scatter_update(tf.IndexedSlices(values, indices))
            self._omega_version.scatter_update(
                tf.IndexedSlices(tf.fill(tf.shape(indices), version), indices))
            self._omega_time.scatter_update(tf.IndexedSlices(tf.fill(tf.shape(indices), tf.timestamp()), indices))

        self._refresh_chunk = refresh_chunk

    def publish(self, model, step: int):
        """The master pushes its parameters (version ``step``); it does not wait for the workers."""
        import keras

        from tfzoo.issgd import norms

        _, layers = norms.dense_chain(model)
        dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
        for (kernel, bias), layer in zip(self._published, dense):
            kernel.assign(layer.kernel)
            if bias is not None:
                bias.assign(layer.bias)
        self._version.assign(step)

    def schedule_sweep(self):
        """Schedules one pass over the training set, in chunks; returns at once."""
        import tensorflow as tf

        for start in range(0, self.size, self.chunk_size):
            self.coordinator.schedule(self._refresh_chunk, args=(tf.constant(start, tf.int64),))

    def idle(self) -> bool:
        """Whether every scheduled chunk has finished (non-blocking)."""
        return self.coordinator.done()

    def wait(self):
        """The barrier of the exact mode: blocks until every scheduled chunk has finished."""
        self.coordinator.join()

    def read(self):
        """``(ω̃, version, time)``: the table on the parameter server, as NumPy arrays; ``time`` is
        when a worker wrote each weight (seconds since the epoch, by the worker's clock: across
        machines, keep the clocks synchronised, e.g. NTP, for ``max_age_seconds``)."""
        return (np.asarray(self._omega.read_value()), np.asarray(self._omega_version.read_value()),
                np.asarray(self._omega_time.read_value()))


def main(argv=None):
    """Runs one server of a cluster until ``--lifetime`` seconds have passed."""
    parser = argparse.ArgumentParser(description="a parameter server or norm worker of ISSGD")
    parser.add_argument("--cluster", required=True, help="cluster spec as JSON")
    parser.add_argument("--job", required=True, choices=["ps", "worker"])
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--lifetime", type=float, default=3600.0, help="seconds before the server exits")
    args = parser.parse_args(argv)
    import tensorflow as tf

    tf.distribute.Server(tf.train.ClusterSpec(json.loads(args.cluster)), job_name=args.job,
                         task_index=args.index, protocol="grpc", start=True)
    time.sleep(args.lifetime)


if __name__ == "__main__":
    main()
