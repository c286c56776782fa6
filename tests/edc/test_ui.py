"""The web UI a site uses: casebook status, guard rails, queries where the work is, export, demo banner, French.

Expected states are written by hand from the rules in ``pmrtrial.edc.crfs.status`` (module docstring).
"""

from __future__ import annotations

import datetime as dt
import gettext
import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from pmrtrial.edc import services as svc
from tests.edc.conftest import PASSWORD, candidate, randomised

LOCALE = Path(__file__).resolve().parents[2] / "src" / "pmrtrial" / "edc" / "locale" / "fr" / "LC_MESSAGES"


def _client(user: str, language: str = "en") -> Client:
    c = Client()
    assert c.login(username=user, password=PASSWORD)
    if language != "en":
        c.post("/language/", {"language": language})
    return c


@pytest.fixture
def site_world(users: dict[str, Any]) -> dict[str, Any]:
    p = randomised(users, "01")
    inv = users["inv1"]
    svc.save_form(inv, p, "W0", "visit_info", {"visit_date": p.randomised_on.isoformat()})
    svc.save_form(inv, p, "W0", "labs", {"crp_value": 35, "crp_unit": "mg/L", "esr_mm_h": 48})
    svc.save_form(inv, p, "W0", "oral_gc", {"on_oral_gc": "false"})
    q = svc.raise_query(users["mon1"], p, "W0", "labs", "crp_value", "Please check CRP against the lab report")
    return {"p": p, "q": q, "users": users}


# --- casebook status -------------------------------------------------------------------------------------


def test_casebook_cells_and_visit_state(site_world: dict[str, Any]) -> None:
    from pmrtrial.edc.crfs.status import casebook_status

    p = site_world["p"]
    book = casebook_status(p)
    w0 = next(r for r in book.rows if r.visit.code == "W0")
    states = {c.form: c.state for c in w0.cells}
    # visit_info and oral_gc saved complete; labs has an open query; nothing else saved at W0.
    assert states["visit_info"] == "complete" and states["oral_gc"] == "complete"
    assert states["labs"] == "open_query"
    assert states["haq_di"] == "not_started" and states["pmr_as"] == "not_started"
    # 3 of W0's forms saved: the visit is incomplete, never "done".
    assert w0.state == "incomplete"
    w2 = next(r for r in book.rows if r.visit.code == "W2")
    assert w2.state == "not_started"
    assert book.signature == "unsigned"


def test_verified_locked_signed_and_void(site_world: dict[str, Any]) -> None:
    from pmrtrial.edc.crfs.status import casebook_status

    p, users = site_world["p"], site_world["users"]
    svc.verify_form(users["mon1"], p, "W0", "oral_gc")

    def state(form: str) -> str:
        book = casebook_status(p)
        return next(c.state for r in book.rows if r.visit.code == "W0" for c in r.cells if c.form == form)

    assert state("oral_gc") == "verified"
    svc.lock_form(users["dm"], p, "W0", "visit_info")
    assert state("visit_info") == "locked"
    svc.close_query(users["mon1"], site_world["q"].pk)
    # Forms of W0 are still missing: the investigator confirms each listed exception to sign.
    p = svc.sign_casebook(users["inv1"], p, PASSWORD, confirm_exceptions=svc.signature_exceptions(p))
    assert state("labs") == "signed"
    # A change after the signature voids it, for that form and for the casebook.
    svc.save_form(
        users["inv1"],
        p,
        "W0",
        "oral_gc",
        {"on_oral_gc": "true", "prednisone_mg_day": 5},
        expected_version=1,
        reason="transcription error",
    )
    assert state("oral_gc") == "signature_void"
    p.refresh_from_db()  # the save voided the signature in the database (pages load the participant afresh)
    assert casebook_status(p).signature == "void"


