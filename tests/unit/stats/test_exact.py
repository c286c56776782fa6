"""Behaviour of pmrtrial.stats.exact. Numerical agreement with R is in tests/reference/."""

from __future__ import annotations

import math

import pytest

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats import barnard_exact_test, boschloo_exact_test, fisher_exact_test

BACHELOR = {"n_treated": 18, "events_control": 2, "n_control": 15}  # bachelor_published.yaml primary_endpoint


def test_fisher_tiny_table_by_hand() -> None:
    # 2/2 vs 0/2: margins 2 responders of 4, 2 per arm. Hypergeometric P(X=2) = C(2,2)C(2,0)/C(4,2) = 1/6,
    # P(X=0) = 1/6, P(X=1) = 4/6. One-sided "greater" p = 1/6; two-sided = 1/6 + 1/6 = 1/3.
    assert fisher_exact_test(2, n_treated=2, events_control=0, n_control=2, alternative="greater").p == (
        pytest.approx(1 / 6, rel=1e-12)
    )
    res = fisher_exact_test(2, n_treated=2, events_control=0, n_control=2)
    assert res.p == pytest.approx(1 / 3, rel=1e-12)
    assert res.statistic == math.inf  # sample odds ratio 2*2/(0*0)
    assert res.alternative == "two-sided"


def test_fisher_no_events_is_one() -> None:
    # 0/10 vs 0/10: a single table has these margins, so p = 1 (hand).
    assert fisher_exact_test(0, n_treated=10, events_control=0, n_control=10).p == 1.0


@pytest.mark.parametrize("test", [fisher_exact_test, boschloo_exact_test, barnard_exact_test])
def test_greater_means_response_more_likely_on_treatment(test: object) -> None:
    greater = test(14, alternative="greater", **BACHELOR)  # type: ignore[operator]
    less = test(14, alternative="less", **BACHELOR)  # type: ignore[operator]
    assert greater.p < 0.001 < 0.99 < less.p


def test_boschloo_twice_min_option_is_twice_the_smaller_one_sided() -> None:
    # scipy's definition, documented in the module: min(1, 2 * min(p_less, p_greater)).
    for et, nt, ec, nc in [(14, 18, 2, 15), (15, 18, 10, 15), (3, 7, 6, 9)]:
        two = boschloo_exact_test(et, n_treated=nt, events_control=ec, n_control=nc, definition="twice_min_one_sided").p
        less = boschloo_exact_test(et, n_treated=nt, events_control=ec, n_control=nc, alternative="less").p
        greater = boschloo_exact_test(et, n_treated=nt, events_control=ec, n_control=nc, alternative="greater").p
        assert two == pytest.approx(min(1.0, 2 * min(less, greater)), rel=1e-9)


def test_boschloo_records_definition_grid_and_cap() -> None:
    res = boschloo_exact_test(14, **BACHELOR)
    assert res.details["definition"] == "fisher_ordered" and res.details["n_tables"] == 19 * 16
    assert res.details["max_tables"] == 250_000 and res.details["nuisance_grid"] == 1001
    assert "ordered by two-sided Fisher p" in res.method
    assert res.warnings == () and res.available


def test_boschloo_above_the_cap_is_not_available_and_says_why() -> None:
    res = boschloo_exact_test(14, max_tables=100, **BACHELOR)
    assert not res.available and math.isnan(res.p)
    assert res.reason == "not computed: 304 tables exceed the enumeration cap of 100"


def test_barnard_statistic_by_hand() -> None:
    # pooled z = (14/18 - 2/15) / sqrt(16/33 * 17/33 * (1/18 + 1/15))
    #          = 0.644444 / sqrt(0.249770 * 0.122222) = 0.644444 / 0.174721 = 3.68842
    res = barnard_exact_test(14, **BACHELOR)
    expected = (14 / 18 - 2 / 15) / math.sqrt(16 / 33 * 17 / 33 * (1 / 18 + 1 / 15))
    assert res.statistic == pytest.approx(expected, rel=1e-12)
    assert res.statistic == pytest.approx(3.68842, rel=1e-5)


def test_barnard_tiny_table_by_hand() -> None:
    # 2/2 vs 0/2: z_obs = 1 / sqrt(0.5 * 0.5 * 1) = 2; tables with |z| >= 2 are (2, 0) and (0, 2), with
    # probability 2 pi^2 (1 - pi)^2, maximal at pi = 1/2: 2/16 = 0.125.
    res = barnard_exact_test(2, n_treated=2, events_control=0, n_control=2)
    assert res.statistic == pytest.approx(2.0, rel=1e-12)
    assert res.p == pytest.approx(0.125, rel=1e-9)
    assert res.details["grid_points"] == 1001


@pytest.mark.parametrize("test", [fisher_exact_test, boschloo_exact_test, barnard_exact_test])
def test_invalid_alternative_names_the_field(test: object) -> None:
    with pytest.raises(ScoreInputError) as info:
        test(14, alternative="both", **BACHELOR)  # type: ignore[operator]
    assert info.value.field == "alternative"


@pytest.mark.parametrize(("field", "value"), [("max_tables", 0), ("max_tables", 3.0), ("definition", "minlike")])
def test_invalid_boschloo_options(field: str, value: object) -> None:
    with pytest.raises(ScoreInputError) as info:
        boschloo_exact_test(14, **{field: value}, **BACHELOR)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize("value", [2, 10.0, False])
def test_invalid_grid_points(value: object) -> None:
    with pytest.raises(ScoreInputError) as info:
        barnard_exact_test(14, grid_points=value, **BACHELOR)  # type: ignore[arg-type]
    assert info.value.field == "grid_points"
