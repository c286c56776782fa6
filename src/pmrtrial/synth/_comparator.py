"""Building blocks shared by the SEMAPHORE and SAPHYR twins (SYNTHETIC — not trial data).

- :class:`ComparatorTwin`: the five canonical tables of a twin (``subjects``, ``visits``, ``adverse_events``,
  ``gc_doses``, ``flares``) and its :class:`~pmrtrial.synth.report.TwinReport`;
- :func:`taper_rows`: a participant's ``gc_doses`` rows for an arm's ``gc_taper`` (optionally cut at a day);
- :func:`oral_dose_on`: the logged oral dose on one day (what a visit records);
- :func:`visit_scores`: PMR-AS components of one visit in a named state, on their recording grids;
- :func:`efron_cox_binary`: a fast Cox fit (one binary covariate, Efron ties) used only inside the searches;
  the twins' reports recompute every figure with :func:`pmrtrial.stats.cox_ph` (lifelines).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pmrtrial.protocol.model import DoseSegment
from pmrtrial.synth.report import SYNTHETIC_LABEL, TwinReport

__all__ = [
    "ComparatorTwin",
    "adverse_event_rows",
    "efron_cox_binary",
    "oral_dose_on",
    "subject_frame",
    "taper_rows",
    "visit_scores",
]

#: z for a two-sided 95% interval (scipy.stats.norm.ppf(0.975)).
Z975 = 1.959963984540054


@dataclass(frozen=True)
class ComparatorTwin:
    """A comparator trial's twin: the canonical tables and the report against the publication.

    Every frame carries ``attrs["synthetic"] = True`` and ``attrs["label"] = SYNTHETIC_LABEL``.
    """

    trial: str
    subjects: pd.DataFrame
    visits: pd.DataFrame
    adverse_events: pd.DataFrame
    gc_doses: pd.DataFrame
    flares: pd.DataFrame
    report: TwinReport
    seed: int
    label: str = SYNTHETIC_LABEL
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "synthetic": True,
            "trial": self.trial,
            "seed": self.seed,
            "n_subjects": len(self.subjects),
            "n_visits": len(self.visits),
            "n_adverse_events": len(self.adverse_events),
            "n_gc_doses": len(self.gc_doses),
            "n_flares": len(self.flares),
            "notes": list(self.notes),
            "report": self.report.to_dict(),
        }


def label_frames(*frames: pd.DataFrame) -> None:
    for frame in frames:
        frame.attrs["synthetic"] = True
        frame.attrs["label"] = SYNTHETIC_LABEL


def subject_frame(
    rng: np.random.Generator,
    arms: Sequence[str],
    prefix: str,
    n_sites: int,
    start: str,
    end: str,
    *,
    n_female: int | None = None,
) -> pd.DataFrame:
    """One row per participant (``arms`` in allocation order): id ``<prefix>-<site>-<nnn>``, site, arm,
    randomisation date (sorted within the recruitment period), age, sex (exactly ``n_female`` women when given,
    else each with probability 0.69), status ``completed``."""
    n = len(arms)
    sites = np.sort(rng.integers(1, n_sites + 1, size=n))
    rng.shuffle(sites)
    lo, hi = np.datetime64(start), np.datetime64(end)
    days = np.sort(rng.integers(0, int((hi - lo).astype(int)) + 1, size=n))
    dates = (lo + days.astype("timedelta64[D]")).astype("datetime64[ns]")
    return pd.DataFrame(
        {
            "subject_id": [f"{prefix}-{sites[i]:02d}-{i + 1:03d}" for i in range(n)],
            "site_id": [f"S{s:02d}" for s in sites],
            "arm": list(arms),
            "randomised_on": dates,
            "age_years": np.round(np.clip(rng.normal(69.5, 7.5, n), 50.5, 90.0), 1),
            "sex": _sexes(rng, n, n_female),
            "status": "completed",
        }
    )


def adverse_event_rows(
    rng: np.random.Generator,
    subjects: pd.DataFrame,
    plan: Mapping[tuple[str, str], Sequence[int]],
    arms: Sequence[str],
    *,
    last_week: int,
) -> pd.DataFrame:
    """The adverse-event listing: for each (SOC, term), ``plan`` gives the number of participants per arm (in
    ``arms`` order) with one non-serious, mild, recovered event, onset in weeks 1 .. ``last_week`` - 1."""
    rows = []
    for (soc, term), counts in plan.items():
        for arm, k in zip(arms, counts, strict=True):
            ids = subjects.loc[subjects["arm"] == arm, "subject_id"].to_numpy()
            for sid in rng.choice(ids, size=k, replace=False):
                rows.append({"subject_id": str(sid), "soc": soc, "term": term, "serious": False, "severity": "mild",
                             "onset_week": float(rng.integers(1, last_week)), "outcome": "recovered"})  # fmt: skip
    return pd.DataFrame(rows).sort_values(["subject_id", "onset_week"], ignore_index=True)


def _sexes(rng: np.random.Generator, n: int, n_female: int | None) -> np.ndarray:
    if n_female is None:
        return np.where(rng.random(n) < 0.69, "female", "male")
    out = np.full(n, "male", dtype=object)
    out[rng.choice(n, size=n_female, replace=False)] = "female"
    return out


def taper_rows(subject_id: str, taper: Sequence[DoseSegment], until_day: int | None = None) -> list[dict[str, Any]]:
    """``gc_doses`` rows (reason ``taper``) that follow ``taper`` exactly, stopping after ``until_day``."""
    rows = []
    for seg in taper:
        start, end = round(7 * seg.from_week), round(7 * seg.to_week) - 1
        if until_day is not None:
            end = min(end, until_day)
        if end >= start and seg.dose_mg_day:
            rows.append(
                {"subject_id": subject_id, "start_day": start, "end_day": end, "dose_mg_day": float(seg.dose_mg_day),
                 "reason": "taper"}
            )  # fmt: skip
    return rows


def oral_dose_on(rows: Sequence[dict[str, Any]], day: int) -> float:
    """The oral dose (mg/day) on ``day`` from a participant's log rows (overlapping rows add up)."""
    total = 0.0
    for r in rows:
        end = r["end_day"]
        if r.get("reason") != "injection" and r["start_day"] <= day and (end is None or pd.isna(end) or day <= end):
            total += float(r["dose_mg_day"])
    return round(total, 6)


