"""Data for tfzoo: real MNIST (offline IDX files or TFDS), seeded toy data, resumable tf.data pipelines.

Importing this package is light (numpy only); TensorFlow and TensorFlow Datasets are imported
inside the functions that need them.

Example::

    from tfzoo.datasets import load_task, make_dataset, steps_per_epoch

    task = load_task("moons", seed=0)            # {"train": (x, y), "validation": ..., "test": ...}
    x, y = task["train"]                          # float32 (10000, 2), int64 (10000,)
    ds = make_dataset(x, y, batch_size=128, shuffle_seed=1, epochs=10)
    print(steps_per_epoch(len(x), 128))           # 79
    # Resuming at epoch 5 in a new process sees exactly the batches of epochs 5..9 above:
    ds_resumed = make_dataset(x, y, batch_size=128, shuffle_seed=1, epochs=10, initial_epoch=5)

Every task has a record (split sizes, dtype, value range, shape, sources)::

    from tfzoo.datasets import get_task, list_tasks
    get_task("cifar10").sizes                     # {"train": 45000, "validation": 5000, "test": 10000}
    load_task("cifar10", data_dir="~/data", limit=100)   # the official archive, first 100 per split
    load_task("celeba64", source="tfds")          # TFDS celeb_a with Real NVP's crop and resize

MNIST in the official order with the 50k/10k/10k split (``source="tfds"`` gives identical arrays)::

    from tfzoo.datasets import mnist_splits
    splits = mnist_splits(binarized=True)         # reads $TFZOO_MNIST_DIR or ../shared/data/mnist
"""

from .mnist import MNIST_FILES, DataError, MnistArrays, binarize, load_mnist, mnist_splits
from .pipeline import make_dataset, steps_per_epoch
from .images import celeba_crop_resize, lsun_resize_crop
from .tasks import Task, get_task, list_tasks, load_task
from .toy import GaussianMixture, gaussian_mixture_1d, gaussian_mixture_nd, smooth_curve_10d, spiral_2d, two_moons

__all__ = [
    "DataError",
    "MNIST_FILES",
    "MnistArrays",
    "load_mnist",
    "binarize",
    "mnist_splits",
    "two_moons",
    "spiral_2d",
    "GaussianMixture",
    "gaussian_mixture_1d",
    "gaussian_mixture_nd",
    "smooth_curve_10d",
    "make_dataset",
    "steps_per_epoch",
    "Task",
    "get_task",
    "list_tasks",
    "load_task",
    "celeba_crop_resize",
    "lsun_resize_crop",
]
