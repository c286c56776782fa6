from __future__ import annotations

from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "pmrtrial.edc.visits"
    label = "edc_visits"
    default_auto_field = "django.db.models.BigAutoField"
