"""2012 EULAR/ACR provisional classification criteria.

Expected points are hand calculations from Dasgupta 2012, Table 6 (Dasgupta et al. 2012, cases C1-C4).
"""

from __future__ import annotations

import pytest

from pmrtrial.criteria import classify_pmr_2012, compute_esr_upper_limit, is_inflammatory_marker_abnormal
from pmrtrial.exceptions import ScoreInputError

C1 = dict(
    age_years=72,
    bilateral_shoulder_aching=True,
    abnormal_crp_or_esr=True,
    morning_stiffness_min=120,
    hip_pain_or_limited_rom=True,
    rf_or_acpa_positive=False,
    other_joint_involvement=False,
)


def test_classify_pmr_2012__c1_full_score():
    r = classify_pmr_2012(**C1)  # hand: 2 + 1 + 2 + 1 = 6 of 6
    assert (r.verdict, r.total, r.max_possible, r.threshold) == ("pmr", 6, 6, 4)
    assert {i.id: i.points for i in r.items} == {
        "morning_stiffness_gt_45": 2,
        "hip_pain_or_limited_rom": 1,
        "rf_and_acpa_negative": 2,
        "no_other_joint_involvement": 1,
    }
    assert r.entry_met is True


def test_classify_pmr_2012__c2_rf_positive_reaches_threshold():
    r = classify_pmr_2012(**{**C1, "rf_or_acpa_positive": True})  # hand: 2 + 1 + 0 + 1 = 4 >= 4
    assert (r.verdict, r.total) == ("pmr", 4)


def test_classify_pmr_2012__c3_without_and_with_ultrasound():
    c3 = {**C1, "morning_stiffness_min": 30, "hip_pain_or_limited_rom": False, "other_joint_involvement": True}
    r = classify_pmr_2012(**c3)  # hand: 0 + 0 + 2 + 0 = 2 < 4
    assert (r.verdict, r.total, r.threshold) == ("not_pmr", 2, 4)
    r_us = classify_pmr_2012(**c3, with_ultrasound=True, us_shoulder_and_hip=True, us_both_shoulders=True)
    assert (r_us.verdict, r_us.total, r_us.threshold, r_us.max_possible) == ("not_pmr", 4, 5, 8)  # 2 + 1 + 1 = 4 < 5


def test_classify_pmr_2012__c4_age_48_not_classifiable():
    r = classify_pmr_2012(**{**C1, "age_years": 48})
    assert r.verdict == "not_classifiable"
    assert r.entry_conditions["age_50_or_over"] is False
    assert r.total == 6  # points are still reported, separately from the entry conditions


@pytest.mark.parametrize(("mst", "points"), [(45, 0), (45.5, 2), (46, 2), (0, 0)])
def test_classify_pmr_2012__stiffness_boundary_is_strictly_greater_than_45(mst, points):
    r = classify_pmr_2012(**{**C1, "morning_stiffness_min": mst})
    assert r.items[0].points == points


def test_classify_pmr_2012__incomplete_when_unanswered_item_could_change_verdict():
    # Known: 0 (MST 30) + 0 (hip no) + 2 (seronegative) = 2; unknown other joints (1): max 3 < 4 -> not PMR
    r = classify_pmr_2012(
        **{**C1, "morning_stiffness_min": 30, "hip_pain_or_limited_rom": False, "other_joint_involvement": None}
    )
    assert r.verdict == "not_pmr"
    # Known: 2 + 1 + 0 = 3; unknown other joints could add 1 -> 4 >= 4 -> incomplete, never "not PMR"
    r = classify_pmr_2012(**{**C1, "rf_or_acpa_positive": True, "other_joint_involvement": None})
    assert r.verdict == "incomplete"
    assert "item unanswered: no_other_joint_involvement" in r.reasons
    # Entry condition unknown with full points -> incomplete
    r = classify_pmr_2012(**{**C1, "abnormal_crp_or_esr": None})
    assert r.verdict == "incomplete"


def test_classify_pmr_2012__rejects_bad_input():
    with pytest.raises(ScoreInputError, match="morning_stiffness_min"):
        classify_pmr_2012(**{**C1, "morning_stiffness_min": 2000})
    with pytest.raises(ScoreInputError, match="hip_pain_or_limited_rom"):
        classify_pmr_2012(**{**C1, "hip_pain_or_limited_rom": "yes"})
    with pytest.raises(ScoreInputError, match="with_ultrasound"):
        classify_pmr_2012(**C1, us_both_shoulders=True)


def test_compute_esr_upper_limit__miller_rule():
    # Miller 1983 (hand): men age/2 -> 70/2 = 35; women (age+10)/2 -> (70+10)/2 = 40
    assert compute_esr_upper_limit(age_years=70, sex="male") == 35
    assert compute_esr_upper_limit(age_years=70, sex="F") == 40
    with pytest.raises(ScoreInputError, match="sex"):
        compute_esr_upper_limit(age_years=70, sex="x")


def test_is_inflammatory_marker_abnormal():
    assert is_inflammatory_marker_abnormal(crp_mg_l=35) is True  # 35 > 5 mg/L default limit
    assert (
        is_inflammatory_marker_abnormal(crp_mg_l=5, esr_mm_h=20, age_years=70, sex="female") is False
    )  # 5 not > 5; 20 <= 40
    assert is_inflammatory_marker_abnormal(crp_mg_l=3, esr_mm_h=41, age_years=70, sex="female") is True  # 41 > 40
    assert is_inflammatory_marker_abnormal(crp_mg_l=3) is None  # ESR unknown: "and/or" cannot be ruled out
    assert is_inflammatory_marker_abnormal() is None
