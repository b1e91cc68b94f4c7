"""The task registry: records, argument errors, TFDS loaders under tfds.testing.mock_data (offline),
the official CIFAR/SVHN files (tiny archives written here), preprocessing, generated tasks."""

import dataclasses
import io
import os
import pickle
import subprocess
import sys
import tarfile

import numpy as np
import pytest

from tfzoo.datasets import (
    DataError,
    Task,
    celeba_crop_resize,
    gaussian_mixture_nd,
    get_task,
    list_tasks,
    load_task,
    lsun_resize_crop,
)
from tfzoo.datasets import images, tfds_io
from tfzoo.testing import mock_tfds_task

SPLITS = ("train", "validation", "test")
NEW_TASKS = ["cifar10", "cifar100", "svhn", "imagenet32", "imagenet64", "celeba64", "lsun-bedroom", "lsun-tower",
             "lsun-church", "gaussian-mixture-2d", "binary-toy4", "sparse-gaussian-m100", "sparse-gaussian-m400",
             "mnist-patches-8x8"]
TFDS_NAMES = {"cifar10": "cifar10", "cifar100": "cifar100", "svhn": "svhn_cropped",
              "imagenet32": "downsampled_imagenet/32x32", "imagenet64": "downsampled_imagenet/64x64",
              "celeba64": "celeb_a", "lsun-bedroom": "lsun/bedroom", "lsun-tower": "lsun/tower",
              "lsun-church": "lsun/church_outdoor"}
HEAD_TAIL = {"cifar10": 5000, "cifar100": 5000, "svhn": 6000, "imagenet32": 10000, "imagenet64": 10000,
             "lsun-bedroom": 10000, "lsun-tower": 10000, "lsun-church": 10000}


# ------------------------------------------------------------------------------------ registry
def test_every_task_has_a_complete_record():
    assert set(NEW_TASKS) <= set(list_tasks())
    for name in list_tasks():
        task = get_task(name)
        assert isinstance(task, Task) and task.name == name and task.description
        assert tuple(task.sizes) == SPLITS and all(isinstance(n, int) and n > 0 for n in task.sizes.values())
        assert np.dtype(task.dtype) in (np.uint8, np.float32)
        assert task.sources and task.shape
        assert task.value_range is None or task.value_range[0] < task.value_range[1]
    assert dict(get_task("cifar10").sizes) == {"train": 45000, "validation": 5000, "test": 10000}
    assert dict(get_task("svhn").sizes) == {"train": 73257 - 6000, "validation": 6000, "test": 26032}
    assert get_task("celeba64").shape == (64, 64, 3) and get_task("imagenet32").num_classes is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_task("cifar10").dtype = "float32"
    with pytest.raises(TypeError):
        get_task("cifar10").sizes["train"] = 1


def test_importing_the_package_stays_numpy_only():
    code = ("import sys, tfzoo.datasets; heavy = [m for m in ('tensorflow', 'tensorflow_datasets', 'scipy', 'keras') "
            "if m in sys.modules]; assert not heavy, heavy")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_unknown_task_source_and_limit_name_the_value_and_the_choices():
    with pytest.raises(ValueError, match="name='cifar-10'") as err:
        load_task("cifar-10")
    assert "Did you mean 'cifar10'" in str(err.value) and all(n in str(err.value) for n in list_tasks())
    with pytest.raises(ValueError, match="source='hdf5'") as err:
        load_task("cifar10", source="hdf5")
    assert "'files', 'tfds'" in str(err.value)
    with pytest.raises(ValueError, match="source='tfds'.*'generated'"):
        load_task("moons", source="tfds")
    with pytest.raises(ValueError, match="source='files'.*'idx', 'tfds'"):
        load_task("mnist", source="files")
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="limit"):
            load_task("moons", limit=bad)


