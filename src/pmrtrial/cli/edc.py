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
user_app = typer.Typer(help="Users: list, deactivate, change role, reset password.", no_args_is_help=True)
app.add_typer(user_app, name="user")

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="SQLite database file (default: $PMRTRIAL_EDC_DB or ~/.local/share/pmrtrial/edc.sqlite3). "
        "DATABASE_URL=postgresql://... selects PostgreSQL instead.",
    ),
]


def _sqlite_target(db: Path | None) -> Path | None:
    """The SQLite file a command will use (None: ``DATABASE_URL`` selects PostgreSQL)."""
    if os.environ.get("DATABASE_URL"):
        return None
    from pmrtrial.edc.conf import default_db_path

    return db if db is not None else default_db_path()


def _no_database(path: Path) -> PmrTrialError:
    if not path.exists():
        return PmrTrialError(
            f"No EDC database at {path} (file not found). Create it with: pmrtrial edc init --db {path}"
        )
    return PmrTrialError(f"{path} holds no pmrtrial study. Create one with: pmrtrial edc init --db {path}")


def _check_study() -> None:
    """A configured database that holds no study: one line naming it and the fix."""
    from django.db import DatabaseError, connection

    from pmrtrial.edc.sites.models import Study

    try:
        ok = Study.objects.exists()
    except DatabaseError:
        ok = False
    if not ok:
        name = connection.settings_dict["NAME"]
        if connection.vendor == "sqlite":
            raise _no_database(Path(name))
        raise PmrTrialError(
            f"The PostgreSQL database {name!r} holds no pmrtrial study. "
            "Create one with: pmrtrial edc init (same DATABASE_URL)"
        )


def _setup(db: Path | None, *, migrate: bool = False, require_study: bool = True) -> None:
    """Configure Django for ``db``. Unless ``require_study`` is False (init, migrate), a missing file or a
    database without a study stops here with one line, before anything is created or written."""
    from django.conf import settings

    already = settings.configured
    if db is not None and already and os.environ.get("PMRTRIAL_EDC_DB") != str(db):
        raise PmrTrialError("Django is already configured for another database in this process.")
    if require_study and not already:
        path = _sqlite_target(db)
        from pmrtrial.edc.conf import sqlite_holds_study

        if path is not None and not sqlite_holds_study(path):
            raise _no_database(path)
    if db is not None:
        os.environ["PMRTRIAL_EDC_DB"] = str(db)
    from pmrtrial.edc import setup

    setup()
    if migrate:
        _migrate()
    if require_study:
        _check_study()


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
    _setup(db, migrate=True, require_study=False)
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

    text = read_protocol_text(protocol)  # a bad protocol fails before anything is created
    path = _sqlite_target(db)
    created = [] if path is None or path.exists() else [path, *(d for d in path.parents if not d.exists())]
    side: list[Path] = []
    if created:
        from pmrtrial.edc.conf import side_files_for_sqlite

        # the audit key and anchor init writes (beside the database, or where the environment names them)
        side = [f for f in side_files_for_sqlite(path) if not f.exists()]
    try:
        _setup(db, migrate=True, require_study=False)
        from pmrtrial.edc.audit.services import current_side_files, ensure_side_files
        from pmrtrial.edc.studies import init_study

        ensure_side_files()
        study = init_study(text, sites, demo=demo, seed=seed, n_per_site=per_site)
    except BaseException:
        _remove_created(created, side)
        raise
    key_file, anchor_file = current_side_files()
    typer.echo(f"audit key {key_file}, anchor {anchor_file} (owner-only; back them up with the database)")
    rlist = study.randomisation_lists.get(active=True)
    typer.echo(
        f"study {study.protocol_id} {study.protocol_version}: {sites} sites, randomisation list "
        f"v{rlist.version} sealed ({rlist.slots.count()} slots, seal {rlist.seal_hash[:16]}...)"
        + (" [DEMO]" if demo else "")
    )


def _remove_created(created: list[Path], side: list[Path]) -> None:
    """A failed ``init``: remove the database file (and its -wal/-shm/-journal), the audit side files it
    created (``side``) and the folders it created (``created``: the file, then new folders innermost first)."""
    if not created:
        return
    from django.db import connections

    connections.close_all()
    db_file = created[0]
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    for extra in side:
        extra.unlink(missing_ok=True)
    for folder in created[1:]:
        try:
            folder.rmdir()
        except OSError:
            break


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
    _setup(db)
    password = _read_password(password_stdin)
    from pmrtrial.edc.accounts.services import create_user

    create_user(None, username, password, role, tuple(site or ()), language=language)
    typer.echo(f"user {username} created ({role}{', sites ' + ','.join(site) if site else ''})")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("token")
