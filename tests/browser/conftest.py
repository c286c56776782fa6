"""Shared by the browser tests: Debian chromium, a throw-away EDC database, and `pmrtrial serve` (gunicorn)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "browser-test-password"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("PMRTRIAL_CI") == "1":
        pytest.fail(f"PMRTRIAL_CI=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp: Path, backend: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PMRTRIAL_HOME": str(tmp),
        "PMRTRIAL_EDC_DB": str(tmp / "edc.sqlite3"),
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    env.pop("DATABASE_URL", None)
    if backend == "postgresql":
        url = os.environ.get("PMRTRIAL_TEST_POSTGRES_URL")
        if not url:
            _unavailable("PostgreSQL not configured: set PMRTRIAL_TEST_POSTGRES_URL (see .ci/services)")
        try:
            import psycopg

            name = f"pmrtrial_browser_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except Exception as exc:
            _unavailable(f"PostgreSQL not reachable: {exc}")
        base, _, _ = str(url).rpartition("/")
        env["DATABASE_URL"] = f"{base}/{name}"
    return env


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "pmrtrial.cli.edc", *args],
        env=env,
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
        timeout=120,
    )


@contextmanager
def running_server(env: dict[str, str]) -> Iterator[str]:
    """`pmrtrial edc serve` on a free port; yields its base URL and stops it afterwards."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pmrtrial.cli.edc",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--insecure-cookies",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(url + "/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            proc.kill()
            message = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError("server did not start: " + message)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
        proc.wait(10)
        if proc.stderr is not None:
            proc.stderr.close()


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        _unavailable("Debian chromium is not installed (/usr/bin/chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright Python package is not installed")
