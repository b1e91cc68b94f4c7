"""The ``tfzoo`` command: train end to end, exact resumption after a kill, exit codes and messages."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

TFZOO = [sys.executable, "-m", "tfzoo"]
TRAIN = [*TFZOO, "train", "mlp-moons", "--limit-train", "2000", "--batch-size", "50"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def tfzoo_cli(*args, check=True):
    done = subprocess.run([*TFZOO, *args], capture_output=True, text=True, env=ENV)
    if check and done.returncode != 0:
        raise AssertionError(done.stderr[-3000:])
    return done


def final_state(run_dir):
    """Every model and optimiser variable (dropout's RNG state too) at the end of the run."""
    with np.load(os.path.join(run_dir, "checkpoint", "state.npz")) as state:
        return [state[f"v{i}"] for i in range(len(state.files) - 1)]


def test_console_script_and_version():
    import tfzoo

    script = shutil.which("tfzoo", path=os.path.dirname(sys.executable))
    assert script, "the tfzoo console script is installed beside the interpreter"
    done = subprocess.run([script, "--version"], capture_output=True, text=True, env=ENV)
    assert done.returncode == 0 and done.stdout.strip() == f"tfzoo {tfzoo.__version__}"


def test_help_gives_every_option_a_default():
    out = tfzoo_cli("train", "--help").stdout
    options = [line.split()[0] for line in out.splitlines() if line.strip().startswith("--")]
    assert "--time-budget" in options and "--source" in options
    text = " ".join(out.split())
    for option in ("--epochs", "--batch-size", "--steps", "--time-budget", "--seed", "--source", "--workers"):
        after = text.split(option, 2)[-1]
        assert "(default:" in after.split(" --")[0], f"{option} shows no default"


def test_list_prints_every_registered_model():
    import tfzoo

    out = tfzoo_cli("list").stdout.split()
    assert out == tfzoo.list_models()
    assert "lenet-mnist" in tfzoo_cli("list", "lenet*", "-v").stdout


def test_train_writes_artifacts_logs_plain_lines_and_a_finished_run_says_so(tmp_path):
    run = str(tmp_path / "run")
    out = subprocess.run([*TRAIN, "--epochs", "2", "-o", run], capture_output=True, text=True, env=ENV,
                         check=True).stdout
    for name in ("checkpoint/state.npz", "model.keras", "savedmodel/saved_model.pb", "result.png",
                 "metrics.json", "run.json"):
        assert os.path.exists(os.path.join(run, name)), name
    assert not os.path.exists(os.path.join(run, ".lock"))
    assert os.listdir(os.path.join(run, "logs", "train"))  # TensorBoard events
    # stdout is not a terminal: one line per epoch, no progress-bar control characters
    assert "\r" not in out and "\x1b" not in out and "\x08" not in out
    assert out.count("Epoch 1/2") == 1 and out.count("Epoch 2/2") == 1
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    assert metrics["test"]["accuracy"] > 0.85 and len(metrics["history"]["loss"]) == 2
    assert json.load(open(os.path.join(run, "run.json")))["commands"] == [
        "tfzoo train mlp-moons --limit-train 2000 --batch-size 50 --epochs 2 -o " + os.path.relpath(run)]
    again = subprocess.run([*TRAIN, "--epochs", "2", "-o", run], capture_output=True, text=True, env=ENV)
    assert again.returncode == 0 and "finished already" in again.stdout and "Epoch" not in again.stdout
    evaluated = tfzoo_cli("evaluate", run).stdout
    assert f"test accuracy = {metrics['test']['accuracy']:.6g}" in evaluated
    tfzoo_cli("export", run, str(tmp_path / "exported"))
    assert os.path.exists(tmp_path / "exported" / "saved_model.pb")
    meta = json.load(open(tmp_path / "exported" / "tfzoo.json"))
    assert meta["preset"] == "mlp-moons" and meta["training_commands"][0].startswith("tfzoo train mlp-moons")


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
    assert os.path.exists(os.path.join(resumed, ".lock"))  # left by the killed process: stale
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


@pytest.mark.parametrize("args, status, message", [
    (["train", "lenet-mnsit"], 2, "unknown model name 'lenet-mnsit'. Closest registered names: lenet-mnist"),
    (["train", "mlp-moons", "--set", "hidden_units"], 2, "--set expects KEY=VALUE"),
    (["train", "mlp-moons", "--set", "widht=3"], 2, "unknown model argument(s) ['widht']"),
    (["train", "mlp-moons", "--set-recipe", "learning_rat=3"], 2, "unknown recipe field(s) ['learning_rat']"),
    (["train", "mlp-moons", "--epochs", "0"], 2, "argument --epochs: expected a number >= 1, got 0"),
    (["train", "mlp-moons", "--batch-size", "0"], 2, "argument --batch-size: expected a number >= 1, got 0"),
    (["train", "mlp-moons", "--limit-train", "-5"], 2, "argument --limit-train: expected a number >= 0, got -5"),
    (["train", "mlp-moons", "--time-budget", "soon"], 2, "a duration must look like 45s, 20m or 1h30m"),
    (["train", "mlp-moons", "--limit-train", "10", "--batch-size", "50"], 2,
     "the training split has 10 examples after limit_train, fewer than one batch of batch_size=50"),
    (["train", "mlp-moons", "--workers", "2"], 2, "only ISSGD presets use norm workers"),
    (["train", "lenet-mnist", "--data-dir", "/nonexistent/mnist"], 1, "/nonexistent/mnist"),
    (["pretrained", "download", "lenet-mnsit"], 2, "unknown model name 'lenet-mnsit'"),
])
def test_bad_input_exits_with_a_message_and_leaves_no_run_directory(args, status, message, tmp_path):
    run = tmp_path / "run"
    done = tfzoo_cli(*args, *(["-o", str(run)] if args[0] == "train" else []), check=False)
    assert done.returncode == status, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not run.exists(), "a refused command must not create the run directory"


def test_corrupt_data_directory_is_named(tmp_path, mnist_dir):
    data = tmp_path / "mnist"
    data.mkdir()
    for name in os.listdir(mnist_dir):
        (data / name).write_bytes(open(os.path.join(mnist_dir, name), "rb").read())
    (data / "t10k-labels-idx1-ubyte.gz").write_bytes(b"corrupt")
    done = tfzoo_cli("train", "lenet-mnist", "--data-dir", str(data), "-o", str(tmp_path / "run"), check=False)
    assert done.returncode == 1 and "t10k-labels-idx1-ubyte.gz" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()


def test_output_directory_holding_another_run_is_refused_and_left_as_it_was(tmp_path):
    run = str(tmp_path / "run")
    subprocess.run([*TRAIN, "--epochs", "1", "-o", run], env=ENV, check=True, capture_output=True)
    before = sorted(os.listdir(run))
    done = tfzoo_cli("train", "mlp-moons", "--seed", "1", "--epochs", "1", "-o", run, check=False)
    assert done.returncode == 2 and "already holds a different run" in done.stderr
    assert sorted(os.listdir(run)) == before


def test_output_path_that_is_a_file_and_export_onto_a_file(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("x")
    done = tfzoo_cli("train", "mlp-moons", "-o", str(path), check=False)
    assert done.returncode == 2 and "is a file, not a directory" in done.stderr and "Traceback" not in done.stderr
    done = tfzoo_cli("export", str(tmp_path), str(path), check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
