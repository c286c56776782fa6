"""The one permission layer used by the web UI, the JSON API, the CLI and exports.

A role grants actions; a site scope limits which participants those actions reach. Site users
(investigator, nurse) and monitors reach only their assigned sites; the other roles reach all.
Only unblinded roles may see allocations.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from pmrtrial.edc.errors import NotFound, PermissionDenied

__all__ = [
    "ACTIONS",
    "ROLE_ACTIONS",
    "can",
    "check",
    "check_participant",
    "is_unblinded",
    "role_of",
    "site_codes",
    "visible_participants",
]

ACTIONS = (
    "view",  # read participants, visits, forms, AEs, queries
    "screen",
    "consent",
    "randomise",
    "enter_data",  # CRFs and AEs, end of study
    "raise_query",
    "answer_query",
    "close_query",
    "verify",  # source data verification of a saved form
    "lock",
    "unlock",
    "sign",
    "export",
    "view_audit",
    "view_allocation",
    "request_unblinding",
    "approve_unblinding",
    "manage_users",
)

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "investigator": frozenset(
        {
            "view",
            "screen",
            "consent",
            "randomise",
            "enter_data",
            "answer_query",
            "sign",
            "view_audit",
            "request_unblinding",
        }
    ),
    "nurse": frozenset({"view", "screen", "consent", "enter_data", "answer_query"}),
    "monitor": frozenset({"view", "raise_query", "close_query", "verify", "view_audit"}),
    "data_manager": frozenset(
        {"view", "raise_query", "close_query", "verify", "lock", "unlock", "export", "view_audit", "approve_unblinding"}
    ),
    "blinded_statistician": frozenset({"view", "export"}),
    "unblinded_statistician": frozenset({"view", "export", "view_allocation"}),
    "admin": frozenset({"view", "view_audit", "manage_users", "approve_unblinding"}),
}
SITE_SCOPED_ROLES = frozenset({"investigator", "nurse", "monitor"})
UNBLINDED_ROLES = frozenset({"unblinded_statistician"})


def role_of(user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    profile = getattr(user, "profile", None)
    return profile.role if profile is not None else None


def is_unblinded(user: Any) -> bool:
    return role_of(user) in UNBLINDED_ROLES


def site_codes(user: Any) -> frozenset[str] | None:
    """The site codes the user may reach, or None for every site."""
    role = role_of(user)
    if role is None:
        return frozenset()
    if role in SITE_SCOPED_ROLES:
        cache = getattr(user, "_edc_site_codes", None)
        if cache is None:
            cache = frozenset(user.profile.sites.values_list("code", flat=True))
            user._edc_site_codes = cache
        return cache
    return None


def can(user: Any, action: str, site_code: str | None = None) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}.")
    role = role_of(user)
    if role is None or action not in ROLE_ACTIONS[role]:
        return False
    if site_code is None:
        return True
    scope = site_codes(user)
    return scope is None or site_code in scope


def check(user: Any, action: str, site_code: str | None = None) -> None:
    """Raise :class:`PermissionDenied` unless ``user`` may do ``action`` (at ``site_code``)."""
    if not can(user, action, site_code):
        raise PermissionDenied(
            f"Your role does not allow '{action}'" + (f" at site {site_code}." if site_code else ".")
        )


def check_participant(user: Any, action: str, participant: Any) -> None:
    """Site isolation first (another site's participant does not exist for you: 404), then the role."""
    scope = site_codes(user)
    if role_of(user) is None or (scope is not None and participant.site.code not in scope):
        raise NotFound("No such participant.")
    check(user, action, participant.site.code)


def visible_participants(user: Any) -> QuerySet[Any]:
    from pmrtrial.edc.screening.models import Participant

    qs = Participant.objects.select_related("site")
    if not can(user, "view"):
        return qs.none()
    scope = site_codes(user)
    return qs if scope is None else qs.filter(site__code__in=scope)
