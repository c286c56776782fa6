from __future__ import annotations

from django.apps import AppConfig


class CrfsConfig(AppConfig):
    name = "pmrtrial.edc.crfs"
    label = "edc_crfs"
    default_auto_field = "django.db.models.BigAutoField"
