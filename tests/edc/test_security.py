"""Permission matrix (role x site x endpoint x verb, UI and API), blinding leaks, settings."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from pmrtrial.edc import services as svc
from tests.edc.conftest import PASSWORD, candidate, randomised

ARM_WORDS = ("baricitinib", "placebo")


def _api(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def world(users: dict[str, Any]) -> dict[str, Any]:
    p1 = randomised(users, "01")
    p2 = randomised(users, "02")
    svc.save_form(users["inv1"], p1, "W2", "labs", {"crp_value": 4, "crp_unit": "mg/L", "esr_mm_h": 10})
    svc.save_form(users["inv2"], p2, "W2", "labs", {"crp_value": 4, "crp_unit": "mg/L", "esr_mm_h": 10})
    q = svc.raise_query(users["mon1"], p1, "W2", "labs", "crp_value", "check")
    tokens = {name: svc.create_token(None, name) for name in users}
    return {"p1": p1, "p2": p2, "q": q, "tokens": tokens, "users": users}


# Hand-written expectations (issue 5, "Roles and access"). Codes: 200 ok, 403 role, 404 other site.
# endpoint: (method, path template, body)
ENDPOINTS = {
    "list": ("GET", "/api/participants", None),
    "read": ("GET", "/api/participants/{sid}", None),
    "visits": ("GET", "/api/participants/{sid}/visits", None),
    "form_read": ("GET", "/api/participants/{sid}/forms/W2/labs", None),
    "form_write": ("PUT", "/api/participants/{sid}/forms/W4/labs", {"data": {"crp_value": 3, "crp_unit": "mg/L"}}),
    "query_raise": (
        "POST",
        "/api/queries",
        {"subject_id": "{sid}", "key": "W2", "form": "labs", "field": "esr_mm_h", "text": "?"},
    ),
    "audit": ("GET", "/api/participants/{sid}/audit", None),
    "export": ("GET", "/api/export", None),
    "allocations": ("GET", "/api/allocations", None),
}
OWN = {  # role -> endpoints allowed on a participant of site 01 (inv1, nurse1, mon1 are at site 01)
    "inv1": {"list", "read", "visits", "form_read", "form_write", "audit"},
    "nurse1": {"list", "read", "visits", "form_read", "form_write"},
    "mon1": {"list", "read", "visits", "form_read", "query_raise", "audit"},
    "dm": {"list", "read", "visits", "form_read", "query_raise", "audit", "export"},
    "bstat": {"list", "read", "visits", "form_read", "export"},
    "ustat": {"list", "read", "visits", "form_read", "export", "allocations"},
    "admin": {"list", "read", "visits", "form_read", "audit"},
}
SITE_SCOPED = {"inv1", "nurse1", "mon1"}
PARTICIPANT_ENDPOINTS = {"read", "visits", "form_read", "form_write", "query_raise", "audit"}


def _call(client: Client, token: str, endpoint: str, sid: str) -> Any:
    method, path, body = ENDPOINTS[endpoint]
    path = path.format(sid=sid)
    kwargs = _api(token)
    if body is None:
        return client.generic(method, path, **kwargs)
    text = json.dumps(body).replace("{sid}", sid)
    return client.generic(method, path, text, content_type="application/json", **kwargs)


def test_api_permission_matrix(world: dict[str, Any]) -> None:
    client = Client()
    failures = []
    for user, allowed in OWN.items():
        for endpoint in ENDPOINTS:
            for site, p in (("01", world["p1"]), ("02", world["p2"])):
                if endpoint not in PARTICIPANT_ENDPOINTS and site == "02":
                    continue
                if endpoint in allowed:
                    expected = 404 if (user in SITE_SCOPED and site == "02") else 200
                else:
                    expected = 404 if (user in SITE_SCOPED and site == "02") else 403
                got = _call(client, world["tokens"][user], endpoint, p.subject_id).status_code
                if endpoint == "form_write" and got == 200:  # start the next writer from an empty form
                    from pmrtrial.edc.crfs.models import FormRecord

                    FormRecord.objects.filter(key="W4").delete()
                if got != expected:
                    failures.append((user, endpoint, site, expected, got))
    assert failures == []
    # site isolation in lists: a site user sees only their site
    body = client.get("/api/participants", **_api(world["tokens"]["inv1"])).json()
    assert {r["site"] for r in body} == {"01"}
    assert client.get("/api/participants").status_code == 401


def test_ui_permission_matrix(world: dict[str, Any]) -> None:
    p1, p2 = world["p1"].subject_id, world["p2"].subject_id
    pages = {  # path -> users allowed (others: 403 for role, 404 for another site)
        f"/p/{p1}/": set(OWN),
        f"/p/{p1}/f/W2/labs/": set(OWN),
        f"/p/{p1}/audit/": {"inv1", "mon1", "dm", "admin"},
        "/screen/": {"inv1", "nurse1"},
        "/database/": {"dm"},
    }
    failures = []
    for user in OWN:
        client = Client()
        assert client.login(username=user, password=PASSWORD)
        for path, allowed in pages.items():
            got = client.get(path).status_code
            if got != (200 if user in allowed else 403):
                failures.append((user, path, got))
        got = client.get(f"/p/{p2}/").status_code
        if got != (404 if user in SITE_SCOPED else 200):
            failures.append((user, f"/p/{p2}/", got))
        # POST a form save: only data-entry roles of the site
        r = client.post(f"/p/{p1}/f/W8/labs/", {"version": "0", "crp_value": "3", "crp_unit": "mg/L"})
        saved = svc.get_form(world["users"]["dm"], world["p1"], "W8", "labs") is not None
        if user in ("inv1", "nurse1"):
            ok = r.status_code == 302 and saved
            from pmrtrial.edc.crfs.models import FormRecord

            FormRecord.objects.filter(key="W8").delete()
        else:
            ok = r.status_code in (302, 403) and not saved
        if not ok:
            failures.append((user, "POST W8 labs", r.status_code))
    assert failures == []


def _walk(client: Client, sid: str, headers: dict[str, str] | None = None) -> list[str]:
    texts = []
    for path in [
        "/",
        "/queries/",
        "/unblinding/",
        f"/p/{sid}/",
        f"/p/{sid}/audit/",
        f"/p/{sid}/audit/?format=csv",
        "/screen/",
        "/database/",
    ]:
        texts.append(client.get(path).content.decode())
    from pmrtrial.edc.crfs.services import forms_for_visit

    for code in ("W0", "W2", "W4", "W12", "W36"):
        for form in forms_for_visit(code):
            texts.append(client.get(f"/p/{sid}/f/{code}/{form}/").content.decode())
    return texts


def test_no_allocation_leaks_to_blinded_roles(world: dict[str, Any]) -> None:
    users = world["users"]
    p1 = world["p1"]
    svc.save_form(users["inv1"], p1, "W0", "study_drug", {"kit_code": p1.kit_code})
    svc.get_allocation_list(users["ustat"])  # unblinded read happens, must not show up for others
    client = Client()
    for user in ("inv1", "nurse1", "mon1", "dm", "bstat", "admin"):
        assert client.login(username=user, password=PASSWORD)
        texts = _walk(client, p1.subject_id)
        token = world["tokens"][user]
        for path in (
            "/api/participants",
            f"/api/participants/{p1.subject_id}",
            f"/api/participants/{p1.subject_id}/visits",
            f"/api/participants/{p1.subject_id}/audit",
            f"/api/participants/{p1.subject_id}/forms/W0/study_drug",
            "/api/queries",
            "/api/export",
            "/api/allocations",
            "/api/openapi.json",
        ):
            texts.append(client.get(path, **_api(token)).content.decode())
        joined = "\n".join(texts).lower()
        for word in ARM_WORDS:
            assert word not in joined, (user, word)
        client.logout()
    # positive control: the unblinded statistician does see arms
    r = Client().get("/api/allocations", **_api(world["tokens"]["ustat"]))
    assert any(w in r.content.decode().lower() for w in ARM_WORDS)


def test_live_score_endpoint_and_language(world: dict[str, Any]) -> None:
    client = Client()
    assert client.login(username="inv1", password=PASSWORD)
    sid = world["p1"].subject_id
    r = client.post(
        f"/p/{sid}/f/W2/pmr_as/preview/",
        json.dumps(
            {"pain_vas": "2", "physician_global_vas": "1", "morning_stiffness_min": "10", "upper_limb_elevation": "0"}
        ),
        content_type="application/json",
    )
    # W2 labs CRP 4 mg/L: 2 + 1 + 1 + 0 + 0.4 = 4.4
    assert r.json()["derived"]["crp_pmr_as"] == pytest.approx(4.4)
    client.post("/language/", {"language": "fr"})
    page = client.get(f"/p/{sid}/").content.decode()
    assert "Visites et formulaires" in page and "Visits and forms" not in page


def test_security_settings_and_headers(world: dict[str, Any]) -> None:
    from django.conf import settings

    import pmrtrial.edc.settings as edc_settings

    assert edc_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert settings.SESSION_COOKIE_HTTPONLY and settings.SESSION_COOKIE_AGE == 1800
    assert edc_settings.SESSION_COOKIE_SECURE and edc_settings.CSRF_COOKIE_SECURE
    r = Client().get("/login/")
    assert r["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in r["Content-Security-Policy"]
    assert r["X-Content-Type-Options"] == "nosniff"
    # CSRF is enforced on the UI
    c = Client(enforce_csrf_checks=True)
    assert c.post("/login/", {"username": "inv1", "password": PASSWORD}).status_code == 403


def test_login_throttling(world: dict[str, Any]) -> None:
    c = Client()
    for _ in range(5):
        c.post("/login/", {"username": "inv1", "password": "wrong-password"})
    r = c.post("/login/", {"username": "inv1", "password": PASSWORD})
    assert r.status_code == 200 and "Too many failed attempts" in r.content.decode()


def test_openapi_document(world: dict[str, Any]) -> None:
    r = Client().get("/api/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/participants/{subject_id}/forms/{key}/{form}" in paths and "/api/queries" in paths


def test_consent_date_validation(world: dict[str, Any]) -> None:
    p = svc.screen_participant(world["users"]["inv1"], "01", candidate())
    from pmrtrial.edc.errors import FormInvalid

    with pytest.raises(FormInvalid):
        svc.record_consent(world["users"]["inv1"], p, "1.0", dt.date.today() + dt.timedelta(days=3))
