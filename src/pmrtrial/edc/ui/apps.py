from __future__ import annotations

from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "pmrtrial.edc.ui"
    label = "edc_ui"
    default_auto_field = "django.db.models.BigAutoField"
