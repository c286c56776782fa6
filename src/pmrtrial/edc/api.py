"""JSON API under ``/api/`` (django-ninja; OpenAPI at ``/api/openapi.json``).

Authentication: ``Authorization: Bearer <token>`` (``pmrtrial edc token USERNAME``). Every
endpoint calls the same service functions as the web UI, so roles, site isolation, blinding,
locking and audit are identical.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError, ValidationError
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
log = logging.getLogger("pmrtrial.edc.api")

# -- the error contract ---------------------------------------------------------------------------
#
# Every error is JSON ``{"code": ..., "detail": ...}``; ``code`` is stable (branch on it), ``detail`` is
# for people. Service errors carry their code (:mod:`pmrtrial.edc.errors`); the others are below.
# Validation errors add ``errors``/``warnings`` (field -> message), conflicts add ``current``/``version``.

ERROR_CODES: dict[int, tuple[str, ...]] = {
    400: ("bad_request",),
    401: ("unauthenticated",),
    403: ("permission_denied",),
    404: ("not_found",),
    405: ("method_not_allowed",),
    409: ("workflow", "locked", "conflict"),
    413: ("too_large",),
    422: ("invalid", "validation"),
    500: ("server_error",),
}
_DESCRIPTIONS = {
    400: "Bad request (body not JSON, or a value the study cannot accept)",
    401: "Missing or invalid Bearer token",
    403: "The user's role or sites do not allow this action",
    404: (
        "No such participant, visit, form or query (another site's participant is not found), "
        "or a log the protocol does not capture"
    ),
    409: "Workflow state, lock or lost-update conflict (the current values come back)",
    413: "Request body larger than the server accepts",
    422: "Invalid values (field -> message in `errors`) or a malformed request (`detail` lists the problems)",
}
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "detail"],
    "properties": {
        "code": {"type": "string", "enum": sorted({c for codes in ERROR_CODES.values() for c in codes})},
        "detail": {},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
        "warnings": {"type": "object", "additionalProperties": {"type": "string"}},
        "current": {"type": "object"},
        "version": {"type": ["integer", "null"]},
    },
}
READ = (401, 403, 404)
WRITE = (400, 401, 403, 404, 409, 413, 422)


def errors(*statuses: int) -> dict[str, Any]:
    """``openapi_extra`` declaring the error responses an operation can give."""
    return {
        "responses": {
            s: {"description": _DESCRIPTIONS[s], "content": {"application/json": {"schema": _ERROR_SCHEMA}}}
            for s in statuses
        }
    }


def error_response(request: HttpRequest, status: int, code: str, detail: Any, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"code": code, "detail": detail, **extra}, status=status)


@api.exception_handler(EdcError)
def _edc_error(request: HttpRequest, exc: EdcError) -> HttpResponse:
    extra: dict[str, Any] = {}
    if isinstance(exc, FormInvalid):
        extra.update(errors=exc.errors, warnings=exc.warnings)
    if isinstance(exc, ConflictError):
        extra.update(current=exc.current, version=exc.version)
    return error_response(request, exc.status, exc.code, str(exc), **extra)


@api.exception_handler(PmrTrialError)
def _core_error(request: HttpRequest, exc: PmrTrialError) -> HttpResponse:
    return error_response(request, 400, "bad_request", str(exc))


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(request, 422, "validation", exc.errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = ERROR_CODES.get(exc.status_code, ("bad_request",))[0]
    return error_response(request, exc.status_code, code, exc.message)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", "Not found.")


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(request, 413, "too_large", f"Request body larger than {limit} bytes.")


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.error("Internal error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(request, 500, "server_error", "Internal error; the server log has the details.")


def not_found_json(request: HttpRequest, rest: str = "") -> HttpResponse:
    """``/api/<anything unknown>``: the same JSON 404 as the API (not Django's HTML page)."""
    return JsonResponse({"code": "not_found", "detail": f"No API endpoint /api/{rest}."}, status=404)


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


@api.get("/participants", openapi_extra=errors(401))
def list_participants(request: HttpRequest) -> list[dict[str, Any]]:
    return [_participant_out(p) for p in visible_participants(request.user)]


@api.post("/participants/screen", openapi_extra=errors(*WRITE))
def screen(request: HttpRequest, body: ScreenIn) -> dict[str, Any]:
    return _participant_out(svc.screen_participant(request.user, body.site, body.data))


@api.get("/participants/{subject_id}", openapi_extra=errors(*READ))
def participant(request: HttpRequest, subject_id: str) -> dict[str, Any]:
    p = svc.get_participant(request.user, subject_id)
    svc.view_casebook(request.user, p)
    return _participant_out(p)


@api.post("/participants/{subject_id}/consent", openapi_extra=errors(*WRITE))
def consent(request: HttpRequest, subject_id: str, body: ConsentIn) -> dict[str, Any]:
    p = svc.get_participant(request.user, subject_id)
    svc.record_consent(request.user, p, body.version, body.consented_on)
    p.refresh_from_db()
    return _participant_out(p)


@api.post("/participants/{subject_id}/randomise", openapi_extra=errors(400, 401, 403, 404, 409))
def randomise(request: HttpRequest, subject_id: str) -> dict[str, Any]:
    p = svc.get_participant(request.user, subject_id)
    return _participant_out(svc.randomise_participant(request.user, p))


@api.get("/participants/{subject_id}/visits", openapi_extra=errors(*READ))
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


@api.get("/participants/{subject_id}/forms/{key}/{form}", openapi_extra=errors(*READ))
def get_form(request: HttpRequest, subject_id: str, key: str, form: str) -> dict[str, Any]:
    p = svc.get_participant(request.user, subject_id)
    rec = svc.get_form(request.user, p, key, form)
    if rec is None:
        return {"key": key, "form": form, "data": None, "derived": {}, "version": 0, "locked": False}
    return _record_out(rec)


@api.put("/participants/{subject_id}/forms/{key}/{form}", openapi_extra=errors(*WRITE))
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


@api.post("/participants/{subject_id}/forms/{key}/{form}/preview", openapi_extra=errors(*WRITE))
def preview(request: HttpRequest, subject_id: str, key: str, form: str, body: PreviewIn) -> dict[str, Any]:
    p = svc.get_participant(request.user, subject_id)
    return svc.preview_form(request.user, p, key, form, body.data).to_dict()


@api.post("/participants/{subject_id}/adverse-events", openapi_extra=errors(*WRITE))
def add_ae(request: HttpRequest, subject_id: str, body: FormIn) -> dict[str, Any]:
    p = svc.get_participant(request.user, subject_id)
    return _record_out(svc.add_adverse_event(request.user, p, body.data, confirm_warnings=body.confirm_warnings))


@api.get("/participants/{subject_id}/gc-doses", openapi_extra=errors(*READ))
def gc_doses(request: HttpRequest, subject_id: str) -> dict[str, Any]:
    """The GC dose rows and the live summary (cumulative dose; taper adherence only where the role
    may see it without unblinding: ``summary.taper`` is null otherwise, ``summary.taper_note`` says why)."""
    p = svc.get_participant(request.user, subject_id)
    rows = [_record_out(r) for r in svc.list_gc_doses(request.user, p)]
    return {"rows": rows, "summary": svc.gc_log_summary(request.user, p).to_dict()}


@api.post("/participants/{subject_id}/gc-doses", openapi_extra=errors(*WRITE))
def add_gc_dose(request: HttpRequest, subject_id: str, body: FormIn) -> dict[str, Any]:
    """A new dose row (key GC-n); change it with PUT ``/forms/GC-n/gc_dose`` (version and reason)."""
    p = svc.get_participant(request.user, subject_id)
    return _record_out(svc.add_gc_dose(request.user, p, body.data, confirm_warnings=body.confirm_warnings))


@api.get("/participants/{subject_id}/flares", openapi_extra=errors(*READ))
def flares(request: HttpRequest, subject_id: str) -> list[dict[str, Any]]:
    """Flare assessments with their CRP PMR-AS and the Dejaco 2011 rule that fired (``derived``)."""
    p = svc.get_participant(request.user, subject_id)
    return [_record_out(r) for r in svc.list_flares(request.user, p)]


@api.post("/participants/{subject_id}/flares", openapi_extra=errors(*WRITE))
def add_flare(request: HttpRequest, subject_id: str, body: FormIn) -> dict[str, Any]:
    """A new flare assessment (key FL-n); change it with PUT ``/forms/FL-n/flare`` (version and reason)."""
    p = svc.get_participant(request.user, subject_id)
    return _record_out(svc.add_flare(request.user, p, body.data, confirm_warnings=body.confirm_warnings))


@api.get("/participants/{subject_id}/audit", openapi_extra=errors(*READ))
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


@api.get("/queries", openapi_extra=errors(*READ))
def queries(request: HttpRequest, state: str | None = None) -> list[dict[str, Any]]:
    return [_query_out(q) for q in svc.list_queries(request.user, state=state)]


@api.post("/queries", openapi_extra=errors(*WRITE))
def new_query(request: HttpRequest, body: QueryIn) -> dict[str, Any]:
    p = svc.get_participant(request.user, body.subject_id)
    return _query_out(svc.raise_query(request.user, p, body.key, body.form, body.field, body.text))


@api.post("/queries/{query_id}/answer", openapi_extra=errors(*WRITE))
def answer(request: HttpRequest, query_id: int, body: AnswerIn) -> dict[str, Any]:
    return _query_out(svc.answer_query(request.user, query_id, body.answer))


@api.post("/queries/{query_id}/close", openapi_extra=errors(400, 401, 403, 404, 409, 422))
def close(request: HttpRequest, query_id: int) -> dict[str, Any]:
    return _query_out(svc.close_query(request.user, query_id))


@api.get("/export", openapi_extra=errors(401, 403))
def export(request: HttpRequest) -> dict[str, Any]:
    return svc.export_json(request.user)


@api.get("/allocations", openapi_extra=errors(401, 403))
def allocations(request: HttpRequest) -> list[dict[str, Any]]:
    return svc.get_allocation_list(request.user)


@api.get("/dashboard/missed-visits", openapi_extra=errors(401, 403))
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
