"""Errors a user can cause, shared by every module (importing this is free: no TensorFlow)."""


class InputError(ValueError):
    """An input that does not have the shape, rank, dtype or range a model expects."""
