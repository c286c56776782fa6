"""Users, roles, API tokens and login throttling (audited)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pmrtrial.edc.accounts.models import ROLES, ApiToken, FailedLogin, Profile
from pmrtrial.edc.accounts.permissions import SITE_SCOPED_ROLES, check
from pmrtrial.edc.audit.services import audit_changes, audit_event
from pmrtrial.edc.errors import EdcError, FormInvalid, NotFound
from pmrtrial.edc.sites.models import Site

__all__ = [
    "create_token",
    "create_user",
    "is_login_locked",
    "record_failed_login",
    "set_language",
    "user_for_token",
]

ROLE_NAMES = tuple(r for r, _ in ROLES)


def create_user(
    actor: Any,
    username: str,
    password: str,
    role: str,
    sites: list[str] | tuple[str, ...] = (),
    *,
    language: str = "en",
    check_password_strength: bool = True,
) -> Any:
    """Create a user with a role and site assignments. ``actor`` None = the command line (system)."""
    if actor is not None:
        check(actor, "manage_users")
    if role not in ROLE_NAMES:
        raise FormInvalid({"role": f"Expected one of {', '.join(ROLE_NAMES)}. Got {role!r}."})
    if role in SITE_SCOPED_ROLES and not sites:
        raise FormInvalid({"site": f"A {role} must be assigned to at least one site."})
    if language not in ("en", "fr"):
        raise FormInvalid({"language": "Expected en or fr."})
    site_objs = list(Site.objects.filter(code__in=list(sites)))
    missing = sorted(set(sites) - {s.code for s in site_objs})
    if missing:
        raise FormInvalid({"site": f"Unknown site(s): {', '.join(missing)}."})
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise FormInvalid({"username": f"User {username!r} already exists."})
    if check_password_strength:
        try:
            validate_password(password)
        except ValidationError as exc:
            raise FormInvalid({"password": " ".join(exc.messages)}) from None
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password)
        profile = Profile.objects.create(user=user, role=role, language=language)
        profile.sites.set(site_objs)
        audit_changes(
            actor,
            "create",
            "user",
            username,
            {"role": (None, role), "sites": (None, sorted(sites)), "language": (None, language)},
        )
    return user


def set_language(user: Any, language: str) -> None:
    if language not in ("en", "fr"):
        raise FormInvalid({"language": "Expected en or fr."})
    with transaction.atomic():
        profile = user.profile
        old = profile.language
        if old != language:
            profile.language = language
            profile.save(update_fields=["language"])
            audit_changes(user, "update", "user", user.username, {"language": (old, language)})


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(actor: Any, username: str, *, redcap: bool = False) -> str:
    """A new API token for ``username`` (returned once; only its hash is stored).

    ``redcap=True`` gives a REDCap-style token (32 upper-case hexadecimal characters) for
    ``/redcap/api/``; it is stored, revoked and checked like every other token.
    """
    if actor is not None:
        check(actor, "manage_users")
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"No user {username!r}.")
    token = secrets.token_hex(16).upper() if redcap else "pmr_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        ApiToken.objects.create(user=user, prefix=token[:12], digest=_digest(token))
        audit_changes(actor, "create", "api_token", username, {"token_prefix": (None, token[:12])})
    return token


def user_for_token(token: str) -> Any | None:
    row = ApiToken.objects.select_related("user", "user__profile").filter(digest=_digest(token), revoked=False).first()
    if row is None or not row.user.is_active:
        return None
    return row.user


def is_login_locked(username: str) -> bool:
    since = timezone.now() - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    return FailedLogin.objects.filter(username=username, at__gte=since).count() >= settings.LOGIN_MAX_FAILURES


def record_failed_login(username: str) -> None:
    FailedLogin.objects.create(username=username[:150])
    audit_event(None, "login_failed", "user", username[:150])


def verify_password(user: Any, password: str) -> None:
    """E-signature: the user re-enters their password."""
    if not password or not user.check_password(password):
        raise EdcError("Signature refused: the password is not correct.")
