"""Login hygiene (issue 12, item 5): growing delays per user name AND per client address (never a
lock anyone can trigger), audited logins and logouts, same-site ``next`` only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from pmrtrial.edc.accounts.models import FailedLogin
from pmrtrial.edc.accounts.throttle import check_throttle, raise_if_throttled, record_failed_password
from pmrtrial.edc.audit.models import AuditEntry
from pmrtrial.edc.errors import ThrottledError
from tests.edc.conftest import PASSWORD

ATTACKER, VICTIM = "203.0.113.9", "198.51.100.7"


def _age_failures(seconds: float) -> None:
    """Move every recorded failure ``seconds`` into the past (instead of sleeping in a test)."""
    for row in FailedLogin.objects.all():
        FailedLogin.objects.filter(pk=row.pk).update(at=row.at - dt.timedelta(seconds=seconds))


def _login(client: Client, username: str, password: str, ip: str, **extra: Any) -> Any:
    return client.post("/login/", {"username": username, "password": password, **extra}, REMOTE_ADDR=ip)


def test_delays_grow_per_user_name_and_are_capped(users: dict[str, Any]) -> None:
    waits = []
    for _ in range(12):
        record_failed_password("inv1", ATTACKER)
        waits.append(check_throttle("inv1"))
    # 3 free failures, then 2**(n-3) s after the last failure: 2, 4, 8, 16, 32, then the 60 s cap.
    # (Hand arithmetic; the waits are measured a few ms after each failure, hence approx.)
    expected = [0, 0, 0, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    assert waits == pytest.approx(expected, abs=0.5)
    with pytest.raises(ThrottledError) as info:
        raise_if_throttled("inv1", VICTIM)
    assert info.value.status == 429 and info.value.code == "throttled"
    assert AuditEntry.objects.filter(action="login_failed", object_id="inv1").count() == 12


def test_attacker_cannot_lock_a_victim_out(users: dict[str, Any]) -> None:
    attacker = Client()
    for _ in range(20):
        _login(attacker, "inv1", "wrong-password", ATTACKER)
    victim = Client()
    r = _login(victim, "inv1", PASSWORD, VICTIM)
    assert r.status_code == 200 and "Too many failed attempts" in r.content.decode()  # a delay runs...
    _age_failures(61)  # ...for at most a minute (the per-name cap), not the old 15-minute lock
    r = _login(victim, "inv1", PASSWORD, VICTIM)
    assert r.status_code == 302


def test_one_client_trying_many_user_names_is_slowed(users: dict[str, Any]) -> None:
    attacker = Client()
    for i in range(30):
        r = _login(attacker, f"user{i}", "wrong-password", ATTACKER)
        assert "Too many failed attempts" not in r.content.decode() or i >= 10
    # A fresh name, even with a valid password, from the same address waits...
    r = _login(attacker, "inv1", PASSWORD, ATTACKER)
    assert "Too many failed attempts" in r.content.decode()
    # ...but the same user from another address is not slowed.
    assert _login(Client(), "inv1", PASSWORD, VICTIM).status_code == 302


def test_logins_and_logouts_are_audited(users: dict[str, Any]) -> None:
    c = Client()
    assert _login(c, "inv1", PASSWORD, VICTIM).status_code == 302
    c.post("/logout/")
    rows = list(AuditEntry.objects.filter(object_id="inv1", action__in=("login", "logout")).order_by("seq"))
    assert [(e.action, e.actor) for e in rows] == [("login", "inv1"), ("logout", "inv1")]
    assert VICTIM in rows[0].new_value


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("https://evil.example/phish", "/"),
        ("//evil.example/phish", "/"),
        ("/queries/", "/queries/"),
    ],
)
def test_only_same_site_next_urls(users: dict[str, Any], target: str, expected: str) -> None:
    c = Client()
    r = _login(c, "inv1", PASSWORD, VICTIM, next=target)
    assert r.status_code == 302 and r["Location"] == expected
    r = c.post("/language/", {"language": "en", "next": target})
    assert r.status_code == 302 and r["Location"] == expected


def test_compatibility_names_use_the_throttle(users: dict[str, Any]) -> None:
    """is_login_locked/record_failed_login (used by the e-signature re-authentication) are the same throttle."""
    from pmrtrial.edc.accounts.services import is_login_locked, record_failed_login

    for _ in range(3):
        record_failed_login("inv2", context="signature")
    assert not is_login_locked("inv2")  # 3 free failures
    record_failed_login("inv2", context="signature")
    assert is_login_locked("inv2") and check_throttle("inv2") == pytest.approx(2, abs=0.5)
    assert AuditEntry.objects.filter(action="signature_failed", object_id="inv2").count() == 4
