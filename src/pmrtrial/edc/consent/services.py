"""Recording informed consent (version and date) before randomisation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from pmrtrial.edc.accounts.permissions import check_participant
from pmrtrial.edc.audit.services import audit_changes
from pmrtrial.edc.consent.models import Consent
from pmrtrial.edc.errors import FormInvalid, WorkflowError
from pmrtrial.edc.screening.models import Participant

__all__ = ["record_consent"]


def record_consent(actor: Any, participant: Participant, version: str, consented_on: dt.date | str) -> Consent:
    check_participant(actor, "consent", participant)
    if participant.status != "eligible":
        raise WorkflowError(f"Consent can be recorded only for an eligible participant (status: {participant.status}).")
    errors = {}
    if not version or not str(version).strip():
        errors["version"] = "Enter the consent form version."
    try:
        day = consented_on if isinstance(consented_on, dt.date) else dt.date.fromisoformat(str(consented_on))
    except ValueError:
        errors["consented_on"] = "Enter a date as YYYY-MM-DD."
    else:
        if day > dt.date.today():
            errors["consented_on"] = "The consent date is in the future."
        elif day < participant.screened_on - dt.timedelta(days=60):
            errors["consented_on"] = "The consent date is long before screening."
    if errors:
        raise FormInvalid(errors)
    with transaction.atomic():
        consent = Consent.objects.create(
            participant=participant, version=str(version).strip(), consented_on=day, recorded_by=actor
        )
        Participant.objects.filter(pk=participant.pk).update(status="consented")
        participant.status = "consented"
        audit_changes(
            actor,
            "create",
            "consent",
            consent.pk,
            {
                "version": (None, consent.version),
                "consented_on": (None, day.isoformat()),
                "status": ("eligible", "consented"),
            },
            site_code=participant.site.code,
            participant=participant.subject_id,
        )
    return consent
