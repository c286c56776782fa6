"""The analysis plan as data: registry, declared analyses, baseline table, endpoints[] and derived datasets,
and the derivations behind the PMR endpoint families (time to event, GC log, window composites).

Every expected value is hand arithmetic shown beside it, or a count of the hand-made data.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pmrtrial._yaml import safe_load
from pmrtrial.analysis import ANALYSIS_METHODS, analyse_trial, method_types
from pmrtrial.datasets import validate_datasets
from pmrtrial.derive_endpoints import (
    apply_missing_visit_rule,
    derive_time_to_event,
    derive_var_window_composite,
    derive_vars_gc_from_log,
)
from pmrtrial.exceptions import ProtocolValidationError
from pmrtrial.protocol import load_protocol, parse_protocol, validate_protocol
from pmrtrial.protocol.model import WindowComposite
from pmrtrial.protocol.registry import read_bundled_text
from tests.unit.analysis._data import make_trial, visit_row

# the common contract's method ids
SHARED_IDS = [
    "fisher_exact", "boschloo_exact", "barnard_exact", "risk_ratio", "risk_difference", "log_binomial_gee_by_centre",
    "bayesian_risk_ratio", "four_state_table", "mean_difference", "median_iqr", "wilcoxon_hodges_lehmann",
    "adjusted_risk_ratio", "kaplan_meier", "logrank", "cox_ph", "blinding_index",
    # the primary endpoint's sensitivity analyses (issue 15)
    "missing_as_non_response", "per_protocol", "tipping_point",
]  # fmt: skip


def bachelor_dict() -> dict[str, Any]:
    return copy.deepcopy(safe_load(read_bundled_text("bachelor")))


def endpoint(doc: dict[str, Any], endpoint_id: str) -> dict[str, Any]:
    return next(e for e in doc["endpoints"] if e["id"] == endpoint_id)


# -- registry and protocol validation -------------------------------------------------------------


def test_registry__holds_exactly_the_shared_method_ids():
    assert sorted(ANALYSIS_METHODS) == sorted(SHARED_IDS)
    assert method_types()["cox_ph"] == frozenset({"time_to_event"})
    assert method_types()["fisher_exact"] == frozenset({"binary"})
    assert all(callable(m.run) and m.description for m in ANALYSIS_METHODS.values())


def test_unknown_analysis_id__rejected_with_stable_id_naming_it():
    doc = bachelor_dict()
    endpoint(doc, "response_w12")["analysis"] = ["fisher_exact", "chi_square_yates"]
    proto = parse_protocol(doc)
    issues = [i for i in validate_protocol(proto, analysis_methods=method_types()) if i.severity == "error"]
    assert [i.id for i in issues] == ["PROTO-E017"]
    assert "'chi_square_yates'" in issues[0].message and issues[0].location == "endpoints.response_w12.analysis"
    s, v, a = make_trial(2, 3, 1, 3)
    with pytest.raises(ProtocolValidationError, match="chi_square_yates"):
        analyse_trial(validate_datasets(s, v, a, protocol=proto), proto)


def test_method_of_the_wrong_endpoint_type__rejected():
    doc = bachelor_dict()
    endpoint(doc, "crp_pmr_as")["analysis"] = ["mean_difference", "fisher_exact"]
    issues = validate_protocol(parse_protocol(doc), analysis_methods=method_types())
    assert [i.id for i in issues if i.severity == "error"] == ["PROTO-E017"]
    assert "does not apply to a continuous endpoint" in issues[-1].message


def test_bundled_protocols__every_analysis_id_registered():
    for name in ("bachelor", "semaphore", "saphyr"):
        errors = [
            i for i in validate_protocol(load_protocol(name), analysis_methods=method_types()) if i.id == "PROTO-E017"
        ]
        assert errors == [], name


def test_time_to_event_shape_and_composites_validated():
    doc = bachelor_dict()
    doc["endpoints"].append(
        {
            "id": "tte",
            "label": "time to flare",
            "role": "secondary",
            "type": "time_to_event",
            "population": "randomised",
            "analysis": ["kaplan_meier"],
            "source_text": "x",
            "source_ref": "x",
        }
    )
    doc["composites"] = [
        {"id": "sustained", "label": "s", "kind": "every_visit", "from_week": 24, "to_week": 12,
         "predicate": {"var": "no_such_variable", "op": "eq", "value": True}},
    ]  # fmt: skip
    ids = sorted(i.id for i in validate_protocol(parse_protocol(doc)) if i.severity == "error")
    # tte without time_to_event (E018); composite with an empty window and an unknown variable (E019 x 2)
    assert ids == ["PROTO-E018", "PROTO-E019", "PROTO-E019"]


# -- the engine runs what the protocol declares ---------------------------------------------------


def run(doc: dict[str, Any], trial: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None) -> Any:
    proto = parse_protocol(doc)
    s, v, a = trial if trial is not None else make_trial(14, 18, 2, 15, sites=6)
    return analyse_trial(validate_datasets(s, v, a, protocol=proto), proto)


def test_engine_runs_exactly_the_declared_analyses():
    doc = bachelor_dict()
    endpoint(doc, "response_w12")["analysis"] = ["fisher_exact", "barnard_exact"]
    result = run(doc)
    entry = next(e for e in result.endpoints if e.id == "response_w12")
    assert list(entry.analyses) == ["fisher_exact", "barnard_exact"]
    assert result.primary.fisher.available and result.primary.fisher.p is not None
    for name in ("boschloo", "rr_crude", "rr_score", "rd", "rr_gee", "rr_bayes"):
        summary = getattr(result.primary, name)
        assert not summary.available and "not in the protocol's analysis list" in str(summary.reason)
    assert result.to_dict()["primary"]["boschloo_p"] is None
    # 14/18 vs 2/15: the declared Barnard test ran (its value is checked against R in tests/unit/stats)
    assert entry.analyses["barnard_exact"]["available"] and entry.analyses["barnard_exact"]["p"] < 0.001
    # the four-state table is declared by response_by_visit only; dropping it drops the table
    endpoint(doc, "response_by_visit")["analysis"] = []
    assert run(doc).visit_states == ()


def test_bundled_bachelor__primary_declares_every_figure_reported():
    result = run(bachelor_dict())
    entry = next(e for e in result.endpoints if e.id == "response_w12")
    assert set(entry.analyses) == {
        "fisher_exact",
        "boschloo_exact",
        "risk_ratio",
        "risk_difference",
        "log_binomial_gee_by_centre",
        "bayesian_risk_ratio",
        "missing_as_non_response",
        "per_protocol",
        "tipping_point",
    }
    for name in ("fisher", "boschloo", "rr_crude", "rr_score", "rd", "rr_gee", "rr_bayes"):
        assert getattr(result.primary, name).available, name
    # the crude RR: (14/18) / (2/15) = 0.7778 / 0.1333 = 5.8333
    assert entry.analyses["risk_ratio"]["estimate"] == pytest.approx(14 / 18 / (2 / 15), rel=1e-12)
    assert entry.analyses["risk_ratio"]["rr_score"]["estimate"] == pytest.approx(14 / 18 / (2 / 15), rel=1e-12)
    assert entry.analyses["risk_ratio"]["arms"] == {
        "baricitinib": {"n": 18, "events": 14, "pct": 100 * 14 / 18},
        "placebo": {"n": 15, "events": 2, "pct": 100 * 2 / 15},
    }
    gee_label = result.primary.rr_gee.details
    assert gee_label["n_clusters"] == 6
    assert any("clustered by centre" in m for m in result.methods)
    assert not any("adjusted risk ratio from a log-binomial GEE" in m for m in result.methods)


def test_changed_threshold_changes_the_primary():
    # make_trial: every W12 CRP PMR-AS is 0.5 + 1 + 1 + 1 + 0 = 3.5; with "<= 3" nobody responds.
    doc = bachelor_dict()
    endpoint(doc, "response_w12")["definition"]["all"][0]["value"] = 3
    assert run(doc).primary.responders == {"baricitinib": {"n": 18, "events": 0}, "placebo": {"n": 15, "events": 0}}


def test_baseline_table_from_the_protocol():
    doc = bachelor_dict()
    doc["baseline_table"] = [
        {"key": "female", "label": "Women", "table": "subjects", "variable": "sex", "kind": "binary",
         "when": {"var": "sex", "op": "eq", "value": "female"}},
        {"key": "pain", "label": "Pain", "table": "visits", "variable": "pain_vas", "kind": "continuous"},
    ]  # fmt: skip
    rows = run(doc).baseline
    assert [r.key for r in rows] == ["female", "pain"]
    # make_trial: 18 baricitinib, even indices female -> 9 of 18; baseline pain 6 for everyone
    assert rows[0].arms["baricitinib"] == {"n": 18, "events": 9, "pct": 50.0}
    assert rows[1].arms["placebo"]["mean"] == 6.0 and rows[1].arms["placebo"]["n"] == 15


def test_derived_dataset_of_a_binary_endpoint():
    result = run(bachelor_dict(), make_trial(2, 3, 1, 2))
    frame = result.derived_datasets["response_w12"]
    assert list(frame.columns) == ["subject_id", "site_id", "arm", "visit", "value"]
    # make_trial: the first events_* participants of an arm respond at W12
    assert dict(zip(frame["subject_id"], frame["value"], strict=True)) == {
        "B000": 1.0, "B001": 1.0, "B002": 0.0, "P000": 1.0, "P001": 0.0,
    }  # fmt: skip
    assert set(frame["visit"]) == {"W12"}


def test_non_event_rule__absent_participant_counts_in_the_denominator():
    s, v, a = make_trial(2, 3, 1, 2)
    v = v[~((v["subject_id"] == "P001") & (v["week"] == 12))]  # P001 not seen at W12
    doc = bachelor_dict()
    endpoint(doc, "crp_pmr_as_le10")["missing"] = "non_event"
    endpoint(doc, "crp_pmr_as_le10")["visits"] = ["W12"]
    result = run(doc, (s, v, a))
    entry = next(e for e in result.endpoints if e.id == "crp_pmr_as_le10").analyses["risk_ratio"]
    # CRP PMR-AS 3.5 <= 10 for everyone seen: baricitinib 3/3; placebo 1/2 (P001 imputed as a non-event)
    assert entry["arms"]["placebo"] == {"n": 2, "events": 1, "pct": 50.0}
    assert entry["imputed_non_events"] == {"baricitinib": 0, "placebo": 1}


# -- time to event --------------------------------------------------------------------------------


def _tte_trial() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Three participants per arm, visits at weeks 0, 2, 4, 8, 12. Baseline CRP PMR-AS 3.5 (defaults).

    A flare visit has CRP 100 mg/L: CRP PMR-AS = 10 + 1 + 1 + 1 + 0 = 13 > 9.35 (Dejaco 2011).
    baricitinib: B0 flares at W2 (day 14), B1 at W4 (day 28), B2 at W8 (day 56).
    placebo: P0 flares at W4 (day 28); P1 never flares, last seen W12 (day 84); P2 withdraws after W2 (day 14).
    """
    flare_at = {"B0": 2, "B1": 4, "B2": 8, "P0": 4}
    last_seen = {"P2": 2}
    subjects, visits = [], []
    for sid in ("B0", "B1", "B2", "P0", "P1", "P2"):
        arm = "baricitinib" if sid[0] == "B" else "placebo"
        subjects.append(
            {"subject_id": sid, "site_id": "S1", "arm": arm, "randomised_on": "2021-01-04", "status": "completed"}
        )
        for week in (0, 2, 4, 8, 12):
            if week > last_seen.get(sid, 99):
                continue
            crp = 100.0 if flare_at.get(sid) == week else 5.0
            visits.append(visit_row(sid, week, crp_mg_l=crp))
    ae = make_trial(1, 1, 1, 1)[2]
    return pd.DataFrame(subjects), pd.DataFrame(visits), ae


