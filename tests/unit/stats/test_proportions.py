"""Behaviour of pmrtrial.stats.proportions. Agreement with R is in tests/reference/."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmrtrial.exceptions import EstimationError, ScoreInputError
from pmrtrial.stats import (
    estimate_risk_difference,
    estimate_risk_difference_wald,
    estimate_risk_ratio,
    estimate_risk_ratio_score_ci,
)

BACHELOR = {"n_treated": 18, "events_control": 2, "n_control": 15}  # bachelor_published.yaml primary_endpoint
Z975 = 1.959963984540054  # standard normal 0.975 quantile (table value 1.96)


def test_katz_by_hand_on_bachelor_counts() -> None:
    # RR = (14/18)/(2/15) = 35/6 = 5.8333.
    # SE^2 = 1/14 - 1/18 + 1/2 - 1/15 = (45 - 35 + 315 - 42)/630 = 283/630 = 0.449206, SE = 0.670228.
    res = estimate_risk_ratio(14, **BACHELOR)
    se = math.sqrt(283 / 630)
    assert res.estimate == pytest.approx(35 / 6, rel=1e-12)
    assert res.details["se_log_rr"] == pytest.approx(se, rel=1e-12)
    assert res.lo == pytest.approx(35 / 6 * math.exp(-Z975 * se), rel=1e-9)
    assert res.hi == pytest.approx(35 / 6 * math.exp(Z975 * se), rel=1e-9)
    assert res.details["correction"] == 0.0
    assert res.warnings == ()
    assert (res.events_treated, res.n_treated, res.events_control, res.n_control) == (14, 18, 2, 15)


def test_katz_zero_cell_correction_is_applied_and_recorded() -> None:
    # 0/10 vs 3/10 -> 0.5 added to each cell: (0.5/11)/(3.5/11) = 1/7.
    res = estimate_risk_ratio(0, n_treated=10, events_control=3, n_control=10)
    assert res.estimate == pytest.approx(1 / 7, rel=1e-12)
    assert res.details["correction"] == 0.5
    assert any("0.5 added" in w for w in res.warnings)


def test_katz_no_correction_when_only_a_non_event_cell_is_zero() -> None:
    # 18/18 vs 12/14: RR = 1/(12/14) = 7/6, SE^2 = 1/18 - 1/18 + 1/12 - 1/14 = 1/84 (no correction needed).
    res = estimate_risk_ratio(18, n_treated=18, events_control=12, n_control=14)
    assert res.estimate == pytest.approx(7 / 6, rel=1e-12)
    assert res.details["se_log_rr"] == pytest.approx(math.sqrt(1 / 84), rel=1e-12)
    assert res.warnings == ()


def test_katz_without_correction_raises_on_empty_arm() -> None:
    with pytest.raises(EstimationError, match="no event"):
        estimate_risk_ratio(0, n_treated=10, events_control=3, n_control=10, zero_cell_correction=0)
    # and works when no arm is empty
    assert estimate_risk_ratio(14, zero_cell_correction=0, **BACHELOR).estimate == pytest.approx(35 / 6)


@pytest.mark.parametrize("value", [-0.1, 1.5, "0.5", True])
def test_katz_invalid_correction(value: object) -> None:
    with pytest.raises(ScoreInputError) as info:
        estimate_risk_ratio(14, zero_cell_correction=value, **BACHELOR)  # type: ignore[arg-type]
    assert info.value.field == "zero_cell_correction"


def test_katz_all_respond_is_degenerate_and_says_so() -> None:
    res = estimate_risk_ratio(10, n_treated=10, events_control=10, n_control=10)
    assert (res.estimate, res.lo, res.hi) == (1.0, 1.0, 1.0)
    assert math.isnan(res.p or math.nan)
    assert any("degenerate" in w for w in res.warnings)


def test_score_ci_agrees_with_statsmodels_on_bachelor() -> None:
    # Independent implementation (tier B): statsmodels confint_proportions_2indep(14, 18, 2, 15,
    # compare="ratio", method="score", correction=True/False) (statsmodels 0.15).
    from statsmodels.stats.proportion import confint_proportions_2indep

    for correction in (True, False):
        lo, hi = confint_proportions_2indep(14, 18, 2, 15, compare="ratio", method="score", correction=correction)
        res = estimate_risk_ratio_score_ci(14, variance_correction=correction, **BACHELOR)
        assert res.lo == pytest.approx(lo, rel=1e-8)
        assert res.hi == pytest.approx(hi, rel=1e-8)


def test_miettinen_nurminen_is_wider_than_koopman() -> None:
    # MN multiplies the variance by N/(N-1) > 1, so its interval contains Koopman's.
    mn = estimate_risk_ratio_score_ci(14, **BACHELOR)
    koopman = estimate_risk_ratio_score_ci(14, variance_correction=False, **BACHELOR)
    assert mn.lo < koopman.lo < 35 / 6 < koopman.hi < mn.hi
    assert mn.details["variance_factor"] == pytest.approx(33 / 32)
    assert "Miettinen-Nurminen" in mn.method and "Koopman" in koopman.method


def test_score_ci_edges() -> None:
    none = estimate_risk_ratio_score_ci(0, n_treated=10, events_control=0, n_control=10)
    assert math.isnan(none.estimate) and (none.lo, none.hi) == (0.0, math.inf)
    assert len(none.warnings) == 2
    no_control = estimate_risk_ratio_score_ci(5, n_treated=10, events_control=0, n_control=10)
    assert no_control.estimate == math.inf == no_control.hi and 0 < no_control.lo < math.inf
    no_treated = estimate_risk_ratio_score_ci(0, n_treated=10, events_control=3, n_control=10)
    assert no_treated.estimate == 0.0 == no_treated.lo and 0 < no_treated.hi < math.inf


def test_score_ci_invalid_flag() -> None:
    with pytest.raises(ScoreInputError) as info:
        estimate_risk_ratio_score_ci(14, variance_correction=1, **BACHELOR)  # type: ignore[arg-type]
    assert info.value.field == "variance_correction"


def test_newcombe_agrees_with_statsmodels() -> None:
    # Independent implementation (tier B): statsmodels confint_proportions_2indep(..., compare="diff",
    # method="newcomb") implements Newcombe's method 10 as well.
    from statsmodels.stats.proportion import confint_proportions_2indep

    for et, nt, ec, nc in [(14, 18, 2, 15), (15, 18, 10, 15), (0, 10, 3, 10), (10, 10, 10, 10)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # statsmodels' own odds-ratio side computation
            lo, hi = confint_proportions_2indep(et, nt, ec, nc, compare="diff", method="newcomb")
        res = estimate_risk_difference(et, n_treated=nt, events_control=ec, n_control=nc)
        assert (res.lo, res.hi) == (pytest.approx(lo, rel=1e-9), pytest.approx(hi, rel=1e-9))
        assert res.p is None


def test_rd_wald_by_hand() -> None:
    # d = 14/18 - 2/15 = 0.644444; SE = sqrt((14/18)(4/18)/18 + (2/15)(13/15)/15) = sqrt(0.0173059) = 0.131552
    res = estimate_risk_difference_wald(14, **BACHELOR)
    se = math.sqrt((14 / 18) * (4 / 18) / 18 + (2 / 15) * (13 / 15) / 15)
    assert res.estimate == pytest.approx(29 / 45, rel=1e-12)
    assert (res.lo, res.hi) == (pytest.approx(29 / 45 - Z975 * se), pytest.approx(29 / 45 + Z975 * se))
    assert res.details["se"] == pytest.approx(0.131552, rel=1e-5)
    degenerate = estimate_risk_difference_wald(0, n_treated=5, events_control=5, n_control=5)
    assert (degenerate.lo, degenerate.hi) == (-1.0, -1.0) and degenerate.warnings


counts = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@settings(max_examples=60, deadline=None)
@given(treated=counts, control=counts)
def test_swapping_arms_mirrors_the_intervals(treated: tuple[int, int], control: tuple[int, int]) -> None:
    (et, nt), (ec, nc) = treated, control
    rd = estimate_risk_difference(et, n_treated=nt, events_control=ec, n_control=nc)
    rd_swapped = estimate_risk_difference(ec, n_treated=nc, events_control=et, n_control=nt)
    assert rd.lo == pytest.approx(-rd_swapped.hi, abs=1e-12)
    assert rd.hi == pytest.approx(-rd_swapped.lo, abs=1e-12)
    assert -1.0 <= rd.lo <= rd.estimate <= rd.hi <= 1.0
    if et > 0 and ec > 0:
        rr = estimate_risk_ratio_score_ci(et, n_treated=nt, events_control=ec, n_control=nc)
        rr_swapped = estimate_risk_ratio_score_ci(ec, n_treated=nc, events_control=et, n_control=nt)
        assert rr.lo == pytest.approx(1 / rr_swapped.hi, rel=1e-8)
        assert rr.hi == pytest.approx(1 / rr_swapped.lo, rel=1e-8)
        assert rr.lo <= rr.estimate <= rr.hi
        assert rr.converged
