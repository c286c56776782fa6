from __future__ import annotations

from django.apps import AppConfig


class RandomisationConfig(AppConfig):
    name = "pmrtrial.edc.randomisation"
    label = "edc_randomisation"
    default_auto_field = "django.db.models.BigAutoField"