def _with_tte(doc: dict[str, Any], tte: dict[str, Any], analysis: list[str]) -> dict[str, Any]:
    doc["endpoints"].append(
        {
            "id": "time_to_flare",
            "label": "Time to first flare",
            "role": "secondary",
            "type": "time_to_event",
            "population": "randomised",
            "time_to_event": tte,
            "analysis": analysis,
            "source_text": "hand-made",
            "source_ref": "test",
        }
    )
    return doc


def test_time_to_flare_from_randomisation__dataset_and_km():
    doc = _with_tte(bachelor_dict(), {"event": {"flare": {}}, "end_week": 12}, ["kaplan_meier", "logrank", "cox_ph"])
    result = run(doc, _tte_trial())
    frame = result.derived_datasets["time_to_flare"]
    assert list(frame.columns) == ["subject_id", "site_id", "arm", "time_days", "event"]
    got = {r.subject_id: (r.time_days, r.event) for r in frame.itertuples()}
    # events at the flare visit's day (7 x week); P1 censored at its last visit (W12, day 84), P2 at W2 (day 14)
    assert got == {"B0": (14, 1), "B1": (28, 1), "B2": (56, 1), "P0": (28, 1), "P1": (84, 0), "P2": (14, 0)}
    entry = next(e for e in result.endpoints if e.id == "time_to_flare")
    km = entry.analyses["kaplan_meier"]["arms"]
    # baricitinib: S = 2/3 after day 14, 1/3 after day 28 -> median 28 (first time S <= 0.5)
    assert (km["baricitinib"]["n"], km["baricitinib"]["events"], km["baricitinib"]["median"]) == (3, 3, 28.0)
    # placebo: P2 censored at day 14, P0's event at day 28 (2 at risk), P1 censored at day 84
    assert (km["placebo"]["n"], km["placebo"]["events"]) == (3, 1)
    assert entry.analyses["cox_ph"]["available"] and entry.analyses["cox_ph"]["estimate"] > 1
    assert entry.analyses["logrank"]["p"] is not None
    assert entry.n_analysed == 6


