from __future__ import annotations

from django.apps import AppConfig


class QueriesConfig(AppConfig):
    name = "pmrtrial.edc.queries"
    label = "edc_queries"
    default_auto_field = "django.db.models.BigAutoField"
