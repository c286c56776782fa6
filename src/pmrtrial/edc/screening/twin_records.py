"""The screening form of a canonical (twin) participant, for demo studies: the demo seed and the REDCap
API's demo enrolment both build it here (no Django import).

The canonical datasets hold no screening answers beyond age, sex, disease duration, baseline scores and
ultrasound, so the items the twin lacks are answered so that the 2012 EULAR/ACR criteria and the protocol's
rules can be decided: bilateral shoulder aching and hip pain yes; RF/ACPA, other joints, glucocorticoid in
the last 2 weeks and every exclusion no; ultrasound findings = ``us_synovitis``; CRP, ESR and PMR-AS
components are the participant's week-0 values. Every answer is visible in the audit trail.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["plain", "screening_record"]

_SCREEN_FROM_VISIT = ("crp_mg_l", "esr_mm_h", "pain_vas", "physician_global_vas", "morning_stiffness_min")
_EXCLUSIONS_ANSWERED_NO = (
    "gca_signs",
    "unstable_cardiovascular_disease",
    "serious_illness",
    "active_infection",
    "malignancy_within_5_years",
    "immunosuppressant_within_1_year",
    "pregnant_or_breastfeeding",
)


def plain(value: Any) -> Any:
    """numpy/pandas scalars -> Python (the EDC stores JSON); NaN/None -> None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def screening_record(subject: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, Any]:
    """The screening form of a canonical participant (``subjects`` row) with its week-0 ``visits`` row."""
    us = bool(subject["us_synovitis"])
    record: dict[str, Any] = {
        "age_years": plain(subject["age_years"]),
        "sex": subject["sex"],
        "bilateral_shoulder_aching": True,
        "symptom_duration_days": plain(subject["disease_duration_days"]),
        "gc_in_last_2_weeks": False,
        **{name: plain(baseline[name]) for name in _SCREEN_FROM_VISIT},
        "upper_limb_elevation": int(baseline["upper_limb_elevation"]),
        "hip_pain_or_limited_rom": True,
        "rf_or_acpa_positive": False,
        "other_joint_involvement": False,
        "us_shoulder_and_hip": us,
        "us_both_shoulders": us,
    }
    record.update(dict.fromkeys(_EXCLUSIONS_ANSWERED_NO, False))
    return record
