"""Concealed randomisation: sealed lists, concurrency-safe allocation, emergency unblinding."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets as pysecrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from pmrtrial.design.allocation import replay_minimisation
from pmrtrial.edc.accounts.permissions import check, check_participant
from pmrtrial.edc.audit.services import audit_changes, audit_event
from pmrtrial.edc.errors import NotFound, PermissionDenied, WorkflowError
from pmrtrial.edc.randomisation.lists import AllocationRow, generate_permuted_block_list
from pmrtrial.edc.randomisation.models import (
    AllocationSecret,
    RandomisationList,
    RandomisationListSecret,
    RandomisationSlot,
    UnblindingRequest,
)
from pmrtrial.edc.randomisation.secrets import allocation_arm_for_service
from pmrtrial.edc.screening.models import Participant
from pmrtrial.edc.sites.models import Site, Study
from pmrtrial.edc.sites.services import get_protocol, get_study
from pmrtrial.edc.visits.services import create_schedule

__all__ = [
    "approve_unblinding",
    "create_randomisation_list",
    "list_seal",
    "minimisation_levels",
    "minimisation_replay",
    "randomise_participant",
    "request_unblinding",
    "reveal_allocation",
    "verify_list_seal",
]

_KIT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _kit_code(used: set[str]) -> str:
    while True:
        code = "K" + "".join(pysecrets.choice(_KIT_ALPHABET) for _ in range(7))
        if code not in used:
            used.add(code)
            return code


def _seal(rows: list[tuple[str, int, str, str, str]], seed: str) -> str:
    payload = json.dumps({"seed": seed, "rows": sorted(rows)}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def create_randomisation_list(study: Study, *, n_per_site: int = 40, seed: int | None = None) -> RandomisationList:
    """Generate, store and seal a new list version (the previous one is deactivated).

    Kit codes are random (``secrets``), independent of the arm. The seed is kept in the secret table.
    """
    protocol = get_protocol(study)
    seed_value = pysecrets.randbits(63) if seed is None else int(seed)
    sites = list(Site.objects.filter(study=study).order_by("code"))
    minimising = protocol.randomisation.method == "minimisation"
    if minimising:
        # Slots (numbers, kit codes) only: each arm is computed at randomisation by minimisation.
        rows = [AllocationRow(s.code, i, "", 0, 0) for s in sites for i in range(1, n_per_site + 1)]
    else:
        rows = generate_permuted_block_list(
            ratio=protocol.randomisation.ratio,
            strata=[s.code for s in sites],
            n_per_stratum=n_per_site,
            block_sizes=protocol.randomisation.block_sizes,
            seed=seed_value,
        )
    by_code = {s.code: s for s in sites}
    used: set[str] = set(RandomisationSlot.objects.values_list("kit_code", flat=True))
    arms = sorted(protocol.randomisation.ratio)
    labels = [chr(ord("A") + i) for i in range(len(arms))]
    order = list(range(len(arms)))
    pysecrets.SystemRandom().shuffle(order)
    mask = {arms[i]: labels[order[i]] for i in range(len(arms))}
    with transaction.atomic():
        prev = RandomisationList.objects.filter(study=study).order_by("-version").first()
        version = (prev.version + 1) if prev else 1
        RandomisationList.objects.filter(study=study).update(active=False)
        rlist = RandomisationList.objects.create(
            study=study,
            version=version,
            active=True,
            method=_method_text(protocol),
            block_sizes=[] if minimising else list(protocol.randomisation.block_sizes),
            sealed_at=timezone.now(),
            seal_hash="",
        )
        RandomisationListSecret.objects.create(rlist=rlist, seed=str(seed_value), mask=mask)
        sealed = []
        for row in rows:
            slot = RandomisationSlot.objects.create(
                rlist=rlist,
                site=by_code[row.stratum],
                sequence=row.sequence,
                randomisation_number=f"R{version}-{row.stratum}-{row.sequence:03d}",
                kit_code=_kit_code(used),
            )
            if not minimising:
                AllocationSecret.objects.create(slot=slot, arm=row.arm, block=row.block, block_size=row.block_size)
            sealed.append((row.stratum, row.sequence, slot.randomisation_number, slot.kit_code, row.arm))
        rlist.seal_hash = _seal(sealed, _seal_key(rlist, str(seed_value)))
        rlist.save(update_fields=["seal_hash"])
        audit_changes(
            None,
            "create",
            "randomisation_list",
            version,
            {"method": (None, rlist.method), "slots": (None, len(rows)), "seal_hash": (None, rlist.seal_hash)},
        )
    return rlist


def _method_text(protocol: Any) -> str:
    r = protocol.randomisation
    if r.method == "minimisation":
        return f"Pocock-Simon minimisation over {', '.join(r.minimisation_factors)}, p = {r.minimisation_p}"
    return f"permuted blocks stratified by {', '.join(r.stratify_by) or 'none'}"


def _seal_key(rlist: RandomisationList, seed: str) -> str:
    """What the seal binds besides the rows: the seed, and for minimisation its method (factors, p)."""
    return seed if not rlist.method.startswith("Pocock") else f"{seed}|{rlist.method}"


def list_seal(rlist: RandomisationList) -> str:
    """Service use (audit verification): the seal recomputed from the list's secret content.

    Permuted blocks: every slot with its arm. Minimisation: every slot (arms are computed at
    randomisation and checked by :func:`minimisation_replay`), the seed and the method.
    """
    seed = RandomisationListSecret.objects.get(rlist=rlist).seed
    if rlist.method.startswith("Pocock"):
        rows = [
            (s.site.code, s.sequence, s.randomisation_number, s.kit_code, "")
            for s in RandomisationSlot.objects.select_related("site").filter(rlist=rlist)
        ]
    else:
        rows = [
            (s.slot.site.code, s.slot.sequence, s.slot.randomisation_number, s.slot.kit_code, s.arm)
            for s in AllocationSecret.objects.select_related("slot", "slot__site").filter(slot__rlist=rlist)
        ]
    return _seal(rows, _seal_key(rlist, seed))


def minimisation_levels(participant: Participant, factors: tuple[str, ...]) -> dict[str, str]:
    """A participant's level of each minimisation factor: ``site_id`` is the site, others screening values."""
    levels = {}
    for factor in factors:
        value = participant.site.code if factor == "site_id" else participant.screening_data.get(factor)
        if value is None or value == "":
            raise WorkflowError(f"Minimisation needs {factor!r} for {participant.subject_id}; it is not recorded.")
        levels[factor] = _canon_level(value)
    return levels


