"""Parameter validation from one declaration per estimator.

Each extractor declares ``_parameter_constraints = {"max_leaves": Interval(int, 2, None), ...}``
and calls ``validate_params(self)`` at the top of ``fit``. Messages have one shape:
"The 'max_leaves' parameter of TreeExtractor must be an int in [2, inf). Got 0 instead."
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnrules.exceptions import ParameterError

__all__ = ["RANDOM_STATE", "Interval", "Options", "RandomState", "check_random_state",
           "validate_params"]


@dataclass(frozen=True)
class Interval:
    """A number of ``kind`` (int or float) in [low, high] (``None`` = unbounded).

    ``closed`` says which ends are included: "both", "left", "right" or "neither".
    """

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"
    allow_none: bool = False

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.allow_none
        if isinstance(value, bool):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        if not isinstance(value, numbers.Real) or not np.isfinite(value):
            return False
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (not left and value == self.low)):
            return False
        if self.high is not None and (value > self.high or (not right and value == self.high)):
            return False
        return True

    def describe(self) -> str:
        name = "an int" if self.kind is int else "a float"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        lb = "[" if self.closed in ("both", "left") and self.low is not None else "("
        rb = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        text = f"{name} in {lb}{lo}, {hi}{rb}"
        return text + " or None" if self.allow_none else text


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values (strings, usually)."""

    values: tuple
    allow_none: bool = False

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.allow_none
        return value in self.values

    def describe(self) -> str:
        text = "one of " + ", ".join(repr(v) for v in sorted(self.values, key=str))
        return text + " or None" if self.allow_none else text


@dataclass(frozen=True)
class RandomState:
    """A seed as ``check_random_state`` takes it: a non-negative int, a NumPy Generator, or None."""

    def accepts(self, value: Any) -> bool:
        if value is None or isinstance(value, np.random.Generator):
            return True
        return (isinstance(value, numbers.Integral) and not isinstance(value, bool)
                and value >= 0)

    def describe(self) -> str:
        return "a non-negative int, a numpy.random.Generator or None"


#: The constraint every extractor declares for ``random_state``.
RANDOM_STATE = RandomState()


def validate_params(estimator: Any) -> None:
    """Check every declared parameter of ``estimator``; raise ``ParameterError`` on the first bad one."""
    constraints = getattr(type(estimator), "_parameter_constraints", {})
    for name in sorted(constraints):
        constraint = constraints[name]
        value = getattr(estimator, name)
        if callable(constraint) and not hasattr(constraint, "accepts"):
            ok, description = constraint(value)
        else:
            ok, description = constraint.accepts(value), constraint.describe()
        if not ok:
            raise ParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} must be {description}. "
                f"Got {value!r} instead."
            )


def check_random_state(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A NumPy Generator from a seed.

    An int seeds a fresh Generator (the same int, the same draws); ``None`` means seed 0, so
    output stays reproducible (unlike scikit-learn, where None is fresh entropy); a Generator is
    used as it is, and its state moves on, as in scikit-learn's ``check_random_state``.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        seed = 0
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ParameterError(
            "random_state must be a non-negative int, a numpy.random.Generator or None. "
            f"Got {seed!r} instead."
        )
    return np.random.default_rng(int(seed))
