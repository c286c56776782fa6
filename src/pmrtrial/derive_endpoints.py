"""Derivations across visits and from the optional event tables: GC exposure from the dosing log,
window composites and time-to-event datasets (admiral style: each returns a new DataFrame).

Conventions
-----------
- Day 0 is the randomisation day; a visit's day is its scheduled day, ``7 x week``.
- The ``gc_doses`` log gives prednisone-equivalent mg/day over ``[start_day, end_day]`` (inclusive;
  an empty ``end_day`` runs to the end of follow-up). Overlapping rows add up (a taper plus a rescue).
  A participant without any row took no glucocorticoid. Rows with ``reason: injection`` count in the
  cumulative dose and in "GC-free", but not in the *oral* dose (``oral_gc_mg_day``, ``on_oral_gc``,
  taper adherence).
- When the log is present it wins over the visit-level ``oral_gc_mg_day``: the derivation record
  (:attr:`GcLogRecord.note`) says so and counts the visits where the two disagree.
- Window composites apply their missing-visit rule in one place, :func:`apply_missing_visit_rule`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pmrtrial.derive import compute_predicate
from pmrtrial.protocol import Endpoint, Protocol
from pmrtrial.protocol.model import DoseSegment, WindowComposite
from pmrtrial.scores import detect_flare

__all__ = [
    "GcLogRecord",
    "apply_missing_visit_rule",
    "daily_gc_doses",
    "derive_time_to_event",
    "derive_var_window_composite",
    "derive_vars_gc_from_log",
    "derive_vars_gc_from_visits",
    "scheduled_dose",
]

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def _tri(values: _FloatArray, index: pd.Index) -> pd.Series:
    out = pd.array(values == 1.0, dtype="boolean")
    out[np.isnan(values)] = pd.NA
    return pd.Series(out, index=index)


# -- glucocorticoid exposure ---------------------------------------------------------------------


def daily_gc_doses(gc_doses: pd.DataFrame, subject_id: str, horizon_day: int, *, oral_only: bool) -> _FloatArray:
    """Daily dose (mg/day) of one participant on days ``0 .. horizon_day - 1`` from the log.

    Rows overlapping in time add up; ``end_day`` missing = ongoing; ``oral_only`` drops rows whose
    ``reason`` is ``injection``.
    """
    doses = np.zeros(max(horizon_day, 0))
    rows = gc_doses[gc_doses["subject_id"].astype(str) == str(subject_id)]
    if oral_only and "reason" in rows.columns:
        rows = rows[rows["reason"].astype(object) != "injection"]
    for start, end, dose in zip(
        pd.to_numeric(rows["start_day"]),
        pd.to_numeric(rows["end_day"]),
        pd.to_numeric(rows["dose_mg_day"]),
        strict=True,
    ):
        lo = max(int(start), 0)
        hi = horizon_day - 1 if pd.isna(end) else min(int(end), horizon_day - 1)
        if hi >= lo:
            doses[lo : hi + 1] += float(dose)
    return doses


def scheduled_dose(segments: Sequence[DoseSegment], days: _FloatArray) -> _FloatArray:
    """The taper's mg/day on each day: the segment with ``7 from_week <= day < 7 to_week``; 0 outside."""
    out = np.zeros(len(days))
    for seg in segments:
        inside = (days >= 7.0 * seg.from_week) & (days < 7.0 * seg.to_week)
        out[inside] = float(seg.dose_mg_day or 0.0)
    return out


@dataclass(frozen=True)
class GcLogRecord:
    """How the GC variables were derived: ``source`` is ``gc_doses`` or ``visits``; ``note`` the sentence
    for the methods; ``disagreements`` = visits whose recorded ``oral_gc_mg_day`` differs from the log."""

    source: str
    note: str
    disagreements: int = 0


