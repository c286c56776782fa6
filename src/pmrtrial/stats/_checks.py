"""Argument checks shared by the statistics functions (fail fast, name the field)."""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

from pmrtrial.exceptions import ScoreInputError

__all__ = ["TwoByTwo", "check_conf_level", "check_two_by_two"]


class TwoByTwo(NamedTuple):
    """Validated counts of a two-arm binary outcome."""

    events_treated: int
    n_treated: int
    events_control: int
    n_control: int


def _as_count(value: Any, field: str, *, lo: int, hi: int | None, expected: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ScoreInputError(field, value, expected)
    number = float(value)
    if not math.isfinite(number) or number != math.floor(number):
        raise ScoreInputError(field, value, expected)
    count = int(number)
    if count < lo or (hi is not None and count > hi):
        raise ScoreInputError(field, value, expected)
    return count


def check_two_by_two(events_treated: Any, n_treated: Any, events_control: Any, n_control: Any) -> TwoByTwo:
    """Validate two-arm counts: integers (integer-valued floats accepted), ``n > 0``, ``0 <= events <= n``.

    Raises
    ------
    ScoreInputError
        Naming the first offending field (``n_treated``, ``events_treated``, ``n_control``,
        ``events_control``), its value and what is accepted.
    """
    nt = _as_count(n_treated, "n_treated", lo=1, hi=None, expected="an integer >= 1")
    nc = _as_count(n_control, "n_control", lo=1, hi=None, expected="an integer >= 1")
    et = _as_count(events_treated, "events_treated", lo=0, hi=nt, expected=f"an integer in [0, n_treated={nt}]")
    ec = _as_count(events_control, "events_control", lo=0, hi=nc, expected=f"an integer in [0, n_control={nc}]")
    return TwoByTwo(et, nt, ec, nc)


def check_conf_level(conf_level: Any, field: str = "conf_level") -> float:
    """Validate a confidence (or credible) level in the open interval (0, 1)."""
    if isinstance(conf_level, bool) or not isinstance(conf_level, numbers.Real):
        raise ScoreInputError(field, conf_level, "a number in (0, 1)")
    level = float(conf_level)
    if not 0.0 < level < 1.0:
        raise ScoreInputError(field, conf_level, "a number in (0, 1)")
    return level


def check_positive(value: Any, field: str) -> float:
    """Validate a finite number > 0 (e.g. a Beta prior parameter)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ScoreInputError(field, value, "a finite number > 0")
    number = float(value)
    if not math.isfinite(number) or number <= 0.0:
        raise ScoreInputError(field, value, "a finite number > 0")
    return number
