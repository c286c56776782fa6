# ruff: noqa: RUF012  (Django Meta/Migration class attributes are lists by convention)
"""Participants, from screening (eligible or not: screen failures are kept) to end of study."""

from __future__ import annotations

from django.conf import settings
from django.db import models

STATUSES = (
    ("screen_failed", "Screen failure"),
    ("eligible", "Eligible"),
    ("consented", "Consented"),
    ("randomised", "Randomised"),
    ("completed", "Completed"),
    ("withdrawn", "Withdrawn"),
    ("lost", "Lost to follow-up"),
)


class Participant(models.Model):
    site = models.ForeignKey("edc_sites.Site", on_delete=models.PROTECT, related_name="participants")
    subject_id = models.CharField(max_length=32, unique=True)
    screened_on = models.DateField()
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    screening_data = models.JSONField()
    eligibility_status = models.CharField(max_length=16)
    eligibility = models.JSONField()
    status = models.CharField(max_length=16, choices=STATUSES)
    randomisation_number = models.CharField(max_length=32, blank=True, default="")
    kit_code = models.CharField(max_length=32, blank=True, default="")
    randomised_on = models.DateField(null=True, blank=True)
    locked = models.BooleanField(default=False)
    # The investigator's e-signature (21 CFR Part 11 §11.50): who (user name and printed name), when,
    # what it means, and the exceptions the signer confirmed. A later data change voids it (§11.70 spirit).
    signed_by = models.CharField(max_length=150, blank=True, default="")
    signed_at = models.DateTimeField(null=True, blank=True)
    signer_name = models.CharField(max_length=300, blank=True, default="")
    signature_meaning = models.TextField(blank=True, default="")
    signature_exceptions = models.JSONField(default=list, blank=True)
    signature_void = models.BooleanField(default=False)
    signature_voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["subject_id"]

    def __str__(self) -> str:
        return self.subject_id
