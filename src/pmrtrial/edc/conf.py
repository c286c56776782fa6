"""Where the EDC keeps its data, and how a database URL becomes Django settings (no Django import)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

__all__ = [
    "audit_side_files",
    "data_dir",
    "database_settings",
    "default_db_path",
    "eq5d_wording",
    "pg_statement_options",
    "secret_key",
    "side_files_for_sqlite",
    "sqlite_holds_study",
    "sqlite_synchronous",
]

#: The table ``pmrtrial edc init`` fills (one row: the study).
STUDY_TABLE = "edc_sites_study"


def data_dir() -> Path:
    """``$PMRTRIAL_HOME`` or ``$XDG_DATA_HOME/pmrtrial`` (default ``~/.local/share/pmrtrial``)."""
    if os.environ.get("PMRTRIAL_HOME"):
        return Path(os.environ["PMRTRIAL_HOME"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pmrtrial"


def default_db_path() -> Path:
    """The embedded SQLite database: ``PMRTRIAL_EDC_DB`` or ``<data_dir>/edc.sqlite3``."""
    if os.environ.get("PMRTRIAL_EDC_DB"):
        return Path(os.environ["PMRTRIAL_EDC_DB"])
    return data_dir() / "edc.sqlite3"


def sqlite_holds_study(path: Path) -> bool:
    """True if the SQLite file ``path`` exists and holds a pmrtrial study (opened without creating or writing)."""
    import sqlite3
    from contextlib import closing

    if not path.is_file():
        return False
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=30)) as conn:
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (STUDY_TABLE,))
            if found.fetchone() is None:
                return False
            return conn.execute(f"SELECT 1 FROM {STUDY_TABLE} LIMIT 1").fetchone() is not None
    except sqlite3.Error:  # not a database, or corrupt
        return False


def sqlite_synchronous() -> str:
    """``PMRTRIAL_EDC_SQLITE_SYNC``: ``NORMAL`` (default) or ``FULL``.

    In WAL mode, NORMAL never loses a committed transaction when the server *process* dies
    (crash, ``kill -9``: the WAL is in the operating system's cache), but a power loss or an
    operating-system crash can roll back the last transactions committed since the last
    checkpoint (the database stays consistent, not corrupt). FULL syncs the WAL to disk at every
    commit, so nothing acknowledged is lost even on power loss, at the cost of one fsync per
    save (about 7-8 ms on the benchmark machine's disk, paid inside the single-writer lock).
    """
    value = os.environ.get("PMRTRIAL_EDC_SQLITE_SYNC", "NORMAL").upper()
    if value not in ("NORMAL", "FULL"):
        raise ValueError(f"Invalid PMRTRIAL_EDC_SQLITE_SYNC. Expected NORMAL or FULL. Got {value!r}.")
    return value


def pg_statement_options() -> dict[str, Any]:
    """``PMRTRIAL_EDC_PG_PREPARE``: ``1`` (default) or ``0``: PostgreSQL prepared statements.

    With ``1`` parameters are bound by the server and a statement run twice on a connection is
    prepared there (psycopg ``prepare_threshold=2``): the statements every save repeats are parsed and
    planned once per connection instead of every time (on the benchmark about half of PostgreSQL's CPU
    per save, and less client CPU). Set ``0`` behind a connection pooler that hands a session's
    connection to other clients between transactions without keeping prepared statements (PgBouncer in
    transaction mode before 1.21): parameters are then bound on the client, as Django does by default.
    """
    value = os.environ.get("PMRTRIAL_EDC_PG_PREPARE", "1")
    if value not in ("0", "1"):
        raise ValueError(f"Invalid PMRTRIAL_EDC_PG_PREPARE. Expected 1 or 0. Got {value!r}.")
    return {"server_side_binding": True, "prepare_threshold": 2} if value == "1" else {}


def database_settings(url: str | None = None) -> dict[str, Any]:
    """Django ``DATABASES["default"]`` for ``url`` (``postgresql://...``) or the SQLite default."""
    url = url if url is not None else os.environ.get("DATABASE_URL", "")
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
            raise ValueError(f"Invalid DATABASE_URL scheme. Expected postgresql://. Got {parsed.scheme!r}.")
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "OPTIONS": {**pg_statement_options(), **options},
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "ATOMIC_REQUESTS": False,
        }
    path = default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    sync = sqlite_synchronous()
    return {
        "ENGINE": "pmrtrial.edc.sqlite_backend",  # Django's, with writers queued (see there)
        "NAME": str(path),
        # One connection per server thread, kept across requests (no reconnect + PRAGMAs per request).
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        # BEGIN IMMEDIATE: writers queue instead of failing with "database is locked" on upgrade.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": f"PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA foreign_keys=ON;",
        },
    }


def secret_key() -> str:
    """``PMRTRIAL_EDC_SECRET_KEY``, else a key kept in ``<data_dir>/secret_key`` (created 0600 once)."""
    if os.environ.get("PMRTRIAL_EDC_SECRET_KEY"):
        return os.environ["PMRTRIAL_EDC_SECRET_KEY"]
    path = data_dir() / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker created it first
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def side_files_for_sqlite(db_path: Path | str) -> tuple[Path, Path]:
    """The audit key and anchor of the SQLite file ``db_path``: ``<db>.audit-key``, ``<db>.audit-anchor``.

    ``PMRTRIAL_EDC_AUDIT_KEY`` / ``PMRTRIAL_EDC_AUDIT_ANCHOR`` name other files; ``PMRTRIAL_EDC_AUDIT_DIR``
    another folder (the files are then ``<folder>/<db file name>.audit-key`` and ``.audit-anchor``).
    """
    path = Path(db_path)
    folder = Path(os.environ["PMRTRIAL_EDC_AUDIT_DIR"]) if os.environ.get("PMRTRIAL_EDC_AUDIT_DIR") else path.parent
    key = os.environ.get("PMRTRIAL_EDC_AUDIT_KEY") or str(folder / f"{path.name}.audit-key")
    anchor = os.environ.get("PMRTRIAL_EDC_AUDIT_ANCHOR") or str(folder / f"{path.name}.audit-anchor")
    return Path(key), Path(anchor)


def audit_side_files(db: dict[str, Any]) -> tuple[Path, Path]:
    """The audit key and the anchor file of the Django database settings ``db`` (kept outside the database).

    SQLite: beside the database file (:func:`side_files_for_sqlite`). PostgreSQL: in
    ``PMRTRIAL_EDC_AUDIT_DIR`` (default: the data directory, :func:`data_dir`) as
    ``<database name>.audit-key`` and ``<database name>.audit-anchor``; ``PMRTRIAL_EDC_AUDIT_KEY`` and
    ``PMRTRIAL_EDC_AUDIT_ANCHOR`` override each file.
    """
    if "sqlite" in str(db.get("ENGINE", "")):
        return side_files_for_sqlite(str(db["NAME"]))
    folder = Path(os.environ["PMRTRIAL_EDC_AUDIT_DIR"]) if os.environ.get("PMRTRIAL_EDC_AUDIT_DIR") else data_dir()
    name = str(db.get("NAME") or "edc")
    key = os.environ.get("PMRTRIAL_EDC_AUDIT_KEY") or str(folder / f"{name}.audit-key")
    anchor = os.environ.get("PMRTRIAL_EDC_AUDIT_ANCHOR") or str(folder / f"{name}.audit-anchor")
    return Path(key), Path(anchor)


_EQ5D_DIMS = ("mo", "sc", "ua", "pd", "ad")


def eq5d_wording(language: str) -> dict[str, dict[str, str]]:
    """Licensed EQ-5D level wording for ``language``, from the JSON file named by ``PMRTRIAL_EQ5D_WORDING``.

    The file (obtained from the EuroQol Group under licence; never shipped) reads
    ``{"en": {"mo": {"1": "I have no problems in walking about", "2": ..., "3": ...}, "sc": {...}, ...},
    "fr": {...}}``. Without the variable the EDC shows dimension names and level numbers only. A file
    that is missing or malformed raises ``ValueError`` naming the file and what is wrong.
    """
    path = os.environ.get("PMRTRIAL_EQ5D_WORDING", "")
    if not path:
        return {}
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"PMRTRIAL_EQ5D_WORDING={path}: cannot read the EQ-5D wording file ({exc}).") from None
    table = data.get(language) or data.get("en") or {} if isinstance(data, dict) else None
    if not isinstance(table, dict) or not all(
        isinstance(table.get(d), dict) and {str(k) for k in table[d]} == {"1", "2", "3"} for d in _EQ5D_DIMS
    ):
        raise ValueError(
            f"PMRTRIAL_EQ5D_WORDING={path}: expected {{language: {{dimension: {{'1','2','3': text}}}}}} "
            f"with dimensions {', '.join(_EQ5D_DIMS)}."
        )
    return {d: {str(k): str(v) for k, v in table[d].items()} for d in _EQ5D_DIMS}
