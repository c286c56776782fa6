"""The synthetic twin of SAPHYR (sarilumab vs placebo in relapsing PMR during a glucocorticoid taper).

SYNTHETIC — not trial data. 60 sarilumab and 58 placebo participants (abstract), 52 weeks, every scheduled
visit attended. Built by construction, then searched:

1. Roles per arm (counts fixed, who gets which role drawn from the seed):
   ``sustained`` (17 vs 6: remission by week 12, no flare, CRP normal and on the taper to week 52), ``flare``
   (30 vs 40: a confirmed flare after remission), ``held`` (remission, no flare, but the taper held above the
   schedule for four weeks: not adherent), ``crp`` (placebo: remission, no flare, CRP above 10 mg/L at one
   visit after week 12) and ``active`` (6 vs 6: no remission by week 12, not at risk of a flare after remission).
   At risk after remission: 54 vs 52 participants, 30 vs 40 events, 70 in all: the interval 0.35-0.90
   needs SE(log HR) in [(ln 0.895 - ln 0.355)/3.92, (ln 0.905 - ln 0.345)/3.92] = [0.236, 0.246], and
   sqrt(1/30 + 1/40) = 0.2415 (70 events, close to the 4/0.241^2 = 69 of a balanced split).
2. Flare times: the remission week (the landmark) and the days to flare are drawn, then improved by a greedy
   search until the Cox (Efron) HR and its Wald limits print as 0.56 (0.35 to 0.90).
3. The ``gc_doses`` log: each arm's ``gc_taper`` from the protocol, plus rescue from the flare day (or a
   held taper, or persistent activity), sized so that the median cumulative dose to week 52 is exactly
   777 mg (sarilumab) and 2044 mg (placebo); the visits record the logged dose of their day.
4. Visits: PMR-AS components by state (relapse at baseline, active before the landmark, quiet after it,
   active at the first visit after a flare); under sarilumab CRP stays low (IL-6 blockade).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pmrtrial.derive_endpoints import derive_time_to_event
from pmrtrial.protocol import Protocol, load_protocol
from pmrtrial.published import load_published
from pmrtrial.scores import compute_crp_pmr_as
from pmrtrial.stats import cox_ph, estimate_risk_difference
from pmrtrial.synth._comparator import (
    Z975,
    ComparatorTwin,
    adverse_event_rows,
    efron_cox_binary,
    label_frames,
    oral_dose_on,
    subject_frame,
    taper_rows,
    visit_scores,
)
from pmrtrial.synth.report import TwinCheck, TwinReport, count_check, pct_check, value_check

__all__ = ["generate_saphyr_twin"]

ARMS = ("sarilumab", "placebo")
#: Roles per arm (see the module docstring).
ROLES: Mapping[str, Mapping[str, int]] = {
    "sarilumab": {"sustained": 17, "flare": 32, "held": 5, "active": 6},
    "placebo": {"sustained": 6, "flare": 40, "crp": 6, "active": 6},
}
_LANDMARK_WEEKS = (2, 4, 8, 12)
#: Withdrawals (treatment discontinuation 12% vs 7%: 7/60 and 4/58) by role, and the weeks of their last visit.
_WITHDRAWN: Mapping[str, Mapping[str, int]] = {"sarilumab": {"active": 4, "held": 3}, "placebo": {"active": 4}}
_LAST_VISIT_WEEKS = {"active": (12, 16, 20, 24, 28, 36), "held": (28, 32, 36, 40)}
_END_DAY = 364
#: Printed figures and the accepted distance: 0.004 (not the printed half-width 0.005), so that the reproduced
#: values stay clear of the rounding boundaries.
_TARGET = {"hr": (0.56, 0.004), "lo": (0.35, 0.004), "hi": (0.90, 0.004)}
_MEDIAN = {"sarilumab": 777.0, "placebo": 2044.0}
_AE_PLAN = {  # participants with the event: neutropenia 15% vs 0%, arthralgia 15% vs 5%, diarrhoea 12% vs 2%
    ("Blood and lymphatic system disorders", "Neutropenia"): (9, 0),
    ("Musculoskeletal and connective tissue disorders", "Arthralgia"): (9, 3),
    ("Gastrointestinal disorders", "Diarrhoea"): (7, 1),
    ("Infections and infestations", "Upper respiratory tract infection"): (8, 7),
}


def _printed_ok(hr: float, lo: float, hi: float) -> bool:
    return all(abs(v - _TARGET[k][0]) < _TARGET[k][1] - 1e-6 for k, v in (("hr", hr), ("lo", lo), ("hi", hi)))


def _loss(hr: float, lo: float, hi: float) -> float:
    # the largest distance from a printed figure: the SE is set by the event counts (lo/HR and hi/HR are nearly
    # fixed), so the search balances the HR between its own and its limits' rounding intervals
    return max(abs(v - _TARGET[k][0]) for k, v in (("hr", hr), ("lo", lo), ("hi", hi)))


def _search_flare_times(
    rng: np.random.Generator, origin_day: np.ndarray, has_event: np.ndarray, treated: np.ndarray, last_day: np.ndarray
) -> np.ndarray:
    """Days from the landmark to the flare (events) or to the last visit (censored: week 52, or the last visit
    before withdrawal) with the printed HR and CI."""
    follow = last_day - origin_day
    rate = np.where(treated == 1, 0.56, 1.0) * (np.log(1 / 0.23) / 300.0)
    # exponential times truncated to the follow-up (inverse CDF), whole days in [1, follow - 1]
    u = rng.random(len(follow))
    draw = np.ceil(-np.log(1 - u * (1 - np.exp(-rate * (follow - 1)))) / rate)
    time: np.ndarray = np.asarray(np.where(has_event, np.clip(draw, 1, follow - 1), follow), dtype=float)

    def fit(t: np.ndarray) -> tuple[float, float, float]:
        b, se = efron_cox_binary(t, has_event.astype(int), treated)
        return float(np.exp(b)), float(np.exp(b - Z975 * se)), float(np.exp(b + Z975 * se))

    current = fit(time)
    best = _loss(*current)
    events = np.flatnonzero(has_event)
    for _ in range(4000):
        if _printed_ok(*current):
            return time
        i = int(rng.choice(events))
        old = time[i]
        time[i] = float(rng.integers(1, int(follow[i])))
        trial = fit(time)
        loss = _loss(*trial)
        if loss < best:
            best, current = loss, trial
        else:
            time[i] = old
    raise RuntimeError(f"the flare-time search did not reach the printed HR 0.56 (0.35 to 0.90): {current}")


def _extras(
    rng: np.random.Generator, roles: list[str], arm: str, base: float, available: np.ndarray, completer: np.ndarray
) -> list[tuple[float, int]]:
    """Extra (above-taper) glucocorticoid per participant as (mg/day, days), with the printed median exactly.

    The median is taken over the ``completer`` participants (those with a week-52 visit, where the endpoint is
    evaluated). Participants on the taper alone sit at ``base``; the middle value (n odd) or the middle two
    (n even) get ``median - base`` (3 mg/day for 7 days = 21 mg in both arms); the values before them lie
    strictly below (0.5 mg/day for 1-41 days) and the rest strictly above (2.5-10 mg/day, at most 84 days).
    ``available`` is the number of days left after each participant's rescue start.
    """
    n = int(np.sum(completer))
    target = _MEDIAN[arm] - base
    if abs(target - 21.0) > 1e-9:  # pragma: no cover - guards a change of the protocol's taper
        raise ValueError(f"the {arm} taper schedules {base:g} mg; the twin expects the median {_MEDIAN[arm]:g} - 21")
    on_taper = [i for i, r in enumerate(roles) if r in ("sustained", "crp")]
    others = [int(i) for i in rng.permutation([i for i, r in enumerate(roles) if r not in ("sustained", "crp")])]
    n_middle = 1 if n % 2 else 2
    n_below = (n - n_middle) // 2 - len(on_taper)
    short = [i for i in others if available[i] < 7 and completer[i]]  # too little time left for a longer rescue
    flare_like = short + [i for i in others if roles[i] == "flare" and available[i] >= 7 and completer[i]]
    below, middle = flare_like[:n_below], flare_like[n_below : n_below + n_middle]
    plan: list[tuple[float, int]] = [(0.0, 0)] * len(roles)
    for i in below:
        plan[i] = (0.5, int(rng.integers(1, min(2 * int(target), int(available[i])) + 1)))
    for i in middle:
        plan[i] = (3.0, 7)
    for i in others:
        if i not in below and i not in middle:
            dose = float(rng.choice([2.5, 5.0, 7.5, 10.0]))
            longest = min(84, int(available[i]))
            shortest = int(np.floor(target / dose)) + 1
            plan[i] = (dose, int(rng.integers(shortest, max(shortest, longest) + 1)))
    return plan


def generate_saphyr_twin(*, seed: int = 2023) -> ComparatorTwin:
    """Generate the SAPHYR twin (deterministic from ``seed``)."""
    rng = np.random.default_rng(seed)
    protocol = load_protocol("saphyr")
    arms = [a for a in ARMS for _ in range(sum(ROLES[a].values()))]
    subjects = subject_frame(rng, arms, "SAP", 12, "2018-10-01", "2020-12-31", n_female=82)  # pathway: 82 of 118
    roles: list[str] = []
    for arm in ARMS:
        block = [r for r, k in ROLES[arm].items() for _ in range(k)]
        roles += [block[i] for i in rng.permutation(len(block))]
    roles_arr = np.array(roles)
    treated = (subjects["arm"] == "sarilumab").to_numpy().astype(int)
    at_risk = roles_arr != "active"
    # landmark week: sustained participants reach remission early (W2/W4), the others at any landmark visit
    landmark = np.where(
        np.isin(roles_arr, ["sustained"]), rng.choice([2, 4], size=len(roles)), rng.choice(_LANDMARK_WEEKS, len(roles))
    )
    origin_day = 7 * landmark
    last_day = np.full(len(roles), _END_DAY)
    for arm, by_role in _WITHDRAWN.items():
        for role, k in by_role.items():
            pool = np.flatnonzero((subjects["arm"].to_numpy() == arm) & (roles_arr == role))
            for i in rng.choice(pool, size=k, replace=False):
                last_day[i] = 7 * int(rng.choice(_LAST_VISIT_WEEKS[role]))
    subjects["status"] = np.where(last_day < _END_DAY, "withdrawn", "completed")
    has_event = roles_arr == "flare"
    idx = np.flatnonzero(at_risk)
    times = _search_flare_times(
        rng, origin_day[idx].astype(float), has_event[idx], treated[idx], last_day[idx].astype(float)
    )
    flare_day = np.full(len(roles), -1)
    flare_day[idx[has_event[idx]]] = (origin_day[idx] + times)[has_event[idx]].astype(int)

    log_rows: list[dict[str, Any]] = []
    visit_rows: list[dict[str, Any]] = []
    flare_rows: list[dict[str, Any]] = []
    for arm in ARMS:
        members = np.flatnonzero(subjects["arm"].to_numpy() == arm)
        taper = protocol.get_arm(arm).gc_taper
        base = sum(7 * (s.to_week - s.from_week) * float(s.dose_mg_day or 0) for s in taper)
        starts = np.array([_rescue_start(roles[i], int(flare_day[i])) for i in members])
        completer = last_day[members] == _END_DAY
        plan = _extras(rng, [roles[i] for i in members], arm, base, _END_DAY - starts, completer)
        for j, i in enumerate(members):
            sid = str(subjects.at[i, "subject_id"])
            rows = taper_rows(sid, taper) + _extra_rows(sid, roles[i], plan[j], int(starts[j]))
            if last_day[i] < _END_DAY:  # withdrawn: nothing logged after the last visit
                rows = [{**r, "end_day": min(int(r["end_day"]), int(last_day[i]))} for r in rows
                        if r["start_day"] <= last_day[i]]  # fmt: skip
            log_rows += rows
            visit_rows += _visits(
                rng, protocol, sid, arm, roles[i], rows, int(origin_day[i]), int(flare_day[i]), int(last_day[i])
            )
            if roles[i] == "flare":
                score = next(v for v in visit_rows if v["subject_id"] == sid and 7 * v["week"] >= flare_day[i])
                flare_rows.append(
                    {"subject_id": sid, "day": int(flare_day[i]), "confirmed": True, "rule": "investigator",
                     "crp_pmr_as": _crp_pmr_as(score)}
                )  # fmt: skip
    gc_doses = pd.DataFrame(log_rows)
    gc_doses["end_day"] = gc_doses["end_day"].astype("Int64")
    visits = pd.DataFrame(visit_rows)
    flares = pd.DataFrame(flare_rows).sort_values(["subject_id", "day"], ignore_index=True)
    adverse_events = adverse_event_rows(rng, subjects, _AE_PLAN, ARMS, last_week=52)
    label_frames(subjects, visits, adverse_events, gc_doses, flares)
    report = build_saphyr_report(subjects, visits, adverse_events, gc_doses, flares, protocol)
    notes = (
        "Withdrawals: 7/60 vs 4/58 participants (the published treatment discontinuation, 12% vs 7%) stop attending "
        "after their last visit (status withdrawn, nothing logged after it); they are non-responders for the "
        "primary endpoint (non-responder imputation) and censored at their last visit for flare after remission.",
        "Flare times were searched so that the Cox (Efron) hazard ratio of flare after remission and its Wald 95% CI "
        "print as 0.56 (0.35 to 0.90): 32 vs 40 events among 54 vs 52 participants at risk.",
        "Cumulative glucocorticoid: each arm's taper from the protocol (756 and 2023 mg scheduled) plus rescue, "
        "sized so that the medians over the participants assessed at week 52 are exactly 777 and 2044 mg.",
        "Adverse events: only the published proportions (neutropenia, arthralgia, diarrhoea) are targeted; the "
        "infection rows are illustrative.",
    )
    return ComparatorTwin("saphyr", subjects, visits, adverse_events, gc_doses, flares, report, seed, notes=notes)


def _crp_pmr_as(v: Mapping[str, Any]) -> float:
    keys = ("crp_mg_l", "pain_vas", "physician_global_vas", "morning_stiffness_min", "upper_limb_elevation")
    score = compute_crp_pmr_as(**{k: np.array([float(v[k])]) for k in keys})
    return round(float(np.asarray(score)[0]), 6)


def _rescue_start(role: str, flare_day: int) -> int:
    """Day the extra glucocorticoid starts: the flare day, week 20 for a held taper, week 2 if never in remission."""
    return {"flare": flare_day, "held": 140, "active": 14}.get(role, 0)


def _extra_rows(sid: str, role: str, plan: tuple[float, int], start: int) -> list[dict[str, Any]]:
    """One row adding ``plan`` = (mg/day, days) above the taper from day ``start``: rescue after a flare or for
    persistent activity, or a taper held by the investigator (reason ``other``)."""
    dose, days = plan
    if days <= 0:
        return []
    return [{"subject_id": sid, "start_day": start, "end_day": start + days - 1, "dose_mg_day": dose,
             "reason": "other" if role == "held" else "rescue"}]  # fmt: skip


def _visits(
    rng: np.random.Generator,
    protocol: Protocol,
    sid: str,
    arm: str,
    role: str,
    log: list[dict[str, Any]],
    origin_day: int,
    flare_day: int,
    last_day: int,
) -> list[dict[str, Any]]:
    il6 = arm == "sarilumab"
    crp_visit = int(rng.choice([16, 24, 32, 40, 48])) if role == "crp" else -1
    first_after_flare = (
        min((v.day for v in protocol.visits if v.day >= flare_day), default=-1) if flare_day >= 0 else -1
    )
    rows = []
    for v in protocol.visits:
        if v.day > last_day:
            break
        if v.week == 0:
            state = "relapse"
        elif role == "active" or v.day < origin_day:
            state = "active_il6" if il6 else "active"
        elif v.day == first_after_flare or (role == "flare" and flare_day < 84 and v.week == 12):
            # the visit after a flare is active; a flare before W12 leaves W12 active (no remission by W12)
            state = "active_il6" if il6 else "active"
        elif v.week == crp_visit:
            state = "quiet_crp_high"
        else:
            state = "quiet_il6" if il6 else "quiet"
        rows.append({"subject_id": sid, "week": float(v.week), **visit_scores(rng, state),
                     "oral_gc_mg_day": oral_dose_on(log, v.day)})  # fmt: skip
    return rows


def build_saphyr_report(
    subjects: pd.DataFrame,
    visits: pd.DataFrame,
    adverse_events: pd.DataFrame,
    gc_doses: pd.DataFrame,
    flares: pd.DataFrame,
    protocol: Protocol,
) -> TwinReport:
    """Every published SAPHYR figure against the twin, recomputed from the tables with the analysis derivations
    (the gc_doses log, window composites, time to event) and :mod:`pmrtrial.stats`."""
    from pmrtrial.analysis.engine import prepare_visits  # the analysis' derivations, not a copy
    from pmrtrial.datasets import validate_datasets

    pub = load_published("saphyr", printed=True)
    datasets = validate_datasets(subjects, visits, adverse_events, protocol=protocol, gc_doses=gc_doses, flares=flares)
    derived, _notes = prepare_visits(datasets, protocol, gc_doses=gc_doses)
    data = derived.data.merge(subjects[["subject_id", "site_id", "arm"]], on="subject_id")
    checks: list[TwinCheck] = []
    n = {a: int((subjects["arm"] == a).sum()) for a in ARMS}
    rand = pub["arms"]["randomised"]
    checks.append(count_check("arms.randomised.total", rand["total"]["value"], len(subjects)))
    female = pub["baseline"]["female"]
    n_female = int((subjects["sex"] == "female").sum())
    checks.append(count_check("baseline.female.n", female["n"], n_female))
    checks.append(
        pct_check(
            "baseline.female.pct",
            female["pct"],
            n_female,
            len(subjects),
            "the summary prints 82 female and 36 male of 118 as 69.0% and 31.0%, but 82/118 = 69.5% and 36/118 = "
            "30.5%: the twin keeps the counts",
        )
    )
    for arm in ARMS:
        checks.append(count_check(f"arms.randomised.{arm}", rand[arm]["value"], n[arm]))
    # primary: sustained remission at W52 (non-responder imputation: all randomised)
    prim = pub["primary_endpoint"]
    flag = f"ep_{protocol.primary_endpoint.id}"
    w52 = data[data["week"] == 52]
    responders = {a: int(w52.loc[w52["arm"] == a, flag].astype("boolean").fillna(False).sum()) for a in ARMS}
    for arm in ARMS:
        checks.append(count_check(f"primary_endpoint.{arm}.responders", prim[arm]["responders"], responders[arm]))
        checks.append(count_check(f"primary_endpoint.{arm}.n", prim[arm]["n"], n[arm]))
        checks.append(pct_check(f"primary_endpoint.{arm}.pct", prim[arm]["pct"], responders[arm], n[arm]))
    rd = estimate_risk_difference(
        responders["sarilumab"], n_treated=n["sarilumab"], events_control=responders["placebo"], n_control=n["placebo"]
    )
    for key, value in (("estimate", rd.estimate), ("lo", rd.lo), ("hi", rd.hi)):
        checks.append(value_check(f"primary_endpoint.risk_difference.{key}", prim["risk_difference"][key], 100 * value))
    # flare after remission: Cox (Efron) on the derived time-to-event dataset
    tte = derive_time_to_event(data, subjects, protocol.get_endpoint("flare_after_remission"), protocol, flares=flares)
    cox = cox_ph(tte["time_days"], tte["event"], tte["arm"], arms=ARMS)
    hr = pub["secondary"]["flare_after_remission"]["hazard_ratio"]
    for key, value in (("estimate", cox.estimate), ("lo", cox.lo), ("hi", cox.hi)):
        checks.append(value_check(f"secondary.flare_after_remission.hazard_ratio.{key}", hr[key], value))
    # cumulative glucocorticoid to W52 from the log
    cum = pub["secondary"]["cumulative_gc_mg"]
    for arm in ARMS:
        values = w52.loc[w52["arm"] == arm, "cumulative_gc_mg"].to_numpy(float)
        target = f"secondary.cumulative_gc_mg.{arm}_median"
        checks.append(value_check(target, cum[f"{arm}_median"]["value"], float(np.median(values))))
    disc = pub["adverse_events"]["treatment_related_discontinuation_pct"]
    for arm in ARMS:
        withdrawn = int(((subjects["arm"] == arm) & (subjects["status"] == "withdrawn")).sum())
        checks.append(
            pct_check(f"adverse_events.treatment_related_discontinuation_pct.{arm}", disc[arm], withdrawn, n[arm])
        )
    # adverse events (participants with the event, % of the arm)
    ae = adverse_events.merge(subjects[["subject_id", "arm"]], on="subject_id")
    for key, term in (
        ("neutropenia_pct", "Neutropenia"),
        ("arthralgia_pct", "Arthralgia"),
        ("diarrhoea_pct", "Diarrhoea"),
    ):
        for arm in ARMS:
            if arm in pub["adverse_events"].get(key, {}):
                got = int(ae.loc[(ae["term"] == term) & (ae["arm"] == arm), "subject_id"].nunique())
                checks.append(pct_check(f"adverse_events.{key}.{arm}", pub["adverse_events"][key][arm], got, n[arm]))
    return TwinReport(checks=tuple(checks))
