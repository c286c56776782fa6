"""Statistics of the BACHELOR SAP other than the GEE: exact tests, risk ratios and differences,
Bayesian risk ratio, mean differences. Pure functions returning frozen result objects.

The GEE estimator lives in :mod:`pmrtrial.stats.gee` (separate module, own ``GeeResult`` with the same
field names ``estimate``, ``lo``, ``hi``, ``p``, ``method``, ``converged``, ``warnings``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmrtrial._lazy import lazy_exports

if TYPE_CHECKING:
    from pmrtrial.stats.bayes import estimate_risk_ratio_bayes
    from pmrtrial.stats.continuous import (
        MethodComparison,
        PublishedComparison,
        compare_with_published,
        estimate_mean_difference,
        estimate_mean_difference_from_summary,
        estimate_mean_difference_pooled,
        estimate_mean_difference_pooled_from_summary,
    )
    from pmrtrial.stats.exact import barnard_exact_test, boschloo_exact_test, fisher_exact_test
    from pmrtrial.stats.gee import (
        GeeBatchResult,
        GeeResult,
        fit_log_binomial_gee,
        fit_modified_poisson_gee,
        fit_risk_ratio_gee,
        fit_risk_ratio_gee_batch,
    )
    from pmrtrial.stats.proportions import (
        estimate_risk_difference,
        estimate_risk_difference_wald,
        estimate_risk_ratio,
        estimate_risk_ratio_score_ci,
    )
    from pmrtrial.stats.results import EstimateResult, TestResult, software_versions

# Imported from their module on first use (pmrtrial._lazy): the simulator's GEE does not load scipy.stats.
_LAZY: dict[str, str] = {
    "EstimateResult": "pmrtrial.stats.results",
    "GeeBatchResult": "pmrtrial.stats.gee",
    "GeeResult": "pmrtrial.stats.gee",
    "MethodComparison": "pmrtrial.stats.continuous",
    "PublishedComparison": "pmrtrial.stats.continuous",
    "TestResult": "pmrtrial.stats.results",
    "barnard_exact_test": "pmrtrial.stats.exact",
    "boschloo_exact_test": "pmrtrial.stats.exact",
    "compare_with_published": "pmrtrial.stats.continuous",
    "estimate_mean_difference": "pmrtrial.stats.continuous",
    "estimate_mean_difference_from_summary": "pmrtrial.stats.continuous",
    "estimate_mean_difference_pooled": "pmrtrial.stats.continuous",
    "estimate_mean_difference_pooled_from_summary": "pmrtrial.stats.continuous",
    "estimate_risk_difference": "pmrtrial.stats.proportions",
    "estimate_risk_difference_wald": "pmrtrial.stats.proportions",
    "estimate_risk_ratio": "pmrtrial.stats.proportions",
    "estimate_risk_ratio_bayes": "pmrtrial.stats.bayes",
    "estimate_risk_ratio_score_ci": "pmrtrial.stats.proportions",
    "fisher_exact_test": "pmrtrial.stats.exact",
    "fit_log_binomial_gee": "pmrtrial.stats.gee",
    "fit_modified_poisson_gee": "pmrtrial.stats.gee",
    "fit_risk_ratio_gee": "pmrtrial.stats.gee",
    "fit_risk_ratio_gee_batch": "pmrtrial.stats.gee",
    "software_versions": "pmrtrial.stats.results",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "EstimateResult",
    "GeeBatchResult",
    "GeeResult",
    "MethodComparison",
    "PublishedComparison",
    "TestResult",
    "barnard_exact_test",
    "boschloo_exact_test",
    "compare_with_published",
    "estimate_mean_difference",
    "estimate_mean_difference_from_summary",
    "estimate_mean_difference_pooled",
    "estimate_mean_difference_pooled_from_summary",
    "estimate_risk_difference",
    "estimate_risk_difference_wald",
    "estimate_risk_ratio",
    "estimate_risk_ratio_bayes",
    "estimate_risk_ratio_score_ci",
    "fisher_exact_test",
    "fit_log_binomial_gee",
    "fit_modified_poisson_gee",
    "fit_risk_ratio_gee",
    "fit_risk_ratio_gee_batch",
    "software_versions",
]
