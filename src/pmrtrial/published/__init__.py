"""Published trial aggregates, one bundled file per trial, read by one loader.

``pmrtrial/published/<trial>.yaml`` holds the transcription of every published figure of a trial (for BACHELOR:
Saraux A, et al. Lancet Rheumatol 2025; the citation is in the file). The synthetic twin, the analysis report and
the tests all read it through :func:`load_published`. YAML turns ``8.80`` into ``8.8``; the twin needs to know that
the SD was printed to two decimals, so numbers are loaded as :class:`PrintedNumber`, a ``float`` that keeps
the number of decimals it was printed with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml

from pmrtrial._yaml import safe_load

__all__ = ["PrintedNumber", "list_published", "load_bachelor_published", "load_published", "published_text"]

_FLOAT = re.compile(r"^[-+]?(\d+\.\d*|\.\d+|\d+)$")


class PrintedNumber(float):
    """A published number that remembers its printed precision.

    ``decimals`` is the number of printed decimals (0 for an integer); ``halfwidth`` is half a unit of the
    last printed digit, i.e. the rounding interval of the published figure.
    """

    decimals: int

    def __new__(cls, text: str) -> PrintedNumber:
        obj = super().__new__(cls, float(text))
        obj.decimals = len(text.split(".")[1]) if "." in text else 0
        return obj

    @property
    def halfwidth(self) -> float:
        return 0.5 * 10.0 ** (-self.decimals)

    def agrees(self, value: float) -> bool:
        """True if ``value`` rounds to this figure at its printed precision (half-width inclusive, 1e-9 slack)."""
        return abs(float(value) - float(self)) <= self.halfwidth + 1e-9


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader (libyaml when available) whose numbers are :class:`PrintedNumber`."""


def _construct_number(loader: _Loader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node))
    if _FLOAT.match(text):
        return PrintedNumber(text)
    return float(text)


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_number)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_number)


def list_published() -> list[str]:
    """Trials with bundled published figures."""
    return sorted(p.name.removesuffix(".yaml") for p in resources.files(__name__).iterdir() if p.name.endswith(".yaml"))


def published_text(trial: str = "bachelor") -> str:
    """The bundled YAML text of ``trial``'s published figures."""
    if trial not in list_published():
        raise KeyError(f"No published figures for {trial!r}; bundled: {', '.join(list_published())}")
    return resources.files(__name__).joinpath(f"{trial}.yaml").read_text(encoding="utf-8")


@cache
def _load(trial: str, printed: bool) -> Mapping[str, Any]:
    if printed:
        data: Mapping[str, Any] = yaml.load(published_text(trial), Loader=_Loader)[trial]
    else:
        data = safe_load(published_text(trial))[trial]
    return data


def load_published(trial: str = "bachelor", *, printed: bool = False) -> Mapping[str, Any]:
    """The trial's published aggregates.

    With ``printed=True`` numbers are :class:`PrintedNumber` (floats that know their printed precision, as the
    synthetic twin needs); otherwise plain YAML numbers (``14`` an int, ``8.80`` the float 8.8). The mapping is
    shared (cached); treat it as read-only.
    """
    return _load(trial, printed)


def load_bachelor_published() -> Mapping[str, Any]:
    """:func:`load_published` for BACHELOR, numbers as :class:`PrintedNumber`."""
    return _load("bachelor", True)