def test_study_overview_counts(site_world: dict[str, Any]) -> None:
    from pmrtrial.edc.crfs.status import study_overview

    users = site_world["users"]
    svc.screen_participant(users["inv1"], "01", candidate(gca_signs=True))  # excluded by exc-gca only
    ov = study_overview(users["dm"])
    site01 = next(r for r in ov["enrolment"] if r["site"] == "01")
    assert (site01["screened"], site01["screen_failed"], site01["enrolled"]) == (2, 1, 1)
    assert site01["target"] == 8  # init_study(..., n_per_site=8)
    assert ov["target_total"] == 34  # BACHELOR: 17 per group x 2 arms
    assert dict(ov["failure_reasons"]) == {"exc-gca": 1}
    assert len(ov["queries"]) == 1
    # randomised 100 days ago: W2..W12 windows closed without a visit date.
    assert {o["visit"].code for o in ov["overdue"]} >= {"W2", "W4", "W8", "W12"}
    assert any(m["visit"].code == "W0" and m["form"] == "haq_di" for m in ov["missing"])


# --- pages -------------------------------------------------------------------------------------------------


def test_casebook_page_names_forms_and_shows_states(site_world: dict[str, Any]) -> None:
    p = site_world["p"]
    page = _client("inv1").get(f"/p/{p.subject_id}/").content.decode()
    assert "Health Assessment Questionnaire (HAQ-DI)" in page and ">haq_di<" not in page
    assert "Open query" in page and "Not started" in page and "Incomplete" in page
    assert "<title>Casebook " + p.subject_id in page
    # criteria read present/absent with their consequence
    assert "does not exclude" in page and "absent" in page and "Scores at screening" in page


def test_sign_not_offered_before_randomisation(users: dict[str, Any]) -> None:
    p = svc.screen_participant(users["inv1"], "01", candidate())
    page = _client("inv1").get(f"/p/{p.subject_id}/").content.decode()
    assert "Sign casebook" not in page
    svc.record_consent(users["inv1"], p, "1.0", dt.date.today())
    page = _client("inv1").get(f"/p/{p.subject_id}/").content.decode()
    assert 'id="randomise-confirm"' in page and "This cannot be undone." in page


def test_randomise_and_sign_need_confirmation(users: dict[str, Any]) -> None:
    p = svc.screen_participant(users["inv1"], "01", candidate())
    svc.record_consent(users["inv1"], p, "1.0", dt.date.today())
    c = _client("inv1")
    c.post(f"/p/{p.subject_id}/action/", {"action": "randomise"})
    p.refresh_from_db()
    assert p.randomised_on is None  # no confirmation: nothing happened
    c.post(f"/p/{p.subject_id}/action/", {"action": "randomise", "confirm": "1"})
    p.refresh_from_db()
    assert p.randomised_on is not None
    c.post(f"/p/{p.subject_id}/action/", {"action": "sign", "password": PASSWORD})
    p.refresh_from_db()
    assert p.signed_at is None
    c.post(f"/p/{p.subject_id}/action/", {"action": "sign", "password": PASSWORD, "confirm": "1"})
    p.refresh_from_db()
    assert p.signed_by == "inv1"


def test_locked_form_is_read_only_with_reason(site_world: dict[str, Any]) -> None:
    p, users = site_world["p"], site_world["users"]
    svc.lock_participant(users["dm"], p)
    page = _client("inv1").get(f"/p/{p.subject_id}/f/W0/labs/").content.decode()
    assert 'id="lock-notice"' in page and "This casebook is locked." in page and "Locked by dm" in page
    assert 'id="save-button"' not in page and 'name="crp_value" disabled' in page


