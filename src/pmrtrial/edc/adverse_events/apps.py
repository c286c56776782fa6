from __future__ import annotations

from django.apps import AppConfig


class AdverseEventsConfig(AppConfig):
    name = "pmrtrial.edc.adverse_events"
    label = "edc_adverse_events"
    default_auto_field = "django.db.models.BigAutoField"
