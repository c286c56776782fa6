"""The whole site workflow in Chromium, in English and in French, with an axe-core check and a screenshot of every page.

Screening -> result (criteria, scores, verdict) -> consent -> randomisation (confirmed) -> visit forms (visit date,
labs, PMR-AS with the live score, HAQ-DI, SF-36, EQ-5D) -> a monitor's query on a field -> the investigator's
answer on the form -> the monitor closes it and verifies the form -> the investigator signs (confirmed) -> the
data manager exports (NOT LOCKED) and locks the casebook -> the locked form, read-only with its reason.

Every page passes axe-core (WCAG 2.0/2.1 A and AA rules) with no serious or critical violation and has its own
title. The French run uses a demo database, so every page also carries the SYNTHETIC banner.

Screenshots go to ``$PMRTRIAL_SCREENSHOTS`` (default ``artifacts/screenshots/`` at the repository root, ignored
by git), one folder per language, numbered in workflow order.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, browser_walk, fill_candidate, require_chromium, study_server


@pytest.fixture(params=["en", "fr"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    require_chromium()
    init = ["--sites", "2", "--per-site", "6"] + (["--demo"] if request.param == "fr" else [])
    users = (("inv1", "investigator", "01"), ("mon1", "monitor", "01"), ("dm1", "data_manager", None))
    with study_server(tmp_path, init, users) as url:
        yield url, request.param


@pytest.mark.browser
def test_site_workflow_accessible_in_both_languages(site: tuple[str, str]) -> None:
    from pmrtrial.edc.crfs.form_specs import get_form_spec

    url, lang = site
    today = dt.date.today().isoformat()
    with browser_walk(url, lang) as w:
        page = w.page
        page.goto(url + "/login/")
        w.shot("login")
        w.login("inv1")
        w.shot("dashboard-empty")
        page.click("#screen-link")
        w.shot("screening")
        page.click("#screen-submit")  # nothing answered: errors tied to their fields
        page.wait_for_selector("#error-summary")
        w.shot("screening-errors")
        fill_candidate(page)
        page.click("#screen-submit")
        page.wait_for_selector("#consent-form")
        subject = page.text_content("#subject-id")
        assert page.locator("#criteria tbody tr").count() == 12  # BACHELOR: 5 inclusion + 7 exclusion
        w.shot("screening-result-eligible")
        page.fill("#id_consent_version", "1.0")
        page.fill("#id_consented_on", today)
        page.click("#consent-submit")
        page.wait_for_selector("#randomise-form")
        assert page.locator("#sign-form").count() == 0  # no signature before randomisation
        w.shot("randomise-confirmation")
        page.check("#randomise-confirm")
        page.click("#randomise-button")
        page.wait_for_selector("#rand-number")
        w.shot("casebook-randomised")
        base = f"{url}/p/{subject}/f/W0"
        page.goto(f"{base}/visit_info/")
        page.fill("#id_visit_date", today)
        w.save()
        page.goto(f"{base}/labs/")
        page.fill("#id_crp_value", "35")
        page.select_option("#id_crp_unit", "mg/L")
        page.fill("#id_esr_mm_h", "48")
        w.save()
        w.shot("form-labs-saved")
        page.goto(f"{base}/pmr_as/")
        page.fill("#id_pain_vas", "11")  # out of range: error linked to the field
        page.fill("#id_physician_global_vas", "6.8")
        page.fill("#id_morning_stiffness_min", "120")
        page.select_option("#id_upper_limb_elevation", "1")
        page.click("#save-button")
        page.wait_for_selector("#err-pain_vas")
        assert page.get_attribute("#id_pain_vas", "aria-invalid") == "true"
        assert "err-pain_vas" in (page.get_attribute("#id_pain_vas", "aria-describedby") or "")
        w.shot("form-pmr-as-error")
        page.fill("#id_pain_vas", "6.6")
        # CRP PMR-AS = 6.6 + 6.8 + 0.1*120 + 1 + 35/10 = 29.9 (by hand), shown before saving
        page.wait_for_selector("#crp-pmr-as:text-is('29.9')", timeout=10000)
        w.shot("form-pmr-as-live-score")
        w.save()
        for form in ("haq_di", "sf36", "eq5d"):
            page.goto(f"{base}/{form}/")
            if form == "haq_di":
                w.shot("form-haq-di-empty")
            for f in get_form_spec(form).fields:
                if f.type == "choice":
                    page.check(f"input[name={f.name}][value='{f.choices[0][0]}']")
                elif f.type == "bool":
                    page.select_option(f"#id_{f.name}", "false")
                else:
                    page.fill(f"#id_{f.name}", "80")
            w.save()
            w.shot(f"form-{form.replace('_', '-')}-saved")
        page.goto(f"{url}/p/{subject}/")
        w.shot("casebook-w0-partly-entered")
        w.logout()

        w.login("mon1")
        page.goto(f"{base}/labs/")
        page.select_option("#id_query_target", "W0/labs/crp_value")
        page.fill("#id_query_text", "CRP 35: please check against the laboratory report")
        page.click("#query-submit")
        page.wait_for_selector("#thread-crp_value")
        assert page.locator("#thread-crp_value .answer-input").count() == 0  # the raiser has no answer box
        w.shot("monitor-query-raised")
        w.logout()

        w.login("inv1")
        w.shot("dashboard-with-query")
        page.goto(url + "/queries/")
        w.shot("queries-open")
        page.click(".field-link")
        page.wait_for_selector("#thread-crp_value .answer-input")
        page.fill("#thread-crp_value .answer-input", "Checked: 35 mg/L on the report of day 0")
        page.click("#thread-crp_value .answer-button")
        page.wait_for_selector("#thread-crp_value .answer")
        w.shot("investigator-answered-on-form")
        w.logout()

        w.login("mon1")
        page.goto(f"{base}/labs/")
        page.click("#thread-crp_value .close-button")
        page.wait_for_selector("#thread-crp_value .reopen-button")
        page.click("#verify-button")
        page.wait_for_selector(".msg.success")
        w.shot("monitor-closed-and-verified")
        page.goto(url + "/queries/")
        w.shot("queries-closed")
        w.logout()

        w.login("inv1")
        page.goto(f"{url}/p/{subject}/")
        # W0 is only partly entered: the investigator confirms each listed exception to sign anyway.
        exceptions = page.locator("input[name=confirm_exception]")
        assert exceptions.count() > 0
        for i in range(exceptions.count()):
            exceptions.nth(i).check()
        page.check("#sign-confirm")
        page.fill("#id_sign_password", PASSWORD)
        w.shot("sign-confirmation")
        page.click("#sign-button")
        page.wait_for_selector("#signature .st-signed")
        w.shot("casebook-signed")
        page.goto(url + "/screen/")
        fill_candidate(page, gca_signs="true")  # exc-gca present: a screen failure, kept with its reason
        page.click("#screen-submit")
        page.wait_for_selector("#criteria tr.fails")
        w.shot("screening-result-not-eligible")
        page.goto(url + "/unblinding/")
        w.shot("unblinding")
        w.logout()

        w.login("dm1")
        w.shot("dashboard-data-manager")
        page.goto(url + "/export/")
        page.wait_for_selector("#not-locked")
        w.shot("export")
        page.goto(f"{url}/p/{subject}/")
        page.click("#lock-button")
        page.wait_for_selector(".msg.success")
        page.goto(f"{base}/labs/")
        page.wait_for_selector("#lock-notice")
        assert page.locator("#save-button").count() == 0
        w.shot("form-locked")
        page.goto(url + "/database/")
        w.shot("database")
        page.goto(f"{url}/p/{subject}/audit/")
        w.shot("audit-trail")
        if lang == "fr":
            assert page.locator("#demo-banner").count() == 1
    assert not w.violations, w.violations
    titles = [t for n, t in w.titles.items() if n not in ("screening-errors",)]
    assert len(set(w.titles.values())) >= 12, w.titles  # titles name the page (forms name form and visit)
    assert all("pmrtrial EDC" in t for t in titles)
