"""Argument checks shared by the design functions (fail fast, name the argument)."""

from __future__ import annotations

import math
from typing import Any

from pmrtrial._validate import as_float_array
from pmrtrial.exceptions import ScoreInputError

__all__ = ["check_alpha", "check_n", "check_power", "check_probability", "check_ratio"]


def _scalar(value: Any, field: str, expected: str, **kwargs: Any) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ScoreInputError(field, value, expected)
    arr = as_float_array(value, field=field, **kwargs)
    if arr.ndim != 0:
        raise ScoreInputError(field, value, expected)
    number = float(arr)
    if math.isnan(number):
        raise ScoreInputError(field, value, expected)
    return number


def check_probability(value: Any, field: str) -> float:
    """A response probability strictly between 0 and 1."""
    return _scalar(value, field, "a number in (0, 1)", lo=0.0, hi=1.0, lo_open=True, hi_open=True)


def check_alpha(value: Any, field: str = "alpha") -> float:
    """A significance level strictly between 0 and 1."""
    return _scalar(value, field, "a number in (0, 1)", lo=0.0, hi=1.0, lo_open=True, hi_open=True)


def check_power(value: Any, field: str = "power") -> float:
    """A target power strictly between 0 and 1."""
    return _scalar(value, field, "a number in (0, 1)", lo=0.0, hi=1.0, lo_open=True, hi_open=True)


def check_n(value: Any, field: str) -> int:
    """A group size: an integer >= 1."""
    return int(_scalar(value, field, "an integer >= 1", lo=1.0, integer=True))


def check_ratio(value: Any, field: str = "ratio") -> float:
    """An allocation ratio n_treated / n_control > 0."""
    return _scalar(value, field, "a number > 0", lo=0.0, lo_open=True)