def test_query_flag_thread_and_role_actions(site_world: dict[str, Any]) -> None:
    p, q = site_world["p"], site_world["q"]
    url = f"/p/{p.subject_id}/f/W0/labs/"
    inv_page = _client("inv1").get(url).content.decode()
    assert 'id="thread-crp_value"' in inv_page and "Please check CRP" in inv_page
    assert f'id="answer-{q.pk}"' in inv_page  # the investigator answers
    assert "Close query" not in inv_page
    mon_page = _client("mon1").get(url).content.decode()
    assert f'id="answer-{q.pk}"' not in mon_page  # the raiser is not offered the answer box
    assert "Close query" in mon_page
    # the raiser cannot answer through a crafted POST either
    _client("mon1").post(f"/queries/{q.pk}/", {"action": "answer", "answer": "self"})
    q.refresh_from_db()
    assert q.state == "open"
    listing = _client("inv1").get("/queries/").content.decode()
    assert f'href="/p/{p.subject_id}/f/W0/labs/#field-crp_value"' in listing
    for text in ("Laboratory", ">CRP<", "mon1", "Open"):
        assert text in listing
    # monitor closes then reopens
    m = _client("mon1")
    m.post(f"/queries/{q.pk}/", {"action": "close"})
    q.refresh_from_db()
    assert q.state == "closed"
    m.post(f"/queries/{q.pk}/", {"action": "reopen"})
    q.refresh_from_db()
    assert q.state == "open"


def test_errors_are_linked_to_fields(site_world: dict[str, Any]) -> None:
    p = site_world["p"]
    page = _client("inv1").post(f"/p/{p.subject_id}/f/W2/pmr_as/", {"version": "0", "pain_vas": "11"}).content.decode()
    assert 'id="id_pain_vas"' in page
    assert re.search(r'id="id_pain_vas"[^>]*aria-invalid="true"[^>]*aria-describedby="err-pain_vas', page)
    assert 'id="err-pain_vas"' in page and 'href="#id_pain_vas"' in page


def test_instruments_show_their_wording(site_world: dict[str, Any]) -> None:
    p = site_world["p"]
    c = _client("inv1")
    haq = c.get(f"/p/{p.subject_id}/f/W0/haq_di/").content.decode()
    assert "Dress yourself, including tying shoelaces and doing buttons?" in haq and "Unable to do" in haq
    sf36 = c.get(f"/p/{p.subject_id}/f/W0/sf36/").content.decode()
    assert "Yes, limited a lot" in sf36 and "In general, would you say your health is:" in sf36
    eq5d = c.get(f"/p/{p.subject_id}/f/W0/eq5d/").content.decode()
    assert "Mobility" in eq5d and "Level 3" in eq5d and 'id="eq5d-note"' in eq5d
    fr = _client("inv1", "fr").get(f"/p/{p.subject_id}/f/W0/haq_di/").content.decode()
    assert "Vous habiller, y compris nouer vos lacets et boutonner vos vêtements ?" in fr
    assert "Incapable de le faire" in fr


def test_eq5d_licensed_wording_file(site_world: dict[str, Any], tmp_path: Path, monkeypatch: Any) -> None:
    import json

    words = {d: {"1": f"{d} no problem", "2": f"{d} some", "3": f"{d} extreme"} for d in ("mo", "sc", "ua", "pd", "ad")}
    path = tmp_path / "eq5d.json"
    path.write_text(json.dumps({"en": words}), encoding="utf-8")
    monkeypatch.setenv("PMRTRIAL_EQ5D_WORDING", str(path))
    page = _client("inv1").get(f"/p/{site_world['p'].subject_id}/f/W0/eq5d/").content.decode()
    assert "Level 1: mo no problem" in page and 'id="eq5d-note"' not in page
    path.write_text(json.dumps({"en": {"mo": {}}}), encoding="utf-8")
    from pmrtrial.edc.conf import eq5d_wording

    with pytest.raises(ValueError, match="PMRTRIAL_EQ5D_WORDING"):
        eq5d_wording("en")


def test_export_page_blinding_and_not_locked(site_world: dict[str, Any]) -> None:
    page = _client("bstat").get("/export/").content.decode()
    assert "NOT LOCKED" in page and "Blinded export" in page
    assert _client("ustat").get("/export/").content.decode().count("Unblinded export") == 1
    assert _client("inv1").get("/export/").status_code == 403
    resp = _client("dm").get("/export/?download=subjects")
    assert resp["Content-Type"] == "application/zip" and "NOT-LOCKED" in resp["Content-Disposition"]
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(resp.content)).namelist()
    assert names == ["subjects.csv", "dataset.json"]


