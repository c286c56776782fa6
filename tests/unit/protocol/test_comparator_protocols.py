"""SEMAPHORE and SAPHYR as protocols-as-data (the comparator trials of the BACHELOR deck).

Expected values are hand calculations shown in the comments, or figures from the sources named in
the protocol files (deck; pmrtrial/published/bachelor.yaml; the papers' abstracts).
CRP PMR-AS = CRP (mg/dL) + VASp + VASph + morning stiffness (min) x 0.1 + EUL (Leeb & Bird 2004).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from pmrtrial.derive import TAPER_ADHERENCE_REASON, derive_visit_variables, endpoint_column
from pmrtrial.protocol import (
    DoseSegment,
    evaluate_predicate,
    list_protocols,
    load_example_candidates,
    load_protocol,
    screen_candidate,
    validate_protocol,
)
from pmrtrial.protocol.variables import DERIVED_VISIT_VARIABLES

COMPARATORS = ("semaphore", "saphyr")


@pytest.mark.parametrize("name", COMPARATORS)
def test_loads_validates_and_is_listed(name: str) -> None:
    protocol = load_protocol(name)
    assert protocol.id == name
    assert name in list_protocols()
    assert [i for i in validate_protocol(protocol) if i.severity == "error"] == []


def test_bachelor_still_first_and_unchanged_candidates() -> None:
    assert list_protocols() == ["bachelor", "saphyr", "semaphore"]
    # BACHELOR ships C01..C08 (data/candidates); the default stays BACHELOR's list.
    assert [c["candidate_id"] for c in load_example_candidates()] == [f"C0{i}" for i in range(1, 9)]


@pytest.mark.parametrize("name", COMPARATORS)
def test_every_rule_has_source_text_and_ref(name: str) -> None:
    p = load_protocol(name)
    rules: list[Any] = [*p.arms, p.randomisation, *p.eligibility.inclusion, *p.eligibility.exclusion, *p.endpoints]
    for rule in rules:
        assert rule.source_text.strip() and rule.source_ref.strip(), rule
    assert p.notes, "the protocol states what was and was not verified"


# -- SEMAPHORE -----------------------------------------------------------------------------------


def test_semaphore_arms_and_dosing() -> None:
    p = load_protocol("semaphore")
    assert [a.id for a in p.arms] == ["tocilizumab", "placebo"]
    assert p.get_arm("placebo").is_control
    assert p.randomisation.ratio == {"tocilizumab": 1, "placebo": 1}
    seg = p.get_dose_segment("tocilizumab", 20)
    assert seg is not None
    # deck: "TCZ 8mg/kg q4wで24wまで投与" (8 mg/kg IV every 4 weeks to week 24)
    assert (seg.drug, seg.dose, seg.unit, seg.interval_weeks, seg.route) == ("tocilizumab", 8, "mg/kg", 4, "iv")
    assert p.get_dose_segment("tocilizumab", 24) is None  # [0, 24): no dosing at week 24
    drug, per_day = p.dose_at_week("tocilizumab", 0) or ("", 0.0)
    assert drug == "tocilizumab" and math.isnan(per_day)  # no mg/day for an every-4-weeks dose
    assert p.summary()["arms"][0]["dosing"] == ["weeks 0-24: tocilizumab 8 mg/kg IV every 4 weeks"]


def test_semaphore_visits_and_endpoints() -> None:
    p = load_protocol("semaphore")
    assert [v.week for v in p.visits] == [0, 4, 8, 12, 16, 20, 24]
    primary = p.primary_endpoint
    assert primary.id == "response_w24" and primary.visits == ("W24",)
    secondary = {e.id for e in p.endpoints if e.role == "secondary"}
    # deck: CRP/ESR PMR-AS at 24w, GC dose at 24w, GC off at 24w
    assert secondary == {"crp_pmr_as", "esr_pmr_as", "oral_gc_mg_day", "gc_stopped_w24"}


@pytest.mark.parametrize(
    ("score", "pred", "change", "expected"),
    [
        (9.9, 6.0, -12.0, True),  # 6 mg > 5 but decrease 18 -> 6 = 12 >= 10: responder
        (10.0, 4.0, -14.0, False),  # CRP PMR-AS < 10 is strict: 10.0 fails
        (9.9, 6.0, -9.0, False),  # 6 > 5 and a decrease of 9 < 10
        (9.9, 5.0, -5.0, True),  # prednisone <= 5 (inclusive)
        (9.9, 6.0, -10.0, True),  # decrease of exactly 10 mg/day (inclusive)
        (9.9, 6.0, None, None),  # baseline unknown: undecided, not a silent "no"
    ],
)
def test_semaphore_primary_predicate(score: float, pred: float, change: float | None, expected: bool | None) -> None:
    definition = load_protocol("semaphore").primary_endpoint.definition
    assert definition is not None
    values = {"crp_pmr_as": score, "oral_gc_mg_day": pred, "change_oral_gc_mg_day": change}
    assert evaluate_predicate(definition, values) is expected


def _visit(subject: str, week: float, crp: float, pain: float, phys: float, ms: float, eul: int, gc: float) -> dict:
    return {
        "subject_id": subject,
        "week": week,
        "crp_mg_l": crp,
        "esr_mm_h": 20.0,
        "pain_vas": pain,
        "patient_global_vas": pain,
        "physician_global_vas": phys,
        "morning_stiffness_min": ms,
        "upper_limb_elevation": eul,
        "oral_gc_mg_day": gc,
    }


def test_semaphore_primary_on_visits_dataset() -> None:
    p = load_protocol("semaphore")
    rows = [
        # A: W24 score 0.9 + 3 + 2 + 30x0.1 + 1 = 9.9; prednisone 18 -> 6: change -12 -> responder
        _visit("A", 0, 30, 6, 6, 90, 2, 18),
        _visit("A", 24, 9, 3, 2, 30, 1, 6),
        # B: W24 score 1.0 + 3 + 2 + 3 + 1 = 10.0 -> not a responder (strict < 10) despite 4 mg/day
        _visit("B", 0, 30, 6, 6, 90, 2, 15),
        _visit("B", 24, 10, 3, 2, 30, 1, 4),
        # C: score 9.9, prednisone 15 -> 6: change -9, and 6 > 5 -> not a responder
        _visit("C", 0, 30, 6, 6, 90, 2, 15),
        _visit("C", 24, 9, 3, 2, 30, 1, 6),
    ]
    out = derive_visit_variables(pd.DataFrame(rows), p).data
    w24 = out[out["week"] == 24].set_index("subject_id")
    np.testing.assert_allclose(w24["crp_pmr_as"].to_numpy(), [9.9, 10.0, 9.9], atol=1e-9)
    # change_oral_gc_mg_day = dose - baseline: 6 - 18 = -12; 4 - 15 = -11; 6 - 15 = -9
    np.testing.assert_allclose(w24["change_oral_gc_mg_day"].to_numpy(), [-12.0, -11.0, -9.0])
    np.testing.assert_allclose(w24["baseline_oral_gc_mg_day"].to_numpy(), [18.0, 15.0, 15.0])
    assert list(w24[endpoint_column(p.primary_endpoint)]) == [True, False, False]
    # baseline rows: change 18 - 18 = 0
    assert list(out.loc[out["week"] == 0, "change_oral_gc_mg_day"]) == [0.0, 0.0, 0.0]


def test_semaphore_screening() -> None:
    p = load_protocol("semaphore")
    results = {c["candidate_id"]: screen_candidate(p, c) for c in load_example_candidates("semaphore")}
    # S01: 1.2 + 4 + 3 + 60 x 0.1 + 1 = 15.2 > 10, prednisone 10 >= 10
    assert results["S01"].status == "eligible"
    assert results["S01"].derived["crp_pmr_as"] == pytest.approx(15.2)
    assert results["S02"].status == "not_eligible"
    assert [o.id for o in results["S02"].failed] == ["inc-prednisone"]  # 7.5 < 10 mg/day


# -- SAPHYR --------------------------------------------------------------------------------------


def test_saphyr_arms_dosing_visits() -> None:
    p = load_protocol("saphyr")
    assert [a.id for a in p.arms] == ["sarilumab", "placebo"]
    seg = p.get_dose_segment("sarilumab", 51)
    assert seg is not None
    # abstract: 52 weeks of twice-monthly SC sarilumab 200 mg
    assert (seg.dose, seg.unit, seg.interval_weeks, seg.route, seg.to_week) == (200, "mg", 2, "sc", 52)
    assert p.get_visit("W52").week == 52 and p.primary_endpoint.visits == ("W52",)
    assert p.get_endpoint("cumulative_gc_mg").variable == "cumulative_gc_mg"


def test_saphyr_primary_needs_taper_adherence() -> None:
    definition = load_protocol("saphyr").primary_endpoint.definition
    assert definition is not None
    met = {"remission_by_w12": True, "crp_normal_from_w12": True, "flare_free_from_w12": True}
    assert evaluate_predicate(definition, {**met, "gc_taper_adherent": True}) is True
    assert evaluate_predicate(definition, met) is None  # adherence unknown: undecided
    assert evaluate_predicate(definition, {**met, "flare_free_from_w12": False}) is False
    assert "gc_taper_adherent" in DERIVED_VISIT_VARIABLES


def _saphyr_rows() -> list[dict]:
    # Baseline score 3.0 + 6 + 6 + 9 + 2 = 26.0. Quiet visit: 0.3 + 1 + 1 + 0 + 0 = 2.3 (no flare:
    # 2.3 <= 9.35 and 2.3 - 26 <= 6.6). Flare visit: 0.3 + 5 + 4 + 1.0 + 0 = 10.3 > 9.35 (Dejaco).
    quiet = {"crp": 3.0, "pain": 1, "phys": 1, "ms": 0, "eul": 0}
    flare = {"crp": 3.0, "pain": 5, "phys": 4, "ms": 10, "eul": 0}
    base = {"crp": 30.0, "pain": 6, "phys": 6, "ms": 90, "eul": 2}
    rows = []
    for subject, arm_rows in {
        "R1": [(0, base), (12, quiet), (24, quiet), (52, quiet)],  # sustained (apart from taper)
        "R2": [(0, base), (12, quiet), (24, flare), (52, quiet)],  # flared at W24
        "R3": [(0, base), (12, quiet), (24, quiet), (52, quiet)],
        "R4": [(0, base), (12, flare), (24, quiet), (52, quiet)],  # no remission at W12
    }.items():
        for week, v in arm_rows:
            rows.append(_visit(subject, week, v["crp"], v["pain"], v["phys"], v["ms"], v["eul"], 10.0))
    return rows


def test_saphyr_cross_visit_variables() -> None:
    p = load_protocol("saphyr")
    derived = derive_visit_variables(pd.DataFrame(_saphyr_rows()), p)
    d = derived.data.set_index(["subject_id", "week"])
    ff = d["flare_free_from_w12"]
    assert pd.isna(ff[("R2", 0)])  # before week 12: not assessed
    assert [ff[("R2", w)] for w in (12, 24, 52)] == [True, False, False]  # flare at W24 sticks
    assert [ff[("R1", w)] for w in (12, 24, 52)] == [True, True, True]
    # CRP 3 mg/L <= 5 mg/L (parameters.crp_upper_limit_mg_l) at W12..W52
    assert [bool(d.loc[("R1", w), "crp_normal_from_w12"]) for w in (12, 24, 52)] == [True, True, True]
    # remission by W12: R1 yes on every row; R4 flared at W12 (10.3 > 9.35) -> no
    assert bool(d.loc[("R1", 0), "remission_by_w12"]) and bool(d.loc[("R1", 52), "remission_by_w12"])
    assert not bool(d.loc[("R4", 52), "remission_by_w12"])
    # taper adherence cannot be derived: listed with its reason; the endpoint flag is undecided for R1
    assert derived.not_derived["gc_taper_adherent"] == TAPER_ADHERENCE_REASON
    flag = d[endpoint_column(p.primary_endpoint)]
    assert pd.isna(flag[("R1", 52)])
    assert not pd.isna(flag[("R2", 52)]) and not bool(flag[("R2", 52)])  # decided False by the flare


def test_saphyr_primary_estimable_when_adherence_supplied() -> None:
    p = load_protocol("saphyr")
    visits = pd.DataFrame(_saphyr_rows())
    visits["gc_taper_adherent"] = True
    derived = derive_visit_variables(visits, p)
    assert "gc_taper_adherent" not in derived.not_derived
    w52 = derived.data[derived.data["week"] == 52].set_index("subject_id")[endpoint_column(p.primary_endpoint)]
    # R1, R3 sustained; R2 flared at W24; R4 no remission at W12
    assert list(w52) == [True, False, True, False]


def test_saphyr_primary_not_estimable_in_analysis() -> None:
    from pmrtrial.analysis.engine import analyse_trial
    from pmrtrial.datasets import validate_datasets

    p = load_protocol("saphyr")
    subjects = pd.DataFrame(
        {
            "subject_id": ["R1", "R2", "R3", "R4"],
            "site_id": ["S1"] * 4,
            "arm": ["sarilumab", "placebo", "sarilumab", "placebo"],
            "randomised_on": ["2020-01-06"] * 4,
            "status": ["completed"] * 4,
        }
    )
    adverse_events = pd.DataFrame(
        {"subject_id": ["R1"], "soc": ["Infections"], "term": ["Cystitis"], "serious": [False]}
    )
    datasets = validate_datasets(subjects, pd.DataFrame(_saphyr_rows()), adverse_events, protocol=p)
    result = analyse_trial(datasets, p)
    assert not result.primary.fisher.available
    assert result.primary.fisher.reason == "not estimable: " + TAPER_ADHERENCE_REASON
    assert any(TAPER_ADHERENCE_REASON in w for w in result.warnings)


def test_saphyr_screening() -> None:
    p = load_protocol("saphyr")
    results = {c["candidate_id"]: screen_candidate(p, c) for c in load_example_candidates("saphyr")}
    assert results["Y01"].status == "eligible"
    assert results["Y02"].status == "not_eligible"
    assert [o.id for o in results["Y02"].failed] == ["inc-gc-dose"]  # 5 < 7.5 mg/day


# -- schema ----------------------------------------------------------------------------------------


def test_dose_segment_daily_or_interval() -> None:
    daily = DoseSegment(from_week=0, to_week=12, drug="baricitinib", dose_mg_day=4)
    assert daily.is_daily and daily.describe() == "weeks 0-12: baricitinib 4 mg/day"
    with pytest.raises(ValidationError):
        DoseSegment(from_week=0, to_week=4, drug="x", dose_mg_day=4, dose=8, unit="mg/kg", interval_weeks=4)
    with pytest.raises(ValidationError):
        DoseSegment(from_week=0, to_week=4, drug="x", dose=8, unit="mg/kg")  # no interval
    with pytest.raises(ValidationError):
        DoseSegment(from_week=0, to_week=4, drug="x")  # no dose at all


def test_bachelor_dose_at_week_unchanged() -> None:
    p = load_protocol("bachelor")
    # deck: baricitinib 4 mg/day weeks 0-12, then 2 mg/day weeks 12-24
    assert p.dose_at_week("baricitinib", 11) == ("baricitinib", 4)
    assert p.dose_at_week("baricitinib", 12) == ("baricitinib", 2)
    assert p.dose_at_week("baricitinib", 24) is None
