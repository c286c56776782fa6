# ruff: noqa: RUF012  (Django Meta/Migration class attributes are lists by convention)
"""Entered eCRF data: one record per participant, visit (or participant-level key) and form."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class FormRecord(models.Model):
    """``version`` starts at 1 and increases with each saved change (lost-update protection)."""

    participant = models.ForeignKey("edc_screening.Participant", on_delete=models.PROTECT, related_name="forms")
    visit = models.ForeignKey("edc_visits.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="forms")
    key = models.CharField(
        max_length=32,
        help_text="visit code, or a participant-level key: AE-n (adverse event), GC-n (GC dose row), "
        "FL-n (flare assessment), EOS",
    )
    form = models.CharField(max_length=32)
    data = models.JSONField()
    derived = models.JSONField(default=dict)
    confirmed_warnings = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    locked = models.BooleanField(default=False)
    # Source data verification by a monitor; cleared when the data change afterwards.
    verified_by = models.CharField(max_length=150, blank=True, default="")
    verified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        unique_together = [("participant", "key", "form")]
        ordering = ["participant", "key", "form"]
