"""Re-authentication for e-signatures: the password attempt goes through the login throttle.

21 CFR Part 11 §11.200(a)(1)(i) wants a signature's password component to be as protected as a log-in:
failed attempts at signing count toward the same lock-out as failed log-ins. This is the one call
site to repoint when the throttle service changes (:func:`reauthenticate` only calls
:func:`~pmrtrial.edc.accounts.services.is_login_locked` and
:func:`~pmrtrial.edc.accounts.services.record_failed_login`).
"""

from __future__ import annotations

from typing import Any

from pmrtrial.edc.accounts.services import is_login_locked, record_failed_login
from pmrtrial.edc.errors import EdcError, PermissionDenied

__all__ = ["reauthenticate"]


def reauthenticate(user: Any, password: str) -> None:
    """Check ``user``'s password for a signature; a failure counts as a failed log-in."""
    if is_login_locked(user.username):
        raise PermissionDenied("Signature refused: too many failed password attempts; try again later.")
    if not password or not user.check_password(password):
        record_failed_login(user.username)
        raise EdcError("Signature refused: the password is not correct.")
