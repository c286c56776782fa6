# ruff: noqa: RUF012  (Django Meta/Migration class attributes are lists by convention)
"""Data queries on a field: raised by a monitor or data manager, answered by the site, closed. Never deleted."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class Query(models.Model):
    STATES = (("open", "Open"), ("answered", "Answered"), ("closed", "Closed"))
    participant = models.ForeignKey("edc_screening.Participant", on_delete=models.PROTECT, related_name="queries")
    key = models.CharField(max_length=32)
    form = models.CharField(max_length=32)
    field = models.CharField(max_length=64)
    text = models.TextField()
    state = models.CharField(max_length=16, choices=STATES, default="open")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(blank=True, default="")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError("Queries are never deleted; close them instead.")
