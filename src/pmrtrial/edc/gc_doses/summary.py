"""The live GC summary of one participant, from the dose rows (plain data: no Django).

The numbers come from the analysis' own derivations (:mod:`pmrtrial.derive_endpoints`), so the EDC
shows what the analysis will compute from the exported ``gc_doses`` table:

- the daily dose is :func:`~pmrtrial.derive_endpoints.daily_gc_doses` (overlapping rows add up, an
  empty end runs on, ``injection`` rows count in the cumulative dose but not in the oral dose);
- the cumulative dose *to date* is the sum of the daily doses over days 0 .. ``as_of_day``
  (inclusive; days before randomisation are not counted);
- at each scheduled visit reached, ``cumulative_gc_mg`` (days 0 .. the day before the visit) and
  ``gc_taper_adherent`` are :func:`~pmrtrial.derive_endpoints.derive_vars_gc_from_log`;
- taper adherence to date: the oral dose is at most the arm's ``gc_taper`` dose
  (:func:`~pmrtrial.derive_endpoints.scheduled_dose`) plus ``parameters.gc_taper_tolerance_mg_day``
  on every day 0 .. ``as_of_day``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pmrtrial.derive_endpoints import daily_gc_doses, derive_vars_gc_from_log, scheduled_dose
from pmrtrial.protocol import Protocol
from pmrtrial.vocabulary import column_names

__all__ = ["GcLogSummary", "TaperAdherence", "VisitGc", "summarise_gc_log", "taper_reveals_arm"]

_EPS = 1e-9


@dataclass(frozen=True)
class VisitGc:
    """GC exposure at a scheduled visit reached (``adherent`` None when not shown or undecided)."""

    visit: str
    day: int
    cumulative_mg: float
    oral_mg_day: float
    adherent: bool | None = None


@dataclass(frozen=True)
class TaperAdherence:
    """Adherence to a taper schedule over days 0 .. as_of_day (``arm`` None when not shown)."""

    arm: str | None
    schedule: tuple[tuple[float, float, float], ...]  # (from_week, to_week, dose_mg_day)
    tolerance_mg_day: float
    adherent: bool
    days_over: int
    first_day_over: int | None


@dataclass(frozen=True)
class GcLogSummary:
    as_of_day: int
    cumulative_mg: float
    oral_mg_day: float  # oral dose on as_of_day
    visits: tuple[VisitGc, ...]
    taper: TaperAdherence | None
    taper_note: str  # why adherence is absent, or "" when shown

    def to_dict(self) -> dict[str, Any]:
        taper = None
        if self.taper is not None:
            t = self.taper
            taper = {
                "arm": t.arm,
                "schedule": [{"from_week": a, "to_week": b, "dose_mg_day": d} for a, b, d in t.schedule],
                "tolerance_mg_day": t.tolerance_mg_day,
                "adherent": t.adherent,
                "days_over": t.days_over,
                "first_day_over": t.first_day_over,
            }
        return {
            "as_of_day": self.as_of_day,
            "cumulative_mg": self.cumulative_mg,
            "oral_mg_day": self.oral_mg_day,
            "visits": [
                {
                    "visit": v.visit,
                    "day": v.day,
                    "cumulative_mg": v.cumulative_mg,
                    "oral_mg_day": v.oral_mg_day,
                    **({"adherent": v.adherent} if self.taper is not None else {}),
                }
                for v in self.visits
            ],
            "taper": taper,
            "taper_note": self.taper_note,
        }


def taper_reveals_arm(protocol: Protocol) -> bool:
    """True when the arms' GC tapers differ: adherence to the participant's taper then reveals the arm."""
    return len({arm.gc_taper for arm in protocol.arms}) > 1


def _rows_frame(subject_id: str, rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a one-participant ``gc_doses`` table (an ongoing row's ``end_day`` is NaN)."""
    frame = pd.DataFrame([{**row, "subject_id": subject_id} for row in rows], columns=column_names("gc_doses"))
    frame["end_day"] = pd.to_numeric(frame["end_day"], errors="coerce")
    return frame


def summarise_gc_log(
    protocol: Protocol,
    rows: Sequence[dict[str, Any]],
    *,
    as_of_day: int,
    arm: str | None,
    show_taper: bool,
) -> GcLogSummary:
    """Cumulative dose and (when ``show_taper``) taper adherence of one participant on days 0 .. ``as_of_day``.

    ``rows``: dicts with ``start_day``, ``end_day`` (None = ongoing), ``dose_mg_day``, ``reason``.
    ``arm``: the participant's arm, needed for adherence when the arms' tapers differ; when they do
    not, the common taper is used. ``show_taper`` False: no schedule, adherence or arm in the result
    (``taper_note`` says why).
    """
    sid = "S"
    as_of = max(int(as_of_day), 0)
    gc = _rows_frame(sid, rows)
    horizon = as_of + 1
    all_daily = daily_gc_doses(gc, sid, horizon, oral_only=False)
    oral_daily = daily_gc_doses(gc, sid, horizon, oral_only=True)
    tapers = {a.id: a.gc_taper for a in protocol.arms}
    common = next(iter(tapers.values())) if not taper_reveals_arm(protocol) else None
    taper = common if common is not None else (tapers.get(arm, ()) if arm is not None else ())
    note = ""
    if not any(tapers.values()):
        note = "The protocol declares no glucocorticoid taper."
    elif not show_taper:
        note = "Taper adherence is hidden: the arms' tapers differ, so it would reveal the allocation."
    elif not taper:
        note = "The participant's arm has no glucocorticoid taper."
    shown = show_taper and bool(taper)
    reached = [v for v in protocol.visits if round(7.0 * v.week) <= as_of]
    visits_gc: list[VisitGc] = []
    if reached:
        frame = pd.DataFrame({"subject_id": [sid] * len(reached), "week": [float(v.week) for v in reached]})
        subj_arm = arm if arm is not None else next((a for a, t in tapers.items() if t == common), "")
        subjects = pd.DataFrame({"subject_id": [sid], "arm": [subj_arm if shown else ""]})
        derived, _record = derive_vars_gc_from_log(frame, gc, subjects, protocol)
        adherent = derived["gc_taper_adherent"] if "gc_taper_adherent" in derived.columns else None
        for i, v in enumerate(reached):
            ok = None
            if shown and adherent is not None and not pd.isna(adherent.iloc[i]):
                ok = bool(adherent.iloc[i])
            visits_gc.append(
                VisitGc(
                    v.code,
                    round(7.0 * v.week),
                    float(derived["cumulative_gc_mg"].iloc[i]),
                    float(derived["oral_gc_mg_day"].iloc[i]),
                    ok,
                )
            )
    adherence = None
    if shown:
        tolerance = float(protocol.parameters.gc_taper_tolerance_mg_day)
        limit = scheduled_dose(taper, np.arange(horizon, dtype=np.float64)) + tolerance
        over = np.flatnonzero(oral_daily > limit + _EPS)
        adherence = TaperAdherence(
            arm=arm if taper_reveals_arm(protocol) else None,
            schedule=tuple((float(s.from_week), float(s.to_week), float(s.dose_mg_day or 0.0)) for s in taper),
            tolerance_mg_day=tolerance,
            adherent=len(over) == 0,
            days_over=len(over),
            first_day_over=int(over[0]) if len(over) else None,
        )
    return GcLogSummary(
        as_of_day=as_of,
        cumulative_mg=float(all_daily.sum()),
        oral_mg_day=float(oral_daily[as_of]) if horizon > 0 else 0.0,
        visits=tuple(visits_gc),
        taper=adherence,
        taper_note=note,
    )
