"""Clinical instruments: PMR activity scores, activity categories, flare and response.

Patient-reported outcomes (HAQ-DI, EQ-5D, SF-36) live in sibling modules and are re-exported here.
"""

from __future__ import annotations

from pmrtrial.scores.pmr_as import (
    ACTIVITY_CUTOFFS,
    FLARE_ABSOLUTE_THRESHOLD,
    FLARE_CHANGE_THRESHOLD,
    RESPONSE_STATES,
    RESPONSE_THRESHOLD,
    ActivityCutoffs,
    FlareResult,
    classify_pmr_as_activity,
    classify_response_state,
    compute_clin_pmr_as,
    compute_crp_pmr_as,
    compute_esr_pmr_as,
    detect_flare,
    is_bachelor_responder,
)

__all__ = [
    "ACTIVITY_CUTOFFS",
    "FLARE_ABSOLUTE_THRESHOLD",
    "FLARE_CHANGE_THRESHOLD",
    "RESPONSE_STATES",
    "RESPONSE_THRESHOLD",
    "ActivityCutoffs",
    "FlareResult",
    "classify_pmr_as_activity",
    "classify_response_state",
    "compute_clin_pmr_as",
    "compute_crp_pmr_as",
    "compute_esr_pmr_as",
    "detect_flare",
    "is_bachelor_responder",
]
