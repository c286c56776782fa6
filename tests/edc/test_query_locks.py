"""Queries and locks, on SQLite and PostgreSQL: raising, answering and reopening a query need the form, the
casebook and the database unlocked; closing needs only the database unlocked (policy and reasons in
``pmrtrial.edc.queries.services``). The service refuses, the API answers 409 ``locked``, the UI offers only
what the service allows and says why."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from pmrtrial.edc import services as svc
from pmrtrial.edc.audit.models import AuditEntry
from pmrtrial.edc.errors import LockedError
from pmrtrial.edc.queries.models import Query
from pmrtrial.edc.queries.services import QUERY_LOCKED_MESSAGES
from tests.edc.conftest import PASSWORD, randomised

LABS = {"crp_value": 4, "crp_unit": "mg/L", "esr_mm_h": 10}


@pytest.fixture
def world(users: dict[str, Any]) -> dict[str, Any]:
    p = randomised(users)
    svc.save_form(users["inv1"], p, "W2", "labs", LABS)
    return {"p": p, "users": users}


def _lock(world: dict[str, Any], level: str) -> Callable[[], None]:
    """Take the lock at ``level``; return the unlock."""
    p, dm = world["p"], world["users"]["dm"]
    if level == "form":
        svc.lock_form(dm, p, "W2", "labs")
        return lambda: svc.unlock_form(dm, p, "W2", "labs", "query to raise")
    if level == "casebook":
        svc.lock_participant(dm, p)
        return lambda: svc.unlock_participant(dm, p, "query to raise")
    svc.lock_database(dm)
    return lambda: svc.unlock_database(dm, "query to raise")


LEVELS = ("form", "casebook", "database")


@pytest.mark.parametrize("level", LEVELS)
def test_raise_is_refused_on_a_lock_and_nothing_is_written(world: dict[str, Any], level: str) -> None:
    p, u = world["p"], world["users"]
    unlock = _lock(world, level)
    n_queries, n_audit = Query.objects.count(), AuditEntry.objects.count()
    with pytest.raises(LockedError) as exc:
        svc.raise_query(u["mon1"], p, "W2", "labs", "crp_value", "Please check the unit")
    assert (exc.value.status, exc.value.code) == (409, "locked")
    assert str(exc.value) == QUERY_LOCKED_MESSAGES[level]
    assert (Query.objects.count(), AuditEntry.objects.count()) == (n_queries, n_audit)
    unlock()
    q = svc.raise_query(u["mon1"], p, "W2", "labs", "crp_value", "Please check the unit")
    assert q.state == "open"


def test_a_lock_on_another_form_does_not_refuse(world: dict[str, Any]) -> None:
    p, u = world["p"], world["users"]
    svc.save_form(u["inv1"], p, "W4", "labs", LABS)
    svc.lock_form(u["dm"], p, "W4", "labs")
    assert svc.raise_query(u["mon1"], p, "W2", "labs", "crp_value", "?").state == "open"


@pytest.mark.parametrize("level", LEVELS)
def test_answer_and_reopen_are_refused_close_only_before_database_lock(world: dict[str, Any], level: str) -> None:
    p, u = world["p"], world["users"]
    q_open = svc.raise_query(u["mon1"], p, "W2", "labs", "crp_value", "Please check the unit")
    q_answered = svc.raise_query(u["mon1"], p, "W2", "labs", "esr_mm_h", "ESR?")
    svc.answer_query(u["nurse1"], q_answered.id, "Checked")
    q_closed = svc.raise_query(u["mon1"], p, "W2", "labs", "crp_unit", "Unit?")
    svc.close_query(u["mon1"], q_closed.id)
    unlock = _lock(world, level)
    n_audit = AuditEntry.objects.count()
    with pytest.raises(LockedError, match="locked"):
        svc.answer_query(u["nurse1"], q_open.id, "Corrected")
    with pytest.raises(LockedError, match="locked"):
        svc.reopen_query(u["mon1"], q_closed.id, "Still wrong")
    assert AuditEntry.objects.count() == n_audit
    if level == "database":
        with pytest.raises(LockedError, match="database is locked"):
            svc.close_query(u["mon1"], q_answered.id)
        assert Query.objects.get(pk=q_answered.pk).state == "answered"
    else:
        # Closing changes no data: allowed on a locked form or casebook, and audited.
        assert svc.close_query(u["mon1"], q_answered.id).state == "closed"
        states = AuditEntry.objects.filter(object_type="query", object_id=str(q_answered.pk), field="state")
        assert [e.new_value for e in states.order_by("seq")] == ["open", "answered", "closed"]
    assert Query.objects.get(pk=q_open.pk).state == "open" and Query.objects.get(pk=q_closed.pk).state == "closed"
    unlock()
    assert svc.answer_query(u["nurse1"], q_open.id, "Corrected").state == "answered"
    assert svc.reopen_query(u["mon1"], q_closed.id, "Still wrong").state == "open"


# -- API ------------------------------------------------------------------------------------------


def _auth(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_api_answers_409_locked(world: dict[str, Any]) -> None:
    p, u = world["p"], world["users"]
    c, mon, nurse = Client(), svc.create_token(None, "mon1"), svc.create_token(None, "nurse1")
    q = svc.raise_query(u["mon1"], p, "W2", "labs", "crp_value", "Please check the unit")
    svc.lock_form(u["dm"], p, "W2", "labs")
    body = {"subject_id": p.subject_id, "key": "W2", "form": "labs", "field": "esr_mm_h", "text": "ESR?"}
    r = c.post("/api/queries", json.dumps(body), content_type="application/json", **_auth(mon))
    assert (r.status_code, r.json()["code"], r.json()["detail"]) == (409, "locked", QUERY_LOCKED_MESSAGES["form"])
    r = c.post(
        f"/api/queries/{q.id}/answer", json.dumps({"answer": "ok"}), content_type="application/json", **_auth(nurse)
    )
    assert (r.status_code, r.json()["code"]) == (409, "locked")
    r = c.post(f"/api/queries/{q.id}/close", **_auth(mon))  # a form lock leaves closing possible
    assert r.status_code == 200 and r.json()["state"] == "closed"
    doc = c.get("/api/openapi.json").json()
    for path in ("/api/queries", "/api/queries/{query_id}/answer", "/api/queries/{query_id}/close"):
        resp = doc["paths"][path]["post"]["responses"]["409"]
        assert "lock" in resp["description"]
        assert "locked" in resp["content"]["application/json"]["schema"]["properties"]["code"]["enum"]


# -- UI -------------------------------------------------------------------------------------------


def _client(user: str, language: str = "en") -> Client:
    c = Client()
    assert c.login(username=user, password=PASSWORD)
    c.post("/language/", {"language": language})  # the choice is the user's: set it every time
    return c


def test_form_page_withholds_query_actions_on_a_locked_form_and_says_why(world: dict[str, Any]) -> None:
    p, u = world["p"], world["users"]
    q = svc.raise_query(u["mon1"], p, "W2", "labs", "crp_value", "Please check the unit")
    url = f"/p/{p.subject_id}/f/W2/labs/"
    page = _client("mon1").get(url).content.decode()
    assert 'id="query-form"' in page and 'id="query-locked"' not in page
    assert 'answer-input' in _client("nurse1").get(url).content.decode()
    svc.lock_form(u["dm"], p, "W2", "labs")
    page = _client("mon1").get(url).content.decode()
    assert 'id="query-form"' not in page and 'id="query-locked"' in page
    assert QUERY_LOCKED_MESSAGES["form"] in page
    assert f'form="qc-{q.id}"' in page and "close-button" in page  # closing stays possible
    nurse_page = _client("nurse1").get(url).content.decode()
    assert "answer-input" not in nurse_page and f'id="qa-{q.id}"' not in nurse_page
    assert "query-locked" in nurse_page  # the thread says why there is no answer box
    fr = _client("mon1", "fr").get(url).content.decode()
    assert "Ce formulaire est verrouillé : un data manager le déverrouille" in fr
    svc.close_query(u["mon1"], q.id)
    page = _client("mon1").get(url).content.decode()
    assert "reopen-button" not in page and f'id="qc-{q.id}"' not in page
    svc.unlock_form(u["dm"], p, "W2", "labs", "correction")
    svc.lock_database(u["dm"])
    page = _client("mon1").get(url).content.decode()
    assert QUERY_LOCKED_MESSAGES["database"] in page and 'id="query-form"' not in page


def test_queries_list_shows_the_lock_and_only_the_allowed_actions(world: dict[str, Any]) -> None:
    p, u = world["p"], world["users"]
    q = svc.raise_query(u["mon1"], p, "W2", "labs", "crp_value", "Please check the unit")
    svc.lock_participant(u["dm"], p)
    row = _row(_client("nurse1").get("/queries/").content.decode(), q.id)
    assert "answer-input" not in row and 'data-lock="casebook"' in row and "Casebook locked" in row
    row = _row(_client("mon1").get("/queries/").content.decode(), q.id)
    assert "close-button" in row
    svc.unlock_participant(u["dm"], p, "late result")
    svc.lock_database(u["dm"])
    row = _row(_client("mon1").get("/queries/").content.decode(), q.id)
    assert "close-button" not in row and 'data-lock="database"' in row
    svc.unlock_database(u["dm"], "correction")
    row = _row(_client("nurse1").get("/queries/").content.decode(), q.id)
    assert "answer-input" in row and "data-lock" not in row
    # A refused POST (the page was loaded before the lock) is a message, not a server error.
    nurse = _client("nurse1")
    svc.lock_form(u["dm"], p, "W2", "labs")
    r = nurse.post(f"/queries/{q.id}/", {"action": "answer", "answer": "ok"}, follow=True)
    assert r.status_code == 200 and QUERY_LOCKED_MESSAGES["form"] in r.content.decode()
    assert Query.objects.get(pk=q.pk).state == "open"


def _row(page: str, query_id: int) -> str:
    start = page.index(f'<tr id="query-{query_id}">')
    return page[start : page.index("</tr>", start)]
