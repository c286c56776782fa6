"""Operations (issue 12, items 8 and 9): user and token commands, backup/restore under concurrent
writes, CLI robustness on a missing or empty database, failed init cleanup, and `serve` signals and
busy ports (real subprocesses). `restore` may create its target, so it is tested separately."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from typer.testing import CliRunner

from pmrtrial.edc import services as svc
from pmrtrial.edc.accounts.services import user_for_token
from tests.edc.conftest import PASSWORD, _reset_anchor, bachelor_text, make_users, select_backend

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PMRTRIAL_EDC_DB")}
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return {**env, **extra}


def _pmrtrial(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    code = "import sys; from pmrtrial.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _invoke(*args: str, input: str | None = None) -> Any:
    from pmrtrial.cli.edc import app

    r = CliRunner().invoke(app, list(args), input=input)
    assert r.exit_code == 0, (args, r.output, r.exception)
    return r


def _committing(backend: str) -> Iterator[str]:
    from django.core.management import call_command

    select_backend(backend)
    call_command("flush", interactive=False, verbosity=0)
    _reset_anchor()
    yield backend
    connections.close_all()
    call_command("flush", interactive=False, verbosity=0)
    _reset_anchor()  # an emptied database starts a new chain: an anchor left ahead would read as a rewind


@pytest.fixture
def sqlite_db() -> Iterator[str]:
    """SQLite with real commits (for tests about the SQLite file itself)."""
    yield from _committing("sqlite")


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """PostgreSQL with real commits (the test is marked postgres)."""
    yield from _committing("postgresql")


# -- CLI robustness: a missing or empty database ------------------------------------------------------------

COMMANDS = [
    ["edc", "export", "--out", "{tmp}/out"],
    ["edc", "lock", "--user", "dm"],
    ["edc", "audit", "verify"],
    ["edc", "audit", "export", "--out", "{tmp}/audit.csv"],
    ["edc", "createuser", "bob", "--role", "data_manager", "--password-stdin"],
    ["edc", "token", "bob"],
    ["edc", "user", "list"],
    ["edc", "user", "deactivate", "bob"],
    ["edc", "backup", "--out", "{tmp}/backup/b.sqlite3"],
    ["serve", "--port", "1"],
]

_LOOP = """
import contextlib, io, json, sys
from pmrtrial.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    results.append({"argv": argv, "code": code, "stderr": err.getvalue()})
print(json.dumps(results))
"""


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_edc_commands_on_a_missing_or_empty_database(tmp_path: Path, kind: str) -> None:
    db = tmp_path / "typo" / "stduy.sqlite3"
    if kind == "empty":
        db.parent.mkdir()
        sqlite3.connect(db).close()  # a SQLite file without a study
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    argvs = [[a.format(tmp=tmp_path) for a in cmd] + ["--db", str(db)] for cmd in COMMANDS]
    home = tmp_path / "home"
    proc = subprocess.run(
        [sys.executable, "-c", _LOOP, json.dumps(argvs)],
        env=_env(PMRTRIAL_HOME=str(home), PMRTRIAL_EDC_SECRET_KEY="k"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for res in json.loads(proc.stdout):
        lines = res["stderr"].strip().splitlines()
        assert res["code"] != 0, res
        assert len(lines) == 1 and str(db) in lines[0], res  # one line naming the path...
        assert f"pmrtrial edc init --db {db}" in lines[0], res  # ...and the fix
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert after == before  # nothing created: no database, no folder, no backup, no key file


def test_failed_init_removes_what_it_created(tmp_path: Path) -> None:
    db = tmp_path / "new" / "dir" / "study.sqlite3"
    env = _env(PMRTRIAL_HOME=str(tmp_path / "home"), PMRTRIAL_EDC_SECRET_KEY="k")
    r = _pmrtrial("edc", "init", "--sites", "0", "--db", str(db), env=env)  # fails after the schema is created
    assert r.returncode != 0 and "--sites" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "new").exists()
    # With the audit files configured elsewhere, under other names, those are removed too.
    keys = tmp_path / "keys"
    keys.mkdir()
    named = {"PMRTRIAL_EDC_AUDIT_KEY": str(keys / "hmac.key"), "PMRTRIAL_EDC_AUDIT_ANCHOR": str(keys / "head.log")}
    r = _pmrtrial("edc", "init", "--sites", "0", "--db", str(db), env={**env, **named})
    assert r.returncode != 0 and not (tmp_path / "new").exists()
    assert list(keys.iterdir()) == []
    # A failed init on an existing study leaves that study alone.
    db.parent.mkdir(parents=True)
    assert _pmrtrial("edc", "init", "--sites", "2", "--per-site", "4", "--db", str(db), env=env).returncode == 0
    r = _pmrtrial("edc", "init", "--sites", "2", "--db", str(db), env=env)
    assert r.returncode != 0 and "already holds a study" in r.stderr
    from pmrtrial.edc.conf import sqlite_holds_study

    assert sqlite_holds_study(db)


# -- users and tokens ---------------------------------------------------------------------------------------


def test_user_and_token_commands(tx_db: str) -> None:
    from django.test import Client

    from pmrtrial.edc.audit.models import AuditEntry
    from pmrtrial.edc.studies import init_study

    init_study(bachelor_text(), 2, seed=5, n_per_site=4)
    make_users()
    t1 = _invoke("token", "nurse1").output.strip()
    t2 = _invoke("token", "nurse1").output.strip()
    listing = _invoke("token", "nurse1", "--list").output.splitlines()
    assert len(listing) == 2 and all(line.endswith("live") for line in listing)
    first_id = listing[0].split("\t")[0]
    _invoke("token", "nurse1", "--revoke", first_id)
    assert user_for_token(t1) is None and user_for_token(t2) is not None
    _invoke("token", "nurse1", "--all")
    assert user_for_token(t2) is None
    assert AuditEntry.objects.filter(object_type="api_token", field="revoked").count() == 2

    out = _invoke("user", "list").output
    assert "nurse1\tnurse\t01\ten\tyes" in out and "dm\tdata_manager\t-" in out
    _invoke("user", "role", "nurse1", "monitor", "--site", "01", "--site", "02")
    assert "nurse1\tmonitor\t01,02" in _invoke("user", "list").output
    assert AuditEntry.objects.filter(object_id="nurse1", field="role", new_value="monitor").exists()

    t3 = _invoke("token", "nurse1").output.strip()
    _invoke("user", "deactivate", "nurse1")
    assert user_for_token(t3) is None
    assert not Client().login(username="nurse1", password=PASSWORD)
    _invoke("user", "deactivate", "nurse1", "--reactivate")
    _invoke("user", "password", "nurse1", "--password-stdin", input="a-new-long-password-9\n")
    assert Client().login(username="nurse1", password="a-new-long-password-9")
    assert not Client().login(username="nurse1", password=PASSWORD)
    assert svc.verify_audit_chain().ok


# -- backup and restore --------------------------------------------------------------------------------------


def _writer(stop: threading.Event, counter: list[int]) -> None:
    from pmrtrial.edc.audit.services import audit_event

    try:
        while not stop.is_set():
            audit_event(None, "view", "participant", f"load-{counter[0]}")
            counter[0] += 1
    finally:
        connections.close_all()


def test_sqlite_backup_under_concurrent_writes_and_restore(sqlite_db: str, tmp_path: Path) -> None:
    from pmrtrial.edc.audit.models import AuditEntry
    from pmrtrial.edc.studies import init_study

    init_study(bachelor_text(), 2, seed=5, n_per_site=4)
    make_users()
    n_before = AuditEntry.objects.count()
    stop, counter = threading.Event(), [0]
    thread = threading.Thread(target=_writer, args=(stop, counter))
    thread.start()
    try:
        while counter[0] < 20:  # the writer is running
            time.sleep(0.01)
        out = tmp_path / "deep" / "folder" / "backup.sqlite3"
        _invoke("backup", "--out", str(out))
        time.sleep(0.05)
    finally:
        stop.set()
        thread.join(30)
    assert counter[0] > 20
    env = _env(PMRTRIAL_HOME=str(tmp_path / "home"), PMRTRIAL_EDC_SECRET_KEY="k")
    r = _pmrtrial("edc", "audit", "verify", "--db", str(out), env=env)
    assert r.returncode == 0 and "intact" in r.stdout, r.stderr
    with sqlite3.connect(out) as b:
        n_backup = b.execute("SELECT count(*) FROM edc_audit_auditentry").fetchone()[0]
    assert n_before < n_backup < AuditEntry.objects.count()  # a snapshot taken mid-stream

    target = tmp_path / "restored" / "edc.sqlite3"
    r = _pmrtrial("edc", "restore", str(out), "--db", str(target), env=env)
    assert r.returncode == 0 and "intact" in r.stdout, r.stderr
    r = _pmrtrial("edc", "restore", str(out), "--db", str(target), env=env)
    assert r.returncode != 0 and "--force" in r.stderr
    # A tampered backup restores, and the verification that follows says so (exit 1).
    with sqlite3.connect(out) as b:
        b.execute("UPDATE edc_audit_auditentry SET actor = 'mallory' WHERE seq = 3")
    r = _pmrtrial("edc", "restore", str(out), "--db", str(target), "--force", env=env)
    assert r.returncode == 1 and "audit entry 3" in r.stderr


def test_backup_copies_the_files_verification_needs(tmp_path: Path) -> None:
    """The hook of pmrtrial.edc.audit.files: the audit key and anchor beside the database follow the copy."""
    from pmrtrial.edc.audit.files import side_file_target
    from pmrtrial.edc.backup import backup_sqlite, restore_sqlite

    db = tmp_path / "study.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE edc_sites_study (id)")
        conn.execute("INSERT INTO edc_sites_study VALUES (1)")
    (tmp_path / "study.sqlite3.audit-key").write_text("secret")
    (tmp_path / "study.sqlite3.audit-anchor").write_text("heads")
    result = backup_sqlite(db, tmp_path / "bk" / "copy.sqlite3")
    assert (tmp_path / "bk" / "copy.sqlite3.audit-key").read_text() == "secret"
    assert (tmp_path / "bk" / "copy.sqlite3.audit-anchor").read_text() == "heads"
    assert len(result.side_files) == 2
    restore_sqlite(tmp_path / "bk" / "copy.sqlite3", tmp_path / "back" / "live.sqlite3")
    assert (tmp_path / "back" / "live.sqlite3.audit-key").read_text() == "secret"
    assert (
        side_file_target(tmp_path / "anchor.log", db, tmp_path / "bk" / "copy.sqlite3")
        == tmp_path / "bk" / "anchor.log"
    )


@pytest.mark.postgres
def test_postgres_backup_and_restore(postgres_db: str, tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not installed (Debian: postgresql-client)")
    import psycopg

    from pmrtrial.edc.studies import init_study

    init_study(bachelor_text(), 2, seed=5, n_per_site=4)
    make_users()
    stop, counter = threading.Event(), [0]
    thread = threading.Thread(target=_writer, args=(stop, counter))
    thread.start()
    try:
        while counter[0] < 20:
            time.sleep(0.01)
        out = tmp_path / "pg" / "backup.dump"
        _invoke("backup", "--out", str(out))
    finally:
        stop.set()
        thread.join(30)
    assert out.stat().st_size > 0
    admin = os.environ["PMRTRIAL_TEST_POSTGRES_URL"]
    name = f"pmrtrial_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = admin.rsplit("/", 1)[0] + "/" + name
        r = _pmrtrial("edc", "restore", str(out), env=_env(DATABASE_URL=url, PMRTRIAL_EDC_SECRET_KEY="k"))
        assert r.returncode == 0 and "intact" in r.stdout, r.stderr
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- serve ---------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def study_file(sqlite_db: str, tmp_path: Path) -> Path:
    from pmrtrial.edc.backup import backup_sqlite
    from pmrtrial.edc.studies import init_study

    init_study(bachelor_text(), 2, seed=5, n_per_site=4)
    out = tmp_path / "serve.sqlite3"
    backup_sqlite(Path(connection.settings_dict["NAME"]), out)
    return out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_forwards_signals_to_gunicorn_and_waits(study_file: Path, tmp_path: Path, sig: int) -> None:
    port = _free_port()
    env = _env(PMRTRIAL_HOME=str(tmp_path / "home"), PMRTRIAL_EDC_SECRET_KEY="k")
    args = ["serve", "--db", str(study_file), "--port", str(port), "--workers", "1", "--threads", "1"]
    code = "import sys; from pmrtrial.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as r:
                    assert r.status == 200
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        gunicorn = _children(proc.pid)
        workers = [w for g in gunicorn for w in _children(g)]
        assert gunicorn and workers
        proc.send_signal(sig)
        proc.communicate(timeout=30)
        assert not any(_alive(p) for p in gunicorn + workers), "gunicorn outlived pmrtrial serve"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_serve_reports_a_busy_port_in_one_line(study_file: Path, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = _env(PMRTRIAL_HOME=str(tmp_path / "home"), PMRTRIAL_EDC_SECRET_KEY="k")
        r = _pmrtrial("serve", "--db", str(study_file), "--port", str(port), env=env, timeout=60)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(port) in lines[0] and "http://" not in r.stderr + r.stdout
