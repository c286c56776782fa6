"""The SAP engine on small hand-made datasets with hand-calculable numbers."""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from pmrtrial.analysis import analyse_trial, infer_published_methods
from pmrtrial.datasets import validate_datasets
from pmrtrial.protocol import load_protocol
from pmrtrial.report.render import load_published
from tests.unit.analysis._data import make_trial, visit_row

PROTOCOL = load_protocol("bachelor")


def _analyse(s: pd.DataFrame, v: pd.DataFrame, a: pd.DataFrame, **kw):  # type: ignore[no-untyped-def]
    return analyse_trial(validate_datasets(s, v, a, protocol=PROTOCOL), PROTOCOL, **kw)


@pytest.fixture(scope="module")
def bachelor_like():  # type: ignore[no-untyped-def]
    return _analyse(*make_trial(14, 18, 2, 15, sites=6))


def test_primary__counts_and_crude_statistics(bachelor_like):
    p = bachelor_like.primary
    assert p.visit == "W12" and p.treated_arm == "baricitinib" and p.control_arm == "placebo"
    assert p.responders == {"baricitinib": {"n": 18, "events": 14}, "placebo": {"n": 15, "events": 2}}
    # stats-notes.md (scipy 1.17.1): Fisher two-sided p 0.000361403; crude RR (14/18)/(2/15) = 5.83333;
    # Katz CI 1.56826 - 21.6978; score CI 1.92379 - 21.5548; RD 14/18 - 2/15 = 0.644444 (0.308099 - 0.807818)
    assert p.fisher.p == pytest.approx(0.000361403, rel=1e-6)
    assert p.rr_crude.estimate == pytest.approx(5.83333, rel=1e-5)
    assert (p.rr_crude.lo, p.rr_crude.hi) == pytest.approx((1.56826, 21.6978), rel=1e-5)
    assert (p.rr_score.lo, p.rr_score.hi) == pytest.approx((1.92379, 21.5548), rel=1e-5)
    assert (p.rd.estimate, p.rd.lo, p.rd.hi) == pytest.approx((0.644444, 0.308099, 0.807818), rel=1e-5)
    assert p.boschloo.available and p.boschloo.p is not None and p.boschloo.p < p.fisher.p
    assert p.rr_bayes.available


def test_primary__gee_entry_complete_or_not_available(bachelor_like):
    g = bachelor_like.primary.rr_gee
    if importlib.util.find_spec("pmrtrial.stats.gee") is None:
        assert not g.available and "not available" in (g.reason or "")
        return
    from pmrtrial.stats.gee import fit_risk_ratio_gee

    s, v, _ = make_trial(14, 18, 2, 15, sites=6)
    w12 = v[v["week"] == 12].merge(s, on="subject_id")
    y = (w12["oral_gc_mg_day"] == 0).to_numpy(float)  # every W12 score is 3.5 <= 10, so response = no GC
    ref = fit_risk_ratio_gee(y, (w12["arm"] == "baricitinib").to_numpy(float), w12["site_id"].to_numpy())
    assert g.estimate == pytest.approx(ref.rr, rel=1e-12)
    assert (g.lo, g.hi) == pytest.approx(ref.ci, rel=1e-12)
    assert g.details["se_mancl_derouen"] == pytest.approx(ref.se_mancl_derouen, rel=1e-12)
    assert g.method == ref.method and g.converged == ref.converged
    assert all(f"primary rr_gee: {w}" in bachelor_like.warnings for w in ref.warnings)


def test_results_json__required_keys(bachelor_like):
    d = json.loads(json.dumps(bachelor_like.to_dict()))
    assert d["primary"]["responders"]["baricitinib"] == {"n": 18, "events": 14}
    assert d["primary"]["fisher_p"] == pytest.approx(0.000361403, rel=1e-6)
    assert set(d["primary"]["rr_crude"]) >= {"estimate", "lo", "hi"}
    assert set(d["primary"]["rr_gee"]) >= {"estimate", "lo", "hi", "p", "method", "converged", "warnings"}
    assert isinstance(d["visit_states"], list) and isinstance(d["secondary"], list)
    assert "sample_size" in d


def test_visit_states__hand_counts(bachelor_like):
    w12 = next(r for r in bachelor_like.visit_states if r.week == 12)
    # make_trial: all W12 scores 3.5; non-responders take prednisone -> le10_gc: 18 - 14 = 4, 15 - 2 = 13
    assert w12.counts["baricitinib"] == {
        "n": 18,
        "le10_no_gc": 14,
        "le10_gc": 4,
        "gt10_no_gc": 0,
        "gt10_gc": 0,
        "missing": 0,
    }
    assert w12.counts["placebo"]["le10_gc"] == 13
    w2 = next(r for r in bachelor_like.visit_states if r.week == 2)
    assert w2.counts["baricitinib"]["n"] == 0  # nobody seen at week 2