def test_split_spec_slices_the_tfds_split():
    assert tfds_io.split_spec("test") == "test" and tfds_io.split_spec("test", limit=7) == "test[:7]"
    assert tfds_io.split_spec("train", "head", 5000) == "train[:-5000]"
    assert tfds_io.split_spec("train", "head", 5000, 7) == "train[:7]"
    assert tfds_io.split_spec("train", "tail", 5000) == "train[-5000:]"
    assert tfds_io.split_spec("train", "tail", 5000, 7) == "train[-5000:-4993]"
    assert tfds_io.split_spec("train", "tail", 5000, 5000) == "train[-5000:]"


def test_collect_arrays_without_a_known_cardinality():
    import tensorflow as tf

    ds = tf.data.Dataset.range(2500).filter(lambda i: i % 2 == 0).map(lambda i: (tf.fill([2], i),))
    assert int(ds.cardinality()) < 0
    (x,) = tfds_io.collect_arrays(ds)
    np.testing.assert_array_equal(x[:, 0], np.arange(0, 2500, 2))
    with pytest.raises(DataError, match="declared 3000 examples but held 1250"):
        tfds_io.collect_arrays(ds, 3000)


# ------------------------------------------------------------------------------ TFDS, mocked
@pytest.fixture
def tfds_calls(monkeypatch):
    """Records the (name, split) of every tfds.load call of the loaders."""
    import tensorflow_datasets as tfds

    calls, real = [], tfds.load

    def load(name, **kwargs):
        calls.append((name, kwargs["split"]))
        return real(name, **kwargs)

    monkeypatch.setattr(tfds, "load", load)
    return calls


def _check_splits(splits, task, n):
    for split in SPLITS:
        x, y = splits[split]
        assert x.shape == (n, *task.shape) and x.dtype == task.dtype, (split, x.shape, x.dtype)
        assert task.value_range[0] <= x.min() and x.max() <= task.value_range[1]
        if task.labelled:
            assert y.shape == (n,) and y.dtype == np.int64 and 0 <= y.min() and y.max() < task.num_classes
        else:
            assert y is None


@pytest.mark.parametrize("name", list(TFDS_NAMES))
def test_tfds_tasks_under_mock_data(name, tfds_calls):
    import tensorflow_datasets as tfds

    task = get_task(name)
    assert "tfds" in task.sources
    with mock_tfds_task(name, 5):
        _check_splits(load_task(name, source="tfds", limit=3), task, 3)
        if name == "cifar10":
            _check_splits(load_task(name, source="tfds"), task, 5)  # the mock has 5 examples per split
    k = HEAD_TAIL.get(name)
    test_split = {"celeba64": "test", "svhn": "test", "cifar10": "test", "cifar100": "test"}.get(name, "validation")
    expected = ([("train", "train[:3]"), ("validation", f"train[-{k}:-{k - 3}]"), ("test", f"{test_split}[:3]")]
                if k else [("train", "train[:3]"), ("validation", "validation[:3]"), ("test", "test[:3]")])
    assert tfds_calls[:3] == [(TFDS_NAMES[name], spec) for _, spec in expected]


def test_imagenet_rejects_images_of_another_size():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=2):  # random image sizes
        with pytest.raises(DataError, match=r"downsampled_imagenet/32x32.*\[32,32,3\].*tensorflow/datasets#4662"):
            load_task("imagenet32", limit=2)


