"""Plausibility of units: a value or a column whose distribution suggests a unit slip.

Pure core (no I/O): functions take values or a visits frame and return :class:`UnitSuspicion` objects; callers
decide where they go (stderr, ``results.json``, the report). Nothing here changes data: a suspicion is a warning
for a human, never a silent conversion, and never an error (a real value can sit anywhere in the accepted range).

Rules (each names the column, the unit the data look like and why):

- **CRP entered in mg/dL into a mg/L column** (a factor 10). In active PMR the CRP at inclusion is raised
  (BACHELOR's median baseline CRP was about 20-30 mg/L; the 2012 EULAR/ACR criteria score an abnormal CRP), so a
  column whose baseline values have a median below :data:`CRP_MG_L_BASELINE_MEDIAN_MIN` (5 mg/L, the usual upper
  limit of normal) and whose values almost all carry a decimal looks like mg/dL.
- **VAS on 0-100 mm in a 0-10 column**: values above 10 (the range check then rejects the file; the suspicion
  says which unit they look like).
- **Morning stiffness in hours in a minutes column** (a factor 60): in active PMR morning stiffness lasts more
  than 45 minutes (2012 criteria), so baseline values with a median of at most 6 and a maximum of at most 24
  look like hours.

Single values (the CLI's ``score`` command) are flagged only where the two readings overlap: CRP below 10 with a
decimal in mg/L (could be mg/dL), CRP above 20 in mg/dL (could be mg/L), morning stiffness between 0 and 6 minutes
exclusive (could be hours).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CRP_MG_L_BASELINE_MEDIAN_MIN",
    "UnitSuspicion",
    "check_value",
    "check_values",
    "check_visits",
]

#: Baseline CRP median (mg/L) below which a PMR trial's CRP column looks like mg/dL (5 mg/L: usual ULN).
CRP_MG_L_BASELINE_MEDIAN_MIN = 5.0
_VAS_COLUMNS = ("pain_vas", "patient_global_vas", "fatigue_vas", "physician_global_vas")
_MIN_VALUES = 5  # fewer values than this say nothing about a distribution


@dataclass(frozen=True)
class UnitSuspicion:
    """A column (or a single value) that looks as if entered in another unit."""

    column: str
    unit: str  # the unit the column is declared in
    suspected_unit: str  # the unit the values look like
    evidence: str  # what was seen, in numbers
    factor: float  # multiply by this to convert from the suspected unit into the declared one

    @property
    def message(self) -> str:
        """One line naming the column, the suspected unit and the evidence."""
        return (
            f"{self.column}: looks like {self.suspected_unit} rather than {self.unit} ({self.evidence}); "
            f"if so, multiply by {self.factor:g}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "unit": self.unit,
            "suspected_unit": self.suspected_unit,
            "evidence": self.evidence,
            "factor": self.factor,
            "message": self.message,
        }


def _numeric(series: pd.Series) -> np.ndarray[Any, np.dtype[np.float64]]:
    import pandas as pd

    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    out: np.ndarray[Any, np.dtype[np.float64]] = values[np.isfinite(values)]
    return out


def _baseline(visits: pd.DataFrame, column: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Values of ``column`` at each participant's first visit (week 0 when present)."""
    if "week" not in visits.columns or "subject_id" not in visits.columns:
        return _numeric(visits[column])
    import pandas as pd

    weeks = pd.to_numeric(visits["week"], errors="coerce")
    first = weeks.groupby(visits["subject_id"]).transform("min")
    return _numeric(visits.loc[weeks == first, column])


def check_visits(visits: pd.DataFrame) -> tuple[UnitSuspicion, ...]:
    """Unit suspicions for the columns of a visits table (raw or validated; missing columns are skipped).

    >>> import pandas as pd
    >>> crp = [2.2, 3.5, 1.8, 4.1, 2.9, 0.7]  # mg/dL typed into the mg/L column
    >>> crp_in_mg_dl = pd.DataFrame({"subject_id": list("abcdef"), "week": 0, "crp_mg_l": crp})
    >>> [s.suspected_unit for s in check_visits(crp_in_mg_dl)]
    ['mg/dL']
    """
    found: list[UnitSuspicion] = []
    if "crp_mg_l" in visits.columns:
        base = _baseline(visits, "crp_mg_l")
        allv = _numeric(visits["crp_mg_l"])
        if base.size >= _MIN_VALUES:
            median = float(np.median(base))
            decimals = float(np.mean(allv != np.round(allv))) if allv.size else 0.0
            if median < CRP_MG_L_BASELINE_MEDIAN_MIN and decimals >= 0.5:
                found.append(
                    UnitSuspicion(
                        "crp_mg_l",
                        "mg/L",
                        "mg/dL",
                        f"baseline median {median:.2g} mg/L in {base.size} participants, below the "
                        f"{CRP_MG_L_BASELINE_MEDIAN_MIN:g} mg/L upper limit of normal in active PMR; "
                        f"{decimals:.0%} of values have decimals",
                        10.0,
                    )
                )
    for column in _VAS_COLUMNS:
        if column in visits.columns:
            values = _numeric(visits[column])
            above = int(np.sum(values > 10))
            if above:
                found.append(
                    UnitSuspicion(
                        column,
                        "0-10",
                        "0-100 mm",
                        f"{above} of {values.size} values above 10, maximum {float(values.max()):g}",
                        0.1,
                    )
                )
    if "morning_stiffness_min" in visits.columns:
        base = _baseline(visits, "morning_stiffness_min")
        if base.size >= _MIN_VALUES and float(np.max(base)) > 0:
            median, top = float(np.median(base)), float(np.max(base))
            if median <= 6 and top <= 24:
                found.append(
                    UnitSuspicion(
                        "morning_stiffness_min",
                        "min",
                        "hours",
                        f"baseline median {median:g}, maximum {top:g} in {base.size} participants; morning "
                        "stiffness in active PMR lasts more than 45 minutes",
                        60.0,
                    )
                )
    return tuple(found)


def check_value(field: str, value: float | None) -> UnitSuspicion | None:
    """A suspicion for one value of ``field`` (``crp_mg_l``, ``crp_mg_dl``, ``morning_stiffness_min``), or None."""
    if value is None or not math.isfinite(float(value)):
        return None
    v = float(value)
    if field == "crp_mg_l" and 0 < v < 10 and v != round(v):
        return UnitSuspicion(field, "mg/L", "mg/dL", f"{v:g} with a decimal, below 10", 10.0)
    if field == "crp_mg_dl" and v > 20:
        return UnitSuspicion(field, "mg/dL", "mg/L", f"{v:g} mg/dL would be {v * 10:g} mg/L", 0.1)
    if field == "morning_stiffness_min" and 0 < v < 6:
        return UnitSuspicion(field, "min", "hours", f"{v:g} minutes is shorter than any recorded stiffness", 60.0)
    return None


def check_values(values: Mapping[str, float | None]) -> tuple[UnitSuspicion, ...]:
    """:func:`check_value` for each field of ``values`` (fields without a rule are skipped)."""
    return tuple(s for f, v in values.items() if (s := check_value(f, v)) is not None)
