"""The GC dose log of a participant: add and list dose rows, and the live summary.

Rows are ``gc_dose`` form records (key ``GC-n``), entered and changed like any eCRF (validation,
audit trail, reason for change, locks, e-signature voiding). Who sees what: the rows and the
cumulative dose are data every viewer of the casebook sees; adherence to the arm's taper schedule
(and the schedule itself) is shown only to roles allowed to see the allocation when the arms' tapers
differ (it would reveal the arm), and to every viewer when they do not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from pmrtrial.edc.accounts.permissions import can, check_participant
from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.crfs.services import add_log_record, canonical_rows, list_log_records
from pmrtrial.edc.gc_doses.summary import GcLogSummary, summarise_gc_log, taper_reveals_arm
from pmrtrial.edc.randomisation.secrets import allocation_arm_for_service
from pmrtrial.edc.screening.models import Participant
from pmrtrial.edc.sites.services import get_protocol

__all__ = ["GC_DOSE_RENAMED", "add_gc_dose", "gc_log_summary", "list_gc_doses"]


def add_gc_dose(
    actor: Any, participant: Participant, data: Mapping[str, Any], *, confirm_warnings: bool = False
) -> FormRecord:
    """A new dose row (start date, end date or empty = ongoing, mg/day prednisone-equivalent, reason)."""
    return add_log_record(actor, participant, "gc_dose", data, confirm_warnings=confirm_warnings)


def list_gc_doses(actor: Any, participant: Participant) -> list[FormRecord]:
    return list_log_records(actor, participant, "gc_dose")


#: The ``gc_doses`` column a dose row keeps under another name (``reason`` is the reason-for-change input).
GC_DOSE_RENAMED = {"reason": "dose_reason"}


def gc_log_summary(actor: Any, participant: Participant, *, today: dt.date | None = None) -> GcLogSummary:
    """Cumulative dose to date (or to the end-of-study date) and, where ``actor`` may see it, taper adherence."""
    check_participant(actor, "view", participant)
    protocol = get_protocol(participant.site.study)
    day = today or timezone.localdate()
    eos = FormRecord.objects.filter(participant=participant, key="EOS", form="end_of_study").first()
    if eos is not None and eos.data.get("end_date"):
        day = min(day, dt.date.fromisoformat(eos.data["end_date"]))
    as_of = (day - participant.randomised_on).days if participant.randomised_on else 0
    reveals = taper_reveals_arm(protocol)
    show = not reveals or can(actor, "view_allocation", participant.site.code)
    arm = allocation_arm_for_service(participant) if reveals and show else None
    rows = canonical_rows(list_gc_doses(actor, participant), "gc_doses", GC_DOSE_RENAMED)
    return summarise_gc_log(protocol, rows, as_of_day=as_of, arm=arm, show_taper=show)
