from __future__ import annotations

from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "pmrtrial.edc.screening"
    label = "edc_screening"
    default_auto_field = "django.db.models.BigAutoField"
