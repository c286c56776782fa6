"""Argument checks for the array-valued statistics (survival, adjusted risk ratio, blinding).

Bad input (wrong type, negative time, an event coded 2, arrays of different lengths) raises
:class:`~pmrtrial.exceptions.ScoreInputError` naming the field, the value and what is accepted. Data
conditions (an empty arm, no events) are not errors: the statistics functions return a result that is
not available, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pmrtrial import _validate
from pmrtrial.exceptions import ScoreInputError

__all__ = [
    "as_binary",
    "as_float_array",
    "as_group_indicator",
    "check_same_length",
    "drop_missing",
]

FloatArray = npt.NDArray[np.float64]


def _values(data: Any, field: str) -> np.ndarray[Any, Any]:
    if isinstance(data, str | bytes) or np.ndim(data) != 1:
        raise ScoreInputError(field, type(data).__name__, "a one-dimensional array or sequence")
    if isinstance(data, pd.Series):
        return np.asarray(list(data.astype(object).where(data.notna(), None)), dtype=object)
    return np.asarray(list(data), dtype=object)


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and bool(np.isnan(value))


def as_float_array(data: Any, field: str, *, minimum: float | None = None) -> FloatArray:
    """Numbers as float64 (missing -> NaN); a non-number, an infinite value or one below ``minimum`` raises."""
    _values(data, field)  # one-dimensional check
    return _validate.as_float_array(data, field=field, lo=minimum)


def as_binary(data: Any, field: str) -> FloatArray:
    """0/1 (or False/True) as float64 with NaN for missing; any other value raises."""
    if isinstance(data, pd.Series) and (pd.api.types.is_bool_dtype(data) or str(data.dtype) == "boolean"):
        return np.asarray(data.astype("float64"), dtype=np.float64)
    values = _values(data, field)
    if values.size and all(isinstance(v, bool | np.bool_) or _is_missing(v) for v in values):
        return np.array([np.nan if _is_missing(v) else float(v) for v in values], dtype=np.float64)
    return _validate.as_float_array(data, field=field, allowed=(0, 1))


def as_group_indicator(data: Any, field: str, arms: Sequence[Any] | None) -> FloatArray:
    """Treated indicator (1.0 treated, 0.0 control, NaN missing) from 0/1 codes or from labels.

    With ``arms=(treated_label, control_label)`` every non-missing value must be one of the two labels;
    without it the values must be 0/1 or False/True.
    """
    if arms is None:
        return as_binary(data, field)
    if isinstance(arms, str) or len(arms) != 2 or arms[0] == arms[1]:
        raise ScoreInputError("arms", arms, "two distinct labels (treated, control)")
    values = _values(data, field)
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        if _is_missing(v):
            out[i] = np.nan
        elif v == arms[0]:
            out[i] = 1.0
        elif v == arms[1]:
            out[i] = 0.0
        else:
            raise ScoreInputError(f"{field}[{i}]", v, f"one of {list(arms)!r} (missing allowed)")
    return out


def check_same_length(**arrays: Any) -> int:
    """Common length of the arrays; raises naming the first array whose length differs."""
    names = list(arrays)
    n = len(arrays[names[0]])
    for name in names[1:]:
        if len(arrays[name]) != n:
            raise ScoreInputError(name, f"length {len(arrays[name])}", f"length {n} (as {names[0]})")
    return n


def drop_missing(*arrays: FloatArray) -> tuple[np.ndarray[Any, np.dtype[np.bool_]], int]:
    """Mask of rows with no NaN in any array, and the number of rows dropped."""
    keep = np.ones(len(arrays[0]), dtype=bool)
    for a in arrays:
        keep &= ~np.isnan(a)
    return keep, int((~keep).sum())
