"""Adverse events: one ``adverse_event`` form record per event (key ``AE-n``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.crfs.services import add_log_record, list_log_records
from pmrtrial.edc.screening.models import Participant

__all__ = ["add_adverse_event", "list_adverse_events"]


def add_adverse_event(
    actor: Any, participant: Participant, data: Mapping[str, Any], *, confirm_warnings: bool = False
) -> FormRecord:
    """Record a new adverse event; later changes go through :func:`save_form` with its key."""
    return add_log_record(actor, participant, "adverse_event", data, confirm_warnings=confirm_warnings)


def list_adverse_events(actor: Any, participant: Participant) -> list[FormRecord]:
    return list_log_records(actor, participant, "adverse_event")
