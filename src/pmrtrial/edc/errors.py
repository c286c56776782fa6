"""Errors raised by the EDC service layer (mapped to HTTP status codes by the UI and the API).

Each class carries an HTTP ``status`` and a stable machine-readable ``code``: API clients get
``{"code": ..., "detail": ...}`` and should branch on ``code``, never on the English ``detail``.
"""

from __future__ import annotations

from typing import Any

from pmrtrial.exceptions import PmrTrialError

__all__ = [
    "ConflictError",
    "EdcError",
    "FormInvalid",
    "LockedError",
    "NotFound",
    "PermissionDenied",
    "SignatureExceptions",
    "ThrottledError",
    "WorkflowError",
]


class EdcError(PmrTrialError):
    """Base class of EDC service errors."""

    status = 400
    code = "bad_request"


class PermissionDenied(EdcError):
    """The user's role or sites do not allow this action."""

    status = 403
    code = "permission_denied"


class NotFound(EdcError):
    """No such record, or not visible to this user (site isolation answers 404, not 403)."""

    status = 404
    code = "not_found"


class WorkflowError(EdcError):
    """The action is not allowed in the record's current state (e.g. randomise before consent)."""

    status = 409
    code = "workflow"


class LockedError(WorkflowError):
    """The form, casebook or database is locked."""

    code = "locked"


class ConflictError(WorkflowError):
    """Lost-update protection: the record changed since the editor loaded it."""

    code = "conflict"

    def __init__(self, message: str, *, current: dict[str, Any] | None = None, version: int | None = None) -> None:
        super().__init__(message)
        self.current = current or {}
        self.version = version


class FormInvalid(EdcError):
    """Validation failed: nothing was saved. ``errors``/``warnings`` map field -> message."""

    status = 422
    code = "invalid"

    def __init__(self, errors: dict[str, str], warnings: dict[str, str] | None = None) -> None:
        self.errors = dict(errors)
        self.warnings = dict(warnings or {})
        parts = [f"{k}: {v}" for k, v in {**self.errors, **self.warnings}.items()]
        super().__init__("Invalid form. " + "; ".join(parts))


class SignatureExceptions(WorkflowError):
    """Signing refused: the casebook is incomplete. ``exceptions`` lists each reason; signing with
    every one of them confirmed is allowed (they are stored with the signature)."""

    def __init__(self, exceptions: list[str]) -> None:
        super().__init__(
            "The casebook is not complete; confirm these exceptions to sign anyway: " + "; ".join(exceptions)
        )
        self.exceptions = list(exceptions)


class ThrottledError(EdcError):
    """Too many wrong passwords recently: retry after ``retry_after`` seconds (a delay, never a lock)."""

    status = 429
    code = "throttled"

    def __init__(self, message: str, *, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after