def test_primary__not_evaluable_record_excluded_and_reported():
    s, v, a = make_trial(2, 3, 1, 2)
    v.loc[(v["subject_id"] == "P001") & (v["week"] == 12), "crp_mg_l"] = np.nan
    r = _analyse(s, v, a)
    # P001 (placebo, i=1 >= events 1) takes GC -> decided False even without a score; so still evaluable
    assert r.primary.responders["placebo"] == {"n": 2, "events": 1}
    v.loc[(v["subject_id"] == "P000") & (v["week"] == 12), "crp_mg_l"] = np.nan  # responder without GC -> undecidable
    r = _analyse(s, v, a)
    assert r.primary.responders["placebo"] == {"n": 1, "events": 0}
    assert r.primary.not_evaluable == {"baricitinib": 0, "placebo": 1}
    assert any("could not be evaluated" in w for w in r.warnings)


def test_secondary__continuous_hand_means_and_welch():
    s, v, a = make_trial(2, 3, 1, 2)
    # pain at W12: baricitinib 1, 2, 3 (mean 2, SD 1); placebo 2, 4 (mean 3, SD sqrt(2)); difference -1
    pain = {"B000": 1.0, "B001": 2.0, "B002": 3.0, "P000": 2.0, "P001": 4.0}
    w12 = v["week"] == 12
    v.loc[w12, "pain_vas"] = v.loc[w12, "subject_id"].map(pain)
    r = _analyse(s, v, a)
    row = next(x for x in r.secondary if x.endpoint_id == "pain_vas" and x.week == 12)
    assert row.arms["baricitinib"] == {"n": 3, "mean": 2.0, "sd": 1.0}
    assert row.arms["placebo"]["mean"] == 3.0 and row.arms["placebo"]["sd"] == pytest.approx(math.sqrt(2), rel=1e-12)
    assert row.effect.estimate == pytest.approx(-1.0, rel=1e-12)
    # independent reference: scipy Welch t test on the same values
    ref = sps.ttest_ind([1.0, 2.0, 3.0], [2.0, 4.0], equal_var=False)
    ci = ref.confidence_interval()
    assert (row.effect.lo, row.effect.hi, row.effect.p) == pytest.approx((ci.low, ci.high, ref.pvalue), rel=1e-9)


def test_secondary__binary_counts_and_absent_column_not_estimable():
    s, v, a = make_trial(2, 3, 1, 2)
    r = _analyse(s, v, a)
    le10 = next(x for x in r.secondary if x.endpoint_id == "crp_pmr_as_le10" and x.week == 12)
    # every W12 score is 3.5 <= 10: 3/3 and 2/2
    assert le10.arms["baricitinib"] == {"n": 3, "events": 3, "pct": 100.0}
    pcs = [x for x in r.secondary if x.endpoint_id == "sf36_pcs"]
    assert len(pcs) == 3 and not any(x.estimable for x in pcs)
    assert "sf36_pcs" in (pcs[0].reason or "")
    assert any("secondary sf36_pcs at W12: not estimable" in w for w in r.warnings)


def test_baseline__hand_descriptives():
    s, v, a = make_trial(1, 3, 1, 2)
    s["age_years"] = [60.0, 70.0, 80.0, 50.0, 55.0]
    r = _analyse(s, v, a)
    age = next(b for b in r.baseline if b.key == "age_years")
    # 60, 70, 80: mean 70, SD 10. SAS definition 5 / R type 2 quartiles: n p = 3 x 0.25 = 0.75 is not an
    # integer -> next order statistic, the 1st (60); 3 x 0.75 = 2.25 -> 3rd (80); median 3 x 0.5 = 1.5 -> 2nd (70)
    assert age.arms["baricitinib"] == {"n": 3, "mean": 70.0, "sd": 10.0, "median": 70.0, "q1": 60.0, "q3": 80.0}
    female = next(b for b in r.baseline if b.key == "female")
    # sex alternates female/male by index within arm: baricitinib 0, 2 female -> 2/3
    assert female.arms["baricitinib"] == {"n": 3, "events": 2, "pct": pytest.approx(200 / 3)}
    eul = next(b for b in r.baseline if b.key == "upper_limb_elevation_below_90")
    assert eul.arms["placebo"]["events"] == 2  # baseline EUL 1 for everyone
    bmi = next(b for b in r.baseline if b.key == "bmi")
    assert not bmi.estimable


