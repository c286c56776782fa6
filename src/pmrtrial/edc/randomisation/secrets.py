"""The only code that reads allocation secrets (arms, seed, mask).

Callers are the randomisation service, unblinded roles (checked here), the emergency-unblinding
reveal, and exports (which mask arms for blinded users).
"""

from __future__ import annotations

from typing import Any

from pmrtrial.edc.accounts.permissions import check, check_participant
from pmrtrial.edc.errors import NotFound
from pmrtrial.edc.randomisation.models import AllocationSecret, RandomisationList, RandomisationListSecret
from pmrtrial.edc.screening.models import Participant

__all__ = ["allocation_arm_for_service", "arm_mask_for_service", "get_allocation", "get_allocation_list"]


def allocation_arm_for_service(participant: Participant) -> str | None:
    """Service use only (export, unblinding reveal, demo override): the participant's arm."""
    row = AllocationSecret.objects.filter(slot__participant=participant).values_list("arm", flat=True).first()
    return row


def arm_mask_for_service() -> dict[str, str]:
    lst = RandomisationList.objects.filter(active=True).order_by("-version").first()
    if lst is None:
        return {}
    return dict(RandomisationListSecret.objects.get(rlist=lst).mask)


def get_allocation(actor: Any, participant: Participant) -> str:
    """The arm of a randomised participant, for unblinded roles."""
    check_participant(actor, "view_allocation", participant)
    arm = allocation_arm_for_service(participant)
    if arm is None:
        raise NotFound("This participant is not randomised.")
    return arm


def get_allocation_list(actor: Any) -> list[dict[str, Any]]:
    """The full list with arms and the seed, for unblinded roles."""
    check(actor, "view_allocation")
    rows = AllocationSecret.objects.select_related("slot", "slot__site", "slot__participant", "slot__rlist")
    return [
        {
            "list_version": s.slot.rlist.version,
            "site": s.slot.site.code,
            "sequence": s.slot.sequence,
            "randomisation_number": s.slot.randomisation_number,
            "kit_code": s.slot.kit_code,
            "block": s.block,
            "block_size": s.block_size,
            "arm": s.arm,
            "participant": s.slot.participant.subject_id if s.slot.participant else None,
        }
        for s in rows.order_by("slot__site__code", "slot__sequence")
    ]