def test_tfds_failure_is_a_data_error_saying_how_to_get_the_data(monkeypatch, tmp_path):
    import tensorflow_datasets as tfds

    def offline(name, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(tfds, "load", offline)
    with pytest.raises(DataError) as err:
        load_task("celeba64", data_dir=str(tmp_path))
    msg = str(err.value)
    assert "'celeb_a'" in msg and str(tmp_path) in msg and "no network" in msg
    assert "mmlab.ie.cuhk.edu.hk/projects/CelebA.html" in msg and "copy the prepared folder" in msg
    with pytest.raises(DataError, match="cifar-10-python.tar.gz.*source='files'"):
        load_task("cifar10")  # no data_dir: TFDS


def _raw_images(tfds_name, split, n):
    import tensorflow_datasets as tfds

    ds = tfds.load(tfds_name, split=split).take(n)
    return [ex["image"] for ex in tfds.as_numpy(ds)]  # LSUN's images differ in size


def test_celeba_and_lsun_tasks_apply_the_preprocessing_functions():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=3):
        celeba = load_task("celeba64", limit=3)
        raw = _raw_images("celeb_a", "test", 3)
        np.testing.assert_array_equal(celeba["test"][0], np.stack([celeba_crop_resize(im) for im in raw]))
        lsun, lsun_seed1 = load_task("lsun-tower", limit=3), load_task("lsun-tower", seed=1, limit=3)
        raw = _raw_images("lsun/tower", "train", 3)
        for split in ("validation", "test"):
            np.testing.assert_array_equal(lsun[split][0], np.stack([lsun_resize_crop(im) for im in raw]))
        np.testing.assert_array_equal(
            lsun["train"][0], np.stack([lsun_resize_crop(im, crop="random", seed=(0, i)) for i, im in enumerate(raw)]))
        np.testing.assert_array_equal(lsun_seed1["validation"][0], lsun["validation"][0])
        assert not np.array_equal(lsun_seed1["train"][0], lsun["train"][0])


# ----------------------------------------------------------------------------- preprocessing
def _position_image(h, w):
    """uint8 image whose pixel (r, c) is (r, c, 7): the crop window can be read off its pixels."""
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return np.stack([rows, cols, np.full_like(rows, 7)], -1).astype(np.uint8)


def test_celeba_crop_is_real_nvps_window():
    image = _position_image(218, 178)
    window = celeba_crop_resize(image, size=148).numpy()  # resizing 148 -> 148 is the identity
    np.testing.assert_array_equal(window, image[40:188, 15:163])
    out = celeba_crop_resize(image).numpy()
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    # rows and columns of the 64 x 64 image span the window's rows 40..187 and columns 15..162
    assert 40 <= out[..., 0].min() < 43 and 185 < out[..., 0].max() <= 187
    assert 15 <= out[..., 1].min() < 18 and 160 < out[..., 1].max() <= 162
    assert np.all(np.diff(out[:, 0, 0].astype(int)) > 0) and np.all(out[..., 2] == 7)
    import tensorflow as tf

    with pytest.raises(tf.errors.InvalidArgumentError):
        celeba_crop_resize(_position_image(200, 178))


def test_lsun_resize_then_centre_or_seeded_random_crop():
    image = _position_image(96, 160)  # smallest side already 96: the resize is the identity
    np.testing.assert_array_equal(lsun_resize_crop(image).numpy(), image[16:80, 48:112])
    crops = [lsun_resize_crop(image, crop="random", seed=(3, i)).numpy() for i in range(6)]
    for crop in crops:
        r, c = int(crop[0, 0, 0]), int(crop[0, 0, 1])
        np.testing.assert_array_equal(crop, image[r:r + 64, c:c + 64])
    np.testing.assert_array_equal(crops[2], lsun_resize_crop(image, crop="random", seed=(3, 2)).numpy())
    assert len({(int(c[0, 0, 0]), int(c[0, 0, 1])) for c in crops}) > 1
    tall = np.full((300, 200, 3), 90, np.uint8)  # resized to 144 x 96
    out = lsun_resize_crop(tall).numpy()
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8 and np.all(out == 90)
    big = _position_image(192, 250)  # smallest side 192 -> 96: halves the image
    centre = lsun_resize_crop(big).numpy().astype(int)
    assert abs(centre[32, 32, 0] - 96) <= 2 and abs(centre[32, 32, 1] - 125) <= 2
    with pytest.raises(ValueError, match="crop"):
        lsun_resize_crop(image, crop="corner")


