"""Files kept beside the database that ``pmrtrial edc audit verify`` needs (no Django import).

``pmrtrial edc backup`` copies them beside the backup and ``pmrtrial edc restore`` copies them back,
so that ``pmrtrial edc audit verify --db BACKUP`` passes on the backup as written. Naming rule: a
file called ``<database file name><suffix>`` (``study.sqlite3.audit-key``) is copied as
``<backup file name><suffix>`` (``backup.sqlite3.audit-key``); any other file keeps its name in the
backup's folder. The side files are copied *before* the database snapshot, so a copied anchor
may lag behind the copied chain (as after a crash between commit and anchor write), never lead it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SIDE_SUFFIXES", "side_file_target", "verification_files"]


#: Suffixes of the files the keyed audit chain keeps beside a SQLite database by default
#: (``<db>.audit-key``: the HMAC key; ``<db>.audit-anchor``: the append-only head anchor).
SIDE_SUFFIXES = (".audit-key", ".audit-anchor")


def verification_files(db_path: Path) -> list[Path]:
    """The existing files beside ``db_path`` that verifying its audit trail needs.

    The audit key and the anchor as the server configuration names them
    (:func:`pmrtrial.edc.conf.side_files_for_sqlite`: beside the database by default).
    """
    from pmrtrial.edc.conf import side_files_for_sqlite

    return [p for p in side_files_for_sqlite(db_path) if p.is_file()]


def side_file_target(side: Path, db_path: Path, new_db_path: Path) -> Path:
    """Where ``side`` (a file of :func:`verification_files`) goes when ``db_path`` is copied to ``new_db_path``."""
    if side.name.startswith(db_path.name):
        return new_db_path.with_name(new_db_path.name + side.name[len(db_path.name) :])
    return new_db_path.parent / side.name