#: Ranges of the PMR-AS components by state: CRP mg/L, pain VAS, physician VAS, morning stiffness min, EUL.
_STATES: dict[
    str, tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[int, int], tuple[int, int]]
]
_STATES = {
    "relapse": ((12.0, 45.0), (4.5, 8.0), (3.5, 7.0), (45, 150), (1, 2)),
    "active": ((12.0, 35.0), (4.0, 6.5), (3.0, 5.5), (30, 90), (1, 2)),
    "active_il6": ((1.0, 6.0), (4.5, 7.0), (3.5, 5.5), (30, 90), (1, 2)),
    "quiet": ((1.0, 8.0), (0.0, 2.0), (0.0, 1.5), (0, 15), (0, 0)),
    "quiet_il6": ((0.2, 3.0), (0.0, 2.0), (0.0, 1.5), (0, 15), (0, 0)),
    "quiet_crp_high": ((12.0, 20.0), (0.0, 1.5), (0.0, 1.0), (0, 10), (0, 0)),
}


def visit_scores(rng: np.random.Generator, state: str) -> dict[str, float]:
    """PMR-AS components in ``state`` on their grids (CRP and VAS to 0.1, minutes to 5, EUL 0-3) and ESR.

    ``quiet*`` states keep CRP PMR-AS <= 0.8 + 2 + 1.5 + 1.5 = 5.8 (below the Dejaco 9.35, and 2.0 + 1.5 + 1.0
    + 1.0 + 0 = 5.5 with CRP <= 20 mg/L); ``active*``/``relapse`` states keep it >= 0.1 + 4 + 3 + 3 + 1 = 11.1.
    """
    crp, pain, phys, ms, eul = _STATES[state]
    crp_v = round(float(rng.uniform(*crp)), 1)
    return {
        "crp_mg_l": crp_v,
        "esr_mm_h": float(max(2, round(crp_v * 1.1 + rng.uniform(2, 12)))),
        "pain_vas": round(float(rng.uniform(*pain)), 1),
        "patient_global_vas": round(float(rng.uniform(*pain)), 1),
        "physician_global_vas": round(float(rng.uniform(*phys)), 1),
        "morning_stiffness_min": float(5 * round(rng.uniform(*ms) / 5)),
        "upper_limb_elevation": float(rng.integers(eul[0], eul[1] + 1)),
    }


def efron_cox_binary(time: np.ndarray, event: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """(log hazard ratio, SE) of a Cox model with one binary covariate, Efron ties, by Newton's method.

    A search helper only: one row of the simulator's vectorised fit
    (:func:`pmrtrial.design.simulate_tte.cox_efron_statistics`); the reported figures come from
    :func:`pmrtrial.stats.cox_ph`.
    """
    from pmrtrial.design.simulate_tte import cox_efron_statistics

    fit = cox_efron_statistics(np.asarray(time, dtype=float)[None, :], np.asarray(event)[None, :], np.asarray(x))
    return float(fit.log_hr[0]), float(fit.se[0])
