"""Boschloo's two-sided test ordered by Fisher's two-sided p, against a brute-force enumeration.

The brute force below is a separate code path from pmrtrial.stats._boschloo: it loops over every table,
asks scipy.stats.fisher_exact for the table's two-sided p (the ordering), sums the product-binomial
probabilities of the tables at least as extreme, and maximises over the nuisance probability on a
20,001-point grid refined by bounded Brent around the 5 best points.

Published value: stats-notes of the project (R Exact::exact.test(method = "boschloo")) give 0.000183817
for 14/18 vs 2/15. Issue example: 18/18 vs 12/14, Fisher 0.183468 (R fisher.test, two_by_two.json),
2 x min one-sided 0.227950 (R enumeration, two_by_two.json).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from pmrtrial.stats import boschloo_exact_test, fisher_exact_test


def _brute_force(et: int, nt: int, ec: int, nc: int) -> float:
    fisher = np.array(
        [[stats.fisher_exact([[a, nt - a], [c, nc - c]]).pvalue for c in range(nc + 1)] for a in range(nt + 1)]
    )
    region = (fisher <= fisher[et, ec] * (1 + 1e-7)).astype(float)

    def prob(pi: float) -> float:
        return float(stats.binom.pmf(np.arange(nt + 1), nt, pi) @ region @ stats.binom.pmf(np.arange(nc + 1), nc, pi))

    grid = np.linspace(0, 1, 20001)
    b1 = stats.binom.pmf(np.arange(nt + 1)[:, None], nt, grid[None, :])
    b2 = stats.binom.pmf(np.arange(nc + 1)[:, None], nc, grid[None, :])
    values = np.einsum("ig,ij,jg->g", b1, region, b2)
    best = float(values.max())
    for i in np.argsort(values)[-5:]:
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        res = optimize.minimize_scalar(
            lambda pi: -prob(pi), bounds=(lo, hi), method="bounded", options={"xatol": 1e-13}
        )
        best = max(best, -float(res.fun))
    return min(best, 1.0)


@pytest.mark.parametrize(("et", "nt", "ec", "nc"), [(14, 18, 2, 15), (18, 18, 12, 14), (3, 7, 6, 9), (5, 12, 1, 10)])
def test_ordered_boschloo_equals_brute_force(et: int, nt: int, ec: int, nc: int) -> None:
    got = boschloo_exact_test(et, n_treated=nt, events_control=ec, n_control=nc).p
    assert got == pytest.approx(_brute_force(et, nt, ec, nc), rel=1e-6)


def test_bachelor_primary_gives_the_published_value() -> None:
    assert round(boschloo_exact_test(14, n_treated=18, events_control=2, n_control=15).p, 9) == 0.000183817


def test_ordered_boschloo_never_exceeds_fisher_but_twice_min_can() -> None:
    kw = {"n_treated": 18, "events_control": 12, "n_control": 14}
    ordered = boschloo_exact_test(18, **kw).p
    twice_min = boschloo_exact_test(18, definition="twice_min_one_sided", **kw).p
    fisher = fisher_exact_test(18, **kw).p
    assert ordered <= fisher == pytest.approx(0.183467741935484, rel=1e-9)
    assert twice_min == pytest.approx(0.227950268979827, rel=1e-6) and twice_min > fisher
    # every table of 8 vs 7: the ordered p is at most Fisher's.
    for et in range(9):
        for ec in range(8):
            p_b = boschloo_exact_test(et, n_treated=8, events_control=ec, n_control=7).p
            assert p_b <= fisher_exact_test(et, n_treated=8, events_control=ec, n_control=7).p * (1 + 1e-9)
