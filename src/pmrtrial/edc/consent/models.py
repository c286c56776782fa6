"""Informed consent: version and date, recorded before randomisation."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Consent(models.Model):
    participant = models.ForeignKey("edc_screening.Participant", on_delete=models.PROTECT, related_name="consents")
    version = models.CharField(max_length=32)
    consented_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
