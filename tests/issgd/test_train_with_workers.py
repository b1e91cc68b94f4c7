"""``tfzoo train issgd-mnist-small`` with real norm workers: ``--workers N`` local processes, or the
cluster of ``TF_CONFIG`` (the TensorFlow way), with the training process as the ``chief``."""

import json
import os
import subprocess
import sys

import pytest

from tfzoo.issgd.distributed import LocalCluster

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
ARGS = ["--steps", "40", "--limit-train", "1024", "--limit-eval", "256", "--batch-size", "64"]


def _check_issgd_run(run_dir):
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["spent"]["steps"] == 40
    history = metrics["history"]
    assert "issgd_sqrt_trace_stale" in history
    # the workers keep the table fresh: weights are seconds old, not as old as the run
    assert max(history["issgd_weight_age_seconds"]) < 60


@pytest.mark.parametrize("how", ["workers", "tf_config"])
def test_issgd_trains_with_real_worker_processes(how, tmp_path, mnist_dir):
    run_dir = str(tmp_path / "run")
    command = [sys.executable, "-m", "tfzoo", "train", "issgd-mnist-small", "-o", run_dir, "--data-dir", mnist_dir,
               *ARGS]
    if how == "workers":
        done = subprocess.run([*command, "--workers", "2"], capture_output=True, text=True, env=ENV, timeout=600)
    else:
        with LocalCluster(num_workers=2, lifetime_s=600) as cluster:
            tf_config = json.dumps({"cluster": cluster.spec, "task": {"type": "chief", "index": 0}})
            done = subprocess.run(command, capture_output=True, text=True, env={**ENV, "TF_CONFIG": tf_config},
                                  timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    _check_issgd_run(run_dir)


def test_tf_config_of_a_non_chief_task_is_refused(tmp_path):
    tf_config = json.dumps({"cluster": {"chief": ["127.0.0.1:1"], "ps": ["127.0.0.1:2"], "worker": ["127.0.0.1:3"]},
                            "task": {"type": "worker", "index": 0}})
    done = subprocess.run([sys.executable, "-m", "tfzoo", "train", "issgd-mnist-small", "-o", str(tmp_path / "run"),
                           *ARGS], capture_output=True, text=True, env={**ENV, "TF_CONFIG": tf_config}, timeout=300)
    assert done.returncode == 2 and "task type must be 'chief', got 'worker'" in done.stderr
    assert not (tmp_path / "run").exists()
