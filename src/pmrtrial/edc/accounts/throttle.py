"""Password throttling shared by the login page and the e-signature: growing delays, never a lock.

Every wrong password (at login or when signing) is recorded with the user name and the client
address. Within a window (``PASSWORD_THROTTLE_WINDOW_SECONDS``, 15 minutes), after a few free
failures each further attempt must wait ``2**(failures - free)`` seconds after the last failure,
up to a cap, counted separately

- per user name: ``PASSWORD_THROTTLE_USER_FREE`` (3) free failures, delays capped at
  ``PASSWORD_THROTTLE_USER_MAX_DELAY`` (60 s). Guessing one account's password is slowed to
  about one try a minute, while anyone who knows a user name can only delay that user by a
  minute at most (a hard lock would let anyone lock a known investigator out);
- per client address: ``PASSWORD_THROTTLE_IP_FREE`` (10) free failures (a hospital NAT is
  shared), delays capped at ``PASSWORD_THROTTLE_IP_MAX_DELAY`` (300 s), so one client trying
  many user names is slowed as well.

Attempts refused by the throttle are not checked and not counted (waiting clears them). A correct
password clears the user name's failures, not the address's.

API for other password checks (the e-signature)::

    from pmrtrial.edc.accounts.throttle import check_throttle, raise_if_throttled, record_failed_password

    raise_if_throttled(user.username, client_ip)      # ThrottledError (HTTP 429) while a delay runs
    if not user.check_password(password):
        record_failed_password(user, client_ip, context="signature")
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.conf import settings
from django.db.models import Count, Max
from django.http import HttpRequest
from django.utils import timezone

from pmrtrial.edc.accounts.models import FailedLogin
from pmrtrial.edc.audit.services import audit_event
from pmrtrial.edc.errors import ThrottledError

__all__ = ["check_throttle", "clear_failures", "client_address", "raise_if_throttled", "record_failed_password"]


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def client_address(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or, behind the HTTPS proxy (``PMRTRIAL_EDC_HTTPS=1``),
    the last ``X-Forwarded-For`` entry (the one our proxy appended; earlier ones are client-written)."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last[:64]
    return str(request.META.get("REMOTE_ADDR") or "")[:64]


def _delay(failures: int, free: float, cap: float) -> float:
    if failures <= free:
        return 0.0
    return min(cap, 2.0 ** (failures - free))


def _wait(filter_kwargs: dict[str, Any], free: float, cap: float, now: dt.datetime) -> float:
    since = now - dt.timedelta(seconds=_setting("PASSWORD_THROTTLE_WINDOW_SECONDS", 900))
    agg = FailedLogin.objects.filter(at__gte=since, **filter_kwargs).aggregate(n=Count("id"), last=Max("at"))
    delay = _delay(int(agg["n"] or 0), free, cap)
    if delay <= 0 or agg["last"] is None:
        return 0.0
    return max(0.0, (agg["last"] + dt.timedelta(seconds=delay) - now).total_seconds())


def check_throttle(username: str, client_ip: str | None = None) -> float:
    """Seconds to wait before the next password attempt for ``username`` from ``client_ip`` (0 = go)."""
    now = timezone.now()
    wait = 0.0
    if username:
        wait = _wait(
            {"username": username[:150]},
            _setting("PASSWORD_THROTTLE_USER_FREE", 3),
            _setting("PASSWORD_THROTTLE_USER_MAX_DELAY", 60),
            now,
        )
    if client_ip:
        wait = max(
            wait,
            _wait(
                {"client_ip": client_ip[:64]},
                _setting("PASSWORD_THROTTLE_IP_FREE", 10),
                _setting("PASSWORD_THROTTLE_IP_MAX_DELAY", 300),
                now,
            ),
        )
    return wait


def raise_if_throttled(username: str, client_ip: str | None = None) -> None:
    """:class:`~pmrtrial.edc.errors.ThrottledError` (HTTP 429) while a delay is running."""
    wait = check_throttle(username, client_ip)
    if wait > 0:
        raise ThrottledError(
            f"Too many failed password attempts. Try again in {math.ceil(wait)} seconds.", retry_after=wait
        )


def record_failed_password(user: Any, client_ip: str | None = None, *, context: str = "login") -> None:
    """Count a wrong password for ``user`` (a user object or a user name) and audit it."""
    username = str(getattr(user, "username", user) or "")[:150]
    FailedLogin.objects.create(username=username, client_ip=(client_ip or "")[:64], context=context[:16])
    audit_event(None, f"{context}_failed", "user", username, detail={"client_ip": client_ip or ""})


def clear_failures(username: str) -> None:
    """A correct password: forget the user name's failures (the address's stay counted)."""
    FailedLogin.objects.filter(username=username[:150]).delete()
