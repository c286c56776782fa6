"""Small hand-made canonical datasets with hand-calculable numbers."""

from __future__ import annotations

import pandas as pd


def visit_row(
    subject_id: str,
    week: float,
    *,
    crp_mg_l: float = 5.0,
    pain: float = 1.0,
    physician: float = 1.0,
    stiffness: float = 10.0,
    eul: int = 0,
    gc: float = 0.0,
    **extra: float,
) -> dict[str, object]:
    """One visit; defaults give CRP PMR-AS = 0.5 + 1 + 1 + 1 + 0 = 3.5 (responder without GC)."""
    row: dict[str, object] = {
        "subject_id": subject_id,
        "week": week,
        "crp_mg_l": crp_mg_l,
        "esr_mm_h": 20.0,
        "pain_vas": pain,
        "patient_global_vas": 2.0,
        "fatigue_vas": 2.0,
        "physician_global_vas": physician,
        "morning_stiffness_min": stiffness,
        "upper_limb_elevation": eul,
        "oral_gc_mg_day": gc,
    }
    row.update(extra)
    return row


def make_trial(
    events_t: int, n_t: int, events_c: int, n_c: int, *, sites: int = 2
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``n_t`` baricitinib and ``n_c`` placebo participants, each seen at W0 and W12.

    At W12 the first ``events_*`` participants of an arm respond (CRP PMR-AS 3.5, no GC); the others
    have CRP PMR-AS 3.5 but take 5 mg/day prednisone (non-responders by the GC rule).
    Baseline (W0): CRP 30 mg/L, pain 6, physician 6, stiffness 120, EUL 1 -> 3 + 6 + 6 + 12 + 1 = 28.
    """
    subjects, visits = [], []
    for arm, events, n in (("baricitinib", events_t, n_t), ("placebo", events_c, n_c)):
        for i in range(n):
            sid = f"{arm[0].upper()}{i:03d}"
            subjects.append(
                {
                    "subject_id": sid,
                    "site_id": f"S{i % sites}",
                    "arm": arm,
                    "randomised_on": "2021-01-04",
                    "age_years": 70.0,
                    "sex": "female" if i % 2 == 0 else "male",
                    "status": "completed",
                }
            )
            visits.append(visit_row(sid, 0, crp_mg_l=30.0, pain=6.0, physician=6.0, stiffness=120.0, eul=1))
            visits.append(visit_row(sid, 12, gc=0.0 if i < events else 5.0))
    ae = pd.DataFrame(
        {
            "subject_id": pd.Series([], dtype=object),
            "soc": pd.Series([], dtype=object),
            "term": pd.Series([], dtype=object),
            "serious": pd.Series([], dtype=bool),
        }
    )
    return pd.DataFrame(subjects), pd.DataFrame(visits), ae
