"""PMR-AS, activity categories, flare and BACHELOR response.

Expected numbers are hand calculations from the formulas in Leeb & Bird 2004 (Leeb & Bird 2004;
Leeb 2007; Dejaco 2011 Table 1), with the arithmetic in the comment beside each case.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmrtrial.exceptions import PmrTrialError, ScoreInputError
from pmrtrial.scores import (
    classify_pmr_as_activity,
    classify_response_state,
    compute_clin_pmr_as,
    compute_crp_pmr_as,
    compute_esr_pmr_as,
    detect_flare,
    is_bachelor_responder,
)

# (crp, unit, VASp, VASph, MST, EUL, expected score, category, <=10) -- Leeb & Bird 2004, hand arithmetic
WORKED = [
    pytest.param(35, "mg_l", 6.6, 6.8, 120, 1, 29.9, "high", False, id="P1: 3.5+6.6+6.8+12.0+1=29.9"),
    pytest.param(4, "mg_l", 2.0, 1.0, 15, 0, 4.9, "low", True, id="P2: 0.4+2.0+1.0+1.5+0=4.9"),
    pytest.param(0, "mg_l", 0.5, 0.5, 5, 0, 1.5, "remission", True, id="P3: 0+0.5+0.5+0.5+0=1.5"),
    pytest.param(10, "mg_l", 2.0, 2.0, 20, 0, 7.0, "moderate", True, id="P4: 1.0+2.0+2.0+2.0+0=7.0"),
    pytest.param(20, "mg_l", 5.0, 5.0, 40, 1, 17.0, "moderate", False, id="P5: 2.0+5.0+5.0+4.0+1=17.0"),
    pytest.param(1.2, "mg_dl", 3.0, 2.0, 30, 1, 10.2, "moderate", False, id="P6: 1.2+3.0+2.0+3.0+1=10.2"),
]


def _score(crp: float, unit: str, vasp: float, vasph: float, mst: float, eul: int) -> float:
    return float(
        compute_crp_pmr_as(
            **{f"crp_{unit}": crp},
            pain_vas=vasp,
            physician_global_vas=vasph,
            morning_stiffness_min=mst,
            upper_limb_elevation=eul,
        )
    )


@pytest.mark.parametrize(("crp", "unit", "vasp", "vasph", "mst", "eul", "expected", "category", "le10"), WORKED)
def test_compute_crp_pmr_as__matches_domain_worked_examples(crp, unit, vasp, vasph, mst, eul, expected, category, le10):
    score = _score(crp, unit, vasp, vasph, mst, eul)
    assert score == pytest.approx(expected, rel=1e-12)
    assert classify_pmr_as_activity(score) == category
    assert (round(score, 6) <= 10) is le10


def test_compute_crp_pmr_as__coefficients_match_leeb_bird_formula():
    # Unit increments (hand): each component's coefficient in CRP(mg/dL) + VASp + VASph + 0.1*MST + EUL.
    base = dict(
        crp_mg_dl=0.0, pain_vas=0.0, physician_global_vas=0.0, morning_stiffness_min=0.0, upper_limb_elevation=0
    )
    assert compute_crp_pmr_as(**base) == 0.0
    for name, step, coefficient in [
        ("crp_mg_dl", 1.0, 1.0),
        ("pain_vas", 1.0, 1.0),
        ("physician_global_vas", 1.0, 1.0),
        ("morning_stiffness_min", 10.0, 0.1),
        ("upper_limb_elevation", 1, 1.0),
    ]:
        assert compute_crp_pmr_as(**{**base, name: step}) == pytest.approx(coefficient * step)


def test_compute_esr_pmr_as__matches_domain_example():
    # Leeb & Bird 2004: ESR 22, VASp 3.3, VASph 0.9, MST 10, EUL 0 -> 2.2 + 3.3 + 0.9 + 1.0 + 0 = 7.4
    score = compute_esr_pmr_as(
        esr_mm_h=22, pain_vas=3.3, physician_global_vas=0.9, morning_stiffness_min=10, upper_limb_elevation=0
    )
    assert score == pytest.approx(7.4, rel=1e-12)
    assert classify_pmr_as_activity(score, marker="esr") == "moderate"  # 7.4 >= 7


def test_compute_clin_pmr_as__is_the_score_without_marker():
    # Hand: 6.6 + 6.8 + 12.0 + 1 = 26.4 (P1 without its CRP of 3.5 mg/dL)
    assert compute_clin_pmr_as(
        pain_vas=6.6, physician_global_vas=6.8, morning_stiffness_min=120, upper_limb_elevation=1
    ) == pytest.approx(26.4)


def test_compute_crp_pmr_as__vectorised_with_missing():
    scores = compute_crp_pmr_as(
        crp_mg_l=[35, None, 4],
        pain_vas=[6.6, 2.0, 2.0],
        physician_global_vas=[6.8, 1.0, 1.0],
        morning_stiffness_min=[120, 15, float("nan")],
        upper_limb_elevation=[1, 0, 0],
    )
    assert isinstance(scores, np.ndarray)
    assert scores[0] == pytest.approx(29.9)  # P1
    assert math.isnan(scores[1]) and math.isnan(scores[2])  # missing CRP / missing MST -> missing, never 0


def test_compute_crp_pmr_as__missing_scalar_is_nan_not_error():
    assert math.isnan(_score_none())


def _score_none() -> float:
    return float(
        compute_crp_pmr_as(
            crp_mg_l=None, pain_vas=1, physician_global_vas=1, morning_stiffness_min=10, upper_limb_elevation=0
        )
    )


@pytest.mark.parametrize(
    ("field", "value", "expected_words"),
    [
        ("pain_vas", 10.5, "[0, 10]"),
        ("pain_vas", -0.1, "[0, 10]"),
        ("physician_global_vas", 11, "[0, 10]"),
        ("morning_stiffness_min", 1441, "[0, 1440]"),
        ("morning_stiffness_min", -1, "[0, 1440]"),
        ("upper_limb_elevation", 4, "{0, 1, 2, 3}"),
        ("upper_limb_elevation", 1.5, "{0, 1, 2, 3}"),
        # CRP accepts what the canonical visits dataset accepts (pmrtrial.vocabulary: [0, 1000] mg/L).
        ("crp_mg_l", -3, "[0, 1000]"),
        ("crp_mg_l", 1000.5, "[0, 1000]"),
        ("pain_vas", "7", "[0, 10]"),
        ("pain_vas", True, "[0, 10]"),
    ],
)
def test_compute_crp_pmr_as__rejects_bad_input_naming_field_value_and_range(field, value, expected_words):
    args = dict(crp_mg_l=10, pain_vas=5, physician_global_vas=5, morning_stiffness_min=30, upper_limb_elevation=1)
    args[field] = value
    with pytest.raises(ScoreInputError) as info:
        compute_crp_pmr_as(**args)
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, PmrTrialError)
    assert err.field == field
    assert field in str(err) and repr(value) in str(err) and expected_words in str(err)


def test_compute_crp_pmr_as__needs_exactly_one_crp_unit():
    clinical = dict(pain_vas=5, physician_global_vas=5, morning_stiffness_min=30, upper_limb_elevation=1)
    with pytest.raises(ScoreInputError, match="exactly one of crp_mg_l or crp_mg_dl"):
        compute_crp_pmr_as(**clinical)
    with pytest.raises(ScoreInputError, match="exactly one"):
        compute_crp_pmr_as(crp_mg_l=10, crp_mg_dl=1, **clinical)


def test_compute_esr_pmr_as__rejects_negative_esr():
    with pytest.raises(ScoreInputError, match="esr_mm_h"):
        compute_esr_pmr_as(
            esr_mm_h=-1, pain_vas=1, physician_global_vas=1, morning_stiffness_min=1, upper_limb_elevation=0
        )


# Boundaries (Leeb & Bird 2004): remission <= 1.5 < low < 7 <= moderate <= 17 < high.
@pytest.mark.parametrize(
    ("score", "category"),
    [
        (0.0, "remission"),
        (1.5, "remission"),
        (1.500001, "low"),
        (6.99, "low"),
        (7.0, "moderate"),
        (17.0, "moderate"),
        (17.01, "high"),
        (60.0, "high"),
    ],
)
def test_classify_pmr_as_activity__boundaries(score, category):
    assert classify_pmr_as_activity(score) == category


def test_classify_pmr_as_activity__floating_point_boundary_lands_on_documented_side():
    # 0.1 * 70 = 7.000000000000001 in binary floating point; 0 + 0 + 0 + 7.0 must be moderate, and
    # 0.1+0.2+... sums that land at 6.9999999999 must not fall into "low".
    score = compute_crp_pmr_as(
        crp_mg_dl=0.1, pain_vas=0.2, physician_global_vas=0.7, morning_stiffness_min=60, upper_limb_elevation=0
    )
    assert classify_pmr_as_activity(score) == "moderate"  # hand: 0.1 + 0.2 + 0.7 + 6.0 = 7.0


def test_classify_pmr_as_activity__missing_and_vector():
    assert classify_pmr_as_activity(None) is None
    assert list(classify_pmr_as_activity([1.0, None, 20.0])) == ["remission", None, "high"]
    with pytest.raises(ScoreInputError, match="marker"):
        classify_pmr_as_activity(5.0, marker="das28")  # type: ignore[arg-type]


# Flare (Dejaco 2011 Table 1): > 9.35 absolute, or increase > 6.6.
def test_detect_flare__domain_example_absolute_only():
    # Leeb & Bird 2004: P6 (10.2) vs P2 (4.9): change 10.2 - 4.9 = 5.3, not > 6.6; 10.2 > 9.35.
    r = detect_flare(10.2, reference_score=4.9)
    assert (r.is_flare, r.by_absolute, r.by_change) == (True, True, False)
    assert r.change == pytest.approx(5.3)


@pytest.mark.parametrize(
    ("score", "reference", "flare", "absolute", "change"),
    [
        (9.35, None, False, False, None),  # not > 9.35
        (9.36, None, True, True, None),
        (9.0, 2.4, False, False, False),  # change 6.6, not > 6.6
        (9.0, 2.3, True, False, True),  # change 6.7 > 6.6, score below 9.35
        (3.0, 8.0, False, False, False),  # improvement
    ],
)
def test_detect_flare__boundaries(score, reference, flare, absolute, change):
    r = detect_flare(score, reference_score=reference)
    assert (r.is_flare, r.by_absolute, r.by_change) == (flare, absolute, change)


def test_detect_flare__missing():
    assert detect_flare(None).is_flare is None
    # Reference missing: absolute rule decides a flare ...
    assert detect_flare(12.0, reference_score=None).is_flare is True
    # ... but cannot rule one out when the change rule is unknowable
    assert detect_flare(5.0, reference_score=float("nan")).is_flare is None


def test_is_bachelor_responder__rules():
    assert is_bachelor_responder(10.0, on_oral_gc=False) is True  # <= 10 inclusive
    assert is_bachelor_responder(10.01, on_oral_gc=False) is False
    assert is_bachelor_responder(2.0, on_oral_gc=True) is False  # rescue GC -> non-responder
    assert is_bachelor_responder(None, on_oral_gc=True) is False  # GC alone decides
    assert is_bachelor_responder(None, on_oral_gc=False) is None
    assert is_bachelor_responder(5.0, on_oral_gc=None) is None


def test_classify_response_state__four_states_and_missing():
    states = classify_response_state([5, 5, 12, 12, None, 5], on_oral_gc=[False, True, False, True, False, None])
    assert list(states) == ["le10_no_gc", "le10_gc", "gt10_no_gc", "gt10_gc", "missing", "missing"]


def test_is_bachelor_responder__rejects_non_boolean_gc():
    with pytest.raises(ScoreInputError, match="on_oral_gc"):
        is_bachelor_responder(5.0, on_oral_gc="yes")


# Properties
_vas = st.floats(min_value=0, max_value=10, allow_nan=False)
_mst = st.floats(min_value=0, max_value=1440, allow_nan=False)
_crp = st.floats(min_value=0, max_value=500, allow_nan=False)
_eul = st.integers(min_value=0, max_value=3)


@given(crp=_crp, vasp=_vas, vasph=_vas, mst=_mst, eul=_eul)
def test_compute_crp_pmr_as__unit_invariance(crp, vasp, vasph, mst, eul):
    a = compute_crp_pmr_as(
        crp_mg_l=crp, pain_vas=vasp, physician_global_vas=vasph, morning_stiffness_min=mst, upper_limb_elevation=eul
    )
    b = compute_crp_pmr_as(
        crp_mg_dl=crp / 10,
        pain_vas=vasp,
        physician_global_vas=vasph,
        morning_stiffness_min=mst,
        upper_limb_elevation=eul,
    )
    assert a == pytest.approx(b, rel=1e-12, abs=1e-12)


@given(
    crp=_crp,
    vasp=_vas,
    vasph=_vas,
    mst=_mst,
    eul=_eul,
    which=st.sampled_from(["crp", "vasp", "vasph", "mst", "eul"]),
    delta=st.floats(min_value=0.01, max_value=5),
)
def test_compute_crp_pmr_as__monotone_in_each_component(crp, vasp, vasph, mst, eul, which, delta):
    args = dict(
        crp_mg_l=crp, pain_vas=vasp, physician_global_vas=vasph, morning_stiffness_min=mst, upper_limb_elevation=eul
    )
    bumped = dict(args)
    key = {
        "crp": "crp_mg_l",
        "vasp": "pain_vas",
        "vasph": "physician_global_vas",
        "mst": "morning_stiffness_min",
        "eul": "upper_limb_elevation",
    }[which]
    if which == "eul":
        bumped[key] = min(eul + 1, 3)
    elif which in ("vasp", "vasph"):
        bumped[key] = min(args[key] + delta, 10.0)
    elif which == "mst":
        bumped[key] = min(args[key] + delta, 1440.0)
    else:
        bumped[key] = args[key] + delta
    assert compute_crp_pmr_as(**bumped) >= compute_crp_pmr_as(**args)


@given(
    value=st.one_of(
        st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=True),
        st.floats(min_value=10.000001, allow_nan=False),
    )
)
def test_compute_crp_pmr_as__never_lets_out_of_range_vas_through(value):
    with pytest.raises(ScoreInputError):
        compute_crp_pmr_as(
            crp_mg_l=5, pain_vas=value, physician_global_vas=1, morning_stiffness_min=1, upper_limb_elevation=0
        )


@given(
    value=st.one_of(
        st.integers(max_value=-1),
        st.integers(min_value=4),
        st.floats(min_value=0.01, max_value=2.99).filter(lambda x: x != int(x)),
    )
)
def test_compute_crp_pmr_as__never_lets_invalid_eul_through(value):
    with pytest.raises(ScoreInputError):
        compute_crp_pmr_as(
            crp_mg_l=5, pain_vas=1, physician_global_vas=1, morning_stiffness_min=1, upper_limb_elevation=value
        )


@given(value=st.floats(min_value=1440.0001, allow_nan=False))
def test_compute_crp_pmr_as__never_lets_out_of_range_stiffness_through(value):
    with pytest.raises(ScoreInputError):
        compute_crp_pmr_as(
            crp_mg_l=5, pain_vas=1, physician_global_vas=1, morning_stiffness_min=value, upper_limb_elevation=0
        )