def test_time_to_flare_after_a_landmark__only_those_at_risk():
    # Landmark: first visit with a flare (the "reference state" is reached by week 4): B0 (W2), B1 (W4), P0 (W4).
    # Event: the first visit after the landmark with CRP PMR-AS > 9.35 again; none flares twice -> all censored
    # at their last visit: B0 and B1 at W12 (84 - 14 = 70, 84 - 28 = 56 days), P0 at W12 (84 - 28 = 56 days).
    tte = {
        "event": {"flare": {"reference": "origin"}},
        "origin": {"kind": "landmark", "predicate": {"var": "flare", "op": "eq", "value": True}, "by_week": 4},
    }
    result = run(_with_tte(bachelor_dict(), tte, ["kaplan_meier"]), _tte_trial())
    got = {r.subject_id: (r.time_days, r.event) for r in result.derived_datasets["time_to_flare"].itertuples()}
    assert got == {"B0": (70, 0), "B1": (56, 0), "P0": (56, 0)}


def test_time_to_event_from_the_flares_table():
    s, v, _ = _tte_trial()
    flares = pd.DataFrame(
        {
            "subject_id": ["B0", "B0", "P1", "P2"],
            "day": [20, 40, 30, 200],
            "confirmed": [False, True, True, True],
            "rule": ["investigator"] * 4,
        }
    )
    proto = parse_protocol(_with_tte(bachelor_dict(), {"event": {"dataset": {"table": "flares"}}}, []))
    frame = derive_time_to_event(v, s, proto.get_endpoint("time_to_flare"), proto, flares=flares)
    got = {r.subject_id: (r.time_days, r.event) for r in frame.itertuples()}
    # B0: first *confirmed* flare on day 40; P1 on day 30; P2 on day 200 (before the end of study, the last
    # scheduled visit W36 = day 252). The others are censored at their last visit, W12 = day 84.
    assert got == {
        "B0": (40, 1), "B1": (84, 0), "B2": (84, 0), "P0": (84, 0), "P1": (30, 1), "P2": (200, 1),
    }  # fmt: skip


