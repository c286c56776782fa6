"""Backup and restore of the EDC database (``pmrtrial edc backup`` / ``pmrtrial edc restore``).

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database in one step
  inside a read transaction, so the copy is one consistent snapshot even while the server keeps
  writing (WAL: writers do not wait for the copy). The copy is a single file (rollback journal,
  no ``-wal``), written under a temporary name and renamed when complete.
- PostgreSQL: ``pg_dump --format=custom`` (one snapshot, also consistent under writes) and
  ``pg_restore --clean --if-exists --single-transaction``.

The files that ``audit verify`` needs beside the database (:mod:`pmrtrial.edc.audit.files`) are
copied beside the backup and back, so ``pmrtrial edc audit verify --db BACKUP`` passes on the copy.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmrtrial.edc.audit.files import SIDE_SUFFIXES, side_file_target, verification_files
from pmrtrial.exceptions import PmrTrialError

__all__ = ["BackupResult", "backup_postgres", "backup_sqlite", "restore_postgres", "restore_sqlite"]


@dataclass(frozen=True)
class BackupResult:
    out: Path
    engine: str
    bytes: int
    side_files: tuple[Path, ...]


def _tmp_beside(target: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    return Path(name)


def _copy_side_files(db_path: Path, new_db_path: Path) -> tuple[Path, ...]:
    copied = []
    for side in verification_files(db_path):
        if side.is_file():
            target = side_file_target(side, db_path, new_db_path)
            shutil.copy2(side, target)
            copied.append(target)
    return tuple(copied)


def _sqlite_copy(src: Path, dst: Path) -> None:
    with closing(sqlite3.connect(str(src), timeout=30)) as source, closing(sqlite3.connect(str(dst))) as target:
        source.backup(target)  # pages=-1: the whole database in one step, one read snapshot
        target.execute("PRAGMA journal_mode=DELETE")  # a self-contained file


def backup_sqlite(db_path: Path, out: Path) -> BackupResult:
    """Copy the SQLite database ``db_path`` (live or not) to ``out``, creating ``out``'s folders."""
    out.parent.mkdir(parents=True, exist_ok=True)
    side = _copy_side_files(db_path, out)  # first: the copied anchor may lag the snapshot, never lead it
    tmp = _tmp_beside(out)
    try:
        _sqlite_copy(db_path, tmp)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BackupResult(out, "sqlite", out.stat().st_size, side)


def restore_sqlite(backup: Path, db_path: Path) -> tuple[Path, ...]:
    """Replace the contents of ``db_path`` with ``backup`` (through the backup API, so a server that
    still has the file open sees either the old or the new database, never a mixture)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    source_uri = f"{backup.resolve().as_uri()}?mode=ro"
    with (
        closing(sqlite3.connect(source_uri, uri=True)) as source,
        closing(sqlite3.connect(str(db_path), timeout=30)) as target,
    ):
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    return _copy_side_files(backup, db_path)


def _pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise PmrTrialError(f"{name} not found: install the PostgreSQL client tools (Debian: postgresql-client).")
    return path


def _run(cmd: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise PmrTrialError(f"{Path(cmd[0]).name} failed (exit {proc.returncode}): {last}")


def _pg_side_files(settings_dict: dict[str, Any], backup: Path) -> list[tuple[Path, Path]]:
    """(the database's audit key/anchor file, its copy beside ``backup``: ``<backup name><suffix>``)."""
    from pmrtrial.edc.conf import audit_side_files

    return [
        (live, backup.with_name(backup.name + suffix))
        for live, suffix in zip(audit_side_files(settings_dict), SIDE_SUFFIXES, strict=True)
    ]


def backup_postgres(settings_dict: dict[str, Any], out: Path) -> BackupResult:
    """``pg_dump --format=custom`` of the configured database to ``out``; the audit key and anchor
    are copied beside it first (``<out>.audit-key``, ``<out>.audit-anchor``), as for SQLite."""
    tool = _pg_tool("pg_dump")
    out.parent.mkdir(parents=True, exist_ok=True)
    side = []
    for live, copy in _pg_side_files(settings_dict, out):
        if live.is_file():
            shutil.copy2(live, copy)
            side.append(copy)
    tmp = _tmp_beside(out)
    try:
        _run(
            [tool, "--format=custom", "--no-owner", f"--file={tmp}", str(settings_dict["NAME"])], _pg_env(settings_dict)
        )
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BackupResult(out, "postgresql", out.stat().st_size, tuple(side))


def restore_postgres(settings_dict: dict[str, Any], backup: Path) -> None:
    """``pg_restore`` ``backup`` into the configured database (its tables are replaced, in one transaction)."""
    tool = _pg_tool("pg_restore")
    cmd = [tool, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]
    _run([*cmd, f"--dbname={settings_dict['NAME']}", str(backup)], _pg_env(settings_dict))
    for live, copy in _pg_side_files(settings_dict, backup):
        if copy.is_file():  # the restored trail verifies only with the key (and anchor) it was written with
            live.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(copy, live)
