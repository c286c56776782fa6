"""Web UI views: thin adapters over :mod:`pmrtrial.edc.services` (same permissions as the API)."""

from __future__ import annotations

import io
import json
import math
import zipfile
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
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pmrtrial.edc import services as svc
from pmrtrial.edc.accounts.permissions import can, check, check_participant, is_unblinded, visible_participants
from pmrtrial.edc.accounts.throttle import check_throttle, clear_failures, client_address, record_failed_password
from pmrtrial.edc.audit.models import AuditEntry
from pmrtrial.edc.audit.services import audit_event
from pmrtrial.edc.conf import eq5d_wording
from pmrtrial.edc.crfs.form_specs import FORMS, get_form_spec
from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.crfs.status import casebook_status, lock_level, lock_reason, study_overview
from pmrtrial.edc.errors import ConflictError, EdcError, FormInvalid, NotFound, WorkflowError
from pmrtrial.edc.queries.models import Query
from pmrtrial.edc.queries.services import QUERY_LOCKED_MESSAGES, query_actions_allowed
from pmrtrial.edc.randomisation.models import UnblindingRequest
from pmrtrial.edc.screening.models import STATUSES as STATUS_CHOICES
from pmrtrial.edc.ui.labels import form_field_words, localised, protocol_label, translate_message, variable_label


class ThrottledAuthenticationForm(AuthenticationForm):
    """Growing delays per user name and per client address (:mod:`pmrtrial.edc.accounts.throttle`)."""

    def clean(self) -> dict[str, Any]:
        username = (self.data.get("username") or "").strip()
        ip = client_address(self.request) if self.request is not None else ""
        wait = check_throttle(username, ip)
        if wait > 0:
            raise djforms.ValidationError(
                _("Too many failed attempts. Try again in %(n)d seconds.") % {"n": math.ceil(wait)}, code="throttled"
            )
        try:
            return super().clean()
        except djforms.ValidationError:
            if username:
                record_failed_password(username, ip)
            raise


class EdcLoginView(LoginView):
    template_name = "edc/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True  # `next` is checked against this host by LoginView

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        clear_failures(user.username)
        audit_event(user, "login", "user", user.username, detail={"client_ip": client_address(self.request)})
        return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_event(
            request.user, "logout", "user", request.user.username, detail={"client_ip": client_address(request)}
        )
    logout(request)
    return redirect("login")


