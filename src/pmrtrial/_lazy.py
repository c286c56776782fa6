"""Lazy package exports (PEP 562): a package's public names are imported from their module on first use.

A package whose ``__init__`` imported every submodule made ``import pmrtrial.design.fisher`` pay for the
simulator, and ``pmrtrial simulate`` pay for scipy.stats through ``pmrtrial.stats``. With :func:`lazy_exports`
the ``__init__`` keeps its explicit imports under ``TYPE_CHECKING`` (for type checkers and readers) and resolves
them at run time only when asked.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``; ``exports`` maps a public name to its module's full name."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later look-ups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
