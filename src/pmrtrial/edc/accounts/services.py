"""Users, roles, API tokens and login throttling (audited)."""

from __future__ import annotations

import functools
import hashlib
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from pmrtrial.edc.accounts.models import ROLES, ApiToken, Profile
from pmrtrial.edc.accounts.permissions import SITE_SCOPED_ROLES, check
from pmrtrial.edc.audit.services import audit_changes
from pmrtrial.edc.errors import EdcError, FormInvalid, NotFound
from pmrtrial.edc.sites.models import Site
from pmrtrial.edc.sql import Shape, col, fetch, qn, table, vendor

__all__ = [
    "create_token",
    "create_user",
    "is_login_locked",
    "list_tokens",
    "list_users",
    "record_failed_login",
    "revoke_tokens",
    "set_active",
    "set_language",
    "set_password",
    "set_role",
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


@functools.cache
def _token_query(db_vendor: str) -> tuple[str, Shape, Shape]:
    """token -> user -> profile -> assigned site codes, in one statement (one row per assigned site)."""
    User = get_user_model()
    user, profile = Shape(User, "u"), Shape(Profile, "pr")
    m2m = Profile._meta.get_field("sites")
    sql = (
        f"SELECT {user.columns()}, {profile.columns()}, s.{col(Site, 'code')} FROM {table(ApiToken)} t"
        f" JOIN {table(User)} u ON u.{col(User, 'id')} = t.{col(ApiToken, 'user')}"
        f" LEFT JOIN {table(Profile)} pr ON pr.{col(Profile, 'user')} = u.{col(User, 'id')}"
        f" LEFT JOIN {qn(m2m.m2m_db_table())} ps ON ps.{qn(m2m.m2m_column_name())} = pr.{col(Profile, 'id')}"
        f" LEFT JOIN {table(Site)} s ON s.{col(Site, 'id')} = ps.{qn(m2m.m2m_reverse_name())}"
        f" WHERE t.{col(ApiToken, 'digest')} = %s AND t.{col(ApiToken, 'revoked')} = %s"
    )
    return sql, user, profile


def user_for_token(token: str) -> Any | None:
    """The active user holding the live API token ``token`` (None otherwise), with their profile and site
    codes loaded (:func:`~pmrtrial.edc.accounts.permissions.site_codes` then needs no query)."""
    sql, user_shape, profile_shape = _token_query(vendor())
    rows = fetch(sql, [_digest(token), False])  # digest is unique: the rows differ only by site
    if not rows:
        return None
    user = user_shape.instance(rows[0])
    if not user.is_active:
        return None
    profile = profile_shape.instance(rows[0], user_shape.width)
    Profile._meta.get_field("user").remote_field.set_cached_value(user, profile)  # user.profile, no query
    if profile is not None:
        Profile._meta.get_field("user").set_cached_value(profile, user)
    user._edc_site_codes = frozenset(row[-1] for row in rows if row[-1] is not None)
    return user


def verify_password(user: Any, password: str) -> None:
    """E-signature: the user re-enters their password."""
    if not password or not user.check_password(password):
        raise EdcError("Signature refused: the password is not correct.")


# -- operations (``pmrtrial edc user ...`` / ``pmrtrial edc token ...``; actor None = the command line) ------


def _get_user(username: str) -> Any:
    user = get_user_model().objects.select_related("profile").filter(username=username).first()
    if user is None:
        raise NotFound(f"No user {username!r}.")
    return user


def list_users(actor: Any) -> list[dict[str, Any]]:
    """Every user with role, sites, language, active flag, last login and live token count."""
    if actor is not None:
        check(actor, "manage_users")
    rows = []
    users = get_user_model().objects.select_related("profile").prefetch_related("profile__sites").order_by("username")
    for u in users:
        profile = getattr(u, "profile", None)
        rows.append(
            {
                "username": u.username,
                "role": profile.role if profile else "",
                "sites": sorted(s.code for s in profile.sites.all()) if profile else [],
                "language": profile.language if profile else "",
                "active": u.is_active,
                "last_login": u.last_login.isoformat(timespec="seconds") if u.last_login else None,
                "tokens": ApiToken.objects.filter(user=u, revoked=False).count(),
            }
        )
    return rows


def set_active(actor: Any, username: str, active: bool) -> Any:
    """Deactivate (or reactivate) a user: no login, no API access. Users are never deleted (audit trail)."""
    if actor is not None:
        check(actor, "manage_users")
    user = _get_user(username)
    with transaction.atomic():
        if user.is_active != active:
            user.is_active = active
            user.save(update_fields=["is_active"])
            audit_changes(actor, "update", "user", username, {"active": (not active, active)})
    return user


def set_role(actor: Any, username: str, role: str, sites: list[str] | tuple[str, ...] | None = None) -> Any:
    """Change a user's role (and, if given, site assignments); audited with old and new values."""
    if actor is not None:
        check(actor, "manage_users")
    if role not in ROLE_NAMES:
        raise FormInvalid({"role": f"Expected one of {', '.join(ROLE_NAMES)}. Got {role!r}."})
    user = _get_user(username)
    profile = user.profile
    old_sites = sorted(s.code for s in profile.sites.all())
    new_sites = old_sites if sites is None else sorted(set(sites))
    if role in SITE_SCOPED_ROLES and not new_sites:
        raise FormInvalid({"site": f"A {role} must be assigned to at least one site."})
    site_objs = list(Site.objects.filter(code__in=new_sites))
    missing = sorted(set(new_sites) - {s.code for s in site_objs})
    if missing:
        raise FormInvalid({"site": f"Unknown site(s): {', '.join(missing)}."})
    with transaction.atomic():
        changes: dict[str, tuple[Any, Any]] = {}
        if profile.role != role:
            changes["role"] = (profile.role, role)
            profile.role = role
            profile.save(update_fields=["role"])
        if new_sites != old_sites:
            changes["sites"] = (old_sites, new_sites)
            profile.sites.set(site_objs)
        if changes:
            audit_changes(actor, "update", "user", username, changes)
    return user


def set_password(actor: Any, username: str, password: str) -> Any:
    """Reset a password (strength-checked); audited without the value. Failed-attempt delays are cleared."""
    if actor is not None:
        check(actor, "manage_users")
    user = _get_user(username)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise FormInvalid({"password": " ".join(exc.messages)}) from None
    from pmrtrial.edc.accounts.throttle import clear_failures

    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        clear_failures(username)
        audit_changes(actor, "update", "user", username, {"password": ("(hidden)", "(reset)")})
    return user


def list_tokens(actor: Any, username: str) -> list[dict[str, Any]]:
    """A user's API tokens (id, prefix, created, revoked); the tokens themselves are never stored."""
    if actor is not None:
        check(actor, "manage_users")
    user = _get_user(username)
    return [
        {"id": t.pk, "prefix": t.prefix, "created_at": t.created_at.isoformat(timespec="seconds"), "revoked": t.revoked}
        for t in ApiToken.objects.filter(user=user).order_by("pk")
    ]


def revoke_tokens(actor: Any, username: str, token_id: str | None = None) -> int:
    """Revoke one token (its id or prefix, from :func:`list_tokens`) or, with ``token_id`` None, all."""
    if actor is not None:
        check(actor, "manage_users")
    user = _get_user(username)
    live = ApiToken.objects.filter(user=user, revoked=False)
    if token_id is not None:
        live = live.filter(pk=int(token_id)) if token_id.isdigit() else live.filter(prefix=token_id)
        if not live.exists():
            raise NotFound(
                f"No live token {token_id!r} for user {username!r} (see: pmrtrial edc token {username} --list)."
            )
    with transaction.atomic():
        prefixes = sorted(live.values_list("prefix", flat=True))
        n = live.update(revoked=True)
        for prefix in prefixes:
            audit_changes(actor, "update", "api_token", f"{username}/{prefix}", {"revoked": (False, True)})
    return n


# -- compatibility names (the throttle lives in pmrtrial.edc.accounts.throttle) ---------------------------------


def is_login_locked(username: str, client_ip: str | None = None) -> bool:
    """True while a throttle delay runs for ``username`` (and ``client_ip``): a delay, never a lock."""
    from pmrtrial.edc.accounts.throttle import check_throttle

    return check_throttle(username, client_ip) > 0


def record_failed_login(username: str, client_ip: str | None = None, *, context: str = "login") -> None:
    """Count a wrong password (see :func:`pmrtrial.edc.accounts.throttle.record_failed_password`)."""
    from pmrtrial.edc.accounts.throttle import record_failed_password

    record_failed_password(username, client_ip, context=context)
