"""Derivations on inline hand-made visits; expected values are hand calculations shown inline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmrtrial.derive import (
    compute_predicate,
    derive_var_crp_mg_dl,
    derive_var_crp_pmr_as,
    derive_var_cumulative_gc_step,
    derive_var_cumulative_gc_trapezoid,
    derive_var_endpoint,
    derive_var_esr_pmr_as,
    derive_var_flare,
    derive_var_on_oral_gc,
    derive_var_response_state,
    derive_vars_change_from_baseline,
    derive_visit_variables,
)
from pmrtrial.exceptions import MissingColumnError
from pmrtrial.protocol import evaluate_predicate, load_protocol, parse_predicate

PROTOCOL = load_protocol("bachelor")

# Leeb & Bird 2004 worked examples P1, P2, P6 as three visits of one participant (P6 with CRP 12 mg/L).
VISITS = pd.DataFrame(
    {
        "subject_id": ["A", "A", "A"],
        "week": [0.0, 2.0, 4.0],
        "crp_mg_l": [35.0, 4.0, 12.0],
        "esr_mm_h": [22.0, 22.0, None],
        "pain_vas": [6.6, 2.0, 3.0],
        "physician_global_vas": [6.8, 1.0, 2.0],
        "morning_stiffness_min": [120.0, 15.0, 30.0],
        "upper_limb_elevation": [1.0, 0.0, 1.0],
        "oral_gc_mg_day": [0.0, 0.0, 10.0],
    }
)


def test_derive_var_crp_pmr_as__domain_worked_examples():
    out = derive_var_crp_pmr_as(VISITS)
    # P1: 3.5 + 6.6 + 6.8 + 12.0 + 1 = 29.9; P2: 0.4 + 2.0 + 1.0 + 1.5 + 0 = 4.9; P6: 1.2 + 3.0 + 2.0 + 3.0 + 1 = 10.2
    np.testing.assert_allclose(out["crp_pmr_as"], [29.9, 4.9, 10.2], rtol=1e-12)
    assert "crp_pmr_as" not in VISITS.columns  # input untouched


def test_derive_var_crp_pmr_as__patient_vas_from_protocol_parameter():
    v = VISITS.assign(patient_global_vas=[0.0, 0.0, 0.0])
    out = derive_var_crp_pmr_as(v, patient_vas="patient_global_vas")
    # P1 with VASp 0: 3.5 + 0 + 6.8 + 12.0 + 1 = 23.3
    assert out["crp_pmr_as"].iloc[0] == pytest.approx(23.3, rel=1e-12)


def test_derive_var_esr_pmr_as__domain_example_and_missing():
    v = VISITS.copy()
    v.loc[1, ["pain_vas", "physician_global_vas", "morning_stiffness_min", "upper_limb_elevation"]] = [3.3, 0.9, 10, 0]
    out = derive_var_esr_pmr_as(v)
    # Leeb & Bird 2004: 2.2 + 3.3 + 0.9 + 1.0 + 0 = 7.4; row 3 has no ESR -> missing
    assert out["esr_pmr_as"].iloc[1] == pytest.approx(7.4, rel=1e-12)
    assert np.isnan(out["esr_pmr_as"].iloc[2])


def test_derive_var_crp_mg_dl_and_on_oral_gc():
    v = VISITS.copy()
    v.loc[1, "oral_gc_mg_day"] = None
    out = derive_var_on_oral_gc(derive_var_crp_mg_dl(v))
    assert out["crp_mg_dl"].tolist() == pytest.approx([3.5, 0.4, 1.2])  # mg/L / 10
    assert out["on_oral_gc"].tolist() == [False, pd.NA, True]


def test_derive_var_response_state__four_states_and_missing():
    v = pd.DataFrame(
        {
            "crp_pmr_as": [4.9, 4.9, 10.2, 10.2, np.nan, 10.0],
            "on_oral_gc": pd.array([False, True, False, True, False, None], dtype="boolean"),
        }
    )
    out = derive_var_response_state(v)
    assert out["response_state"].tolist() == ["le10_no_gc", "le10_gc", "gt10_no_gc", "gt10_gc", "missing", "missing"]


def test_derive_vars_change_from_baseline__and_row_order_kept():
    v = derive_var_crp_pmr_as(VISITS).iloc[[2, 0, 1]]
    out = derive_vars_change_from_baseline(v, ["crp_pmr_as"])
    assert out.index.tolist() == [2, 0, 1]
    # change = value - baseline (29.9): 10.2 - 29.9 = -19.7, 0, 4.9 - 29.9 = -25.0
    np.testing.assert_allclose(out["change_crp_pmr_as"], [-19.7, 0.0, -25.0], atol=1e-12)


def test_derive_var_flare__rules_against_baseline():
    # Baseline P2 (4.9) then P1 (29.9) then P6 (10.2): Leeb & Bird 2004 flare example P6 vs P2.
    v = derive_var_crp_pmr_as(VISITS.iloc[[1, 0, 2]].assign(week=[0.0, 2.0, 4.0]))
    out = derive_var_flare(v)
    # 4.9: neither rule; 29.9 > 9.35 and +25.0 > 6.6: both; 10.2 > 9.35 but +5.3 <= 6.6: absolute only
    assert out["flare"].tolist() == [False, True, True]
    assert out["flare_rule"].tolist() == ["none", "both", "absolute"]


def test_derive_var_cumulative_gc__step_and_trapezoid_hand_calculation():
    v = pd.DataFrame(
        {
            "subject_id": ["A", "A", "A", "B", "B"],
            "week": [0.0, 2.0, 4.0, 0.0, 4.0],
            "oral_gc_mg_day": [0.0, 10.0, 5.0, 20.0, 0.0],
        }
    )
    step = derive_var_cumulative_gc_step(v)["cumulative_gc_mg"].tolist()
    trap = derive_var_cumulative_gc_trapezoid(v)["cumulative_gc_mg"].tolist()
    # step, A: 0 at W0; 0 x 14 = 0 at W2; + 10 x 14 = 140 at W4. B: 0; 20 x 28 = 560.
    assert step == [0.0, 0.0, 140.0, 0.0, 560.0]
    # trapezoid, A: (0+10)/2 x 14 = 70; + (10+5)/2 x 14 = 105 -> 175. B: (20+0)/2 x 28 = 280.
    assert trap == [0.0, 70.0, 175.0, 0.0, 280.0]


def test_derive_var_cumulative_gc__missing_dose_makes_later_totals_missing():
    v = pd.DataFrame({"subject_id": ["A"] * 3, "week": [0.0, 2.0, 4.0], "oral_gc_mg_day": [5.0, None, 5.0]})
    out = derive_var_cumulative_gc_step(v)["cumulative_gc_mg"].to_numpy()
    assert out[0] == 0.0 and out[1] == 70.0 and np.isnan(out[2])  # 5 x 14 = 70; then unknown


def test_compute_predicate__kleene_logic_matches_scalar_interpreter():
    pred = parse_predicate(
        {"all": [{"var": "crp_pmr_as", "op": "le", "value": 10}, {"var": "on_oral_gc", "op": "eq", "value": False}]}
    )
    score = [4.9, 4.9, 10.2, np.nan, np.nan, 10.0]
    gc = [False, True, None, False, True, None]
    data = pd.DataFrame({"crp_pmr_as": score, "on_oral_gc": pd.array(gc, dtype="boolean")})
    got = compute_predicate(pred, data)
    # True; False (GC); False (>10); unknown; False (GC decides); unknown
    np.testing.assert_array_equal(got, [1.0, 0.0, 0.0, np.nan, 0.0, np.nan])
    for i in range(len(score)):
        expected = evaluate_predicate(
            pred, {"crp_pmr_as": None if np.isnan(score[i]) else score[i], "on_oral_gc": gc[i]}
        )
        assert (np.nan if expected is None else float(expected)) == pytest.approx(got[i], nan_ok=True)


def test_compute_predicate__rounds_before_comparing_and_handles_any_not_in():
    data = pd.DataFrame({"x": [10.0000000001, 10.1], "c": ["a", None]})
    assert compute_predicate(parse_predicate({"var": "x", "op": "le", "value": 10}), data).tolist() == [1.0, 0.0]
    p = parse_predicate(
        {"any": [{"var": "c", "op": "in", "value": ["a"]}, {"not": {"var": "x", "op": "gt", "value": 10}}]}
    )
    np.testing.assert_array_equal(compute_predicate(p, data), [1.0, np.nan])


def test_derive_var_endpoint__three_valued_flag():
    v = derive_var_on_oral_gc(derive_var_crp_pmr_as(VISITS))
    out = derive_var_endpoint(v, PROTOCOL.primary_endpoint)
    # 29.9 > 10: False; 4.9 and no GC: True; 10.2 > 10: False
    assert out["ep_response_w12"].tolist() == [False, True, False]


def test_derive_visit_variables__absent_columns_listed_not_derived():
    v = VISITS.drop(columns=["esr_mm_h"])
    d = derive_visit_variables(v, PROTOCOL)
    assert "esr_pmr_as" in d.not_derived and "esr_mm_h" in d.not_derived["esr_pmr_as"]
    assert {
        "crp_pmr_as",
        "crp_mg_dl",
        "on_oral_gc",
        "response_state",
        "flare",
        "cumulative_gc_mg",
        "ep_response_w12",
        "ep_crp_pmr_as_le10",
        "ep_upper_limb_elevation_above_90",
    } <= set(d.data.columns)
    assert d.baseline_week == 0.0
    with pytest.raises(MissingColumnError, match="esr_mm_h"):
        derive_var_esr_pmr_as(v)