# -- glucocorticoid log ---------------------------------------------------------------------------


def _gc_doc() -> dict[str, Any]:
    doc = bachelor_dict()
    for arm in doc["arms"]:
        # a 14-day taper: 15 mg/day weeks 0-2, 10 mg/day weeks 2-4, then 0 (no segment)
        arm["gc_taper"] = [
            {"from_week": 0, "to_week": 2, "drug": "prednisone", "dose_mg_day": 15},
            {"from_week": 2, "to_week": 4, "drug": "prednisone", "dose_mg_day": 10},
        ]
    return doc


def test_gc_log__cumulative_daily_gc_free_and_taper_adherence():
    proto = parse_protocol(_gc_doc())
    subjects = pd.DataFrame({"subject_id": ["A", "B"], "arm": ["baricitinib", "placebo"]})
    visits = pd.DataFrame(
        [visit_row(s, w, gc=99.0) for s in ("A", "B") for w in (0, 2, 4, 8)]
    )  # recorded doses (99) disagree with the log on purpose: the log wins
    log = pd.DataFrame(
        {
            "subject_id": ["A", "A", "A", "B", "B"],
            "start_day": [0, 14, 20, 0, 28],
            "end_day": [13, 27, 22, 27, np.nan],
            "dose_mg_day": [15.0, 10.0, 5.0, 15.0, 2.5],
            "reason": ["taper", "taper", "rescue", "taper", "other"],
        }
    )
    out, record = derive_vars_gc_from_log(visits, log, subjects, proto)
    a = out[out["subject_id"] == "A"].set_index("week")
    b = out[out["subject_id"] == "B"].set_index("week")
    # A: days 0-13 at 15 (210 mg), 14-27 at 10 (140 mg) plus a rescue of 5 mg on days 20-22 (15 mg)
    assert a["cumulative_gc_mg"].tolist() == [0.0, 210.0, 210.0 + 140 + 15, 365.0]
    assert a["oral_gc_mg_day"].tolist() == [15.0, 10.0, 0.0, 0.0]  # dose on days 0, 14, 28, 56
    assert a["gc_free"].tolist() == [False, False, True, True]
    # adherence over [previous scheduled visit, this visit): W2 days 0-13 at 15 <= 15 yes; W4 days 14-27:
    # 15 mg on days 20-22 > 10 -> no; W8 days 28-55 at 0 <= 0 yes. W0: empty interval -> undecided.
    assert a["gc_taper_adherent"].tolist()[1:] == [True, False, True] and pd.isna(a["gc_taper_adherent"].iloc[0])
    # B: 15 mg/day days 0-27 (420 mg), then 2.5 mg/day ongoing: day 28-55 = 28 x 2.5 = 70 mg
    assert b["cumulative_gc_mg"].tolist() == [0.0, 210.0, 420.0, 490.0]
    # B at W4: days 14-27 at 15 > taper 10 -> not adherent; W8: 2.5 > 0 -> not adherent
    assert b["gc_taper_adherent"].tolist()[1:] == [True, False, False]
    # all 8 recorded doses (99) differ from the log, and the derivation record says the log won
    assert record.disagreements == 8 and "wins over the visit-level oral_gc_mg_day" in record.note


