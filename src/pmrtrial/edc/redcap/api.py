"""A REDCap-compatible API at ``/redcap/api/`` (the subset PyCap and REDCapR use for one project).

Requests are REDCap's: ``POST`` form-encoded with ``token`` (32 hexadecimal characters, from
``pmrtrial edc token USER --redcap``), ``content``, ``format`` (``json``, ``csv`` or ``xml``), ``type``
(``flat`` or ``eav``) and, for imports, ``data``. Implemented contents: ``version``, ``project``,
``metadata``, ``instrument``, ``event``, ``arm``, ``formEventMapping``, ``repeatingFormsEvents``,
``exportFieldNames`` and ``record`` (export, and import with ``action=import`` or ``data``).
XML is REDCap's (:mod:`pmrtrial.edc.redcap.xmlformat`); imported XML goes through a parser that
refuses document type declarations, so entity expansion and external entities are refused.

Questionnaires travel item by item (HAQ-DI, EQ-5D, SF-36), as the eCRFs hold them; an export adds the
EDC's scores in the read-only score fields. An import saves the items (the EDC computes the scores
with :mod:`pmrtrial.scores`) and refuses a supplied score that disagrees with them, or a score
without any item of its instrument (the EDC stores scores computed from items only).

The project is the protocol's REDCap project (:func:`pmrtrial.edc.redcap.dictionary.build_project`).
Every read and write goes through the EDC services, so the token's user keeps exactly the rights
it has in the UI:

- export: participants the user may see (site scoping); the randomised arm only for unblinded
  roles (blank otherwise); the export is audited;
- import: :func:`~pmrtrial.edc.services.save_form` / ``add_adverse_event`` for every form (eCRF
  validation, roles, site scoping, locks, audit). A change to a saved form needs a reason for
  change: REDCap has no such parameter, so pass ``reason=...`` with the request. Soft warnings of
  the eCRF rules are confirmed by the import (they are stored with the form, as in the UI after
  confirmation). A record unknown to the EDC is refused, except in a demo study, where the
  ``enrolment`` instrument enrols it through the documented demo-only allocation override (as
  ``pmrtrial demo`` does). The whole import is one transaction: on any error nothing is stored and
  the response is REDCap's ``{"error": "..."}`` listing every problem by record, event and field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from pmrtrial.edc import services as svc
from pmrtrial.edc.accounts.permissions import is_unblinded, visible_participants
from pmrtrial.edc.accounts.services import user_for_token
from pmrtrial.edc.audit.services import audit_event
from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.errors import EdcError, FormInvalid, NotFound
from pmrtrial.edc.randomisation.models import AllocationSecret
from pmrtrial.edc.redcap.dictionary import (
    ENROLMENT,
    ENROLMENT_FIELDS,
    RECORD_ID,
    RedcapProject,
    build_project,
    event_name,
)
from pmrtrial.edc.redcap.records import SYSTEM_FIELDS, eav_to_flat, score_disagreement
from pmrtrial.edc.redcap.xmlformat import (
    XmlDataError,
    count_xml,
    error_xml,
    object_xml,
    parse_records_xml,
    records_xml,
    values_xml,
)
from pmrtrial.exceptions import PmrTrialError
from pmrtrial.vocabulary import get_variable

__all__ = ["REDCAP_VERSION", "redcap_api"]

#: The REDCap API version whose behaviour this endpoint follows.
REDCAP_VERSION = "14.0.0"
_TOKEN = re.compile(r"^[0-9A-Fa-f]{32}$")
_METADATA_KEYS = (
    "field_name",
    "form_name",
    "section_header",
    "field_type",
    "field_label",
    "select_choices_or_calculations",
    "field_note",
    "text_validation_type_or_show_slider_number",
    "text_validation_min",
    "text_validation_max",
    "identifier",
    "branching_logic",
    "required_field",
    "custom_alignment",
    "question_number",
    "matrix_group_name",
    "matrix_ranking",
    "field_annotation",
)


class _ApiError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _csv(rows: list[dict[str, Any]], keys: Iterable[str] | None = None) -> str:
    header = list(keys) if keys is not None else list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row.get(k) is None else row.get(k) for k in header])
    return buffer.getvalue()


_XML = "text/xml; charset=utf-8"


def _respond(data: Any, fmt: str, keys: Iterable[str] | None = None) -> HttpResponse:
    if isinstance(data, str):
        return HttpResponse(data, content_type="text/plain; charset=utf-8")
    if fmt == "xml":
        try:
            text = records_xml(data, keys) if isinstance(data, list) else object_xml("project", data)
        except ValueError as exc:  # a value XML 1.0 cannot carry (a control character)
            raise _ApiError(f"The data cannot be written as XML ({exc}); export them as json or csv.", 500) from None
        return HttpResponse(text, content_type=_XML)
    if fmt == "csv":
        rows = data if isinstance(data, list) else [data]
        return HttpResponse(_csv(rows, keys), content_type="text/csv; charset=utf-8")
    return HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/json; charset=utf-8")


def _error(message: str, fmt: str, status: int) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(error_xml(message), status=status, content_type=_XML)
    if fmt == "csv":
        return HttpResponse(f"ERROR: {message}", status=status, content_type="text/csv; charset=utf-8")
    return HttpResponse(json.dumps({"error": message}), status=status, content_type="application/json")


def _project() -> RedcapProject:
    return build_project(svc.get_protocol())


def _metadata(project: RedcapProject) -> list[dict[str, str]]:
    return [dict(zip(_METADATA_KEYS, f.row(), strict=True)) for f in project.fields]


def _project_info(project: RedcapProject) -> dict[str, Any]:
    study = svc.get_study()
    return {
        "project_id": 1,
        "project_title": study.title,
        "creation_time": study.created_at.strftime("%Y-%m-%d %H:%M:%S") if getattr(study, "created_at", None) else "",
        "production_time": "",
        "in_production": 0 if study.demo else 1,
        "project_language": "English",
        "purpose": 2,
        "purpose_other": "",
        "project_notes": f"pmrtrial EDC, protocol {study.protocol_id} v{study.protocol_version}"
        + (" (DEMO: synthetic data)" if study.demo else ""),
        "is_longitudinal": 1,
        "has_repeating_instruments_or_events": 1 if project.repeating else 0,
        "surveys_enabled": 0,
        "scheduling_enabled": 0,
        "record_autonumbering_enabled": 0,
        "randomization_enabled": 1,
        "external_modules": "",
        "missing_data_codes": "",
        "display_today_now_button": 1,
    }


def _encode(project: RedcapProject, name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    field = project.field(name)
    if field is not None and field.codes is not None:
        inverse = {str(code): rc for rc, code in field.codes.items()}
        return inverse.get(str(value), str(value))
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _export_rows(actor: Any, project: RedcapProject) -> list[dict[str, str]]:
    """Flat rows of every participant the actor may see, in REDCap's order (record, event, instance)."""
    protocol = svc.get_protocol()
    weeks = {v.code: float(v.week) for v in protocol.visits}
    last_event = event_name(protocol.visits[-1].code)
    ae_events = [
        (float(v.week), event_name(v.code))
        for v in protocol.visits
        if (event_name(v.code), "adverse_event") in set(project.mapping)
    ]
    participants = list(
        visible_participants(actor).filter(randomised_on__isnull=False).select_related("site").order_by("subject_id")
    )
    unblinded = is_unblinded(actor)
    arms = (
        dict(
            AllocationSecret.objects.filter(slot__participant__in=participants).values_list(
                "slot__participant__subject_id", "arm"
            )
        )
        if unblinded
        else {}
    )
    names = [f.name for f in project.fields]
    blank = {n: "" for n in names}
    rows: list[dict[str, str]] = []
    records = defaultdict(list)
    for rec in FormRecord.objects.filter(participant__in=participants).order_by("id"):
        records[rec.participant_id].append(rec)
    for p in participants:
        by_event: dict[str, dict[str, str]] = {}
        repeats: list[dict[str, str]] = []

        def row_for(event: str, _p: Any = p, _by: dict[str, dict[str, str]] = by_event) -> dict[str, str]:
            if event not in _by:
                _by[event] = {
                    RECORD_ID: _p.subject_id,
                    "redcap_event_name": event,
                    "redcap_repeat_instrument": "",
                    "redcap_repeat_instance": "",
                    **{n: "" for n in names if n != RECORD_ID},
                }
            return _by[event]

        base = row_for(event_name(protocol.visits[0].code))
        screening = p.screening_data or {}
        enrol = {
            "site_id": p.site.code,
            "arm": arms.get(p.subject_id, ""),
            "randomised_on": p.randomised_on.isoformat() if p.randomised_on else "",
            "age_years": screening.get("age_years"),
            "sex": screening.get("sex"),
            "disease_duration_days": screening.get("symptom_duration_days"),
        }
        for name in ENROLMENT_FIELDS:
            hidden = not unblinded and get_variable(name, "subjects").reveals_arm  # blinding, as the vocabulary says
            base[name] = "" if hidden else _encode(project, name, enrol[name])
        for rec in records.get(p.pk, []):
            values = {
                **rec.data,
                **{
                    k: v
                    for k, v in rec.derived.items()
                    if project.field(k) is not None
                    and (project.field(k).field_type == "calc" or project.field(k).score_of)
                },
            }
            if rec.form == "adverse_event":
                onset = rec.derived.get("onset_week") or 0.0
                event = next(
                    (e for w, e in ae_events if w >= float(onset)), ae_events[-1][1] if ae_events else last_event
                )
                row = {
                    **blank,
                    RECORD_ID: p.subject_id,
                    "redcap_event_name": event,
                    "redcap_repeat_instrument": "adverse_event",
                    "redcap_repeat_instance": rec.key.removeprefix("AE-"),
                }
                target = row
                repeats.append(row)
            elif rec.form == "end_of_study":
                target = row_for(last_event)
            elif rec.key in weeks:
                target = row_for(event_name(rec.key))
            else:
                continue
            for name, value in values.items():
                field = project.field(name)
                if field is not None and field.form == rec.form:
                    target[name] = _encode(project, name, value)
        rows.extend(sorted(by_event.values(), key=lambda r: project.week_of_event.get(r["redcap_event_name"], 0)))
        rows.extend(repeats)
    audit_event(
        actor,
        "export",
        "redcap_records",
        dt.date.today().isoformat(),
        detail={"n_records": len(participants), "arms_included": unblinded},
    )
    return rows


