"""Behaviour of pmrtrial.stats.bayes against closed forms worked by hand. R agreement: tests/reference/."""

from __future__ import annotations

import math

import pytest

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats import estimate_risk_ratio_bayes


def test_closed_form_uniform_prior_one_of_one_vs_zero_of_one() -> None:
    # Uniform prior; treated 1/1 -> p_t ~ Beta(2, 1), density 2x;
    # control 0/1 -> p_c ~ Beta(1, 2), CDF 2y - y^2.
    # P(RR > 1) = P(p_t > p_c) = int_0^1 2(1-y)(1-y^2) dy = 2(1 - 1/2 - 1/3 + 1/4) = 5/6.
    # For r >= 1: G(r) = 1 - int_0^1 2x F_c(x/r) dx = 1 - 4/(3r) + 1/(2r^2).
    #   median: r^2 - (8/3) r + 1 = 0 -> r = (8 + sqrt(28))/6 = 2.2152504
    #   97.5%:  0.025 r^2 - (4/3) r + 0.5 = 0 -> r = (4/3 + sqrt(16/9 - 0.05))/0.05 = 52.95567
    # For r < 1: G(r) = int_0^1 (r p)^2 2(1-p) dp = r^2/6; 2.5%: r = sqrt(0.15) = 0.3872983.
    res = estimate_risk_ratio_bayes(1, n_treated=1, events_control=0, n_control=1, prior_a=1, prior_b=1)
    assert res.details["prob_rr_gt_1"] == pytest.approx(5 / 6, rel=1e-9)
    assert res.estimate == pytest.approx((8 + math.sqrt(28)) / 6, rel=1e-9)
    assert res.hi == pytest.approx((4 / 3 + math.sqrt(16 / 9 - 0.05)) / 0.05, rel=1e-9)
    assert res.lo == pytest.approx(math.sqrt(0.15), rel=1e-9)
    assert res.converged and res.warnings == ()
    assert "uniform" in res.method


def test_closed_form_probability_all_or_none() -> None:
    # Uniform prior, treated 0/5 -> Beta(1, 6), control 5/5 -> Beta(6, 1):
    # P(p_t > p_c) = int_0^1 6 p^5 (1 - p)^6 dp = 6 B(6, 7) = 6 * 5! 6! / 12! = 1/924.
    res = estimate_risk_ratio_bayes(0, n_treated=5, events_control=5, n_control=5, prior_a=1, prior_b=1)
    assert res.details["prob_rr_gt_1"] == pytest.approx(1 / 924, rel=1e-9)


@pytest.mark.parametrize(("events", "n"), [(0, 10), (7, 20), (10, 10)])
def test_identical_arms_give_a_symmetric_ratio_distribution(events: int, n: int) -> None:
    # p_t and p_c are i.i.d., so RR and 1/RR have the same law: median 1, P(RR > 1) = 1/2, lo * hi = 1.
    res = estimate_risk_ratio_bayes(events, n_treated=n, events_control=events, n_control=n)
    assert res.estimate == pytest.approx(1.0, rel=1e-9)
    assert res.details["prob_rr_gt_1"] == pytest.approx(0.5, rel=1e-9)
    assert res.lo * res.hi == pytest.approx(1.0, rel=1e-8)


def test_jeffreys_is_default_and_recorded() -> None:
    res = estimate_risk_ratio_bayes(14, n_treated=18, events_control=2, n_control=15)
    assert res.details["prior"] == (0.5, 0.5)
    assert res.details["posterior_treated"] == (14.5, 4.5)
    assert res.details["posterior_control"] == (2.5, 13.5)
    assert "Jeffreys" in res.method and res.p is None and res.conf_level == 0.95
    assert res.lo < res.estimate < res.hi


def test_credible_level_widens_the_interval() -> None:
    narrow = estimate_risk_ratio_bayes(14, n_treated=18, events_control=2, n_control=15, cred_level=0.8)
    wide = estimate_risk_ratio_bayes(14, n_treated=18, events_control=2, n_control=15, cred_level=0.99)
    assert wide.lo < narrow.lo < narrow.hi < wide.hi
    custom = estimate_risk_ratio_bayes(14, n_treated=18, events_control=2, n_control=15, prior_a=2, prior_b=3)
    assert "Beta(2, 3)" in custom.method


@pytest.mark.parametrize(
    ("field", "value"), [("prior_a", 0), ("prior_b", -1.0), ("prior_a", "1"), ("prior_b", math.inf)]
)
def test_invalid_prior_names_the_field(field: str, value: object) -> None:
    with pytest.raises(ScoreInputError) as info:
        estimate_risk_ratio_bayes(14, n_treated=18, events_control=2, n_control=15, **{field: value})  # type: ignore[arg-type]
    assert info.value.field == field


def test_invalid_cred_level_names_the_field() -> None:
    with pytest.raises(ScoreInputError) as info:
        estimate_risk_ratio_bayes(14, n_treated=18, events_control=2, n_control=15, cred_level=1.0)
    assert info.value.field == "cred_level"


def _large_cases():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "reference" / "values" / "bayes_large.json"
    return json.loads(path.read_text())["cases"]


@pytest.mark.parametrize("case", _large_cases(), ids=lambda c: f"{c['events_treated']}of{c['n_treated']}")
def test_estimate_risk_ratio_bayes__large_trials_match_r(case):
    """Large posteriors (B(a, b) underflows): values from tests/reference/r/bayes_large_reference.R,
    R integrate(pbeta(r p) * dbeta(p)) + uniroot. Regression for a silent wrong value (11.6 instead of 2.66
    at 400/500 vs 150/500) and a ZeroDivisionError from n = 2000."""
    r = estimate_risk_ratio_bayes(
        case["events_treated"],
        n_treated=case["n_treated"],
        events_control=case["events_control"],
        n_control=case["n_control"],
    )
    assert r.converged
    assert r.estimate == pytest.approx(case["median"], rel=1e-6)
    assert r.lo == pytest.approx(case["lo"], rel=1e-6)
    assert r.hi == pytest.approx(case["hi"], rel=1e-6)


def test_identical_arms_with_a_small_prior_keep_the_symmetric_probability() -> None:
    # Beta(10.1, 0.1) posteriors put ~2% of their mass where 1 - p < 1e-16 (p rounds to 1): the probability is
    # integrated from 1 - p there. Identical arms: P(p_t > p_c) = 1/2 by symmetry (hand argument, no software).
    res = estimate_risk_ratio_bayes(10, n_treated=10, events_control=10, n_control=10, prior_a=0.1, prior_b=0.1)
    assert res.details["prob_rr_gt_1"] == pytest.approx(0.5, rel=1e-9)
