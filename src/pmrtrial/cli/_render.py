"""Shared rendering helpers for the CLI."""

from __future__ import annotations

import json
import math
from typing import Any

from rich.console import Console

console = Console()


def to_jsonable(value: Any) -> Any:
    """NaN -> None, numpy scalars/arrays -> Python, recursively."""
    import numpy as np

    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def print_json(data: Any) -> None:
    """Plain JSON on stdout (no rich markup), for machines."""
    print(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False))
