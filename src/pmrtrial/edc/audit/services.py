"""Writing and verifying the audit trail (the only code that appends to it).

Each entry's hash is an HMAC-SHA256, keyed with a key kept outside the database, over the entry's
content and the previous entry's hash; after each commit the new head is appended to an anchor file
outside the database (:mod:`pmrtrial.edc.audit.anchor`). :func:`verify_audit_chain` checks the chain,
the key and the anchor; :func:`pmrtrial.edc.audit.replay.verify_integrity` also replays the trail
against the current records.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from pmrtrial.edc.audit.anchor import AuditKeyMissing, append_anchor, create_side_files, read_anchor, read_key
from pmrtrial.edc.audit.models import AuditEntry, AuditHead
from pmrtrial.edc.conf import audit_side_files, side_files_for_sqlite
from pmrtrial.edc.sql import col, fetch, for_update, insert, table, vendor

__all__ = [
    "GENESIS_HASH",
    "AuditVerification",
    "audit_changes",
    "audit_event",
    "canon",
    "current_side_files",
    "ensure_side_files",
    "entry_hash",
    "verification_side_files",
    "verify_audit_chain",
]

GENESIS_HASH = "0" * 64
#: Actions that are changes of data (counted by the completeness test); others are reads/events.
CHANGE_ACTIONS = frozenset({"create", "update", "delete"})


def verification_side_files(db_path: Path | str) -> list[Path]:
    """The files beside the SQLite database ``db_path`` that verification needs: [audit key, anchor].

    A backup must copy them with the database (and a restore put them back beside it).
    """
    return list(side_files_for_sqlite(db_path))


def current_side_files() -> tuple[Path, Path]:
    """(key, anchor) of the database Django is connected to now."""
    return audit_side_files(connection.settings_dict)


def ensure_side_files() -> list[Path]:
    """Create the key and the anchor (0600) beside the current database when absent (``edc init``)."""
    key, anchor = current_side_files()
    return create_side_files(key, anchor)


def canon(value: Any) -> str:
    """How a value is stored in an entry's old/new value: strings as they are, others as canonical JSON."""
    return _canon(value)


