"""JSON API under ``/api/`` (django-ninja; OpenAPI at ``/api/openapi.json``).

Authentication: ``Authorization: Bearer <token>`` (``pmrtrial edc token USERNAME``). Every
endpoint calls the same service functions as the web UI, so roles, site isolation, blinding,
locking and audit are identical.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.security import HttpBearer

from pmrtrial.edc import services as svc
from pmrtrial.edc.accounts.permissions import check_participant, visible_participants
from pmrtrial.edc.accounts.services import user_for_token
from pmrtrial.edc.audit.models import AuditEntry
from pmrtrial.edc.errors import ConflictError, EdcError, FormInvalid
from pmrtrial.edc.visits.models import Visit
from pmrtrial.exceptions import PmrTrialError


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(title="pmrtrial EDC", version="1.0", auth=BearerAuth(), urls_namespace="api", docs_url=None)


@api.exception_handler(EdcError)
def _edc_error(request: HttpRequest, exc: EdcError) -> HttpResponse:
    body: dict[str, Any] = {"detail": str(exc)}
    if isinstance(exc, FormInvalid):
        body.update(errors=exc.errors, warnings=exc.warnings)
    if isinstance(exc, ConflictError):
        body.update(current=exc.current, version=exc.version)
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(PmrTrialError)
def _core_error(request: HttpRequest, exc: PmrTrialError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=400)


def _participant_out(p: Any) -> dict[str, Any]:
    return {
        "subject_id": p.subject_id,
        "site": p.site.code,
        "status": p.status,
        "screened_on": p.screened_on.isoformat(),
        "eligibility_status": p.eligibility_status,
        "failed_criteria": [{"id": c["id"], "source_text": c["source_text"]} for c in p.eligibility.get("failed", [])],
        "randomisation_number": p.randomisation_number or None,
        "kit_code": p.kit_code or None,
        "randomised_on": p.randomised_on.isoformat() if p.randomised_on else None,
        "locked": p.locked,
        "signed_by": p.signed_by or None,
        "signature": _signature_out(p),
    }


def _signature_out(p: Any) -> dict[str, Any] | None:
    """The e-signature with its meaning; ``status`` is "signature void: data changed after signing" once voided."""
    if p.signed_at is None:
        return None
    return {
        "signed_by": p.signed_by,
        "printed_name": p.signer_name,
        "signed_at": p.signed_at.isoformat(),
        "meaning": p.signature_meaning,
        "confirmed_exceptions": list(p.signature_exceptions or []),
        "void": p.signature_void,
        "status": svc.SIGNATURE_VOID_TEXT if p.signature_void else "valid",
    }


class ScreenIn(Schema):
    site: str
    data: dict[str, Any]


class ConsentIn(Schema):
    version: str
    consented_on: str


class FormIn(Schema):
    data: dict[str, Any]
    version: int | None = None
    reason: str = ""
    confirm_warnings: bool = False


class PreviewIn(Schema):
    data: dict[str, Any]


class QueryIn(Schema):
    subject_id: str
    key: str
    form: str
    field: str
    text: str


class AnswerIn(Schema):
    answer: str


@api.get("/participants")
def list_participants(request: HttpRequest) -> list[dict[str, Any]]:
    return [_participant_out(p) for p in visible_participants(request.user)]


@api.post("/participants/screen")
def screen(request: HttpRequest, body: ScreenIn) -> dict[str, Any]:
    return _participant_out(svc.screen_participant(request.user, body.site, body.data))


@api.get("/participants/{subject_id}")
def participant(request: HttpRequest, subject_id: str) -> dict[str, Any]:
    p = svc.get_participant(request.user, subject_id)
    svc.view_casebook(request.user, p)
    return _participant_out(p)


@api.post("/participants/{subject_id}/consent")
def consent(request: HttpRequest, subject_id: str, body: ConsentIn) -> dict[str, Any]:
    p = svc.get_participant(request.user, subject_id)
    svc.record_consent(request.user, p, body.version, body.consented_on)
    p.refresh_from_db()
    return _participant_out(p)


@api.post("/participants/{subject_id}/randomise")
def randomise(request: HttpRequest, subject_id: str) -> dict[str, Any]:
    p = svc.get_participant(request.user, subject_id)
    return _participant_out(svc.randomise_participant(request.user, p))


@api.get("/participants/{subject_id}/visits")
def visits(request: HttpRequest, subject_id: str) -> list[dict[str, Any]]:
    p = svc.get_participant(request.user, subject_id)
    return [
        {
            "code": v.code,
            "week": v.week,
            "target_date": v.target_date.isoformat(),
            "window": [v.window_start.isoformat(), v.window_end.isoformat()],
            "visit_date": v.visit_date.isoformat() if v.visit_date else None,
            "out_of_window": v.out_of_window,
            "status": svc.visit_status(v),
            "forms": svc.forms_for_visit(v.code),
        }
        for v in Visit.objects.filter(participant=p).order_by("week")
    ]


def _record_out(rec: Any) -> dict[str, Any]:
    return {
        "key": rec.key,
        "form": rec.form,
        "data": rec.data,
        "derived": rec.derived,
        "version": rec.version,
        "locked": rec.locked,
        "updated_at": rec.updated_at.isoformat(),
    }


@api.get("/participants/{subject_id}/forms/{key}/{form}")
def get_form(request: HttpRequest, subject_id: str, key: str, form: str) -> dict[str, Any]:
    p = svc.get_participant(request.user, subject_id)
    rec = svc.get_form(request.user, p, key, form)
    if rec is None:
        return {"key": key, "form": form, "data": None, "derived": {}, "version": 0, "locked": False}
    return _record_out(rec)


@api.put("/participants/{subject_id}/forms/{key}/{form}")
def put_form(request: HttpRequest, subject_id: str, key: str, form: str, body: FormIn) -> dict[str, Any]:
    p = svc.get_participant(request.user, subject_id)
    rec = svc.save_form(
        request.user,
        p,
        key,
        form,
        body.data,
        expected_version=body.version,
        reason=body.reason,
        confirm_warnings=body.confirm_warnings,
    )
    return _record_out(rec)


@api.post("/participants/{subject_id}/forms/{key}/{form}/preview")
def preview(request: HttpRequest, subject_id: str, key: str, form: str, body: PreviewIn) -> dict[str, Any]:
    p = svc.get_participant(request.user, subject_id)
    return svc.preview_form(request.user, p, key, form, body.data).to_dict()


@api.post("/participants/{subject_id}/adverse-events")
def add_ae(request: HttpRequest, subject_id: str, body: FormIn) -> dict[str, Any]:
    p = svc.get_participant(request.user, subject_id)
    return _record_out(svc.add_adverse_event(request.user, p, body.data, confirm_warnings=body.confirm_warnings))


#: The error responses the GC log and flare endpoints declare (body: ``{"detail": ...}``, plus
#: ``errors``/``warnings`` field -> message on 422 and ``current``/``version`` on a 409 conflict).
_ERROR_DESCRIPTIONS = {
    401: "Missing or invalid bearer token",
    403: "The user's role or sites do not allow this action",
    404: "No such participant (another site's participant is not found), or the protocol does not capture this log",
    409: "Not randomised, or the form, casebook or database is locked",
    422: "Invalid values (field -> message in `errors`), or warnings to confirm (`warnings`)",
}
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
        "warnings": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _error_responses(*statuses: int) -> dict[str, Any]:
    """``openapi_extra`` declaring an operation's error responses."""
    return {
        "responses": {
            s: {"description": _ERROR_DESCRIPTIONS[s], "content": {"application/json": {"schema": _ERROR_SCHEMA}}}
            for s in statuses
        }
    }


