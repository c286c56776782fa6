"""Saving eCRFs: validation at entry, warnings confirmation, reason for change, lost-update
protection, scores at entry, and locking at form, casebook and database level."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from pmrtrial.edc.accounts.permissions import check, check_participant
from pmrtrial.edc.accounts.reauth import reauthenticate
from pmrtrial.edc.audit.services import audit_changes, audit_event
from pmrtrial.edc.crfs.form_specs import FORM_ALIASES, LOG_FORMS, WORKFLOW_FORMS, get_form_spec
from pmrtrial.edc.crfs.form_validators import FormContext, ValidationOutcome, validate_form
from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.errors import ConflictError, FormInvalid, LockedError, NotFound, SignatureExceptions, WorkflowError
from pmrtrial.edc.screening.models import Participant
from pmrtrial.edc.screening.services import load_participant
from pmrtrial.edc.sites.models import Study
from pmrtrial.edc.sites.services import get_protocol, get_study
from pmrtrial.edc.sql import Shape, col, fetch, for_update, table, update, vendor
from pmrtrial.edc.visits.models import Visit
from pmrtrial.protocol import Protocol
from pmrtrial.vocabulary import column_names

__all__ = [
    "SIGNATURE_MEANING",
    "SIGNATURE_VOID_TEXT",
    "DerivedRecomputer",
    "add_log_record",
    "canonical_rows",
    "declared_logs",
    "forms_for_visit",
    "get_form",
    "list_log_records",
    "lock_database",
    "lock_form",
    "lock_participant",
    "preview_form",
    "recompute_derived",
    "save_form",
    "sign_casebook",
    "signature_exceptions",
    "unlock_database",
    "unlock_form",
    "unlock_participant",
    "verify_form",
]

#: Logs entered only when the protocol declares them (lists them at a visit): form -> protocol name.
_DECLARED_LOGS = {"gc_dose": "gc_doses", "flare": "flares"}
_END_STATUS = {"completed": "completed", "withdrawn": "withdrawn", "lost": "lost"}


def forms_for_visit(visit_code: str, protocol: Protocol | None = None) -> list[str]:
    """The CRFs the protocol lists at a visit (visit_info first; workflows and participant-level logs excluded)."""
    visit = (protocol or get_protocol()).get_visit(visit_code)
    names = ["visit_info"]
    for f in visit.forms:
        if f in WORKFLOW_FORMS or FORM_ALIASES.get(f) in LOG_FORMS or f == "end_of_study":
            continue
        names.append(f)
    return names


def _one(qs: Any) -> Any:
    """The first row of ``qs`` or None, without compiling an ORDER BY (a unique key selects at most one)."""
    return next(iter(qs.order_by()[:1]), None)


def _record(participant: Participant, key: str, form: str, *, for_update: bool = False) -> FormRecord | None:
    qs = FormRecord.objects.select_for_update() if for_update else FormRecord.objects
    return _one(qs.filter(participant=participant, key=key, form=form))  # type: ignore[no-any-return]


@functools.cache
def _visits_query(db_vendor: str) -> tuple[str, Shape]:
    v = Shape(Visit, "v")
    return (
        f"SELECT {v.columns()} FROM {table(Visit)} v WHERE v.{col(Visit, 'participant')} = %s"
        f" ORDER BY v.{col(Visit, 'week')}",
        v,
    )


def _visits(participant: Participant) -> list[Visit]:
    """All of a participant's visits in one query (a schedule has about ten), by week."""
    sql, shape = _visits_query(vendor())
    return [shape.instance(row) for row in fetch(sql, [participant.pk])]


@functools.cache
def _records_query(db_vendor: str, lock: bool) -> tuple[str, Shape]:
    r = Shape(FormRecord, "r")
    return (
        f"SELECT {r.columns()} FROM {table(FormRecord)} r"
        f" WHERE r.{col(FormRecord, 'participant')} = %s AND r.{col(FormRecord, 'key')} = %s"
        f"{for_update() if lock else ''}",
        r,
    )


def _records_at(participant: Participant, key: str, *, lock: bool = False) -> dict[str, FormRecord]:
    """Every form saved under ``key`` (a visit's forms, or one participant-level record) by form name;
    ``lock``: their rows are locked until the transaction ends (PostgreSQL)."""
    sql, shape = _records_query(vendor(), lock)
    return {rec.form: rec for rec in (shape.instance(row) for row in fetch(sql, [participant.pk, key]))}


