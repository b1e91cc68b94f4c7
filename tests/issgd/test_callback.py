"""``StaleImportanceWeights`` with ``model.fit``: the table, the workers, the sampler, the logs."""

import keras
import numpy as np
import pytest

from tfzoo.issgd import ImportanceWeightTable, StaleImportanceWeights, estimator, norms
from tfzoo.issgd.models import ISSGDClassifier
from tfzoo.recipe import Recipe

N = 240


def make_model(seed=0, lr=0.05):
    keras.utils.set_random_seed(seed)
    model = ISSGDClassifier(hidden_units=(16, 16), input_shape=(2,), num_classes=2, input_scale=1.0)
    model.build_from_preset()
    model.compile_from_recipe(Recipe(optimizer="sgd", learning_rate=lr))
    return model


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, 2)).astype("float32")
    y = (x[:, 0] + 0.3 * rng.normal(size=N) > 0).astype("int64")
    y[:12] = 1 - y[:12]  # a few mislabelled, high-gradient examples
    return x, y


def current_norms(model, x, y):
    return np.asarray(norms.dense_grad_norms(model, x, y, norms.per_example_loss(model)))


def test_table_keeps_previous_values_times_and_staleness():
    table = ImportanceWeightTable(5)
    table.update([0, 1, 2, 3, 4], [1, 2, 3, 4, 5], step=0, param_version=0, wall_time=10.0)
    table.update([1, 3], [20, 40], step=7, param_version=5, wall_time=11.0)
    np.testing.assert_array_equal(table.omega, [1, 20, 3, 40, 5])
    np.testing.assert_array_equal(table.omega_previous, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(table.param_version, [0, 5, 0, 5, 0])
    np.testing.assert_array_equal(table.kept_mask(step=9, max_age=3), [0, 1, 0, 1, 0])
    assert table.kept_mask(step=9, max_age=None).all()
    # the paper's threshold is in seconds (003 line 2832): at t = 13.5, 3 s keeps the weights of t = 11
    np.testing.assert_array_equal(table.kept_mask(step=9, max_age=None, max_age_seconds=3.0, now=13.5),
                                  [0, 1, 0, 1, 0])
    np.testing.assert_array_equal(table.kept_mask(step=9, max_age=1, max_age_seconds=10.0, now=13.5), [0] * 5)


def test_seconds_threshold_leaves_out_weights_older_than_it_during_fit(monkeypatch):
    x, y = data(5)
    model = make_model(5)
    clock = [0.0]  # one "second" per training step, advanced before the ISSGD callback runs
    monkeypatch.setattr("tfzoo.issgd.callback.time.time", lambda: clock[0])
    tick = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: clock.__setitem__(0, clock[0] + 1))
    issgd = StaleImportanceWeights(x, y, batch_size=16, smoothing=1.0, publish_every=2, refresh_every=1,
                                   refresh_size=40, max_age_seconds=4.5, monitor_size=0, seed=2)
    model.fit(issgd.dataset(), steps_per_epoch=10, epochs=1, callbacks=[tick, issgd], verbose=0, shuffle=False)
    # 40 weights written at each of t = 6..10 (5 steps) are at most 4.5 s old at t = 10
    sampled = issgd._proposal.numpy() > 0
    np.testing.assert_array_equal(sampled, clock[0] - issgd.table.updated_time <= 4.5)
    assert sampled.sum() == 5 * 40
    with pytest.raises(ValueError, match="max_age_seconds"):
        StaleImportanceWeights(x, y, batch_size=16, max_age_seconds=0.0)


