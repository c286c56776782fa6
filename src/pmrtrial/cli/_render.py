"""Shared rendering helpers for the CLI."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


_CONSOLE: list[Console] = []


def get_console() -> Console:
    """The CLI's rich ``Console``, created (and rich imported) on first use: ``--json`` paths never load rich."""
    if not _CONSOLE:
        from rich.console import Console

        _CONSOLE.append(Console())
    return _CONSOLE[0]


class _LazyConsole:
    """Forwards attribute access to :func:`get_console` (pass ``get_console()`` where a real Console is needed)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(get_console(), name)


console: Console = _LazyConsole()  # type: ignore[assignment]


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
