"""The primary endpoint's sensitivity analyses and per-centre estimates, on hand-made data.

Expected values are hand arithmetic (shown) or hand enumeration of Fisher's exact test (the hypergeometric
sum written out with ``math.comb``); the R check on the twin is tests/reference/test_twin_sensitivity_vs_r.py.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pandas as pd
import pytest

from pmrtrial._yaml import safe_load
from pmrtrial.analysis import analyse_trial
from pmrtrial.datasets import validate_datasets
from pmrtrial.exceptions import ProtocolValidationError
from pmrtrial.protocol import parse_protocol, validate_protocol
from pmrtrial.protocol.registry import read_bundled_text
from tests.unit.analysis._data import make_trial


def fisher_two_sided(a: int, n1: int, c: int, n0: int) -> float:
    """Fisher's exact p by enumeration: the sum of hypergeometric probabilities of every table with the observed
    margins that is no more likely than the observed one (R fisher.test's rule, relative tolerance 1e-7)."""
    m, total = a + c, n1 + n0

    def prob(x: int) -> float:
        return math.comb(n1, x) * math.comb(n0, m - x) / math.comb(total, m)

    observed = prob(a)
    return sum(prob(x) for x in range(max(0, m - n0), min(m, n1) + 1) if prob(x) <= observed * (1 + 1e-7))


def counts(arms: Any) -> dict[str, tuple[int, int]]:
    return {arm: (c["events"], c["n"]) for arm, c in arms.items()}


def bachelor_doc() -> dict[str, Any]:
    return copy.deepcopy(safe_load(read_bundled_text("bachelor")))


def trial_with_gaps() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """14/18 vs 2/15 at W12 (make_trial), plus: placebo P015 randomised with no W12 visit, baricitinib B013's W12
    record (a responder's) missing its CRP (not evaluable), and a study-drug dose per visit."""
    s, v, a = make_trial(14, 18, 2, 16, sites=6)
    v = v[~((v["subject_id"] == "P015") & (v["week"] == 12))].copy()
    v.loc[(v["subject_id"] == "B013") & (v["week"] == 12), "crp_mg_l"] = math.nan
    v["study_drug_mg_day"] = [4.0 if sid.startswith("B") else 0.0 for sid in v["subject_id"]]
    # baricitinib B000 (a responder) stopped the study drug: 0 mg/day at W12 where the protocol gives 2 mg/day
    v.loc[(v["subject_id"] == "B000") & (v["week"] == 12), "study_drug_mg_day"] = 0.0
    return s, v, a


def analyse(doc: dict[str, Any], trial: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], **kw: Any) -> Any:
    proto = parse_protocol(doc)
    s, v, a = trial
    return analyse_trial(validate_datasets(s, v, a, protocol=proto), proto, **kw)


def test_primary_sensitivity__three_declared_analyses_in_order():
    result = analyse(bachelor_doc(), trial_with_gaps())
    sens = result.primary.sensitivity
    assert list(sens) == ["missing_as_non_response", "per_protocol", "tipping_point"]
    # primary analysis set: B013 not evaluable, P015 not assessed -> 13/17 vs 2/15
    assert dict(result.primary.responders) == {
        "baricitinib": {"n": 17, "events": 13},
        "placebo": {"n": 15, "events": 2},
    }
    nr = sens["missing_as_non_response"]
    # all randomised: B013 and P015 count as non-responders -> 13/18 vs 2/16
    assert counts(nr.details["arms"]) == {"baricitinib": (13, 18), "placebo": (2, 16)}
    assert nr.details["imputed_non_responders"] == {"baricitinib": 1, "placebo": 1}
    assert nr.estimate == pytest.approx((13 / 18) / (2 / 16), rel=1e-12)  # 0.7222 / 0.125 = 5.7778
    assert nr.p == pytest.approx(fisher_two_sided(13, 18, 2, 16), rel=1e-9)
    assert nr.details["rd"]["estimate"] == pytest.approx(13 / 18 - 2 / 16, rel=1e-12)


def test_per_protocol__excludes_the_participant_who_stopped_study_drug():
    result = analyse(bachelor_doc(), trial_with_gaps())
    pp = result.primary.sensitivity["per_protocol"]
    assert pp.details["excluded"]["study_drug_stopped"] == ["B000"]
    # primary analysis set 13/17 vs 2/15 without B000 (a responder) -> 12/16 vs 2/15
    assert counts(pp.details["arms"]) == {"baricitinib": (12, 16), "placebo": (2, 15)}
    assert pp.estimate == pytest.approx((12 / 16) / (2 / 15), rel=1e-12)
    assert pp.p == pytest.approx(fisher_two_sided(12, 16, 2, 15), rel=1e-9)
    # the injection rule needs a gc_doses log: said, never silently passed
    assert "injection_outside_permitted_weeks not assessable: no gc_doses log" in pp.warnings
    assert any("per_protocol: injection_outside_permitted_weeks not assessable" in w for w in result.warnings)


