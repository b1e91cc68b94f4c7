"""``tfzoo.train``: budgets, the recipe's method callbacks, locks, and runs that always finish."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tfzoo
from tfzoo.errors import ArgumentError, OutputDirectoryError
from tfzoo.recipe import Budget, CallbackSpec, Recipe, Schedule

MOONS = dict(limit_train=400, limit_eval=200, batch_size=50, verbose=0)


def test_step_budget_stops_within_the_epoch_and_a_larger_budget_continues(tmp_path):
    run = tfzoo.train("mlp-moons", str(tmp_path / "run"), steps=5, epochs=3, **MOONS)
    assert run.spent["steps"] == 5 and run.spent["stopped_by"] == "steps" and run.spent["epochs"] == 1
    again = tfzoo.train("mlp-moons", str(tmp_path / "run"), steps=5, epochs=3, **MOONS)
    assert again.already_finished and again.spent == run.spent
    longer = tfzoo.train("mlp-moons", str(tmp_path / "run"), steps=13, epochs=3, **MOONS)
    assert longer.spent["steps"] == 13 and longer.spent["epochs"] == 2  # epoch 2 took steps 6..13


def test_time_budget_stops_a_long_run(tmp_path):
    run = tfzoo.train("mlp-moons", str(tmp_path / "run"), epochs=100000, time_budget="3s", **MOONS)
    assert run.spent["stopped_by"] == "wall_seconds"
    assert 3 <= run.spent["wall_seconds"] < 30 and run.spent["epochs"] < 100000
    assert len(run.history["cpu_seconds"]) == run.spent["epochs"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(epochs=0), "epochs must be a positive integer, got 0"),
    (dict(batch_size=-1), "batch_size must be a positive integer, got -1"),
    (dict(steps=2.5), "steps must be a positive integer, got 2.5"),
    (dict(limit_train=0), "limit_train must be a positive integer, got 0"),
    (dict(seed=-1), "seed must be a non-negative integer, got -1"),
    (dict(time_budget="tomorrow"), "time_budget: a duration must look like 45s, 20m or 1h30m, got 'tomorrow'"),
    (dict(overrides=dict(widht=3)), "unknown model argument(s) ['widht']"),
    (dict(recipe_overrides=dict(optimiser="sgd")), "unknown recipe field(s) ['optimiser']"),
    (dict(recipe_overrides=dict(batch_size=0)), "recipe batch_size must be a positive integer, got 0"),
])
def test_bad_arguments_are_refused_before_anything_is_written(kwargs, message, tmp_path):
    with pytest.raises(ArgumentError) as raised:
        tfzoo.train("mlp-moons", str(tmp_path / "run"), **kwargs)
    assert message in str(raised.value)
    assert not (tmp_path / "run").exists()


def test_exponential_schedule_sets_the_learning_rate_per_epoch(tmp_path):
    run = tfzoo.train("mlp-moons", str(tmp_path / "run"), epochs=3,
                      recipe_overrides=dict(schedule=dict(kind="exponential", decay=0.5)), **MOONS)
    base = tfzoo.get_preset("mlp-moons").recipe.learning_rate
    np.testing.assert_allclose(run.history["learning_rate"], [base, base / 2, base / 4], rtol=1e-6)


def test_recipe_types_refuse_unknown_and_wrong_values():
    with pytest.raises(TypeError, match="unexpected keyword argument 'lr'"):
        Recipe(lr=0.1)
    with pytest.raises(ValueError, match="Schedule kind must be one of"):
        Schedule("linear")
    with pytest.raises(ValueError, match="budget steps must be a positive integer"):
        Budget(steps=0)
    with pytest.raises(ValueError, match="'module:Class'"):
        CallbackSpec("Walkback")
    assert Recipe().replace(callbacks=[{"target": "a.b:C", "kwargs": {"k": 1}}]).callbacks == (CallbackSpec("a.b:C", {"k": 1}),)


@pytest.fixture(scope="module")
def finished_moons_run(tmp_path_factory):
    """A finished two-epoch ``mlp-moons`` run and its final weights and metrics."""
    run_dir = str(tmp_path_factory.mktemp("finished") / "run")
    run = tfzoo.train("mlp-moons", run_dir, epochs=2, **MOONS)
    return run_dir, [np.array(v) for v in run.model.weights], run.metrics


def _copy_run(source, tmp_path):
    target = str(tmp_path / "run")
    shutil.copytree(source, target)
    return target


@pytest.mark.parametrize("killed_after", ["checkpoint", "keras", "savedmodel_partial", "savedmodel", "picture"])
def test_a_run_killed_in_its_export_phase_is_completed_by_the_same_command(killed_after, finished_moons_run,
                                                                            tmp_path):
    source, weights, metrics = finished_moons_run
    run_dir = _copy_run(source, tmp_path)
    # leave the run directory as a kill at that point of the export phase would
    names = ["model.keras", "savedmodel", "result.png", "metrics.json"]
    keep = {"checkpoint": 0, "keras": 1, "savedmodel_partial": 1, "savedmodel": 2, "picture": 3}[killed_after]
    for name in names[keep:]:
        path = os.path.join(run_dir, name)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    if killed_after == "savedmodel_partial":
        os.makedirs(os.path.join(run_dir, "savedmodel.partial", "variables"))
        open(os.path.join(run_dir, "savedmodel.partial", "saved_model.pb"), "wb").write(b"half")
    with open(os.path.join(run_dir, ".lock"), "w") as f:
        f.write("999999999")  # the killed process's lock: stale
    completed = tfzoo.train("mlp-moons", run_dir, epochs=2, **MOONS)
    assert not completed.already_finished
    assert sorted(os.listdir(run_dir)) == sorted(
        ["run.json", "checkpoint", "logs", "model.keras", "savedmodel", "result.png", "metrics.json"])
    for a, b in zip(weights, completed.model.weights):
        np.testing.assert_array_equal(a, np.array(b))
    assert completed.metrics == pytest.approx(metrics)


def test_a_second_process_on_the_same_run_is_refused(finished_moons_run, tmp_path):
    run_dir = _copy_run(finished_moons_run[0], tmp_path)
    os.remove(os.path.join(run_dir, "metrics.json"))
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with open(os.path.join(run_dir, ".lock"), "w") as f:
            f.write(str(holder.pid))
        with pytest.raises(OutputDirectoryError, match=f"in use by another tfzoo process \\(PID {holder.pid}\\)"):
            tfzoo.train("mlp-moons", run_dir, epochs=2, **MOONS)
    finally:
        holder.kill()
        holder.wait()
    assert tfzoo.train("mlp-moons", run_dir, epochs=2, **MOONS).metrics  # the lock is stale now


def test_issgd_preset_trains_with_importance_sampling_from_its_table(tmp_path, mnist_dir):
    """``tfzoo train issgd-mnist-small`` is ISSGD, not SGD: its table is filled and drives the draws."""
    run = tfzoo.train("issgd-mnist-small", str(tmp_path / "run"), steps=20, batch_size=32, limit_train=512,
                      limit_eval=256, data_dir=mnist_dir, verbose=0)
    (issgd,) = run.callbacks
    assert type(issgd).__name__ == "StaleImportanceWeights" and issgd.smoothing == 10.0
    assert issgd.step == 20 and "issgd_sqrt_trace_stale" in run.history
    assert np.all(issgd.table.updated_step >= 0), "every importance weight was written"
    omega = issgd.table.omega
    assert omega.std() / omega.mean() > 0.1, "the weights are not uniform, so the test can tell"
    proposal = np.asarray(issgd._proposal.numpy(), np.float64)
    np.testing.assert_allclose(proposal, omega + issgd.smoothing, rtol=1e-5)
    # draw minibatches from the training stream and find which examples they hold
    row_of = {x.tobytes(): i for i, x in enumerate(issgd.x)}
    counts = np.zeros(issgd.size)
    for x, _, weights in issgd.dataset().take(400):
        rows = [row_of[r.tobytes()] for r in np.asarray(x)]
        np.add.at(counts, rows, 1)
        np.testing.assert_allclose(np.asarray(weights), proposal.mean() / proposal[rows], rtol=1e-4)
    expected = counts.sum() * proposal / proposal.sum()
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < issgd.size + 5 * np.sqrt(2 * issgd.size), f"draws do not follow the table (chi2 {chi2:.0f})"


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


def test_publisher_writes_the_serving_layout_and_a_card_with_named_outputs(finished_moons_run, tmp_path):
    run_dir = finished_moons_run[0]
    destination = tmp_path / "exported"
    tfzoo.publish(run_dir, str(destination), version=3)
    assert (destination / "3" / "saved_model.pb").exists() and (destination / "MODEL_CARD.md").exists()
    meta = json.loads((destination / "tfzoo.json").read_text())
    assert meta["preset"] == "mlp-moons" and meta["recipe"]["batch_size"] == 50
    assert meta["spent"]["epochs"] == 2 and meta["examples"] == {"train": 400, "test": 200}
    assert meta["endpoints"]["serve"] == {"inputs": {"x": "float32 [None, 2]"}, "outputs": {"output_0": "float32 [None, 2]"}}
    assert meta["metrics"] == pytest.approx(finished_moons_run[2])
    card = (destination / "MODEL_CARD.md").read_text()
    for section in ("## How it was trained", "## Metrics measured", "## What the paper reports", "## Endpoints",
                    "## Intended use and limitations", "License"):
        assert section in card
    assert "tfzoo.train('mlp-moons'" in card and "`output_0`: float32 [None, 2]" in card
    with pytest.raises(OutputDirectoryError, match="holds no tfzoo export"):
        (tmp_path / "mine").mkdir()
        (tmp_path / "mine" / "notes.txt").write_text("mine")
        tfzoo.publish(run_dir, str(tmp_path / "mine"))
