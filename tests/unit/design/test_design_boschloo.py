"""Boschloo p-values and power: the scipy definition against scipy.stats.boschloo_exact table by table; the
default (ordered by Fisher's two-sided p) against the brute-force enumeration of test_boschloo_ordered."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, boschloo_exact
from tests.unit.stats.test_boschloo_ordered import _brute_force

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
    got = compute_boschloo_pvalues(n0, n1, definition="twice_min_one_sided")
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-15)


def test_default_ordered_pvalues_match_brute_force_every_table() -> None:
    n0, n1 = 6, 9
    got = compute_boschloo_pvalues(n0, n1)  # [x_control, x_treated]
    for xc in range(n0 + 1):
        for xt in range(n1 + 1):
            assert got[xc, xt] == pytest.approx(_brute_force(xt, n1, xc, n0), rel=1e-6, abs=1e-15)


def test_ordered_region_contains_fishers_and_definitions_differ_in_power() -> None:
    from pmrtrial.design import compute_fisher_rejection_region

    ordered = compute_boschloo_rejection_region(15, 18, 0.05)
    assert np.all(ordered.reject >= compute_fisher_rejection_region(15, 18, 0.05).reject)
    p_ordered = compute_power_boschloo(0.15, 0.75, 15, 18).power
    p_twice = compute_power_boschloo(0.15, 0.75, 15, 18, definition="twice_min_one_sided").power
    assert p_ordered != p_twice and abs(p_ordered - p_twice) < 0.02


def test_power_matches_enumeration_with_scipy_pvalues() -> None:
    # Power at n = 10 + 10 from scipy's p-values, enumerated here, for 0.2 vs 0.8 and for 0.3 vs 0.7.
    n = 10
    reject = _scipy_pvalues(n, n) <= 0.05
    b = {p: binom.pmf(np.arange(n + 1), n, p) for p in (0.2, 0.8, 0.3, 0.7)}
    for p0, p1 in ((0.2, 0.8), (0.3, 0.7)):
        expected = float(b[p0] @ reject.astype(float) @ b[p1])
        got = compute_power_boschloo(p0, p1, n, n, definition="twice_min_one_sided").power
        assert got == pytest.approx(expected, abs=1e-12)


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
