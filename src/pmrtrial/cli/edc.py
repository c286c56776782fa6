"""``pmrtrial edc ...`` and ``pmrtrial serve``: drive the EDC from the shell.

Every command accepts ``--db PATH`` (a SQLite file) and honours ``DATABASE_URL``
(``postgresql://...``). Passwords are read from a prompt or from stdin (``--password-stdin``),
never from the command line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from pmrtrial.exceptions import PmrTrialError

__all__ = ["app", "serve"]

app = typer.Typer(
    name="edc",
    help="The electronic data capture application (Django).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="SQLite database file (default: $PMRTRIAL_EDC_DB or ~/.local/share/pmrtrial/edc.sqlite3). "
        "DATABASE_URL=postgresql://... selects PostgreSQL instead.",
    ),
]


def _setup(db: Path | None, *, migrate: bool = False) -> None:
    from django.conf import settings

    if db is not None:
        if settings.configured and os.environ.get("PMRTRIAL_EDC_DB") != str(db):
            raise PmrTrialError("Django is already configured for another database in this process.")
        os.environ["PMRTRIAL_EDC_DB"] = str(db)
    from pmrtrial.edc import setup

    setup()
    if migrate:
        _migrate()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise PmrTrialError(f"No user {username!r}.")
    return user


@app.command("migrate")
def migrate(db: DbOption = None) -> None:
    """Create or upgrade the database schema."""
    _setup(db, migrate=True)
    typer.echo("migrations applied")


@app.command("init")
def init(
    protocol: Annotated[
        str, typer.Option(help="Bundled protocol name (bachelor) or a protocol YAML file.")
    ] = "bachelor",
    sites: Annotated[int, typer.Option(help="Number of sites (centres).")] = 6,
    per_site: Annotated[int, typer.Option(help="Randomisation slots per site.")] = 40,
    seed: Annotated[int | None, typer.Option(help="List seed (default: random; kept in the secret table).")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Demo study: accepts the demo-only allocation override.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Create the study: sites, schedule and forms from the protocol, and a sealed randomisation list."""
    from pmrtrial.io.files import read_protocol_text

    _setup(db, migrate=True)
    from pmrtrial.edc.studies import init_study

    study = init_study(read_protocol_text(protocol), sites, demo=demo, seed=seed, n_per_site=per_site)
    rlist = study.randomisation_lists.get(active=True)
    typer.echo(
        f"study {study.protocol_id} {study.protocol_version}: {sites} sites, randomisation list "
        f"v{rlist.version} sealed ({rlist.slots.count()} slots, seal {rlist.seal_hash[:16]}...)"
        + (" [DEMO]" if demo else "")
    )


@app.command("createuser")
def createuser(
    username: str,
    role: Annotated[
        str,
        typer.Option(
            help="investigator, nurse, monitor, data_manager, blinded_statistician, unblinded_statistician or admin"
        ),
    ],
    site: Annotated[list[str] | None, typer.Option(help="Site code (repeat for several).")] = None,
    language: Annotated[str, typer.Option(help="en or fr")] = "en",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    db: DbOption = None,
) -> None:
    """Create a user. The password comes from a prompt or stdin, never from the command line."""
    _setup(db, migrate=True)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    from pmrtrial.edc.accounts.services import create_user

    create_user(None, username, password, role, tuple(site or ()), language=language)
    typer.echo(f"user {username} created ({role}{', sites ' + ','.join(site) if site else ''})")


@app.command("token")
def token(username: str, db: DbOption = None) -> None:
    """Create an API token for USERNAME (printed once; use as `Authorization: Bearer <token>`)."""
    _setup(db, migrate=True)
    from pmrtrial.edc.accounts.services import create_token

    typer.echo(create_token(None, username))


