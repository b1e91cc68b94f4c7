"""Errors a user can cause, shared by every module (importing this is free: no TensorFlow).

The CLI turns each into a one-paragraph message and exit status 2.
"""


class InputError(ValueError):
    """An input that does not have the shape, rank, dtype or range a model expects."""


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite."""


class OutputDirectoryError(FileExistsError):
    """An output directory already holds a different model or run."""
