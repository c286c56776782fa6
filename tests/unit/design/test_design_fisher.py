"""Exact Fisher power and rejection regions against R fisher.test enumeration and scipy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.stats import binom, fisher_exact

from pmrtrial.design import (
    compute_fisher_pvalues,
    compute_fisher_rejection_region,
    compute_power_fisher_exact,
)
from pmrtrial.exceptions import ScoreInputError


def test_exact_power_matches_r_enumeration(r_design: dict[str, Any]) -> None:
    # R: exact_power() in tests/reference/r/design_reference.R, i.e. the sum of dbinom(x0) * dbinom(x1)
    # over tables with fisher.test(...)$p.value <= alpha; includes n = 12..20 for 0.2 vs 0.8, unequal
    # allocations (15, 18), (18, 15), (25, 40), the null (0.5, 0.5) and alpha = 0.01.
    cases = r_design["fisher_exact"]["power"]
    assert len(cases) == 16
    for case in cases:
        got = compute_power_fisher_exact(
            case["p_control"],
            case["p_treated"],
            int(case["n_control"]),
            int(case["n_treated"]),
            alpha=case["alpha"],
        )
        assert got.power == pytest.approx(case["power"], abs=1e-10), case["call"]


def test_pvalue_matrices_match_r_fisher_test(r_design: dict[str, Any]) -> None:
    # R: fisher.test(matrix(c(x0, n0 - x0, x1, n1 - x1), 2))$p.value for every table, n = (7, 9), (15, 18)
    for case in r_design["fisher_exact"]["pvalue_matrices"]:
        expected = np.array(case["pvalues"], dtype=float)
        got = compute_fisher_pvalues(int(case["n_control"]), int(case["n_treated"]))
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15)


def test_published_saw_tooth_cross_check(r_design: dict[str, Any]) -> None:
    # Cross-check with R (exact power by enumeration, tests/reference/r): exact two-sided Fisher power
    # 0.811528 ... 0.960955 for n = 12..20 (6 decimals), and power falls from 13 to 14 and from 19 to 20.
    notes = [0.811528, 0.868828, 0.837405, 0.872315, 0.910458, 0.938056, 0.957595, 0.962101, 0.960955]
    got = [compute_power_fisher_exact(0.2, 0.8, n, n).power for n in range(12, 21)]
    np.testing.assert_allclose(got, notes, atol=5e-7)
    assert got[1] > got[2] and got[7] > got[8]


def test_rejection_region_identical_to_scipy_loop() -> None:
    # Independent implementation: scipy.stats.fisher_exact per table (two-sided, its own tolerance 1e-14).
    n0, n1, alpha = 30, 24, 0.05
    region = compute_fisher_rejection_region(n0, n1, alpha)
    expected = np.array(
        [[fisher_exact([[a, b], [n0 - a, n1 - b]]).pvalue for b in range(n1 + 1)] for a in range(n0 + 1)]
    )
    np.testing.assert_allclose(region.pvalues, expected, rtol=1e-9, atol=1e-14)
    np.testing.assert_array_equal(region.reject, expected <= alpha)


def test_region_power_is_bilinear_form_and_size_below_alpha() -> None:
    region = compute_fisher_rejection_region(16, 16, 0.05)
    b0 = binom.pmf(np.arange(17), 16, 0.2)
    b1 = binom.pmf(np.arange(17), 16, 0.8)
    manual = sum(b0[i] * b1[j] for i in range(17) for j in range(17) if region.reject[i, j])
    assert region.rejection_probability(0.2, 0.8) == pytest.approx(manual, rel=1e-13)
    # Fisher's test is conservative: size <= alpha at every common pi.
    sizes = [region.rejection_probability(pi, pi) for pi in np.linspace(0.01, 0.99, 99)]
    assert max(sizes) <= 0.05


def test_lookup_for_simulated_trials_and_read_only() -> None:
    region = compute_fisher_rejection_region(15, 18, 0.05)
    # BACHELOR primary endpoint: placebo 2/15, baricitinib 14/18 (bachelor_published.yaml).
    x0 = np.array([2, 2, 0])
    x1 = np.array([14, 2, 18])
    got = region.lookup_pvalues(x0, x1)
    expected = [fisher_exact([[a, b], [15 - a, 18 - b]]).pvalue for a, b in zip(x0, x1, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert got[1] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        region.pvalues[0, 0] = 0.5
    with pytest.raises(ValueError):
        region.reject[0, 0] = False
    with pytest.raises(ScoreInputError, match="x_treated"):
        region.lookup_pvalues([0], [19])
    with pytest.raises(ScoreInputError, match="x_control"):
        region.lookup_pvalues([-1], [0])


def test_region_is_cached_and_serialisable() -> None:
    a = compute_fisher_rejection_region(12, 13, 0.05)
    b = compute_fisher_rejection_region(12, 13, 0.05)
    assert a is b
    d = a.to_dict()
    assert len(d["pvalues"]) == 13 and len(d["pvalues"][0]) == 14
    assert d["reject"][0][13] is True  # 0/12 vs 13/13 is significant


@pytest.mark.parametrize(
    ("args", "field"),
    [((0.2, 0.8, 0, 10), "n_control"), ((0.2, 0.8, 10, -1), "n_treated"), ((0.0, 0.8, 10, 10), "p_control")],
)
def test_invalid_inputs(args: tuple[float, float, int, int], field: str) -> None:
    with pytest.raises(ScoreInputError) as info:
        compute_power_fisher_exact(*args)
    assert info.value.field == field
    with pytest.raises(ScoreInputError, match="alpha"):
        compute_fisher_rejection_region(10, 10, 1.5)
