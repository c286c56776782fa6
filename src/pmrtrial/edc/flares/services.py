"""Flare assessments of a participant: the PMR-AS components and CRP at the assessment, the
investigator's judgement, and the Dejaco 2011 rule that fired against the baseline CRP PMR-AS
(:func:`pmrtrial.edc.crfs.form_validators.judge_flare`). Each is a ``flare`` form record (``FL-n``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.crfs.services import add_log_record, list_log_records
from pmrtrial.edc.screening.models import Participant

__all__ = ["add_flare", "list_flares"]


def add_flare(
    actor: Any, participant: Participant, data: Mapping[str, Any], *, confirm_warnings: bool = False
) -> FormRecord:
    return add_log_record(actor, participant, "flare", data, confirm_warnings=confirm_warnings)


def list_flares(actor: Any, participant: Participant) -> list[FormRecord]:
    return list_log_records(actor, participant, "flare")
