"""Declarative predicates over named fields, and the one evaluator of them (scalar and vectorised).

A predicate is plain data (from YAML), never a code string:

- a comparison ``{var: crp_pmr_as, op: gt, value: 17}`` with ``op`` one of
  ``eq ne lt le gt ge in not_in``;
- a combination ``{all: [...]}``, ``{any: [...]}`` or ``{not: {...}}``.

Evaluation is three-valued (Kleene logic): true, false, or unknown when a field it needs is
missing (``None``, NaN, ``pd.NA``) and the missing value could change the answer. ``all`` is
false as soon as one part is false, ``any`` true as soon as one part is true.

Numbers (booleans count as 0/1) are compared after rounding both sides to
:data:`ROUND_DECIMALS` = 6 decimals with :func:`numpy.round`, as the scores do, so that a score
computed as 9.9999999999 or 10.0000000001 compares as 10 (README, "Input conventions").
Text compares only with ``eq ne in not_in``; ordering text is an error.

There are two forms of the same rules, and every caller uses one of them:

- :func:`evaluate_predicate`: one record (a mapping of field -> value) -> ``True``/``False``/``None``
  (eligibility);
- :func:`evaluate_predicate_vectorised`: columns (a DataFrame, or a mapping of field -> array of any
  one shape) -> a float array of 1.0/0.0/NaN (derivation, the simulator).

A property test checks that they agree value by value, at cut-offs and with missing values.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "OPERATORS",
    "ROUND_DECIMALS",
    "Comparison",
    "Predicate",
    "evaluate_predicate",
    "evaluate_predicate_vectorised",
    "iter_comparisons",
    "parse_predicate",
]

#: Numbers are rounded to this many decimals before they are compared.
ROUND_DECIMALS = 6

Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in"]

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
}

#: Symbols used when a predicate is printed for humans.
OPERATOR_SYMBOLS = {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥", "in": "in", "not_in": "not in"}


class Comparison(BaseModel):
    """``{var, op, value}``: compare one field with a constant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    var: str
    op: Op
    value: Any = None

    def describe(self) -> str:
        return f"{self.var} {OPERATOR_SYMBOLS[self.op]} {self.value!r}"


