"""The grid local search, quantiles and the published-number loader."""

from __future__ import annotations

import numpy as np
import pytest

from pmrtrial.published import PrintedNumber, load_bachelor_published
from pmrtrial.synth._search import GroupSearch, affine_fit, anchor_quantiles, quantile_type2


@pytest.mark.parametrize("n", [5, 8, 15, 16, 17, 18])
@pytest.mark.parametrize("p", [0.25, 0.5, 0.75])
def test_quantile_type2__matches_numpy_averaged_inverted_cdf(n: int, p: float) -> None:
    # numpy's "averaged_inverted_cdf" is Hyndman & Fan type 2 (= SAS definition 5), an independent implementation
    values = np.random.default_rng(n).normal(size=n)
    assert quantile_type2(sorted(values), p) == pytest.approx(np.quantile(values, p, method="averaged_inverted_cdf"))


def test_quantile_type2__hand_cases() -> None:
    # n = 4, p = 0.5: np = 2 is an integer -> (x2 + x3)/2 = (2 + 3)/2 = 2.5
    assert quantile_type2([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    # n = 5, p = 0.25: np = 1.25 -> x(2) = 2
    assert quantile_type2([1.0, 2.0, 3.0, 4.0, 5.0], 0.25) == 2.0


def test_affine_fit__hits_mean_and_sd_inside_bounds() -> None:
    x = affine_fit(np.arange(10.0), mean=5.0, sd=2.0, lo=0.0, hi=10.0)
    assert x.mean() == pytest.approx(5.0) and x.std(ddof=1) == pytest.approx(2.0)
    assert x.min() >= 0 and x.max() <= 10


def test_anchor_quantiles__pins_order_statistics() -> None:
    rng = np.random.default_rng(0)
    grid = np.arange(0, 101, dtype=float)
    init, lo, hi = anchor_quantiles(
        rng.normal(50, 10, 16),
        grid,
        {"median": (50.0, 0.05), "q1": (40.0, 0.05), "q3": (61.5, 0.05)},
        lo=0,
        hi=100,
        rng=rng,
    )
    # any vector within the bounds has the pinned quantiles: check the two extremes
    for values in (lo, hi, np.clip(init, lo, hi)):
        s = sorted(values)
        assert quantile_type2(s, 0.5) == pytest.approx(50.0, abs=0.05)
        assert quantile_type2(s, 0.25) == pytest.approx(40.0, abs=0.05)
        assert quantile_type2(s, 0.75) == pytest.approx(61.5, abs=0.05)


def test_group_search__meets_targets_and_hard_bounds() -> None:
    rng = np.random.default_rng(3)
    n = 12
    grid = np.round(np.arange(0, 101) / 10, 1)
    search = GroupSearch(n, rng)
    search.add_variable("a", grid, rng.uniform(0, 10, n))
    search.add_variable("b", grid, rng.uniform(0, 10, n))
    # composite a + b <= 10 for the first six, > 10 for the others (like the PMR-AS partition)
    search.add_composite("s", {"a": 1.0, "b": 1.0}, lo=[-np.inf] * 6 + [10.05] * 6, hi=[10.0] * 6 + [np.inf] * 6)
    search.add_target("a", "mean", 4.0, 0.05)
    search.add_target("a", "sd", 2.0, 0.05)
    search.add_target("s", "mean", 10.0, 0.05)
    values = search.run()
    assert search.met()
    a, b = values["a"], values["b"]
    assert abs(a.mean() - 4.0) <= 0.045 and abs(a.std(ddof=1) - 2.0) <= 0.045
    assert abs((a + b).mean() - 10.0) <= 0.045
    assert ((a + b)[:6].round(6) <= 10).all() and ((a + b)[6:] > 10).all()
    assert np.allclose(a * 10, np.round(a * 10))  # values stay on the grid


def test_printed_number__keeps_decimals() -> None:
    assert PrintedNumber("8.80").decimals == 2 and PrintedNumber("8.80").halfwidth == pytest.approx(0.005)
    assert PrintedNumber("17").decimals == 0
    assert PrintedNumber("70.0").agrees(70.04) and not PrintedNumber("70.0").agrees(70.06)
    pub = load_bachelor_published()
    # yaml baseline.age_years.placebo.sd printed "8.80"; baseline.sf36_mcs.placebo.mean printed "36.86"
    assert pub["baseline"]["age_years"]["placebo"]["sd"].decimals == 2
    assert pub["baseline"]["sf36_mcs"]["placebo"]["mean"].decimals == 2
    assert pub["primary_endpoint"]["baricitinib"]["responders"] == 14
