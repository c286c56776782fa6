"""Boschloo p-values and power against scipy.stats.boschloo_exact, table by table."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, boschloo_exact

from pmrtrial.design import (
    compute_boschloo_pvalues,
    compute_boschloo_rejection_region,
    compute_power_boschloo,
    compute_power_fisher_exact,
)


def _scipy_pvalues(n0: int, n1: int) -> np.ndarray:
    return np.array(
        [
            [boschloo_exact([[a, b], [n0 - a, n1 - b]], alternative="two-sided").pvalue for b in range(n1 + 1)]
            for a in range(n0 + 1)
        ]
    )


@pytest.mark.parametrize(("n0", "n1"), [(8, 8), (6, 10)])
def test_pvalues_match_scipy(n0: int, n1: int) -> None:
    # Reference: scipy.stats.boschloo_exact (shgo, 32 Sobol points) for every table. Its search can stop
    # below the true maximum, ours never below the 1001-point grid; the two agree to ~1e-12 here.
    expected = _scipy_pvalues(n0, n1)
    got = compute_boschloo_pvalues(n0, n1)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-15)


def test_power_matches_enumeration_with_scipy_pvalues() -> None:
    # Power at n = 10 + 10 from scipy's p-values, enumerated here, for 0.2 vs 0.8 and for 0.3 vs 0.7.
    n = 10
    reject = _scipy_pvalues(n, n) <= 0.05
    b = {p: binom.pmf(np.arange(n + 1), n, p) for p in (0.2, 0.8, 0.3, 0.7)}
    for p0, p1 in ((0.2, 0.8), (0.3, 0.7)):
        expected = float(b[p0] @ reject.astype(float) @ b[p1])
        assert compute_power_boschloo(p0, p1, n, n).power == pytest.approx(expected, abs=1e-12)


def test_boschloo_is_exact_level_and_at_least_fisher_here() -> None:
    region = compute_boschloo_rejection_region(14, 14, 0.05)
    # An unconditional exact test keeps its size at every common pi (maximum over the nuisance).
    sizes = [region.rejection_probability(pi, pi) for pi in np.linspace(0.005, 0.995, 199)]
    assert max(sizes) <= 0.05 + 1e-12
    # and at 0.2 vs 0.8 it is more powerful than the conditional Fisher test (R value 0.837405 at n = 14).
    assert region.rejection_probability(0.2, 0.8) > compute_power_fisher_exact(0.2, 0.8, 14, 14).power


def test_grid_size_documented_and_refinement_never_lowers() -> None:
    coarse = compute_boschloo_pvalues(7, 9, n_grid=50, refine_iterations=0)
    fine = compute_boschloo_pvalues(7, 9)
    assert np.all(fine >= coarse - 1e-15)
    assert fine.flags.writeable is False
