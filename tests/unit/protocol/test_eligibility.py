"""The eligibility engine on the shipped example candidates and on edge cases.

Expected outcomes follow from the BACHELOR criteria (deck; Saraux et al. 2025, Methods) and hand-computed PMR-AS.
"""

from __future__ import annotations

import pytest

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.protocol import load_example_candidates, load_protocol, screen_candidate


@pytest.fixture(scope="module")
def bachelor():
    return load_protocol("bachelor")


@pytest.fixture(scope="module")
def candidates():
    return {c["candidate_id"]: c for c in load_example_candidates()}


# candidate -> (status, failed ids, unanswered ids, CRP PMR-AS by hand)
EXPECTED = {
    "C01": ("eligible", [], [], 29.9),  # 3.5 + 6.6 + 6.8 + 12.0 + 1 (worked example P1, Leeb & Bird 2004 formula)
    "C02": ("not_eligible", ["inc-age", "inc-criteria"], [], 29.9),  # age 48: entry condition of the 2012 criteria too
    "C03": (
        "not_eligible",
        ["inc-activity"],
        [],
        17.0,
    ),  # 2.0 + 5.0 + 5.0 + 4.0 + 1 = 17.0, needs > 17 (worked example P5, Leeb & Bird 2004 formula)
    "C04": ("not_eligible", ["exc-gca"], [], 29.9),
    "C05": ("not_eligible", ["inc-no-gc"], [], 29.9),
    "C06": ("not_eligible", ["inc-duration"], [], 29.9),  # 240 days >= 183
    "C07": ("not_eligible", ["inc-criteria"], [], 26.5),  # 8.0 + 7.5 + 7.0 + 3.0 + 1; criteria 0+0+0+0 = 0 < 4
    "C08": ("incomplete", [], ["inc-criteria", "inc-activity"], None),  # CRP and ESR pending
}


def test_load_example_candidates__six_or_more_covering_each_outcome(candidates):
    assert len(candidates) >= 6
    assert set(candidates) == set(EXPECTED)


@pytest.mark.parametrize("cid", sorted(EXPECTED))
def test_screen_candidate__examples(bachelor, candidates, cid):
    status, failed, unanswered, score = EXPECTED[cid]
    r = screen_candidate(bachelor, candidates[cid])
    assert r.status == status
    assert [o.id for o in r.failed] == failed
    assert [o.id for o in r.unanswered] == unanswered
    if score is None:
        assert r.derived["crp_pmr_as"] is None
    else:
        assert r.derived["crp_pmr_as"] == pytest.approx(score)
    for o in r.failed:
        assert o.source_text and o.values  # every failure carries its source text and the failing values


def test_screen_candidate__failed_criterion_reports_value(bachelor, candidates):
    r = screen_candidate(bachelor, candidates["C02"])
    age = next(o for o in r.failed if o.id == "inc-age")
    assert age.values == {"age_years": 48.0}
    assert "50" in age.source_text


def test_screen_candidate__empty_record_is_incomplete_not_ineligible(bachelor):
    r = screen_candidate(bachelor, {})
    assert r.status == "incomplete"
    assert len(r.unanswered) == 12  # 5 inclusion + 7 exclusion criteria, all unanswerable


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("age_years", 150, "age_years"),
        ("age_years", "seventy", "age_years"),
        ("sex", "F", "sex"),
        ("gca_signs", "no", "gca_signs"),
        ("upper_limb_elevation", 5, "upper_limb_elevation"),
        ("pain_vas", 55, "pain_vas"),
        ("crp_mg_l", -1, "crp_mg_l"),
        ("agee_years", 70, "agee_years"),
    ],
)
def test_screen_candidate__rejects_bad_fields(bachelor, candidates, field, value, fragment):
    record = {**candidates["C01"], field: value}
    with pytest.raises(ScoreInputError, match=fragment):
        screen_candidate(bachelor, record)


def test_screen_candidate__ultrasound_algorithm_can_rescue_classification(bachelor, candidates):
    # Clinical algorithm: MST 30 (0) + hip (1) + seronegative (2) + other joints (0) = 3 < 4 -> not PMR.
    # Ultrasound algorithm: 3 + 1 + 1 = 5 >= 5 -> PMR; either algorithm classifies (Dasgupta 2012).
    record = {
        **candidates["C01"],
        "morning_stiffness_min": 30,
        "other_joint_involvement": True,
        "us_shoulder_and_hip": True,
        "us_both_shoulders": True,
    }
    r = screen_candidate(bachelor, record)
    assert r.derived["eular_acr_2012_pmr"] is True
    record_no_us = {**record, "us_shoulder_and_hip": None, "us_both_shoulders": None}
    assert screen_candidate(bachelor, record_no_us).derived["eular_acr_2012_pmr"] is False
