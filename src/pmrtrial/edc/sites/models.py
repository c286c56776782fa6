# ruff: noqa: RUF012  (Django Meta/Migration class attributes are lists by convention)
"""The study (one per database, built from a protocol) and its sites (centres)."""

from __future__ import annotations

from django.db import models


class Study(models.Model):
    """A study created by ``pmrtrial edc init`` from a protocol file (kept verbatim)."""

    protocol_id = models.CharField(max_length=64)
    protocol_version = models.CharField(max_length=32)
    protocol_yaml = models.TextField()
    title = models.CharField(max_length=300)
    demo = models.BooleanField(default=False, help_text="Demo studies accept the demo-only allocation override.")
    locked = models.BooleanField(default=False)
    locked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.protocol_id} {self.protocol_version}"


class Site(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="sites")
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code
