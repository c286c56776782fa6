"""Names a protocol may refer to: visit variables, derived visit variables, eCRF forms.

The visit variables are the columns of the canonical ``visits`` analysis dataset (README,
"Canonical analysis datasets"); derived variables are computed from them by
:mod:`pmrtrial.derive`. Both come from :mod:`pmrtrial.vocabulary`. Endpoints may use either;
:func:`pmrtrial.protocol.validate_protocol` rejects any other name.
"""

from __future__ import annotations

from types import MappingProxyType

from pmrtrial.vocabulary import table_variables

__all__ = ["DERIVED_VISIT_VARIABLES", "FORMS", "SUBJECT_VARIABLES", "VISIT_VARIABLES"]

#: Canonical ``visits`` columns a protocol may name: name -> (unit or scale, description).
#: Built from :mod:`pmrtrial.vocabulary` (keys and dates excluded).
VISIT_VARIABLES = MappingProxyType(
    {v.name: (v.unit, v.description) for v in table_variables("visits") if v.protocol_variable}
)

#: Canonical ``subjects`` columns a protocol may name (baseline table, covariates): every column but the key.
SUBJECT_VARIABLES = MappingProxyType(
    {v.name: (v.unit, v.description) for v in table_variables("subjects") if v.name != "subject_id"}
)

#: Variables derived per visit from the canonical columns (:mod:`pmrtrial.derive`), from the vocabulary.
DERIVED_VISIT_VARIABLES = MappingProxyType(
    {v.name: (v.unit, v.description) for v in table_variables("derived") if v.protocol_variable}
)

#: eCRF forms (instruments) a visit may require. ``adverse_events``, ``gc_doses`` and ``flares`` are
#: participant-level logs: listing them at a visit declares that the EDC captures them.
FORMS = MappingProxyType(
    {
        "eligibility": "Screening and eligibility",
        "consent": "Informed consent",
        "demographics": "Demographics and medical history",
        "pmr_as": "PMR-AS components (VAS, morning stiffness, upper-limb elevation)",
        "labs": "Laboratory: CRP and ESR",
        "oral_gc": "Oral glucocorticoid (rescue prednisone) dose",
        "injections": "Shoulder glucocorticoid injections",
        "study_drug": "Study drug dispensing and adherence",
        "haq_di": "HAQ-DI questionnaire",
        "eq5d": "EQ-5D questionnaire",
        "sf36": "SF-36 questionnaire",
        "ultrasound": "Shoulder and hip ultrasound",
        "adverse_events": "Adverse events",
        "gc_doses": "Glucocorticoid dose log (dose changes, reason; cumulative dose and taper adherence)",
        "flares": "Flare assessments (PMR-AS, investigator's judgement, Dejaco 2011 rule)",
        "end_of_study": "End of study / withdrawal",
    }
)