def test_per_protocol__injection_outside_the_permitted_weeks_excludes():
    s, v, a = trial_with_gaps()
    # week 4 is permitted (day 28 +- 3): day 30 is kept; day 50 (week 7) is outside; day 120 is after W12 (day 84)
    gc = pd.DataFrame(
        {
            "subject_id": ["B001", "B002", "P001", "B003"],
            "start_day": [30, 50, 50, 120],
            "end_day": [30, 50, 50, 120],
            "dose_mg_day": [7.0, 7.0, 7.0, 7.0],
            "reason": ["injection", "injection", "injection", "injection"],
        }
    )
    result = analyse(bachelor_doc(), (s, v, a), gc_doses=gc)
    pp = result.primary.sensitivity["per_protocol"]
    assert pp.details["excluded"]["injection_outside_permitted_weeks"] == ["B002", "P001"]
    assert pp.details["not_assessable"] == []
    # 17 assessed baricitinib without B000 (stopped) and B002; 15 assessed placebo without P001. (With a gc_doses
    # log the oral GC comes from the log, which has no oral row here, so the responder counts differ from above.)
    assert {arm: c["n"] for arm, c in pp.details["arms"].items()} == {"baricitinib": 15, "placebo": 14}


def test_tipping_point__every_imputation_enumerated_by_hand():
    result = analyse(bachelor_doc(), trial_with_gaps())
    tp = result.primary.sensitivity["tipping_point"]
    d = tp.details
    assert (d["missing_treated"], d["missing_control"]) == (1, 1)
    cells = {(c["imputed_treated"], c["imputed_control"]): c for c in d["cells"]}
    assert sorted(cells) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    # observed 13/17 vs 2/15; the missing: 1 treated, 1 control -> totals 18 and 16
    for (i, j), cell in cells.items():
        a, c = 13 + i, 2 + j
        assert (cell["events_treated"], cell["n_treated"], cell["events_control"], cell["n_control"]) == (a, 18, c, 16)
        assert cell["p"] == pytest.approx(fisher_two_sided(a, 18, c, 16), rel=1e-9)
        assert cell["rr"] == pytest.approx((a / 18) / (c / 16), rel=1e-12)
    # every p is < 0.05 (largest: 13/18 vs 3/16), so nothing tips
    assert max(fisher_two_sided(13 + i, 18, 2 + j, 16) for i, j in cells) < 0.05
    assert d["robust"] is True and d["tipping_points"] == []


def test_tipping_point__conclusion_that_flips_is_found():
    # 4/8 vs 0/8 complete case (Fisher p = 0.0769 by hand enumeration: not significant at 5%), 2 missing treated,
    # 0 control: imputing 2 treated responders gives 6/10 vs 0/8 (p = 0.0065, significant) -> tips at (2, 0)
    s, v, a = make_trial(6, 10, 0, 8, sites=2)
    v = v[~(v["subject_id"].isin(["B000", "B001"]) & (v["week"] == 12))]
    result = analyse(bachelor_doc(), (s, v, a))
    d = result.primary.sensitivity["tipping_point"].details
    assert fisher_two_sided(4, 8, 0, 8) > 0.05
    assert fisher_two_sided(6, 10, 0, 8) < 0.05
    flips = sorted((c["imputed_treated"], c["imputed_control"]) for c in d["cells"] if c["flips"])
    expected = sorted((i, 0) for i in range(3) if fisher_two_sided(4 + i, 10, 0, 8) <= 0.05)
    assert flips == expected and d["robust"] is False


def test_by_centre__zero_event_centre_has_rd_but_no_rr():
    result = analyse(bachelor_doc(), trial_with_gaps())
    centres = {c["site_id"]: c for c in result.primary.by_centre}
    assert len(centres) == 6
    arms = ("baricitinib", "placebo")
    total = {a: tuple(sum(c["arms"][a][k] for c in centres.values()) for k in ("events", "n")) for a in arms}
    assert total == {"baricitinib": (13, 17), "placebo": (2, 15)}  # the primary analysis set, split by centre
    for c in centres.values():
        t, p = c["arms"]["baricitinib"], c["arms"]["placebo"]
        assert c["rd"]["estimate"] == pytest.approx(t["events"] / t["n"] - p["events"] / p["n"], abs=1e-12)
        if p["events"] == 0 or t["events"] == 0:
            assert c["rr"]["available"] is False and c["rr"]["estimate"] is None
            assert "not estimable" in c["rr"]["reason"]
        else:
            assert c["rr"]["estimate"] == pytest.approx((t["events"] / t["n"]) / (p["events"] / p["n"]))
    assert any(not c["rr"]["available"] for c in centres.values())
    as_json = result.to_dict()["primary"]
    assert as_json["by_centre"][0]["site_id"] == "S0"
    assert set(as_json["sensitivity"]) == {"missing_as_non_response", "per_protocol", "tipping_point"}


def test_per_protocol_population_restricting_an_unknown_one__proto_e011():
    doc = bachelor_doc()
    next(p for p in doc["populations"] if p["id"] == "per_protocol")["restricts"] = "no_such_set"
    issues = [i for i in validate_protocol(parse_protocol(doc)) if i.id == "PROTO-E011"]
    assert issues and "no_such_set" in issues[0].message


def test_per_protocol_without_such_population__not_available_with_reason():
    doc = bachelor_doc()
    doc["populations"] = [p for p in doc["populations"] if p["id"] != "per_protocol"]
    pp = analyse(doc, trial_with_gaps()).primary.sensitivity["per_protocol"]
    assert not pp.available and "no per-protocol population" in str(pp.reason)


def test_sensitivity_method_on_a_continuous_endpoint__rejected():
    doc = bachelor_doc()
    next(e for e in doc["endpoints"] if e["id"] == "crp_pmr_as")["analysis"] = ["tipping_point"]
    with pytest.raises(ProtocolValidationError, match="tipping_point"):
        analyse(doc, trial_with_gaps())
