"""``python -m pmrtrial.demo.edc_runner --db FILE --data DIR --seed N [--protocol NAME]``: the EDC part of
``pmrtrial demo``.

Runs in its own process so that Django is configured for the demo's SQLite file only (never the
user's default EDC database nor ``DATABASE_URL``), whatever the calling process has configured.
It creates a demo study of the protocol (BACHELOR by default) with one site per centre of the twin, the demo
users, enters the synthetic twin through the service layer (:mod:`pmrtrial.demo.edc_seed`), has every casebook
e-signed and locked, locks the database, verifies the audit chain and exports the canonical datasets as the
unblinded statistician into DIR.

Standard output carries one JSON object per line: ``{"event": "progress", "stage", "done", "total"}``
while working, then ``{"event": "done", ...summary}`` or ``{"event": "error", "message"}`` (exit 1).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _emit(**event: Any) -> None:
    sys.stdout.write(json.dumps(event, default=str) + "\n")
    sys.stdout.flush()


def _progress(stage: str, done: int, total: int) -> None:
    _emit(event="progress", stage=stage, done=done, total=total)


def run(db: Path, data_dir: Path, seed: int, protocol: str = "bachelor") -> dict[str, Any]:
    """Build the demo EDC database ``db`` and export it into ``data_dir``; return a summary."""
    os.environ.pop("DATABASE_URL", None)
    os.environ["PMRTRIAL_EDC_DB"] = str(db)
    os.environ["DJANGO_SETTINGS_MODULE"] = "pmrtrial.edc.settings"
    from pmrtrial.edc import setup

    setup()
    from django.conf import settings
    from django.core.management import call_command

    # The demo users' passwords are 256-bit random secrets that nobody ever sees: a memory-hard,
    # slow hash adds nothing against guessing them, and the default Argon2 cost (about 0.3 s per
    # hash on a small machine) would make the e-signatures (one per participant) dominate the demo. Same algorithm
    # (argon2id, verifiable by the standard hasher), lighter parameters; upgraded on any login.
    settings.PASSWORD_HASHERS = ["pmrtrial.demo.edc_seed.DemoArgon2PasswordHasher"]

    from django.db import connection

    if connection.vendor != "sqlite" or Path(settings.DATABASES["default"]["NAME"]).resolve() != db.resolve():
        raise RuntimeError(f"Django is not configured for the demo database {db}.")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    _progress("init", 0, 1)
    call_command("migrate", interactive=False, verbosity=0)
    from pmrtrial.demo import edc_seed as demo
    from pmrtrial.demo.twins import generate_twin, optional_tables
    from pmrtrial.edc import services as svc
    from pmrtrial.io.files import read_protocol_text

    twin = generate_twin(protocol, seed)
    study = svc.init_study(read_protocol_text(protocol), len(demo.site_codes(twin.subjects["site_id"])), demo=True)
    sites = [s.code for s in study.sites.order_by("code")]
    users = demo.create_demo_users(sites)
    _progress("init", 1, 1)
    timings["init"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    logs = optional_tables(twin)
    loaded = demo.load_twin(
        users,
        twin.subjects,
        twin.visits,
        twin.adverse_events,
        gc_doses=logs.get("gc_doses"),
        flares=logs.get("flares"),
        progress=_progress,
    )
    timings["enrol"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    demo.sign_and_lock(users, progress=_progress)
    timings["sign_and_lock"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    _progress("audit", 0, 1)
    from pmrtrial.edc.audit.replay import verify_integrity

    audit = verify_integrity()  # the chain, its anchor, the list seal, and every record against the trail
    _progress("audit", 1, 1)
    if not audit.ok:
        raise RuntimeError(f"The demo's audit trail does not verify: {audit.message}")
    timings["audit_verify"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    _progress("export", 0, 1)
    exported = svc.export_datasets(users.unblinded_statistician, data_dir)
    _progress("export", 1, 1)
    timings["export"] = time.perf_counter() - t0
    study.refresh_from_db()
    return {
        "db": str(db),
        "data_dir": str(data_dir),
        "seed": seed,
        "protocol": protocol,
        "study": f"{study.protocol_id} {study.protocol_version}",
        "sites": len(sites),
        "demo": study.demo,
        "locked": study.locked,
        "users": list(users.usernames),
        "loaded": loaded.to_dict(),
        "audit": {**audit.chain.to_dict(), **audit.to_dict(), "message": audit.message},
        "export": {
            "subjects": len(exported.subjects),
            "visits": len(exported.visits),
            "adverse_events": len(exported.adverse_events),
            **{name: len(frame) for name, frame in exported.optional_tables().items()},
            "lock_status": exported.manifest["lock_status"],
            "arms_masked": exported.manifest["arms_masked"],
            "exported_by": exported.manifest["exported_by"],
        },
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pmrtrial.demo.edc_runner", description=__doc__)
    parser.add_argument("--db", type=Path, required=True, help="New SQLite file for the demo EDC.")
    parser.add_argument("--data", type=Path, required=True, help="Folder for the exported canonical datasets.")
    parser.add_argument("--seed", type=int, required=True, help="Seed of the synthetic twin.")
    parser.add_argument("--protocol", default="bachelor", help="Bundled protocol of the study and its twin.")
    args = parser.parse_args(argv)
    try:
        summary = run(args.db, args.data, args.seed, args.protocol)
    except Exception as exc:  # reported to the parent as one line; the traceback goes to stderr
        import traceback

        traceback.print_exc()
        _emit(event="error", message=f"{type(exc).__name__}: {exc}")
        return 1
    _emit(event="done", **summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
