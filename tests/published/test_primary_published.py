"""Reproduce the BACHELOR primary endpoint from the published counts.

Source: pmrtrial/published/bachelor.yaml (Saraux et al., Lancet Rheumatol 2025), ``bachelor.primary_endpoint``:
baricitinib 14/18 responders (printed 78%), placebo 2/15 (printed 13%), risk ratio 5.8 (95% CI 3.2-10.6),
analysis "Fisher exact test; log-binomial GEE with exchangeable correlation within centre".
The publication reports Fisher p < 0.001 for the primary endpoint (Saraux et al., Lancet Rheumatol 2025).

The published CI 3.2-10.6 comes from the GEE adjusted for centre. It is NOT expected from the crude Katz
interval (1.57-21.70 on these counts), which ignores centre: its SE(log RR) is 0.670 against the 0.306
implied by the published interval. That comparison belongs to the GEE tests.
"""

from __future__ import annotations

from pmrtrial.stats import estimate_risk_ratio, fisher_exact_test

COUNTS = {"n_treated": 18, "events_control": 2, "n_control": 15}


def test_printed_percentages() -> None:
    # bachelor_published.yaml primary_endpoint: pct 78 and 13, printed as whole percentages.
    assert round(100 * 14 / 18) == 78
    assert round(100 * 2 / 15) == 13


def test_crude_risk_ratio_at_printed_precision() -> None:
    # bachelor_published.yaml primary_endpoint.risk_ratio.estimate: 5.8 (one decimal).
    res = estimate_risk_ratio(14, **COUNTS)
    assert round(res.estimate, 1) == 5.8


def test_fisher_p_below_printed_bound() -> None:
    # Published: Fisher exact p < 0.001 for the primary endpoint.
    res = fisher_exact_test(14, **COUNTS)
    assert res.p < 0.001
    assert res.alternative == "two-sided"


def test_crude_katz_ci_is_not_the_published_gee_ci() -> None:
    # The published 3.2-10.6 is GEE-adjusted; the crude Katz CI is much wider (R epitools::riskratio gives
    # 1.56826-21.6978, tests/reference/values/two_by_two.json case bachelor_w12_primary).
    res = estimate_risk_ratio(14, **COUNTS)
    assert res.lo < 3.2 and res.hi > 10.6
