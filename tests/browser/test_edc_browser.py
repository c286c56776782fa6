"""End to end in a real browser: Debian chromium driven by Playwright, against `pmrtrial serve` (gunicorn).

Investigator: log in, screen, consent, randomise, enter week-12 labs and PMR-AS (live score shown).
Monitor: raise a query on the form. Investigator: answer it. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ARGS, CHROMIUM, PASSWORD, fill_candidate, require_chromium, study_server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    users = (("inv1", "investigator", "01"), ("mon1", "monitor", "01"))
    with study_server(tmp_path, ["--sites", "2", "--per-site", "6"], users, request.param) as url:
        yield url


def _login(page: Any, url: str, user: str) -> None:
    page.goto(url + "/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(url + "/")


def _logout(page: Any) -> None:
    page.click("form[action='/logout/'] button")


@pytest.mark.browser
def test_investigator_and_monitor_in_chromium(server: str) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    url = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        _login(page, url, "inv1")
        page.click("#screen-link")
        fill_candidate(page)
        page.click("#screen-submit")
        page.wait_for_selector("#consent-form")
        subject = page.text_content("#subject-id")
        page.fill("#id_consent_version", "1.0")
        page.fill("#id_consented_on", dt.date.today().isoformat())
        page.click("#consent-submit")
        page.check("#randomise-confirm")
        page.click("#randomise-button")
        page.wait_for_selector("#rand-number")
        assert page.text_content("#status") == "Randomised"
        # week 12: labs, then the PMR-AS form with the live score
        page.click("#link-W12-labs")
        page.fill("#id_crp_value", "4")
        page.select_option("#id_crp_unit", "mg/L")
        page.fill("#id_esr_mm_h", "10")
        page.click("#save-button")
        page.wait_for_selector("text=Saved.")
        page.goto(f"{url}/p/{subject}/f/W12/pmr_as/")
        page.fill("#id_pain_vas", "2")
        page.fill("#id_physician_global_vas", "1")
        page.fill("#id_morning_stiffness_min", "10")
        page.select_option("#id_upper_limb_elevation", "0")
        # CRP PMR-AS = 2 + 1 + 0.1*10 + 0 + 4/10 = 4.4 (by hand), shown before saving
        page.wait_for_selector("#crp-pmr-as:text-is('4.4')", timeout=10000)
        assert page.text_content("#activity") == "low"
        page.click("#save-button")
        page.wait_for_selector("text=Saved.")
        _logout(page)
        _login(page, url, "mon1")
        page.goto(f"{url}/p/{subject}/f/W12/pmr_as/")
        page.select_option("#id_query_target", "W12/pmr_as/pain_vas")
        page.fill("#id_query_text", "Please confirm the pain VAS against the source")
        page.click("#query-submit")
        page.wait_for_selector("text=Query raised.")
        _logout(page)
        _login(page, url, "inv1")
        page.goto(url + "/queries/")
        page.fill(".answer-input", "Confirmed: 2 in the source document")
        page.click(".answer-button")
        page.wait_for_selector("td.state [data-state=answered]")
        browser.close()
