"""Files kept beside the database that ``pmrtrial edc audit verify`` needs (no Django import).

``pmrtrial edc backup`` copies them beside the backup and ``pmrtrial edc restore`` copies them back,
so that ``pmrtrial edc audit verify --db BACKUP`` passes on the backup as written. Naming rule: a
file called ``<database file name><suffix>`` (``study.sqlite3.audit-key``) is copied as
``<backup file name><suffix>`` (``backup.sqlite3.audit-key``); any other file keeps its name in the
backup's folder.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["side_file_target", "verification_files"]


def verification_files(db_path: Path) -> list[Path]:
    """The existing files beside ``db_path`` that verifying its audit trail needs (none by default).

    The audit-integrity code lists here its key and anchor files when they live beside the database.
    """
    return []


def side_file_target(side: Path, db_path: Path, new_db_path: Path) -> Path:
    """Where ``side`` (a file of :func:`verification_files`) goes when ``db_path`` is copied to ``new_db_path``."""
    if side.name.startswith(db_path.name):
        return new_db_path.with_name(new_db_path.name + side.name[len(db_path.name) :])
    return new_db_path.parent / side.name
