"""Helpers of the comparator-twin tests: the published figures as printed strings, and printed-precision agreement."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def load_printed(trial: str) -> dict[str, Any]:
    """The ``<trial>`` section of the bundled ``pmrtrial/published/<trial>.yaml``, every scalar a printed string
    (``yaml.BaseLoader``), so the printed precision is known without the package's own loader."""
    text = resources.files("pmrtrial.published").joinpath(f"{trial}.yaml").read_text(encoding="utf-8")
    section: dict[str, Any] = yaml.load(text, Loader=yaml.BaseLoader)[trial]
    return section


def agrees(printed: str, value: float) -> bool:
    """``value`` rounds to the printed figure: within half a unit of its last printed digit (1e-9 slack)."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(value - float(printed)) <= 0.5 * 10.0**-decimals + 1e-9
