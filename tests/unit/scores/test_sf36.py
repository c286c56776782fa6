"""SF-36 v1 standard scoring and PCS/MCS with the 1990 US norms.

Expected values are hand calculations (tier C) from the rules and the norm table in
Ware et al. 1993 manual; Ware, Kosinski & Keller 1994,
with the arithmetic shown. S1-S3 are that section's worked examples.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.scores.sf36 import (
    SF36_SCALES,
    SF36_SCORING,
    compute_sf36,
    compute_sf36_norm_based,
    load_sf36_norms,
    sf36_item_keys,
)

PF = [f"q3{c}" for c in "abcdefghij"]
RP = [f"q4{c}" for c in "abcd"]
RE = [f"q5{c}" for c in "abc"]

# Every answer at its best (higher = better after recoding).
BEST: dict[str, int] = {
    "q1": 1,
    "q2": 1,
    **dict.fromkeys(PF, 3),
    **dict.fromkeys(RP, 2),
    **dict.fromkeys(RE, 2),
    "q6": 1,
    "q7": 1,
    "q8": 1,
    "q9a": 1,
    "q9e": 1,
    "q9d": 1,
    "q9h": 1,  # reversed items: 1 = all of the time
    "q9b": 6,
    "q9c": 6,
    "q9f": 6,
    "q9g": 6,
    "q9i": 6,
    "q10": 5,
    "q11a": 5,
    "q11b": 1,
    "q11c": 5,
    "q11d": 1,
}

# Ware, Kosinski & Keller 1994 S3 answers.
S3: dict[str, int] = {
    **dict(zip(PF, [1, 2, 2, 2, 3, 3, 2, 3, 3, 3], strict=True)),
    **dict(zip(RP, [1, 1, 2, 2], strict=True)),
    **dict(zip(RE, [2, 2, 1], strict=True)),
    "q7": 3,
    "q8": 2,
    "q1": 3,
    "q11a": 4,
    "q11b": 2,
    "q11c": 3,
    "q11d": 3,
    "q9a": 3,
    "q9e": 4,
    "q9g": 4,
    "q9i": 3,
    "q6": 2,
    "q10": 4,
    "q9b": 5,
    "q9c": 5,
    "q9d": 3,
    "q9f": 4,
    "q9h": 3,
}


def test_compute_sf36_norm_based__s1_norm_means_give_50() -> None:
    # Ware, Kosinski & Keller 1994 S1: every scale at its 1990 US norm mean -> every z = 0 -> PCS = MCS = 50.000
    means = {  # Ware, Kosinski & Keller 1994, as tabulated there
        "pf": 84.52404,
        "rp": 81.19907,
        "bp": 75.49196,
        "gh": 72.21316,
        "vt": 61.05453,
        "sf": 83.59753,
        "re": 81.29467,
        "mh": 74.84212,
    }
    out = compute_sf36_norm_based(means)
    assert out["pcs"] == pytest.approx(50.0, abs=1e-9)
    assert out["mcs"] == pytest.approx(50.0, abs=1e-9)
    for scale in SF36_SCALES:
        assert out[f"{scale}_t"] == pytest.approx(50.0, abs=1e-9)


def test_compute_sf36__s2_best_answers() -> None:
    # Ware, Kosinski & Keller 1994 S2: all scales 100, PCS = 57.872, MCS = 62.137 (printed to 3 dp)
    result = compute_sf36(BEST)
    for scale in SF36_SCALES:
        assert getattr(result, scale) == pytest.approx(100.0, abs=1e-9), scale
    assert result.pcs == pytest.approx(57.872, abs=5e-4)
    assert result.mcs == pytest.approx(62.137, abs=5e-4)
    # PF T-score: 50 + 10 (100 - 84.52404)/22.89490 = 56.760 (hand)
    assert result.pf_t == pytest.approx(56.760, abs=5e-4)


def test_compute_sf36__s3_mixed_answers() -> None:
    result = compute_sf36(S3)
    # Ware, Kosinski & Keller 1994 S3, arithmetic there:
    assert result.pf == pytest.approx(70.0)  # raw 24: (24-10)/20*100
    assert result.rp == pytest.approx(50.0)  # raw 6: (6-4)/4*100
    assert result.re == pytest.approx(66.667, abs=5e-4)  # raw 5: (5-3)/3*100
    assert result.bp == pytest.approx(62.0)  # Q7 3->4.2, Q8 2->4: raw 8.2, (8.2-2)/10*100
    assert result.gh == pytest.approx(62.0)  # 3.4 + 4 + (6-2) + 3 + (6-3) = 17.4: (17.4-5)/20*100
    assert result.vt == pytest.approx(50.0)  # (7-3) + (7-4) + 4 + 3 = 14: (14-4)/20*100
    assert result.sf == pytest.approx(75.0)  # (6-2) + 4 = 8: (8-2)/8*100
    assert result.mh == pytest.approx(68.0)  # 5 + 5 + (7-3) + 4 + (7-3) = 22: (22-5)/25*100
    assert result.pcs == pytest.approx(42.552, abs=5e-4)
    assert result.mcs == pytest.approx(47.187, abs=5e-4)


def test_compute_sf36__records_scoring_name() -> None:
    result = compute_sf36(S3)
    assert result.scoring == "SF-36 v1 standard, 1990 US norms" == SF36_SCORING
    assert result.norms == "US-1990"
    d = result.to_dict()
    assert d["scoring"] == SF36_SCORING
    assert set(SF36_SCALES) | {"pcs", "mcs"} <= set(d)


def test_compute_sf36__worst_answers_give_zero_scales() -> None:
    # every answer at its worst -> every raw sum at its minimum -> 0 on all 8 scales
    worst: dict[str, int] = {}
    worst.update(
        {
            "q1": 5,
            "q2": 5,
            **dict.fromkeys(PF, 1),
            **dict.fromkeys(RP, 1),
            **dict.fromkeys(RE, 1),
            "q6": 5,
            "q7": 6,
            "q8": 5,
            "q9a": 6,
            "q9e": 6,
            "q9d": 6,
            "q9h": 6,
            "q9b": 1,
            "q9c": 1,
            "q9f": 1,
            "q9g": 1,
            "q9i": 1,
            "q10": 1,
            "q11a": 1,
            "q11b": 5,
            "q11c": 1,
            "q11d": 5,
        }
    )
    result = compute_sf36(worst)
    for scale in SF36_SCALES:
        assert getattr(result, scale) == pytest.approx(0.0, abs=1e-9), scale


@pytest.mark.parametrize(
    ("q7", "q8", "expected_bp"),
    [
        (1, 1, 100.0),  # 6.0 + 6 = 12: (12-2)/10*100
        (2, 1, 84.0),  # 5.4 + 5 = 10.4: (10.4-2)/10*100
        (6, 5, 0.0),  # 1.0 + 1 = 2
        (4, 3, 41.0),  # 3.1 + 3 = 6.1: (6.1-2)/10*100
        (None, 2, 75.0),  # Q8 alone: 2 -> 4.75, imputed twice: 9.5: (9.5-2)/10*100
        (None, 1, 100.0),  # Q8 alone: 1 -> 6.0: 12
        (3, None, 64.0),  # Q7 alone: 4.2, Q8 takes 4.2: 8.4: (8.4-2)/10*100
    ],
)
def test_compute_sf36__bodily_pain_recoding(q7: int | None, q8: int | None, expected_bp: float) -> None:
    assert compute_sf36({"q7": q7, "q8": q8}).bp == pytest.approx(expected_bp, abs=1e-9)


def test_compute_sf36__gh_q1_recoding() -> None:
    # Q1 = 2 -> 4.4; Q11a..d = 3, 3, 3, 3 -> 3, 6-3, 3, 6-3: raw 16.4: (16.4-5)/20*100 = 57
    answers = {"q1": 2, "q11a": 3, "q11b": 3, "q11c": 3, "q11d": 3}
    assert compute_sf36(answers).gh == pytest.approx(57.0, abs=1e-9)


def test_compute_sf36__half_scale_rule_imputes_mean() -> None:
    # PF with 5 of 10 answered: 3, 3, 3, 1, 1 -> mean 2.2, raw 22: (22-10)/20*100 = 60
    answers = dict(zip(PF[:5], [3, 3, 3, 1, 1], strict=True))
    assert compute_sf36(answers).pf == pytest.approx(60.0, abs=1e-9)
    # RE with 2 of 3: 2, 1 -> mean 1.5, raw 4.5: (4.5-3)/3*100 = 50
    assert compute_sf36({"q5a": 2, "q5b": 1}).re == pytest.approx(50.0, abs=1e-9)
    # GH with 3 of 5: Q1 = 1 -> 5.0, Q11a = 5, Q11b = 1 -> 5: mean 5, raw 25 -> 100
    assert compute_sf36({"q1": 1, "q11a": 5, "q11b": 1}).gh == pytest.approx(100.0, abs=1e-9)


@pytest.mark.parametrize(
    ("scale", "answers"),
    [
        ("pf", dict(zip(PF[:4], [3, 3, 3, 3], strict=True))),  # 4 of 10 < half
        ("rp", {"q4a": 2}),  # 1 of 4
        ("re", {"q5a": 2}),  # 1 of 3 (half is 1.5)
        ("gh", {"q1": 1, "q11a": 5}),  # 2 of 5 (half is 2.5)
        ("vt", {"q9a": 1}),  # 1 of 4
        ("mh", {"q9b": 6, "q9c": 6}),  # 2 of 5
        ("bp", {}),  # 0 of 2
        ("sf", {}),  # 0 of 2
    ],
)
def test_compute_sf36__fewer_than_half_is_missing(scale: str, answers: dict[str, int]) -> None:
    result = compute_sf36(answers)
    assert math.isnan(getattr(result, scale))
    assert math.isnan(result.pcs) and math.isnan(result.mcs)


def test_compute_sf36__one_missing_scale_makes_pcs_mcs_missing() -> None:
    answers: dict[str, Any] = dict(S3)
    for key in RP[:3]:  # RP keeps 1 of 4 items
        answers[key] = None
    result = compute_sf36(answers)
    assert math.isnan(result.rp)
    assert result.pf == pytest.approx(70.0)  # the other scales are still scored (S3)
    assert math.isnan(result.pcs) and math.isnan(result.mcs)
    assert result.to_dict()["pcs"] is None


@pytest.mark.parametrize(("item", "value"), [("q3a", 4), ("q4b", 0), ("q7", 7), ("q9c", 1.5), ("q11d", "2")])
def test_compute_sf36__out_of_range_raises_naming_item(item: str, value: object) -> None:
    answers: dict[str, Any] = dict(S3)
    answers[item] = value
    with pytest.raises(ScoreInputError) as info:
        compute_sf36(answers)
    assert info.value.field == item
    assert item in str(info.value)


def test_compute_sf36__unknown_key_and_norms_raise() -> None:
    with pytest.raises(ScoreInputError, match="q12"):
        compute_sf36({"q12": 1})
    with pytest.raises(ScoreInputError, match="norms"):
        compute_sf36(S3, norms="UK-1992")
    with pytest.raises(ScoreInputError, match="pf"):
        compute_sf36_norm_based({"pf": 120, **{s: 50 for s in SF36_SCALES if s != "pf"}})
    with pytest.raises(ScoreInputError, match="mh"):
        compute_sf36_norm_based({s: 50 for s in SF36_SCALES if s != "mh"})


def test_compute_sf36__dataframe_vectorised_keeps_index() -> None:
    frame = pd.DataFrame([S3, BEST, {}], index=pd.Index([10, 11, 12], name="row"))
    frame["subject"] = ["A", "B", "C"]  # ignored
    result = compute_sf36(frame)
    # S3 then S2 (Ware, Kosinski & Keller 1994), then an empty respondent (all missing)
    np.testing.assert_allclose(result.pcs, [42.552, 57.872, np.nan], atol=5e-4)
    np.testing.assert_allclose(result.mcs, [47.187, 62.137, np.nan], atol=5e-4)
    out = result.to_frame()
    assert list(out.index) == [10, 11, 12]
    assert out.loc[10, "sf36_bp"] == pytest.approx(62.0)
    assert math.isnan(out.loc[12, "sf36_pf"])


def test_sf36_item_keys__36_items() -> None:
    keys = sf36_item_keys()
    assert len(keys) == 36 and keys[0] == "q1" and keys[-1] == "q11d"


def test_load_sf36_norms__coefficients_match_domain_table() -> None:
    # Transcription check: Ware, Kosinski & Keller 1994 table (Ware, Kosinski & Keller 1994, 1990 US norms).
    table = {
        "pf": (84.52404, 22.89490, 0.42402, -0.22999),
        "rp": (81.19907, 33.79729, 0.35119, -0.12329),
        "bp": (75.49196, 23.55879, 0.31754, -0.09731),
        "gh": (72.21316, 20.16964, 0.24954, -0.01571),
        "vt": (61.05453, 20.86942, 0.02877, 0.23534),
        "sf": (83.59753, 22.37642, -0.00753, 0.26876),
        "re": (81.29467, 33.02717, -0.19206, 0.43407),
        "mh": (74.84212, 18.01189, -0.22069, 0.48581),
    }
    norms = load_sf36_norms("US-1990")
    for scale, (mean, sd, pcs, mcs) in table.items():
        assert (norms.mean[scale], norms.sd[scale], norms.pcs_coef[scale], norms.mcs_coef[scale]) == (
            mean,
            sd,
            pcs,
            mcs,
        ), scale
    assert norms.scoring == SF36_SCORING


# --- properties -------------------------------------------------------------------------------

_ANSWER = {key: st.one_of(st.none(), st.integers(lo, hi)) for key, (lo, hi) in [
    *[(k, (1, 5)) for k in ("q1", "q2", "q6", "q8", "q10", "q11a", "q11b", "q11c", "q11d")],
    *[(k, (1, 3)) for k in PF],
    *[(k, (1, 2)) for k in RP + RE],
    ("q7", (1, 6)),
    *[(f"q9{c}", (1, 6)) for c in "abcdefghi"],
]}  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries(_ANSWER))
def test_compute_sf36__scales_within_0_100(answers: dict[str, int | None]) -> None:
    result = compute_sf36(answers)
    for scale in SF36_SCALES:
        value = getattr(result, scale)
        assert math.isnan(value) or -1e-9 <= value <= 100 + 1e-9
    scales_missing = any(math.isnan(getattr(result, s)) for s in SF36_SCALES)
    assert math.isnan(result.pcs) == scales_missing


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 3), st.sets(st.integers(0, 9), min_size=5, max_size=10))
def test_compute_sf36__half_scale_rule_constant_answers(level: int, answered: set[int]) -> None:
    # PF answered on any >= 5 of its 10 items, all with the same answer: the imputed items take that
    # answer, so the score is the complete-data one: (10*level - 10)/20*100.
    answers = {PF[i]: level for i in answered}
    assert compute_sf36(answers).pf == pytest.approx((10 * level - 10) / 20 * 100, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.sets(st.integers(0, 9), min_size=0, max_size=4))
def test_compute_sf36__half_scale_rule_too_few(answered: set[int]) -> None:
    assert math.isnan(compute_sf36({PF[i]: 2 for i in answered}).pf)


@settings(max_examples=100, deadline=None)
@given(st.floats(-3, 3), st.sampled_from(SF36_SCALES))
def test_compute_sf36_norm_based__one_scale_off_its_mean(z: float, scale: str) -> None:
    # Only one scale moves from its norm mean by z SDs: PCS = 50 + 10 z pcs_coef (formula, Ware, Kosinski & Keller 1994)
    norms = load_sf36_norms()
    scales = dict(norms.mean)
    scales[scale] = min(100.0, max(0.0, norms.mean[scale] + z * norms.sd[scale]))
    z_eff = (scales[scale] - norms.mean[scale]) / norms.sd[scale]
    out = compute_sf36_norm_based(scales)
    assert out["pcs"] == pytest.approx(50 + 10 * z_eff * norms.pcs_coef[scale], abs=1e-9)
    assert out["mcs"] == pytest.approx(50 + 10 * z_eff * norms.mcs_coef[scale], abs=1e-9)


# --- independent R implementation -------------------------------------------------------------

_REF_DIR = Path(__file__).parents[2] / "reference"


def test_compute_sf36__matches_r_reference_dataset() -> None:
    # Tier B: tests/reference/values/sf36_reference.json from
    # `Rscript tests/reference/r/sf36_reference.R` (independent R arithmetic of the manual's rules)
    # over tests/reference/data/sf36_respondents.csv (303 respondents, ~15% items missing).
    frame = pd.read_csv(_REF_DIR / "data" / "sf36_respondents.csv").set_index("respondent")
    ref = json.loads((_REF_DIR / "values" / "sf36_reference.json").read_text("utf-8"))
    result = compute_sf36(frame)
    assert ref["n_respondents"] == len(frame) == 303
    for name in (*SF36_SCALES, "pcs", "mcs"):
        expected = np.array([np.nan if v is None else v for v in ref["values"][name]], dtype=float)
        np.testing.assert_allclose(getattr(result, name), expected, rtol=0, atol=1e-9, err_msg=name)
    # the random data exercise both branches of the half-scale rule and of PCS/MCS
    assert np.isnan(result.pcs).any() and (~np.isnan(result.pcs)).any()
