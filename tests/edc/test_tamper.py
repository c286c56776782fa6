"""Tamper evidence over the data (issue 12, item 3): the eight scenarios, each mutating a real
SQLite file with ``sqlite3`` behind the EDC's back and checked with ``pmrtrial edc audit verify``;
some again on PostgreSQL (raw SQL through the test connection) with :func:`verify_integrity`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.edc.conftest import bachelor_text, candidate, make_users

ROOT = Path(__file__).resolve().parents[2]
ENTRY = "edc_audit_auditentry"
HEAD = "edc_audit_audithead"

# Runs in a fresh interpreter (PMRTRIAL_EDC_DB names the file): a randomised participant with a
# form saved, changed and locked, and a query; every step commits, so every step is anchored.
_BUILD = """
import datetime as dt, json, sys
from pmrtrial.edc import setup
setup()
from pmrtrial.edc import services as svc
from pmrtrial.edc.accounts.services import create_user
inv = create_user(None, "inv1", "correct-horse-battery", "investigator", ("01",))
dm = create_user(None, "dm", "correct-horse-battery", "data_manager", ())
p = svc.screen_participant(inv, "01", json.loads(sys.argv[1]))
svc.record_consent(inv, p, "1.0", dt.date.today())
p = svc.randomise_participant(inv, p)
labs = {"crp_value": 4, "crp_unit": "mg/L", "esr_mm_h": 10}
svc.save_form(inv, p, "W0", "labs", labs, confirm_warnings=True)
svc.save_form(inv, p, "W0", "labs", {**labs, "esr_mm_h": 12}, expected_version=1, reason="lab report",
              confirm_warnings=True)