def _visit_in(visits: list[Visit], key: str) -> Visit | None:
    return next((v for v in visits if v.code == key), None)


def _protocol_for(participant: Participant) -> Protocol:
    """The study's protocol, from the participant's site's study when it is already loaded."""
    return get_protocol(participant.site.study)


def _context(
    participant: Participant,
    key: str,
    form: str,
    *,
    protocol: Protocol | None = None,
    visits: list[Visit] | None = None,
    siblings: dict[str, FormRecord] | None = None,
    records: Mapping[tuple[str, str], FormRecord] | None = None,
) -> FormContext:
    """What a form is validated against. ``records``: all the participant's form records by (key, form), already
    read (the visit's siblings, the log and the flare reference are then taken from them, with no query)."""
    protocol = protocol or _protocol_for(participant)
    if siblings is None and records is not None:
        siblings = {f: rec for (k, f), rec in records.items() if k == key and f != form}
    visits = _visits(participant) if visits is None else visits
    visit = _visit_in(visits, key)
    same: dict[str, Any] = {}
    prev_date = None
    window = None
    week = None
    if visit is not None:
        week = visit.week
        window = (visit.window_start, visit.window_end)
        for name, rec in (_siblings(participant, key, form) if siblings is None else siblings).items():
            same[name] = rec.data
        # The latest earlier visit that has a visit date (visits are ordered by week).
        earlier = [v for v in visits if v.week < visit.week and v.visit_date is not None]
        prev_date = earlier[-1].visit_date if earlier else None
    log: dict[str, Any] = {}
    reference, reference_label = None, "baseline"
    if form in LOG_FORMS:
        log = (
            {k: rec.data for (k, f), rec in records.items() if f == form and k != key}
            if records is not None
            else {
                rec.key: rec.data
                for rec in FormRecord.objects.filter(participant=participant, form=form)
                .exclude(key=key)
                .only("key", "data")
            }
        )
    if form == "flare":
        reference, reference_label = _flare_reference(participant, protocol, records)
    return FormContext(
        protocol=protocol,
        week=week,
        randomised_on=participant.randomised_on,
        kit_code=participant.kit_code,
        same_visit=same,
        previous_visit_date=prev_date,
        window=window,
        log=log,
        flare_reference=reference,
        flare_reference_label=reference_label,
    )


def _baseline_visit_code(protocol: Protocol) -> str | None:
    return next((v.code for v in protocol.visits if v.phase == "baseline"), None)


def _flare_reference(
    participant: Participant, protocol: Protocol, records: Mapping[tuple[str, str], FormRecord] | None = None
) -> tuple[float | None, str]:
    """The CRP PMR-AS flares are judged against: the baseline visit's (Dejaco 2011 change rule)."""
    code = _baseline_visit_code(protocol)
    if code is None:
        return None, "baseline"
    rec = records.get((code, "pmr_as")) if records is not None else _record(participant, code, "pmr_as")
    score = rec.derived.get("crp_pmr_as") if rec is not None else None
    return (float(score) if score is not None else None), f"baseline ({code})"


def recompute_derived(record: FormRecord) -> dict[str, Any]:
    """The derived values a saved record should carry now (its data re-validated in its context)."""
    return DerivedRecomputer()(record)


class DerivedRecomputer:
    """:func:`recompute_derived` for many records (``edc audit verify``): each participant's protocol, visits and
    form records are read once, at its first record, and each record's context is built from them."""

    def __init__(self) -> None:
        self._loaded: dict[int, tuple[Protocol, list[Visit], dict[tuple[str, str], FormRecord]]] = {}

    @property
    def n_participants_loaded(self) -> int:
        """How many participants' contexts were read from the database (once each)."""
        return len(self._loaded)

    def __call__(self, record: FormRecord) -> dict[str, Any]:
        participant = record.participant
        loaded = self._loaded.get(participant.pk)
        if loaded is None:
            rows = FormRecord.objects.filter(participant=participant).only("key", "form", "data", "derived")
            loaded = (_protocol_for(participant), _visits(participant), {(r.key, r.form): r for r in rows})
            self._loaded[participant.pk] = loaded
        protocol, visits, records = loaded
        ctx = _context(participant, record.key, record.form, protocol=protocol, visits=visits, records=records)
        return validate_form(record.form, record.data, ctx).derived


