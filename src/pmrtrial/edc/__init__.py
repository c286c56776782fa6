"""pmrtrial EDC: a Django electronic data capture application driven by a :class:`~pmrtrial.protocol.Protocol`.

The Django layer is an adapter over the pure core (``pmrtrial.protocol``, ``pmrtrial.scores``):
form rules call core functions on plain dicts, the visit schedule and the forms come from the
protocol, and one service layer (:mod:`pmrtrial.edc.services`) is used by the web UI, the JSON
API and the CLI.

Where the data live
-------------------
- ``DATABASE_URL=postgresql://user:pass@host:port/db`` selects PostgreSQL.
- Otherwise SQLite (WAL mode) at ``--db PATH`` / ``PMRTRIAL_EDC_DB``, by default
  ``$XDG_DATA_HOME/pmrtrial/edc.sqlite3`` (``~/.local/share/pmrtrial/edc.sqlite3``).

Call :func:`setup` before importing any model.
"""

from __future__ import annotations

import os

__all__ = ["setup"]


def setup(db: str | None = None) -> None:
    """Configure Django for the EDC (optionally on the SQLite file ``db``) and call ``django.setup()``."""
    if db is not None:
        os.environ["PMRTRIAL_EDC_DB"] = str(db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmrtrial.edc.settings")
    import django

    django.setup()