def test_gc_log_wins_in_the_analysis():
    # make_trial gives non-responders 5 mg/day at W12; a log saying "no GC" for everyone makes all respond.
    s, v, a = make_trial(1, 3, 0, 2)
    proto = parse_protocol(bachelor_dict())
    datasets = validate_datasets(s, v, a, protocol=proto)
    log = pd.DataFrame(
        {"subject_id": ["B000"], "start_day": [200], "end_day": [201], "dose_mg_day": [5.0], "reason": ["rescue"]}
    )
    result = analyse_trial(datasets, proto, gc_doses=log)
    assert result.primary.responders == {"baricitinib": {"n": 3, "events": 3}, "placebo": {"n": 2, "events": 2}}
    assert any("gc_doses log (it wins" in m for m in result.methods)
    # make_trial's non-responders recorded 5 mg/day at W12 (B001, B002, P000, P001): 4 visits disagree
    assert any("4 visit(s) recorded an oral_gc_mg_day that differs from the log" in m for m in result.methods)


# -- window composites ----------------------------------------------------------------------------


def _window_visits() -> pd.DataFrame:
    """Scheduled weeks 12, 16, 20, 24. Predicate: crp_mg_l <= 5.
    S1: 3, 4, 5, 2 (always normal). S2: 3, -, 4, 9 (fails at 24). S3: 3, -, 4, 2 (W16 missed).
    S4: 3, NaN, 4, 2 (W16 value undecided). S5: no visit in the window.
    """
    rows = [("S1", 12, 3), ("S1", 16, 4), ("S1", 20, 5), ("S1", 24, 2), ("S2", 12, 3), ("S2", 20, 4), ("S2", 24, 9),
            ("S3", 12, 3), ("S3", 20, 4), ("S3", 24, 2), ("S4", 12, 3), ("S4", 16, np.nan), ("S4", 20, 4),
            ("S4", 24, 2), ("S5", 0, 3)]  # fmt: skip
    return pd.DataFrame(rows, columns=["subject_id", "week", "crp_mg_l"])


