"""Errors a user can cause, shared by every module (importing this is free: no TensorFlow).

The CLI turns each into a one-paragraph message: exit status 2 for a wrong argument (usage), 1 for
a failure at run time (missing data, a diverged loss, a failed download).
"""


class ArgumentError(ValueError):
    """An argument with a wrong type, sign or range; the message names it, its value and what is accepted."""


class InputError(ValueError):
    """An input that does not have the shape, rank, dtype or range a model expects."""


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite."""


class OutputDirectoryError(FileExistsError):
    """An output directory already holds a different model or run."""