_LOG_READ = _error_responses(401, 404)
_LOG_WRITE = _error_responses(401, 403, 404, 409, 422)


@api.get("/participants/{subject_id}/gc-doses", openapi_extra=_LOG_READ)
def gc_doses(request: HttpRequest, subject_id: str) -> dict[str, Any]:
    """The GC dose rows and the live summary (cumulative dose; taper adherence only where the role
    may see it without unblinding: ``summary.taper`` is null otherwise, ``summary.taper_note`` says why)."""
    p = svc.get_participant(request.user, subject_id)
    rows = [_record_out(r) for r in svc.list_gc_doses(request.user, p)]
    return {"rows": rows, "summary": svc.gc_log_summary(request.user, p).to_dict()}


@api.post("/participants/{subject_id}/gc-doses", openapi_extra=_LOG_WRITE)
def add_gc_dose(request: HttpRequest, subject_id: str, body: FormIn) -> dict[str, Any]:
    """A new dose row (key GC-n); change it with PUT ``/forms/GC-n/gc_dose`` (version and reason)."""
    p = svc.get_participant(request.user, subject_id)
    return _record_out(svc.add_gc_dose(request.user, p, body.data, confirm_warnings=body.confirm_warnings))


@api.get("/participants/{subject_id}/flares", openapi_extra=_LOG_READ)
def flares(request: HttpRequest, subject_id: str) -> list[dict[str, Any]]:
    """Flare assessments with their CRP PMR-AS and the Dejaco 2011 rule that fired (``derived``)."""
    p = svc.get_participant(request.user, subject_id)
    return [_record_out(r) for r in svc.list_flares(request.user, p)]