def token(
    username: str,
    list_: Annotated[
        bool, typer.Option("--list", help="List the user's tokens (id, prefix, created, revoked).")
    ] = False,
    revoke: Annotated[
        str | None, typer.Option("--revoke", metavar="TOKEN_ID", help="Revoke one token (id or prefix from --list).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Revoke all of the user's tokens.")] = False,
    redcap: Annotated[
        bool, typer.Option("--redcap", help="A REDCap-style token (32 hex characters) for /redcap/api/ (PyCap).")
    ] = False,
    db: DbOption = None,
) -> None:
    """Create an API token for USERNAME (printed once; use as `Authorization: Bearer <token>`), or list/revoke."""
    _setup(db)
    from pmrtrial.edc.accounts.services import create_token, list_tokens, revoke_tokens

    if sum((list_, revoke is not None, all_, redcap)) > 1:
        raise PmrTrialError("Use one of --list, --revoke TOKEN_ID, --all or --redcap.")
    if list_:
        for t in list_tokens(None, username):
            state = "revoked" if t["revoked"] else "live"
            typer.echo(f"{t['id']}\t{t['prefix']}...\t{t['created_at']}\t{state}")
    elif revoke is not None or all_:
        n = revoke_tokens(None, username, revoke)
        typer.echo(f"{n} token(s) of {username} revoked")
    else:
        typer.echo(create_token(None, username, redcap=redcap))


@user_app.command("list")
def user_list(db: DbOption = None) -> None:
    """List users: name, role, sites, language, active, last login, live API tokens."""
    _setup(db)
    from pmrtrial.edc.accounts.services import list_users

    typer.echo("username\trole\tsites\tlanguage\tactive\tlast_login\ttokens")
    for u in list_users(None):
        typer.echo(
            f"{u['username']}\t{u['role']}\t{','.join(u['sites']) or '-'}\t{u['language']}\t"
            f"{'yes' if u['active'] else 'no'}\t{u['last_login'] or '-'}\t{u['tokens']}"
        )


@user_app.command("deactivate")
def user_deactivate(
    username: str,
    reactivate: Annotated[bool, typer.Option("--reactivate", help="Allow the user again.")] = False,
    db: DbOption = None,
) -> None:
    """Deactivate a user (no login, no API access; kept for the audit trail)."""
    _setup(db)
    from pmrtrial.edc.accounts.services import set_active

    set_active(None, username, reactivate)
    typer.echo(f"user {username} {'reactivated' if reactivate else 'deactivated'}")


@user_app.command("role")
def user_role(
    username: str,
    role: str,
    site: Annotated[list[str] | None, typer.Option(help="Site code (repeat; replaces the user's sites).")] = None,
    db: DbOption = None,
) -> None:
    """Change a user's role (and sites with --site)."""
    _setup(db)
    from pmrtrial.edc.accounts.services import set_role

    set_role(None, username, role, tuple(site) if site else None)
    typer.echo(f"user {username}: role {role}{', sites ' + ','.join(site) if site else ''}")


@user_app.command("password")
def user_password(
    username: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    db: DbOption = None,
) -> None:
    """Reset a user's password (prompt or stdin, never the command line)."""
    _setup(db)
    password = _read_password(password_stdin)
    from pmrtrial.edc.accounts.services import set_password

    set_password(None, username, password)
    typer.echo(f"password of {username} reset")


@app.command("backup")
def backup(
    out: Annotated[Path, typer.Option(help="Backup file to write (folders are created).")],
    db: DbOption = None,
) -> None:
    """Copy the live database to OUT, consistent while the server writes (SQLite backup API / pg_dump).

    The files `audit verify` needs beside the database are copied beside OUT, so
    `pmrtrial edc audit verify --db OUT` passes on the copy (SQLite).
    """
    _setup(db)
    from django.db import connection

    from pmrtrial.edc.audit.services import audit_event
    from pmrtrial.edc.backup import backup_postgres, backup_sqlite

    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        result = backup_postgres(settings_dict, out)
    else:
        result = backup_sqlite(Path(settings_dict["NAME"]), out)
    detail = {"file": str(out), "engine": result.engine, "bytes": result.bytes}
    audit_event(None, "backup", "database", out.name[:64], detail=detail)
    extra = f" (+ {', '.join(p.name for p in result.side_files)})" if result.side_files else ""
    typer.echo(f"{result.engine} backup written to {out} ({result.bytes} bytes){extra}")


