from __future__ import annotations

from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "pmrtrial.edc.exports"
    label = "edc_exports"
    default_auto_field = "django.db.models.BigAutoField"
