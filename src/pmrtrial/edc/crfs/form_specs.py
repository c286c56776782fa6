"""The eCRF field definitions (plain data: no Django), keyed by the protocol's form names.

A visit's forms come from ``Protocol.visits[i].forms``; ``eligibility`` and ``consent`` are
workflows (screening, consent) rather than CRFs. Labels are English msgids translated by the UI.

A field that records a canonical variable (``pain_vas``, ``esr_mm_h``, ``severity``...) takes its
range or its choices from :mod:`pmrtrial.vocabulary` (:func:`_canonical`), so what the eCRF accepts
is what dataset validation accepts. Entry-only fields (``crp_value`` with its unit, height, tablets)
keep their own plausibility ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pmrtrial.edc.adverse_events.meddra import MEDDRA_SOCS
from pmrtrial.edc.crfs.instruments import (
    EQ5D_DIMENSIONS,
    HAQ_CATEGORIES,
    HAQ_RESPONSES,
    SF36_ITEMS,
    SF36_OPTIONS,
    haq_label,
)
from pmrtrial.edc.errors import NotFound
from pmrtrial.scores import haq_item_keys, sf36_item_keys
from pmrtrial.vocabulary import get_variable

__all__ = ["FORMS", "LOG_FORMS", "WORKFLOW_FORMS", "FieldDef", "FormSpec", "get_form_spec"]

FieldType = Literal["number", "integer", "choice", "bool", "date", "text"]


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: FieldType
    label: str
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: tuple[tuple[Any, str], ...] = ()
    unit: str = ""
    group: str = ""  # a heading shared by consecutive fields (a HAQ-DI category, an SF-36 question stem)


@dataclass(frozen=True)
class FormSpec:
    name: str
    title: str
    fields: tuple[FieldDef, ...]
    participant_level: bool = False  # not tied to one visit (end of study, adverse events)
    scored: tuple[str, ...] = field(default=())

    def get_field(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)


_FIELD_TYPES: dict[str, FieldType] = {"float": "number", "integer": "integer", "boolean": "bool", "date": "date"}


def _canonical(
    name: str,
    label: str,
    required: bool = False,
    *,
    table: str = "visits",
    type: FieldType | None = None,
    exclude: tuple[Any, ...] = (),
) -> FieldDef:
    """A field for the canonical variable ``name``: range, unit or choices from the vocabulary."""
    var = get_variable(name, table)
    if var.levels is not None:
        choices = tuple((level, var.level_label(level)) for level in var.levels if level not in exclude)
        return FieldDef(name, type or "choice", label, required, choices=choices)
    kind = type or _FIELD_TYPES.get(var.kind, "text")
    unit = "" if var.unit == "-" else var.unit
    return FieldDef(name, kind, label, required, var.lo, var.hi, unit=unit)


def _n(name: str, label: str, lo: float, hi: float, unit: str = "", required: bool = False) -> FieldDef:
    return FieldDef(name, "number", label, required, lo, hi, unit=unit)


def _i(name: str, label: str, lo: float, hi: float, unit: str = "", required: bool = False) -> FieldDef:
    return FieldDef(name, "integer", label, required, lo, hi, unit=unit)


_YES_NO = "bool"
_SF36_CODES = {
    "q1": 5,
    "q2": 5,
    "q6": 5,
    "q7": 6,
    "q8": 5,
    "q10": 5,
    **{f"q3{c}": 3 for c in "abcdefghij"},
    **{f"q4{c}": 2 for c in "abcd"},
    **{f"q5{c}": 2 for c in "abc"},
    **{f"q9{c}": 6 for c in "abcdefghi"},
    **{f"q11{c}": 5 for c in "abcd"},
}


def _haq_fields() -> tuple[FieldDef, ...]:
    out = []
    for key in haq_item_keys():
        group = HAQ_CATEGORIES[key.split("_")[0]][0]
        if key.endswith(("_aid", "_help")):
            out.append(FieldDef(key, "bool", haq_label(key), group=group))
        else:
            out.append(FieldDef(key, "choice", haq_label(key), choices=HAQ_RESPONSES, group=group))
    return tuple(out)


def _sf36_fields() -> tuple[FieldDef, ...]:
    out = []
    for k in sf36_item_keys():
        if len(SF36_OPTIONS[k]) != _SF36_CODES[k]:  # the wording and the scorer's codes must agree
            raise ValueError(f"SF-36 item {k}: {len(SF36_OPTIONS[k])} options, scorer expects {_SF36_CODES[k]}")
        stem, text = SF36_ITEMS[k]
        out.append(FieldDef(k, "choice", text, choices=SF36_OPTIONS[k], group=stem))
    return tuple(out)


FORMS: dict[str, FormSpec] = {
    spec.name: spec
    for spec in (
        FormSpec("visit_info", "Visit date", (FieldDef("visit_date", "date", "Visit date", True),)),
        FormSpec(
            "pmr_as",
            "PMR activity score",
            (
                _canonical("pain_vas", "Patient's pain VAS", True),
                _canonical("patient_global_vas", "Patient's global (disease activity) VAS"),
                _canonical("fatigue_vas", "Fatigue VAS"),
                _canonical("physician_global_vas", "Physician's global VAS", True),
                _canonical("morning_stiffness_min", "Morning stiffness", True, type="integer"),
                _canonical("upper_limb_elevation", "Upper-limb elevation (EUL)", True),
            ),
            scored=("clin_pmr_as", "crp_pmr_as", "esr_pmr_as", "crp_pmr_as_activity"),
        ),
        FormSpec(
            "labs",
            "Laboratory",
            (
                FieldDef("sample_date", "date", "Sample date"),
                _n("crp_value", "CRP", 0, 1000, required=True),
                FieldDef("crp_unit", "choice", "CRP unit", True, choices=(("mg/L", "mg/L"), ("mg/dL", "mg/dL"))),
                _canonical("esr_mm_h", "ESR"),
            ),
        ),
        FormSpec(
            "oral_gc",
            "Oral glucocorticoid",
            (
                FieldDef("on_oral_gc", "bool", "On oral glucocorticoid", True),
                _n("prednisone_mg_day", "Prednisone dose", 0, 100, "mg/day"),
                FieldDef("rescue_start", "date", "Rescue start date"),
                FieldDef("rescue_stop", "date", "Rescue stop date"),
            ),
        ),
        FormSpec(
            "injections",
            "Shoulder injections",
            (
                FieldDef("injection_given", "bool", "Shoulder injection given", True),
                _n("injection_week", "Week of the injection", 0, 60),
                FieldDef("injection_date", "date", "Injection date"),
                FieldDef(
                    "agent",
                    "choice",
                    "Agent",
                    choices=(
                        ("betamethasone 7 mg", "betamethasone 7 mg"),
                        ("cortivazol 3.75 mg", "cortivazol 3.75 mg"),
                    ),
                ),
                FieldDef("side", "choice", "Side", choices=(("left", "left"), ("right", "right"), ("both", "both"))),
            ),
        ),
        FormSpec(
            "study_drug",
            "Study drug",
            (
                FieldDef("kit_code", "text", "Kit code dispensed", True),
                _i("tablets_dispensed", "Tablets dispensed", 0, 500),
                _i("tablets_returned", "Tablets returned", 0, 500),
                _n("adherence_pct", "Adherence", 0, 100, "%"),
            ),
        ),
        FormSpec(
            "demographics",
            "Demographics",
            (_n("height_cm", "Height", 100, 230, "cm", True), _n("weight_kg", "Weight", 25, 250, "kg", True)),
            scored=("bmi",),
        ),
        FormSpec(
            "ultrasound",
            "Ultrasound",
            (
                FieldDef("synovitis", "bool", "Shoulder or hip synovitis/bursitis", True),
                FieldDef("tenosynovitis", "bool", "Biceps tenosynovitis"),
            ),
        ),
        FormSpec("haq_di", "Health Assessment Questionnaire (HAQ-DI)", _haq_fields(), scored=("haq_di",)),
        FormSpec(
            "eq5d",
            "EQ-5D-3L",
            (
                *(
                    FieldDef(d, "choice", name, True, choices=tuple((k, f"Level {k}") for k in range(1, 4)))
                    for d, name in EQ5D_DIMENSIONS.items()
                ),
                _i("vas", "EQ VAS (0 = worst, 100 = best imaginable health)", 0, 100),
            ),
            scored=("eq5d_index",),
        ),
        FormSpec(
            "sf36",
            "SF-36 health survey",
            _sf36_fields(),
            scored=("sf36_pcs", "sf36_mcs"),
        ),
        FormSpec(
            "adverse_event",
            "Adverse event",
            (
                FieldDef(
                    "soc", "choice", "System organ class (MedDRA)", True, choices=tuple((s, s) for s in MEDDRA_SOCS)
                ),
                FieldDef("term", "text", "Term", True),
                FieldDef("serious", "bool", "Serious", True),
                FieldDef(
                    "serious_criterion",
                    "choice",
                    "Seriousness criterion",
                    choices=(
                        ("death", "results in death"),
                        ("life_threatening", "life-threatening"),
                        ("hospitalisation", "hospitalisation or prolongation"),
                        ("disability", "persistent disability"),
                        ("congenital_anomaly", "congenital anomaly"),
                        ("important_medical_event", "important medical event"),
                    ),
                ),
                _canonical("severity", "Severity", True, table="adverse_events"),
                FieldDef(
                    "relatedness",
                    "choice",
                    "Relationship to study drug",
                    True,
                    choices=(
                        ("not_related", "not related"),
                        ("unlikely", "unlikely"),
                        ("possible", "possible"),
                        ("probable", "probable"),
                        ("definite", "definite"),
                    ),
                ),
                FieldDef("onset_date", "date", "Onset date", True),
                FieldDef("resolution_date", "date", "Resolution date"),
                _canonical("outcome", "Outcome", True, table="adverse_events"),
            ),
            participant_level=True,
            scored=("onset_week",),
        ),
        FormSpec(
            "gc_dose",
            "Glucocorticoid dose",
            (
                FieldDef("start_date", "date", "Start date", True),
                FieldDef("end_date", "date", "End date (empty: ongoing)"),
                _canonical("dose_mg_day", "Dose (prednisone equivalent)", True, table="gc_doses"),
                # Not named "reason": that is the reason-for-change input of every edited form.
                replace(_canonical("reason", "Reason for the dose", True, table="gc_doses"), name="dose_reason"),
            ),
            participant_level=True,
            scored=("start_day", "end_day"),
        ),
        FormSpec(
            "flare",
            "Flare assessment",
            (
                FieldDef("assessment_date", "date", "Assessment date", True),
                _canonical("pain_vas", "Patient's pain VAS", True),
                _canonical("physician_global_vas", "Physician's global VAS", True),
                _canonical("morning_stiffness_min", "Morning stiffness", True, type="integer"),
                _canonical("upper_limb_elevation", "Upper-limb elevation (EUL)", True),
                _n("crp_value", "CRP", 0, 1000, required=True),
                FieldDef("crp_unit", "choice", "CRP unit", True, choices=(("mg/L", "mg/L"), ("mg/dL", "mg/dL"))),
                FieldDef("confirmed", "bool", "Flare confirmed by the investigator", True),
                FieldDef("comment", "text", "Comment"),
            ),
            participant_level=True,
            scored=("day", "crp_pmr_as", "dejaco_rule", "rule"),
        ),
        FormSpec(
            "end_of_study",
            "End of study",
            (
                # 'ongoing' is the interim-export level of a participant without this form.
                _canonical("status", "Status", True, table="subjects", exclude=("ongoing",)),
                FieldDef("end_date", "date", "Date", True),
                FieldDef("reason", "text", "Reason (withdrawal or loss)"),
            ),
            participant_level=True,
        ),
    )
}

#: Protocol form names handled by a workflow rather than a CRF.
WORKFLOW_FORMS = frozenset({"eligibility", "consent"})
#: The protocol lists the participant-level logs "adverse_events", "gc_doses" and "flares" at visits
#: (which declares that the EDC captures them); each event, dose row or assessment is one record.
FORM_ALIASES = {"adverse_events": "adverse_event", "gc_doses": "gc_dose", "flares": "flare"}
#: Repeating participant-level logs: form -> key prefix of its records (``AE-1``, ``GC-1``, ``FL-1``).
LOG_FORMS = {"adverse_event": "AE", "gc_dose": "GC", "flare": "FL"}


def get_form_spec(name: str) -> FormSpec:
    """The form called ``name`` (or its alias); :class:`~pmrtrial.edc.errors.NotFound` (HTTP 404) if none."""
    spec = FORMS.get(FORM_ALIASES.get(name, name))
    if spec is None:
        raise NotFound(f"Unknown form {name!r}. Expected one of {', '.join(sorted(FORMS))}.")
    return spec
