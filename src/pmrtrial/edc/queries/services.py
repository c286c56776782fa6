"""Queries: raise (monitor, data manager), answer (site), close (monitor, data manager). Never deleted.

Locks (GCP practice, ICH E6(R3) on data corrections; 21 CFR Part 11 audit trails):

- **Raise, reopen, answer** need the form open: they are refused (:class:`LockedError`, API 409 ``locked``) while
  the form, the participant's casebook or the database is locked. A query asks the site to check, and perhaps
  correct, a value; a lock says the value is final. A site answer usually comes with a correction, so the data
  manager unlocks first (with a reason, in the audit trail), then the site answers and corrects in one sitting.
- **Close** changes no data: the monitor or data manager accepts the value as it stands, which is what a form or
  casebook lock asserts. It is allowed on a locked form or casebook (audited like any close), so a query answered
  just before the lock can still be closed. Once the **database** is locked nothing changes, query states
  included: every query is resolved before database lock, and closing is refused after it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from pmrtrial.edc.accounts.permissions import check_participant, visible_participants
from pmrtrial.edc.audit.services import audit_changes
from pmrtrial.edc.crfs.form_specs import get_form_spec
from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.crfs.status import lock_level
from pmrtrial.edc.errors import FormInvalid, LockedError, NotFound, WorkflowError
from pmrtrial.edc.queries.models import Query
from pmrtrial.edc.screening.models import Participant

__all__ = [
    "QUERY_LOCKED_MESSAGES",
    "answer_query",
    "close_query",
    "get_query",
    "list_queries",
    "query_actions_allowed",
    "raise_query",
    "reopen_query",
]

#: Why a query action is refused, by the lock that refuses it (see the module docstring).
QUERY_LOCKED_MESSAGES = {
    "database": "The database is locked: queries can no longer be raised, answered, reopened or closed.",
    "casebook": "This participant's casebook is locked: a data manager unlocks it before a query is raised, "
    "answered or reopened.",
    "form": "This form is locked: a data manager unlocks it before a query is raised, answered or reopened.",
}


def query_actions_allowed(level: str | None) -> frozenset[str]:
    """The query actions a lock leaves possible (``raise``, ``answer``, ``reopen``, ``close``): the one policy
    the services enforce and the UI follows when it offers or withholds a control."""
    if level is None:
        return frozenset({"raise", "answer", "reopen", "close"})
    return frozenset() if level == "database" else frozenset({"close"})


def _query_lock_level(participant: Participant, key: str, form: str) -> str | None:
    """The lock on a query's form (``database``, ``casebook``, ``form`` or None), read for update.

    Called inside the action's transaction, in the save path's order (form record, then participant row), so a
    lock taken concurrently is either seen here or waits for this action to commit.
    """
    record = FormRecord.objects.select_for_update().filter(participant=participant, key=key, form=form).first()
    p = (
        Participant.objects.select_for_update(of=("self",))
        .select_related("site__study")
        .defer("site__study__protocol_yaml")
        .get(pk=participant.pk)
    )
    return lock_level(p.site.study, p, record)


def _refuse_if_locked(participant: Participant, key: str, form: str, action: str) -> None:
    level = _query_lock_level(participant, key, form)
    if level is not None and action not in query_actions_allowed(level):
        raise LockedError(QUERY_LOCKED_MESSAGES[level])


def raise_query(actor: Any, participant: Participant, key: str, form: str, field: str, text: str) -> Query:
    check_participant(actor, "raise_query", participant)
    try:
        spec = get_form_spec(form)
    except NotFound:
        raise FormInvalid({"form": f"Unknown form {form!r}."}) from None
    if spec.get_field(field) is None:
        raise FormInvalid({"field": f"Form {form} has no field {field!r}."})
    if not text or not text.strip():
        raise FormInvalid({"text": "Write the query."})
    with transaction.atomic():
        _refuse_if_locked(participant, key, spec.name, "raise")
        q = Query.objects.create(
            participant=participant, key=key, form=spec.name, field=field, text=text.strip(), raised_by=actor
        )
        audit_changes(
            actor,
            "create",
            "query",
            q.pk,
            {"state": (None, "open"), "text": (None, q.text), "target": (None, f"{key}/{spec.name}/{field}")},
            site_code=participant.site.code,
            participant=participant.subject_id,
        )
    return q


#: Primary keys are 64-bit: a larger number names no query (and must not reach the database driver).
_MAX_ID = 2**63 - 1


def get_query(actor: Any, query_id: int) -> Query:
    if not 0 < query_id <= _MAX_ID:
        raise NotFound("No such query.")
    q = Query.objects.select_related("participant__site").filter(pk=query_id).first()
    if q is None:
        raise NotFound("No such query.")
    check_participant(actor, "view", q.participant)
    return q


def answer_query(actor: Any, query_id: int, answer: str) -> Query:
    q = get_query(actor, query_id)
    check_participant(actor, "answer_query", q.participant)
    if not answer or not answer.strip():
        raise FormInvalid({"answer": "Write the answer."})
    with transaction.atomic():
        q = Query.objects.select_for_update().get(pk=q.pk)
        if q.state == "closed":
            raise WorkflowError("This query is closed.")
        _refuse_if_locked(q.participant, q.key, q.form, "answer")
        old_state, old_answer = q.state, q.answer
        q.state, q.answer, q.answered_by, q.answered_at = "answered", answer.strip(), actor, timezone.now()
        q.save()
        audit_changes(
            actor,
            "update",
            "query",
            q.pk,
            {"state": (old_state, "answered"), "answer": (old_answer or None, q.answer)},
            site_code=q.participant.site.code,
            participant=q.participant.subject_id,
        )
    return q


def close_query(actor: Any, query_id: int) -> Query:
    q = get_query(actor, query_id)
    check_participant(actor, "close_query", q.participant)
    with transaction.atomic():
        q = Query.objects.select_for_update().get(pk=q.pk)
        if q.state == "closed":
            raise WorkflowError("This query is already closed.")
        _refuse_if_locked(q.participant, q.key, q.form, "close")
        old = q.state
        q.state, q.closed_by, q.closed_at = "closed", actor, timezone.now()
        q.save()
        audit_changes(
            actor,
            "update",
            "query",
            q.pk,
            {"state": (old, "closed")},
            site_code=q.participant.site.code,
            participant=q.participant.subject_id,
        )
    return q


def reopen_query(actor: Any, query_id: int, text: str = "") -> Query:
    """A monitor or data manager reopens a closed (or answered) query; ``text`` replaces the question if given.

    Refused while the form, casebook or database is locked: reopening asks the site again."""
    q = get_query(actor, query_id)
    check_participant(actor, "close_query", q.participant)
    with transaction.atomic():
        q = Query.objects.select_for_update().get(pk=q.pk)
        if q.state == "open":
            raise WorkflowError("This query is already open.")
        _refuse_if_locked(q.participant, q.key, q.form, "reopen")
        changes: dict[str, tuple[Any, Any]] = {"state": (q.state, "open")}
        if text and text.strip():
            changes["text"] = (q.text, text.strip())
            q.text = text.strip()
        q.state, q.closed_by, q.closed_at = "open", None, None
        q.save()
        audit_changes(
            actor,
            "update",
            "query",
            q.pk,
            changes,
            site_code=q.participant.site.code,
            participant=q.participant.subject_id,
        )
    return q


def list_queries(actor: Any, *, state: str | None = None) -> QuerySet[Query]:
    qs = Query.objects.select_related("participant", "participant__site").filter(
        participant__in=visible_participants(actor)
    )
    return qs.filter(state=state) if state else qs
