"""The audit anchor gets one line per committed transaction that appended, holding the head it committed
(real commits, on SQLite and PostgreSQL): many appends, savepoints rolled back, nothing committed, and
concurrent writers."""

from __future__ import annotations

import threading

from django.db import connections, transaction

from pmrtrial.edc.audit.anchor import read_anchor
from pmrtrial.edc.audit.models import AuditEntry, AuditHead
from pmrtrial.edc.audit.services import audit_event, current_side_files, verify_audit_chain


class _Undo(Exception):
    pass


def _lines() -> list[tuple[int, str]]:
    lines, skipped = read_anchor(current_side_files()[1])
    assert skipped == 0
    return [(line.seq, line.entry_hash) for line in lines]


def _head() -> tuple[int, str]:
    head = AuditHead.objects.get(id=1)
    return head.last_seq, head.last_hash


def _event(n: int) -> None:
    audit_event(None, "view", "test", n, detail={"n": n})


def _rolled_back(*ns: int) -> None:
    """Append ``ns`` inside an atomic block (a savepoint when nested) that is then rolled back."""
    try:
        with transaction.atomic():
            for n in ns:
                _event(n)
            raise _Undo
    except _Undo:
        pass


def test_many_appends_in_one_transaction_give_one_line(tx_db: str) -> None:
    before = _lines()
    with transaction.atomic():
        for i in range(7):
            _event(i)
        assert _lines() == before  # nothing anchored before the commit
    assert _lines() == [*before, _head()]
    assert _head()[0] == AuditEntry.objects.count() == 7
    assert verify_audit_chain().ok


def test_a_rolled_back_savepoint_is_not_anchored_and_later_appends_are(tx_db: str) -> None:
    _event(0)  # its own transaction: one line
    assert _lines() == [_head()] and _head()[0] == 1
    with transaction.atomic():
        # The first append of the transaction (the one that registers the callback) is inside the
        # savepoint rolled back: the callback goes with it and the next append registers it again.
        _rolled_back(1, 2)
        _event(3)
        _rolled_back(4)
    # Entries 2 and 3 were rolled back, the surviving append became entry 2 and is the line anchored.
    assert _head()[0] == 2 == AuditEntry.objects.count()
    assert _lines() == [(1, AuditEntry.objects.get(seq=1).entry_hash), _head()]
    assert verify_audit_chain().ok


def test_a_transaction_committing_no_append_writes_no_line(tx_db: str) -> None:
    _event(0)
    before = _lines()
    with transaction.atomic():
        _rolled_back(1)
    assert _lines() == before
    _rolled_back(2)  # a whole transaction rolled back
    assert _lines() == before
    assert _head()[0] == 1 and verify_audit_chain().ok


def test_concurrent_writers_anchor_one_committed_head_per_transaction(tx_db: str) -> None:
    n_threads, per_tx, n_tx = 4, 3, 3
    barrier = threading.Barrier(n_threads)
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            barrier.wait(timeout=20)
            for t in range(n_tx):
                with transaction.atomic():
                    for i in range(per_tx):
                        _event(100 * w + 10 * t + i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    total = n_threads * n_tx * per_tx
    assert _head()[0] == total == AuditEntry.objects.count()
    lines = _lines()
    # One line per committed transaction; each names a committed entry with its hash; the last head is anchored.
    assert len(lines) == n_threads * n_tx
    hashes = dict(AuditEntry.objects.values_list("seq", "entry_hash"))
    assert all(hashes[seq] == digest for seq, digest in lines)
    assert max(seq for seq, _ in lines) == total
    report = verify_audit_chain()
    assert report.ok, report.message
