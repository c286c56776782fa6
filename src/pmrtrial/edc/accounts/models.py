"""Users' roles, site assignments, language, API tokens and failed logins."""

from __future__ import annotations

from django.conf import settings
from django.db import models

ROLES = (
    ("investigator", "Investigator"),
    ("nurse", "Research nurse / data entry"),
    ("monitor", "Monitor"),
    ("data_manager", "Data manager"),
    ("blinded_statistician", "Blinded statistician"),
    ("unblinded_statistician", "Unblinded pharmacist / statistician"),
    ("admin", "Administrator"),
)


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(max_length=32, choices=ROLES)
    sites = models.ManyToManyField("edc_sites.Site", blank=True, related_name="users")
    language = models.CharField(max_length=8, default="en")

    def __str__(self) -> str:
        return f"{self.user.username} ({self.role})"


class ApiToken(models.Model):
    """A Bearer token; only its SHA-256 is stored (the token is shown once)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked = models.BooleanField(default=False)


class FailedLogin(models.Model):
    """A wrong password (at login or e-signature), counted by :mod:`pmrtrial.edc.accounts.throttle`."""

    username = models.CharField(max_length=150, db_index=True)
    client_ip = models.CharField(max_length=64, blank=True, default="", db_index=True)
    context = models.CharField(max_length=16, default="login")
    at = models.DateTimeField(auto_now_add=True)