def test_demo_banner_on_every_page_and_login(site_world: dict[str, Any]) -> None:
    from pmrtrial.edc.sites.models import Study

    assert "SYNTHETIC" not in Client().get("/login/").content.decode()
    Study.objects.update(demo=True)
    assert 'id="login-synthetic"' in Client().get("/login/").content.decode()
    page = _client("inv1").get("/").content.decode()
    assert 'id="demo-banner"' in page and "<title>Study dashboard · SYNTHETIC" in page


def test_old_urls_still_work(site_world: dict[str, Any]) -> None:
    p = site_world["p"]
    c = _client("inv1")
    for url in ("/", f"/p/{p.subject_id}/", f"/p/{p.subject_id}/f/W0/labs/", "/screen/", "/queries/"):
        assert c.get(url).status_code == 200, url
    assert Client().get("/login/").status_code == 200


def test_page_titles_are_distinct(site_world: dict[str, Any]) -> None:
    p = site_world["p"]
    c = _client("dm")
    urls = ["/", f"/p/{p.subject_id}/", f"/p/{p.subject_id}/f/W0/labs/", "/queries/", "/export/", "/database/"]
    titles = [re.search(r"<title>(.*?)</title>", c.get(u).content.decode()).group(1) for u in urls]  # type: ignore[union-attr]
    assert len(set(titles)) == len(titles), titles


# --- French ------------------------------------------------------------------------------------------------


def _parse_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (plural entries keyed by the singular, value = the first form)."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal msgid, msgstr, fuzzy
        if msgid is not None and msgstr is not None and "".join(msgid):
            entries["".join(msgid)] = "" if fuzzy else "".join(msgstr)
        msgid, msgstr, fuzzy = None, None, False

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            flush()
            fuzzy = True
        elif line.startswith("msgid "):
            if msgstr is not None:
                keep = fuzzy
                flush()
                fuzzy = keep
            msgid, current = [_unquote(line[6:])], None
            current = msgid
        elif line.startswith("msgid_plural "):
            current = []
        elif line.startswith(("msgstr ", "msgstr[0] ")):
            msgstr = [_unquote(line.split(" ", 1)[1])]
            current = msgstr
        elif line.startswith("msgstr["):
            current = []
        elif line.startswith('"') and current is not None:
            current.append(_unquote(line))
    flush()
    return entries


