"""Shared input validation for scores, criteria and candidate fields.

One convention everywhere:

* ``None`` and NaN are *missing*: they propagate as NaN (never an error, never a zero);
* a value of the wrong type (a string, a boolean for a number...) raises :class:`ScoreInputError`;
* a value outside its accepted range raises :class:`ScoreInputError` naming the field, the value
  and what is accepted.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.vocabulary import get_variable

FloatArray = npt.NDArray[np.float64]

__all__ = ["FloatArray", "as_bool_array", "as_float_array", "is_missing", "is_scalar_input", "unwrap"]


def is_missing(value: Any) -> bool:
    """True for ``None`` and float NaN (including ``numpy.nan`` and ``pandas.NA``-like floats)."""
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(float(value))
    pd = sys.modules.get("pandas")  # pandas.NA/NaT can only exist once pandas is imported; do not import it here
    return pd is not None and bool(value is pd.NA or value is pd.NaT)


def is_scalar_input(value: Any) -> bool:
    """True when ``value`` is a single value (number, None, NaN, 0-d array) rather than a sequence."""
    if isinstance(value, np.ndarray):
        return value.ndim == 0
    return not (isinstance(value, Iterable) and not isinstance(value, str | bytes))


def _describe_range(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool, integer: bool) -> str:
    kind = "an integer" if integer else "a number"
    if lo is not None and hi is not None:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        return f"{kind} in {left}{lo:g}, {hi:g}{right}"
    if lo is not None:
        return f"{kind} {'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f"{kind} {'<' if hi_open else '<='} {hi:g}"
    return kind


def as_float_array(
    value: Any,
    *,
    field: str,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    integer: bool = False,
    allowed: Iterable[float] | None = None,
) -> FloatArray:
    """Validate a scalar or array-like of numbers and return it as a float array (NaN = missing).

    Raises
    ------
    ScoreInputError
        For a non-numeric element (strings, booleans, objects) or a value outside the range,
        naming ``field``, the first offending value and what is accepted.
    """
    allowed_set = None if allowed is None else {float(a) for a in allowed}
    if allowed_set is not None:
        expected = "one of {" + ", ".join(f"{a:g}" for a in sorted(allowed_set)) + "}"
    else:
        expected = _describe_range(lo, hi, lo_open, hi_open, integer)

    numeric = _numeric_array(value)
    if numeric is not None:
        # Fast path (vectorised) for arrays that are already numeric: same rules, no per-element loop.
        raw = numeric
        out = numeric.astype(np.float64).reshape(-1)
        infinite = np.isinf(out)
        if infinite.any():
            raise ScoreInputError(field, float(out[infinite][0]), expected)
    else:
        raw = np.asarray(value, dtype=object)
        flat = raw.reshape(-1)
        out = np.empty(flat.shape, dtype=np.float64)
        for i, element in enumerate(flat):
            if is_missing(element):
                out[i] = np.nan
                continue
            if isinstance(element, bool | np.bool_) or not isinstance(element, numbers.Real):
                raise ScoreInputError(field, element, expected + " or None for missing")
            number = float(element)
            if math.isinf(number):
                raise ScoreInputError(field, element, expected)
            out[i] = number
    finite = out[~np.isnan(out)]
    if finite.size:
        bad = np.zeros(finite.shape, dtype=bool)
        if allowed_set is not None:
            bad |= ~np.isin(finite, list(allowed_set))
        if integer:
            bad |= finite != np.round(finite)
        if lo is not None:
            bad |= (finite <= lo) if lo_open else (finite < lo)
        if hi is not None:
            bad |= (finite >= hi) if hi_open else (finite > hi)
        if bad.any():
            first = finite[bad][0]
            shown: Any = int(first) if first == round(first) else float(first)
            raise ScoreInputError(field, shown, expected)
    return out.reshape(raw.shape)


def as_variable_array(value: Any, name: str, *, table: str | None = None) -> FloatArray:
    """:func:`as_float_array` with the range or levels :mod:`pmrtrial.vocabulary` declares for ``name``.

    >>> as_variable_array(7.5, "pain_vas").tolist()
    7.5
    """
    var = get_variable(name, table)
    if var.levels is not None:
        return as_float_array(value, field=name, allowed=var.levels)
    return as_float_array(value, field=name, lo=var.lo, hi=var.hi, integer=var.kind == "integer")


def _numeric_array(value: Any) -> npt.NDArray[Any] | None:
    """``value`` as a NumPy array when it already is a float or (non-boolean) integer array, else None."""
    if isinstance(value, np.ndarray):
        arr = value
    elif hasattr(value, "dtype") and hasattr(value, "to_numpy"):  # pandas Series / Index
        if not isinstance(value.dtype, np.dtype):
            return None  # nullable extension dtypes take the element-wise path
        arr = value.to_numpy()
    else:
        return None
    return arr if arr.dtype.kind in "fiu" else None


def as_bool_array(value: Any, *, field: str) -> FloatArray:
    """Validate booleans (True/False/1/0, None or NaN for missing) and return 1.0/0.0/NaN floats."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "b":
        return value.astype(np.float64)
    numeric = _numeric_array(value)
    if numeric is not None:
        floats = numeric.astype(np.float64)
        known = floats[~np.isnan(floats)]
        bad = (known != 0.0) & (known != 1.0)
        if not bad.any():
            return floats
        first = known[bad][0]
        raise ScoreInputError(
            field, int(first) if first == round(first) else float(first), "true or false (or None for missing)"
        )
    raw = np.asarray(value, dtype=object)
    flat = raw.reshape(-1)
    out = np.empty(flat.shape, dtype=np.float64)
    for i, element in enumerate(flat):
        if is_missing(element):
            out[i] = np.nan
        elif isinstance(element, bool | np.bool_):
            out[i] = 1.0 if element else 0.0
        elif isinstance(element, numbers.Integral) and int(element) in (0, 1):
            out[i] = float(element)
        else:
            raise ScoreInputError(field, element, "true or false (or None for missing)")
    return out.reshape(raw.shape)


def unwrap(result: FloatArray, *inputs: Any) -> Any:
    """Return a Python float (NaN for missing) when every input was a scalar, else the array."""
    if all(is_scalar_input(v) for v in inputs):
        return float(np.asarray(result).reshape(-1)[0]) if np.asarray(result).size else float("nan")
    return result
