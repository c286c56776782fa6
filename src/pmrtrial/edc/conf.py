"""Where the EDC keeps its data, and how a database URL becomes Django settings (no Django import)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

__all__ = ["data_dir", "database_settings", "default_db_path", "eq5d_wording", "secret_key"]


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
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "ATOMIC_REQUESTS": False,
        }
    path = default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
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
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
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
