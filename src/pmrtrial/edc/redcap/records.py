"""REDCap records (flat or EAV, longitudinal) -> canonical datasets, all or nothing (pure).

Every value goes through the EDC's own form rules (:func:`~pmrtrial.edc.crfs.form_validators.validate_form`)
and the canonical rows come from the EDC export's mapping (:mod:`pmrtrial.edc.crfs.canonical`), then
:func:`~pmrtrial.datasets.validate_datasets` checks the result. Every problem (an unmapped field with
a value, an unknown choice, an unknown or missing event, a unit that differs from the eCRF's, a
value the form rules refuse, a supplied questionnaire score that disagrees with its items) is
collected with its record, event and field; if there is any, :class:`RedcapImportError` lists them
all and nothing is returned.

Questionnaires: the HAQ-DI, EQ-5D and SF-36 scores are computed from the items by the eCRF rules
(:mod:`pmrtrial.scores`). A score supplied beside the items must agree (:func:`score_disagreement`);
a score supplied without any item of its instrument (an export of scores only, e.g. a synthetic
twin) is taken as supplied, range-checked, and listed in :attr:`RedcapImport.scores_without_items`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pmrtrial.datasets import AnalysisDatasets, validate_datasets
from pmrtrial.edc.crfs.canonical import adverse_event_row, canonical_frame, subject_row, visit_row
from pmrtrial.edc.crfs.form_validators import FormContext, validate_form
from pmrtrial.edc.redcap.dictionary import (
    DICTIONARY_HEADER,
    ENROLMENT,
    RECORD_ID,
    SCORE_FIELDS,
    RedcapField,
    RedcapProject,
    event_name,
)
from pmrtrial.exceptions import DataError
from pmrtrial.protocol import Protocol

__all__ = [
    "Problem",
    "RedcapImport",
    "RedcapImportError",
    "check_dictionary",
    "eav_to_flat",
    "read_records",
    "records_to_datasets",
    "score_disagreement",
    "supplied_score",
]

SYSTEM_FIELDS = frozenset(
    {
        RECORD_ID,
        "redcap_event_name",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
        "redcap_data_access_group",
        "redcap_survey_identifier",
    }
)
#: Forms entered before the others of an event, so that derived scores see them (CRP in the PMR-AS).
_FORM_ORDER = ("visit_info", "labs", "pmr_as")


@dataclass(frozen=True)
class Problem:
    record: str
    event: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"record {self.record or '-'}, event {self.event or '-'}, field {self.field or '-'}: {self.message}"


class RedcapImportError(DataError):
    """A REDCap import with problems; ``problems`` lists each one (nothing was imported)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(str(p) for p in self.problems)
        super().__init__(f"REDCap import refused, {len(self.problems)} problem(s), nothing written: {shown}")


@dataclass(frozen=True)
class RedcapImport:
    """What :func:`read_records` made of REDCap records: the datasets, and where the scores came from."""

    datasets: AnalysisDatasets
    #: Questionnaire scores computed from the items by pmrtrial.scores (record, event, score).
    scores_from_items: tuple[tuple[str, str, str], ...]
    #: Questionnaire scores taken as supplied, with no item of their instrument (record, event, score).
    scores_without_items: tuple[tuple[str, str, str], ...]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""


def supplied_score(field: RedcapField, raw: Any) -> tuple[float | None, str | None]:
    """A questionnaire score as supplied (a number within the dictionary's range), or the error."""
    text = str(raw).strip()
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    lo, hi = float(field.vmin), float(field.vmax)
    if not lo <= value <= hi:  # also NaN
        return None, f"score {text!r} is not a number between {field.vmin} and {field.vmax}"
    return value, None