def derive_vars_gc_from_log(
    visits: pd.DataFrame, gc_doses: pd.DataFrame, subjects: pd.DataFrame, protocol: Protocol
) -> tuple[pd.DataFrame, GcLogRecord]:
    """Add or replace, at every visit row, from the ``gc_doses`` log:

    - ``oral_gc_mg_day``: oral dose on the visit day (replaces the recorded value: the log wins);
    - ``cumulative_gc_mg``: all GC (oral and injected) over days ``0 .. 7 week - 1``;
    - ``gc_free``: no GC at all on the visit day;
    - ``gc_taper_adherent`` (when the participant's arm declares ``gc_taper``): on every day from the
      previous scheduled visit's day to the day before this visit, oral dose <= taper dose +
      ``parameters.gc_taper_tolerance_mg_day``; <NA> at the first scheduled visit (empty interval).

    ``subjects`` supplies each participant's arm.
    """
    out = visits.copy()
    weeks = out["week"].to_numpy(dtype=np.float64)
    visit_days = np.rint(7.0 * weeks).astype(int)
    schedule = sorted(round(7.0 * v.week) for v in protocol.visits)
    horizon = int(max([*schedule, *(visit_days.tolist() or [0])])) + 1
    arms = dict(zip(subjects["subject_id"].astype(str), subjects["arm"].astype(str), strict=True))
    tolerance = protocol.parameters.gc_taper_tolerance_mg_day
    oral = np.full(len(out), np.nan)
    cumulative = np.full(len(out), np.nan)
    free = np.full(len(out), np.nan)
    adherent = np.full(len(out), np.nan)
    subj = out["subject_id"].astype(str).to_numpy()
    has_taper = {a.id: bool(a.gc_taper) for a in protocol.arms}
    for sid in np.unique(subj):
        rows = np.flatnonzero(subj == sid)
        oral_daily = daily_gc_doses(gc_doses, sid, horizon, oral_only=True)
        all_daily = daily_gc_doses(gc_doses, sid, horizon, oral_only=False)
        running = np.concatenate([[0.0], np.cumsum(all_daily)])
        arm = arms.get(sid)
        taper = protocol.get_arm(arm).gc_taper if arm is not None and has_taper.get(arm) else ()
        limit = scheduled_dose(taper, np.arange(horizon, dtype=np.float64)) + tolerance if taper else None
        for r in rows:
            day = visit_days[r]
            oral[r] = oral_daily[day]
            free[r] = float(all_daily[day] == 0.0)
            cumulative[r] = running[day]
            if limit is not None:
                previous = [d for d in schedule if d < day]
                start = previous[-1] if previous else 0
                if day > start:
                    adherent[r] = float(bool((oral_daily[start:day] <= limit[start:day] + 1e-9).all()))
    disagreements = 0
    if "oral_gc_mg_day" in visits.columns:
        recorded = pd.to_numeric(visits["oral_gc_mg_day"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        known = ~np.isnan(recorded)
        disagreements = int((np.abs(recorded[known] - oral[known]) > 1e-9).sum())
    out["oral_gc_mg_day"] = oral
    out["cumulative_gc_mg"] = cumulative
    out["gc_free"] = _tri(free, out.index)
    if any(has_taper.values()):
        out["gc_taper_adherent"] = _tri(adherent, out.index)
    note = (
        "Glucocorticoid exposure from the gc_doses log (it wins over the visit-level oral_gc_mg_day): oral dose on "
        "the visit day, cumulative dose (oral and injected) from day 0 to the day before the visit, GC-free = no "
        "glucocorticoid on the visit day"
        + (
            f", taper adherence = oral dose <= the arm's taper + {tolerance:g} mg/day on every day since the "
            "previous scheduled visit"
            if any(has_taper.values())
            else ""
        )
        + (f"; {disagreements} visit(s) recorded an oral_gc_mg_day that differs from the log" if disagreements else "")
        + "."
    )
    return out, GcLogRecord("gc_doses", note, disagreements)


def derive_vars_gc_from_visits(visits: pd.DataFrame) -> pd.DataFrame:
    """Add ``gc_free`` from the visit-level ``oral_gc_mg_day`` (0 -> True) when there is no log."""
    out = visits.copy()
    if "oral_gc_mg_day" in visits.columns:
        dose = pd.to_numeric(visits["oral_gc_mg_day"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        out["gc_free"] = _tri(np.where(np.isnan(dose), np.nan, (dose == 0).astype(float)), visits.index)
    return out


# -- window composites ---------------------------------------------------------------------------


def apply_missing_visit_rule(
    decided: _FloatArray, any_missing: np.ndarray[Any, Any], all_missing: np.ndarray[Any, Any], *, kind: str, rule: str
) -> _FloatArray:
    """The one place where a window's missing visits are handled.

    ``decided`` is 1/0 where the assessed visits already decide the composite (a failure for
    ``every_visit``, a success for ``first_by``) and NaN elsewhere. Otherwise, with no missing visit
    the answer is the complete one (``every_visit`` -> 1, ``first_by`` -> 0); with a missing visit:
    ``ignore`` gives that same answer from the assessed visits (NaN when none was assessed),
    ``failure`` gives 0, ``undecided`` gives NaN.
    """
    complete = 1.0 if kind == "every_visit" else 0.0
    if rule == "ignore":
        when_missing = np.where(all_missing, np.nan, complete)
    elif rule == "failure":
        when_missing = np.zeros(len(decided))
    else:
        when_missing = np.full(len(decided), np.nan)
    undecided = np.where(any_missing, when_missing, complete)
    return np.where(np.isnan(decided), undecided, decided)


def derive_var_window_composite(
    visits: pd.DataFrame, composite: WindowComposite, weeks: Sequence[float]
) -> pd.DataFrame:
    """Add the column ``composite.id``: one three-valued value per participant on each of their rows.

    ``weeks`` is the protocol's schedule; the window's visits are the scheduled weeks in
    ``[from_week, to_week]``. A scheduled visit without a record, or with the predicate undecided,
    is missing and handled by :func:`apply_missing_visit_rule` with ``composite.missing_visit``.
    """
    window = [float(w) for w in weeks if composite.from_week <= float(w) <= composite.to_week]
    holds = compute_predicate(composite.predicate, visits)
    frame = pd.DataFrame(
        {"subject_id": visits["subject_id"].astype(str).to_numpy(), "week": visits["week"].to_numpy(), "p": holds}
    )
    frame = frame[frame["week"].isin(window)].drop_duplicates(["subject_id", "week"])
    subjects = pd.Index(pd.unique(visits["subject_id"].astype(str)))
    matrix = (
        frame.pivot(index="subject_id", columns="week", values="p").reindex(index=subjects, columns=window)
    ).to_numpy(dtype=np.float64)
    if not window:
        matrix = np.full((len(subjects), 0), np.nan)
    missing = np.isnan(matrix)
    any_missing, all_missing = missing.any(axis=1), missing.all(axis=1)
    if composite.kind == "every_visit":
        decided = np.where((matrix == 0.0).any(axis=1), 0.0, np.nan)
    else:
        decided = np.where((matrix == 1.0).any(axis=1), 1.0, np.nan)
    value = apply_missing_visit_rule(
        decided, any_missing, all_missing, kind=composite.kind, rule=composite.missing_visit
    )
    lookup = pd.Series(value, index=subjects)
    out = visits.copy()
    per_row: _FloatArray = np.asarray(
        visits["subject_id"].astype(str).map(lookup).to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64
    )
    out[composite.id] = _tri(per_row, visits.index)
    return out


# -- time to event -------------------------------------------------------------------------------


def _first_true_week(visits: pd.DataFrame, flags: _FloatArray, by_week: float | None) -> pd.Series:
    frame = pd.DataFrame(
        {"subject_id": visits["subject_id"].astype(str).to_numpy(), "week": visits["week"], "f": flags}
    )
    frame = frame[frame["f"] == 1.0]
    if by_week is not None:
        frame = frame[frame["week"] <= by_week]
    return frame.groupby("subject_id")["week"].min()


def derive_time_to_event(
    visits: pd.DataFrame,
    subjects: pd.DataFrame,
    endpoint: Endpoint,
    protocol: Protocol,
    *,
    flares: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The analysis dataset of a time-to-event endpoint: ``subject_id, site_id, arm, time_days, event``.

    ``visits`` must carry the derived variables (``crp_pmr_as`` for a flare event; the origin's
    predicate variables). One row per participant at risk: every randomised participant for an origin
    at randomisation; for a landmark origin, those who reached it (their origin is the day of the first
    visit at which the landmark predicate holds, by ``by_week``). The event is the first flare at a
    visit after the origin (Dejaco 2011 via :func:`pmrtrial.scores.detect_flare`, against the baseline
    or the origin CRP PMR-AS), or the first (confirmed) row of the ``flares`` table after the origin.
    Participants without an event are censored at their last visit after the origin (day of the origin
    when there is none), and everyone at ``end_week`` (default: the last scheduled visit).

    Raises
    ------
    ValueError
        The endpoint is not time to event, or its event table is not supplied.
    """
    tte = endpoint.time_to_event
    if tte is None:
        raise ValueError(f"Endpoint {endpoint.id!r} is not a time-to-event endpoint.")
    end_day = 7.0 * (tte.end_week if tte.end_week is not None else max(v.week for v in protocol.visits))
    sid = visits["subject_id"].astype(str).to_numpy()
    week = visits["week"].to_numpy(dtype=np.float64)
    base = subjects[["subject_id", "site_id", "arm"]].copy()
    base["subject_id"] = base["subject_id"].astype(str)
    if tte.origin.kind == "landmark":
        assert tte.origin.predicate is not None
        origin_week = _first_true_week(visits, compute_predicate(tte.origin.predicate, visits), tte.origin.by_week)
        base = base[base["subject_id"].isin(origin_week.index)].copy()
        base["origin_day"] = 7.0 * base["subject_id"].map(origin_week).to_numpy(dtype=np.float64)
    else:
        base["origin_day"] = 0.0
    origin = dict(zip(base["subject_id"], base["origin_day"], strict=True))
    row_origin = np.array([origin.get(s, np.nan) for s in sid])
    day = 7.0 * week
    after = (day > row_origin) & (day <= end_day)
    last = pd.Series(day[after]).groupby(sid[after]).max()
    if tte.event.flare is not None:
        score = pd.to_numeric(visits["crp_pmr_as"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if tte.event.flare.reference == "origin":
            at_origin = day == row_origin
        else:
            base_weeks = [v.week for v in protocol.visits if v.phase == "baseline"]
            at_origin = week == (float(base_weeks[0]) if base_weeks else 0.0)
        ref = pd.Series(score[at_origin], index=sid[at_origin])
        ref = ref[~ref.index.duplicated()]
        reference = pd.Series(sid).map(ref).to_numpy(dtype=np.float64, na_value=np.nan)
        is_flare = np.asarray(detect_flare(score, reference_score=reference).is_flare, dtype=object)
        hit = after & np.array([v is True or v == 1 for v in is_flare], dtype=bool)
        first_event = pd.Series(day[hit]).groupby(sid[hit]).min()
    else:
        assert tte.event.dataset is not None
        if flares is None:
            raise ValueError(
                f"Endpoint {endpoint.id!r} needs the {tte.event.dataset.table!r} table, which the datasets lack."
            )
        fl = flares.copy()
        fl["subject_id"] = fl["subject_id"].astype(str)
        if tte.event.dataset.confirmed_only and "confirmed" in fl.columns:
            fl = fl[fl["confirmed"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
        fl_day = pd.to_numeric(fl["day"]).to_numpy(dtype=np.float64)
        fl_origin = fl["subject_id"].map(origin).to_numpy(dtype=np.float64, na_value=np.nan)
        keep = (fl_day > fl_origin) & (fl_day <= end_day)
        first_event = pd.Series(fl_day[keep]).groupby(fl["subject_id"].to_numpy()[keep]).min()
    event_day = base["subject_id"].map(first_event).to_numpy(dtype=np.float64, na_value=np.nan)
    last_day = base["subject_id"].map(last).to_numpy(dtype=np.float64, na_value=np.nan)
    origin_day = base["origin_day"].to_numpy(dtype=np.float64)
    censor_day = np.where(np.isnan(last_day), origin_day, last_day)
    has_event = ~np.isnan(event_day)
    stop = np.where(has_event, event_day, censor_day)
    return pd.DataFrame(
        {
            "subject_id": base["subject_id"].to_numpy(),
            "site_id": base["site_id"].astype(str).to_numpy(),
            "arm": base["arm"].astype(str).to_numpy(),
            "time_days": stop - origin_day,
            "event": has_event.astype(int),
        }
    )
