"""Declarative predicates over named fields, and their three-valued interpreter.

A predicate is plain data (from YAML), never a code string:

- a comparison ``{var: crp_pmr_as, op: gt, value: 17}`` with ``op`` one of
  ``eq ne lt le gt ge in not_in``;
- a combination ``{all: [...]}``, ``{any: [...]}`` or ``{not: {...}}``.

Evaluation is three-valued (Kleene logic): ``True``, ``False`` or ``None`` when a field it needs
is missing and the missing value could change the answer.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["OPERATORS", "Comparison", "Predicate", "evaluate_predicate", "iter_comparisons", "parse_predicate"]

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


def evaluate_predicate(predicate: Predicate, values: Mapping[str, Any]) -> bool | None:
    """Evaluate with Kleene three-valued logic; a missing (None) field gives None unless decided.

    ``values`` maps field names to values (None = missing). A name absent from ``values`` is
    treated as missing.
    """
    if predicate.compare is not None:
        c = predicate.compare
        value = values.get(c.var)
        if value is None:
            return None
        return bool(OPERATORS[c.op](value, c.value))
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
