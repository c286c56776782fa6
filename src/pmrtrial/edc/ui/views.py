"""Web UI views: thin adapters over :mod:`pmrtrial.edc.services` (same permissions as the API)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms as djforms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pmrtrial.edc import services as svc
from pmrtrial.edc.accounts.permissions import can, check, check_participant, is_unblinded, visible_participants
from pmrtrial.edc.accounts.services import is_login_locked, record_failed_login
from pmrtrial.edc.audit.models import AuditEntry
from pmrtrial.edc.audit.services import audit_event
from pmrtrial.edc.crfs.form_specs import get_form_spec
from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.errors import ConflictError, EdcError, FormInvalid, NotFound
from pmrtrial.edc.randomisation.models import UnblindingRequest
from pmrtrial.edc.visits.models import Visit


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self) -> dict[str, Any]:
        username = (self.data.get("username") or "").strip()
        if username and is_login_locked(username):
            raise djforms.ValidationError(_("Too many failed attempts. Try again in 15 minutes."), code="throttled")
        try:
            return super().clean()
        except djforms.ValidationError:
            if username:
                record_failed_login(username)
            raise


class EdcLoginView(LoginView):
    template_name = "edc/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("login")


def edc_view(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; service errors become messages (404 for site isolation)."""

    @login_required
    @wraps(func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return func(request, *args, **kwargs)
        except NotFound as exc:
            return render(request, "edc/error.html", {"message": str(exc)}, status=404)
        except EdcError as exc:
            if isinstance(exc, FormInvalid):
                for field, msg in {**exc.errors, **exc.warnings}.items():
                    messages.error(request, f"{field}: {msg}")
            else:
                messages.error(request, str(exc))
            if exc.status == 403:
                return render(request, "edc/error.html", {"message": str(exc)}, status=403)
            return (
                redirect(request.META.get("HTTP_REFERER") or "home")
                if request.method == "POST"
                else render(request, "edc/error.html", {"message": str(exc)}, status=exc.status)
            )

    return wrapper


@edc_view
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    participants = list(visible_participants(user))
    return render(
        request,
        "edc/home.html",
        {
            "participants": participants,
            "missed": svc.missed_visits(user),
            "open_queries": svc.list_queries(user, state="open").count(),
            "can_screen": can(user, "screen"),
            "study": svc.get_study(),
        },
    )


@require_POST
@edc_view
def language(request: HttpRequest) -> HttpResponse:
    svc.set_language(request.user, request.POST.get("language", "en"))
    return redirect(request.POST.get("next") or "home")


@edc_view
def screen(request: HttpRequest) -> HttpResponse:
    check(request.user, "screen")
    protocol = svc.get_protocol()
    sites = [s for s in svc.get_study().sites.all() if can(request.user, "screen", s.code)]
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {f.name: request.POST.get(f.name, "") for f in protocol.eligibility.fields}
        try:
            p = svc.screen_participant(request.user, request.POST.get("site", ""), values)
        except FormInvalid as exc:
            errors = exc.errors
        else:
            return redirect("participant", subject_id=p.subject_id)
    return render(
        request,
        "edc/screen.html",
        {"fields": protocol.eligibility.fields, "sites": sites, "values": values, "errors": errors},
    )


@edc_view
def participant(request: HttpRequest, subject_id: str) -> HttpResponse:
    user = request.user
    p = svc.get_participant(user, subject_id)
    svc.view_casebook(user, p)
    visits = [(v, svc.visit_status(v), svc.forms_for_visit(v.code)) for v in Visit.objects.filter(participant=p)]
    saved = {(r.key, r.form): r for r in FormRecord.objects.filter(participant=p)}
    visit_rows = [
        {"visit": v, "status": st, "forms": [(f, saved.get((v.code, f))) for f in fs]} for v, st, fs in visits
    ]
    return render(
        request,
        "edc/participant.html",
        {
            "p": p,
            "failed": p.eligibility.get("failed", []),
            "visit_rows": visit_rows,
            "aes": [r for (k, f), r in saved.items() if f == "adverse_event"],
            "logs": svc.declared_logs(svc.get_protocol(p.site.study)),
            "eos": saved.get(("EOS", "end_of_study")),
            "queries": svc.list_queries(user).filter(participant=p),
            "can": {
                a: can(user, a, p.site.code)
                for a in (
                    "consent",
                    "randomise",
                    "enter_data",
                    "raise_query",
                    "answer_query",
                    "close_query",
                    "lock",
                    "unlock",
                    "sign",
                    "request_unblinding",
                    "view_audit",
                )
            },
            "consents": p.consents.all(),
            "signature_meaning": svc.SIGNATURE_MEANING,
            "sign_exceptions": svc.signature_exceptions(p) if can(user, "sign", p.site.code) else [],
        },
    )


@require_POST
@edc_view
def participant_action(request: HttpRequest, subject_id: str) -> HttpResponse:
    user = request.user
    p = svc.get_participant(user, subject_id)
    action = request.POST.get("action")
    if action == "consent":
        svc.record_consent(user, p, request.POST.get("version", ""), request.POST.get("consented_on", ""))
        messages.success(request, _("Consent recorded."))
    elif action == "randomise":
        p = svc.randomise_participant(user, p)
        messages.success(
            request, _("Randomised: number %(n)s, kit %(k)s.") % {"n": p.randomisation_number, "k": p.kit_code}
        )
    elif action == "sign":
        svc.sign_casebook(
            user, p, request.POST.get("password", ""), confirm_exceptions=request.POST.getlist("confirm_exception")
        )
        messages.success(request, _("Casebook signed."))
    elif action == "lock":
        svc.lock_participant(user, p)
    elif action == "unlock":
        svc.unlock_participant(user, p, request.POST.get("reason", ""))
    elif action == "raise_query":
        key, form, field = (request.POST.get("target", "") + "//").split("/")[:3]
        svc.raise_query(user, p, key, form, field, request.POST.get("text", ""))
        messages.success(request, _("Query raised."))
    elif action == "request_unblinding":
        svc.request_unblinding(user, p, request.POST.get("reason", ""))
        messages.success(request, _("Emergency unblinding requested."))
    else:
        raise NotFound("Unknown action.")
    return redirect("participant", subject_id=p.subject_id)


def _fields_for(form: str, data: dict[str, Any], errors: dict[str, str], warnings: dict[str, str]) -> list[Any]:
    spec = get_form_spec(form)
    rows = []
    for f in spec.fields:
        value = data.get(f.name)
        rows.append(
            {
                "f": f,
                "value": "" if value is None else value,
                "error": errors.get(f.name),
                "warning": warnings.get(f.name),
                "choices": [(str(c), lbl) for c, lbl in f.choices],
            }
        )
    return rows


#: Keys of a not-yet-saved log record, and the service adding it.
_NEW_RECORD: dict[tuple[str, str], Callable[..., FormRecord]] = {
    ("AE-new", "adverse_event"): svc.add_adverse_event,
    ("GC-new", "gc_dose"): svc.add_gc_dose,
    ("FL-new", "flare"): svc.add_flare,
}


def _log_page(request: HttpRequest, subject_id: str, log: str, template: str, **context: Any) -> HttpResponse:
    """A participant's page of a declared log (``gc_doses``, ``flares``); ``context`` values may be
    callables of (user, participant), evaluated after the participant check."""
    user = request.user
    p = svc.get_participant(user, subject_id)
    if log not in svc.declared_logs(svc.get_protocol(p.site.study)):
        raise NotFound(f"The protocol does not capture {log}.")
    values = {k: (v(user, p) if callable(v) else v) for k, v in context.items()}
    can_enter = can(user, "enter_data", p.site.code) and not p.locked
    return render(request, template, {"p": p, "can_enter": can_enter, **values})


@edc_view
def gc_log(request: HttpRequest, subject_id: str) -> HttpResponse:
    """The participant's GC dose rows, cumulative dose and (where it reveals no arm to this role) taper adherence."""
    return _log_page(
        request,
        subject_id,
        "gc_doses",
        "edc/gc_log.html",
        rows=svc.list_gc_doses,
        summary=lambda user, p: svc.gc_log_summary(user, p) if p.randomised_on else None,
    )


_DEJACO_RULES = {
    "both": gettext_lazy("both (score above 9.35 and rise above 6.6)"),
    "absolute": gettext_lazy("score above 9.35"),
    "change": gettext_lazy("rise above 6.6 over the reference"),
    "none": gettext_lazy("neither rule"),
}


@edc_view
def flares(request: HttpRequest, subject_id: str) -> HttpResponse:
    """The participant's flare assessments: CRP PMR-AS, the Dejaco 2011 rule that fired, the judgement."""
    return _log_page(
        request,
        subject_id,
        "flares",
        "edc/flares.html",
        rows=lambda user, p: [
            (r, _DEJACO_RULES.get(r.derived.get("dejaco_rule"), "—")) for r in svc.list_flares(user, p)
        ],
    )


@edc_view
def form(request: HttpRequest, subject_id: str, key: str, form: str) -> HttpResponse:
    user = request.user
    p = svc.get_participant(user, subject_id)
    spec = get_form_spec(form)
    adder = _NEW_RECORD.get((key, spec.name))
    if key.endswith("-new") and adder is None:
        raise NotFound("No such form record.")
    record = None if adder is not None else svc.get_form(user, p, key, spec.name)
    data: dict[str, Any] = dict(record.data) if record else {}
    version = record.version if record else 0
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    conflict = None
    if request.method == "POST":
        data = {f.name: request.POST.get(f.name, "") for f in spec.fields}
        if any(f.type == "bool" for f in spec.fields):
            for f in spec.fields:
                if f.type == "bool" and data[f.name] == "":
                    data[f.name] = ""
        confirm = request.POST.get("confirm_warnings") == "1"
        try:
            if adder is not None:
                rec = adder(user, p, data, confirm_warnings=confirm)
            else:
                rec = svc.save_form(
                    user,
                    p,
                    key,
                    spec.name,
                    data,
                    expected_version=int(request.POST.get("version", 0)),
                    reason=request.POST.get("reason", ""),
                    confirm_warnings=confirm,
                )
        except FormInvalid as exc:
            errors, warnings = exc.errors, exc.warnings
        except ConflictError as exc:
            conflict = {"message": str(exc), "current": exc.current}
            version = exc.version or 0
        else:
            messages.success(request, _("Saved."))
            return redirect("form", subject_id=p.subject_id, key=rec.key, form=spec.name)
    return render(
        request,
        "edc/form.html",
        {
            "p": p,
            "key": key,
            "spec": spec,
            "rows": _fields_for(spec.name, data, errors, warnings),
            "record": record,
            "version": version,
            "errors": errors,
            "warnings": warnings,
            "conflict": conflict,
            "form_error": errors.get("__all__"),
            "form_warning": warnings.get("__all__"),
            "needs_reason": record is not None,
            "derived": record.derived if record else {},
            "live": spec.name in ("pmr_as", "labs", "flare"),
            "can_edit": can(user, "enter_data", p.site.code) and not p.locked and not (record and record.locked),
            "can_query": can(user, "raise_query", p.site.code),
        },
    )


@require_POST
@edc_view
def preview(request: HttpRequest, subject_id: str, key: str, form: str) -> HttpResponse:
    p = svc.get_participant(request.user, subject_id)
    try:
        data = json.loads(request.body or b"{}")
    except json.JSONDecodeError:
        return JsonResponse({"detail": "invalid JSON"}, status=400)
    outcome = svc.preview_form(request.user, p, key, form, {k: v for k, v in data.items() if v != ""})
    return JsonResponse({"derived": outcome.derived, "errors": outcome.errors, "warnings": outcome.warnings})


@edc_view
def queries(request: HttpRequest) -> HttpResponse:
    qs = svc.list_queries(request.user)
    return render(request, "edc/queries.html", {"queries": qs})


@require_POST
@edc_view
def query_action(request: HttpRequest, query_id: int) -> HttpResponse:
    action = request.POST.get("action")
    if action == "answer":
        svc.answer_query(request.user, query_id, request.POST.get("answer", ""))
    elif action == "close":
        svc.close_query(request.user, query_id)
    else:
        raise NotFound("Unknown action.")
    return redirect("queries")


@edc_view
def unblinding(request: HttpRequest) -> HttpResponse:
    user = request.user
    revealed = None
    if request.method == "POST":
        rid = int(request.POST.get("request_id", "0"))
        action = request.POST.get("action")
        if action in ("approve", "reject"):
            svc.approve_unblinding(user, rid, approve=action == "approve", reason=request.POST.get("reason", ""))
        elif action == "reveal":
            revealed = svc.reveal_allocation(user, rid)
    mine = UnblindingRequest.objects.filter(requested_by=user).select_related("participant")
    pending = (
        UnblindingRequest.objects.filter(state="requested").select_related("participant")
        if can(user, "approve_unblinding")
        else UnblindingRequest.objects.none()
    )
    return render(request, "edc/unblinding.html", {"mine": mine, "pending": pending, "revealed": revealed})


@edc_view
def database(request: HttpRequest) -> HttpResponse:
    check(request.user, "lock")
    if request.method == "POST":
        if request.POST.get("action") == "lock":
            svc.lock_database(request.user)
        else:
            svc.unlock_database(request.user, request.POST.get("reason", ""))
        return redirect("database")
    return render(request, "edc/database.html", {"study": svc.get_study(), "chain": svc.verify_audit_chain()})


@edc_view
def audit(request: HttpRequest, subject_id: str) -> HttpResponse:
    p = svc.get_participant(request.user, subject_id)
    check_participant(request.user, "view_audit", p)
    rows = AuditEntry.objects.filter(participant=p.subject_id)
    if not is_unblinded(request.user):
        rows = rows.filter(restricted=False)
    if request.GET.get("format") == "csv":
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["seq", "at", "actor", "action", "object", "field", "old", "new", "reason", "hash"])
        for e in rows:
            w.writerow(
                [
                    e.seq,
                    e.at.isoformat(),
                    e.actor,
                    e.action,
                    f"{e.object_type} {e.object_id}",
                    e.field,
                    e.old_value,
                    e.new_value,
                    e.reason,
                    e.entry_hash,
                ]
            )
        audit_event(
            request.user, "export", "audit_trail", p.subject_id, site_code=p.site.code, participant=p.subject_id
        )
        resp = HttpResponse(buf.getvalue(), content_type="text/csv")
        resp["Content-Disposition"] = f'attachment; filename="audit-{p.subject_id}.csv"'
        return resp
    return render(request, "edc/audit.html", {"p": p, "rows": rows})
