"""Statistics of the trial SAPs: exact tests, risk ratios and differences, Bayesian risk ratio, mean
differences, time to event (Kaplan-Meier, log-rank, Cox). Pure functions returning frozen result objects.
lifelines (time to event) is imported inside the functions that need it, never by ``import pmrtrial.stats``.

The GEE estimator lives in :mod:`pmrtrial.stats.gee` (separate module, own ``GeeResult`` with the same
field names ``estimate``, ``lo``, ``hi``, ``p``, ``method``, ``converged``, ``warnings``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmrtrial._lazy import lazy_exports

if TYPE_CHECKING:
    from pmrtrial.stats.adjusted import estimate_adjusted_risk_ratio
    from pmrtrial.stats.bayes import estimate_risk_ratio_bayes
    from pmrtrial.stats.blinding import bang_blinding_index, blinding_table, james_blinding_index
    from pmrtrial.stats.continuous import (
        MethodComparison,
        PublishedComparison,
        compare_with_published,
        estimate_mean_difference,
        estimate_mean_difference_from_summary,
        estimate_mean_difference_pooled,
        estimate_mean_difference_pooled_from_summary,
        wilcoxon_hodges_lehmann,
    )
    from pmrtrial.stats.exact import barnard_exact_test, boschloo_exact_test, fisher_exact_test
    from pmrtrial.stats.gee import (
        GeeBatchResult,
        GeeResult,
        fit_log_binomial_gee,
        fit_modified_poisson_gee,
        fit_risk_ratio_gee,
        fit_risk_ratio_gee_batch,
        fit_risk_ratio_gee_counts,
    )
    from pmrtrial.stats.proportions import (
        estimate_risk_difference,
        estimate_risk_difference_wald,
        estimate_risk_ratio,
        estimate_risk_ratio_score_ci,
    )
    from pmrtrial.stats.results import (
        BangBlindingResult,
        BlindingArm,
        EstimateResult,
        KaplanMeierArm,
        KaplanMeierResult,
        TestResult,
        software_versions,
    )
    from pmrtrial.stats.survival import cox_ph, kaplan_meier, logrank_test
    from pmrtrial.stats.tipping_point import TippingPointCell, TippingPointResult, tipping_point_binary

# Imported from their module on first use (pmrtrial._lazy): the simulator's GEE does not load scipy.stats.
_LAZY: dict[str, str] = {
    "BangBlindingResult": "pmrtrial.stats.results",
    "BlindingArm": "pmrtrial.stats.results",
    "EstimateResult": "pmrtrial.stats.results",
    "GeeBatchResult": "pmrtrial.stats.gee",
    "GeeResult": "pmrtrial.stats.gee",
    "KaplanMeierArm": "pmrtrial.stats.results",
    "KaplanMeierResult": "pmrtrial.stats.results",
    "MethodComparison": "pmrtrial.stats.continuous",
    "PublishedComparison": "pmrtrial.stats.continuous",
    "TestResult": "pmrtrial.stats.results",
    "TippingPointCell": "pmrtrial.stats.tipping_point",
    "TippingPointResult": "pmrtrial.stats.tipping_point",
    "bang_blinding_index": "pmrtrial.stats.blinding",
    "barnard_exact_test": "pmrtrial.stats.exact",
    "blinding_table": "pmrtrial.stats.blinding",
    "boschloo_exact_test": "pmrtrial.stats.exact",
    "compare_with_published": "pmrtrial.stats.continuous",
    "cox_ph": "pmrtrial.stats.survival",
    "estimate_adjusted_risk_ratio": "pmrtrial.stats.adjusted",
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
    "fit_risk_ratio_gee_counts": "pmrtrial.stats.gee",
    "james_blinding_index": "pmrtrial.stats.blinding",
    "kaplan_meier": "pmrtrial.stats.survival",
    "logrank_test": "pmrtrial.stats.survival",
    "software_versions": "pmrtrial.stats.results",
    "tipping_point_binary": "pmrtrial.stats.tipping_point",
    "wilcoxon_hodges_lehmann": "pmrtrial.stats.continuous",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "BangBlindingResult",
    "BlindingArm",
    "EstimateResult",
    "GeeBatchResult",
    "GeeResult",
    "KaplanMeierArm",
    "KaplanMeierResult",
    "MethodComparison",
    "PublishedComparison",
    "TestResult",
    "TippingPointCell",
    "TippingPointResult",
    "bang_blinding_index",
    "barnard_exact_test",
    "blinding_table",
    "boschloo_exact_test",
    "compare_with_published",
    "cox_ph",
    "estimate_adjusted_risk_ratio",
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
    "fit_risk_ratio_gee_counts",
    "james_blinding_index",
    "kaplan_meier",
    "logrank_test",
    "software_versions",
    "tipping_point_binary",
    "wilcoxon_hodges_lehmann",
]