@app.command("restore")
def restore(
    backup_file: Annotated[Path, typer.Argument(metavar="FILE", help="A file written by `pmrtrial edc backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Replace a database that already holds a study.")] = False,
    db: DbOption = None,
) -> None:
    """Restore a backup into the database (--db / DATABASE_URL), then verify the audit trail."""
    if not backup_file.is_file():
        raise PmrTrialError(f"Backup file not found: {backup_file}")
    from pmrtrial.edc.backup import restore_postgres, restore_sqlite
    from pmrtrial.edc.conf import sqlite_holds_study

    target = _sqlite_target(db)
    if target is not None:
        if not sqlite_holds_study(backup_file):
            raise PmrTrialError(f"{backup_file} is not a pmrtrial EDC backup (no study in it).")
        if sqlite_holds_study(target) and not force:
            raise PmrTrialError(f"{target} already holds a study; add --force to replace it with {backup_file}.")
        restore_sqlite(backup_file, target)
        _setup(db)
    else:
        _setup(db, require_study=False)
        from django.db import connection, connections

        from pmrtrial.edc.sites.models import Study

        if "edc_sites_study" in connection.introspection.table_names() and Study.objects.exists() and not force:
            raise PmrTrialError(
                f"{connection.settings_dict['NAME']!r} already holds a study; add --force to replace it."
            )
        settings_dict = dict(connection.settings_dict)
        connections.close_all()
        restore_postgres(settings_dict, backup_file)
        _check_study()
    typer.echo(f"restored {backup_file}")
    audit_verify(db)


@audit_app.command("verify")
def audit_verify(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check the keyed chain against its anchor, the list seals, and replay the trail against every record.

    Exit 1 listing every mismatch (table, record, field) and the first broken chain entry.
    """
    _setup(db)
    from pmrtrial.edc.audit.replay import verify_integrity

    report = verify_integrity()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(report.message, err=not report.ok)
    if not report.ok:
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
    from pmrtrial.io.csvsafe import safe_row

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
            safe_row(
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
            "arms); default: blinded export, a blinded code per participant."
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
        int,
        typer.Option(
            help="gunicorn worker processes (default: 1 on SQLite; one per 2 cores, at least 1, on PostgreSQL)."
        ),
    ] = 0,
    threads: Annotated[int, typer.Option(help="Threads per worker, gthread worker class.")] = 4,
    insecure_cookies: Annotated[
        bool,
        typer.Option(
            "--insecure-cookies", help="Allow cookies over plain HTTP (loopback demos; put TLS in front otherwise)."
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Run the EDC on gunicorn (migrations are applied first).

    Defaults (gthread workers, 4 threads each): SQLite, one process; PostgreSQL, one process per 2 cores
    (the database server and the clients use the other cores). A save costs about 4-6 ms of server CPU
    (10-11 SQL statements). SQLite has one writer at a time: the threads of one process queue for it on
    a lock and are handed it at commit, while separate processes meet SQLite's busy handler, which
    retries after sleeps of up to 100 ms. Measured with benchmarks/bench_edc_load.py (20 users, no
    think time, 2 cores shared with other jobs, alternating runs), 1 process x 4 threads against 2 x 2:
    SQLite p95 281 / 172 ms and 4.8 / 3.4 ms CPU per save against 361 / 289 ms and 5.4 / 4.3 ms;
    PostgreSQL p95 257 / 267 ms and 5.2 / 5.6 ms against 384 / 345 ms and 6.3 / 5.9 ms. Raise
    ``--workers`` when the web pages, not the saves, need more cores.

    Database connections are persistent (one per thread). SQLite runs in WAL mode (readers never
    wait), every transaction is BEGIN IMMEDIATE with a 30 s busy timeout. PostgreSQL locks rows (saves
    of different participants proceed in parallel; the audit chain head is the one serialised row) and
    its statements are prepared once per connection (``PMRTRIAL_EDC_PG_PREPARE=0`` turns that off for
    connection poolers).
    """
    _setup(db, migrate=True)
    _check_port(host, port)
    env = dict(os.environ)
    if insecure_cookies:
        env["PMRTRIAL_EDC_INSECURE_COOKIES"] = "1"
    from pmrtrial.edc.conf import database_settings

    settings = database_settings()
    where = settings["NAME"]
    sqlite = "sqlite" in str(settings["ENGINE"])
    if workers <= 0:
        workers = 1 if sqlite else max(1, (os.cpu_count() or 1) // 2)
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
    raise typer.Exit(_run_forwarding_signals(cmd, env))


def _check_port(host: str, port: int) -> None:
    """One line, before any URL is printed, if the address is taken (or cannot be bound)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn: TIME_WAIT is no conflict
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PmrTrialError(
                f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Is another server running? Use --port."
            ) from None


def _run_forwarding_signals(cmd: list[str], env: dict[str, str]) -> int:
    """Run gunicorn; SIGTERM/SIGINT sent to this process go to gunicorn, and we wait for it to finish."""
    import signal

    proc = subprocess.Popen(cmd, env=env)

    def forward(signum: int, _frame: Any) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":  # `python -m pmrtrial.cli.edc ...` (tests, benchmarks): edc commands plus serve
    from pmrtrial.cli import main

    _args = sys.argv[1:]
    sys.exit(main(_args if _args[:1] == ["serve"] else ["edc", *_args]))