class Predicate(BaseModel):
    """A node of a predicate tree: exactly one of ``all``, ``any``, ``not_`` or ``compare``."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    all: tuple[Predicate, ...] | None = None
    any: tuple[Predicate, ...] | None = None
    not_: Predicate | None = Field(default=None, alias="not")
    compare: Comparison | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift_comparison(cls, data: Any) -> Any:
        # The YAML writes comparisons flat: {var, op, value}. Lift them into ``compare``.
        if isinstance(data, Mapping) and "var" in data:
            return {"compare": dict(data)}
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> Predicate:
        given = [k for k in ("all", "any", "not_", "compare") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a predicate needs exactly one of 'all', 'any', 'not' or a comparison {var, op, value}; "
                f"got {given or 'none'}"
            )
        return self

    def describe(self) -> str:
        """Human-readable form, e.g. ``(crp_pmr_as ≤ 10 AND on_oral_gc = False)``."""
        if self.compare is not None:
            return self.compare.describe()
        if self.not_ is not None:
            return f"NOT {self.not_.describe()}"
        parts = self.all if self.all is not None else self.any
        joiner = " AND " if self.all is not None else " OR "
        return "(" + joiner.join(p.describe() for p in parts or ()) + ")"


def parse_predicate(data: Any) -> Predicate:
    """Build a :class:`Predicate` from its YAML/JSON form."""
    return Predicate.model_validate(data)


def iter_comparisons(predicate: Predicate) -> Iterator[Comparison]:
    """Every comparison in a predicate tree, depth first."""
    if predicate.compare is not None:
        yield predicate.compare
    if predicate.not_ is not None:
        yield from iter_comparisons(predicate.not_)
    for child in predicate.all or ():
        yield from iter_comparisons(child)
    for child in predicate.any or ():
        yield from iter_comparisons(child)


_ORDER_OPS = ("lt", "le", "gt", "ge")


def _is_number(value: Any) -> bool:
    return isinstance(value, (bool, int, float, np.bool_, np.number)) and not isinstance(value, str)


def _pandas() -> Any:
    """pandas if already imported, else None: only pandas objects need it, and importing it costs ~0.5 s."""
    return sys.modules.get("pandas")


def _is_missing(value: Any) -> bool:
    pd = _pandas()
    if value is None or (pd is not None and (value is pd.NA or value is pd.NaT)):
        return True
    return _is_number(value) and not isinstance(value, (bool, np.bool_)) and bool(np.isnan(float(value)))


def _round(value: Any) -> float:
    return float(np.round(np.float64(float(value)), ROUND_DECIMALS))


def _text_order_error(comparison: Comparison) -> ValueError:
    return ValueError(
        f"Invalid comparison {comparison.describe()}: operator {comparison.op!r} needs numbers on both sides "
        "(text compares only with eq, ne, in, not_in)."
    )


def _compare_scalar(comparison: Comparison, value: Any) -> bool:
    op, constant = comparison.op, comparison.value
    if op in ("in", "not_in"):
        members = list(constant)
        if _is_number(value):
            x = _round(value)
            hit = any(_is_number(m) and _round(m) == x for m in members)
        else:
            hit = any(not _is_number(m) and m == value for m in members)
        return hit if op == "in" else not hit
    if _is_number(value) and _is_number(constant):
        return bool(OPERATORS[op](_round(value), _round(constant)))
    if op in _ORDER_OPS:
        raise _text_order_error(comparison)
    same = (not _is_number(value)) and (not _is_number(constant)) and bool(value == constant)
    return same if op == "eq" else not same


def evaluate_predicate(predicate: Predicate, values: Mapping[str, Any]) -> bool | None:
    """Evaluate on one record with Kleene three-valued logic; None when undecided.

    ``values`` maps field names to values; ``None``, NaN and ``pd.NA`` are missing, and a name
    absent from ``values`` is missing too. Numbers are compared after rounding to 6 decimals.

    >>> p = parse_predicate({"all": [{"var": "crp_pmr_as", "op": "le", "value": 10},
    ...                              {"var": "on_oral_gc", "op": "eq", "value": False}]})
    >>> evaluate_predicate(p, {"crp_pmr_as": 10.0000001, "on_oral_gc": False})
    True
    >>> evaluate_predicate(p, {"crp_pmr_as": 4.0}) is None
    True
    >>> evaluate_predicate(p, {"crp_pmr_as": 12.0})
    False
    """
    if predicate.compare is not None:
        value = values.get(predicate.compare.var)
        if _is_missing(value):
            return None
        return _compare_scalar(predicate.compare, value)
    if predicate.not_ is not None:
        inner = evaluate_predicate(predicate.not_, values)
        return None if inner is None else not inner
    if predicate.all is not None:
        results = [evaluate_predicate(p, values) for p in predicate.all]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    results = [evaluate_predicate(p, values) for p in predicate.any or ()]
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) else False


FloatArray = npt.NDArray[np.float64]
if TYPE_CHECKING:
    import pandas as pd

    Columns = pd.DataFrame | Mapping[str, Any]


def _shape(data: Columns) -> tuple[int, ...]:
    if not isinstance(data, Mapping):  # a DataFrame (not a Mapping): one value per row
        return (len(data),)
    for column in data.values():
        return tuple(np.shape(column))
    return (0,)


def _column(data: Columns, var: str, shape: tuple[int, ...]) -> tuple[npt.NDArray[Any], bool]:
    """(values, is_numeric): numbers as float64 with NaN = missing, otherwise an object array."""
    if var not in data:
        return np.full(shape, np.nan), True
    raw = data[var]
    pd = _pandas()
    if pd is not None and isinstance(raw, pd.Series):
        if isinstance(raw.dtype, pd.BooleanDtype) or raw.dtype == bool:
            return raw.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan), True
        if raw.dtype.kind in "fiu":
            return raw.to_numpy(dtype=np.float64, na_value=np.nan), True
        arr = raw.to_numpy(dtype=object)
    else:
        arr = np.asarray(raw)
        if arr.dtype.kind in "bfiu":
            return arr.astype(np.float64), True
        arr = arr.astype(object)
    import pandas as pd

    missing = np.asarray(pd.isna(arr), dtype=bool)
    present = arr[~missing]
    if all(_is_number(x) for x in present.ravel()):
        out = np.full(arr.shape, np.nan)
        out[~missing] = np.asarray([float(x) for x in present.ravel()], dtype=np.float64)
        return out, True
    out_obj = arr.copy()
    out_obj[missing] = None
    return out_obj, False


def _compare_vectorised(comparison: Comparison, values: npt.NDArray[Any], numeric: bool) -> FloatArray:
    op, constant = comparison.op, comparison.value
    res: npt.NDArray[np.bool_]
    if numeric:
        x = np.round(values.astype(np.float64), ROUND_DECIMALS)
        missing = np.isnan(x)
        if op in ("in", "not_in"):
            members = [_round(m) for m in constant if _is_number(m)]
            hit = np.isin(x, members)
            res = hit if op == "in" else ~hit
        elif _is_number(constant):
            res = np.asarray(OPERATORS[op](x, _round(constant)), dtype=bool)
        elif op in _ORDER_OPS:
            raise _text_order_error(comparison)
        else:
            res = np.full(x.shape, op == "ne")
    else:
        import pandas as pd

        missing = np.asarray(pd.isna(values), dtype=bool)
        flat = pd.Series(values.ravel(), dtype=object)
        if op in ("in", "not_in"):
            hit = flat.isin([m for m in constant if not _is_number(m)]).to_numpy().reshape(values.shape)
            res = hit if op == "in" else ~hit
        elif op in _ORDER_OPS:
            raise _text_order_error(comparison)
        else:
            same = np.zeros(values.shape, dtype=bool)
            if not _is_number(constant):
                same = (flat == constant).to_numpy(dtype=bool).reshape(values.shape)
            res = same if op == "eq" else ~same
    return np.where(missing, np.nan, np.asarray(res, dtype=np.float64))


def evaluate_predicate_vectorised(predicate: Predicate, data: Columns) -> FloatArray:
    """Evaluate on every row (or cell) at once: the vectorised form of :func:`evaluate_predicate`.

    Parameters
    ----------
    predicate : Predicate
        For example an endpoint's ``definition``.
    data : DataFrame, or mapping of field name -> array
        Arrays of one common shape (1-D rows, or any shape such as the simulator's
        replicates x participants). A field absent from ``data`` is missing everywhere. Missing
        entries are ``None``, NaN or ``pd.NA``; boolean columns compare with ``true``/``false``.

    Returns
    -------
    numpy.ndarray of float
        1.0 (true), 0.0 (false) or NaN (undecided because an input is missing), in ``data``'s shape.

    >>> p = parse_predicate({"var": "crp_pmr_as", "op": "le", "value": 10})
    >>> evaluate_predicate_vectorised(p, {"crp_pmr_as": [9.0, 10.0000001, 10.1, None]}).tolist()
    [1.0, 1.0, 0.0, nan]
    """
    shape = _shape(data)
    if predicate.compare is not None:
        values, numeric = _column(data, predicate.compare.var, shape)
        return _compare_vectorised(predicate.compare, values, numeric)
    if predicate.not_ is not None:
        inner = evaluate_predicate_vectorised(predicate.not_, data)
        return np.where(np.isnan(inner), np.nan, 1.0 - inner)
    is_all = predicate.all is not None
    children = [evaluate_predicate_vectorised(p, data) for p in (predicate.all if is_all else predicate.any) or ()]
    if not children:
        return np.full(shape, 1.0 if is_all else 0.0)
    stacked = np.stack(children)
    decisive = (stacked == (0.0 if is_all else 1.0)).any(axis=0)
    unknown = np.isnan(stacked).any(axis=0)
    decided = 0.0 if is_all else 1.0
    return np.where(decisive, decided, np.where(unknown, np.nan, 1.0 - decided))
