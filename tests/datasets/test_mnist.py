"""Real-MNIST tests: checksums, shapes, label counts, split, binarization, errors, TFDS == IDX."""

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tfzoo.datasets import DataError, MNIST_FILES, binarize, list_tasks, load_mnist, load_task, mnist_splits

# Per-digit label counts from /work/shared/data/README.md.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
OFFICIAL_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_mnist(mnist_dir, source="idx")


@pytest.fixture
def mnist_copy(mnist_dir, tmp_path):
    for name in MNIST_FILES:
        shutil.copy(Path(mnist_dir) / name, tmp_path / name)
    return tmp_path


def test_md5_table_matches_readme_and_files(mnist_dir):
    assert {name: f.md5 for name, f in MNIST_FILES.items()} == OFFICIAL_MD5
    for name, md5 in OFFICIAL_MD5.items():
        assert hashlib.md5((Path(mnist_dir) / name).read_bytes()).hexdigest() == md5


def test_shapes_dtypes_range(mnist):
    assert mnist.x_train.shape == (60000, 28, 28, 1) and mnist.x_test.shape == (10000, 28, 28, 1)
    assert mnist.y_train.shape == (60000,) and mnist.y_test.shape == (10000,)
    assert mnist.x_train.dtype == mnist.x_test.dtype == np.uint8
    assert mnist.y_train.dtype == mnist.y_test.dtype == np.int64
    for x in (mnist.x_train, mnist.x_test):
        assert x.min() == 0 and x.max() == 255


def test_label_counts(mnist):
    assert np.bincount(mnist.y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist.y_test, minlength=10).tolist() == TEST_COUNTS


def test_official_order(mnist):
    # The first labels of the official files (train: 5 0 4 1 9 2 1 3 1 4; test: 7 2 1 0 4 1 4 9 5 9).
    assert mnist.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_split_50k_10k_10k(mnist, mnist_dir):
    splits = mnist_splits(mnist_dir, source="idx")
    assert [len(splits[k][0]) for k in ("train", "validation", "test")] == [50000, 10000, 10000]
    np.testing.assert_array_equal(splits["train"][0], mnist.x_train[:50000])
    np.testing.assert_array_equal(splits["validation"][0], mnist.x_train[-10000:])
    np.testing.assert_array_equal(splits["validation"][1], mnist.y_train[-10000:])
    np.testing.assert_array_equal(splits["test"][1], mnist.y_test)
    scaled = mnist_splits(mnist_dir, source="idx", dtype=np.float32)["validation"][0]
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled * 255.0, mnist.x_train[-10000:], atol=1e-4)


def test_binarize_strict_threshold(mnist, mnist_dir):
    values = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(binarize(values), (values >= 128).astype(np.float32))
    # Exact tie: pixel 51 is exactly 0.2 * 255, strictly greater means 51 -> 0, 52 -> 1.
    assert binarize(np.array([51, 52], np.uint8), threshold=51 / 255).tolist() == [0.0, 1.0]
    x_bin, y = mnist_splits(mnist_dir, source="idx", binarized=True)["test"]
    assert x_bin.dtype == np.float32 and set(np.unique(x_bin).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(x_bin, (mnist.x_test > 127.5).astype(np.float32))
    task_x, task_y = load_task("mnist-binarized", data_dir=mnist_dir)["test"]
    np.testing.assert_array_equal(task_x, x_bin)
    np.testing.assert_array_equal(task_y, y)
    with pytest.raises(ValueError, match="uint8"):
        binarize(np.zeros(3, np.float32))


def test_missing_directory(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(DataError, match="does not exist") as err:
        load_mnist(missing, source="idx")
    msg = str(err.value)
    assert str(missing) in msg and "TFZOO_MNIST_DIR" in msg and "source='tfds'" in msg
    assert all(name in msg and md5 in msg for name, md5 in OFFICIAL_MD5.items())


def test_missing_file(mnist_copy):
    (mnist_copy / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="is missing from directory") as err:
        load_mnist(mnist_copy, source="idx")
    msg = str(err.value)
    assert "train-labels-idx1-ubyte.gz" in msg and OFFICIAL_MD5["train-labels-idx1-ubyte.gz"] in msg
    assert "28,881 bytes" in msg and str(mnist_copy) in msg and "data_dir=" in msg


def test_corrupt_file_and_cache_invalidation(mnist_copy, monkeypatch):
    monkeypatch.setenv("TFZOO_MNIST_DIR", str(mnist_copy))
    load_mnist(source="idx")  # verified and cached
    path = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # same size, new content and mtime: the cache must not hide it
    path.write_bytes(bytes(data))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    with pytest.raises(DataError, match="is corrupt") as err:
        load_mnist(source="idx")
    msg = str(err.value)
    assert "t10k-labels-idx1-ubyte.gz" in msg and OFFICIAL_MD5["t10k-labels-idx1-ubyte.gz"] in msg
    assert hashlib.md5(bytes(data)).hexdigest() in msg and str(mnist_copy) in msg
    path.write_bytes(bytes(data[:100]))  # truncated
    with pytest.raises(DataError, match="4,542 bytes"):
        load_mnist(source="idx")


def test_no_directory_resolved(monkeypatch, tmp_path):
    import tfzoo.datasets.mnist as m

    monkeypatch.delenv("TFZOO_MNIST_DIR", raising=False)
    monkeypatch.setattr(m, "_default_dir", lambda: tmp_path / "absent")
    with pytest.raises(DataError, match="No MNIST directory found"):
        load_mnist(source="idx")


def test_unknown_task_lists_close_matches():
    with pytest.raises(ValueError, match="Did you mean 'mnist-binarized'") as err:
        load_task("mnist_binarised")
    assert all(name in str(err.value) for name in list_tasks())


def test_tfds_branch_equals_idx_branch(mnist, mnist_dir, tmp_path):
    """Proves: TFDS's DownloadManager, asked for the MNIST builder's URLs, resolves its own cache
    names and registered sha256s to the official files, and the TFDS branch returns arrays
    identical to the IDX branch. The cache is pre-populated, so no network is used; the
    download itself is not exercised."""
    from tensorflow_datasets.core.download import checksums, resource
    from tensorflow_datasets.image_classification.mnist import MNIST

    url_infos = checksums.get_all_url_infos()
    for name in MNIST_FILES:
        url = MNIST.URL + name
        cached = tmp_path / resource.get_dl_fname(url, url_infos[url].checksum)
        shutil.copy(Path(mnist_dir) / name, cached)
        resource.write_info_file(url=url, path=cached, dataset_name="mnist", original_fname=name,
                                 url_info=url_infos[url])
    via_tfds = load_mnist(tmp_path, source="tfds")
    for a, b in zip(via_tfds, mnist):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
