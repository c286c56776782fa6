"""URL map: the web UI at ``/`` and the JSON API at ``/api/`` (OpenAPI at ``/api/openapi.json``)."""

from __future__ import annotations

from django.urls import include, path

from pmrtrial.edc.api import api, not_found_json

urlpatterns = [
    path("api/", api.urls),
    path("api/<path:rest>", not_found_json),
    path("", include("pmrtrial.edc.ui.urls")),
]
