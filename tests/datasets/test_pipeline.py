"""make_dataset: per-epoch order is a pure function of (shuffle_seed, epoch); coverage; shapes."""

import os
import subprocess
import sys

import numpy as np
import pytest

from tfzoo.datasets import make_dataset, steps_per_epoch

N, BATCH = 103, 10


def _batches(ds):
    return [tuple(np.asarray(t) for t in b) if isinstance(b, tuple) else np.asarray(b) for b in ds]


@pytest.fixture(scope="module")
def data():
    x = np.arange(N, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    return x, np.arange(N, dtype=np.int64) * 10


def test_steps_per_epoch():
    assert steps_per_epoch(103, 10, False) == 11 and steps_per_epoch(103, 10, True) == 10
    assert steps_per_epoch(100, 10, False) == 10
    with pytest.raises(ValueError):
        steps_per_epoch(10, 0)


def test_each_epoch_is_a_permutation_and_pairs_stay_aligned(data):
    x, y = data
    batches = _batches(make_dataset(x, y, BATCH, shuffle_seed=7, epochs=4))
    steps = steps_per_epoch(N, BATCH)
    assert len(batches) == 4 * steps
    orders = []
    for e in range(4):
        xs = np.concatenate([b[0] for b in batches[e * steps : (e + 1) * steps]])
        ys = np.concatenate([b[1] for b in batches[e * steps : (e + 1) * steps]])
        assert sorted(xs[:, 0].astype(int).tolist()) == list(range(N))
        np.testing.assert_array_equal(ys, xs[:, 0].astype(np.int64) * 10)
        orders.append(ys // 10)
    assert all(not np.array_equal(orders[i], orders[j]) for i in range(4) for j in range(i))


def test_drop_remainder_never_spans_epochs(data):
    x, _ = data
    batches = _batches(make_dataset(x, None, BATCH, shuffle_seed=1, epochs=2, drop_remainder=True))
    assert len(batches) == 2 * steps_per_epoch(N, BATCH, True) and all(b.shape == (BATCH, 3) for b in batches)
    for e in range(2):
        seen = np.concatenate(batches[e * 10 : (e + 1) * 10])[:, 0]
        assert len(np.unique(seen)) == 100


def test_resume_equals_uninterrupted_run(data):
    x, y = data
    steps = steps_per_epoch(N, BATCH)
    full_ds = make_dataset(x, y, BATCH, shuffle_seed=42, epochs=6)
    full = _batches(full_ds)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(full, _batches(full_ds)))  # re-iteration: same data
    resumed = _batches(make_dataset(x, y, BATCH, shuffle_seed=42, epochs=6, initial_epoch=3))
    assert len(resumed) == 3 * steps
    for a, b in zip(resumed, full[3 * steps :]):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    endless = _batches(make_dataset(x, y, BATCH, shuffle_seed=42).take(6 * steps))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(endless, full))


def test_resume_in_fresh_process(data):
    x, y = data
    code = (
        "import numpy as np; from tfzoo.datasets import make_dataset\n"
        f"x = np.arange({N}, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)\n"
        f"ds = make_dataset(x, None, {BATCH}, shuffle_seed=42, epochs=4, initial_epoch=3, prefetch=False)\n"
        "print(' '.join(str(int(v)) for b in ds for v in b.numpy()[:, 0]))\n"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join(p for p in [os.getcwd(), os.environ.get("PYTHONPATH")] if p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    steps = steps_per_epoch(N, BATCH)
    here = _batches(make_dataset(x, y, BATCH, shuffle_seed=42, epochs=4))[3 * steps :]
    assert [int(v) for v in out.stdout.split()] == np.concatenate([b[0][:, 0] for b in here]).astype(int).tolist()


def test_unshuffled_single_pass_in_order(data):
    x, _ = data
    batches = _batches(make_dataset(x, batch_size=BATCH))
    assert len(batches) == steps_per_epoch(N, BATCH) and batches[-1].shape == (3, 3)
    np.testing.assert_array_equal(np.concatenate(batches), x)
    two = _batches(make_dataset(x, batch_size=BATCH, epochs=2))
    np.testing.assert_array_equal(np.concatenate(two), np.concatenate([x, x]))


def test_invalid_arguments(data):
    x, y = data
    with pytest.raises(ValueError, match="lengths"):
        make_dataset(x, y[:-1])
    with pytest.raises(ValueError, match="initial_epoch"):
        make_dataset(x, y, epochs=2, initial_epoch=3)
    assert _batches(make_dataset(x, y, epochs=2, initial_epoch=2, shuffle_seed=0)) == []  # finished run
