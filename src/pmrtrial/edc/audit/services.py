"""Writing and verifying the audit trail (the only code that appends to it)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from pmrtrial.edc.audit.models import AuditEntry, AuditHead

__all__ = ["GENESIS_HASH", "AuditVerification", "audit_changes", "audit_event", "entry_hash", "verify_audit_chain"]

GENESIS_HASH = "0" * 64
#: Actions that are changes of data (counted by the completeness test); others are reads/events.
CHANGE_ACTIONS = frozenset({"create", "update", "delete"})


def _canon(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def entry_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 of an entry's content fields and the previous hash (canonical JSON)."""
    payload = [
        int(fields["seq"]),
        fields["at"].astimezone(dt.UTC).isoformat(timespec="microseconds"),
        fields["actor"],
        fields["action"],
        fields["object_type"],
        str(fields["object_id"]),
        fields["site_code"],
        fields["participant"],
        fields["field"],
        fields["old_value"],
        fields["new_value"],
        fields["reason"],
        bool(fields["restricted"]),
        prev_hash,
    ]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def _actor_name(actor: Any) -> str:
    if actor is None:
        return "system"
    return str(getattr(actor, "username", actor))


def _append(rows: Iterable[dict[str, Any]]) -> list[AuditEntry]:
    """Chain and insert ``rows``: one locked read of the head, one multi-row INSERT, one head UPDATE.

    ``savepoint=False``: inside a caller's transaction (a form save) no savepoint is needed, since
    an error here aborts the caller's whole transaction; alone, this is its own transaction.
    """
    with transaction.atomic(savepoint=False):
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        now = timezone.now()
        created = []
        seq, last_hash = head.last_seq, head.last_hash
        for row in rows:
            seq += 1
            fields = {**row, "seq": seq, "at": now}
            digest = entry_hash(fields, last_hash)
            created.append(AuditEntry(**fields, prev_hash=last_hash, entry_hash=digest))
            last_hash = digest
        if created:
            # bulk_create only ever INSERTs (the trail stays append-only); seq is the primary key.
            AuditEntry.objects.bulk_create(created)
            AuditHead.objects.filter(id=1).update(last_seq=seq, last_hash=last_hash)
    return created


def audit_changes(
    actor: Any,
    action: str,
    object_type: str,
    object_id: Any,
    changes: Mapping[str, tuple[Any, Any]],
    *,
    reason: str = "",
    site_code: str = "",
    participant: str = "",
    restricted: bool = False,
) -> list[AuditEntry]:
    """Append one entry per changed field: ``changes`` maps field -> (old, new)."""
    rows = [
        {
            "actor": _actor_name(actor),
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "site_code": site_code,
            "participant": participant,
            "field": name,
            "old_value": _canon(old),
            "new_value": _canon(new),
            "reason": reason,
            "restricted": restricted,
        }
        for name, (old, new) in changes.items()
    ]
    return _append(rows)


def audit_event(
    actor: Any,
    action: str,
    object_type: str,
    object_id: Any,
    *,
    detail: Any = None,
    reason: str = "",
    site_code: str = "",
    participant: str = "",
    restricted: bool = False,
) -> AuditEntry:
    """Append one entry for an event that is not a field change (view, export, lock, sign, ...)."""
    return audit_changes(
        actor,
        action,
        object_type,
        object_id,
        {"": (None, detail)},
        reason=reason,
        site_code=site_code,
        participant=participant,
        restricted=restricted,
    )[0]


@dataclass(frozen=True)
class AuditVerification:
    """Result of :func:`verify_audit_chain`."""

    ok: bool
    n_entries: int
    bad_seq: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "n_entries": self.n_entries, "bad_seq": self.bad_seq, "message": self.message}


def verify_audit_chain() -> AuditVerification:
    """Recompute every hash; report the first entry that was changed, removed or inserted."""
    prev = GENESIS_HASH
    expected_seq = 1
    n = 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        n += 1
        fields = {
            f: getattr(entry, f)
            for f in (
                "seq",
                "at",
                "actor",
                "action",
                "object_type",
                "object_id",
                "site_code",
                "participant",
                "field",
                "old_value",
                "new_value",
                "reason",
                "restricted",
            )
        }
        if entry.seq != expected_seq:
            return AuditVerification(
                False, n, entry.seq, f"audit entry {expected_seq} is missing (next is {entry.seq})"
            )
        if entry.prev_hash != prev:
            return AuditVerification(
                False, n, entry.seq, f"audit entry {entry.seq}: link to entry {entry.seq - 1} broken"
            )
        if entry_hash(fields, prev) != entry.entry_hash:
            return AuditVerification(
                False,
                n,
                entry.seq,
                f"audit entry {entry.seq} ({entry.object_type} {entry.object_id} "
                f"{entry.field or entry.action}): content does not match its hash (tampered)",
            )
        prev = entry.entry_hash
        expected_seq += 1
    head = AuditHead.objects.filter(id=1).first()
    last_seq, last_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
    if last_seq != n or last_hash != prev:
        return AuditVerification(
            False,
            n,
            n + 1 if last_seq > n else None,
            f"audit chain head expects {last_seq} entries, found {n} (entries removed at the end)",
        )
    return AuditVerification(True, n, None, f"audit chain intact: {n} entries")
