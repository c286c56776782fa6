"""Adverse events: one ``adverse_event`` form record per event (key ``AE-n``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from pmrtrial.edc.accounts.permissions import check_participant
from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.crfs.services import save_form
from pmrtrial.edc.errors import WorkflowError
from pmrtrial.edc.screening.models import Participant

__all__ = ["add_adverse_event", "list_adverse_events"]


def add_adverse_event(
    actor: Any, participant: Participant, data: Mapping[str, Any], *, confirm_warnings: bool = False
) -> FormRecord:
    """Record a new adverse event; later changes go through :func:`save_form` with its key."""
    check_participant(actor, "enter_data", participant)
    if participant.randomised_on is None:
        raise WorkflowError("Adverse events are recorded for randomised participants.")
    with transaction.atomic():
        Participant.objects.select_for_update().get(pk=participant.pk)
        n = FormRecord.objects.filter(participant=participant, form="adverse_event").count() + 1
        return save_form(actor, participant, f"AE-{n}", "adverse_event", data, confirm_warnings=confirm_warnings)


def list_adverse_events(actor: Any, participant: Participant) -> list[FormRecord]:
    check_participant(actor, "view", participant)
    return list(FormRecord.objects.filter(participant=participant, form="adverse_event").order_by("id"))
