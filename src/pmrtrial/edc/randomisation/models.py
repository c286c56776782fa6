# ruff: noqa: RUF012  (Django Meta/Migration class attributes are lists by convention)
"""Sealed, versioned randomisation lists. Arms live only in the secret tables.

``RandomisationSlot`` is what blinded users may see (randomisation number, kit code).
``AllocationSecret`` and ``RandomisationListSecret`` are read only through
:mod:`pmrtrial.edc.randomisation.secrets`, by unblinded roles and the randomisation service.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RandomisationList(models.Model):
    study = models.ForeignKey("edc_sites.Study", on_delete=models.PROTECT, related_name="randomisation_lists")
    version = models.PositiveIntegerField()
    active = models.BooleanField(default=True)
    method = models.CharField(max_length=200)
    block_sizes = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    sealed_at = models.DateTimeField()
    seal_hash = models.CharField(max_length=64)

    class Meta:
        unique_together = [("study", "version")]


class RandomisationSlot(models.Model):
    rlist = models.ForeignKey(RandomisationList, on_delete=models.PROTECT, related_name="slots")
    site = models.ForeignKey("edc_sites.Site", on_delete=models.PROTECT, related_name="slots")
    sequence = models.PositiveIntegerField()
    randomisation_number = models.CharField(max_length=32, unique=True)
    kit_code = models.CharField(max_length=32, unique=True)
    participant = models.OneToOneField(
        "edc_screening.Participant", null=True, blank=True, on_delete=models.PROTECT, related_name="slot"
    )
    allocated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        unique_together = [("rlist", "site", "sequence")]
        ordering = ["site", "sequence"]


class RandomisationListSecret(models.Model):
    """The seed and the A/B mask of a list: unblinded roles only."""

    rlist = models.OneToOneField(RandomisationList, on_delete=models.PROTECT, related_name="secret")
    seed = models.CharField(max_length=64)
    mask = models.JSONField(help_text="arm id -> masked label (A/B) for blinded exports")


class AllocationSecret(models.Model):
    slot = models.OneToOneField(RandomisationSlot, on_delete=models.PROTECT, related_name="secret")
    arm = models.CharField(max_length=64)
    block = models.PositiveIntegerField()
    block_size = models.PositiveIntegerField()


class UnblindingRequest(models.Model):
    STATES = (("requested", "Requested"), ("approved", "Approved"), ("rejected", "Rejected"), ("revealed", "Revealed"))
    participant = models.ForeignKey("edc_screening.Participant", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    state = models.CharField(max_length=16, choices=STATES, default="requested")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    revealed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