#: Keys of the participant-level forms: the repeating logs are numbered (AE-1, GC-1, FL-1, ...).
_PARTICIPANT_KEYS = {
    **{form: re.compile(rf"{prefix}-[1-9][0-9]{{0,5}}") for form, prefix in LOG_FORMS.items()},
    "end_of_study": re.compile(r"EOS"),
}


def _check_target(key: str, form: str, protocol: Protocol, visits: list[Visit], *, new_record: bool = False) -> None:
    """404 unless ``form`` exists (a log only where the protocol declares it) and ``key`` names one of the
    participant's visits that lists it, or a well-formed participant-level key (``new_record``: also a
    log's not-yet-numbered ``<prefix>-new``, as the entry page previews it)."""
    spec = get_form_spec(form)
    log = _DECLARED_LOGS.get(spec.name)
    if log is not None and log not in declared_logs(protocol):
        raise NotFound(f"The protocol does not capture {spec.title.lower()} records ({log}).")
    if spec.participant_level:
        pattern = _PARTICIPANT_KEYS.get(spec.name)
        is_new = new_record and spec.name in LOG_FORMS and key == f"{LOG_FORMS[spec.name]}-new"
        if pattern is not None and not pattern.fullmatch(key) and not is_new:
            raise NotFound(f"No {spec.name} record {key!r}: expected a key like {pattern.pattern}.")
        return
    if _visit_in(visits, key) is None:
        raise NotFound(f"No visit {key!r} for this participant.")
    if spec.name != "visit_info" and spec.name not in forms_for_visit(key, protocol):
        raise NotFound(f"The protocol does not list form {spec.name!r} at visit {key}.")


def _check_key(participant: Participant, key: str, form: str, protocol: Protocol, visits: list[Visit]) -> None:
    if not get_form_spec(form).participant_level and participant.randomised_on is None:
        raise WorkflowError("Visit forms can be entered after randomisation.")
    _check_target(key, form, protocol, visits)


def _siblings(participant: Participant, key: str, form: str) -> dict[str, FormRecord]:
    """The other forms saved at the same visit (id, data, derived), by form name: one query per save."""
    rows = FormRecord.objects.filter(participant=participant, key=key).exclude(form=form).order_by()
    return {r.form: r for r in rows.only("id", "form", "data", "derived")}


def _check_unlocked(study: Study, participant: Participant, record: FormRecord | None) -> None:
    if study.locked:
        raise LockedError("The database is locked: no data can be changed.")
    if participant.locked:
        raise LockedError("This participant's casebook is locked: no data can be changed.")
    if record is not None and record.locked:
        raise LockedError("This form is locked: no data can be changed.")


def preview_form(
    actor: Any, participant: Participant, key: str, form: str, data: Mapping[str, Any]
) -> ValidationOutcome:
    """Validate and score without saving (the live PMR-AS endpoint)."""
    check_participant(actor, "view", participant)
    form = FORM_ALIASES.get(form, form)
    protocol = _protocol_for(participant)
    visits = _visits(participant)
    _check_target(key, form, protocol, visits, new_record=True)
    return validate_form(form, data, _context(participant, key, form, protocol=protocol, visits=visits))


def get_form(actor: Any, participant: Participant, key: str, form: str) -> FormRecord | None:
    """The saved record (None if not entered yet); :class:`NotFound` for an unknown form or visit."""
    check_participant(actor, "view", participant)
    form = FORM_ALIASES.get(form, form)
    _check_target(key, form, _protocol_for(participant), _visits(participant))
    return _record(participant, key, form)


