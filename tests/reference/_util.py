"""Shared helpers of the reference tests: decode R's JSON numbers and compare at a relative tolerance."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

VALUES = Path(__file__).parent / "values"
DATA = Path(__file__).parent / "data"


def load_values(name: str) -> Any:
    """The stored R output ``tests/reference/values/<name>``."""
    return json.loads((VALUES / name).read_text())


def num(value: Any) -> float:
    """R's JSON writes non-finite numbers and NA as strings."""
    if value is None:
        return math.nan
    if isinstance(value, str):
        return {"Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan, "NA": math.nan}[value]
    return float(value)


def close(actual: float | None, expected: Any, rtol: float) -> bool:
    """Relative closeness; NaN matches NaN (R NA) and infinities must be equal."""
    exp = num(expected)
    act = math.nan if actual is None else float(actual)
    if math.isnan(exp) or math.isnan(act):
        return math.isnan(exp) and math.isnan(act)
    if math.isinf(exp) or math.isinf(act):
        return act == exp
    return math.isclose(act, exp, rel_tol=rtol, abs_tol=0.0)