def test_adverse_events__participants_by_soc_serious_and_deaths():
    s, v, _ = make_trial(1, 3, 1, 2)
    a = pd.DataFrame(
        {
            "subject_id": ["B000", "B000", "B001", "P000", "P000"],
            "soc": [
                "Infections and infestations",
                "Infections and infestations",
                "Psychiatric disorders",
                "Infections and infestations",
                "Psychiatric disorders",
            ],
            "term": ["Cystitis", "Bronchitis", "Insomnia", "Cystitis", "Depression"],
            "serious": [False, True, False, False, True],
            "outcome": ["recovered", "recovered", "recovered", "recovered", "fatal"],
        }
    )
    r = _analyse(s, v, a)
    ae = r.adverse_events
    # B000 has two infection events: counted once
    inf = next(x for x in ae.any_ae_by_soc if x["soc"] == "Infections and infestations")
    assert (inf["baricitinib"], inf["placebo"], inf["total"]) == (1, 1, 2)
    assert ae.participants_any_ae == {"baricitinib": 2, "placebo": 1}
    assert ae.participants_serious == {"baricitinib": 1, "placebo": 1}
    assert ae.serious_events == {"baricitinib": 1, "placebo": 1}
    assert ae.deaths == {"baricitinib": 0, "placebo": 1} and ae.deaths_known


def test_consort__counts_by_status_and_visit():
    s, v, a = make_trial(1, 3, 1, 2)
    s.loc[1, "status"] = "withdrawn"
    s.loc[4, "status"] = "lost"
    v = v[~((v["subject_id"] == "B001") & (v["week"] == 12))]
    r = _analyse(s, v, a)
    c = r.consort
    assert c.randomised == {"baricitinib": 3, "placebo": 2}
    assert c.withdrawn == {"baricitinib": 1, "placebo": 0} and c.lost == {"baricitinib": 0, "placebo": 1}
    w12 = next(x for x in c.analysed_by_visit if x["visit"] == "W12")
    assert (w12["baricitinib"], w12["placebo"]) == (2, 2)
    assert c.primary_analysed == {"baricitinib": 2, "placebo": 2}


def test_sample_size__from_design_or_not_available(bachelor_like):
    ss = bachelor_like.sample_size
    assert ss["protocol"]["n_per_group"] == 17
    if importlib.util.find_spec("pmrtrial.design") is None:
        assert ss["available"] is False
        return
    by = {m["method"]: m["n_per_group"] for m in ss["methods"]}
    # stats-notes.md: pooled normal 12.4 -> 13; Fleiss continuity 15.5 -> 16; arcsine 12.7 -> 13; exact Fisher 16
    assert by["normal"] == 13 and by["normal-cc"] == 16 and by["arcsine"] == 13 and by["fisher-exact"] == 16


def test_synthetic_flag_adds_warning():
    s, v, a = make_trial(1, 2, 1, 2)
    s.attrs["synthetic"] = True
    r = _analyse(s, v, a)
    assert r.synthetic and r.warnings[0].startswith("SYNTHETIC")


def test_infer_published_methods__narrow_published_interval_reproduced_by_neither():
    out = infer_published_methods(load_published("bachelor"), treated="baricitinib", control="placebo")
    assert out["available"] and out["n_mean_rows"] == 39  # 13 mean rows (15 rows, 2 counts) x 3 weeks in the yaml
    # Week 12 SF-36 MCS: 51.4 (8.8), n 18 vs 47.1 (7.7), n 15. SE = sqrt(8.8^2/18 + 7.7^2/15) = sqrt(4.302 + 3.953)
    # = 2.873; any t interval is at least 2 x 1.96 x 2.873 = 11.3 wide, the printed one (1.3 to 7.2) is 5.9 wide.
    assert "sf36_mcs (week 12)" in out["neither"]
    row = next(r for r in out["rows"] if r["row"] == "sf36_mcs" and r["week"] == 12)
    assert row["welch"]["estimate"] == pytest.approx(51.4 - 47.1, rel=1e-9)
    count = next(r for r in out["rows"] if r["row"] == "crp_pmr_as_le10" and r["week"] == 12)
    # printed 15/18 vs 10/15: RR (15/18)/(10/15) = 1.25
    assert count["rr_katz"]["estimate"] == pytest.approx(1.25, rel=1e-12)
    assert "Welch" in out["finding"]


def test_visit_row_default_score_is_3_5():
    # guard for the helper's documented arithmetic: 5 mg/L -> 0.5; + 1 + 1 + 0.1 x 10 + 0 = 3.5
    s = pd.DataFrame(
        [
            {
                "subject_id": "B000",
                "site_id": "S0",
                "arm": "baricitinib",
                "randomised_on": "2021-01-04",
                "status": "completed",
            }
        ]
    )
    v = pd.DataFrame([visit_row("B000", 12)])
    r = _analyse(s, v, make_trial(0, 0, 0, 0)[2])
    assert next(t for t in r.trajectories if t.week == 12).mean == pytest.approx(3.5, rel=1e-12)
