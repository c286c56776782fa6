from __future__ import annotations

from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "pmrtrial.edc.sites"
    label = "edc_sites"
    default_auto_field = "django.db.models.BigAutoField"
