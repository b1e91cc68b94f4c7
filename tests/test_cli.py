"""``python -m tfzoo``: the train job end to end, exact resumption after a kill, and bad input."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

TRAIN = [sys.executable, "-m", "tfzoo", "train", "mlp-moons", "--limit-train", "2000", "--batch-size", "50"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def tfzoo_cli(*args, check=True):
    done = subprocess.run([sys.executable, "-m", "tfzoo", *args], capture_output=True, text=True, env=ENV)
    if check and done.returncode != 0:
        raise AssertionError(done.stderr[-3000:])
    return done


def final_state(run_dir):
    """Every model and optimiser variable (dropout's RNG state too) at the end of the run."""
    with np.load(os.path.join(run_dir, "checkpoint", "state.npz")) as state:
        return [state[f"v{i}"] for i in range(len(state.files) - 1)]


def test_list_prints_every_registered_model():
    import tfzoo

    out = tfzoo_cli("list").stdout.split()
    assert out == tfzoo.list_models()
    assert "lenet-mnist" in tfzoo_cli("list", "lenet*", "-v").stdout


def test_train_writes_checkpoint_logs_savedmodel_picture_and_metrics(tmp_path):
    run = str(tmp_path / "run")
    out = subprocess.run([*TRAIN, "--epochs", "2", "-o", run], capture_output=True, text=True, env=ENV,
                         check=True).stdout
    for name in ("checkpoint/state.npz", "model.keras", "savedmodel/saved_model.pb", "result.png",
                 "metrics.json", "run.json"):
        assert os.path.exists(os.path.join(run, name)), name
    for name in ("checkpoint", "logs", "model.keras", "savedmodel", "result.png", "metrics.json"):
        assert os.path.join(run, name) in out  # the job prints where everything went
    assert os.listdir(os.path.join(run, "logs", "train"))  # TensorBoard events
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    assert metrics["test"]["accuracy"] > 0.85 and len(metrics["history"]["loss"]) == 2
    evaluated = tfzoo_cli("evaluate", run).stdout
    assert f"test accuracy = {metrics['test']['accuracy']:.6g}" in evaluated
    tfzoo_cli("export", run, str(tmp_path / "exported"))
    assert os.path.exists(tmp_path / "exported" / "saved_model.pb")


def test_killed_run_resumes_to_the_same_weights_as_an_uninterrupted_one(tmp_path):
    epochs = ["--epochs", "8"]
    straight, resumed = str(tmp_path / "straight"), str(tmp_path / "resumed")
    subprocess.run([*TRAIN, *epochs, "-o", straight], env=ENV, check=True, capture_output=True)

    state = os.path.join(resumed, "checkpoint", "state.npz")
    process = subprocess.Popen([*TRAIN, *epochs, "-o", resumed], env=ENV, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not os.path.exists(state) and time.time() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)  # dies somewhere after its first checkpoint
    process.wait()
    with np.load(state) as saved:
        epochs_done = json.loads(str(saved["meta"]))["epoch"]
    assert epochs_done < 8, "the run finished before it could be killed"
    subprocess.run([*TRAIN, *epochs, "-o", resumed], env=ENV, check=True, capture_output=True)

    for a, b in zip(final_state(straight), final_state(resumed), strict=True):
        np.testing.assert_array_equal(a, b)
    history = [json.load(open(os.path.join(d, "metrics.json")))["history"]["loss"] for d in (straight, resumed)]
    np.testing.assert_allclose(history[0], history[1], rtol=1e-6)


def test_mirrored_strategy_over_two_logical_cpus(tmp_path):
    done = subprocess.run([*TRAIN, "--epochs", "1", "--strategy", "mirrored", "--cpu-devices", "2",
                           "-o", str(tmp_path / "run")], capture_output=True, text=True, env=ENV)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.load(open(tmp_path / "run" / "metrics.json"))["test"]["accuracy"] > 0.8


@pytest.mark.parametrize("args, message", [
    (["train", "lenet-mnsit"], "unknown model name 'lenet-mnsit'. Closest registered names: lenet-mnist"),
    (["train", "lenet-mnist", "--data-dir", "/nonexistent/mnist"], "/nonexistent/mnist"),
    (["train", "mlp-moons", "--set", "hidden_units"], "--set expects KEY=VALUE"),
    (["train", "mlp-moons", "--set", "widht=3"], "unknown override(s) ['widht']"),
    (["train", "issgd-svhn"], "issgd-svhn has no data task in tfzoo.datasets"),
])
def test_bad_input_exits_2_with_a_message_not_a_traceback(args, message, tmp_path):
    done = tfzoo_cli(*args, "-o", str(tmp_path / "run"), check=False)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_corrupt_data_directory_is_named(tmp_path, mnist_dir):
    data = tmp_path / "mnist"
    data.mkdir()
    for name in os.listdir(mnist_dir):
        (data / name).write_bytes(open(os.path.join(mnist_dir, name), "rb").read())
    (data / "t10k-labels-idx1-ubyte.gz").write_bytes(b"corrupt")
    done = tfzoo_cli("train", "lenet-mnist", "--data-dir", str(data), "-o", str(tmp_path / "run"), check=False)
    assert done.returncode == 2 and "t10k-labels-idx1-ubyte.gz" in done.stderr and "Traceback" not in done.stderr


def test_output_directory_holding_another_run_is_refused(tmp_path):
    run = str(tmp_path / "run")
    subprocess.run([*TRAIN, "--epochs", "1", "-o", run], env=ENV, check=True, capture_output=True)
    done = tfzoo_cli("train", "mlp-moons", "--seed", "1", "--epochs", "1", "-o", run, check=False)
    assert done.returncode == 2 and "already holds a different run" in done.stderr


def test_nan_loss_stops_training_naming_the_step():
    import keras

    from tfzoo.callbacks import StopOnNaN, TrainingDivergedError

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.ones((8, 1), "float32")
    y = np.ones((8, 1), "float32")
    y[5] = np.nan  # the third batch of two holds the NaN
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, step 3 of that epoch \(global step 3\)"):
        model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0, callbacks=[StopOnNaN()])
