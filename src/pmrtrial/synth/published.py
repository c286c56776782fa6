"""The published BACHELOR aggregates, bundled as package data, with their printed precision.

``data/bachelor_published.yaml`` is a byte-identical copy of ``shared/reference/bachelor_published.yaml``
(the transcription of every published figure). YAML turns ``8.80`` into ``8.8``; the twin needs to know that
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

__all__ = ["PrintedNumber", "load_bachelor_published", "load_trial_published", "published_text"]

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


def published_text() -> str:
    """The bundled YAML text (identical to ``shared/reference/bachelor_published.yaml``)."""
    return resources.files("pmrtrial.synth.data").joinpath("bachelor_published.yaml").read_text(encoding="utf-8")


@cache
def _load() -> Mapping[str, Any]:
    data = yaml.load(published_text(), Loader=_Loader)
    return data  # type: ignore[no-any-return]


def load_bachelor_published() -> Mapping[str, Any]:
    """The ``bachelor`` section of the published aggregates (numbers as :class:`PrintedNumber`).

    The mapping is shared; treat it as read-only.
    """
    bachelor: Mapping[str, Any] = _load()["bachelor"]
    return bachelor


@cache
def load_trial_published(trial: str) -> Mapping[str, Any]:
    """The ``<trial>`` section of ``data/<trial>_published.yaml`` (``semaphore``, ``saphyr``), numbers as
    :class:`PrintedNumber`. The mapping is shared; treat it as read-only."""
    if trial not in ("bachelor", "semaphore", "saphyr"):
        raise KeyError(f"No published figures for {trial!r}. Expected bachelor, semaphore or saphyr.")
    text = resources.files("pmrtrial.synth.data").joinpath(f"{trial}_published.yaml").read_text(encoding="utf-8")
    section: Mapping[str, Any] = yaml.load(text, Loader=_Loader)[trial]
    return section