def save_form(
    actor: Any,
    participant: Participant,
    key: str,
    form: str,
    data: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    reason: str = "",
    confirm_warnings: bool = False,
) -> FormRecord:
    """Validate and save one form.

    - Invalid values: :class:`FormInvalid` with field-level errors; nothing is saved.
    - Warnings: :class:`FormInvalid` with ``warnings`` unless ``confirm_warnings``.
    - After first entry, ``expected_version`` must be the version the editor loaded (else
      :class:`ConflictError`, carrying the current values) and ``reason`` is required.
    """
    check_participant(actor, "enter_data", participant)
    form = FORM_ALIASES.get(form, form)
    protocol = _protocol_for(participant)
    visits = _visits(participant)
    _check_key(participant, key, form, protocol, visits)
    at_visit = _visit_in(visits, key) is not None
    with transaction.atomic():
        # First the participant's row (and the casebook and database lock flags): it serialises the saves
        # of one participant. Then the record and the other forms of its visit (for validation and the
        # visit's scores), read and locked in one statement (form locking and verification lock the
        # record only): what validation sees is current when the save commits, including a form another
        # user saved for the first time a moment ago. Saves of different participants do not wait for
        # each other (PostgreSQL; SQLite has one writer).
        p = load_participant(pk=participant.pk, lock=True)
        if p is None:
            raise NotFound("No such participant.")
        records = _records_at(participant, key, lock=True)
        record = records.pop(form, None)
        siblings = records if at_visit else {}
        ctx = _context(participant, key, form, protocol=protocol, visits=visits, siblings=siblings)
        outcome = validate_form(form, data, ctx)
        if outcome.errors:
            raise FormInvalid(outcome.errors, outcome.warnings)
        if outcome.warnings and not confirm_warnings:
            raise FormInvalid({}, outcome.warnings)
        _check_unlocked(p.site.study, p, record)
        site, subj = p.site.code, p.subject_id
        if record is None:
            if expected_version not in (None, 0):
                raise ConflictError("This form was deleted or never saved; reload it.", current={}, version=0)
            try:
                # A savepoint: on PostgreSQL a concurrent first save of the same form commits between our
                # empty SELECT ... FOR UPDATE and this INSERT; the unique constraint then rejects ours, and
                # the user gets the same conflict screen as on SQLite (where BEGIN IMMEDIATE serialises).
                with transaction.atomic():
                    record = FormRecord.objects.create(
                        participant=participant,
                        visit=_visit_in(visits, key),
                        key=key,
                        form=form,
                        data=outcome.cleaned,
                        derived=outcome.derived,
                        confirmed_warnings=outcome.warnings,
                        created_by=actor,
                        updated_by=actor,
                    )
            except IntegrityError:
                other = _record(participant, key, form)
                raise ConflictError(
                    "Someone else saved this form first. Your changes were not saved; review the current values.",
                    current=other.data if other else {},
                    version=other.version if other else 0,
                ) from None
            changes = {name: (None, value) for name, value in outcome.cleaned.items() if value is not None}
            audit_changes(
                actor,
                "create",
                f"form:{form}",
                f"{subj}/{key}",
                changes,
                reason=reason,
                site_code=site,
                participant=subj,
            )
        else:
            if expected_version is None or int(expected_version) != record.version:
                raise ConflictError(
                    f"Someone else saved this form (version {record.version}) after you opened it "
                    f"(version {expected_version}). Your changes were not saved; review the current values.",
                    current=record.data,
                    version=record.version,
                )
            changes = {
                name: (record.data.get(name), value)
                for name, value in outcome.cleaned.items()
                if record.data.get(name) != value
            }
            if not changes:
                return record
            if not reason or not reason.strip():
                raise FormInvalid({"reason": "A reason for change is required after first entry."})
            record.data = outcome.cleaned
            record.derived = outcome.derived
            record.confirmed_warnings = outcome.warnings
            record.version += 1
            record.updated_by = actor
            record.updated_at = timezone.now()
            record.verified_by, record.verified_at = "", None  # changed data need verifying again
            update(
                FormRecord,
                record.pk,
                {
                    name: getattr(record, name)
                    for name in (
                        "data",
                        "derived",
                        "confirmed_warnings",
                        "version",
                        "updated_by_id",
                        "updated_at",
                        "verified_by",
                        "verified_at",
                    )
                },
            )
            audit_changes(
                actor,
                "update",
                f"form:{form}",
                f"{subj}/{key}",
                changes,
                reason=reason.strip(),
                site_code=site,
                participant=subj,
            )
        _after_save(actor, p, key, form, record, protocol=protocol, visits=visits, siblings=siblings)
        void_signature(actor, p, f"{form} at {key}")
    return record


