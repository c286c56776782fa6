"""Reading questionnaire item answers from a plain mapping or a pandas DataFrame.

Shared by the patient-reported outcome modules (HAQ-DI, SF-36). One convention:

* a ``Mapping`` of item key -> answer is one respondent (scalars) or several (equal-length
  sequences); an unknown key raises :class:`ScoreInputError`, because a typo must not silently
  drop an answer;
* a ``pandas.DataFrame`` has one row per respondent; only the item columns are read and other
  columns (subject id, visit...) are ignored; the result keeps the frame's index;
* an absent key or column, ``None`` and NaN are missing answers.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pmrtrial._validate import FloatArray, as_bool_array, as_float_array, is_scalar_input
from pmrtrial.exceptions import ScoreInputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ItemSpec", "ItemTable", "read_items", "to_output"]


@dataclass(frozen=True)
class ItemSpec:
    """One questionnaire item: its key and accepted answers (integers lo..hi, or a boolean flag)."""

    key: str
    lo: int = 0
    hi: int = 1
    is_flag: bool = False


@dataclass(frozen=True)
class ItemTable:
    """Validated answers: one float array per item key (NaN = missing), all of length ``n``."""

    values: Mapping[str, FloatArray]
    n: int
    is_scalar: bool
    index: pd.Index | None


def read_items(answers: Any, specs: tuple[ItemSpec, ...], *, instrument: str) -> ItemTable:
    """Validate item answers against ``specs`` and return them as aligned float arrays.

    Raises
    ------
    ScoreInputError
        For an input that is neither a mapping nor a DataFrame, an unknown key in a mapping,
        sequences of unequal length, or an answer out of range (naming the item and value).
    """
    by_key = {spec.key: spec for spec in specs}
    index: pd.Index | None = None
    columns: dict[str, Any]
    pandas = sys.modules.get("pandas")  # not imported: answers cannot be a DataFrame (keeps the CLI light)
    if pandas is not None and isinstance(answers, pandas.DataFrame):
        index = answers.index
        columns = {key: answers[key].to_numpy(dtype=object) for key in by_key if key in answers.columns}
        is_scalar = False
        n = len(answers)
    elif isinstance(answers, Mapping):
        unknown = sorted(str(k) for k in answers if k not in by_key)
        if unknown:
            raise ScoreInputError(
                f"{instrument} item key",
                unknown[0],
                f"one of the documented {instrument} keys",
                suggestion=f"valid keys are {', '.join(by_key)}",
            )
        columns = dict(answers)
        is_scalar = all(is_scalar_input(v) for v in columns.values())
        lengths = {len(np.asarray(v, dtype=object).reshape(-1)) for v in columns.values()}
        if is_scalar:
            n = 1
        elif len(lengths - {1}) > 1:
            raise ScoreInputError(
                f"{instrument} answers",
                sorted(lengths),
                "sequences of one common length (one element per respondent)",
            )
        else:
            n = max(lengths - {1}, default=1)
    else:
        raise ScoreInputError(
            f"{instrument} answers",
            type(answers).__name__,
            "a mapping of item key to answer, or a pandas DataFrame with one column per item",
        )

    values: dict[str, FloatArray] = {}
    for key, spec in by_key.items():
        if key not in columns:
            values[key] = np.full(n, np.nan)
            continue
        raw = columns[key]
        if spec.is_flag:
            arr = as_bool_array(raw, field=key)
        else:
            arr = as_float_array(raw, field=key, lo=spec.lo, hi=spec.hi, integer=True)
        arr = np.asarray(arr, dtype=np.float64).reshape(-1)
        if arr.size == 1 and n != 1:
            arr = np.full(n, arr[0])
        values[key] = arr
    return ItemTable(values=values, n=n, is_scalar=is_scalar, index=index)


def to_output(values: FloatArray, table: ItemTable) -> Any:
    """A Python float for one respondent given as scalars, else the array."""
    if table.is_scalar:
        return float(values[0])
    return values
