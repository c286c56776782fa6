"""Re-authentication for e-signatures: the password attempt goes through the login throttle.

21 CFR Part 11 §11.200(a)(1)(i) wants a signature's password component to be as protected as a log-in:
failed attempts at signing count toward the same growing delays as failed log-ins
(:mod:`pmrtrial.edc.accounts.throttle`), recorded with the context ``signature``.
"""

from __future__ import annotations

from typing import Any

from pmrtrial.edc.accounts.throttle import raise_if_throttled, record_failed_password
from pmrtrial.edc.errors import EdcError

__all__ = ["reauthenticate"]


def reauthenticate(user: Any, password: str, client_ip: str | None = None) -> None:
    """Check ``user``'s password for a signature; a failure counts as a failed log-in.

    Raises :class:`~pmrtrial.edc.errors.ThrottledError` (HTTP 429) while a delay runs.
    """
    raise_if_throttled(user.username, client_ip)
    if not password or not user.check_password(password):
        record_failed_password(user, client_ip, context="signature")
        raise EdcError("Signature refused: the password is not correct.")