@api.post("/participants/{subject_id}/flares", openapi_extra=_LOG_WRITE)
def add_flare(request: HttpRequest, subject_id: str, body: FormIn) -> dict[str, Any]:
    """A new flare assessment (key FL-n); change it with PUT ``/forms/FL-n/flare`` (version and reason)."""
    p = svc.get_participant(request.user, subject_id)
    return _record_out(svc.add_flare(request.user, p, body.data, confirm_warnings=body.confirm_warnings))


@api.get("/participants/{subject_id}/audit")
def audit(request: HttpRequest, subject_id: str) -> list[dict[str, Any]]:
    p = svc.get_participant(request.user, subject_id)
    check_participant(request.user, "view_audit", p)
    rows = AuditEntry.objects.filter(participant=p.subject_id, restricted=False)
    return [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "object": f"{e.object_type} {e.object_id}",
            "field": e.field,
            "old": e.old_value,
            "new": e.new_value,
            "reason": e.reason,
        }
        for e in rows
    ]


def _query_out(q: Any) -> dict[str, Any]:
    return {
        "id": q.id,
        "subject_id": q.participant.subject_id,
        "key": q.key,
        "form": q.form,
        "field": q.field,
        "text": q.text,
        "state": q.state,
        "answer": q.answer or None,
    }


@api.get("/queries")
def queries(request: HttpRequest, state: str | None = None) -> list[dict[str, Any]]:
    return [_query_out(q) for q in svc.list_queries(request.user, state=state)]


@api.post("/queries")
def new_query(request: HttpRequest, body: QueryIn) -> dict[str, Any]:
    p = svc.get_participant(request.user, body.subject_id)
    return _query_out(svc.raise_query(request.user, p, body.key, body.form, body.field, body.text))


@api.post("/queries/{query_id}/answer")
def answer(request: HttpRequest, query_id: int, body: AnswerIn) -> dict[str, Any]:
    return _query_out(svc.answer_query(request.user, query_id, body.answer))


@api.post("/queries/{query_id}/close")
def close(request: HttpRequest, query_id: int) -> dict[str, Any]:
    return _query_out(svc.close_query(request.user, query_id))


@api.get("/export")
def export(request: HttpRequest) -> dict[str, Any]:
    return svc.export_json(request.user)


@api.get("/allocations")
def allocations(request: HttpRequest) -> list[dict[str, Any]]:
    return svc.get_allocation_list(request.user)


@api.get("/dashboard/missed-visits")
def missed(request: HttpRequest) -> list[dict[str, Any]]:
    today = dt.date.today()
    return [
        {
            "subject_id": v.participant.subject_id,
            "site": v.participant.site.code,
            "visit": v.code,
            "window_end": v.window_end.isoformat(),
            "days_overdue": (today - v.window_end).days,
        }
        for v in svc.missed_visits(request.user, today)
    ]
