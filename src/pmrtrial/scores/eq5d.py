"""EQ-5D: descriptive systems (3L and 5L), health states and index values from national value sets.

Descriptive system (EuroQol Group)
----------------------------------
Five dimensions in this order: MO (mobility), SC (self-care), UA (usual activities),
PD (pain/discomfort), AD (anxiety/depression). EQ-5D-3L has levels 1-3, EQ-5D-5L levels 1-5.
A health state is the 5-digit string of the levels in that order, e.g. ``"11223"``. The EQ VAS
(0-100, the respondent's own rating) is a separate field and never enters the index.

Value sets
----------
Each value set is a JSON data file in ``pmrtrial/scores/data/eq5d_value_sets/`` holding its
citation, DOI and coefficients; none is a constant in code. The value set is always an explicit
argument: there is no default country. All four bundled sets are additive:

.. math::

    \\text{index} = 1 + c\\,[\\text{any level} > 1] + n_3\\,[\\text{any level} = 3]
    + \\sum_{d} \\beta_{d,\\,\\text{level}_d}

with :math:`\\beta_{d,1} = 0`. ``constant`` (:math:`c`) and ``n3`` are zero where the model has none.

=============  ==========================================================================
id             source
=============  ==========================================================================
3L-FR-2013     Chevalier J, de Pouvourville G. Eur J Health Econ 2013;14:57-66 (TTO)
3L-UK-1997     Dolan P. Med Care 1997;35:1095-108 (TTO)
5L-FR-2020     Andrade LF et al. PharmacoEconomics 2020;38:413-25
5L-UK-2018     Devlin NJ et al. Health Econ 2018;27:7-22 (England)
=============  ==========================================================================

Indices are returned unrounded; round only for display (published tables print 3 decimals).
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import numpy as np

from pmrtrial._validate import FloatArray, as_float_array, is_missing, is_scalar_input
from pmrtrial.exceptions import ScoreInputError

__all__ = [
    "EQ5D_DIMENSIONS",
    "Eq5dValueSet",
    "check_eq5d_state",
    "check_eq5d_vas",
    "compute_eq5d_index",
    "compute_eq5d_state",
    "list_eq5d_value_sets",
    "load_eq5d_value_set",
]

#: The five dimensions, in the order of the digits of a health state.
EQ5D_DIMENSIONS: tuple[str, ...] = ("MO", "SC", "UA", "PD", "AD")

_DATA_PACKAGE = "pmrtrial.scores.data.eq5d_value_sets"


@dataclass(frozen=True)
class Eq5dValueSet:
    """One national EQ-5D value set, as read from its data file.

    Attributes
    ----------
    id : str
        e.g. ``"3L-UK-1997"``.
    levels : int
        3 or 5.
    country, method, citation, doi : str
        Provenance, verbatim from the data file.
    constant : float
        Decrement applied once if any dimension is above level 1 (0 when the model has none).
    n3 : float
        Decrement applied once if any dimension is at level 3 (0 when the model has none).
    decrements : mapping of str to tuple of float
        For each dimension, the decrements of levels 2..``levels`` (level 1 is 0).
    """

    id: str
    levels: int
    country: str
    method: str
    citation: str
    doi: str
    constant: float
    n3: float
    decrements: Mapping[str, tuple[float, ...]]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the value set (coefficients as lists)."""
        return {
            "id": self.id,
            "levels": self.levels,
            "country": self.country,
            "method": self.method,
            "citation": self.citation,
            "doi": self.doi,
            "constant": self.constant,
            "n3": self.n3,
            "decrements": {k: list(v) for k, v in self.decrements.items()},
        }


