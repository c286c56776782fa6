"""A REDCap project (data dictionary, arms, events, instrument-event mapping) built from a protocol.

Pure: no Django, no files. The instruments are the EDC's eCRFs (:mod:`pmrtrial.edc.crfs.form_specs`)
plus an ``enrolment`` instrument for the subject-level canonical variables, so a REDCap field has
the name, range and choices of the eCRF field it mirrors and an import can run every value through
the EDC's own form rules (:func:`pmrtrial.edc.crfs.form_validators.validate_form`).

Conventions (as REDCap users know them):

- one REDCap arm (``Arm 1``); one event per protocol visit, unique name ``<visit code>_arm_1``
  (``w12_arm_1``); instruments are mapped to the events at which the protocol collects them;
  ``adverse_event`` is a repeating instrument;
- choices are ``code, label | code, label``; a code that is not a REDCap-safe name (``mg/L``,
  a MedDRA SOC) becomes its 1-based position (:func:`choice_codes`);
- yes/no fields are ``yesno`` (1/0); numbers are ``text`` validated as ``number`` or ``integer``
  with the eCRF's min and max; dates are ``date_ymd``;
- ``crp_pmr_as`` is a ``calc`` field (Leeb and Bird 2004: CRP in mg/dL + patient VAS + physician
  VAS + 0.1 x morning stiffness + EUL, the patient VAS named by the protocol) and ``bmi`` too;
- the questionnaires are captured item by item, exactly as the eCRFs hold them: HAQ-DI (20 items in
  8 categories, with each category's aid/device and help questions), EQ-5D-3L (5 dimensions and
  the VAS) and SF-36 (36 items). Their scores (``haq_di``; ``eq5d_index``; ``sf36_pcs``, ``sf36_mcs``)
  follow the items as read-only number fields (:data:`SCORE_FIELDS`, action tag ``@READONLY``): they
  are not REDCap calculations, because :mod:`pmrtrial.scores` is the one scoring implementation. An
  export fills them with the EDC's scores; an import recomputes them from the items and reports a
  supplied score that disagrees;
- labels are English or French (the EDC's translations; the vocabulary's for canonical variables).
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pmrtrial.edc.crfs.form_specs import FORM_ALIASES, WORKFLOW_FORMS, FieldDef, FormSpec, get_form_spec
from pmrtrial.protocol import Protocol
from pmrtrial.vocabulary import get_variable, is_canonical, value_range

__all__ = [
    "DICTIONARY_HEADER",
    "ENROLMENT_FIELDS",
    "RECORD_ID",
    "SCORE_FIELDS",
    "RedcapField",
    "RedcapProject",
    "build_project",
    "choice_codes",
    "event_name",
]

Lang = Literal["en", "fr"]

#: REDCap's data dictionary header row, exactly.
DICTIONARY_HEADER: tuple[str, ...] = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)

RECORD_ID = "record_id"
ENROLMENT = "enrolment"
#: Subject-level canonical variables captured on the enrolment instrument (besides the record id).
ENROLMENT_FIELDS: tuple[str, ...] = ("site_id", "arm", "randomised_on", "age_years", "sex", "disease_duration_days")

#: Fields shown only when another answer allows them (the eCRF rules of form_validators).
BRANCHING: Mapping[str, str] = {
    "prednisone_mg_day": "[on_oral_gc] = '1'",
    "rescue_start": "[on_oral_gc] = '1'",
    "rescue_stop": "[on_oral_gc] = '1'",
    "injection_week": "[injection_given] = '1'",
    "injection_date": "[injection_given] = '1'",
    "agent": "[injection_given] = '1'",
    "side": "[injection_given] = '1'",
    "serious_criterion": "[serious] = '1'",
    "reason": "[status] = 'withdrawn' or [status] = 'lost'",
}

#: Questionnaire instrument -> the scores :mod:`pmrtrial.scores` computes from its items (the eCRF's ``scored``).
SCORE_FIELDS: Mapping[str, tuple[str, ...]] = {form: get_form_spec(form).scored for form in ("haq_di", "eq5d", "sf36")}

_SAFE = re.compile(r"^[A-Za-z0-9_]+$")
_LOCALE = Path(__file__).resolve().parents[1] / "locale"


def event_name(visit_code: str) -> str:
    """REDCap unique event name of a protocol visit (``W12`` -> ``w12_arm_1``)."""
    return f"{re.sub(r'[^a-z0-9]+', '_', visit_code.lower()).strip('_')}_arm_1"


def choice_codes(choices: Sequence[tuple[Any, str]]) -> dict[str, Any]:
    """REDCap code -> eCRF code: the code itself when REDCap-safe, else its 1-based position."""
    if all(_SAFE.match(str(code)) for code, _ in choices):
        return {str(code): code for code, _ in choices}
    return {str(i + 1): code for i, (code, _) in enumerate(choices)}


@dataclass(frozen=True)
class RedcapField:
    """One row of the data dictionary, plus what an import needs to map it back."""

    name: str
    form: str
    field_type: str
    label: str
    choices: str = ""
    note: str = ""
    validation: str = ""
    vmin: str = ""
    vmax: str = ""
    branching: str = ""
    required: bool = False
    annotation: str = ""
    section: str = ""
    codes: Mapping[str, Any] | None = None  # REDCap code -> eCRF/canonical code (choice fields)
    spec: FieldDef | None = None  # the eCRF field (None for record_id, enrolment, calc and score fields)
    score_of: str = ""  # a questionnaire score: the instrument whose items give it (:data:`SCORE_FIELDS`)

    def row(self) -> tuple[str, ...]:
        return (
            self.name,
            self.form,
            self.section,
            self.field_type,
            self.label,
            self.choices,
            self.note,
            self.validation,
            self.vmin,
            self.vmax,
            "",
            self.branching,
            "y" if self.required else "",
            "",
            "",
            "",
            "",
            self.annotation,
        )


@dataclass(frozen=True)
class RedcapProject:
    """Dictionary, arms, events, instrument-event mapping and repeating instruments of a protocol."""

    protocol_id: str
    fields: tuple[RedcapField, ...]
    instruments: tuple[tuple[str, str], ...]  # (name, label)
    events: tuple[tuple[str, str, float, int], ...]  # (unique name, label, week, day offset)
    mapping: tuple[tuple[str, str], ...]  # (unique event name, instrument)
    repeating: tuple[tuple[str, str], ...]  # (unique event name, instrument)

    def field(self, name: str) -> RedcapField | None:
        return next((f for f in self.fields if f.name == name), None)

    def dictionary_rows(self) -> list[tuple[str, ...]]:
        return [DICTIONARY_HEADER, *(f.row() for f in self.fields)]

    def arms_rows(self) -> list[tuple[str, ...]]:
        return [("arm_num", "name"), ("1", "Arm 1")]

    def events_rows(self) -> list[tuple[str, ...]]:
        rows: list[tuple[str, ...]] = [
            (
                "event_name",
                "arm_num",
                "day_offset",
                "offset_min",
                "offset_max",
                "unique_event_name",
                "custom_event_label",
            )
        ]
        for unique, label, _week, day in self.events:
            rows.append((label, "1", str(day), "0", "0", unique, ""))
        return rows

    def mapping_rows(self) -> list[tuple[str, ...]]:
        return [("arm_num", "unique_event_name", "form"), *(("1", e, f) for e, f in self.mapping)]

    def repeating_rows(self) -> list[tuple[str, ...]]:
        return [("event_name", "form_name", "custom_form_label"), *((e, f, "") for e, f in self.repeating)]

    @property
    def week_of_event(self) -> dict[str, float]:
        return {unique: week for unique, _label, week, _day in self.events}


def _translator(lang: Lang) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation("django", str(_LOCALE), languages=[lang], fallback=True)


def _label(spec: FieldDef | None, name: str, english: str, lang: Lang, tr: gettext.NullTranslations) -> str:
    if lang != "en" and is_canonical(name) and spec is None:
        return get_variable(name).label(lang)
    return tr.gettext(english)


def _number_range(lo: float | None, hi: float | None) -> tuple[str, str]:
    return ("" if lo is None else f"{lo:g}", "" if hi is None else f"{hi:g}")


def _ecrf_field(spec: FieldDef, form: str, lang: Lang, tr: gettext.NullTranslations) -> RedcapField:
    label = tr.gettext(spec.label)
    note = spec.unit
    annotation = f"pmrtrial eCRF {form}.{spec.name}"
    common = {"required": spec.required, "branching": BRANCHING.get(spec.name, ""), "spec": spec, "note": note}
    if spec.type in ("number", "integer"):
        lo, hi = _number_range(spec.min, spec.max)
        validation = "integer" if spec.type == "integer" else "number"
        return RedcapField(
            spec.name, form, "text", label, validation=validation, vmin=lo, vmax=hi, annotation=annotation, **common
        )
    if spec.type == "bool":
        return RedcapField(spec.name, form, "yesno", label, annotation=annotation, **common)
    if spec.type == "date":
        return RedcapField(spec.name, form, "text", label, validation="date_ymd", annotation=annotation, **common)
    if spec.type == "choice":
        pairs = [(code, tr.gettext(text)) for code, text in spec.choices]
        return _radio(spec.name, form, label, pairs, annotation=annotation, **common)
    return RedcapField(spec.name, form, "text", label, annotation=annotation, **common)


def _radio(name: str, form: str, label: str, pairs: Sequence[tuple[Any, str]], **kw: Any) -> RedcapField:
    """A radio field: REDCap codes (:func:`choice_codes`) with their labels."""
    codes = choice_codes(pairs)
    labels = {str(code): text for code, text in pairs}
    choices = " | ".join(f"{rc}, {labels[str(code)]}" for rc, code in codes.items())
    return RedcapField(name, form, "radio", label, choices=choices, codes=codes, **kw)


def _enrolment_fields(protocol: Protocol, lang: Lang, tr: gettext.NullTranslations) -> list[RedcapField]:
    fields = [
        RedcapField(
            RECORD_ID,
            ENROLMENT,
            "text",
            tr.gettext("Participant") if lang != "en" else "Participant ID",
            required=True,
            annotation="pmrtrial subjects.subject_id",
            section=tr.gettext("Enrolment"),
        )
    ]
    for name in ENROLMENT_FIELDS:
        var = get_variable(name, "subjects")
        label = var.label(lang)
        annotation = f"pmrtrial subjects.{name}"
        if name == "arm":
            pairs = [(a.id, a.label) for a in protocol.arms]
            fields.append(
                _radio(name, ENROLMENT, label, pairs, required=True, annotation=f"{annotation} (randomised arm)")
            )
        elif var.kind == "category" and var.levels is not None:
            pairs = [(lv, var.level_label(lv, lang)) for lv in var.levels if lv != "ongoing"]
            fields.append(_radio(name, ENROLMENT, label, pairs, required=var.required, annotation=annotation))
        elif var.kind == "date":
            fields.append(
                RedcapField(
                    name, ENROLMENT, "text", label, validation="date_ymd", required=var.required, annotation=annotation
                )
            )
        elif var.kind in ("float", "integer"):
            lo, hi = _number_range(var.lo, var.hi)
            fields.append(
                RedcapField(
                    name,
                    ENROLMENT,
                    "text",
                    label,
                    note="" if var.unit == "-" else var.unit,
                    validation="number",
                    vmin=lo,
                    vmax=hi,
                    required=var.required,
                    annotation=annotation,
                )
            )
        else:
            fields.append(RedcapField(name, ENROLMENT, "text", label, required=var.required, annotation=annotation))
    return fields


def _calc_fields(protocol: Protocol, form: str, lang: Lang) -> list[RedcapField]:
    if form == "pmr_as":
        vas = protocol.parameters.pmr_as_patient_vas
        crp_mg_dl = "if([crp_unit] = '2', [crp_value], [crp_value] / 10)"
        formula = (
            f"round({crp_mg_dl} + [{vas}] + [physician_global_vas] + 0.1 * [morning_stiffness_min]"
            " + [upper_limb_elevation], 2)"
        )
        return [
            RedcapField(
                "crp_pmr_as",
                form,
                "calc",
                get_variable("crp_pmr_as").label(lang),
                choices=formula,
                annotation="pmrtrial derived.crp_pmr_as (Leeb and Bird 2004)",
            )
        ]
    if form == "demographics":
        formula = "round([weight_kg] / (([height_cm] / 100) * ([height_cm] / 100)), 2)"
        return [
            RedcapField(
                "bmi",
                form,
                "calc",
                get_variable("bmi", "subjects").label(lang),
                choices=formula,
                note="kg/m2",
                annotation="pmrtrial subjects.bmi",
            )
        ]
    return []


def _score_fields(form: str, lang: Lang) -> list[RedcapField]:
    """Read-only fields for the scores of a questionnaire (filled by an export, checked by an import)."""
    fields = []
    for name in SCORE_FIELDS.get(form, ()):
        var = get_variable(name, "visits")
        lo, hi = _number_range(*value_range(name, "visits"))
        fields.append(
            RedcapField(
                name,
                form,
                "text",
                var.label(lang),
                note="" if var.unit in ("-", "index") else var.unit,
                validation="number",
                vmin=lo,
                vmax=hi,
                annotation=f"@READONLY pmrtrial visits.{name}: computed from the items by pmrtrial.scores; "
                "an imported value must agree",
                score_of=form,
            )
        )
    return fields


def _ordered_forms(protocol: Protocol) -> list[str]:
    names: list[str] = ["visit_info"]
    for visit in protocol.visits:
        for form in visit.forms:
            if form in WORKFLOW_FORMS:
                continue
            name = FORM_ALIASES.get(form, form)
            if name not in names:
                names.append(name)
    return names


def build_project(protocol: Protocol, *, lang: Lang = "en") -> RedcapProject:
    """The REDCap project of ``protocol`` (labels in ``lang``)."""
    if lang not in ("en", "fr"):
        raise ValueError(f"Invalid lang {lang!r}. Expected 'en' or 'fr'.")
    tr = _translator(lang)
    fields = _enrolment_fields(protocol, lang, tr)
    instruments = [(ENROLMENT, tr.gettext("Enrolment"))]
    for form in _ordered_forms(protocol):
        spec: FormSpec = get_form_spec(form)
        instruments.append((form, tr.gettext(spec.title)))
        block = [_ecrf_field(f, form, lang, tr) for f in spec.fields]
        block[0] = RedcapField(**{**block[0].__dict__, "section": tr.gettext(spec.title)})
        fields.extend(block)
        fields.extend(_calc_fields(protocol, form, lang))
        fields.extend(_score_fields(form, lang))
    events = tuple((event_name(v.code), v.label, float(v.week), int(v.day)) for v in protocol.visits)
    mapping: list[tuple[str, str]] = []
    repeating: list[tuple[str, str]] = []
    for i, visit in enumerate(protocol.visits):
        unique = event_name(visit.code)
        forms = [ENROLMENT] if i == 0 else []
        forms.append("visit_info")
        forms.extend(FORM_ALIASES.get(f, f) for f in visit.forms if f not in WORKFLOW_FORMS)
        for form in dict.fromkeys(forms):
            mapping.append((unique, form))
            if form == "adverse_event":
                repeating.append((unique, form))
    return RedcapProject(protocol.id, tuple(fields), tuple(instruments), events, tuple(mapping), tuple(repeating))