def _filtered(rows: list[dict[str, str]], post: Any, project: RedcapProject) -> list[dict[str, str]]:
    def listed(key: str) -> list[str]:
        values = [v for k, v in post.items() if k == key or re.fullmatch(rf"{key}\[\d+\]", k)]
        return [x for v in values for x in str(v).split(",") if x]

    records, events, fields, forms = listed("records"), listed("events"), listed("fields"), listed("forms")
    if records:
        rows = [r for r in rows if r[RECORD_ID] in set(records)]
    if events:
        rows = [r for r in rows if r["redcap_event_name"] in set(events)]
    if fields or forms:
        keep = {RECORD_ID, "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance", *fields}
        keep |= {f.name for f in project.fields if f.form in set(forms)}
        rows = [{k: v for k, v in r.items() if k in keep} for r in rows]
    return rows


def _eav(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for row in rows:
        for name, value in row.items():
            if name in SYSTEM_FIELDS or value == "":
                continue
            out.append(
                {
                    "record": row[RECORD_ID],
                    "redcap_event_name": row["redcap_event_name"],
                    "redcap_repeat_instrument": row["redcap_repeat_instrument"],
                    "redcap_repeat_instance": row["redcap_repeat_instance"],
                    "field_name": name,
                    "value": value,
                }
            )
    return out


def _parse_import(post: Any, fmt: str, kind: str) -> list[dict[str, Any]]:
    data = post.get("data", "")
    if fmt == "xml":
        try:
            rows = parse_records_xml(str(data))
        except XmlDataError as exc:
            raise _ApiError(str(exc)) from None
    elif fmt == "json":
        try:
            rows = json.loads(data)
        except json.JSONDecodeError as exc:
            raise _ApiError(f"The data are not valid JSON (line {exc.lineno}): {exc.msg}") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise _ApiError("The data must be a JSON array of objects.")
    else:
        rows = list(csv.DictReader(io.StringIO(data)))
    rows = [{str(k): ("" if v is None else str(v)) for k, v in r.items()} for r in rows]
    return eav_to_flat(rows) if kind == "eav" else rows


def _decode(project: RedcapProject, name: str, value: str) -> Any:
    field = project.field(name)
    assert field is not None
    if field.codes is not None:
        if value not in field.codes:
            raise ValueError(f"unknown choice {value!r}; expected one of {', '.join(field.codes)}")
        return field.codes[value]
    return value


class _Rollback(Exception):
    pass


def _import(actor: Any, project: RedcapProject, rows: list[dict[str, Any]], post: Any) -> int:
    from pmrtrial.edc.screening.twin_records import screening_record

    protocol = svc.get_protocol()
    study = svc.get_study()
    code_of_event = {event_name(v.code): v.code for v in protocol.visits}
    baseline_event = event_name(protocol.visits[0].code)
    last_event = event_name(protocol.visits[-1].code)
    reason = str(post.get("reason", "")).strip()
    overwrite = post.get("overwriteBehavior", "normal") == "overwrite"
    problems: list[str] = []
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        records[str(row.get(RECORD_ID, "")).strip()].append(row)
    saved_records: set[str] = set()

    def problem(record: str, event: str, field: str, message: str) -> None:
        problems.append(f"record {record or '-'}, event {event or '-'}, field {field or '-'}: {message}")

    for record, record_rows in records.items():
        if not record:
            problem("", "", RECORD_ID, "missing record id")
            continue
        forms: dict[tuple[str, str, str], dict[str, Any]] = {}
        supplied: dict[tuple[str, str, str], dict[str, str]] = {}  # questionnaire scores beside the items
        for row in record_rows:
            event = str(row.get("redcap_event_name", "")).strip()
            if event not in code_of_event:
                problem(record, event, "redcap_event_name", "unknown or missing event")
                continue
            repeat = str(row.get("redcap_repeat_instance", "") or "").strip()
            for name, raw in row.items():
                if name in SYSTEM_FIELDS or name.endswith("_complete") or (raw == "" and not overwrite):
                    continue
                field = project.field(name)
                if field is None:
                    problem(record, event, name, "unmapped field: not in the project's data dictionary")
                    continue
                if field.field_type == "calc":
                    continue
                if (event, field.form) not in set(project.mapping):
                    problem(record, event, name, f"instrument {field.form} is not designated to this event")
                    continue
                try:
                    value = _decode(project, name, raw) if raw != "" else None
                except ValueError as exc:
                    problem(record, event, name, str(exc))
                    continue
                key = (event, field.form, repeat if field.form == "adverse_event" else "")
                if field.score_of:
                    if raw != "":
                        supplied.setdefault(key, {})[name] = raw
                    forms.setdefault(key, {})
                    continue
                forms.setdefault(key, {})[name] = value
        try:
            participant = svc.get_participant(actor, record)
        except NotFound:
            participant = None
        enrol = forms.pop((baseline_event, ENROLMENT, ""), None)
        if participant is None:
            if not enrol:
                problem(
                    record,
                    baseline_event,
                    RECORD_ID,
                    "no such participant in the EDC (participants are screened, consented and randomised in the EDC)",
                )
                continue
            if not study.demo:
                problem(
                    record,
                    baseline_event,
                    ENROLMENT,
                    "new records are enrolled in the EDC (screening, consent, "
                    "randomisation); only a demo study enrols them from an import",
                )
                continue
            participant = _demo_enrol(actor, record, enrol, forms, baseline_event, screening_record, problem)
            if participant is None:
                continue
        elif enrol:
            _check_enrolment(actor, participant, enrol, record, baseline_event, project, problem)
        saved_records.add(participant.subject_id)
        order = {"visit_info": 0, "labs": 1, "pmr_as": 2}
        week = project.week_of_event
        for (event, form, instance), values in sorted(
            forms.items(),
            key=lambda kv: (week[kv[0][0]], kv[0][1] == "adverse_event", order.get(kv[0][1], 9), int(kv[0][2] or 0)),
        ):
            key = (
                "EOS"
                if form == "end_of_study"
                else (f"AE-{instance}" if form == "adverse_event" else code_of_event[event])
            )
            if form == "end_of_study" and event != last_event:
                problem(record, event, form, f"end of study is recorded at {last_event}")
                continue
            scores = supplied.get((event, form, instance), {})
            try:
                existing = svc.get_form(actor, participant, key, form)
                if scores and not values:
                    if existing is None or not existing.data:
                        for name in scores:
                            problem(
                                record,
                                event,
                                name,
                                f"a score without any item of {form}: the EDC computes the score from the items "
                                "(pmrtrial.scores); import the items",
                            )
                        continue
                    _check_scores(record, event, form, scores, existing.derived, problem)
                    continue
                if not values:
                    continue
                data = dict(existing.data) if existing is not None else {}
                data.update(values)
                if form == "adverse_event" and existing is None:
                    n = FormRecord.objects.filter(participant=participant, form="adverse_event").count() + 1
                    if str(n) != instance:
                        raise EdcError(f"repeat instance {instance} of adverse_event: the next new instance is {n}")
                    svc.add_adverse_event(actor, participant, data, confirm_warnings=True)
                else:
                    saved = svc.save_form(
                        actor,
                        participant,
                        key,
                        form,
                        data,
                        reason=reason,
                        confirm_warnings=True,
                        expected_version=existing.version if existing is not None else None,
                    )
                    _check_scores(record, event, form, scores, saved.derived, problem)
            except FormInvalid as exc:
                for name, message in exc.errors.items():
                    problem(record, event, name if name != "__all__" else form, str(message))
            except (EdcError, PmrTrialError) as exc:
                problem(record, event, form, str(exc))
    if problems:
        raise _ApiError("; ".join(problems))
    return len(saved_records)


def _check_scores(
    record: str, event: str, form: str, scores: Mapping[str, str], derived: Mapping[str, Any], problem: Any
) -> None:
    """A problem for each supplied questionnaire score that disagrees with the EDC's (computed from the items)."""
    for name, raw in scores.items():
        message = score_disagreement(name, raw, derived.get(name), form)
        if message:
            problem(record, event, name, message)


def _check_enrolment(
    actor: Any,
    participant: Any,
    enrol: Mapping[str, Any],
    record: str,
    event: str,
    project: RedcapProject,
    problem: Any,
) -> None:
    screening = participant.screening_data or {}
    current = {
        "site_id": participant.site.code,
        "randomised_on": participant.randomised_on.isoformat() if participant.randomised_on else None,
        "age_years": screening.get("age_years"),
        "sex": screening.get("sex"),
        "disease_duration_days": screening.get("symptom_duration_days"),
    }
    for name, value in enrol.items():
        if value is None:
            continue
        if name == "arm":
            if not is_unblinded(actor):
                problem(record, event, name, "the randomised arm is blinded for your role")
                continue
            arm = AllocationSecret.objects.filter(slot__participant=participant).values_list("arm", flat=True).first()
            if str(value) != str(arm):
                problem(record, event, name, "the randomised arm cannot be changed")
        elif name in current and str(value) != str(current[name]) and _as_float(value) != _as_float(current[name]):
            problem(record, event, name, f"set at screening/randomisation ({current[name]!r}); cannot be changed here")


def _as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _demo_enrol(
    actor: Any,
    record: str,
    enrol: Mapping[str, Any],
    forms: Mapping[tuple[str, str, str], Mapping[str, Any]],
    event: str,
    screening_record: Any,
    problem: Any,
) -> Any:
    """Enrol a new record of a demo study (screening answers as ``pmrtrial demo`` enters them)."""
    from pmrtrial.units import convert_crp

    labs = forms.get((event, "labs", ""), {})
    pmr = forms.get((event, "pmr_as", ""), {})
    us = forms.get((event, "ultrasound", ""), {})
    try:
        crp = labs.get("crp_value")
        baseline = {
            **{k: _as_float(pmr.get(k)) for k in ("pain_vas", "physician_global_vas", "morning_stiffness_min")},
            "upper_limb_elevation": int(pmr.get("upper_limb_elevation") or 0),
            "crp_mg_l": float(convert_crp(float(crp), from_unit=labs.get("crp_unit") or "mg/L", to_unit="mg/L"))
            if crp not in (None, "")
            else None,
            "esr_mm_h": _as_float(labs.get("esr_mm_h")),
        }
        subject = {
            "age_years": _as_float(enrol.get("age_years")),
            "sex": enrol.get("sex"),
            "disease_duration_days": _as_float(enrol.get("disease_duration_days")),
            "us_synovitis": str(us.get("synovitis", "0")) in ("1", "True", "true"),
        }
        day0 = dt.date.fromisoformat(str(enrol.get("randomised_on")))
        p = svc.enrol_participant(
            actor,
            str(enrol.get("site_id")),
            screening_record(subject, baseline, svc.get_protocol()),
            screened_on=day0,
            consented_on=day0,
            randomised_on=day0,
            demo_arm=str(enrol.get("arm")),
        )
    except (EdcError, PmrTrialError, ValueError, TypeError) as exc:
        problem(record, event, ENROLMENT, f"cannot enrol: {exc}")
        return None
    if p.status != "randomised":
        problem(record, event, ENROLMENT, f"not eligible at screening ({p.eligibility_status})")
        return None
    return p


@csrf_exempt
def redcap_api(request: HttpRequest) -> HttpResponse:
    """The REDCap API endpoint (see the module docstring)."""
    post = request.POST
    fmt = str(post.get("format", "json")).lower()
    error_fmt = str(post.get("returnFormat", fmt)).lower()
    if request.method != "POST":
        return _error("The REDCap API takes POST requests.", "json", 405)
    token = str(post.get("token", ""))
    user = user_for_token(token.upper()) if _TOKEN.match(token) else None
    if user is None:
        return _error("You do not have permissions to use the API", error_fmt, 403)
    request.user = user
    content = str(post.get("content", ""))
    try:
        if fmt not in ("json", "csv", "xml"):
            raise _ApiError(f"format {fmt!r} is not supported here; use json, csv or xml")
        project = _project()
        if content == "version":
            return HttpResponse(REDCAP_VERSION, content_type="text/plain")
        if content == "project":
            return _respond(_project_info(project), fmt)
        if content == "metadata":
            return _respond(_metadata(project), fmt, _METADATA_KEYS)
        if content == "instrument":
            return _respond([{"instrument_name": n, "instrument_label": lab} for n, lab in project.instruments], fmt)
        if content == "event":
            events = [dict(zip(project.events_rows()[0], r, strict=True)) for r in project.events_rows()[1:]]
            return _respond(events, fmt)
        if content == "arm":
            return _respond([{"arm_num": 1, "name": "Arm 1"}], fmt)
        if content == "formEventMapping":
            return _respond([{"arm_num": 1, "unique_event_name": e, "form": f} for e, f in project.mapping], fmt)
        if content == "repeatingFormsEvents":
            return _respond(
                [{"event_name": e, "form_name": f, "custom_form_label": ""} for e, f in project.repeating], fmt
            )
        if content == "exportFieldNames":
            names = [
                {"original_field_name": f.name, "choice_value": "", "export_field_name": f.name} for f in project.fields
            ]
            return _respond(names, fmt)
        if content == "record":
            kind = str(post.get("type", "flat"))
            if kind not in ("flat", "eav"):
                raise _ApiError(f"type {kind!r} is not valid; use flat or eav")
            if post.get("action", "export") == "import" or "data" in post:
                rows = _parse_import(post, fmt, kind)
                try:
                    with transaction.atomic():
                        count = _import(user, project, rows, post)
                except _ApiError as exc:
                    return _error(str(exc), error_fmt, 400)
                ids = sorted({str(r.get(RECORD_ID)) for r in rows})
                answer = str(post.get("returnContent", "count"))
                if answer == "ids":
                    if error_fmt == "xml":
                        return HttpResponse(values_xml("ids", "id", ids), content_type=_XML)
                    return _respond(ids if error_fmt == "json" else [{"id": i} for i in ids], error_fmt)
                if answer == "nothing":
                    return HttpResponse("", content_type="text/plain")
                if error_fmt == "xml":
                    return HttpResponse(count_xml(count), content_type=_XML)
                return _respond({"count": count}, error_fmt)
            rows = _filtered(_export_rows(user, project), post, project)
            if kind == "eav":
                return _respond(
                    _eav(rows),
                    fmt,
                    (
                        "record",
                        "redcap_event_name",
                        "redcap_repeat_instrument",
                        "redcap_repeat_instance",
                        "field_name",
                        "value",
                    ),
                )
            keys = [
                RECORD_ID,
                "redcap_event_name",
                "redcap_repeat_instrument",
                "redcap_repeat_instance",
                *(f.name for f in project.fields if f.name != RECORD_ID),
            ]
            return _respond(rows, fmt, [k for k in keys if not rows or k in rows[0]])
        raise _ApiError(f"content {content!r} is not supported by this REDCap-compatible API")
    except _ApiError as exc:
        return _error(str(exc), error_fmt, exc.status)
    except EdcError as exc:
        return _error(str(exc), error_fmt, exc.status)