def add_log_record(
    actor: Any,
    participant: Participant,
    form: str,
    data: Mapping[str, Any],
    *,
    confirm_warnings: bool = False,
) -> FormRecord:
    """A new record of a repeating participant-level log (adverse event, GC dose, flare assessment):
    key ``<prefix>-n`` (:data:`LOG_FORMS`), saved by :func:`save_form` (validation, audit, locks,
    signature voiding). Later changes go through :func:`save_form` with its key, version and reason.
    """
    check_participant(actor, "enter_data", participant)
    title = get_form_spec(form).title
    if participant.randomised_on is None:
        raise WorkflowError(f"{title} records are entered for randomised participants.")
    with transaction.atomic():
        Participant.objects.select_for_update().get(pk=participant.pk)
        n = FormRecord.objects.filter(participant=participant, form=form).count() + 1
        return save_form(actor, participant, f"{LOG_FORMS[form]}-{n}", form, data, confirm_warnings=confirm_warnings)


def list_log_records(actor: Any, participant: Participant, form: str) -> list[FormRecord]:
    """A participant's records of one repeating log, in entry order."""
    check_participant(actor, "view", participant)
    return list(FormRecord.objects.filter(participant=participant, form=form).order_by("id"))


def canonical_rows(
    records: list[FormRecord], table: str, renamed: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Rows of the canonical ``table`` (its vocabulary columns but ``subject_id``) from log records.

    A column is the record's derived value of that name, else its data value; ``renamed`` maps a column
    to another data field (``reason`` -> ``dose_reason``). Records without the first column (a day that
    cannot be computed) are left out.
    """
    columns = [c for c in column_names(table) if c != "subject_id"]
    out = []
    for rec in records:
        row = {}
        for column in columns:
            name = (renamed or {}).get(column, column)
            row[column] = rec.derived[name] if name in rec.derived else rec.data.get(name)
        if row[columns[0]] is not None:
            out.append(row)
    return out


def declared_logs(protocol: Protocol) -> frozenset[str]:
    """The participant-level logs the protocol declares (lists at a visit): ``gc_doses``, ``flares``..."""
    return frozenset(f for v in protocol.visits for f in v.forms if f in FORM_ALIASES)


def _after_save(
    actor: Any,
    participant: Participant,
    key: str,
    form: str,
    record: FormRecord,
    *,
    protocol: Protocol,
    visits: list[Visit],
    siblings: dict[str, FormRecord],
) -> None:
    """Side effects of a saved form: visit date/window flag, sibling scores, end-of-study status.

    Runs inside the save's transaction, after the participant row lock: what it reads is current
    (``siblings``: the visit's other records, read and locked with the saved one).
    """
    if form == "visit_info":
        visit = _visit_in(visits, key)
        if visit is not None:
            visit.visit_date = dt.date.fromisoformat(record.data["visit_date"])
            visit.out_of_window = bool(record.derived.get("out_of_window"))
            Visit.objects.filter(pk=visit.pk).update(visit_date=visit.visit_date, out_of_window=visit.out_of_window)
    if form == "labs" and siblings.get("pmr_as") is not None:
        # Keep the visit's PMR-AS in the pmr_as record whichever form was saved last.
        rec = siblings["pmr_as"]
        others = {name: r for name, r in siblings.items() if name != "pmr_as"}
        ctx = _context(participant, key, "pmr_as", protocol=protocol, visits=visits, siblings={**others, form: record})
        outcome = validate_form("pmr_as", rec.data, ctx)
        if not outcome.errors and outcome.derived != rec.derived:
            FormRecord.objects.filter(pk=rec.pk).update(derived=outcome.derived)
    if form in ("labs", "pmr_as") and key == _baseline_visit_code(protocol):
        _refresh_flares(participant, protocol, visits)
    if form == "end_of_study":
        new = _END_STATUS[record.data["status"]]
        if participant.status != new:
            old = participant.status
            Participant.objects.filter(pk=participant.pk).update(status=new)
            audit_changes(
                actor,
                "update",
                "participant",
                participant.subject_id,
                {"status": (old, new)},
                reason="end of study form",
                site_code=participant.site.code,
                participant=participant.subject_id,
            )


def _refresh_flares(participant: Participant, protocol: Protocol, visits: list[Visit]) -> None:
    """A changed baseline CRP PMR-AS changes every flare's change rule: re-judge the saved assessments."""
    for rec in FormRecord.objects.filter(participant=participant, form="flare"):
        outcome = validate_form(
            "flare", rec.data, _context(participant, rec.key, "flare", protocol=protocol, visits=visits)
        )
        if not outcome.errors and outcome.derived != rec.derived:
            FormRecord.objects.filter(pk=rec.pk).update(derived=outcome.derived)


# -- locking -------------------------------------------------------------------------------------


def _require_reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise FormInvalid({"reason": "Unlocking requires a reason."})
    return reason.strip()


def lock_form(actor: Any, participant: Participant, key: str, form: str) -> FormRecord:
    check_participant(actor, "lock", participant)
    with transaction.atomic():
        rec = _record(participant, key, form, for_update=True)
        if rec is None:
            raise NotFound("No such form record.")
        if not rec.locked:
            FormRecord.objects.filter(pk=rec.pk).update(locked=True)
            rec.locked = True
            audit_changes(
                actor,
                "update",
                f"form:{form}",
                f"{participant.subject_id}/{key}",
                {"locked": (False, True)},
                site_code=participant.site.code,
                participant=participant.subject_id,
            )
    return rec


def unlock_form(actor: Any, participant: Participant, key: str, form: str, reason: str) -> FormRecord:
    check_participant(actor, "unlock", participant)
    why = _require_reason(reason)
    with transaction.atomic():
        rec = _record(participant, key, form, for_update=True)
        if rec is None:
            raise NotFound("No such form record.")
        if rec.locked:
            FormRecord.objects.filter(pk=rec.pk).update(locked=False)
            rec.locked = False
            audit_changes(
                actor,
                "update",
                f"form:{form}",
                f"{participant.subject_id}/{key}",
                {"locked": (True, False)},
                reason=why,
                site_code=participant.site.code,
                participant=participant.subject_id,
            )
    return rec


def verify_form(actor: Any, participant: Participant, key: str, form: str) -> FormRecord:
    """Source data verification (monitor, data manager): marks the saved version as verified."""
    check_participant(actor, "verify", participant)
    with transaction.atomic():
        rec = FormRecord.objects.select_for_update().filter(participant=participant, key=key, form=form).first()
        if rec is None:
            raise NotFound("No such form record.")
        if not rec.verified_at:
            rec.verified_by, rec.verified_at = actor.username, timezone.now()
            rec.save(update_fields=["verified_by", "verified_at"])
            audit_changes(
                actor,
                "update",
                f"form:{form}",
                f"{participant.subject_id}/{key}",
                {"verified": (None, f"version {rec.version}")},
                site_code=participant.site.code,
                participant=participant.subject_id,
            )
    return rec


#: What an investigator's e-signature means (stated on screen and stored with the signature).
SIGNATURE_MEANING = (
    "I approve the data in this casebook as complete and accurate, with the exceptions listed, "
    "as the investigator responsible for this participant."
)
SIGNATURE_VOID_TEXT = "signature void: data changed after signing"


def signature_exceptions(participant: Participant) -> list[str]:
    """Why the casebook is not complete: required forms missing and queries not closed.

    A form is required when the protocol lists it at a visit that took place (its visit date is
    entered) or whose window has closed, for a participant still in follow-up; after withdrawal or
    loss to follow-up only the visits that took place count.
    """
    from pmrtrial.edc.queries.models import Query

    if participant.randomised_on is None:
        return []
    protocol = _protocol_for(participant)
    today = timezone.localdate()
    saved = set(FormRecord.objects.filter(participant=participant).values_list("key", "form"))
    ended = participant.status in ("withdrawn", "lost")
    out = []
    for visit in _visits(participant):
        due = visit.visit_date is not None or (not ended and visit.window_end < today)
        if not due:
            continue
        out += [
            f"{visit.code}: form {name} missing"
            for name in forms_for_visit(visit.code, protocol)
            if (visit.code, name) not in saved
        ]
    for q in Query.objects.filter(participant=participant).exclude(state="closed").order_by("pk"):
        out.append(f"query {q.pk} on {q.key}/{q.form}/{q.field} is {q.state}")
    return out


def sign_casebook(
    actor: Any,
    participant: Participant,
    password: str,
    *,
    confirm_exceptions: list[str] | tuple[str, ...] | None = None,
) -> Participant:
    """Investigator e-signature (21 CFR Part 11 §11.50, §11.200): password re-entered (throttled like
    a log-in), stored with the signer's printed name, the date and time and :data:`SIGNATURE_MEANING`.

    Refused with :class:`SignatureExceptions` (listing them) while required forms are missing or
    queries are open, unless every listed exception is passed back in ``confirm_exceptions``; the
    confirmed exceptions are stored with the signature. Audited field by field.
    """
    check_participant(actor, "sign", participant)
    reauthenticate(actor, password)
    with transaction.atomic():
        p = Participant.objects.select_for_update(of=("self",)).select_related("site").get(pk=participant.pk)
        if p.locked or get_study().locked:
            raise LockedError("This casebook is locked: unlock it before signing.")
        exceptions = signature_exceptions(p)
        unconfirmed = [e for e in exceptions if e not in set(confirm_exceptions or ())]
        if unconfirmed:
            raise SignatureExceptions(unconfirmed)
        now = timezone.now()
        name = (actor.get_full_name() or "").strip() or actor.username
        new = {
            "signed_by": actor.username,
            "signer_name": name,
            "signed_at": now,
            "signature_meaning": SIGNATURE_MEANING,
            "signature_exceptions": exceptions,
            "signature_void": False,
            "signature_voided_at": None,
        }
        changes = {
            "signed_by": (p.signed_by or None, actor.username),
            "signer_name": (p.signer_name or None, name),
            "signed_at": (p.signed_at.isoformat() if p.signed_at else None, now.isoformat()),
            "signature_meaning": (p.signature_meaning or None, SIGNATURE_MEANING),
            "signature_exceptions": (p.signature_exceptions, exceptions),
            "signature_void": (p.signature_void, False),
        }
        Participant.objects.filter(pk=p.pk).update(**new)
        audit_changes(
            actor,
            "update",
            "participant",
            p.subject_id,
            changes,
            reason="e-signature: " + SIGNATURE_MEANING,
            site_code=p.site.code,
            participant=p.subject_id,
        )
    participant.refresh_from_db()
    return participant


def void_signature(actor: Any, participant: Participant, what: str) -> None:
    """A change to signed data voids the signature (audited); call inside the change's transaction."""
    if participant.signed_at is None or participant.signature_void:
        return
    now = timezone.now()
    Participant.objects.filter(pk=participant.pk).update(signature_void=True, signature_voided_at=now)
    participant.signature_void, participant.signature_voided_at = True, now
    audit_changes(
        actor,
        "update",
        "participant",
        participant.subject_id,
        {"signature_void": (False, True)},
        reason=f"{SIGNATURE_VOID_TEXT} ({what})",
        site_code=participant.site.code,
        participant=participant.subject_id,
    )


def lock_participant(actor: Any, participant: Participant) -> Participant:
    check_participant(actor, "lock", participant)
    with transaction.atomic():
        if not participant.locked:
            Participant.objects.filter(pk=participant.pk).update(locked=True)
            audit_changes(
                actor,
                "update",
                "participant",
                participant.subject_id,
                {"locked": (False, True)},
                site_code=participant.site.code,
                participant=participant.subject_id,
            )
    participant.refresh_from_db()
    return participant


def unlock_participant(actor: Any, participant: Participant, reason: str) -> Participant:
    check_participant(actor, "unlock", participant)
    why = _require_reason(reason)
    with transaction.atomic():
        if participant.locked:
            Participant.objects.filter(pk=participant.pk).update(locked=False)
            audit_changes(
                actor,
                "update",
                "participant",
                participant.subject_id,
                {"locked": (True, False)},
                reason=why,
                site_code=participant.site.code,
                participant=participant.subject_id,
            )
    participant.refresh_from_db()
    return participant


def lock_database(actor: Any) -> Study:
    check(actor, "lock")
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=get_study().pk)
        if not study.locked:
            study.locked = True
            study.locked_at = timezone.now()
            study.save(update_fields=["locked", "locked_at"])
            audit_changes(actor, "update", "study", study.pk, {"locked": (False, True)})
    return study


def unlock_database(actor: Any, reason: str) -> Study:
    check(actor, "unlock")
    why = _require_reason(reason)
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=get_study().pk)
        if study.locked:
            study.locked = False
            study.locked_at = None
            study.save(update_fields=["locked", "locked_at"])
            audit_changes(actor, "update", "study", study.pk, {"locked": (True, False)}, reason=why)
    return study


def view_casebook(actor: Any, participant: Participant) -> None:
    """Audit a read of a participant's casebook (record views are audited)."""
    check_participant(actor, "view", participant)
    audit_event(
        actor,
        "view",
        "participant",
        participant.subject_id,
        site_code=participant.site.code,
        participant=participant.subject_id,
    )
