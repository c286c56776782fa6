"""The screening form of a canonical (twin) participant, for demo studies: the demo seed and the REDCap
API's demo enrolment both build it here (no Django import).

The form has one answer per eligibility field of the protocol, taken in this order from:

1. the participant's ``subjects`` row, under the field's name (``age_years``, ``sex``, ``mtx_baseline``) or under
   its canonical name (``symptom_duration_days`` is ``disease_duration_days``; the ultrasound items
   ``us_shoulder_and_hip`` and ``us_both_shoulders`` are ``us_synovitis``);
2. the participant's week-0 ``visits`` row (CRP, ESR, the PMR-AS components, the oral glucocorticoid dose);
3. :data:`DEMO_SCREENING_ANSWERS`, for the items the canonical datasets do not hold, answered so that the
   protocol's rules can be decided: BACHELOR bilateral shoulder aching and hip pain yes, RF/ACPA, other joints,
   glucocorticoid in the last 2 weeks and every exclusion no (the 2012 EULAR/ACR criteria then rest on the
   ultrasound); SEMAPHORE initial response to prednisone 12-25 mg/day yes; SAPHYR relapse during the taper yes,
   prednisone dose at relapse 10 mg/day (the twin holds no dose at relapse; any dose of 7.5 mg/day or more
   meets the criterion) and every exclusion no.

A field with none of these sources stays unanswered (the screening then names it if a rule needs it). Every
answer is visible in the audit trail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from pmrtrial.protocol import Protocol

__all__ = ["DEMO_SCREENING_ANSWERS", "plain", "screening_record"]

#: Screening items that the canonical datasets do not hold, and the demo's answer (see the module docstring).
DEMO_SCREENING_ANSWERS: Mapping[str, Any] = {
    # BACHELOR: the 2012 EULAR/ACR items and the exclusions
    "bilateral_shoulder_aching": True,
    "gc_in_last_2_weeks": False,
    "hip_pain_or_limited_rom": True,
    "rf_or_acpa_positive": False,
    "other_joint_involvement": False,
    "gca_signs": False,
    "unstable_cardiovascular_disease": False,
    "serious_illness": False,
    "active_infection": False,
    "malignancy_within_5_years": False,
    "immunosuppressant_within_1_year": False,
    "pregnant_or_breastfeeding": False,
    # SEMAPHORE
    "initial_response_to_prednisone_12_25": True,
    # SAPHYR
    "relapse_during_gc_taper": True,
    "gc_mg_day_at_relapse": 10.0,
    "active_fibromyalgia": False,
    "other_inflammatory_disease": False,
    "immunosuppressant_use": False,
}
#: Screening fields held by the ``subjects`` row under another (canonical) name.
_SUBJECT_ALIASES = {
    "symptom_duration_days": "disease_duration_days",
    "us_shoulder_and_hip": "us_synovitis",
    "us_both_shoulders": "us_synovitis",
}


def plain(value: Any) -> Any:
    """numpy/pandas scalars -> Python (the EDC stores JSON); NaN/None/NA -> None."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    try:
        missing = bool(pd.isna(value))
    except (TypeError, ValueError):  # a container: not a missing scalar
        missing = False
    return None if missing else value


def _answer(name: str, subject: Mapping[str, Any], baseline: Mapping[str, Any]) -> Any:
    for source, key in ((subject, name), (subject, _SUBJECT_ALIASES.get(name)), (baseline, name)):
        if key is not None and key in source:
            value = plain(source[key])
            if value is not None:
                return value
    return DEMO_SCREENING_ANSWERS.get(name)


def screening_record(
    subject: Mapping[str, Any], baseline: Mapping[str, Any], protocol: Protocol | None = None
) -> dict[str, Any]:
    """The screening form of a canonical participant (``subjects`` row) with its week-0 ``visits`` row.

    One answer per eligibility field of ``protocol`` (BACHELOR when None), by the sources listed in the module
    docstring; integer fields get integers, boolean fields booleans.
    """
    if protocol is None:
        from pmrtrial.protocol import load_protocol

        protocol = load_protocol("bachelor")
    record: dict[str, Any] = {}
    for spec in protocol.eligibility.fields:
        value = _answer(spec.name, subject, baseline)
        if value is not None and spec.type == "integer":
            value = int(value)
        elif value is not None and spec.type == "boolean":
            value = bool(value)
        record[spec.name] = value
    return record
