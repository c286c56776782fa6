"""Visit schedule from the protocol; windows from the randomisation date; missed visits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pmrtrial.edc.accounts.permissions import visible_participants
from pmrtrial.edc.screening.models import Participant
from pmrtrial.edc.visits.models import Visit
from pmrtrial.protocol import Protocol

__all__ = ["compute_schedule", "create_schedule", "missed_visits", "visit_status"]


def compute_schedule(protocol: Protocol, randomised_on: dt.date) -> list[dict[str, Any]]:
    """Target date and window of every protocol visit (pure)."""
    rows = []
    for v in protocol.visits:
        target = randomised_on + dt.timedelta(days=v.day)
        rows.append(
            {
                "code": v.code,
                "week": v.week,
                "target_date": target,
                "window_start": target - dt.timedelta(days=v.window_before_days),
                "window_end": target + dt.timedelta(days=v.window_after_days),
            }
        )
    return rows


def create_schedule(participant: Participant, protocol: Protocol) -> list[Visit]:
    assert participant.randomised_on is not None
    return [
        Visit.objects.create(participant=participant, **row)
        for row in compute_schedule(protocol, participant.randomised_on)
    ]


def visit_status(visit: Visit, today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    if visit.visit_date is not None:
        return "done_out_of_window" if visit.out_of_window else "done"
    if visit.participant.status in ("withdrawn", "lost", "completed"):
        return "not_done"
    if today > visit.window_end:
        return "missed"
    if today >= visit.window_start:
        return "due"
    return "upcoming"


def missed_visits(actor: Any, today: dt.date | None = None) -> list[Visit]:
    """Visits past their window without a visit date, for the participants the user may see."""
    today = today or dt.date.today()
    return list(
        Visit.objects.select_related("participant", "participant__site")
        .filter(
            participant__in=visible_participants(actor),
            participant__status="randomised",
            visit_date__isnull=True,
            window_end__lt=today,
        )
        .order_by("participant__site__code", "window_end")
    )