def _canon(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def entry_hash(fields: Mapping[str, Any], prev_hash: str, key: bytes) -> str:
    """HMAC-SHA256 (keyed with ``key``) of an entry's content fields and the previous hash (canonical JSON)."""
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
    return hmac.new(key, json.dumps(payload, ensure_ascii=False).encode("utf-8"), hashlib.sha256).hexdigest()


def _actor_name(actor: Any) -> str:
    if actor is None:
        return "system"
    return str(getattr(actor, "username", actor))


@functools.cache
def _head_sql(db_vendor: str) -> tuple[str, str]:
    """(read and lock the head, move the head): hand-written, as every save runs them (:mod:`pmrtrial.edc.sql`)."""
    seq, last = col(AuditHead, "last_seq"), col(AuditHead, "last_hash")
    where = f"WHERE {col(AuditHead, 'id')} = 1"
    return (
        f"SELECT {seq}, {last} FROM {table(AuditHead)} {where}{for_update()}",
        f"UPDATE {table(AuditHead)} SET {seq} = %s, {last} = %s {where}",
    )


def _append(rows: Iterable[dict[str, Any]]) -> list[AuditEntry]:
    """Chain and insert ``rows``: one locked read of the head, one multi-row INSERT, one head UPDATE
    (in the INSERT's statement on PostgreSQL).

    The head row's lock (PostgreSQL ``FOR UPDATE``; SQLite's single writer) keeps the chain strictly
    serial: a concurrent writer waits for this transaction and then reads the head it left.
    ``savepoint=False``: inside a caller's transaction (a form save) no savepoint is needed, since
    an error here aborts the caller's whole transaction; alone, this is its own transaction.
    """
    read_head, move_head = _head_sql(vendor())
    with transaction.atomic(savepoint=False):
        found = fetch(read_head)
        if not found:  # a new database: create the head row (locked) the first time
            head = AuditHead.objects.select_for_update().get_or_create(id=1)[0]
            found = [(head.last_seq, head.last_hash)]
        seq, last_hash = int(found[0][0]), str(found[0][1])
        # A missing key is created only for an empty trail (a new database); otherwise it must be restored.
        key_path, anchor = current_side_files()
        key = read_key(key_path, create_if_missing=seq == 0)
        now = timezone.now()
        created = []
        for row in rows:
            seq += 1
            fields = {**row, "seq": seq, "at": now}
            digest = entry_hash(fields, last_hash, key)
            created.append(AuditEntry(**fields, prev_hash=last_hash, entry_hash=digest))
            last_hash = digest
        if created:
            # Only ever INSERTs (the trail stays append-only; seq is the primary key), and the head moves
            # in the same statement where the database allows it (PostgreSQL).
            insert(AuditEntry, created, along=(move_head, [seq, last_hash]))
            _anchor_on_commit(anchor)
    return created


class _AnchorCommittedHead:
    """The on_commit callback of a transaction that appended: anchor the head it committed.

    Read after the commit, the head row holds every append of this transaction that survived (appends
    inside a savepoint rolled back are gone from it too), or a later writer's head (also committed).
    """

    def __init__(self, anchor: Path) -> None:
        self.anchor = anchor

    def __call__(self) -> None:
        head = AuditHead.objects.filter(id=1).values_list("last_seq", "last_hash").first()
        if head is not None and head[0] > 0:
            append_anchor(self.anchor, int(head[0]), str(head[1]))


def _anchor_on_commit(anchor: Path) -> None:
    """Register one anchor line for the current transaction: once, however many appends it makes.

    Django keeps the pending callbacks in ``connection.run_on_commit`` as (savepoint ids, callback,
    robust); a rolled-back savepoint removes the callbacks registered inside it, so a callback that is
    gone (its appends undone) is registered again by the next append.
    """
    if not any(isinstance(func, _AnchorCommittedHead) for _, func, *_ in connection.run_on_commit):
        transaction.on_commit(_AnchorCommittedHead(anchor))


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


_ENTRY_FIELDS = (
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


def verify_audit_chain(entries: Iterable[AuditEntry] | None = None) -> AuditVerification:
    """Recompute every keyed hash and compare the head with the external anchor.

    Reports the first entry that was changed, removed or inserted (or a chain recomputed without the
    key), a head moved back behind the anchor, and a missing key or anchor. ``entries``: the whole trail
    in ``seq`` order when the caller has already read it (the replay), else it is read here.
    """
    key_path, anchor_path = current_side_files()
    head = AuditHead.objects.filter(id=1).first()
    last_seq, last_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
    try:
        key = read_key(key_path, create_if_missing=False)
    except AuditKeyMissing as exc:
        return AuditVerification(False, 0, None, str(exc))
    prev = GENESIS_HASH
    expected_seq = 1
    n = 0
    hashes: dict[int, str] = {}
    if entries is None:
        entries = AuditEntry.objects.order_by("seq").iterator(chunk_size=2000)
    for entry in entries:
        n += 1
        fields = {f: getattr(entry, f) for f in _ENTRY_FIELDS}
        if entry.seq != expected_seq:
            return AuditVerification(
                False, n, entry.seq, f"audit entry {expected_seq} is missing (next is {entry.seq})"
            )
        if entry.prev_hash != prev:
            return AuditVerification(
                False, n, entry.seq, f"audit entry {entry.seq}: link to entry {entry.seq - 1} broken"
            )
        if not hmac.compare_digest(entry_hash(fields, prev, key), entry.entry_hash):
            return AuditVerification(
                False,
                n,
                entry.seq,
                f"audit entry {entry.seq} ({entry.object_type} {entry.object_id} "
                f"{entry.field or entry.action}): content does not match its keyed hash (tampered, "
                "or the chain was recomputed without the key)",
            )
        hashes[entry.seq] = entry.entry_hash
        prev = entry.entry_hash
        expected_seq += 1
    if last_seq != n or last_hash != prev:
        return AuditVerification(
            False,
            n,
            n + 1 if last_seq > n else None,
            f"audit chain head expects {last_seq} entries, found {n} (entries removed at the end)",
        )
    return _check_anchor(anchor_path, hashes, n)


def _check_anchor(anchor_path: Path, hashes: Mapping[int, str], n: int) -> AuditVerification:
    """Every anchor line must name an entry of the chain with its hash; none may be beyond the head."""
    if not anchor_path.exists():
        if n == 0:
            return AuditVerification(True, 0, None, "audit chain intact: 0 entries")
        return AuditVerification(
            False, n, None, f"audit anchor {anchor_path} is missing: the chain head cannot be checked"
        )
    lines, skipped = read_anchor(anchor_path)
    top = max((line.seq for line in lines), default=0)
    if top > n:
        return AuditVerification(
            False,
            n,
            n + 1,
            f"audit chain rewound: the anchor {anchor_path} records entry {top}, the chain ends at {n} "
            "(entries removed and the head moved back)",
        )
    for line in lines:
        if hashes.get(line.seq) != line.entry_hash:
            return AuditVerification(
                False,
                n,
                line.seq,
                f"audit entry {line.seq}: hash differs from the one anchored in {anchor_path} (chain rewritten)",
            )
    note = f"; {skipped} unreadable anchor line(s) skipped" if skipped else ""
    lag = f"; anchored up to entry {top}" if top < n else ""
    return AuditVerification(True, n, None, f"audit chain intact: {n} entries{lag}{note}")