@pytest.mark.parametrize(
    ("kind", "rule", "expected"),
    [
        # every_visit: S1 all true -> T; S2 false at W24 -> F whatever the rule; S3/S4 missing W16: ignore -> T,
        # failure -> F, undecided -> NA; S5 nothing assessed: ignore -> NA, failure -> F, undecided -> NA.
        ("every_visit", "ignore", {"S1": True, "S2": False, "S3": True, "S4": True, "S5": None}),
        ("every_visit", "failure", {"S1": True, "S2": False, "S3": False, "S4": False, "S5": False}),
        ("every_visit", "undecided", {"S1": True, "S2": False, "S3": None, "S4": None, "S5": None}),
        # first_by (weeks 12-24): true at W12 for S1-S4 -> T whatever the rule; S5: ignore -> NA, failure -> F.
        ("first_by", "ignore", {"S1": True, "S2": True, "S3": True, "S4": True, "S5": None}),
        ("first_by", "failure", {"S1": True, "S2": True, "S3": True, "S4": True, "S5": False}),
    ],
)
def test_window_composite__missing_visit_rules(kind: str, rule: str, expected: dict[str, bool | None]):
    comp = WindowComposite(
        id="crp_ok",
        label="CRP normal",
        kind=kind,  # type: ignore[arg-type]
        predicate={"var": "crp_mg_l", "op": "le", "value": 5},  # type: ignore[arg-type]
        from_week=12,
        to_week=24,
        missing_visit=rule,  # type: ignore[arg-type]
    )
    out = derive_var_window_composite(_window_visits(), comp, [0, 12, 16, 20, 24, 28])
    per_subject = out.drop_duplicates("subject_id").set_index("subject_id")["crp_ok"]
    assert {k: (None if pd.isna(x) else bool(x)) for k, x in per_subject.items()} == expected


def test_first_by__not_reached_and_missing():
    # first_by weeks 12-16 with "crp <= 2": S2 W12 = 3 (false), W16 missed -> undecided: F with "failure",
    # NA with "undecided"; S1 W12 = 3, W16 = 4 -> false at every assessed visit, nothing missing -> F.
    comp = WindowComposite(
        id="low", label="low CRP", kind="first_by", from_week=12, to_week=16, missing_visit="undecided",
        predicate={"var": "crp_mg_l", "op": "le", "value": 2},  # type: ignore[arg-type]
    )  # fmt: skip
    out = derive_var_window_composite(_window_visits(), comp, [12, 16, 20, 24])
    per_subject = out.drop_duplicates("subject_id").set_index("subject_id")["low"]
    assert not pd.isna(per_subject["S1"]) and not bool(per_subject["S1"])
    assert pd.isna(per_subject["S2"])


