# ruff: noqa: RUF012  (Django Meta/Migration class attributes are lists by convention)
"""Scheduled visits: target dates and windows computed from the randomisation date."""

from __future__ import annotations

from django.db import models


class Visit(models.Model):
    participant = models.ForeignKey("edc_screening.Participant", on_delete=models.PROTECT, related_name="visits")
    code = models.CharField(max_length=16)
    week = models.FloatField()
    target_date = models.DateField()
    window_start = models.DateField()
    window_end = models.DateField()
    visit_date = models.DateField(null=True, blank=True)
    out_of_window = models.BooleanField(default=False)

    class Meta:
        unique_together = [("participant", "code")]
        ordering = ["participant", "week"]
