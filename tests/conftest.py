"""Shared fixtures: the offline MNIST directory, and quiet TensorFlow."""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _mnist_dir():
    return os.environ.get("TFZOO_MNIST_DIR") or os.path.join(REPO_ROOT, "..", "shared", "data", "mnist")


@pytest.fixture(scope="session")
def mnist_dir():
    """The directory of the four MNIST IDX files; skip without it, except under CI=true (fail)."""
    path = _mnist_dir()
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    missing = [n for n in names if not os.path.exists(os.path.join(path, n))]
    if missing:
        message = f"MNIST IDX files {missing} not found in {path} (set TFZOO_MNIST_DIR)"
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true requires the MNIST data: " + message)
        pytest.skip(message)
    return path