svc.lock_form(dm, p, "W0", "labs")
print(p.subject_id)
"""


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMRTRIAL_EDC_AUDIT")}
    env.update(PMRTRIAL_EDC_DB=str(db), PYTHONPATH=str(ROOT / "src"))
    env.pop("DATABASE_URL", None)
    return env


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pmrtrial", "edc", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        env=_env(db),
        timeout=120,
    )


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tamper-baseline")
    db = folder / "edc.sqlite3"
    r = _cli(db, "init", "--sites", "2", "--per-site", "4", "--seed", "11")
    assert r.returncode == 0, r.stderr
    cand = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in candidate().items()}
    built = subprocess.run(
        [sys.executable, "-c", _BUILD, json.dumps(cand)], capture_output=True, text=True, env=_env(db), timeout=120
    )
    assert built.returncode == 0, built.stderr
    return db


@pytest.fixture
def copy(baseline: Path, tmp_path: Path) -> Path:
    """A copy of the baseline database with its key and anchor (what a backup holds)."""
    from pmrtrial.edc.audit.services import verification_side_files

    db = tmp_path / "edc.sqlite3"
    for src in [baseline, *verification_side_files(baseline)]:
        shutil.copy2(src, tmp_path / src.name)
    return db


def _sql(db: Path, *statements: str) -> None:
    with sqlite3.connect(db) as con:
        for s in statements:
            con.execute(s)


def _rows(db: Path, query: str) -> list[Any]:
    with sqlite3.connect(db) as con:
        return con.execute(query).fetchall()


def _failed(db: Path, *needles: str) -> str:
    r = _cli(db, "audit", "verify")
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "Traceback" not in out
    for needle in needles:
        assert needle in out, out
    return out


def test_untouched_database_verifies_and_side_files_are_owner_only(baseline: Path, copy: Path) -> None:
    from pmrtrial.edc.audit.services import verification_side_files

    r = _cli(copy, "audit", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "intact" in r.stdout and "records match the trail" in r.stdout
    key, anchor = verification_side_files(baseline)
    assert (key.name, anchor.name) == ("edc.sqlite3.audit-key", "edc.sqlite3.audit-anchor")
    for f in (key, anchor):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    # The anchor holds one line per committed transaction that appended, the last one the database's head.
    last_seq, last_hash = _rows(baseline, f"SELECT last_seq, last_hash FROM {HEAD}")[0]
    assert anchor.read_text().splitlines()[-1] == f"{last_seq} {last_hash}"


def test_edit_form_data(copy: Path) -> None:
    _sql(copy, "UPDATE edc_crfs_formrecord SET data = json_set(data, '$.esr_mm_h', 99) WHERE form = 'labs'")
    _failed(copy, "edc_crfs_formrecord 01-001/W0/labs data.esr_mm_h: audit trail says '12.0', database has '99'")


def test_unlock_a_locked_form(copy: Path) -> None:
    _sql(copy, "UPDATE edc_crfs_formrecord SET locked = 0 WHERE form = 'labs'")
    _failed(copy, "edc_crfs_formrecord 01-001/W0/labs locked: audit trail says 'true', database has 'false'")


def test_edit_a_kit_code(copy: Path) -> None:
    _sql(
        copy,
        "UPDATE edc_randomisation_randomisationslot SET kit_code = 'KTAMPER1' WHERE participant_id IS NOT NULL",
        "UPDATE edc_screening_participant SET kit_code = 'KTAMPER1'",
    )
    _failed(
        copy,
        "edc_screening_participant 01-001 kit_code",
        "edc_randomisation_randomisationslot R1-01-",
        "seal (recomputed from arms, kit codes and seed)",
    )


def _swap_arms(db: Path) -> None:
    rows = _rows(
        db,
        "SELECT s.id, s.arm FROM edc_randomisation_allocationsecret s JOIN edc_randomisation_randomisationslot r "
        "ON r.id = s.slot_id WHERE r.participant_id IS NOT NULL",
    )
    ((slot_id, arm),) = rows
    other = _rows(db, f"SELECT id, arm FROM edc_randomisation_allocationsecret WHERE arm != '{arm}' LIMIT 1")[0]
    _sql(
        db,
        f"UPDATE edc_randomisation_allocationsecret SET arm = '{other[1]}' WHERE id = {slot_id}",
        f"UPDATE edc_randomisation_allocationsecret SET arm = '{arm}' WHERE id = {other[0]}",
    )


def test_swap_an_arm_in_the_allocation_secrets(copy: Path) -> None:
    _swap_arms(copy)
    _failed(copy, "edc_randomisation_allocationsecret", " arm: audit trail says", "seal (recomputed")


def test_swap_an_arm_and_reseal_the_list(copy: Path) -> None:
    """The attacker recomputes the (unkeyed) list seal too: the audited seal still differs."""
    _swap_arms(copy)
    # Change the first hex digit (to 'e' if it already is 'f': an unchanged seal would test nothing).
    _sql(
        copy,
        "UPDATE edc_randomisation_randomisationlist"
        " SET seal_hash = CASE WHEN substr(seal_hash, 1, 1) = 'f' THEN 'e' ELSE 'f' END || substr(seal_hash, 2)",
    )
    _failed(copy, "edc_randomisation_randomisationlist v1 seal_hash: audit trail says")


def test_delete_the_last_entry_and_rewind_the_head(copy: Path) -> None:
    (n,) = _rows(copy, f"SELECT max(seq) FROM {ENTRY}")[0]
    (prev_hash,) = _rows(copy, f"SELECT entry_hash FROM {ENTRY} WHERE seq = {n - 1}")[0]
    _sql(
        copy, f"DELETE FROM {ENTRY} WHERE seq = {n}", f"UPDATE {HEAD} SET last_seq = {n - 1}, last_hash = '{prev_hash}'"
    )
    _failed(copy, f"audit chain rewound: the anchor {copy}.audit-anchor records entry {n}, the chain ends at {n - 1}")


def _unkeyed(row: dict[str, Any], prev: str) -> str:
    """What an attacker without the key computes: the plain SHA-256 chain of the original design."""
    at = dt.datetime.fromisoformat(row["at"]).replace(tzinfo=dt.UTC)
    payload = [
        row["seq"],
        at.isoformat(timespec="microseconds"),
        row["actor"],
        row["action"],
        row["object_type"],
        row["object_id"],
        row["site_code"],
        row["participant"],
        row["field"],
        row["old_value"],
        row["new_value"],
        row["reason"],
        bool(row["restricted"]),
        prev,
    ]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def test_edit_an_entry_and_recompute_the_whole_chain_without_the_key(copy: Path) -> None:
    _sql(copy, f"UPDATE {ENTRY} SET new_value = '99' WHERE field = 'esr_mm_h' AND action = 'update'")
    con = sqlite3.connect(copy)
    con.row_factory = sqlite3.Row
    prev = "0" * 64
    with con:
        for row in con.execute(f"SELECT * FROM {ENTRY} ORDER BY seq").fetchall():
            digest = _unkeyed(dict(row), prev)
            con.execute(f"UPDATE {ENTRY} SET prev_hash = ?, entry_hash = ? WHERE seq = ?", (prev, digest, row["seq"]))
            prev = digest
        con.execute(f"UPDATE {HEAD} SET last_hash = ?", (prev,))
    con.close()
    _failed(copy, "audit entry 1 ", "does not match its keyed hash")


def test_edit_an_entry(copy: Path) -> None:
    (seq,) = _rows(copy, f"SELECT seq FROM {ENTRY} WHERE field = 'esr_mm_h' AND action = 'update'")[0]
    _sql(copy, f"UPDATE {ENTRY} SET new_value = '99' WHERE seq = {seq}")
    _failed(copy, f"audit entry {seq} (form:labs 01-001/W0 esr_mm_h): content does not match its keyed hash")


def test_delete_a_middle_entry(copy: Path) -> None:
    _sql(copy, f"DELETE FROM {ENTRY} WHERE seq = 5")
    _failed(copy, "audit entry 5 is missing (next is 6)")


def test_delete_the_last_entry(copy: Path) -> None:
    (n,) = _rows(copy, f"SELECT max(seq) FROM {ENTRY}")[0]
    _sql(copy, f"DELETE FROM {ENTRY} WHERE seq = {n}")
    _failed(copy, f"audit chain head expects {n} entries, found {n - 1}")


def test_missing_key_or_anchor_is_reported(copy: Path) -> None:
    from pmrtrial.edc.audit.services import verification_side_files

    key, anchor = verification_side_files(copy)
    anchor.unlink()
    _failed(copy, f"audit anchor {anchor} is missing")
    key.unlink()
    _failed(copy, f"The audit key {key} is missing")


def test_anchor_written_out_of_order_lagging_or_torn_is_accepted(copy: Path) -> None:
    """Concurrent writers append after their own commit (out of order); a crash leaves a torn line."""
    from pmrtrial.edc.audit.services import verification_side_files

    anchor = verification_side_files(copy)[1]
    lines = anchor.read_text().splitlines()
    anchor.write_text("\n".join([*lines[:-3], lines[-2], lines[-3]]) + "\n" + lines[-1][:20])
    r = _cli(copy, "audit", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 unreadable anchor line(s) skipped" in r.stdout
    # An anchor line whose hash is not the chain's: the chain was rewritten after anchoring.
    seq = lines[-1].split()[0]
    anchor.write_text("\n".join([*lines[:-1], f"{seq} {'0' * 64}"]) + "\n")
    _failed(copy, f"audit entry {seq}: hash differs from the one anchored")


# -- the same checks in process, on SQLite and PostgreSQL -----------------------------------------


@pytest.fixture
def world(tx_db: str) -> dict[str, Any]:
    from pmrtrial.edc import services as svc
    from pmrtrial.edc.studies import init_study

    init_study(bachelor_text(), 2, seed=3, n_per_site=4)
    users = make_users()
    p = svc.screen_participant(users["inv1"], "01", candidate())
    svc.record_consent(users["inv1"], p, "1.0", dt.date.today())
    p = svc.randomise_participant(users["inv1"], p)
    svc.save_form(
        users["inv1"], p, "W0", "labs", {"crp_value": 4, "crp_unit": "mg/L", "esr_mm_h": 10}, confirm_warnings=True
    )
    return {"users": users, "p": p}


def _raw(sql: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cur:
        cur.execute(sql, params or [])


def test_in_process_scenarios(world: dict[str, Any]) -> None:
    from pmrtrial.edc.audit.models import AuditEntry, AuditHead
    from pmrtrial.edc.audit.replay import verify_integrity
    from pmrtrial.edc.crfs.models import FormRecord
    from pmrtrial.edc.randomisation.models import AllocationSecret

    report = verify_integrity()
    assert report.ok, report.message
    # 1. form data
    rec = FormRecord.objects.get(form="labs")
    _raw("UPDATE edc_crfs_formrecord SET data = %s WHERE id = %s", [json.dumps({**rec.data, "esr_mm_h": 55}), rec.pk])
    report = verify_integrity()
    assert [(m.table, m.field, m.expected, m.found) for m in report.mismatches] == [
        ("edc_crfs_formrecord", "data.esr_mm_h", "10.0", "55")
    ]
    _raw("UPDATE edc_crfs_formrecord SET data = %s WHERE id = %s", [json.dumps(rec.data), rec.pk])
    assert verify_integrity().ok
    # 2. an arm swapped in the secrets
    mine = AllocationSecret.objects.get(slot__participant=world["p"])
    other = AllocationSecret.objects.exclude(arm=mine.arm).first()
    assert other is not None
    _raw("UPDATE edc_randomisation_allocationsecret SET arm = %s WHERE id = %s", [other.arm, mine.pk])
    _raw("UPDATE edc_randomisation_allocationsecret SET arm = %s WHERE id = %s", [mine.arm, other.pk])
    fields = {m.field for m in verify_integrity().mismatches}
    assert fields == {"arm", "seal (recomputed from arms, kit codes and seed)"}
    _raw("UPDATE edc_randomisation_allocationsecret SET arm = %s WHERE id = %s", [mine.arm, mine.pk])
    _raw("UPDATE edc_randomisation_allocationsecret SET arm = %s WHERE id = %s", [other.arm, other.pk])
    assert verify_integrity().ok
    # 3. the last entry deleted and the head moved back
    last = AuditEntry.objects.order_by("-seq").first()
    assert last is not None
    prev = AuditEntry.objects.get(seq=last.seq - 1)
    _raw(f"DELETE FROM {ENTRY} WHERE seq = %s", [last.seq])
    _raw(f"UPDATE {HEAD} SET last_seq = %s, last_hash = %s", [prev.seq, prev.entry_hash])
    report = verify_integrity()
    assert not report.ok and "audit chain rewound" in report.chain.message
    assert AuditHead.objects.get().last_seq == last.seq - 1
