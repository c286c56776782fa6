"""Queries: raise (monitor, data manager), answer (site), close (monitor, data manager). Never deleted."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from pmrtrial.edc.accounts.permissions import check_participant, visible_participants
from pmrtrial.edc.audit.services import audit_changes
from pmrtrial.edc.crfs.form_specs import get_form_spec
from pmrtrial.edc.errors import FormInvalid, NotFound, WorkflowError
from pmrtrial.edc.queries.models import Query
from pmrtrial.edc.screening.models import Participant

__all__ = ["answer_query", "close_query", "get_query", "list_queries", "raise_query"]


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


def list_queries(actor: Any, *, state: str | None = None) -> QuerySet[Query]:
    qs = Query.objects.select_related("participant", "participant__site").filter(
        participant__in=visible_participants(actor)
    )
    return qs.filter(state=state) if state else qs
