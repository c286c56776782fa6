"""Template context for every page: whether the database is a demo (SYNTHETIC banner) and the study title."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest

from pmrtrial.edc.crfs.status import FORM_STATES
from pmrtrial.edc.sites.models import Study


def edc(request: HttpRequest) -> dict[str, Any]:
    try:
        study = Study.objects.defer("protocol_yaml").order_by("id").first()
    except DatabaseError:  # not migrated yet
        study = None
    return {"edc_study": study, "edc_demo": bool(study and study.demo), "legend_states": FORM_STATES}
