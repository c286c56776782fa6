"""Statistics of the trial SAPs: exact tests, risk ratios and differences, Bayesian risk ratio, mean
differences, time to event (Kaplan-Meier, log-rank, Cox). Pure functions returning frozen result objects.
lifelines (time to event) is imported inside the functions that need it, never by ``import pmrtrial.stats``.

The GEE estimator lives in :mod:`pmrtrial.stats.gee` (separate module, own ``GeeResult`` with the same
field names ``estimate``, ``lo``, ``hi``, ``p``, ``method``, ``converged``, ``warnings``).
"""

from __future__ import annotations

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
    "james_blinding_index",
    "kaplan_meier",
    "logrank_test",
    "software_versions",
    "tipping_point_binary",
    "wilcoxon_hodges_lehmann",
]
