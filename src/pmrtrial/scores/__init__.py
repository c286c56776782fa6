"""Clinical instruments: PMR activity scores, activity categories, flare and response.

Patient-reported outcomes (HAQ-DI, EQ-5D, SF-36) live in sibling modules and are re-exported here.
"""

from __future__ import annotations

from pmrtrial.scores.eq5d import (
    EQ5D_DIMENSIONS,
    Eq5dValueSet,
    check_eq5d_state,
    check_eq5d_vas,
    compute_eq5d_index,
    compute_eq5d_state,
    list_eq5d_value_sets,
    load_eq5d_value_set,
)
from pmrtrial.scores.haq import (
    HAQ_CATEGORIES,
    HAQ_MIN_CATEGORIES,
    HaqDiResult,
    compute_haq_di,
    compute_haq_di_without_aids,
    haq_item_keys,
)
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
from pmrtrial.scores.sf36 import (
    SF36_SCALES,
    SF36_SCORING,
    Sf36Norms,
    Sf36Result,
    compute_sf36,
    compute_sf36_norm_based,
    load_sf36_norms,
    sf36_item_keys,
)

__all__ = [
    "ACTIVITY_CUTOFFS",
    "EQ5D_DIMENSIONS",
    "FLARE_ABSOLUTE_THRESHOLD",
    "FLARE_CHANGE_THRESHOLD",
    "HAQ_CATEGORIES",
    "HAQ_MIN_CATEGORIES",
    "RESPONSE_STATES",
    "RESPONSE_THRESHOLD",
    "SF36_SCALES",
    "SF36_SCORING",
    "ActivityCutoffs",
    "Eq5dValueSet",
    "FlareResult",
    "HaqDiResult",
    "Sf36Norms",
    "Sf36Result",
    "check_eq5d_state",
    "check_eq5d_vas",
    "classify_pmr_as_activity",
    "classify_response_state",
    "compute_clin_pmr_as",
    "compute_crp_pmr_as",
    "compute_eq5d_index",
    "compute_eq5d_state",
    "compute_esr_pmr_as",
    "compute_haq_di",
    "compute_haq_di_without_aids",
    "compute_sf36",
    "compute_sf36_norm_based",
    "detect_flare",
    "haq_item_keys",
    "is_bachelor_responder",
    "list_eq5d_value_sets",
    "load_eq5d_value_set",
    "load_sf36_norms",
    "sf36_item_keys",
]
