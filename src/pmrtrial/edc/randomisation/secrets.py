"""The only code that reads allocation secrets (arms, seed, mask).

Callers are the randomisation service, unblinded roles (checked here), the emergency-unblinding
reveal, and exports (which mask arms for blinded users).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from pmrtrial.datasets import BLINDED_ARM_CODE_PATTERN
from pmrtrial.edc.accounts.permissions import check, check_participant
from pmrtrial.edc.errors import NotFound
from pmrtrial.edc.randomisation.models import AllocationSecret, RandomisationList, RandomisationListSecret
from pmrtrial.edc.screening.models import Participant

__all__ = [
    "BLINDED_CODE_PATTERN",
    "allocation_arm_for_service",
    "arm_mask_for_service",
    "blinded_code_key",
    "blinded_codes_for_service",
    "get_allocation",
    "get_allocation_list",
]

#: A per-participant blinded arm code: ``BC-`` and 8 base-32 characters (declared with the datasets).
BLINDED_CODE_PATTERN = BLINDED_ARM_CODE_PATTERN


def _blinded_code(secret: str, subject_id: str) -> str:
    digest = hmac.new(secret.encode(), b"blinded-arm-code:" + subject_id.encode(), hashlib.sha256).digest()
    return "BC-" + base64.b32encode(digest[:5]).decode()


def blinded_codes_for_service(subject_ids: list[str]) -> dict[str, str]:
    """Service use (blinded exports): subject -> a code that differs per participant.

    The code is an HMAC of the subject id under the active list's secret seed: it says nothing about
    the arm, equal arms do not share a code, and revealing one participant's arm decodes only that
    participant (unlike one study-wide A/B mapping).
    """
    lst = RandomisationList.objects.filter(active=True).order_by("-version").first()
    if lst is None:
        return {}
    seed = RandomisationListSecret.objects.get(rlist=lst).seed
    return {sid: _blinded_code(seed, sid) for sid in subject_ids}


def blinded_code_key(actor: Any) -> dict[str, str]:
    """Unblinded roles: blinded code -> arm, for every allocated participant (the unblinding key)."""
    check(actor, "view_allocation")
    arms = dict(
        AllocationSecret.objects.filter(slot__participant__isnull=False).values_list(
            "slot__participant__subject_id", "arm"
        )
    )
    codes = blinded_codes_for_service(sorted(arms))
    return {codes[sid]: arm for sid, arm in arms.items()}


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
