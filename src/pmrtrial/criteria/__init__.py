"""Classification criteria for polymyalgia rheumatica."""

from __future__ import annotations

from pmrtrial.criteria.eular_acr_2012 import (
    CRP_UPPER_LIMIT_MG_L,
    ClassificationItem,
    ClassificationResult,
    classify_pmr_2012,
    compute_esr_upper_limit,
    is_inflammatory_marker_abnormal,
)

__all__ = [
    "CRP_UPPER_LIMIT_MG_L",
    "ClassificationItem",
    "ClassificationResult",
    "classify_pmr_2012",
    "compute_esr_upper_limit",
    "is_inflammatory_marker_abnormal",
]