@audit_app.command("verify")
def audit_verify(db: DbOption = None) -> None:
    """Recompute the audit hash chain; exit 1 naming the first tampered entry."""
    _setup(db)
    from pmrtrial.edc.audit.services import verify_audit_chain

    result = verify_audit_chain()
    typer.echo(result.message, err=not result.ok)
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def audit_export(out: Annotated[Path, typer.Option(help="CSV file to write.")], db: DbOption = None) -> None:
    """Write the whole audit trail (with hashes) as CSV."""
    _setup(db)
    import csv
    import io

    from pmrtrial.edc.audit.models import AuditEntry
    from pmrtrial.edc.audit.services import audit_event
    from pmrtrial.io import write_text_atomic

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "seq",
            "at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "site",
            "participant",
            "field",
            "old",
            "new",
            "reason",
            "restricted",
            "prev_hash",
            "hash",
        ]
    )
    for e in AuditEntry.objects.order_by("seq").iterator():
        w.writerow(
            [
                e.seq,
                e.at.isoformat(),
                e.actor,
                e.action,
                e.object_type,
                e.object_id,
                e.site_code,
                e.participant,
                e.field,
                e.old_value,
                e.new_value,
                e.reason,
                e.restricted,
                e.prev_hash,
                e.entry_hash,
            ]
        )
    write_text_atomic(out, buf.getvalue())
    audit_event(None, "export", "audit_trail", "all", detail={"file": str(out)})
    typer.echo(f"audit trail written to {out}")


@app.command("export")
def export(
    out: Annotated[Path, typer.Option(help="Output folder for subjects/visits/adverse_events.")],
    user: Annotated[
        str | None,
        typer.Option(
            help="Export with this user's rights (an unblinded role gets "
            "arms); default: blinded export, arms masked A/B."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write the canonical analysis datasets (marked "NOT LOCKED" unless the database is locked)."""
    _setup(db)
    from pmrtrial.edc.exports.services import export_datasets

    data = export_datasets(_user(user) if user else None, out)
    typer.echo(
        json.dumps(
            {
                "out": str(out),
                "subjects": len(data.subjects),
                "visits": len(data.visits),
                "adverse_events": len(data.adverse_events),
                "lock_status": data.manifest["lock_status"],
                "arms_masked": data.manifest["arms_masked"],
            }
        )
    )


@app.command("lock")
def lock(user: Annotated[str, typer.Option(help="A data manager.")], db: DbOption = None) -> None:
    """Lock the whole database."""
    _setup(db)
    from pmrtrial.edc.crfs.services import lock_database

    lock_database(_user(user))
    typer.echo("database locked")


def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="gunicorn worker processes (default: one per CPU core, at least 2).")
    ] = 0,
    threads: Annotated[int, typer.Option(help="Threads per worker (gthread worker class).")] = 2,
    insecure_cookies: Annotated[
        bool,
        typer.Option(
            "--insecure-cookies", help="Allow cookies over plain HTTP (loopback demos; put TLS in front otherwise)."
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Run the EDC on gunicorn (migrations are applied first).

    Defaults: gthread workers, one process per core (at least 2) with 2 threads each. A save is
    mostly Python CPU (about 12-15 ms per save, 14 SQL statements) and CPython runs one thread per
    process at a time, so processes, not threads, use the cores; a second thread keeps a core busy
    while the other waits on the database or a slow client, and gthread keeps HTTP connections
    alive. More threads only queue inside the process. Measured with benchmarks/bench_edc_load.py
    (20 users, no think time, 2 shared cores): SQLite p95 583 / 821 / 912 ms at 1 / 2 / 4 threads,
    PostgreSQL 1716 / 1335 ms at 1 / 2 threads, on a machine other jobs were also loading; use
    ``--threads 1`` for SQLite-only deployments that want the shortest tail.

    Database connections are persistent (one per thread). SQLite runs in WAL mode (readers never
    wait), every transaction is BEGIN IMMEDIATE with a 30 s busy timeout, and within a process
    writers queue on a lock rather than polling SQLite's busy handler: one writer at a time,
    handed over at commit. PostgreSQL locks rows: saves of different participants proceed in
    parallel, the audit chain head is the one serialised row.
    """
    _setup(db, migrate=True)
    env = dict(os.environ)
    if insecure_cookies:
        env["PMRTRIAL_EDC_INSECURE_COOKIES"] = "1"
    from pmrtrial.edc.conf import database_settings

    where = database_settings()["NAME"]
    if workers <= 0:
        workers = max(2, os.cpu_count() or 1)
    typer.echo(
        f"pmrtrial EDC on http://{host}:{port}/ (database: {where}; {workers} workers x {threads} threads)", err=True
    )
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "pmrtrial.edc.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
    ]
    raise typer.Exit(subprocess.call(cmd, env=env))


if __name__ == "__main__":  # `python -m pmrtrial.cli.edc ...` (tests, benchmarks): edc commands plus serve
    app.command("serve")(serve)
    app()
