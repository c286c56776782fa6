"""Route the synthetic twin through a fresh demo EDC database (the EDC part of ``pmrtrial demo``).

The EDC work runs in a child process (``python -m pmrtrial.demo.edc_runner``) so that Django is
configured for ``OUT/edc.sqlite3`` only: the child's environment has no ``DATABASE_URL``, its own
``PMRTRIAL_EDC_DB`` and a throw-away secret key, so neither the user's default EDC database nor a
PostgreSQL server configured for real work is ever touched. The child reports progress as JSON lines.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmrtrial.exceptions import PmrTrialError

__all__ = ["EDC_DB_NAME", "EdcDemoResult", "edc_available", "run_edc_demo"]

EDC_DB_NAME = "edc.sqlite3"

#: ``progress(stage, done, total)``; stages: init, enrol, sign, audit, export.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class EdcDemoResult:
    """The demo EDC database and what went through it (the child's summary)."""

    db: Path
    summary: dict[str, Any]

    @property
    def audit_ok(self) -> bool:
        return bool(self.summary["audit"]["ok"])

    def to_dict(self) -> dict[str, Any]:
        return {"db": str(self.db), **self.summary}


def edc_available() -> bool:
    """True when the EDC's dependencies (the ``[edc]`` extra: Django) are installed."""
    return importlib.util.find_spec("django") is not None


def _is_demo_db(path: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT demo FROM edc_sites_study").fetchall()
    except sqlite3.Error:
        return False
    return bool(rows) and all(bool(r[0]) for r in rows)


def _fresh(db: Path) -> None:
    """Remove a previous demo database at ``db``; refuse to touch anything that is not one."""
    if db.exists():
        if not _is_demo_db(db):
            raise PmrTrialError(f"{db} exists and is not a pmrtrial demo EDC database; choose another --out folder.")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


def run_edc_demo(
    out_dir: str | os.PathLike[str], *, seed: int, protocol: str = "bachelor", progress: Progress | None = None
) -> EdcDemoResult:
    """Create ``OUT/edc.sqlite3`` for ``protocol``, enter its twin, lock, verify the audit chain, export into
    ``OUT/data``."""
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    db = out / EDC_DB_NAME
    _fresh(db)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["PMRTRIAL_EDC_DB"] = str(db)
    env["PMRTRIAL_EDC_SECRET_KEY"] = secrets.token_urlsafe(50)  # not written anywhere
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    cmd = [
        sys.executable,
        "-m",
        "pmrtrial.demo.edc_runner",
        "--db",
        str(db),
        "--data",
        str(out / "data"),
        "--seed",
        str(seed),
        "--protocol",
        protocol,
    ]
    report = progress or (lambda _stage, _done, _total: None)
    final: dict[str, Any] | None = None
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as errors,
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=errors, text=True, encoding="utf-8") as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("event") == "progress":
                report(str(event["stage"]), int(event["done"]), int(event["total"]))
            else:
                final = event
        code = proc.wait()
        errors.seek(0)
        stderr = errors.read()
    if final is None or final.get("event") != "done" or code != 0:
        message = final.get("message") if final else None
        tail = "\n".join(stderr.strip().splitlines()[-5:])
        raise PmrTrialError(f"The demo EDC failed: {message or tail or f'exit status {code}'}")
    summary = {k: v for k, v in final.items() if k != "event"}
    return EdcDemoResult(db, summary)
