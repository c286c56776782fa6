"""Casebook and study status, in the manner of REDCap's record status dashboard.

Every visit x form cell has one state, chosen by precedence (the first that applies):

``signature_void``  the casebook was signed, then this form changed (the signature no longer covers it)
``open_query``      a query on one of its fields is open or answered but not closed
``locked``          the form, the casebook or the database is locked
``signed``          the casebook's signature covers this form as saved
``verified``        a monitor verified the saved version against the source
``complete``        saved with every required field
``incomplete``      saved with a required field empty
``not_started``     nothing saved

A visit's state follows from its forms: ``not_started`` when none is saved, ``complete`` when every
form is complete or beyond, else ``incomplete``. The schedule state (upcoming, due, missed, done) is
separate and comes from :func:`pmrtrial.edc.visits.services.visit_status`.

A signature is void when the e-signature service says so (``Participant.signature_void``, where the model
has it) or, failing that, when any form was saved after it (``updated_at > signed_at``). A form saved after
the signature shows ``signature_void`` in its cell either way.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from pmrtrial.edc.accounts.permissions import visible_participants
from pmrtrial.edc.audit.models import AuditEntry
from pmrtrial.edc.crfs.form_specs import FormSpec, get_form_spec
from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.crfs.services import forms_for_visit
from pmrtrial.edc.queries.models import Query
from pmrtrial.edc.randomisation.models import RandomisationSlot
from pmrtrial.edc.screening.models import Participant
from pmrtrial.edc.sites.models import Study
from pmrtrial.edc.sites.services import get_protocol, get_study
from pmrtrial.edc.visits.models import Visit
from pmrtrial.edc.visits.services import visit_status

__all__ = [
    "FORM_STATES",
    "Casebook",
    "Cell",
    "casebook_status",
    "form_state",
    "lock_reason",
    "signature_state",
    "study_overview",
]

FORM_STATES = (
    "not_started",
    "incomplete",
    "complete",
    "verified",
    "signed",
    "locked",
    "open_query",
    "signature_void",
)
_DONE = frozenset({"complete", "verified", "signed", "locked", "open_query", "signature_void"})
OPEN_QUERY_STATES = ("open", "answered")


@dataclass(frozen=True)
class Cell:
    key: str
    form: str
    title: str
    state: str
    record: FormRecord | None
    open_queries: int = 0


@dataclass(frozen=True)
class VisitRow:
    visit: Visit
    schedule: str
    state: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Casebook:
    participant: Participant
    rows: tuple[VisitRow, ...]
    signature: str  # unsigned, signed, void
    forms: tuple[str, ...] = field(default=())  # the union of the visits' forms, in schedule order


def signature_state(participant: Participant, records: list[FormRecord] | None = None) -> str:
    """``unsigned``, ``signed`` or ``void`` (a form saved after the signature)."""
    if participant.signed_at is None:
        return "unsigned"
    recorded = getattr(participant, "signature_void", None)  # the e-signature service's own flag, when it keeps one
    if recorded is not None:
        return "void" if recorded else "signed"
    recs = records if records is not None else list(FormRecord.objects.filter(participant=participant))
    return "void" if any(r.updated_at > participant.signed_at for r in recs) else "signed"


def _complete(spec: FormSpec, record: FormRecord) -> bool:
    return all(record.data.get(f.name) not in (None, "") for f in spec.fields if f.required)


def form_state(
    record: FormRecord | None,
    spec: FormSpec,
    participant: Participant,
    *,
    open_queries: int = 0,
    database_locked: bool = False,
) -> str:
    """The state of one saved (or unsaved) form; see the module docstring for the precedence."""
    if record is None:
        return "not_started"
    signed_at = participant.signed_at
    if signed_at is not None and record.updated_at > signed_at:
        return "signature_void"
    if open_queries:
        return "open_query"
    if record.locked or participant.locked or database_locked:
        return "locked"
    if signed_at is not None:
        return "signed"
    if not _complete(spec, record):
        return "incomplete"
    return "verified" if record.verified_at else "complete"


def _visit_state(cells: list[Cell]) -> str:
    started = [c for c in cells if c.state != "not_started"]
    if not started:
        return "not_started"
    return "complete" if all(c.state in _DONE for c in cells) else "incomplete"


def casebook_status(participant: Participant, today: dt.date | None = None) -> Casebook:
    """The visit x form grid of one participant."""
    protocol = get_protocol()
    study = get_study()
    records = list(FormRecord.objects.filter(participant=participant))
    saved = {(r.key, r.form): r for r in records}
    open_q = Counter(
        (q.key, q.form) for q in Query.objects.filter(participant=participant, state__in=OPEN_QUERY_STATES)
    )
    rows = []
    order: list[str] = []
    for v in Visit.objects.filter(participant=participant).select_related("participant").order_by("week"):
        cells = []
        for name in forms_for_visit(v.code, protocol):
            spec = get_form_spec(name)
            rec = saved.get((v.code, spec.name))
            n = open_q.get((v.code, spec.name), 0)
            state = form_state(rec, spec, participant, open_queries=n, database_locked=study.locked)
            cells.append(Cell(v.code, spec.name, spec.title, state, rec, n))
            if spec.name not in order:
                order.append(spec.name)
        rows.append(VisitRow(v, visit_status(v, today), _visit_state(cells), tuple(cells)))
    return Casebook(participant, tuple(rows), signature_state(participant, records), tuple(order))


def lock_level(study: Study, participant: Participant, record: FormRecord | None) -> str | None:
    """Which lock makes a form read-only: ``"database"``, ``"casebook"`` or ``"form"`` (the widest first), or None."""
    if study.locked:
        return "database"
    if participant.locked:
        return "casebook"
    if record is not None and record.locked:
        return "form"
    return None


def lock_reason(study: Study, participant: Participant, record: FormRecord | None) -> dict[str, Any] | None:
    """Why a form is read-only: ``{"kind": database|casebook|form, "by", "at"}`` (from the audit trail), or None."""

    def lock(kind: str, object_type: str, object_id: str) -> dict[str, Any]:
        e = (
            AuditEntry.objects.filter(object_type=object_type, object_id=object_id, field="locked", new_value="true")
            .order_by("-seq")
            .first()
        )
        return {"kind": kind, "by": e.actor if e else "", "at": e.at if e else None}

    kind = lock_level(study, participant, record)
    if kind == "database":
        return lock(kind, "study", str(study.pk))
    if kind == "casebook":
        return lock(kind, "participant", participant.subject_id)
    if kind == "form" and record is not None:
        return lock(kind, f"form:{record.form}", f"{participant.subject_id}/{record.key}")
    return None


def study_overview(actor: Any, today: dt.date | None = None, site: str = "") -> dict[str, Any]:
    """Study-level progress for the participants ``actor`` may see (optionally one site)."""
    today = today or timezone.localdate()
    protocol = get_protocol()
    people = visible_participants(actor)
    if site:
        people = people.filter(site__code=site)
    plist = list(people.order_by("subject_id"))
    target_total = protocol.sample_size.n_per_group * len(protocol.arms) if protocol.sample_size else None
    slots = Counter(
        RandomisationSlot.objects.filter(rlist__active=True).values_list("site__code", flat=True).iterator()
    )
    by_site: dict[str, Counter[str]] = defaultdict(Counter)
    failures = []
    for p in plist:
        by_site[p.site.code]["screened"] += 1
        by_site[p.site.code][p.status] += 1
        if p.randomised_on:
            by_site[p.site.code]["enrolled"] += 1
        if p.status == "screen_failed":
            failures.append({"p": p, "failed": p.eligibility.get("failed", [])})
    enrolment = [
        {"site": code, "target": slots.get(code), **{k: c.get(k, 0) for k in ("screened", "screen_failed", "enrolled")}}
        for code, c in sorted(by_site.items())
    ]
    reasons = Counter(c["id"] for f in failures for c in f["failed"])
    randomised = [p for p in plist if p.randomised_on]
    visits = list(Visit.objects.filter(participant__in=randomised).select_related("participant", "participant__site"))
    saved = set(FormRecord.objects.filter(participant__in=randomised).values_list("participant_id", "key", "form"))
    overdue, missing = [], []
    for v in sorted(visits, key=lambda v: (v.participant.subject_id, v.week)):
        status = visit_status(v, today)
        if status == "missed":
            overdue.append({"visit": v, "days": (today - v.window_end).days})
        if v.visit_date is not None or status == "missed":
            for name in forms_for_visit(v.code, protocol):
                if (v.participant_id, v.code, name) not in saved:
                    missing.append({"visit": v, "form": name, "title": get_form_spec(name).title})
    queries = list(
        Query.objects.filter(participant__in=plist, state__in=OPEN_QUERY_STATES)
        .select_related("participant", "participant__site", "raised_by")
        .order_by("raised_at")
    )
    return {
        "target_total": target_total,
        "enrolled_total": len(randomised),
        "enrolment": enrolment,
        "failures": failures,
        "failure_reasons": reasons.most_common(),
        "overdue": overdue,
        "missing": missing,
        "queries": queries,
    }
