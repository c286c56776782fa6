"""The glucocorticoid dose log and the flare assessments of a SAPHYR study (its protocol lists ``gc_doses`` and
``flares`` at W0), in Chromium, in English and in French, with axe-core on every page: 0 serious or critical
violations (WCAG 2.0/2.1 A and AA), as the site workflow test checks the other pages.

Investigator: screen SAPHYR's example candidate Y01, consent, randomise, then on each log the empty list, a new
row's form, its validation errors (and the flare's warning), the saved row in the list; a data manager locks the
casebook, and the log and a row's read-only form are checked again. Screenshots go to
``$PMRTRIAL_SCREENSHOTS/logs/<lang>/`` (default ``artifacts/screenshots/logs/``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import browser_walk, require_chromium, study_server


def _saphyr_candidate() -> dict[str, Any]:
    from pmrtrial.protocol import load_example_candidates

    data = dict(next(c for c in load_example_candidates("saphyr") if c["candidate_id"] == "Y01"))
    for key in ("candidate_id", "description"):
        data.pop(key)
    return data


@pytest.fixture(params=["en", "fr"])
def saphyr_site(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    require_chromium()
    init = ["--protocol", "saphyr", "--sites", "2", "--per-site", "6"]
    with study_server(tmp_path, init, (("inv1", "investigator", "01"), ("dm1", "data_manager", None))) as url:
        yield url, request.param


@pytest.mark.browser
def test_gc_dose_log_and_flare_pages_accessible_in_both_languages(saphyr_site: tuple[str, str]) -> None:
    url, lang = saphyr_site
    today = dt.date.today().isoformat()
    with browser_walk(url, lang, folder="logs") as w:
        page = w.page
        w.login("inv1")
        page.click("#screen-link")
        for name, value in _saphyr_candidate().items():
            if isinstance(value, bool):
                page.select_option(f"#id_{name}", "true" if value else "false")
            else:
                page.fill(f"#id_{name}", str(value))
        page.click("#screen-submit")
        page.wait_for_selector("#consent-form")
        subject = page.text_content("#subject-id")
        page.fill("#id_consent_version", "1.0")
        page.fill("#id_consented_on", today)
        page.click("#consent-submit")
        page.check("#randomise-confirm")
        page.click("#randomise-button")
        page.wait_for_selector("#rand-number")
        assert page.locator("#link-gc-log").count() == 1 and page.locator("#link-flares").count() == 1
        w.shot("casebook-with-logs")

        page.click("#link-gc-log")
        page.wait_for_selector("#gc-rows")
        w.shot("gc-log-empty")
        page.click("#add-gc-dose")
        page.wait_for_selector("#crf")
        w.shot("gc-dose-new")
        page.click("#save-button")  # nothing entered: errors tied to their fields
        page.wait_for_selector("#error-summary")
        assert page.get_attribute("#id_start_date", "aria-invalid") == "true"
        w.shot("gc-dose-errors")
        page.fill("#id_start_date", today)
        page.fill("#id_dose_mg_day", "15")
        page.select_option("#id_dose_reason", "taper")
        w.save()
        w.shot("gc-dose-saved")
        page.goto(f"{url}/p/{subject}/gc/")
        assert page.locator("#gc-rows tbody tr").count() == 1
        page.wait_for_selector("#gc-cumulative")
        w.shot("gc-log-one-row")

        page.goto(f"{url}/p/{subject}/flares/")
        page.wait_for_selector("#flare-rows")
        w.shot("flares-empty")
        page.click("#add-flare")
        page.wait_for_selector("#crf")
        w.shot("flare-new")
        page.fill("#id_assessment_date", today)
        page.fill("#id_pain_vas", "11")  # out of range: error linked to the field
        page.click("#save-button")
        page.wait_for_selector("#err-pain_vas")
        w.shot("flare-errors")
        page.fill("#id_pain_vas", "5")
        page.fill("#id_physician_global_vas", "4")
        page.fill("#id_morning_stiffness_min", "30")
        page.select_option("#id_upper_limb_elevation", "1")
        page.fill("#id_crp_value", "12")
        page.select_option("#id_crp_unit", "mg/L")
        page.select_option("#id_confirmed", "true")
        # CRP PMR-AS = 5 + 4 + 0.1*30 + 1 + 12/10 = 14.2 (by hand), shown before saving
        page.wait_for_selector("#crp-pmr-as:text-is('14.2')", timeout=10000)
        w.shot("flare-live-score")
        page.click("#save-button")
        # No W0 CRP PMR-AS yet: only the absolute rule is evaluated, a warning the investigator confirms.
        page.wait_for_selector("#confirm-warnings")
        w.shot("flare-warning")
        page.check("#confirm-warnings")
        w.save()
        page.goto(f"{url}/p/{subject}/flares/")
        assert page.locator("#flare-rows tbody tr").count() == 1
        w.shot("flares-one-row")
        w.logout()

        w.login("dm1")
        page.goto(f"{url}/p/{subject}/")
        page.click("#lock-button")
        page.wait_for_selector(".msg.success")
        page.goto(f"{url}/p/{subject}/gc/")
        w.shot("gc-log-casebook-locked")
        page.goto(f"{url}/p/{subject}/f/FL-1/flare/")
        page.wait_for_selector("#lock-notice")
        assert page.locator("#save-button").count() == 0
        w.shot("flare-locked")
    assert not w.violations, w.violations
    assert all("pmrtrial EDC" in t for t in w.titles.values()), w.titles
    assert w.n == 14  # every page above was checked