def _unquote(s: str) -> str:
    return s.strip()[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")


def test_catalogue_complete_and_compiled() -> None:
    po = _parse_po(LOCALE / "django.po")
    untranslated = sorted(k for k, v in po.items() if not v)
    assert not untranslated, f"untranslated or fuzzy entries in django.po: {untranslated}"
    with (LOCALE / "django.mo").open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    stale = sorted(k for k, v in po.items() if mo.gettext(k) != v)
    assert not stale, f"django.mo is stale (run msgfmt --check -o django.mo django.po): {stale[:10]}"


def test_every_runtime_label_has_french() -> None:
    from pmrtrial.edc.ui.catalogue import dynamic_msgids
    from pmrtrial.protocol.registry import list_protocols, load_protocol

    po = _parse_po(LOCALE / "django.po")
    protocols = tuple(load_protocol(n) for n in list_protocols())
    missing = sorted(m for m in dynamic_msgids(protocols) if not po.get(m))
    assert not missing, f"labels shown by the UI without a French translation: {missing}"
    for protocol in protocols:
        for crit in (*protocol.eligibility.inclusion, *protocol.eligibility.exclusion):
            assert crit.label and crit.label_fr, f"{protocol.id} {crit.id}: label {{en, fr}} missing"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self._skip = 0
        self._skipping_tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # code, scripts, text in another language (lang="en" on "English") and recorded data (translate="no",
        # e.g. the audit trail's old and new values) are not page text
        if tag in ("script", "style", "code") or ("lang", "en") in attrs or ("translate", "no") in attrs:
            self._skip += 1
            self._skipping_tag = tag
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder") and value:
                self.chunks.append(value)

    def handle_endtag(self, tag: str) -> None:
        if self._skip and tag == self._skipping_tag:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.chunks.append(data.strip())


def _english_left(html: str, po: dict[str, str]) -> set[str]:
    english = {k for k, v in po.items() if v and v != k and "%(" not in k}
    parser = _Text()
    parser.feed(html)
    found = set()
    for chunk in parser.chunks:
        text = chunk.rstrip(":*").strip()
        if text in english:
            found.add(text)
    return found


def test_every_page_in_french_has_no_untranslated_catalogue_entry(site_world: dict[str, Any]) -> None:
    from pmrtrial.edc.sites.models import Study

    Study.objects.update(demo=True)
    po = _parse_po(LOCALE / "django.po")
    p, users = site_world["p"], site_world["users"]
    failed = svc.screen_participant(users["inv1"], "01", candidate(age_years=40))
    svc.lock_form(users["dm"], p, "W0", "visit_info")
    sid = p.subject_id
    pages = {
        "inv1": [
            "/",
            "/screen/",
            "/queries/",
            "/unblinding/",
            f"/p/{sid}/",
            f"/p/{failed.subject_id}/",
            f"/p/{sid}/audit/",
            *(f"/p/{sid}/f/W0/{f}/" for f in svc.forms_for_visit("W0")),
            f"/p/{sid}/f/AE-new/adverse_event/",
            f"/p/{sid}/f/EOS/end_of_study/",
        ],
        "mon1": ["/", "/queries/", f"/p/{sid}/f/W0/labs/"],
        "dm": ["/", "/export/", "/database/", f"/p/{sid}/"],
        "ustat": ["/export/"],
    }
    problems = {}
    for user, urls in pages.items():
        c = _client(user, "fr")
        for url in urls:
            resp = c.get(url)
            assert resp.status_code == 200, (user, url)
            html = resp.content.decode()
            assert '<html lang="fr">' in html
            left = _english_left(html, po)
            if left:
                problems[f"{user} {url}"] = sorted(left)
    anon = Client(HTTP_ACCEPT_LANGUAGE="fr").get("/login/").content.decode()
    if _english_left(anon, po):
        problems["login"] = sorted(_english_left(anon, po))
    assert not problems, problems


def test_service_messages_are_translated(users: dict[str, Any]) -> None:
    p = svc.screen_participant(users["inv1"], "01", candidate())
    svc.record_consent(users["inv1"], p, "1.0", dt.date.today())
    c = _client("inv1", "fr")
    page = c.post(f"/p/{p.subject_id}/action/", {"action": "randomise"}, follow=True).content.decode()
    assert "Cochez la case de confirmation pour randomiser." in page
    assert c.get("/p/99-999/").content.decode().count("Participant introuvable.") == 1


def test_validation_messages_in_french(site_world: dict[str, Any]) -> None:
    p = site_world["p"]
    c = _client("inv1", "fr")
    page = c.post(f"/p/{p.subject_id}/f/W2/pmr_as/", {"version": "0", "pain_vas": "11"}).content.decode()
    assert "Saisissez une valeur entre 0 et 10." in page and "Enter a value" not in page
    assert "Ce champ est obligatoire." in page  # physician_global_vas etc. left empty
    screen = c.post("/screen/", {"site": "01", "age_years": "abc"}).content.decode()
    assert "Saisissez un nombre." in screen


def test_permission_message_in_french(site_world: dict[str, Any]) -> None:
    page = _client("inv1", "fr").get("/export/").content.decode()
    assert "Votre rôle ne permet pas l'action « export »." in html.unescape(page)
