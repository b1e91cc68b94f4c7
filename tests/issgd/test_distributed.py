"""A two-worker cluster on localhost (separate processes): workers refresh the weights while the
master trains without waiting, and killing a worker mid-run costs no training progress (003
section 7.4.2, lines 2553–2577: the master is "almost oblivious to the existence of the workers");
in exact mode the master waits at each publication for a full sweep (Fig. 7.1, line 2581).

The test runs in a fresh process: connecting to a cluster resets TensorFlow's eager context, which
would invalidate the variables other tests created in this one.
"""

from tfzoo import testing

SCRIPT = """
import time, numpy as np, keras
from tfzoo.issgd import StaleImportanceWeights
from tfzoo.issgd.distributed import DistributedNormWorkers, LocalCluster
from tfzoo.issgd.models import ISSGDClassifier
from tfzoo.recipe import Recipe

class TimedWeights(StaleImportanceWeights):
    hook_seconds = []
    def on_train_batch_end(self, batch, logs=None):
        start = time.perf_counter()
        super().on_train_batch_end(batch, logs)
        self.hook_seconds.append(time.perf_counter() - start)

N, STEPS, KILL_AT = 400, 30, 45
rng = np.random.default_rng(0)
x = rng.normal(size=(N, 2)).astype("float32")
y = (x[:, 0] > 0).astype("int64")
with LocalCluster(num_workers=2, lifetime_s=240) as cluster:
    workers = DistributedNormWorkers(cluster.cluster_resolver(), chunk_size=50)
    keras.utils.set_random_seed(0)
    model = ISSGDClassifier(hidden_units=(16, 16), input_shape=(2,), num_classes=2, input_scale=1.0)
    model.build_from_preset()
    model.compile_from_recipe(Recipe(optimizer="sgd", learning_rate=0.05))
    issgd = TimedWeights(x, y, batch_size=16, smoothing=1.0, publish_every=5, refresh_every=2,
                         workers=workers, monitor_size=0)
    versions, losses = [], []
    for epoch in range(4):
        if epoch == 2:
            cluster.kill_worker(1)
        if epoch == 3:
            cluster.restart_worker(1)
        history = model.fit(issgd.dataset(), steps_per_epoch=STEPS, epochs=epoch + 1, initial_epoch=epoch,
                            callbacks=[issgd], verbose=0, shuffle=False)
        losses.append(history.history["loss"][-1])
        versions.append(int(issgd.table.param_version.min()))
    result = dict(step=issgd.step, versions=versions, losses=losses, refreshed=issgd.refreshed_examples,
                  hook_max=max(issgd.hook_seconds[1:]), hook_median=float(np.median(issgd.hook_seconds)))
    # exact mode (the barriers of Fig. 7.1): the same callback, table and step counter, 10 more steps
    issgd.mode = "exact"
    model.fit(issgd.dataset(), steps_per_epoch=10, epochs=5, initial_epoch=4, callbacks=[issgd], verbose=0,
              shuffle=False)
    written = workers.read()[2]
    result.update(exact_step=issgd.step, exact_versions=(int(issgd.table.param_version.min()),
                                                          int(issgd.table.param_version.max())),
                  written_by_workers=bool(np.array_equal(issgd.table.updated_time, written)),
                  written_age_s=float(time.time() - written.min()))
    print(result, flush=True)
import os
os._exit(0)  # the coordinator's threads would keep the interpreter from exiting
"""


def test_two_worker_cluster_refreshes_without_blocking_survives_a_dead_worker_and_runs_exact_mode():
    out = testing.run_in_fresh_python(SCRIPT, timeout=240)
    result = eval(out.strip().splitlines()[-1])
    assert result["step"] == 120  # every step ran, through the kill and the restart
    versions = result["versions"]
    # after each epoch every weight comes from parameters published during that epoch: the workers
    # (only worker 0 during epoch 2) kept refreshing the whole table from fresh parameters
    for epoch, version in enumerate(versions):
        assert version >= 30 * epoch, versions
    assert result["refreshed"] > 4 * 400
    assert result["losses"][-1] < result["losses"][0]
    # the master never waits for a sweep: its per-step bookkeeping stays far below a second
    assert result["hook_median"] < 0.05 and result["hook_max"] < 1.0, result
    # exact mode: at each publication (steps 125 and 130) the master waits for a full sweep by the
    # workers, so after the last one every weight was computed from the step-130 parameters
    assert result["exact_step"] == 130
    assert result["exact_versions"] == (130, 130), result
    # the table's times are the workers' write times (for max_age_seconds), all from this last sweep
    assert result["written_by_workers"] and 0 <= result["written_age_s"] < 60, result
