"""Shared by the browser tests: Debian chromium, a throw-away EDC database, and `pmrtrial serve` (gunicorn)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


#: Screenshots of the browser tests (not committed): ``$PMRTRIAL_SCREENSHOTS`` or ``artifacts/screenshots/``.
SHOTS = Path(os.environ.get("PMRTRIAL_SCREENSHOTS") or ROOT / "artifacts" / "screenshots")
#: The axe-core rule sets every page must pass (WCAG 2.0 and 2.1, levels A and AA).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


#: The screening answers of an eligible BACHELOR candidate (example candidate C01: CRP PMR-AS 29.9), shared by the
#: browser tests: numbers typed, then the yes/no questions answered ``YES`` and ``NO``.
CANDIDATE = {
    "age_years": "72",
    "symptom_duration_days": "45",
    "crp_mg_l": "35",
    "esr_mm_h": "48",
    "pain_vas": "6.6",
    "physician_global_vas": "6.8",
    "morning_stiffness_min": "120",
    "upper_limb_elevation": "1",
}
YES = ("bilateral_shoulder_aching", "hip_pain_or_limited_rom", "us_shoulder_and_hip", "us_both_shoulders")
NO = (
    "gc_in_last_2_weeks",
    "rf_or_acpa_positive",
    "other_joint_involvement",
    "gca_signs",
    "unstable_cardiovascular_disease",
    "serious_illness",
    "active_infection",
    "malignancy_within_5_years",
    "immunosuppressant_within_1_year",
    "pregnant_or_breastfeeding",
)


def fill_candidate(page: Any, **overrides: str) -> None:
    """Fill the BACHELOR screening form with :data:`CANDIDATE`; ``overrides`` change yes/no answers."""
    for name, value in CANDIDATE.items():
        page.fill(f"#id_{name}", value)
    page.select_option("#id_sex", "female")
    for name in (*YES, *NO):
        page.select_option(f"#id_{name}", overrides.get(name, "true" if name in YES else "false"))


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


@contextmanager
def study_server(
    tmp: Path, init: list[str], users: tuple[tuple[str, str, str | None], ...], backend: str = "sqlite"
) -> Iterator[str]:
    """A fresh study (`edc init` with the ``init`` options), its ``users`` (name, role, site or None, all with
    :data:`PASSWORD`) and `pmrtrial serve` on it; yields the base URL."""
    env = _env(tmp, backend)
    _cli(env, "init", *init)
    for user, role, site_code in users:
        args = ["createuser", user, "--role", role, "--password-stdin"] + (["--site", site_code] if site_code else [])
        _cli(env, *args, stdin=PASSWORD + "\n")
    with running_server(env) as url:
        yield url


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        _unavailable("Debian chromium is not installed (/usr/bin/chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright Python package is not installed")


class Walk:
    """One browser session: every ``shot`` runs axe (serious and critical violations are kept in ``violations``),
    records the title and saves a screenshot to ``SHOTS/[folder/]lang/NN-name.png`` (the folder's old ones go)."""

    def __init__(self, page: Any, url: str, lang: str, folder: str = "") -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.page, self.url, self.lang = page, url, lang
        self.axe = Axe()
        self.n = 0
        self.titles: dict[str, str] = {}
        self.violations: dict[str, list[str]] = {}
        self.dir = SHOTS / folder / lang if folder else SHOTS / lang
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("*.png"):
            old.unlink()

    def shot(self, name: str) -> None:
        self.page.wait_for_load_state("networkidle")
        assert self.page.evaluate("document.documentElement.lang") == self.lang, name
        result = self.axe.run(self.page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} @ {[n['target'] for n in v['nodes']][:3]}"
            for v in result.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            self.violations[name] = bad
        self.titles[name] = self.page.title()
        self.n += 1
        self.page.screenshot(path=str(self.dir / f"{self.n:02d}-{name}.png"), full_page=True)

    def login(self, user: str) -> None:
        self.page.goto(self.url + "/login/")
        self.page.fill("#id_username", user)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("#login-button")
        self.page.wait_for_url(self.url + "/")
        if self.lang != "en" and self.page.evaluate("document.documentElement.lang") != self.lang:
            self.page.select_option("#language-select", self.lang)
            self.page.click("form[action='/language/'] button")
            self.page.wait_for_url(self.url + "/")

    def logout(self) -> None:
        self.page.click("form[action='/logout/'] button")
        self.page.wait_for_url(re.compile(r".*/login/.*"))

    def save(self) -> None:
        self.page.click("#save-button")
        self.page.wait_for_selector(".msg.success")


@contextmanager
def browser_walk(url: str, lang: str, folder: str = "") -> Iterator[Walk]:
    """Debian chromium (Playwright) at 1280 x 900 in ``lang``, as a :class:`Walk`; closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield Walk(browser.new_page(viewport={"width": 1280, "height": 900}, locale=lang), url, lang, folder)
        finally:
            browser.close()