def score_disagreement(name: str, raw: Any, computed: float | None, form: str) -> str | None:
    """The message when a supplied score ``raw`` disagrees with the score ``computed`` from the items.

    Agreement is at the precision supplied, at least 2 decimals: ``|supplied - computed| <=
    0.5 x 10^-max(d, 2)`` (+1e-9 for binary floating point), ``d`` the decimals written. So ``1.13``
    and ``1.125`` agree (HAQ-DI of 9/8 rounded to 2 decimals), ``1`` and ``1.125`` do not.
    """
    text = str(raw).strip()
    try:
        value = float(text)
    except ValueError:
        return f"supplied score {text!r} is not a number"
    if computed is None:
        return f"supplied score {text} but the {form} items give no score (too few answered)"
    decimals = len(text.split(".", 1)[1]) if "." in text and "e" not in text.lower() else 0
    if abs(value - computed) <= 0.5 * 10.0 ** -max(decimals, 2) + 1e-9:
        return None
    return f"supplied score {text} disagrees with {computed:.6g} computed from the {form} items by pmrtrial.scores"


def eav_to_flat(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """REDCap EAV rows (``record, redcap_event_name, field_name, value``) -> flat rows."""
    out: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for row in rows:
        key = (
            str(row.get("record", "")),
            str(row.get("redcap_event_name", "") or ""),
            str(row.get("redcap_repeat_instrument", "") or ""),
            str(row.get("redcap_repeat_instance", "") or ""),
        )
        flat = out.setdefault(
            key,
            {
                RECORD_ID: key[0],
                "redcap_event_name": key[1],
                "redcap_repeat_instrument": key[2],
                "redcap_repeat_instance": key[3],
            },
        )
        flat[str(row["field_name"])] = row.get("value")
    return list(out.values())


def check_dictionary(project: RedcapProject, rows: Sequence[Sequence[str]]) -> list[Problem]:
    """Differences between a REDCap data dictionary and the protocol's project that would misread values."""
    problems: list[Problem] = []
    if not rows or tuple(rows[0]) != DICTIONARY_HEADER:
        return [Problem("", "", "", "the dictionary does not start with REDCap's header row")]
    for row in rows[1:]:
        values = dict(zip(DICTIONARY_HEADER, row, strict=False))
        name = values.get("Variable / Field Name", "")
        ours = project.field(name)
        if ours is None or ours.field_type == "calc":
            continue
        note = values.get("Field Note", "").strip()
        if ours.spec is not None and ours.note and note != ours.note:
            problems.append(Problem("", "", name, f"wrong unit: the dictionary says {note!r}, expected {ours.note!r}"))
        if ours.codes is not None:
            codes = {
                c.split(",", 1)[0].strip()
                for c in values.get("Choices, Calculations, OR Slider Labels", "").split("|")
                if c.strip()
            }
            if codes != set(ours.codes):
                problems.append(Problem("", "", name, f"choice codes {sorted(codes)} differ from {sorted(ours.codes)}"))
    return problems


def _decode(project: RedcapProject, name: str, value: Any) -> tuple[Any, str | None]:
    field = project.field(name)
    assert field is not None
    text = str(value).strip()
    if field.codes is not None:
        if text not in field.codes:
            return None, f"unknown choice {text!r}; expected one of {', '.join(field.codes)}"
        return field.codes[text], None
    return text, None


def records_to_datasets(
    project: RedcapProject,
    records: Sequence[Mapping[str, Any]],
    protocol: Protocol,
    *,
    dictionary: Sequence[Sequence[str]] | None = None,
    events: Mapping[str, float] | None = None,
) -> AnalysisDatasets:
    """Canonical datasets from flat REDCap rows (see the module docstring); raises :class:`RedcapImportError`."""
    return read_records(project, records, protocol, dictionary=dictionary, events=events).datasets


def read_records(
    project: RedcapProject,
    records: Sequence[Mapping[str, Any]],
    protocol: Protocol,
    *,
    dictionary: Sequence[Sequence[str]] | None = None,
    events: Mapping[str, float] | None = None,
) -> RedcapImport:
    """:func:`records_to_datasets`, with where each questionnaire score came from."""
    problems: list[Problem] = list(check_dictionary(project, dictionary)) if dictionary is not None else []
    weeks = dict(events) if events is not None else project.week_of_event
    visit_of = {float(v.week): v for v in protocol.visits}
    baseline_event = event_name(protocol.visits[0].code)
    # record -> event -> form -> raw values; adverse events: record -> [(event, values)]
    forms: dict[str, dict[str, dict[str, dict[str, Any]]]] = defaultdict(lambda: defaultdict(dict))
    # record -> event -> questionnaire -> supplied scores (raw)
    scores: dict[str, dict[str, dict[str, dict[str, Any]]]] = defaultdict(lambda: defaultdict(dict))
    aes: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    without_items: list[tuple[str, str, str]] = []
    from_items: list[tuple[str, str, str]] = []
    for row in records:
        record = str(row.get(RECORD_ID, "") or "").strip()
        event = str(row.get("redcap_event_name", "") or "").strip()
        if not record:
            problems.append(Problem("", event, RECORD_ID, "missing record id"))
            continue
        if not event:
            problems.append(Problem(record, "", "redcap_event_name", "missing event (longitudinal export expected)"))
            continue
        if event not in weeks:
            problems.append(
                Problem(record, event, "redcap_event_name", f"unknown event; expected one of {', '.join(weeks)}")
            )
            continue
        repeat = str(row.get("redcap_repeat_instrument", "") or "").strip()
        values: dict[str, dict[str, Any]] = defaultdict(dict)
        for name, raw in row.items():
            if name in SYSTEM_FIELDS or name.endswith("_complete") or _blank(raw):
                continue
            field = project.field(name)
            if field is None:
                problems.append(Problem(record, event, name, f"unmapped field (value {raw!r}): not in the dictionary"))
                continue
            if field.field_type == "calc":
                continue  # recomputed by the eCRF rules
            if field.score_of:
                scores[record][event].setdefault(field.score_of, {})[name] = raw
                continue
            decoded, error = _decode(project, name, raw)
            if error:
                problems.append(Problem(record, event, name, error))
                continue
            values[field.form][name] = decoded
        for form, data in values.items():
            if form == "adverse_event" or repeat == "adverse_event":
                aes[record].append((event, data))
            else:
                forms[record][event][form] = data
    subjects, visit_rows, ae_rows = [], [], []
    for record in sorted(set(forms) | set(aes)):
        enrol = forms[record].get(baseline_event, {}).get(ENROLMENT)
        if not enrol:
            problems.append(
                Problem(record, baseline_event, ENROLMENT, "missing event: no enrolment at the baseline event")
            )
            continue
        arm = enrol.get("arm")
        rand = enrol.get("randomised_on")
        try:
            rand_date = dt.date.fromisoformat(str(rand)) if rand else None
        except ValueError:
            problems.append(Problem(record, baseline_event, "randomised_on", f"not a date: {rand!r}"))
            continue
        cleaned_by_event: dict[str, dict[str, dict[str, Any]]] = {}
        for event in dict.fromkeys([*forms[record], *scores[record]]):
            by_form = forms[record].get(event, {})
            week = weeks[event]
            done: dict[str, dict[str, Any]] = {}
            for form in sorted(
                (f for f in by_form if f != ENROLMENT),
                key=lambda f: (f not in _FORM_ORDER, _FORM_ORDER.index(f) if f in _FORM_ORDER else 0, f),
            ):
                context = FormContext(protocol=protocol, week=week, randomised_on=rand_date, same_visit=done)
                outcome = validate_form(form, by_form[form], context)
                for name, message in outcome.errors.items():
                    problems.append(Problem(record, event, name if name != "__all__" else form, message))
                done[form] = {**outcome.cleaned, **outcome.derived}
                from_items.extend(
                    (record, event, n) for n in SCORE_FIELDS.get(form, ()) if done[form].get(n) is not None
                )
                for name, raw in scores[record].get(event, {}).get(form, {}).items():
                    if not outcome.errors and (message := score_disagreement(name, raw, done[form].get(name), form)):
                        problems.append(Problem(record, event, name, message))
            for form, supplied in scores[record].get(event, {}).items():
                if form in by_form:
                    continue
                done[form] = {}
                for name, raw in supplied.items():
                    value, error = supplied_score(project.field(name), raw)  # type: ignore[arg-type]
                    if error:
                        problems.append(Problem(record, event, name, error))
                    done[form][name] = value
                    without_items.append((record, event, name))
            cleaned_by_event[event] = done
        all_forms = {f: d for by in cleaned_by_event.values() for f, d in by.items()}
        status = all_forms.get("end_of_study", {}).get("status") or "ongoing"
        subjects.append(
            subject_row(
                subject_id=record,
                site_id=str(enrol.get("site_id") or ""),
                arm=str(arm) if arm is not None else None,
                randomised_on=rand_date.isoformat() if rand_date else None,
                screening={
                    "age_years": enrol.get("age_years"),
                    "sex": enrol.get("sex"),
                    "symptom_duration_days": enrol.get("disease_duration_days"),
                },
                baseline=cleaned_by_event.get(baseline_event, {}),
                status=str(status),
            )
        )
        for event, done in sorted(cleaned_by_event.items(), key=lambda kv: weeks[kv[0]]):
            visit_forms = {f: d for f, d in done.items() if f not in ("end_of_study", ENROLMENT)}
            if not visit_forms or weeks[event] not in visit_of:
                continue
            visit_rows.append(
                visit_row(
                    protocol,
                    visit_of[weeks[event]],
                    visit_forms,
                    subject_id=record,
                    arm=str(arm) if arm is not None else None,
                )
            )
        for event, data in aes[record]:
            outcome = validate_form("adverse_event", data, FormContext(protocol=protocol, randomised_on=rand_date))
            for name, message in outcome.errors.items():
                problems.append(Problem(record, event, name, message))
            ae_rows.append(adverse_event_row(record, {**outcome.cleaned, **outcome.derived}))
    if problems:
        raise RedcapImportError(problems)
    frames = [
        canonical_frame(table, rows)
        for rows, table in ((subjects, "subjects"), (visit_rows, "visits"), (ae_rows, "adverse_events"))
    ]
    try:
        data = validate_datasets(
            *frames,
            protocol=protocol,
            source_names={
                "subjects": "records (subjects)",
                "visits": "records (visits)",
                "adverse_events": "records (adverse events)",
            },
        )
    except DataError as exc:
        raise RedcapImportError([Problem("", "", "", str(exc))]) from None
    return RedcapImport(data, tuple(from_items), tuple(without_items))


#: What :func:`datasets_to_records` enters where the canonical datasets hold nothing (as the EDC demo does).
FILLED_RELATEDNESS = "possible"
FILLED_SERIOUS_CRITERION = "important_medical_event"
FILLED_EOS_REASON = "not recorded in the canonical datasets"


def _encode(project: RedcapProject, name: str, value: Any) -> str:
    if _blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    field = project.field(name)
    if field is not None and field.codes is not None:
        inverse = {str(code): rc for rc, code in field.codes.items()}
        return inverse[str(value)]
    if field is not None and field.field_type == "yesno":
        return "1" if bool(value) and str(value).lower() not in ("false", "0") else "0"
    return repr(value) if isinstance(value, float) else str(value)


def datasets_to_records(project: RedcapProject, data: AnalysisDatasets, protocol: Protocol) -> list[dict[str, str]]:
    """Flat longitudinal REDCap rows holding canonical datasets (the inverse of :func:`records_to_datasets`).

    Visit dates are the protocol's target days; the rescue start is the first visit with an oral
    glucocorticoid dose; adverse events go to the first event at or after their onset, with
    relatedness :data:`FILLED_RELATEDNESS` and, when serious, :data:`FILLED_SERIOUS_CRITERION`
    (the canonical datasets hold neither). Questionnaire items are not in the canonical datasets:
    the HAQ-DI, EQ-5D and SF-36 instruments get their scores only (the read-only score fields), which
    an import takes as supplied without items.
    """
    mapped: dict[str, set[str]] = defaultdict(set)
    for event, form in project.mapping:
        mapped[event].add(form)
    code_of = {float(v.week): v.code for v in protocol.visits}
    day_of = {float(v.week): int(v.day) for v in protocol.visits}
    rows: list[dict[str, str]] = []
    visits = data.visits.sort_values(["subject_id", "week"])
    by_subject = {sid: g for sid, g in visits.groupby("subject_id", sort=False)}
    ae_by = {sid: g for sid, g in data.adverse_events.groupby("subject_id", sort=False)}
    last_event = event_name(protocol.visits[-1].code)

    def put(row: dict[str, str], event: str, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            field = project.field(name)
            if field is not None and field.form in mapped[event]:
                row[name] = _encode(project, name, value)

    for subject in data.subjects.to_dict("records"):
        sid = str(subject["subject_id"])
        rand = pd.Timestamp(subject["randomised_on"]).date()
        rescue: dt.date | None = None
        last_date = rand
        for i, visit in enumerate(by_subject.get(sid, visits.iloc[0:0]).to_dict("records")):
            week = float(visit["week"])
            event = event_name(code_of[week])
            date = rand + dt.timedelta(days=day_of[week])
            last_date = date
            row: dict[str, str] = {RECORD_ID: sid, "redcap_event_name": event}
            dose = visit.get("oral_gc_mg_day")
            on_gc = None if _blank(dose) else float(dose) > 0
            if on_gc and rescue is None:
                rescue = date
            values: dict[str, Any] = {
                "visit_date": date.isoformat(),
                **{
                    k: visit.get(k)
                    for k in (
                        "pain_vas",
                        "patient_global_vas",
                        "fatigue_vas",
                        "physician_global_vas",
                        "morning_stiffness_min",
                        "upper_limb_elevation",
                        "esr_mm_h",
                        *(name for names in SCORE_FIELDS.values() for name in names),
                    )
                },
                "crp_value": visit.get("crp_mg_l"),
                "crp_unit": "mg/L" if not _blank(visit.get("crp_mg_l")) else None,
                "on_oral_gc": on_gc,
                "prednisone_mg_day": float(dose) if on_gc else None,
                "rescue_start": rescue.isoformat() if on_gc and rescue and week > 0 else None,
            }
            if i == 0:
                values.update(
                    {k: subject.get(k) for k in ("site_id", "arm", "age_years", "sex", "disease_duration_days")}
                )
                values["randomised_on"] = rand.isoformat()
                if not _blank(subject.get("us_synovitis")):
                    values["synovitis"] = bool(subject["us_synovitis"])
            if "morning_stiffness_min" in values and not _blank(values["morning_stiffness_min"]):
                values["morning_stiffness_min"] = round(float(values["morning_stiffness_min"]))
            put(row, event, values)
            rows.append(row)
        status = str(subject["status"])
        if status != "ongoing":
            eos = {RECORD_ID: sid, "redcap_event_name": last_event}
            put(
                eos,
                last_event,
                {
                    "status": status,
                    "end_date": last_date.isoformat(),
                    "reason": FILLED_EOS_REASON if status != "completed" else None,
                },
            )
            existing = next((r for r in rows if r[RECORD_ID] == sid and r["redcap_event_name"] == last_event), None)
            if existing is not None:
                existing.update({k: v for k, v in eos.items() if v})
            else:
                rows.append(eos)
        ae_frame = ae_by.get(sid)
        ae_events = [
            (float(v.week), event_name(v.code))
            for v in protocol.visits
            if "adverse_event" in mapped[event_name(v.code)]
        ]
        for n, ae in enumerate([] if ae_frame is None else ae_frame.to_dict("records")):
            onset = float(ae["onset_week"]) if not _blank(ae.get("onset_week")) else 0.0
            event = next((e for w, e in ae_events if w >= onset), ae_events[-1][1])
            row = {
                RECORD_ID: sid,
                "redcap_event_name": event,
                "redcap_repeat_instrument": "adverse_event",
                "redcap_repeat_instance": str(n + 1),
            }
            serious = str(ae["serious"]).lower() in ("true", "1")
            put(
                row,
                event,
                {
                    "soc": ae["soc"],
                    "term": ae["term"],
                    "serious": serious,
                    "serious_criterion": FILLED_SERIOUS_CRITERION if serious else None,
                    "severity": ae.get("severity"),
                    "relatedness": FILLED_RELATEDNESS,
                    "onset_date": (rand + dt.timedelta(days=round(onset * 7))).isoformat(),
                    "outcome": ae.get("outcome"),
                },
            )
            rows.append(row)
    return rows
