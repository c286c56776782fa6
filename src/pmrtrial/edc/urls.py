"""URL map: the web UI at ``/``, the JSON API at ``/api/`` (OpenAPI at ``/api/openapi.json``) and the
REDCap-compatible API at ``/redcap/api/``."""

from __future__ import annotations

from django.urls import include, path

from pmrtrial.edc.api import api, not_found_json
from pmrtrial.edc.redcap.api import redcap_api

urlpatterns = [
    path("api/", api.urls),
    path("api/<path:rest>", not_found_json),
    path("redcap/api/", redcap_api, name="redcap-api"),
    path("", include("pmrtrial.edc.ui.urls")),
]