def test_relaxed_workers_refresh_r_examples_every_k_steps_from_published_parameters():
    x, y = data()
    model = make_model()
    issgd = StaleImportanceWeights(x, y, batch_size=16, smoothing=1.0, publish_every=4, refresh_every=3,
                                   refresh_size=50, monitor_size=0, seed=1)
    model.fit(issgd.dataset(), steps_per_epoch=12, epochs=2, callbacks=[issgd], verbose=0, shuffle=False)
    steps = 24
    assert issgd.step == steps
    assert issgd.refreshed_examples == N + (steps // 3) * 50
    table = issgd.table
    assert np.all(table.param_version % 4 == 0)  # versions are publication steps
    lag = table.updated_step - table.param_version
    assert np.all((lag >= 0) & (lag < 4))  # a published snapshot is 0..P-1 steps old
    # the last chunk written equals the norms of the snapshot published at step 24
    last = np.arange(350, 400) % N  # the 8th chunk of 50, round-robin from example 0
    np.testing.assert_allclose(table.omega[last], current_norms(model, x[last], y[last]), rtol=1e-5)


def test_exact_mode_with_p1_is_the_oracle_and_stale_equals_ideal():
    x, y = data(1)
    model = make_model(1)
    issgd = StaleImportanceWeights(x, y, batch_size=16, smoothing=0.0, mode="exact", publish_every=1)
    history = model.fit(issgd.dataset(), steps_per_epoch=5, epochs=1, callbacks=[issgd], verbose=0, shuffle=False)
    np.testing.assert_allclose(issgd.table.omega, current_norms(model, x, y), rtol=1e-5)
    logs = {k: v[-1] for k, v in history.history.items()}
    np.testing.assert_allclose(logs["issgd_sqrt_trace_stale"], logs["issgd_sqrt_trace_ideal"], rtol=1e-4)
    assert logs["issgd_sqrt_trace_ideal"] < logs["issgd_sqrt_trace_uniform"]
    assert logs["issgd_grad_true_norm"] <= logs["issgd_grad_true_norm_bound"] + 1e-7
    assert logs["issgd_weights_kept_fraction"] == 1.0 and logs["issgd_weight_age_steps"] == 0.0


def test_logged_traces_match_the_closed_forms():
    x, y = data(2)
    model = make_model(2)
    issgd = StaleImportanceWeights(x, y, batch_size=16, smoothing=1.0, publish_every=3, refresh_size=20)
    model.fit(issgd.dataset(), steps_per_epoch=6, epochs=1, callbacks=[issgd], verbose=0, shuffle=False)
    g = current_norms(model, x, y).astype(np.float64)
    logs = issgd.diagnostics()
    mu = logs["issgd_grad_true_norm"]
    np.testing.assert_allclose(logs["issgd_sqrt_trace_ideal"] ** 2, g.mean() ** 2 - mu**2, rtol=1e-4)
    np.testing.assert_allclose(logs["issgd_sqrt_trace_uniform"] ** 2, np.mean(g**2) - mu**2, rtol=1e-4)
    np.testing.assert_allclose(logs["issgd_sqrt_trace_stale"] ** 2,
                               estimator.trace_stale(g, issgd.table.omega, mu, 1.0), rtol=1e-4)
    assert logs["issgd_sqrt_trace_ideal"] <= logs["issgd_sqrt_trace_stale"]


def test_dataset_draws_with_the_tables_weights_and_respects_the_staleness_threshold():
    x, y = data(3)
    model = make_model(3)
    issgd = StaleImportanceWeights(x, y, batch_size=64, smoothing=0.5, publish_every=2, refresh_every=1,
                                   refresh_size=10, max_age=5, monitor_size=0, seed=4)
    model.fit(issgd.dataset(), steps_per_epoch=8, epochs=1, callbacks=[issgd], verbose=0, shuffle=False)
    kept = issgd.kept_mask()
    ages = issgd.table.age_steps(issgd.step)
    np.testing.assert_array_equal(kept, ages <= 5)
    assert kept.sum() == 60  # 6 refreshes of 10 examples within the last 5 steps
    xb, yb, sb = next(iter(issgd.dataset()))
    rows = {tuple(r): i for i, r in enumerate(x)}
    indices = np.array([rows[tuple(r)] for r in np.asarray(xb)])
    assert np.all(kept[indices])
    np.testing.assert_array_equal(np.asarray(yb), y[indices])
    np.testing.assert_allclose(sb, estimator.importance_weights(issgd.table.omega, indices, 0.5, kept), rtol=1e-5)
    issgd.max_age = 0
    issgd.step += 1
    with pytest.raises(RuntimeError, match="max_age"):
        issgd._push()


def test_huge_smoothing_is_plain_sgd_with_unit_weights():
    x, y = data(4)
    model = make_model(4)
    issgd = StaleImportanceWeights(x, y, batch_size=32, smoothing=1e9, monitor_size=0)
    model.fit(issgd.dataset(), steps_per_epoch=1, epochs=1, callbacks=[issgd], verbose=0, shuffle=False)
    _, _, weights = next(iter(issgd.dataset()))
    np.testing.assert_allclose(weights, 1.0, rtol=1e-6)


def test_biased_reduction_and_bad_arguments_are_refused():
    x, y = data()
    model = make_model()
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="mean_with_sample_weight"))
    issgd = StaleImportanceWeights(x, y, batch_size=8)
    with pytest.raises(ValueError, match="sum_over_batch_size"):
        model.fit(issgd.dataset(), steps_per_epoch=1, callbacks=[issgd], verbose=0, shuffle=False)
    with pytest.raises(ValueError, match="mode"):
        StaleImportanceWeights(x, y, batch_size=8, mode="async")
    with pytest.raises(ValueError, match="same non-zero number of rows"):
        StaleImportanceWeights(x, y[:-1], batch_size=8)