@cache
def list_eq5d_value_sets() -> tuple[str, ...]:
    """Ids of the bundled value sets, sorted (e.g. ``"3L-FR-2013"``)."""
    folder = resources.files(_DATA_PACKAGE)
    return tuple(sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")))


@cache
def load_eq5d_value_set(value_set: str) -> Eq5dValueSet:
    """Read a bundled value set by id.

    Raises
    ------
    ScoreInputError
        If ``value_set`` is not one of :func:`list_eq5d_value_sets`.
    """
    known = list_eq5d_value_sets()
    if not isinstance(value_set, str) or value_set not in known:
        raise ScoreInputError("value_set", value_set, "one of " + ", ".join(known))
    raw = json.loads(resources.files(_DATA_PACKAGE).joinpath(f"{value_set}.json").read_text("utf-8"))
    levels = int(raw["levels"])
    decrements = {dim: tuple(float(x) for x in raw["decrements"][dim]) for dim in EQ5D_DIMENSIONS}
    for dim, values in decrements.items():
        if len(values) != levels - 1:  # pragma: no cover - guards the bundled data files
            raise ValueError(f"value set {value_set}: {dim} needs {levels - 1} decrements")
    return Eq5dValueSet(
        id=str(raw["id"]),
        levels=levels,
        country=str(raw["country"]),
        method=str(raw["method"]),
        citation=str(raw["citation"]),
        doi=str(raw["doi"]),
        constant=float(raw["constant"]),
        n3=float(raw["n3"]),
        decrements=MappingProxyType(decrements),
    )


def _parse_state(state: Any, levels: int) -> tuple[int, ...] | None:
    """Levels of one health state, or None when missing; raises on a malformed state."""
    if is_missing(state):
        return None
    expected = f"a 5-digit EQ-5D-{levels}L health state with each digit in 1-{levels}, e.g. '11223'"
    if isinstance(state, bool | np.bool_):
        raise ScoreInputError("eq5d_state", state, expected)
    if isinstance(state, numbers.Integral):
        text = str(int(state))
    elif isinstance(state, numbers.Real) and math.isfinite(float(state)) and float(state).is_integer():
        text = str(int(float(state)))  # a float column read from CSV, e.g. 11223.0
    elif isinstance(state, str):
        text = state.strip()
    else:
        raise ScoreInputError("eq5d_state", state, expected)
    if len(text) != 5 or not text.isdigit() or not all("1" <= ch <= str(levels) for ch in text):
        raise ScoreInputError("eq5d_state", state, expected)
    return tuple(int(ch) for ch in text)


def check_eq5d_state(state: Any, *, levels: int) -> None:
    """Raise :class:`ScoreInputError` unless every state is a valid 3L (``levels=3``) or 5L state.

    ``None``/NaN (missing) passes. Accepts a string, an integer such as ``11223``, or a sequence.
    """
    if levels not in (3, 5):
        raise ScoreInputError("levels", levels, "3 (EQ-5D-3L) or 5 (EQ-5D-5L)")
    items = [state] if is_scalar_input(state) else list(np.asarray(state, dtype=object).reshape(-1))
    for item in items:
        _parse_state(item, levels)


def compute_eq5d_state(*, mo: Any, sc: Any, ua: Any, pd: Any, ad: Any, levels: int) -> Any:
    """Build the 5-digit health state from the five dimension answers.

    Parameters
    ----------
    mo, sc, ua, pd, ad : int or array-like of int
        Level of each dimension (1-3 for 3L, 1-5 for 5L); None/NaN is missing.
    levels : {3, 5}
        The descriptive system.

    Returns
    -------
    str or None, or ndarray of object
        ``"11223"``-style state; None when any dimension is missing.
    """
    if levels not in (3, 5):
        raise ScoreInputError("levels", levels, "3 (EQ-5D-3L) or 5 (EQ-5D-5L)")
    named = {"mo": mo, "sc": sc, "ua": ua, "pd": pd, "ad": ad}
    arrays = [
        np.atleast_1d(as_float_array(v, field=f"eq5d_{k}", lo=1, hi=levels, integer=True)) for k, v in named.items()
    ]
    stacked = np.vstack(np.broadcast_arrays(*arrays))
    out = np.empty(stacked.shape[1], dtype=object)
    for j in range(stacked.shape[1]):
        column = stacked[:, j]
        out[j] = None if np.isnan(column).any() else "".join(str(int(x)) for x in column)
    if all(is_scalar_input(v) for v in named.values()):
        return out[0]
    return out


def compute_eq5d_index(state: Any, *, value_set: str) -> Any:
    """EQ-5D index value(s) of health state(s) under a named national value set.

    Parameters
    ----------
    state : str or sequence of str
        5-digit health state(s) in the order MO, SC, UA, PD, AD, e.g. ``"11223"`` (an integer
        ``11223`` is accepted too). ``None``/NaN is missing and gives NaN.
    value_set : str
        Id from :func:`list_eq5d_value_sets`: ``"3L-FR-2013"``, ``"3L-UK-1997"``,
        ``"5L-FR-2020"`` or ``"5L-UK-2018"``. Required: there is no default.

    Returns
    -------
    float or ndarray
        A float for a single state, a float array for a sequence; unrounded.

    Raises
    ------
    ScoreInputError
        For an unknown value set, or a malformed state (wrong length, non-digit, a level
        outside the value set's descriptive system), naming the value.

    Examples
    --------
    >>> round(compute_eq5d_index("11221", value_set="3L-UK-1997"), 3)  # Dolan 1997
    0.76
    """
    vs = load_eq5d_value_set(value_set)
    scalar = is_scalar_input(state)
    items = [state] if scalar else list(np.asarray(state, dtype=object).reshape(-1))
    out: FloatArray = np.empty(len(items), dtype=np.float64)
    for i, item in enumerate(items):
        parsed = _parse_state(item, vs.levels)
        if parsed is None:
            out[i] = np.nan
            continue
        index = 1.0
        if any(level > 1 for level in parsed):
            index += vs.constant
        if any(level == 3 for level in parsed) and vs.levels == 3:
            index += vs.n3
        for dim, level in zip(EQ5D_DIMENSIONS, parsed, strict=True):
            if level > 1:
                index += vs.decrements[dim][level - 2]
        out[i] = index
    if scalar:
        return float(out[0])
    return out


def check_eq5d_vas(vas: Any) -> None:
    """Raise :class:`ScoreInputError` unless the EQ VAS is a number in [0, 100] (None/NaN = missing)."""
    as_float_array(vas, field="eq5d_vas", lo=0, hi=100)
