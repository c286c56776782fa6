"""E-signature as 21 CFR Part 11 §11.50 / §11.200 expect (issue 12, item 4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from pmrtrial.edc import services as svc
from pmrtrial.edc.audit.models import AuditEntry
from pmrtrial.edc.errors import EdcError, SignatureExceptions, ThrottledError
from tests.edc.conftest import PASSWORD, randomised

LABS = {"crp_value": 4, "crp_unit": "mg/L", "esr_mm_h": 10}


def test_signing_refused_until_exceptions_are_listed_and_confirmed(users: dict[str, Any]) -> None:
    p = randomised(users)  # 100 days ago: the W0..W12 windows have closed, nothing is entered
    svc.save_form(users["inv1"], p, "W2", "labs", LABS)
    q = svc.raise_query(users["mon1"], p, "W2", "labs", "crp_value", "check the unit")
    with pytest.raises(SignatureExceptions) as refused:
        svc.sign_casebook(users["inv1"], p, PASSWORD)
    listed = refused.value.exceptions
    assert "W0: form visit_info missing" in listed and "W2: form pmr_as missing" in listed
    assert "W2: form labs missing" not in listed  # entered
    assert not any(e.startswith("W16") for e in listed)  # W16 (day 112) is not due yet
    assert listed[-1] == f"query {q.pk} on W2/labs/crp_value is open"
    # Confirming only some of them is still a refusal, naming the ones left.
    with pytest.raises(SignatureExceptions) as partly:
        svc.sign_casebook(users["inv1"], p, PASSWORD, confirm_exceptions=listed[:-1])
    assert partly.value.exceptions == [listed[-1]]
    p.refresh_from_db()
    assert p.signed_at is None
    users["inv1"].first_name, users["inv1"].last_name = "Ada", "Investigator"
    users["inv1"].save()
    p = svc.sign_casebook(users["inv1"], p, PASSWORD, confirm_exceptions=listed)
    assert (p.signed_by, p.signer_name, p.signature_void) == ("inv1", "Ada Investigator", False)
    assert p.signature_meaning == svc.SIGNATURE_MEANING and "complete and accurate" in p.signature_meaning
    assert p.signature_exceptions == listed
    assert p.signed_at is not None and abs((dt.datetime.now(dt.UTC) - p.signed_at).total_seconds()) < 60
    entries = {e.field: e for e in AuditEntry.objects.filter(object_type="participant", object_id=p.subject_id)}
    assert entries["signature_meaning"].new_value == svc.SIGNATURE_MEANING
    assert entries["signer_name"].new_value == "Ada Investigator"


def test_a_complete_casebook_signs_without_exceptions(users: dict[str, Any]) -> None:
    p = randomised(users, days_ago=0)  # randomised today: no window has closed, no form is due
    assert svc.signature_exceptions(p) == []
    p = svc.sign_casebook(users["inv1"], p, PASSWORD)
    assert p.signature_exceptions == [] and p.signed_by == "inv1"


def test_a_later_change_voids_the_signature(users: dict[str, Any]) -> None:
    from pmrtrial.edc.audit.replay import verify_integrity

    p = randomised(users, days_ago=0)
    svc.save_form(users["inv1"], p, "W0", "labs", LABS, confirm_warnings=True)
    p = svc.sign_casebook(users["inv1"], p, PASSWORD)
    token = svc.create_token(None, "inv1")
    api = Client().get(f"/api/participants/{p.subject_id}", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert api["signature"]["status"] == "valid" and api["signature"]["meaning"] == svc.SIGNATURE_MEANING
    svc.save_form(
        users["inv1"],
        p,
        "W0",
        "labs",
        {**LABS, "esr_mm_h": 12},
        expected_version=1,
        reason="lab report",
        confirm_warnings=True,
    )
    p.refresh_from_db()
    assert p.signature_void is True and p.signed_by == "inv1"
    void = AuditEntry.objects.get(field="signature_void", new_value="true")
    assert void.reason == "signature void: data changed after signing (labs at W0)"
    api = Client().get(f"/api/participants/{p.subject_id}", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert api["signature"]["void"] is True
    assert api["signature"]["status"] == "signature void: data changed after signing"
    c = Client()
    c.force_login(users["inv1"])
    page = c.get(f"/p/{p.subject_id}/").content.decode()
    assert "signature void: data changed after signing" in page and svc.SIGNATURE_MEANING in page
    # A second change does not void again; signing again restores a valid signature.
    svc.save_form(
        users["inv1"],
        p,
        "W0",
        "labs",
        {**LABS, "esr_mm_h": 13},
        expected_version=2,
        reason="lab report 2",
        confirm_warnings=True,
    )
    assert AuditEntry.objects.filter(field="signature_void", new_value="true").count() == 1
    p = svc.sign_casebook(users["inv1"], p, PASSWORD)
    assert p.signature_void is False
    # The replay reproduces every signature field (void, re-signed) from the trail.
    report = verify_integrity()
    assert not [m for m in report.mismatches if m.table == "edc_screening_participant"], report.message


def test_signing_password_attempts_count_toward_the_login_lock_out(users: dict[str, Any]) -> None:
    p = randomised(users, days_ago=0)
    for _ in range(settings.PASSWORD_THROTTLE_USER_FREE + 1):  # the free failures, then one that starts a delay
        with pytest.raises(EdcError, match="password is not correct"):
            svc.sign_casebook(users["inv1"], p, "wrong-password")
    # A delay now runs: signing with the right password is refused, and so is logging in.
    with pytest.raises(ThrottledError, match="Too many failed password attempts"):
        svc.sign_casebook(users["inv1"], p, PASSWORD)
    r = Client().post("/login/", {"username": "inv1", "password": PASSWORD})
    assert "Too many failed attempts" in r.content.decode()
