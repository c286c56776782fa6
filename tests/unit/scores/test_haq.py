"""HAQ-DI scoring.

Expected values are hand calculations (tier C) from the rules of Bruce & Fries 2003 (Health Qual
Life Outcomes 2003;1:20) as written there; H1-H3 are that
section's worked examples. The arithmetic is shown next to each number.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.scores.haq import (
    HAQ_CATEGORIES,
    compute_haq_di,
    compute_haq_di_without_aids,
    haq_item_keys,
)


def _answers(maxima: dict[str, int], **flags: Any) -> dict[str, Any]:
    """First item of each listed category at the given score, the others 0 (so the max is it)."""
    out: dict[str, Any] = {}
    for category, score in maxima.items():
        items = HAQ_CATEGORIES[category]
        out[items[0]] = 0
        out[items[-1]] = score
    out.update(flags)
    return out


H1 = _answers(
    {
        "dressing": 2,
        "arising": 1,
        "eating": 1,
        "walking": 2,
        "hygiene": 3,
        "reach": 1,
        "grip": 1,
        "activities": 2,
    },
    arising_help=True,  # help needed for arising
    walking_aid=True,  # a cane
    reach_aid=True,  # a long-handled reach appliance
)


def test_compute_haq_di__h1_with_aids() -> None:
    # Bruce & Fries 2003 H1: A 1->2, W stays 2, R 1->2; sum 2+2+1+2+3+2+1+2 = 15; 15/8 = 1.875
    result = compute_haq_di(H1)
    assert result.score == pytest.approx(1.875, abs=1e-12)
    assert result.n_categories == 8
    assert result.reason is None
    assert result.category_scores["arising"] == 2.0
    assert result.category_scores["walking"] == 2.0
    assert result.category_scores["reach"] == 2.0
    assert result.variant == "with aids/devices"


def test_compute_haq_di_without_aids__h1() -> None:
    # Bruce & Fries 2003 H1 without aids: 2+1+1+2+3+1+1+2 = 13; 13/8 = 1.625
    result = compute_haq_di_without_aids(H1)
    assert result.score == pytest.approx(1.625, abs=1e-12)
    assert result.variant == "without aids/devices"


def test_compute_haq_di__h2_six_categories() -> None:
    # Bruce & Fries 2003 H2: six categories answered, each max 1, no aids: 6/6 = 1.000
    answers = _answers({c: 1 for c in ("dressing", "arising", "eating", "walking", "hygiene", "reach")})
    result = compute_haq_di(answers)
    assert result.score == pytest.approx(1.0, abs=1e-12)
    assert result.n_categories == 6
    assert math.isnan(result.category_scores["grip"])


def test_compute_haq_di__h3_five_categories_is_missing_with_reason() -> None:
    # Bruce & Fries 2003 H3: five categories answered -> missing (fewer than 6)
    answers = _answers({c: 1 for c in ("dressing", "arising", "eating", "walking", "hygiene")})
    result = compute_haq_di(answers)
    assert math.isnan(result.score)
    assert result.n_categories == 5
    assert result.reason == "only 5 of 8 HAQ-DI categories answered (at least 6 needed)"
    assert compute_haq_di_without_aids(answers).reason == result.reason


def test_compute_haq_di__category_score_is_the_highest_item() -> None:
    # eating items 1, 3, 0 -> eating = 3; seven other categories at 0: 3/8 = 0.375
    answers = _answers({c: 0 for c in HAQ_CATEGORIES if c != "eating"})
    answers.update(eating_cut_meat=1, eating_lift_cup=3, eating_open_carton=0)
    assert compute_haq_di(answers).score == pytest.approx(0.375, abs=1e-12)


@pytest.mark.parametrize(
    ("item_score", "flag", "expected_category"),
    [
        (0, "grip_aid", 2.0),  # 0 raised to 2
        (1, "grip_aid", 2.0),  # 1 raised to 2
        (2, "grip_aid", 2.0),  # 2 unchanged
        (3, "grip_aid", 3.0),  # 3 unchanged (never lowered)
        (0, "grip_help", 2.0),  # help from another person: same rule
        (1, "grip_help", 2.0),
        (3, "grip_help", 3.0),
    ],
)
def test_compute_haq_di__aids_and_help_rule(item_score: int, flag: str, expected_category: float) -> None:
    answers = _answers({c: 0 for c in HAQ_CATEGORIES})
    answers["grip_open_jars"] = item_score
    answers[flag] = True
    result = compute_haq_di(answers)
    assert result.category_scores["grip"] == expected_category
    # the other seven categories are 0: HAQ-DI = expected_category / 8
    assert result.score == pytest.approx(expected_category / 8, abs=1e-12)
    # without aids the category is just the item maximum
    assert compute_haq_di_without_aids(answers).category_scores["grip"] == float(item_score)


def test_compute_haq_di__activities_help_raises_to_two() -> None:
    # activities 1 with help -> 2; others 0: 2/8 = 0.25
    answers = _answers({c: 0 for c in HAQ_CATEGORIES})
    answers.update(activities_chores=1, activities_help=True)
    assert compute_haq_di(answers).score == pytest.approx(0.25, abs=1e-12)


def test_compute_haq_di__flag_false_or_none_does_not_raise_score() -> None:
    answers = _answers({c: 1 for c in HAQ_CATEGORIES}, walking_aid=False, reach_help=None)
    # all categories 1: 8/8 = 1.0
    assert compute_haq_di(answers).score == pytest.approx(1.0, abs=1e-12)


def test_compute_haq_di__flag_on_unanswered_category_does_not_score_it() -> None:
    answers = _answers({c: 1 for c in ("dressing", "arising", "eating", "walking", "hygiene")}, grip_aid=True)
    result = compute_haq_di(answers)
    assert math.isnan(result.category_scores["grip"])
    assert result.n_categories == 5
    assert math.isnan(result.score)


def test_compute_haq_di__partially_answered_category_counts() -> None:
    # one of the three hygiene items answered (2) is enough for the category; 6 categories at
    # 1 except hygiene 2: (5 + 2)/6 = 1.1667
    answers = _answers({c: 1 for c in ("dressing", "arising", "eating", "walking", "reach")})
    answers["hygiene_tub_bath"] = 2
    assert compute_haq_di(answers).score == pytest.approx(7 / 6, abs=1e-12)


@pytest.mark.parametrize(
    ("item", "value"), [("walking_steps", 4), ("grip_faucets", -1), ("reach_overhead_object", 1.5)]
)
def test_compute_haq_di__out_of_range_item_raises_naming_item(item: str, value: object) -> None:
    answers = _answers({c: 1 for c in HAQ_CATEGORIES})
    answers[item] = value
    with pytest.raises(ScoreInputError) as info:
        compute_haq_di(answers)
    assert info.value.field == item
    assert item in str(info.value) and repr(value) in str(info.value)


def test_compute_haq_di__bad_flag_and_unknown_key_raise() -> None:
    with pytest.raises(ScoreInputError, match="walking_aid"):
        compute_haq_di({"walking_aid": "cane"})
    with pytest.raises(ScoreInputError, match="dresing_dress"):
        compute_haq_di({"dresing_dress": 1})
    with pytest.raises(ScoreInputError, match="HAQ-DI answers"):
        compute_haq_di([1, 2, 3])  # type: ignore[arg-type]


def test_compute_haq_di__dataframe_is_vectorised_and_keeps_index() -> None:
    rows = [
        H1,  # 1.875 (Bruce & Fries 2003 H1)
        _answers({c: 1 for c in ("dressing", "arising", "eating", "walking", "hygiene", "reach")}),  # H2: 1.0
        _answers({c: 1 for c in ("dressing", "arising", "eating", "walking", "hygiene")}),  # H3: missing
    ]
    frame = pd.DataFrame(rows, index=pd.Index(["S01", "S02", "S03"], name="subject"))
    frame["visit"] = "W0"  # non-item columns are ignored
    result = compute_haq_di(frame)
    np.testing.assert_allclose(result.score, [1.875, 1.0, np.nan], atol=1e-12)
    assert list(result.n_categories) == [8, 6, 5]
    assert result.reason[:2] == (None, None)
    assert "only 5 of 8" in result.reason[2]
    out = result.to_frame()
    assert list(out.index) == ["S01", "S02", "S03"]
    assert out.loc["S02", "haq_di"] == pytest.approx(1.0)
    assert out.loc["S01", "haq_arising"] == 2.0
    as_dict = result.to_dict()
    assert as_dict["score"][2] is None and as_dict["score"][0] == pytest.approx(1.875)


def test_compute_haq_di__dict_of_sequences() -> None:
    # two respondents: all categories 0 and all 3 -> 0.0 and 24/8 = 3.0
    answers = {items[0]: [0, 3] for items in HAQ_CATEGORIES.values()}
    np.testing.assert_allclose(compute_haq_di(answers).score, [0.0, 3.0])


def test_haq_item_keys__20_items_and_15_flags() -> None:
    keys = haq_item_keys()
    assert sum(len(items) for items in HAQ_CATEGORIES.values()) == 20
    assert len(keys) == 20 + 7 + 8
    assert "activities_aid" not in keys


def test_haq_di_result__to_dict_scalar() -> None:
    d = compute_haq_di(H1).to_dict()
    assert d["score"] == pytest.approx(1.875)
    assert d["reason"] is None and d["n_categories"] == 8 and d["variant"] == "with aids/devices"