def _canon_level(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def minimisation_replay(rlist: RandomisationList, entries: list[dict[str, str]]) -> list[str]:
    """Service use: the arms minimisation gives ``entries`` (levels in allocation order) from the sealed seed."""
    protocol = get_protocol(rlist.study)
    r = protocol.randomisation
    return replay_minimisation(
        ratio=r.ratio,
        factors=r.minimisation_factors,
        p_best=r.minimisation_p,
        seed=int(RandomisationListSecret.objects.get(rlist=rlist).seed),
        entries=entries,
    )


def verify_list_seal(actor: Any) -> bool:
    """Unblinded roles: recompute the active list's seal from its secret content."""
    check(actor, "view_allocation")
    rlist = RandomisationList.objects.get(active=True)
    return list_seal(rlist) == rlist.seal_hash


def randomise_participant(
    actor: Any,
    participant: Participant,
    *,
    randomised_on: dt.date | None = None,
    demo_arm: str | None = None,
) -> Participant:
    """Allocate the next free slot of the participant's site (row-locked) and create the visit schedule.

    ``demo_arm`` and ``randomised_on`` are the **demo-only override**: they are refused unless the
    study was created with ``demo=True`` (``pmrtrial edc init --demo``). With them the synthetic
    twin keeps its published arm: the first free slot of that arm at the site is taken. A real
    study never accepts them.
    """
    check_participant(actor, "randomise", participant)
    study = get_study()
    if (demo_arm is not None or randomised_on is not None) and not study.demo:
        raise PermissionDenied("The allocation override is for demo studies only; this study is not a demo.")
    if study.locked:
        raise WorkflowError("The database is locked.")
    protocol = get_protocol(study)
    with transaction.atomic():
        # Serialise randomisations per site: lock the site row, then read the free slots.
        Site.objects.select_for_update().get(pk=participant.site_id)
        p = Participant.objects.select_for_update().select_related("site").get(pk=participant.pk)
        if p.status == "randomised" or p.randomisation_number:
            raise WorkflowError("This participant is already randomised.")
        if p.status != "consented" or not p.consents.exists():
            raise WorkflowError("Consent must be recorded before randomisation.")
        free = RandomisationSlot.objects.filter(rlist__active=True, site=p.site, participant__isnull=True)
        minimised: dict[str, str] | None = None
        if protocol.randomisation.method == "minimisation":
            if demo_arm is not None:
                raise WorkflowError("The demo allocation override is for permuted-block lists only.")
            minimised = minimisation_levels(p, protocol.randomisation.minimisation_factors)
        elif demo_arm is not None:
            protocol.get_arm(demo_arm)
            free = free.filter(secret__arm=demo_arm)
        slot = free.order_by("sequence").first()
        if slot is None:
            raise WorkflowError(f"The randomisation list of site {p.site.code} is exhausted.")
        if minimised is not None:
            _minimise_into(slot, p, minimised, protocol)
        now = timezone.now()
        taken = RandomisationSlot.objects.filter(pk=slot.pk, participant__isnull=True).update(
            participant=p, allocated_at=now
        )
        if taken != 1:  # cannot happen under the site lock; kept as a guard
            raise WorkflowError("Randomisation slot already taken; retry.")
        p.status = "randomised"
        p.randomisation_number = slot.randomisation_number
        p.kit_code = slot.kit_code
        p.randomised_on = randomised_on or timezone.localdate()
        p.save(update_fields=["status", "randomisation_number", "kit_code", "randomised_on"])
        create_schedule(p, protocol)
        audit_changes(
            actor,
            "create",
            "allocation",
            p.subject_id,
            {
                "randomisation_number": (None, p.randomisation_number),
                "kit_code": (None, p.kit_code),
                "randomised_on": (None, p.randomised_on.isoformat()),
                "status": ("consented", "randomised"),
                **({"minimisation_levels": (None, minimised)} if minimised is not None else {}),
            },
            site_code=p.site.code,
            participant=p.subject_id,
            reason="demo allocation override" if demo_arm else "",
        )
        audit_event(
            actor,
            "allocate",
            "allocation_secret",
            slot.pk,
            detail=allocation_arm_for_service(p),
            site_code=p.site.code,
            participant=p.subject_id,
            restricted=True,
        )
    participant.refresh_from_db()
    return participant


def _minimise_into(slot: RandomisationSlot, p: Participant, levels: dict[str, str], protocol: Any) -> None:
    """Compute the arm of ``p`` by minimisation and store it in ``slot``'s secret (study-wide lock held).

    The state is rebuilt from the sealed seed and every earlier allocation's levels, in allocation
    order, so the live allocation and any later replay are the same computation.
    """
    rlist = RandomisationList.objects.select_for_update().get(pk=slot.rlist_id)
    earlier = (
        AllocationSecret.objects.filter(slot__rlist=rlist).select_related("slot__participant__site").order_by("pk")
    )
    factors = protocol.randomisation.minimisation_factors
    entries = [minimisation_levels(s.slot.participant, factors) for s in earlier if s.slot.participant is not None]
    arm = minimisation_replay(rlist, [*entries, levels])[-1]
    AllocationSecret.objects.create(slot=slot, arm=arm, block=0, block_size=0)


def request_unblinding(actor: Any, participant: Participant, reason: str) -> UnblindingRequest:
    check_participant(actor, "request_unblinding", participant)
    if not reason or len(reason.strip()) < 10:
        raise WorkflowError("Give the clinical reason for emergency unblinding (at least 10 characters).")
    if participant.status not in ("randomised", "completed", "withdrawn", "lost"):
        raise WorkflowError("Only a randomised participant can be unblinded.")
    with transaction.atomic():
        req = UnblindingRequest.objects.create(participant=participant, requested_by=actor, reason=reason.strip())
        audit_changes(
            actor,
            "create",
            "unblinding_request",
            req.pk,
            {"state": (None, "requested")},
            reason=req.reason,
            site_code=participant.site.code,
            participant=participant.subject_id,
        )
    return req


def approve_unblinding(actor: Any, request_id: int, *, approve: bool = True, reason: str = "") -> UnblindingRequest:
    check(actor, "approve_unblinding")
    with transaction.atomic():
        req = (
            UnblindingRequest.objects.select_for_update()
            .select_related("participant__site")
            .filter(pk=request_id)
            .first()
        )
        if req is None:
            raise NotFound("No such unblinding request.")
        if req.state != "requested":
            raise WorkflowError(f"The request is already {req.state}.")
        if req.requested_by_id == actor.pk:
            raise PermissionDenied("The requester cannot approve their own request.")
        req.state = "approved" if approve else "rejected"
        req.decided_by = actor
        req.decided_at = timezone.now()
        req.save()
        audit_changes(
            actor,
            "update",
            "unblinding_request",
            req.pk,
            {"state": ("requested", req.state)},
            reason=reason,
            site_code=req.participant.site.code,
            participant=req.participant.subject_id,
        )
    return req


def reveal_allocation(actor: Any, request_id: int) -> str:
    """Reveal the arm to the named requester only, once approved (audited, restricted entry)."""
    with transaction.atomic():
        req = (
            UnblindingRequest.objects.select_for_update()
            .select_related("participant__site")
            .filter(pk=request_id)
            .first()
        )
        if req is None or req.requested_by_id != getattr(actor, "pk", None):
            raise NotFound("No such unblinding request.")
        if req.state not in ("approved", "revealed"):
            raise WorkflowError(f"The request is {req.state}; it must be approved first.")
        arm = allocation_arm_for_service(req.participant)
        if arm is None:
            raise NotFound("This participant is not randomised.")
        if req.state == "approved":
            req.state = "revealed"
            req.revealed_at = timezone.now()
            req.save()
            audit_changes(
                actor,
                "update",
                "unblinding_request",
                req.pk,
                {"state": ("approved", "revealed")},
                reason=req.reason,
                site_code=req.participant.site.code,
                participant=req.participant.subject_id,
            )
        audit_event(
            actor,
            "reveal",
            "allocation_secret",
            req.participant.subject_id,
            detail=arm,
            reason=req.reason,
            site_code=req.participant.site.code,
            participant=req.participant.subject_id,
            restricted=True,
        )
    return get_protocol().get_arm(arm).label