def test_missing_visit_rule_is_one_function():
    decided = np.array([0.0, np.nan, np.nan, np.nan])
    any_missing = np.array([True, False, True, True])
    all_missing = np.array([False, False, False, True])
    got = apply_missing_visit_rule(decided, any_missing, all_missing, kind="every_visit", rule="ignore")
    # decided 0 stays 0; complete -> 1; missing with an assessed visit -> 1 (ignore); nothing assessed -> NaN
    assert got[:3].tolist() == [0.0, 1.0, 1.0] and np.isnan(got[3])


def test_composite_used_by_an_endpoint():
    doc = bachelor_dict()
    doc["composites"] = [
        {"id": "responder_w0_w12", "label": "responder throughout", "kind": "every_visit", "from_week": 12,
         "to_week": 12, "missing_visit": "failure", "predicate": {"var": "on_oral_gc", "op": "eq", "value": False}},
    ]  # fmt: skip
    endpoint(doc, "crp_pmr_as_le10")["definition"] = {"var": "responder_w0_w12", "op": "eq", "value": True}
    result = run(doc, make_trial(2, 3, 1, 2))
    row = next(r for r in result.secondary if r.endpoint_id == "crp_pmr_as_le10" and r.visit == "W12")
    # make_trial: no GC at W12 for the first events_* participants -> 2/3 and 1/2
    assert (row.arms["baricitinib"]["events"], row.arms["placebo"]["events"]) == (2, 1)
    assert any("responder throughout (responder_w0_w12)" in m for m in result.methods)


def test_blinding_index__from_the_participants_guesses():
    # 20 per arm. Treated guesses: 10 active, 2 control, 8 don't know; control: 4 active, 6 control, 10 don't know.
    # Bang's index (correct - incorrect) / n: treated (10 - 2) / 20 = 0.4; control (6 - 4) / 20 = 0.1.
    s, v, a = make_trial(10, 20, 5, 20)
    guesses = ["active"] * 10 + ["control"] * 2 + ["dont_know"] * 8 + ["active"] * 4 + ["control"] * 6
    s["blinding_guess_participant"] = guesses + ["dont_know"] * 10
    doc = bachelor_dict()
    endpoint(doc, "response_w12")["analysis"] = ["fisher_exact", "blinding_index"]
    result = run(doc, (s, v, a))
    entry = next(e for e in result.endpoints if e.id == "response_w12").analyses["blinding_index"]
    bang = entry["bang_participant"]["details"]["arms"]
    assert bang["baricitinib"]["estimate"] == pytest.approx(0.4, rel=1e-12)
    assert bang["placebo"]["estimate"] == pytest.approx(0.1, rel=1e-12)
    assert entry["available"] and "james_investigator" not in entry  # no investigator guesses recorded


def test_continuous_primary__reported_through_endpoints():
    from pmrtrial.report.tables import build_tables

    doc = bachelor_dict()
    endpoint(doc, "response_w12")["role"] = "secondary"
    endpoint(doc, "crp_pmr_as")["role"] = "primary"
    result = run(doc, make_trial(3, 5, 1, 4))
    # make_trial: 5 and 4 participants with a W12 CRP PMR-AS of 3.5 each
    assert result.primary.responders == {"baricitinib": {"n": 5}, "placebo": {"n": 4}}
    entry = next(e for e in result.endpoints if e.id == "crp_pmr_as").analyses["mean_difference"]
    assert entry["by_visit"]["W12"]["arms"]["baricitinib"]["mean"] == 3.5
    further = next(t for t in build_tables(result) if t.id == "endpoints")
    assert any(row[0].text == "CRP PMR-AS" and row[2].text == "Difference in means (Welch)" for row in further.rows)
