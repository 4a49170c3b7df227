"""Validators of built-in algorithm hyperparameters (mirror of ``sagemaker.amazon.validation``).

Each factory returns a predicate ``value -> bool`` used by
:class:`sagepipe.amazon.hyperparameter.Hyperparameter`.
"""


def gt(minimum):
    """A value strictly greater than ``minimum``."""
    return lambda value: value > minimum


def ge(minimum):
    """A value greater than or equal to ``minimum``."""
    return lambda value: value >= minimum


def lt(maximum):
    """A value strictly less than ``maximum``."""
    return lambda value: value < maximum


def le(maximum):
    """A value less than or equal to ``maximum``."""
    return lambda value: value <= maximum


def isin(*expected):
    """A value among ``expected``."""
    return lambda value: value in expected


def istype(expected):
    """A value of type ``expected``."""
    return lambda value: isinstance(value, expected)
