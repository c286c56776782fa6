"""Django configured for the EDC tests; every DB test runs on SQLite and on PostgreSQL.

PostgreSQL: ``PMRTRIAL_TEST_POSTGRES_URL=postgresql://user:pw@127.0.0.1:5432/db`` (``.ci/services``
exports it). A fresh database is created per session and dropped afterwards. Without a reachable
server the PostgreSQL variants skip, except under ``PMRTRIAL_CI=1`` where they fail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="pmrtrial-edc-tests-"))
os.environ["PMRTRIAL_HOME"] = str(_TMP)
os.environ["PMRTRIAL_EDC_DB"] = str(_TMP / "edc.sqlite3")
os.environ["PMRTRIAL_EDC_SECRET_KEY"] = "test-secret-key-" + uuid.uuid4().hex
os.environ.pop("DATABASE_URL", None)

django = pytest.importorskip("django", reason="the [edc] extra (Django) is not installed")

from pmrtrial.edc import setup  # noqa: E402

setup()


from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections, transaction  # noqa: E402

from pmrtrial.edc.conf import database_settings  # noqa: E402

# Argon2 is tested through the settings module; users in tests use a fast hasher.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PASSWORD = "correct-horse-battery"
_SQLITE = database_settings("")
_STATE: dict[str, Any] = {}


def _pg_url() -> str | None:
    return os.environ.get("PMRTRIAL_TEST_POSTGRES_URL") or None


def _use(cfg: dict[str, Any]) -> None:
    for conn in connections.all(initialized_only=True):
        conn.close()
    settings.DATABASES["default"] = cfg
    connections._settings = connections.configure_settings({"default": cfg})
    with contextlib.suppress(AttributeError):
        del connections._connections.default


def _postgres_config() -> dict[str, Any]:
    if "postgresql" in _STATE:
        return _STATE["postgresql"]  # type: ignore[no-any-return]
    url = _pg_url()
    reason = None
    if url is None:
        reason = "PostgreSQL not configured: set PMRTRIAL_TEST_POSTGRES_URL (see .ci/services)"
    else:
        try:
            import psycopg

            base = database_settings(url)
            name = f"pmrtrial_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            cfg = {**base, "NAME": name}
            _STATE["pg_admin"] = (url, name)
        except Exception as exc:
            reason = f"PostgreSQL not reachable at {url}: {exc}"
    if reason is not None:
        _STATE["postgresql"] = {"skip": reason}
        return _STATE["postgresql"]  # type: ignore[no-any-return]
    _use(cfg)
    call_command("migrate", interactive=False, verbosity=0)
    _STATE["postgresql"] = cfg
    return cfg


def _sqlite_config() -> dict[str, Any]:
    if "sqlite" not in _STATE:
        _use(_SQLITE)
        call_command("migrate", interactive=False, verbosity=0)
        _STATE["sqlite"] = _SQLITE
    return _STATE["sqlite"]  # type: ignore[no-any-return]


def select_backend(name: str) -> None:
    cfg = _sqlite_config() if name == "sqlite" else _postgres_config()
    if "skip" in cfg:
        if os.environ.get("PMRTRIAL_CI") == "1":
            pytest.fail(f"PMRTRIAL_CI=1 but {cfg['skip']}")
        pytest.skip(cfg["skip"])
    _use(cfg)
    from pmrtrial.edc.audit.services import ensure_side_files

    ensure_side_files()  # what `pmrtrial edc init` does: the audit key and an empty anchor


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    if "pg_admin" in _STATE:
        for conn in connections.all(initialized_only=True):
            conn.close()
        url, name = _STATE["pg_admin"]
        try:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:
            pass


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database inside a transaction rolled back after the test."""
    select_backend(request.param)
    with transaction.atomic():
        yield request.param
        transaction.set_rollback(True)


def _reset_anchor() -> None:
    """An emptied database starts a new audit chain: empty its anchor file too (tests only)."""
    from pmrtrial.edc.audit.services import current_side_files

    anchor = current_side_files()[1]
    if anchor.exists():
        anchor.write_text("")


@pytest.fixture(params=BACKENDS)
def tx_db(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database with real commits (threads, subprocesses); emptied after the test."""
    select_backend(request.param)
    call_command("flush", interactive=False, verbosity=0)
    _reset_anchor()
    yield request.param
    for conn in connections.all(initialized_only=True):
        conn.close()
    call_command("flush", interactive=False, verbosity=0)
    _reset_anchor()


def bachelor_text() -> str:
    from pmrtrial.io.files import read_protocol_text

    return read_protocol_text("bachelor")


@pytest.fixture
def study(db: str) -> Any:
    from pmrtrial.edc.studies import init_study

    return init_study(bachelor_text(), 3, seed=20250101, n_per_site=8)


ROLE_USERS = {
    "inv1": ("investigator", ["01"]),
    "nurse1": ("nurse", ["01"]),
    "inv2": ("investigator", ["02"]),
    "mon1": ("monitor", ["01"]),
    "dm": ("data_manager", []),
    "bstat": ("blinded_statistician", []),
    "ustat": ("unblinded_statistician", []),
    "admin": ("admin", []),
}


def make_users() -> dict[str, Any]:
    from pmrtrial.edc.accounts.services import create_user

    return {name: create_user(None, name, PASSWORD, role, sites) for name, (role, sites) in ROLE_USERS.items()}


@pytest.fixture
def users(study: Any) -> dict[str, Any]:
    return make_users()


def candidate(**overrides: Any) -> dict[str, Any]:
    """Candidate C01 of the bundled examples (eligible: CRP PMR-AS 29.9, worked example P1)."""
    from pmrtrial.protocol import load_example_candidates

    data = dict(next(c for c in load_example_candidates() if c["candidate_id"] == "C01"))
    for key in ("candidate_id", "description"):
        data.pop(key, None)
    data.update(overrides)
    return data


def randomised(
    users: dict[str, Any], site: str = "01", *, days_ago: int = 100, data: dict[str, Any] | None = None
) -> Any:
    """A participant screened (``data``, default :func:`candidate`), consented and randomised at
    ``site`` (by that site's investigator)."""
    from pmrtrial.edc import services as svc

    inv = users["inv1" if site == "01" else "inv2"]
    p = svc.screen_participant(inv, site, candidate() if data is None else data)
    svc.record_consent(inv, p, "1.0", dt.date.today())
    p = svc.randomise_participant(inv, p)
    # Move the schedule back so past visits can be entered (tests only; not a service function).
    from pmrtrial.edc.screening.models import Participant
    from pmrtrial.edc.visits.models import Visit

    shift = dt.timedelta(days=days_ago)
    Participant.objects.filter(pk=p.pk).update(randomised_on=p.randomised_on - shift)
    for v in Visit.objects.filter(participant=p):
        Visit.objects.filter(pk=v.pk).update(
            target_date=v.target_date - shift, window_start=v.window_start - shift, window_end=v.window_end - shift
        )
    p.refresh_from_db()
    return p
