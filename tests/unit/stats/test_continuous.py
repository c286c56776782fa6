"""Behaviour of pmrtrial.stats.continuous. Agreement with R t.test is in tests/reference/."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pmrtrial.exceptions import EstimationError, ScoreInputError
from pmrtrial.stats import (
    PublishedComparison,
    compare_with_published,
    estimate_mean_difference,
    estimate_mean_difference_from_summary,
    estimate_mean_difference_pooled,
    estimate_mean_difference_pooled_from_summary,
)

T975_DF4 = 2.7764451051977987  # Student t 0.975 quantile, 4 df (table value 2.776)


@pytest.mark.parametrize("fn", [estimate_mean_difference, estimate_mean_difference_pooled])
def test_by_hand_equal_n_equal_sd(fn: object) -> None:
    # [1,2,3] vs [4,5,6]: means 2 and 5, SDs 1 and 1, n 3 and 3. d = -3.
    # pooled: s^2 = 1, SE = sqrt(2/3) = 0.816497, df = 4.
    # Welch: SE = sqrt(1/3 + 1/3), df = (2/3)^2/(2*(1/9)/2) = 4.
    # t = -3/0.816497 = -3.674235; CI = -3 -/+ 2.776445 * 0.816497 = (-5.266986, -0.733014).
    res = fn([1, 2, 3], [4, 5, 6])  # type: ignore[operator]
    se = math.sqrt(2 / 3)
    assert res.estimate == pytest.approx(-3.0, rel=1e-12)
    assert res.details["se"] == pytest.approx(se, rel=1e-12)
    assert res.details["df"] == pytest.approx(4.0, rel=1e-12)
    assert res.details["t"] == pytest.approx(-3 / se, rel=1e-12)
    assert (res.lo, res.hi) == (pytest.approx(-3 - T975_DF4 * se), pytest.approx(-3 + T975_DF4 * se))
    assert res.estimand == "mean_difference" and (res.n_treated, res.n_control) == (3, 3)


def test_welch_and_pooled_differ_with_unequal_n_and_sd() -> None:
    # Welch SE^2 = 1/5 + 16/30 = 0.7333;
    # pooled s^2 = (4*1 + 29*16)/33 = 14.1818, SE^2 = 14.1818*(1/5 + 1/30) = 3.3091
    welch = estimate_mean_difference_from_summary(
        5, sd_treated=1, n_treated=5, mean_control=3, sd_control=4, n_control=30
    )
    pooled = estimate_mean_difference_pooled_from_summary(
        5, sd_treated=1, n_treated=5, mean_control=3, sd_control=4, n_control=30
    )
    assert welch.details["se"] ** 2 == pytest.approx(1 / 5 + 16 / 30, rel=1e-12)
    assert pooled.details["se"] ** 2 == pytest.approx((4 + 29 * 16) / 33 * (1 / 5 + 1 / 30), rel=1e-12)
    assert pooled.details["df"] == 33
    assert "Welch" in welch.method and "pooled" in pooled.method


def test_missing_values_are_dropped_and_counted() -> None:
    res = estimate_mean_difference([1, 2, None, 3, float("nan")], np.array([4.0, 5.0, 6.0, np.nan]))
    assert (res.n_treated, res.n_control) == (3, 3)
    assert (res.details["n_dropped_treated"], res.details["n_dropped_control"]) == (2, 1)
    assert res.warnings == ("missing values dropped: 2 treated, 1 control",)
    assert res.estimate == pytest.approx(-3.0)
    clean = estimate_mean_difference([1, 2, 3], [4, 5, 6])
    assert clean.warnings == () and clean.details["n_dropped_treated"] == 0


def test_data_and_summary_paths_agree() -> None:
    x = [2.5, 3.1, 4.7, 5.0, 1.2]
    y = [1.0, 0.4, 2.2, 1.9]
    for data_fn, summary_fn in (
        (estimate_mean_difference, estimate_mean_difference_from_summary),
        (estimate_mean_difference_pooled, estimate_mean_difference_pooled_from_summary),
    ):
        a = data_fn(x, y)
        b = summary_fn(
            float(np.mean(x)),
            sd_treated=float(np.std(x, ddof=1)),
            n_treated=5,
            mean_control=float(np.mean(y)),
            sd_control=float(np.std(y, ddof=1)),
            n_control=4,
        )
        assert (a.estimate, a.lo, a.hi, a.p) == pytest.approx((b.estimate, b.lo, b.hi, b.p), rel=1e-12)


@pytest.mark.parametrize(
    ("treated", "control", "field"),
    [
        (["a", 2, 3], [1, 2], "values_treated"),
        ([1, 2, 3], [[1, 2], [3, 4]], "values_control"),
        ("123", [1, 2], "values_treated"),
        ([1, None, float("nan")], [1, 2], "values_treated"),
        ([1, 2], [5], "values_control"),
        ([1, 2, True], [1, 2], "values_treated"),
    ],
)
def test_invalid_data_names_the_argument(treated: object, control: object, field: str) -> None:
    with pytest.raises(ScoreInputError) as info:
        estimate_mean_difference(treated, control)
    assert info.value.field == field


def test_constant_arms_raise() -> None:
    with pytest.raises(EstimationError, match="SD 0"):
        estimate_mean_difference_pooled([1, 1, 1], [2, 2])


SUMMARY = {"sd_treated": 1.0, "n_treated": 10, "mean_control": 0.0, "sd_control": 1.0, "n_control": 10}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sd_treated", -1.0),
        ("n_control", 1),
        ("n_treated", 4.5),
        ("mean_control", math.nan),
        ("sd_control", "1"),
    ],
)
def test_invalid_summary_names_the_field(field: str, value: object) -> None:
    with pytest.raises(ScoreInputError) as info:
        estimate_mean_difference_from_summary(1.0, **{**SUMMARY, field: value})  # type: ignore[arg-type]
    assert info.value.field == field
    with pytest.raises(ScoreInputError):
        estimate_mean_difference_from_summary(True, **SUMMARY)  # type: ignore[arg-type]


def _compare(p: object, **overrides: object) -> PublishedComparison:
    # Row built from the hand example above: d = -3.0, CI (-5.3, -0.7) at one decimal; both methods agree.
    args: dict[str, object] = {
        "sd_treated": 1.0,
        "n_treated": 3,
        "mean_control": 5.0,
        "sd_control": 1.0,
        "n_control": 3,
        "published_difference": -3.0,
        "published_lo": -5.3,
        "published_hi": -0.7,
        "published_p": p,
    }
    args.update(overrides)
    return compare_with_published(2.0, **args)  # type: ignore[arg-type]


def test_compare_with_published_reports_deviations_and_tolerance() -> None:
    res = _compare("0.021")
    assert res.welch.within_tolerance and res.pooled.within_tolerance
    assert res.welch.dev_lo == pytest.approx(abs(-3 - T975_DF4 * math.sqrt(2 / 3) + 5.3))
    assert res.tolerance == 0.1
    assert res.closest == res.welch.method  # tie -> Welch
    out = res.to_dict()
    import json

    json.dumps(out, allow_nan=False)
    assert out["published"]["published_p"] == "0.021"


def test_compare_with_published_p_inequalities() -> None:
    p = _compare("0.021").welch.result.p
    assert _compare("<0.05").welch.dev_p == 0.0
    assert _compare("<0.0001").welch.dev_p == pytest.approx(p - 0.0001)
    assert _compare(">=0.5").welch.dev_p == pytest.approx(0.5 - p)
    assert _compare(0.02).welch.dev_p == pytest.approx(abs(p - 0.02))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"published_p": "p<0.05"}, "published_p"),
        ({"published_p": True}, "published_p"),
        ({"decimals": -1}, "decimals"),
        ({"published_lo": math.nan}, "published_lo"),
    ],
)
def test_compare_with_published_validation(overrides: dict[str, object], field: str) -> None:
    args = {"p": "0.02", **overrides}
    p = args.pop("p")
    if "published_p" in args:
        p = args.pop("published_p")
    with pytest.raises(ScoreInputError) as info:
        _compare(p, **args)
    assert info.value.field == field


# --- wilcoxon_hodges_lehmann (R comparison in tests/reference/test_wilcoxon_vs_r.py) ---------------------


def test_wilcoxon_exact_by_hand() -> None:
    from pmrtrial.stats import wilcoxon_hodges_lehmann

    # x = (3, 4), y = (1, 2): ranks of x are 3, 4 -> W = 7 - 3 = 4 = m*n, the largest of C(4, 2) = 6 equally
    # likely values: one-sided P(W >= 4) = 1/6, two-sided 1/3. Pairwise differences 1, 2, 2, 3: HL = 2.
    res = wilcoxon_hodges_lehmann([3.0, 4.0], [1.0, 2.0])
    assert res.details["W"] == 4.0
    assert res.p == pytest.approx(1 / 3, rel=1e-12)
    assert res.estimate == 2.0 and res.details["exact"]


def test_wilcoxon_counts_are_the_gaussian_binomial_coefficients() -> None:
    from math import comb

    from pmrtrial.stats.continuous import _wilcox_counts

    # sizes 2 and 2: U = 0..4 with counts 1, 1, 2, 1, 1 (listed by hand from the 6 subsets of {1, 2, 3, 4}).
    assert _wilcox_counts(2, 2) == [1, 1, 2, 1, 1]
    assert sum(_wilcox_counts(7, 9)) == comb(16, 7)


@pytest.mark.parametrize(
    ("x", "y", "reason"), [([], [1.0, 2.0], "an arm has no value"), ([1.0, 1.0], [1.0], "all observations are tied")]
)
def test_wilcoxon_not_estimable(x: list[float], y: list[float], reason: str) -> None:
    from pmrtrial.stats import wilcoxon_hodges_lehmann

    res = wilcoxon_hodges_lehmann(x, y)
    assert not res.available and reason in (res.reason or "") and math.isnan(res.estimate)