# ------------------------------------------------------------------------- the official files
def _cifar_archive(path, classes, n_per_batch, n_test, seed=0):
    """A tiny archive in the official layout; returns (train x, train y, test x, test y) in HWC."""
    rng = np.random.default_rng(seed)
    folder, members, label_key = (("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], "labels")
                                  if classes == 10 else ("cifar-100-python", ["train"], "fine_labels"))
    meta = "batches.meta" if classes == 10 else "meta"
    parts = {m: n_per_batch for m in members} | {("test_batch" if classes == 10 else "test"): n_test}
    arrays = {}
    with tarfile.open(path, "w:gz") as archive:
        for member, n in parts.items():
            data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
            labels = rng.integers(0, classes, n).tolist()
            batch = {b"batch_label": member.encode(), label_key.encode(): labels, b"data": data,
                     b"filenames": [f"{i}.png".encode() for i in range(n)]}
            if classes == 100:
                batch[b"coarse_labels"] = [label // 5 for label in labels]
            _add(archive, f"{folder}/{member}", pickle.dumps(batch, protocol=2))
            arrays[member] = (data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.array(labels))
        _add(archive, f"{folder}/{meta}", pickle.dumps({b"label_names": [b"a"] * classes}, protocol=2))
    train = [arrays[m] for m in members]
    test = arrays["test_batch" if classes == 10 else "test"]
    return np.concatenate([t[0] for t in train]), np.concatenate([t[1] for t in train]), test[0], test[1]


def _add(archive, name, payload):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    archive.addfile(info, io.BytesIO(payload))


@pytest.mark.parametrize("classes, n_per_batch", [(10, 3), (100, 15)])
def test_cifar_files_round_trip_pixel_exact(tmp_path, monkeypatch, classes, n_per_batch):
    monkeypatch.setattr(images, "CIFAR_VALIDATION", 4)
    name = f"cifar{classes}"
    x, y, x_test, y_test = _cifar_archive(tmp_path / f"cifar-{classes}-python.tar.gz", classes, n_per_batch, 5)
    assert len(x) == 15  # 20 images in all
    for source in ("files", None):  # None: the files, since data_dir is given
        splits = load_task(name, data_dir=tmp_path, source=source)
        np.testing.assert_array_equal(splits["train"][0], x[:-4])
        np.testing.assert_array_equal(splits["validation"][0], x[-4:])  # the last official training images
        np.testing.assert_array_equal(splits["train"][1], y[:-4])
        np.testing.assert_array_equal(splits["validation"][1], y[-4:])
        np.testing.assert_array_equal(splits["test"][0], x_test)
        np.testing.assert_array_equal(splits["test"][1], y_test)
        _check_splits(load_task(name, data_dir=tmp_path, limit=4), get_task(name), 4)
    # channel order: the official rows are 1024 red, 1024 green, 1024 blue values, row-major
    raw = pickle.loads(tarfile.open(tmp_path / f"cifar-{classes}-python.tar.gz").extractfile(
        ("cifar-10-batches-py/test_batch" if classes == 10 else "cifar-100-python/test")).read(), encoding="bytes")
    assert splits["test"][0][0, 0, 1, 2] == raw[b"data"][0, 2048 + 1]


def test_cifar_file_errors_are_clear(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(DataError, match="does not exist") as err:
        load_task("cifar10", data_dir=missing)
    msg = str(err.value)
    assert str(missing) in msg and "cifar-10-python.tar.gz" in msg and "c58f30108f718f92721af3b95e74349a" in msg
    assert "https://www.cs.toronto.edu/~kriz/cifar.html" in msg and "source='tfds'" in msg and "'cifar10'" in msg
    with pytest.raises(DataError, match="'cifar-100-python.tar.gz' is missing from directory") as err:
        load_task("cifar100", data_dir=tmp_path)
    assert str(tmp_path) in str(err.value) and "eb9058c3a382ffc7106e4002c42a8d85" in str(err.value)
    with pytest.raises(DataError, match="needs data_dir"):
        load_task("cifar10", source="files")
    path = tmp_path / "cifar-10-python.tar.gz"
    _cifar_archive(path, 10, 3, 5)
    payload = path.read_bytes()
    path.write_bytes(payload[: len(payload) // 2])  # truncated download
    with pytest.raises(DataError, match="is corrupt or incomplete") as err:
        load_task("cifar10", data_dir=tmp_path)
    assert str(path) in str(err.value) and "Download it again" in str(err.value)
    with tarfile.open(path, "w:gz") as archive:  # a batch is missing
        batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}
        _add(archive, "cifar-10-batches-py/data_batch_1", pickle.dumps(batch, protocol=2))
    with pytest.raises(DataError, match="has no member 'cifar-10-batches-py/data_batch_2'"):
        load_task("cifar10", data_dir=tmp_path)


def test_cifar_batches_cannot_run_code(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as archive:
        _add(archive, "cifar-10-batches-py/data_batch_1", pickle.dumps({b"data": Exploit()}, protocol=2))
    with pytest.raises(DataError, match="unexpected object .*system"):
        load_task("cifar10", data_dir=tmp_path)


def _svhn_mat(path, n, seed):
    import scipy.io

    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    y = np.concatenate([[10, 1, 9], rng.integers(1, 11, n - 3)]).reshape(n, 1).astype(np.uint8)
    scipy.io.savemat(path, {"X": x, "y": y})
    return x, y.ravel()


def test_svhn_files_round_trip_and_label_ten_is_zero(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "SVHN_VALIDATION", 2)
    x, y = _svhn_mat(tmp_path / "train_32x32.mat", 7, 0)
    x_test, y_test = _svhn_mat(tmp_path / "test_32x32.mat", 4, 1)
    splits = load_task("svhn", data_dir=tmp_path, source="files")
    images_hwc = np.transpose(x, (3, 0, 1, 2))
    np.testing.assert_array_equal(splits["train"][0], images_hwc[:5])
    np.testing.assert_array_equal(splits["validation"][0], images_hwc[5:])
    np.testing.assert_array_equal(splits["test"][0], np.transpose(x_test, (3, 0, 1, 2)))
    assert splits["train"][1][:3].tolist() == [0, 1, 9] and splits["train"][1].dtype == np.int64
    np.testing.assert_array_equal(np.concatenate([splits["train"][1], splits["validation"][1]]), y % 10)
    np.testing.assert_array_equal(splits["test"][1], y_test % 10)
    _check_splits(load_task("svhn", data_dir=tmp_path, limit=2), get_task("svhn"), 2)
    (tmp_path / "test_32x32.mat").write_bytes(b"MATLAB 5.0 MAT-file, truncated")
    with pytest.raises(DataError, match="test_32x32.mat is corrupt") as err:
        load_task("svhn", data_dir=tmp_path)
    assert "eb5a983be6a315427106f1b164d9cef3" in str(err.value) and "ufldl.stanford.edu" in str(err.value)
    (tmp_path / "test_32x32.mat").unlink()
    with pytest.raises(DataError, match="'test_32x32.mat' is missing from directory .*svhn_cropped"):
        load_task("svhn", data_dir=tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_task("svhn", data_dir=tmp_path / "absent")


# --------------------------------------------------------------------------------- generated
@pytest.mark.parametrize("name", ["gaussian-mixture-2d", "binary-toy4", "sparse-gaussian-m100",
                                  "sparse-gaussian-m400", "moons"])
def test_generated_tasks_are_seeded_and_limit_is_a_prefix(name):
    task = get_task(name)
    a, b, c = load_task(name, seed=3), load_task(name, seed=3), load_task(name, seed=4)
    short = load_task(name, seed=3, limit=10)
    for split in SPLITS:
        x = a[split][0]
        assert x.shape == (task.sizes[split], *task.shape) and x.dtype == task.dtype
        if task.value_range is not None:
            assert task.value_range[0] <= x.min() and x.max() <= task.value_range[1]
        np.testing.assert_array_equal(x, b[split][0])
        assert not np.array_equal(x, c[split][0])
        np.testing.assert_array_equal(short[split][0], x[:10])
        assert (a[split][1] is None) == (task.num_classes is None)
    assert not np.array_equal(a["train"][0][:100], a["test"][0][:100])


def test_generated_tasks_reproduce_the_presets_data():
    from tfzoo.gsn.dependency_network import sample_binary_joint, toy_binary_joint
    from tfzoo.lecture.sparse_coding import random_dictionary, sparse_signals

    gm = load_task("gaussian-mixture-2d")
    np.testing.assert_array_equal(gm["train"][0], gaussian_mixture_nd(dim=2, n_components=4).sample(10000, seed=(0, 0)))
    toy = load_task("binary-toy4", seed=2)["validation"][0]
    assert set(np.unique(toy).tolist()) == {0.0, 1.0} and toy.shape == (2000, 4)
    np.testing.assert_array_equal(toy, sample_binary_joint(toy_binary_joint(4, seed=0, coupling=0.5, field=0.3),
                                                           2000, seed=(2, 1)))
    # savedmodels/lista-gaussian-m100: x = sparse_signals(model.dictionary, 3000, seed=1); train x[:2000]
    card = sparse_signals(random_dictionary(64, 100, seed=0), 3000, seed=1)
    sg = load_task("sparse-gaussian-m100")
    np.testing.assert_array_equal(sg["train"][0], card[:2000])
    np.testing.assert_array_equal(sg["test"][0], card[2000:])
    assert sg["validation"][0].shape == (1000, 64) and sg["train"][1] is None
    assert not np.isin(sg["validation"][0][:, 0], card[:, 0]).any()


def test_mnist_patches_task_matches_the_lista_export(mnist_dir):
    from tfzoo.datasets import mnist_splits
    from tfzoo.lecture.sparse_coding import mnist_patches

    task = get_task("mnist-patches-8x8")
    assert dict(task.sizes) == {"train": 10000, "validation": 1000, "test": 1000}
    n = 300
    patches = load_task("mnist-patches-8x8", data_dir=mnist_dir, source="idx", limit=n)
    digits = mnist_splits(mnist_dir)
    # benchmarks/lecture_exports.py: mnist_patches(train images, 10000, seed=seed), test: seed + 1; a
    # limited split is the prefix of the full one since mnist_patches draws its candidates one by one
    np.testing.assert_array_equal(mnist_patches(digits["test"][0], 2 * n, seed=1)[:n],
                                  mnist_patches(digits["test"][0], n, seed=1))
    for split, seed in (("train", 0), ("test", 1), ("validation", 2)):
        x, y = patches[split]
        np.testing.assert_array_equal(x, mnist_patches(digits[split][0], n, seed=seed))
        assert x.shape == (n, 64) and x.dtype == np.float32 and y is None
        assert -1 <= x.min() and x.max() <= 1
        np.testing.assert_allclose(x.mean(1), 0, atol=1e-6)
    assert not np.array_equal(load_task("mnist-patches-8x8", data_dir=mnist_dir, seed=5, limit=n)["train"][0],
                              patches["train"][0])


def test_mnist_unit_is_intensities_over_255(mnist_dir):
    splits = load_task("mnist-unit", data_dir=mnist_dir, limit=5)
    _check_splits(splits, get_task("mnist-unit"), 5)
    raw = load_task("mnist", data_dir=mnist_dir, limit=5)
    for split, (x, y) in splits.items():
        assert x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
        np.testing.assert_allclose(x, raw[split][0] / 255.0, rtol=1e-6)
        np.testing.assert_array_equal(y, raw[split][1])


def test_mnist_source_and_limit_pass_through(mnist_dir):
    splits = load_task("mnist-binarized", data_dir=mnist_dir, source="idx", limit=5)
    _check_splits(splits, get_task("mnist-binarized"), 5)
    full = load_task("mnist", data_dir=mnist_dir, source="idx")
    np.testing.assert_array_equal(load_task("mnist", data_dir=mnist_dir, limit=5)["validation"][0],
                                  full["validation"][0][:5])