def safe_next(request: HttpRequest, default: str = "home") -> str:
    """The ``next`` parameter if it is a path on this site, else ``default`` (no open redirects)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def edc_view(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; service errors become messages (404 for site isolation)."""

    @login_required
    @wraps(func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return func(request, *args, **kwargs)
        except NotFound as exc:
            return render(request, "edc/error.html", {"message": translate_message(str(exc))}, status=404)
        except EdcError as exc:
            if isinstance(exc, FormInvalid):
                for field, msg in {**exc.errors, **exc.warnings}.items():
                    messages.error(request, f"{_(field)}: {translate_message(msg)}")
            else:
                messages.error(request, translate_message(str(exc)))
            if exc.status == 403:
                return render(request, "edc/error.html", {"message": translate_message(str(exc))}, status=403)
            return (
                redirect(request.META.get("HTTP_REFERER") or "home")
                if request.method == "POST"
                else render(request, "edc/error.html", {"message": translate_message(str(exc))}, status=exc.status)
            )

    return wrapper


@edc_view
def home(request: HttpRequest) -> HttpResponse:
    """The study dashboard: progress by site, then every participant's visits as status cells."""
    user = request.user
    site = request.GET.get("site", "")
    status = request.GET.get("status", "")
    people = visible_participants(user)
    if site:
        people = people.filter(site__code=site)
    if status:
        people = people.filter(status=status)
    participants = list(people)
    grids = [casebook_status(p) for p in participants]
    visit_codes = [v.code for v in svc.get_protocol().visits]
    rows = [{"p": g.participant, "signature": g.signature, "cells": {r.visit.code: r for r in g.rows}} for g in grids]
    return render(
        request,
        "edc/home.html",
        {
            "rows": rows,
            "visit_codes": visit_codes,
            "overview": study_overview(user, site=site),
            "sites": sorted({p.site.code for p in visible_participants(user)}),
            "site": site,
            "status": status,
            "statuses": STATUS_CHOICES,
            "criteria_labels": _criteria_labels(),
            "can_screen": can(user, "screen"),
            "can_export": can(user, "export"),
            "study": svc.get_study(),
        },
    )


@require_POST
@edc_view
def language(request: HttpRequest) -> HttpResponse:
    svc.set_language(request.user, request.POST.get("language", "en"))
    return redirect(safe_next(request))


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
    fields = [{"f": f, "label": protocol_label(f, f.name)} for f in protocol.eligibility.fields]
    return render(
        request,
        "edc/screen.html",
        {
            "fields": fields,
            "sites": sites,
            "values": values,
            "errors": {k: translate_message(v) for k, v in errors.items()},
            "form_error": translate_message(errors["__all__"]) if "__all__" in errors else None,
        },
    )


def _criteria_labels() -> dict[str, str]:
    """Criterion id -> its short label in the active language (the id when the protocol gives none)."""
    e = svc.get_protocol().eligibility
    return {c.id: localised(c.label, c.label_fr) if c.label else c.id for c in (*e.inclusion, *e.exclusion)}


def _criteria(p: Any) -> list[dict[str, Any]]:
    """Each screening criterion as a clinician reads it: present/absent, and what that means."""
    protocol = svc.get_protocol()
    by_id = {c.id: c for c in (*protocol.eligibility.inclusion, *protocol.eligibility.exclusion)}
    out = []
    for c in p.eligibility.get("criteria", []):
        crit = by_id.get(c["id"])
        text = localised(crit.label, crit.label_fr) if crit is not None and crit.label else c["source_text"]
        if c["outcome"] == "unknown":
            present, verdict = None, "unknown"
        elif c["kind"] == "inclusion":
            present = c["outcome"] == "met"
            verdict = "included" if present else "not_included"
        else:
            present = c["outcome"] == "not_met"  # the exclusion's condition holds
            verdict = "excludes" if present else "does_not_exclude"
        out.append({**c, "text": text, "present": present, "verdict": verdict})
    return out


def _scores(p: Any) -> list[dict[str, Any]]:
    protocol = svc.get_protocol()
    derived = p.eligibility.get("derived", {})
    return [
        {"label": protocol_label(d, d.name), "value": derived.get(d.name)}
        for d in protocol.eligibility.derived
        if d.name in derived
    ]


@edc_view
def participant(request: HttpRequest, subject_id: str) -> HttpResponse:
    user = request.user
    p = svc.get_participant(user, subject_id)
    svc.view_casebook(user, p)
    book = casebook_status(p)
    saved = {(r.key, r.form): r for r in FormRecord.objects.filter(participant=p)}
    return render(
        request,
        "edc/participant.html",
        {
            "p": p,
            "book": book,
            "form_titles": [(f, get_form_spec(f).title) for f in book.forms],
            "criteria": _criteria(p),
            "scores": _scores(p),
            "aes": [r for (k, f), r in saved.items() if f == "adverse_event"],
            "logs": svc.declared_logs(svc.get_protocol(p.site.study)),
            "eos": saved.get(("EOS", "end_of_study")),
            "queries": _query_rows(user, svc.list_queries(user).filter(participant=p).select_related("raised_by")),
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
            "study": svc.get_study(),
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
        if request.POST.get("confirm") != "1":
            raise WorkflowError("Tick the confirmation box to randomise.")
        p = svc.randomise_participant(user, p)
        messages.success(
            request, _("Randomised: number %(n)s, kit %(k)s.") % {"n": p.randomisation_number, "k": p.kit_code}
        )
    elif action == "sign":
        if request.POST.get("confirm") != "1":
            raise WorkflowError("Tick the confirmation box to sign.")
        if p.randomised_on is None:
            raise WorkflowError("A casebook can be signed only after randomisation.")
        svc.sign_casebook(
            user, p, request.POST.get("password", ""), confirm_exceptions=request.POST.getlist("confirm_exception")
        )
        messages.success(request, _("Casebook signed."))
    elif action == "lock":
        svc.lock_participant(user, p)
        messages.success(request, _("Casebook locked."))
    elif action == "unlock":
        svc.unlock_participant(user, p, request.POST.get("reason", ""))
        messages.success(request, _("Casebook unlocked."))
    elif action == "verify":
        key, form = (request.POST.get("target", "") + "/").split("/")[:2]
        svc.verify_form(user, p, key, form)
        messages.success(request, _("Form verified against the source."))
        return redirect("form", subject_id=p.subject_id, key=key, form=form)
    elif action == "raise_query":
        key, form, field = (request.POST.get("target", "") + "//").split("/")[:3]
        svc.raise_query(user, p, key, form, field, request.POST.get("text", ""))
        messages.success(request, _("Query raised."))
        if request.POST.get("back") == "form":
            return redirect(reverse("form", args=[p.subject_id, key, form]) + f"#field-{field}")
    elif action == "request_unblinding":
        svc.request_unblinding(user, p, request.POST.get("reason", ""))
        messages.success(request, _("Emergency unblinding requested."))
    else:
        raise NotFound("Unknown action.")
    return redirect("participant", subject_id=p.subject_id)


def eq5d_level_wording() -> dict[str, dict[str, str]]:
    return eq5d_wording((get_language() or "en")[:2])


_RADIO_FORMS = frozenset({"haq_di", "sf36", "eq5d"})  # questionnaires: every answer visible, as on paper


def _fields_for(
    form: str,
    data: dict[str, Any],
    errors: dict[str, str],
    warnings: dict[str, str],
    threads: dict[str, list[Query]],
) -> list[Any]:
    spec = get_form_spec(form)
    wording = eq5d_level_wording() if spec.name == "eq5d" else {}
    rows = []
    previous_group = None
    for f in spec.fields:
        value = data.get(f.name)
        label, choices = form_field_words(spec.name, f)
        if wording.get(f.name):
            choices = [(c, f"{lbl}: {wording[f.name].get(c, '')}".rstrip(": ")) for c, lbl in choices]
        rows.append(
            {
                "f": f,
                "label": label,
                "value": "" if value is None else value,
                "error": translate_message(errors[f.name]) if f.name in errors else None,
                "warning": translate_message(warnings[f.name]) if f.name in warnings else None,
                "choices": choices,
                "radio": spec.name in _RADIO_FORMS and f.type == "choice",
                "heading": _(f.group) if f.group and f.group != previous_group else "",
                "queries": threads.get(f.name, []),
                "open_queries": sum(q.state != "closed" for q in threads.get(f.name, [])),
            }
        )
        previous_group = f.group
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
    can_enter = can(user, "enter_data", p.site.code) and not p.locked and not svc.get_study().locked
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


#: Forms whose PMR-AS is scored live as the user types (the flare assessment's CRP PMR-AS too).
_LIVE_FORMS = ("pmr_as", "labs", "flare")


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
            conflict = {"message": translate_message(str(exc)), "current": exc.current}
            version = exc.version or 0
        else:
            messages.success(request, _("Saved."))
            return redirect("form", subject_id=p.subject_id, key=rec.key, form=spec.name)
    threads: dict[str, list[Query]] = {}
    for q in svc.list_queries(user).filter(participant=p, key=key, form=spec.name).select_related("raised_by"):
        threads.setdefault(q.field, []).append(q)
    study = svc.get_study()
    locked_because = lock_reason(study, p, record)
    query_allowed = query_actions_allowed(locked_because["kind"] if locked_because else None)
    return render(
        request,
        "edc/form.html",
        {
            "p": p,
            "key": key,
            "spec": spec,
            "rows": _fields_for(spec.name, data, errors, warnings, threads),
            "record": record,
            "version": version,
            "errors": errors,
            "warnings": warnings,
            "conflict": conflict,
            "form_error": translate_message(errors["__all__"]) if "__all__" in errors else None,
            "form_warning": translate_message(warnings["__all__"]) if "__all__" in warnings else None,
            "reason_error": translate_message(errors["reason"]) if "reason" in errors else None,
            "needs_reason": record is not None,
            "derived": {
                k: (record.derived if record else {}).get(k)
                for k in ("crp_pmr_as", "esr_pmr_as", "crp_pmr_as_activity")
            },
            "scores": [
                (variable_label(k) or k, record.derived.get(k)) for k in spec.scored if record and k in record.derived
            ]
            if spec.name not in _LIVE_FORMS
            else [],
            "live": spec.name in _LIVE_FORMS,
            "locked_because": locked_because,
            "can_edit": can(user, "enter_data", p.site.code) and locked_because is None,
            # Query controls: the role allows them and the lock leaves them possible (queries.services).
            "can_query": can(user, "raise_query", p.site.code),
            "can_raise": can(user, "raise_query", p.site.code) and "raise" in query_allowed,
            "can_answer": can(user, "answer_query", p.site.code) and "answer" in query_allowed,
            "can_close": can(user, "close_query", p.site.code) and "close" in query_allowed,
            "can_reopen": can(user, "close_query", p.site.code) and "reopen" in query_allowed,
            "query_locked": translate_message(QUERY_LOCKED_MESSAGES[locked_because["kind"]]) if locked_because else "",
            "can_verify": record is not None and not record.verified_at and can(user, "verify", p.site.code),
            "eq5d_licensed": bool(eq5d_level_wording()) if spec.name == "eq5d" else None,
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


def _query_rows(user: Any, queries: Any) -> list[dict[str, Any]]:
    """Queries with their form title, field label, age, the lock on their form and the actions the user may take
    (the role allows them and the lock leaves them possible)."""
    now = timezone.now()
    queries = list(queries)
    study = svc.get_study()
    locked_forms = {
        (r.participant_id, r.key, r.form): r
        for r in FormRecord.objects.filter(locked=True, participant__in={q.participant_id for q in queries}).only(
            "participant_id", "key", "form", "locked"
        )
    }
    rows = []
    for q in queries:
        spec = FORMS.get(q.form)
        field = spec.get_field(q.field) if spec else None
        site = q.participant.site.code
        lock = lock_level(study, q.participant, locked_forms.get((q.participant_id, q.key, q.form)))
        allowed = query_actions_allowed(lock)
        rows.append(
            {
                "q": q,
                "form_title": _(spec.title) if spec else q.form,
                "field_label": form_field_words(spec.name, field)[0] if spec and field else q.field,
                "age_days": ((q.closed_at or now) - q.raised_at).days,
                "lock": lock,
                "can_answer": can(user, "answer_query", site) and q.raised_by_id != user.pk and "answer" in allowed,
                "can_close": can(user, "close_query", site) and "close" in allowed,
                "can_reopen": can(user, "close_query", site) and "reopen" in allowed,
            }
        )
    return rows


@edc_view
def queries(request: HttpRequest) -> HttpResponse:
    user = request.user
    state = request.GET.get("state", "")
    site = request.GET.get("site", "")
    qs = svc.list_queries(user).select_related("raised_by", "answered_by", "closed_by")
    if state:
        qs = qs.filter(state=state)
    if site:
        qs = qs.filter(participant__site__code=site)
    rows = _query_rows(user, qs.order_by("-raised_at"))
    return render(
        request,
        "edc/queries.html",
        {
            "rows": rows,
            "state": state,
            "query_states": Query.STATES,
            "site": site,
            "sites": sorted({p.site.code for p in visible_participants(user)}),
        },
    )


@require_POST
@edc_view
def query_action(request: HttpRequest, query_id: int) -> HttpResponse:
    action = request.POST.get("action")
    if action == "answer":
        q = svc.get_query(request.user, query_id)
        if q.raised_by_id == request.user.pk:
            raise WorkflowError("You raised this query: someone at the site answers it.")
        svc.answer_query(request.user, query_id, request.POST.get("answer", ""))
        messages.success(request, _("Answer saved."))
    elif action == "close":
        svc.close_query(request.user, query_id)
        messages.success(request, _("Query closed."))
    elif action == "reopen":
        svc.reopen_query(request.user, query_id, request.POST.get("text", ""))
        messages.success(request, _("Query reopened."))
    else:
        raise NotFound("Unknown action.")
    nxt = request.POST.get("next", "")
    return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else "queries")


@edc_view
def export(request: HttpRequest) -> HttpResponse:
    """Canonical datasets for the roles allowed to export (arms masked unless unblinded)."""
    check(request.user, "export")
    data = svc.build_datasets(request.user)
    what = request.GET.get("download", "")
    if what:
        tables = {"subjects": data.subjects, "visits": data.visits, "adverse_events": data.adverse_events}
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, frame in tables.items():
                if what in ("all", name):
                    zf.writestr(f"{name}.csv", frame.to_csv(index=False))
            zf.writestr("dataset.json", json.dumps(data.manifest, indent=2, default=str))
        audit_event(
            request.user,
            "export",
            "datasets",
            "web",
            detail={"tables": what, "arms_masked": data.manifest["arms_masked"], "n_subjects": len(data.subjects)},
        )
        lock = "locked" if data.manifest["locked"] else "NOT-LOCKED"
        resp = HttpResponse(buf.getvalue(), content_type="application/zip")
        resp["Content-Disposition"] = f'attachment; filename="pmrtrial-{what}-{lock}.zip"'
        return resp
    return render(
        request,
        "edc/export.html",
        {
            "manifest": data.manifest,
            "counts": [
                ("subjects", _("Participants (subjects)"), len(data.subjects)),
                ("visits", _("Visits"), len(data.visits)),
                ("adverse_events", _("Adverse events"), len(data.adverse_events)),
            ],
        },
    )


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

        from pmrtrial.io.csvsafe import safe_row

        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["seq", "at", "actor", "action", "object", "field", "old", "new", "reason", "hash"])
        for e in rows:
            w.writerow(
                safe_row(  # spreadsheet-safe text cells (pmrtrial.io.csvsafe)
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
            )
        audit_event(
            request.user, "export", "audit_trail", p.subject_id, site_code=p.site.code, participant=p.subject_id
        )
        resp = HttpResponse(buf.getvalue(), content_type="text/csv")
        resp["Content-Disposition"] = f'attachment; filename="audit-{p.subject_id}.csv"'
        return resp
    return render(request, "edc/audit.html", {"p": p, "rows": rows})
