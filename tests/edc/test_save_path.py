"""The hand-written statements of the save path (:mod:`pmrtrial.edc.sql`) against the ORM, and saves
racing on one visit (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from pmrtrial.edc import services as svc
from pmrtrial.edc.accounts.permissions import role_of, site_codes
from pmrtrial.edc.accounts.services import revoke_tokens, set_active, set_role, user_for_token
from pmrtrial.edc.audit.anchor import read_key
from pmrtrial.edc.audit.models import AuditEntry
from pmrtrial.edc.audit.services import _ENTRY_FIELDS, audit_changes, current_side_files, entry_hash
from pmrtrial.edc.conf import database_settings, pg_statement_options
from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.crfs.services import _records_at, _visits
from pmrtrial.edc.screening.models import Participant
from pmrtrial.edc.screening.services import load_participant
from pmrtrial.edc.visits.models import Visit
from tests.edc.conftest import bachelor_text, make_users, randomised
from tests.edc.test_workflows import PMR_W12 as PMR

LABS = {"crp_value": 12, "crp_unit": "mg/L", "esr_mm_h": 20}


def _fields(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname not in skip}


def _visit_date(p: Any, code: str) -> str:
    return Visit.objects.get(participant=p, code=code).target_date.isoformat()


def test_hand_written_reads_equal_the_orm(users: dict[str, Any]) -> None:
    """Every field (dates, datetimes, JSON, booleans) reads back as the ORM reads it."""
    p = randomised(users)
    inv = users["inv1"]
    svc.save_form(inv, p, "W2", "visit_info", {"visit_date": _visit_date(p, "W2")})
    svc.save_form(inv, p, "W2", "labs", LABS)
    svc.lock_form(users["dm"], p, "W2", "visit_info")

    fast = load_participant(pk=p.pk)
    orm = Participant.objects.select_related("site__study").get(pk=p.pk)
    assert fast is not None and _fields(fast) == _fields(orm)
    assert _fields(fast.site) == _fields(orm.site)
    assert _fields(fast.site.study, skip=("protocol_yaml",)) == _fields(orm.site.study, skip=("protocol_yaml",))
    assert "protocol_yaml" in fast.site.study.get_deferred_fields()  # the large text is not read
    assert load_participant(subject_id=p.subject_id, sites=frozenset({"01"})).pk == p.pk  # type: ignore[union-attr]
    assert load_participant(subject_id=p.subject_id, sites=frozenset({"02"})) is None  # site isolation
    assert load_participant(subject_id=p.subject_id, sites=frozenset()) is None

    visits = _visits(p)
    assert [_fields(v) for v in visits] == [_fields(v) for v in Visit.objects.filter(participant=p).order_by("week")]
    assert any(v.visit_date is not None for v in visits)

    records = _records_at(p, "W2")
    assert sorted(records) == ["labs", "visit_info"]
    for form, rec in records.items():
        assert _fields(rec) == _fields(FormRecord.objects.get(participant=p, key="W2", form=form))
    assert records["visit_info"].locked is True and records["labs"].locked is False


def test_token_lookup_loads_role_and_sites_in_one_statement(users: dict[str, Any]) -> None:
    inv_token = svc.create_token(None, "inv1")
    dm_token = svc.create_token(None, "dm")
    with CaptureQueriesContext(connection) as ctx:
        inv = user_for_token(inv_token)
        assert role_of(inv) == "investigator" and site_codes(inv) == frozenset({"01"})
        dm = user_for_token(dm_token)
        assert role_of(dm) == "data_manager" and site_codes(dm) is None  # every site
    assert len(ctx.captured_queries) == 2  # one per token, nothing for the role and the sites
    assert inv.pk == users["inv1"].pk and inv.username == "inv1" and inv.profile.language == "en"

    set_role(None, "inv1", "investigator", ["01", "02"])
    assert site_codes(user_for_token(inv_token)) == frozenset({"01", "02"})
    assert user_for_token(inv_token + "x") is None
    set_active(None, "inv1", False)
    assert user_for_token(inv_token) is None  # inactive users have no API access
    set_active(None, "inv1", True)
    revoke_tokens(None, "inv1")
    assert user_for_token(inv_token) is None


def test_a_long_audit_append_is_split_within_the_parameter_limit(db: str) -> None:
    """150 changed fields: 150 chained entries, written in 3 statements of at most 66 rows (999 // 15 columns)."""
    changes = {f"f{i:03d}": (i, i + 1) for i in range(150)}
    with CaptureQueriesContext(connection) as ctx:
        entries = audit_changes(None, "update", "test", "x", changes)
    table = AuditEntry._meta.db_table
    inserts = [q["sql"] for q in ctx.captured_queries if f'INSERT INTO "{table}"' in q["sql"]]
    assert len(inserts) == 3
    assert [e.seq for e in entries] == list(range(entries[0].seq, entries[0].seq + 150))
    stored = list(AuditEntry.objects.filter(object_type="test").order_by("seq"))
    assert [(e.field, e.old_value, e.new_value) for e in stored] == [
        (f"f{i:03d}", str(i), str(i + 1)) for i in range(150)
    ]
    # Chained across the statement boundaries: each entry links to the one before and carries its keyed hash.
    key = read_key(current_side_files()[0], create_if_missing=False)
    for before, entry in itertools.pairwise(stored):
        assert entry.prev_hash == before.entry_hash
        assert entry.entry_hash == entry_hash({f: getattr(entry, f) for f in _ENTRY_FIELDS}, before.entry_hash, key)


def test_pg_statement_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PMRTRIAL_EDC_PG_PREPARE", raising=False)
    assert pg_statement_options() == {"server_side_binding": True, "prepare_threshold": 2}
    assert database_settings("postgresql://u:p@h:5432/d?sslmode=require")["OPTIONS"] == {
        "server_side_binding": True,
        "prepare_threshold": 2,
        "sslmode": "require",
    }
    monkeypatch.setenv("PMRTRIAL_EDC_PG_PREPARE", "0")
    assert pg_statement_options() == {}
    monkeypatch.setenv("PMRTRIAL_EDC_PG_PREPARE", "yes")
    with pytest.raises(ValueError, match=r"PMRTRIAL_EDC_PG_PREPARE\. Expected 1 or 0\. Got 'yes'"):
        pg_statement_options()


def test_racing_saves_of_one_visit_keep_its_scores_current(tx_db: str) -> None:
    """Two users save labs and the PMR-AS form of one visit at once, each ten times (first saves too).

    Whatever the interleaving, the PMR-AS record's CRP PMR-AS must be computed from the final values of
    both forms: CRP PMR-AS = CRP (mg/dL) + VAS patient + VAS physician + 0.1 x morning stiffness (min) +
    elevation (Leeb & Bird 2004). No save is lost and the audit chain verifies.
    """
    from pmrtrial.edc.studies import init_study

    init_study(bachelor_text(), 2, seed=11, n_per_site=4)
    users = make_users()
    p = randomised(users, "01")
    svc.save_form(users["inv1"], p, "W12", "visit_info", {"visit_date": _visit_date(p, "W12")})
    connections.close_all()
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []
    final: dict[str, Any] = {}

    def editor(form: str, values: list[dict[str, Any]]) -> None:
        try:
            actor = users["inv1"] if form == "labs" else users["nurse1"]
            barrier.wait(timeout=30)
            version = 0
            for i, data in enumerate(values):
                rec = svc.save_form(
                    actor,
                    svc.get_participant(actor, p.subject_id),
                    "W12",
                    form,
                    data,
                    expected_version=version,
                    reason="" if i == 0 else "race",
                )
                version = rec.version
            final[form] = values[-1]
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connections.close_all()

    labs = [{**LABS, "crp_value": 10 + 3 * i} for i in range(10)]  # last: 37 mg/L = 3.7 mg/dL
    pmr = [{**PMR, "morning_stiffness_min": 10 + 5 * i} for i in range(10)]  # last: 55 min
    threads = [threading.Thread(target=editor, args=a) for a in (("labs", labs), ("pmr_as", pmr))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures
    stored = {r.form: r for r in FormRecord.objects.filter(participant=p, key="W12")}
    assert stored["labs"].data["crp_value"] == 37 and stored["labs"].version == 10
    assert stored["pmr_as"].data["morning_stiffness_min"] == 55 and stored["pmr_as"].version == 10
    # 3.7 + 2 + 1 + 0.1 x 55 + 0 = 12.2 (hand arithmetic, Leeb & Bird 2004 formula above)
    assert stored["pmr_as"].derived["crp_pmr_as"] == pytest.approx(12.2)
    assert svc.verify_audit_chain().ok
