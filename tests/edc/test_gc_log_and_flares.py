"""GC dose log and flare assessments in the EDC (issue 11, section 5): capture, live cumulative dose
and taper adherence (hand arithmetic below), blinding, site isolation, audit replay, export.

The study runs SAPHYR with two *test* tapers added to its arms (SAPHYR's week-by-week schedules are
not encoded in the bundled protocol: its notes say so). They differ, so adherence reveals the arm:

- sarilumab ("short"): 15 mg/day weeks 0-2, 10 mg/day weeks 2-4, 5 mg/day weeks 4-14, then 0;
- placebo ("long"): 15 mg/day weeks 0-4, 10 mg/day weeks 4-52.

The participant was randomised 100 days ago (day 0) and logs:

====  ==============  ==========  ==========
row   days            mg/day      reason
====  ==============  ==========  ==========
GC-1  0 .. 13         15          taper
GC-2  14 .. 27        12          taper
GC-3  28 .. 97        5           taper
GC-4  50 .. 55        20          rescue
====  ==============  ==========  ==========

Cumulative dose, days 0 .. 100: 14 x 15 + 14 x 12 + 70 x 5 + 6 x 20 = 210 + 168 + 350 + 120 = 848 mg.
At the scheduled visits (days 0 .. the day before the visit; SAPHYR W2 = day 14, W4 = 28, W8 = 56,
W12 = 84): W0 0; W2 210; W4 210 + 168 = 378; W8 378 + 28 x 5 + 6 x 20 = 638; W12 378 + 56 x 5 + 120 = 778.
Oral dose on day 100: 0 (GC-3 ended on day 97).

Adherence (oral dose <= taper, tolerance 0):
- sarilumab: days 14 .. 27 (12 > 10) and 50 .. 55 (25 > 5): 20 days over, the first on day 14;
  per visit (interval since the previous visit): W2 yes, W4 no, W8 no, W12 yes;
- placebo: days 50 .. 55 (25 > 10): 6 days over, the first on day 50; W2 yes, W4 yes, W8 no, W12 yes.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import pytest
import yaml
from django.db import connection
from django.test import Client

from pmrtrial.edc import services as svc
from pmrtrial.edc.audit.replay import verify_integrity
from pmrtrial.edc.crfs.form_validators import judge_flare
from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.errors import FormInvalid, LockedError, NotFound
from pmrtrial.edc.randomisation.secrets import allocation_arm_for_service
from pmrtrial.io.datasets import read_datasets
from pmrtrial.io.files import read_protocol_text
from pmrtrial.protocol import load_example_candidates
from tests.edc.conftest import PASSWORD, make_users, randomised

SHORT = [(0, 2, 15.0), (2, 4, 10.0), (4, 14, 5.0)]
LONG = [(0, 4, 15.0), (4, 52, 10.0)]
# Hand arithmetic of the module docstring, per arm.
EXPECTED = {
    "sarilumab": {"days_over": 20, "first_day_over": 14, "by_visit": [None, True, False, False, True]},
    "placebo": {"days_over": 6, "first_day_over": 50, "by_visit": [None, True, True, False, True]},
}
CUMULATIVE_BY_VISIT = [0.0, 210.0, 378.0, 638.0, 778.0]
LOG = [
    (0, 13, 15, "taper"),
    (14, 27, 12, "taper"),
    (28, 97, 5, "taper"),
    (50, 55, 20, "rescue"),
]


def _taper(segments: list[tuple[float, float, float]]) -> list[dict[str, Any]]:
    return [{"from_week": a, "to_week": b, "drug": "prednisone", "dose_mg_day": d} for a, b, d in segments]


def saphyr_with_tapers() -> str:
    doc = yaml.safe_load(read_protocol_text("saphyr"))
    for arm in doc["arms"]:
        arm["gc_taper"] = _taper(SHORT if arm["id"] == "sarilumab" else LONG)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def saphyr_candidate() -> dict[str, Any]:
    data = dict(next(c for c in load_example_candidates("saphyr") if c["candidate_id"] == "Y01"))
    for key in ("candidate_id", "description"):
        data.pop(key)
    return data


@pytest.fixture
def saphyr(db: str) -> dict[str, Any]:
    from pmrtrial.edc.studies import init_study

    init_study(saphyr_with_tapers(), 3, seed=20250101, n_per_site=8)
    return make_users()


def _date(p: Any, day: int) -> str:
    return (p.randomised_on + dt.timedelta(days=day)).isoformat()


def _log(inv: Any, p: Any) -> list[FormRecord]:
    out = []
    for start, end, dose, reason in LOG:
        data = {"start_date": _date(p, start), "end_date": _date(p, end), "dose_mg_day": dose, "dose_reason": reason}
        out.append(svc.add_gc_dose(inv, p, data, confirm_warnings=True))
    return out


PMR_LOW = {"pain_vas": 2, "physician_global_vas": 1, "morning_stiffness_min": 10, "upper_limb_elevation": 0}
FLARE = {"pain_vas": 5, "physician_global_vas": 4, "morning_stiffness_min": 30, "upper_limb_elevation": 1}


def _baseline(inv: Any, p: Any, pmr: dict[str, Any] = PMR_LOW) -> None:
    """W0: CRP 3 mg/L; CRP PMR-AS = 0.3 + 2 + 1 + 0.1 x 10 + 0 = 4.3."""
    svc.save_form(inv, p, "W0", "visit_info", {"visit_date": p.randomised_on.isoformat()})
    svc.save_form(inv, p, "W0", "labs", {"crp_value": 3, "crp_unit": "mg/L"})
    svc.save_form(inv, p, "W0", "pmr_as", pmr)


def _flare(p: Any, day: int, components: dict[str, Any], crp: float, confirmed: bool) -> dict[str, Any]:
    return {
        "assessment_date": _date(p, day),
        **components,
        "crp_value": crp,
        "crp_unit": "mg/L",
        "confirmed": confirmed,
    }


# -- pure rules ------------------------------------------------------------------------------------


def test_judge_flare_names_the_rule_that_fired() -> None:
    # Dejaco 2011: absolute CRP PMR-AS > 9.35; change > 6.6 over the reference.
    assert judge_flare(13.8, 4.3, confirmed=True)["dejaco_rule"] == "both"  # 13.8 > 9.35, 9.5 > 6.6
    assert judge_flare(13.8, 11.3, confirmed=True)["dejaco_rule"] == "absolute"  # change 2.5
    assert judge_flare(8.0, 1.0, confirmed=False)["dejaco_rule"] == "change"  # 8.0 <= 9.35, change 7.0
    none = judge_flare(7.5, 4.3, confirmed=True)
    assert (none["dejaco_rule"], none["rule"]) == ("none", "investigator")  # confirmed on judgement only
    assert judge_flare(7.5, 4.3, confirmed=False)["rule"] is None
    # Without a reference only the absolute rule is evaluated (the form warns that the change rule was not).
    assert judge_flare(7.5, None, confirmed=False)["dejaco_rule"] == "none"


# -- capture, cumulative dose, adherence -----------------------------------------------------------


def test_gc_log_cumulative_and_adherence_match_hand_arithmetic(saphyr: dict[str, Any]) -> None:
    p = randomised(saphyr, data=saphyr_candidate())
    rows = _log(saphyr["inv1"], p)
    assert [r.key for r in rows] == ["GC-1", "GC-2", "GC-3", "GC-4"]
    assert [(r.derived["start_day"], r.derived["end_day"]) for r in rows] == [(s, e) for s, e, _, _ in LOG]
    arm = allocation_arm_for_service(p)
    summary = svc.gc_log_summary(saphyr["ustat"], p, today=p.randomised_on + dt.timedelta(days=100))
    assert summary.as_of_day == 100
    assert summary.cumulative_mg == pytest.approx(848.0)
    assert summary.oral_mg_day == 0.0
    assert [v.visit for v in summary.visits] == ["W0", "W2", "W4", "W8", "W12"]
    assert [v.cumulative_mg for v in summary.visits] == pytest.approx(CUMULATIVE_BY_VISIT)
    assert summary.taper is not None and summary.taper.arm == arm
    assert summary.taper.days_over == EXPECTED[arm]["days_over"]
    assert summary.taper.first_day_over == EXPECTED[arm]["first_day_over"]
    assert summary.taper.adherent is False
    assert [v.adherent for v in summary.visits] == EXPECTED[arm]["by_visit"]
    # The site sees the same cumulative dose (data, not allocation) but no adherence.
    site = svc.gc_log_summary(saphyr["inv1"], p, today=p.randomised_on + dt.timedelta(days=100))
    assert site.cumulative_mg == pytest.approx(848.0)
    assert site.taper is None and all(v.adherent is None for v in site.visits)
    assert "reveal" in site.taper_note


def test_gc_dose_rules_and_reason_for_change(saphyr: dict[str, Any]) -> None:
    inv = saphyr["inv1"]
    p = randomised(saphyr, data=saphyr_candidate())
    with pytest.raises(FormInvalid) as exc:
        svc.add_gc_dose(inv, p, {"start_date": _date(p, 10), "dose_mg_day": 1001, "dose_reason": "taper"})
    assert set(exc.value.errors) == {"dose_mg_day"}  # the vocabulary's range, [0, 1000]
    with pytest.raises(FormInvalid) as exc:
        svc.add_gc_dose(
            inv, p, {"start_date": _date(p, 10), "end_date": _date(p, 5), "dose_mg_day": 10, "dose_reason": "taper"}
        )
    assert set(exc.value.errors) == {"end_date"}
    svc.add_gc_dose(inv, p, {"start_date": _date(p, 0), "dose_mg_day": 15, "dose_reason": "taper"})
    # A second taper row overlapping the first (still ongoing) needs confirmation: rows add up.
    with pytest.raises(FormInvalid) as exc:
        svc.add_gc_dose(inv, p, {"start_date": _date(p, 14), "dose_mg_day": 12.5, "dose_reason": "taper"})
    assert "GC-1" in exc.value.warnings["start_date"]
    assert FormRecord.objects.filter(participant=p, form="gc_dose").count() == 1  # nothing saved
    # Ending GC-1 is a change: it needs the version and a reason, and is audited.
    data = {"start_date": _date(p, 0), "end_date": _date(p, 13), "dose_mg_day": 15, "dose_reason": "taper"}
    with pytest.raises(FormInvalid) as exc:
        svc.save_form(inv, p, "GC-1", "gc_dose", data, expected_version=1)
    assert "reason" in exc.value.errors
    rec = svc.save_form(inv, p, "GC-1", "gc_dose", data, expected_version=1, reason="taper step entered")
    assert rec.version == 2 and rec.derived["end_day"] == 13
    svc.add_gc_dose(inv, p, {"start_date": _date(p, 14), "dose_mg_day": 12.5, "dose_reason": "taper"})
    from pmrtrial.edc.audit.models import AuditEntry

    entry = AuditEntry.objects.get(object_type="form:gc_dose", object_id=f"{p.subject_id}/GC-1", field="end_date")
    assert (entry.new_value, entry.reason) == (_date(p, 13), "taper step entered")
    assert _form_mismatches() == []


def test_flare_assessment_pmr_as_rule_and_baseline_change(saphyr: dict[str, Any]) -> None:
    inv = saphyr["inv1"]
    p = randomised(saphyr, data=saphyr_candidate())
    _baseline(inv, p)
    # CRP PMR-AS = 0.8 + 5 + 4 + 0.1 x 30 + 1 = 13.8; change 13.8 - 4.3 = 9.5: both rules fire.
    rec = svc.add_flare(inv, p, _flare(p, 60, FLARE, 8, True))
    assert rec.key == "FL-1"
    d = rec.derived
    assert (d["day"], d["crp_pmr_as"], d["reference_crp_pmr_as"]) == (60, 13.8, 4.3)
    assert (d["dejaco_rule"], d["rule"], d["change"]) == ("both", "dejaco_2011", pytest.approx(9.5))
    # 0.5 + 3 + 2 + 2 + 0 = 7.5 <= 9.35, change 3.2: no rule fires; confirming it needs confirmation.
    other = {"pain_vas": 3, "physician_global_vas": 2, "morning_stiffness_min": 20, "upper_limb_elevation": 0}
    with pytest.raises(FormInvalid) as exc:
        svc.add_flare(inv, p, _flare(p, 70, other, 5, True))
    assert "confirmed" in exc.value.warnings
    rec2 = svc.add_flare(inv, p, _flare(p, 70, other, 5, True), confirm_warnings=True)
    assert (rec2.derived["crp_pmr_as"], rec2.derived["dejaco_rule"], rec2.derived["rule"]) == (
        7.5,
        "none",
        "investigator",
    )
    with pytest.raises(FormInvalid) as exc:  # one assessment per day (the flares table's key)
        svc.add_flare(inv, p, _flare(p, 70, other, 5, False), confirm_warnings=True)
    assert "FL-2" in exc.value.errors["assessment_date"]
    # Correcting the baseline re-judges the saved flares: pain 9 -> 0.3 + 9 + 1 + 1 = 11.3; 13.8 - 11.3 = 2.5.
    svc.save_form(inv, p, "W0", "pmr_as", {**PMR_LOW, "pain_vas": 9}, expected_version=1, reason="transcription")
    again = FormRecord.objects.get(participant=p, key="FL-1")
    assert (again.derived["reference_crp_pmr_as"], again.derived["dejaco_rule"]) == (11.3, "absolute")
    assert _form_mismatches() == []


def test_logs_follow_locks_signature_and_site_isolation(saphyr: dict[str, Any]) -> None:
    inv, inv2 = saphyr["inv1"], saphyr["inv2"]
    p = randomised(saphyr, data=saphyr_candidate())
    svc.add_gc_dose(inv, p, {"start_date": _date(p, 0), "dose_mg_day": 15, "dose_reason": "taper"})
    for call in (
        lambda: svc.add_gc_dose(inv2, p, {"start_date": _date(p, 1), "dose_mg_day": 5, "dose_reason": "other"}),
        lambda: svc.list_gc_doses(inv2, p),
        lambda: svc.gc_log_summary(inv2, p),
        lambda: svc.list_flares(inv2, p),
    ):
        with pytest.raises(NotFound):  # another site's participant does not exist for inv2
            call()
    svc.sign_casebook(inv, p, PASSWORD, confirm_exceptions=svc.signature_exceptions(p))
    svc.add_gc_dose(inv, p, {"start_date": _date(p, 20), "dose_mg_day": 20, "dose_reason": "rescue"})
    p.refresh_from_db()
    assert p.signature_void is True  # a new dose row voids the signature
    svc.lock_participant(saphyr["dm"], p)
    p.refresh_from_db()
    with pytest.raises(LockedError):
        svc.add_gc_dose(inv, p, {"start_date": _date(p, 30), "dose_mg_day": 5, "dose_reason": "other"})
    with pytest.raises(LockedError):
        svc.add_flare(inv, p, _flare(p, 30, FLARE, 8, True), confirm_warnings=True)


def test_bachelor_does_not_capture_the_logs(users: dict[str, Any]) -> None:
    p = randomised(users)
    dose = {"start_date": _date(p, 0), "dose_mg_day": 15, "dose_reason": "taper"}
    with pytest.raises(NotFound):
        svc.add_gc_dose(users["inv1"], p, dose)
    with pytest.raises(NotFound):  # nor by its key, as an API PUT would
        svc.save_form(users["inv1"], p, "GC-1", "gc_dose", dose)
    assert not FormRecord.objects.filter(participant=p, form="gc_dose").exists()
    exported = svc.build_datasets(users["ustat"])
    assert exported.gc_doses is None and exported.flares is None


# -- audit replay --------------------------------------------------------------------------------


def _form_mismatches() -> list[tuple[str, str, str, str]]:
    """Mismatches of form records (the test helper ``randomised`` moves the randomisation date behind the
    trail's back, which replay rightly reports on the participant)."""
    report = verify_integrity()
    assert report.chain.ok
    return [(m.record, m.field, m.expected, m.found) for m in report.mismatches if m.table == "edc_crfs_formrecord"]


def _raw_update(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cur:
        cur.execute(sql.replace("?", "%s"), params)


def test_audit_replay_detects_a_tampered_dose_row(saphyr: dict[str, Any]) -> None:
    p = randomised(saphyr, data=saphyr_candidate())
    rows = _log(saphyr["inv1"], p)
    assert _form_mismatches() == []
    # The dose changed behind the trail's back.
    data = {**rows[1].data, "dose_mg_day": 10.0}
    _raw_update("UPDATE edc_crfs_formrecord SET data = ? WHERE id = ?", [json.dumps(data), rows[1].pk])
    assert _form_mismatches() == [(f"{p.subject_id}/GC-2/gc_dose", "data.dose_mg_day", "12.0", "10.0")]
    # The exported day changed through the derived values, the data left alone.
    _raw_update("UPDATE edc_crfs_formrecord SET data = ? WHERE id = ?", [json.dumps(rows[1].data), rows[1].pk])
    derived = {**rows[2].derived, "start_day": 35}
    _raw_update("UPDATE edc_crfs_formrecord SET derived = ? WHERE id = ?", [json.dumps(derived), rows[2].pk])
    assert _form_mismatches() == [(f"{p.subject_id}/GC-3/gc_dose", "derived.start_day (recomputed)", "28", "35")]


def test_replay_reads_each_participants_context_once(saphyr: dict[str, Any]) -> None:
    """``edc audit verify`` recomputes every log row's derived values from the participant's context read once:
    the same values as the save wrote (each row's context then read on its own), in a number of queries that
    does not grow with the rows."""
    from django.test.utils import CaptureQueriesContext

    from pmrtrial.edc.crfs.services import DerivedRecomputer, recompute_derived

    inv = saphyr["inv1"]
    for _ in range(2):
        p = randomised(saphyr, data=saphyr_candidate())
        _log(inv, p)
        _baseline(inv, p)
        svc.add_flare(inv, p, _flare(p, 60, FLARE, 8, True))
        svc.add_flare(inv, p, _flare(p, 61, FLARE, 9, True))
    logs = list(FormRecord.objects.filter(form__in=("gc_dose", "flare")).select_related("participant").order_by("pk"))
    assert len(logs) == 12
    recompute = DerivedRecomputer()
    for rec in logs:
        assert recompute(rec) == rec.derived == recompute_derived(rec)
    assert recompute.n_participants_loaded == 2
    with CaptureQueriesContext(connection) as first_row:
        DerivedRecomputer()(logs[0])
    with CaptureQueriesContext(connection) as all_rows:
        recompute_all = DerivedRecomputer()
        for rec in logs:
            recompute_all(rec)
    assert len(all_rows) == 2 * len(first_row) > 0  # queries at each participant's first row only


# -- export --------------------------------------------------------------------------------------


def test_export_writes_gc_doses_and_flares_that_validate(saphyr: dict[str, Any], tmp_path: Any) -> None:
    inv = saphyr["inv1"]
    p = randomised(saphyr, data=saphyr_candidate())
    randomised(saphyr, "02", data=saphyr_candidate())  # no log rows: took no glucocorticoid
    _baseline(inv, p)
    _log(inv, p)
    svc.add_flare(inv, p, _flare(p, 60, FLARE, 8, True))
    # Blinded: the tapers differ, so the dose rows (a 14- or a 52-week taper) would reveal each arm.
    blinded = svc.export_datasets(saphyr["bstat"], tmp_path / "bstat")
    assert blinded.gc_doses is None and "would reveal the arm" in blinded.manifest["gc_doses_note"]
    data = read_datasets(tmp_path / "bstat", protocol=svc.get_protocol())
    assert data.gc_doses is None and data.flares is not None and len(data.flares) == 1
    out = tmp_path / "ustat"
    exported = svc.export_datasets(saphyr["ustat"], out)
    assert exported.gc_doses is not None and "gc_doses_note" not in exported.manifest
    data = read_datasets(out, protocol=svc.get_protocol())
    assert data.gc_doses is not None and data.flares is not None
    gc = data.gc_doses.sort_values("start_day")
    assert gc["start_day"].tolist() == [0, 14, 28, 50]
    assert gc["end_day"].tolist() == [13, 27, 97, 55]
    assert gc["dose_mg_day"].tolist() == [15.0, 12.0, 5.0, 20.0]
    assert gc["reason"].astype(str).tolist() == ["taper", "taper", "taper", "rescue"]
    fl = data.flares
    assert fl["day"].tolist() == [60] and fl["rule"].astype(str).tolist() == ["dejaco_2011"]
    assert bool(fl["confirmed"].iloc[0]) is True and float(fl["crp_pmr_as"].iloc[0]) == 13.8
    assert set(gc["subject_id"]) == set(fl["subject_id"]) == {p.subject_id}
    # The analysis derives from the exported log what the EDC showed (hand values of the module docstring).
    from pmrtrial.derive_endpoints import derive_vars_gc_from_log

    visits = pd.DataFrame({"subject_id": [p.subject_id] * 5, "week": [0.0, 2.0, 4.0, 8.0, 12.0]})
    derived, _ = derive_vars_gc_from_log(visits, data.gc_doses, data.subjects, svc.get_protocol())
    assert derived["cumulative_gc_mg"].tolist() == pytest.approx(CUMULATIVE_BY_VISIT)
    arm = allocation_arm_for_service(p)
    assert [None if pd.isna(v) else bool(v) for v in derived["gc_taper_adherent"]] == EXPECTED[arm]["by_visit"]


def test_export_leaves_out_an_empty_dose_log(saphyr: dict[str, Any], tmp_path: Any) -> None:
    """No dose row at all: writing an empty gc_doses would make every participant GC-free in the analysis."""
    randomised(saphyr, data=saphyr_candidate())
    exported = svc.export_datasets(saphyr["ustat"], tmp_path)
    assert exported.gc_doses is None and "no row was entered" in exported.manifest["gc_doses_note"]
    data = read_datasets(tmp_path, protocol=svc.get_protocol())
    assert data.gc_doses is None
    assert data.flares is not None and len(data.flares) == 0  # declared: no flare assessed


@pytest.mark.parametrize("name", ["saphyr", "semaphore"])
def test_bundled_protocols_declare_both_logs(name: str) -> None:
    from pmrtrial.edc.crfs.services import declared_logs
    from pmrtrial.protocol import load_protocol

    assert {"gc_doses", "flares"} <= declared_logs(load_protocol(name))


# -- blinding, API and pages -----------------------------------------------------------------------

ARM_WORDS = ("sarilumab", "placebo")
BLINDED = ("inv1", "nurse1", "mon1", "dm", "bstat", "admin")


def _api(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def logged(saphyr: dict[str, Any]) -> dict[str, Any]:
    p = randomised(saphyr, data=saphyr_candidate())
    _baseline(saphyr["inv1"], p)
    _log(saphyr["inv1"], p)
    svc.add_flare(saphyr["inv1"], p, _flare(p, 60, FLARE, 8, True))
    tokens = {name: svc.create_token(None, name) for name in saphyr}
    return {"p": p, "users": saphyr, "tokens": tokens, "arm": allocation_arm_for_service(p)}


def test_blinded_roles_see_no_schedule_adherence_or_arm(logged: dict[str, Any]) -> None:
    sid, arm = logged["p"].subject_id, logged["arm"]
    client = Client()
    for user in (*BLINDED, "ustat"):
        body = client.get(f"/api/participants/{sid}/gc-doses", **_api(logged["tokens"][user])).json()
        assert body["summary"]["cumulative_mg"] == pytest.approx(848.0)  # logged data: every viewer
        flares = client.get(f"/api/participants/{sid}/flares", **_api(logged["tokens"][user])).json()
        assert [f["derived"]["rule"] for f in flares] == ["dejaco_2011"]
        assert client.login(username=user, password=PASSWORD)
        page = client.get(f"/p/{sid}/gc/").content.decode()
        texts = [json.dumps(body), json.dumps(flares), page, client.get(f"/p/{sid}/flares/").content.decode()]
        if user in ("dm", "bstat"):  # blinded exports: no gc_doses when the tapers differ
            export = client.get("/api/export", **_api(logged["tokens"][user])).json()
            assert "gc_doses" not in export and len(export["flares"]) == 1
            texts.append(json.dumps(export))
        client.logout()
        if user == "ustat":  # the positive control: the unblinded statistician sees the adherence
            assert body["summary"]["taper"]["arm"] == arm
            assert body["summary"]["taper"]["days_over"] == EXPECTED[arm]["days_over"]
            assert 'id="gc-taper"' in page and arm in page
            continue
        assert body["summary"]["taper"] is None, user
        assert all("adherent" not in v for v in body["summary"]["visits"]), user
        assert 'id="gc-taper"' not in page and "Adherent" not in page and "gc-taper-note" in page, user
        joined = "\n".join(texts).lower()
        for word in ARM_WORDS:
            assert word not in joined, (user, word)


def test_api_logs_declare_and_return_their_errors(logged: dict[str, Any]) -> None:
    sid, tokens = logged["p"].subject_id, logged["tokens"]
    client = Client()
    dose = {"start_date": _date(logged["p"], 99), "dose_mg_day": 7.5, "dose_reason": "other"}

    def post(user: str, path: str, data: dict[str, Any], **extra: Any) -> Any:
        body = json.dumps({"data": data, **extra})
        return client.post(
            f"/api/participants/{sid}/{path}", body, content_type="application/json", **_api(tokens[user])
        )

    r = post("inv1", "gc-doses", dose)
    assert r.status_code == 200 and r.json()["key"] == "GC-5" and r.json()["derived"]["start_day"] == 99
    assert post("bstat", "gc-doses", dose).status_code == 403  # role
    assert post("inv2", "gc-doses", dose).status_code == 404  # another site's participant
    bad = post("inv1", "gc-doses", {**dose, "dose_reason": "forgot"})
    assert bad.status_code == 422 and "dose_reason" in bad.json()["errors"]
    flare = _flare(logged["p"], 90, FLARE, 8, False)  # Dejaco fires but the investigator does not confirm
    warned = post("inv1", "flares", flare)
    assert warned.status_code == 422 and "confirmed" in warned.json()["warnings"]
    assert post("inv1", "flares", flare, confirm_warnings=True).json()["key"] == "FL-2"
    svc.lock_participant(logged["users"]["dm"], logged["p"])
    assert post("inv1", "gc-doses", {**dose, "dose_reason": "taper"}, confirm_warnings=True).status_code == 409
    spec = client.get("/api/openapi.json", **_api(tokens["inv1"])).json()["paths"]
    for path in ("/api/participants/{subject_id}/gc-doses", "/api/participants/{subject_id}/flares"):
        assert {"401", "403", "404", "409", "422"} <= set(spec[path]["post"]["responses"]), path
        assert {"401", "404"} <= set(spec[path]["get"]["responses"]), path


def test_pages_enter_a_dose_row_in_french(logged: dict[str, Any]) -> None:
    p, users = logged["p"], logged["users"]
    svc.set_language(users["inv1"], "fr")
    client = Client()
    assert client.login(username="inv1", password=PASSWORD)
    casebook = client.get(f"/p/{p.subject_id}/").content.decode()
    assert "Journal des doses de glucocorticoïdes" in casebook and "Évaluations de poussée" in casebook
    r = client.post(
        f"/p/{p.subject_id}/f/GC-new/gc_dose/",
        {"version": "0", "start_date": _date(p, 99), "dose_mg_day": "7,5", "dose_reason": "other"},
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/f/GC-5/gc_dose/")
    page = client.get(f"/p/{p.subject_id}/gc/").content.decode()
    assert "GC-5" in page and "Motif de la dose" in page and "autre" in page
    flares = client.get(f"/p/{p.subject_id}/flares/").content.decode()
    assert "FL-1" in flares and "les deux (score supérieur à 9,35 et hausse supérieure à 6,6)" in flares
    assert client.get(f"/p/{p.subject_id}/f/XX-new/gc_dose/").status_code == 404


def test_every_new_string_has_a_french_translation() -> None:
    import re
    from pathlib import Path

    from django.utils import translation

    from pmrtrial.edc.crfs.form_specs import get_form_spec
    from pmrtrial.edc.gc_doses import summary

    templates = Path(svc.__file__).parent / "templates" / "edc"
    ids: set[str] = set()
    for name in ("gc_log.html", "flares.html"):
        text = (templates / name).read_text(encoding="utf-8")
        ids |= set(re.findall(r'{% translate "([^"]*)" %}', text))
        for block in re.findall(r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate %}", text):
            ids.add(re.sub(r"{{ (\w+) }}", r"%(\1)s", block))
    for form in ("gc_dose", "flare"):
        spec = get_form_spec(form)
        ids |= {spec.title, *(f.label for f in spec.fields), *(str(lbl) for f in spec.fields for _, lbl in f.choices)}
    ids |= set(re.findall(r'note = "([^"]+)"', Path(summary.__file__).read_text(encoding="utf-8")))
    # Not new: what the PMR-AS and laboratory forms already show (their vocabulary choices included).
    for form in ("pmr_as", "labs"):
        ids -= {
            *(f.label for f in get_form_spec(form).fields),
            *(str(c[1]) for f in get_form_spec(form).fields for c in f.choices),
        }
    with translation.override("fr"):
        untranslated = sorted(i for i in ids if translation.gettext(i) == i)
    assert untranslated == []


# -- the bundled protocols through the CLI -----------------------------------------------------------

# Runs in a fresh interpreter on the initialised file: one eligible example candidate enrolled, a
# baseline, a dose row and a flare assessment entered, the datasets exported and read back.
_ENROL = """
import datetime as dt, json, sys
from pmrtrial.edc import setup
setup()
from pmrtrial.edc import services as svc
from pmrtrial.edc.accounts.services import create_user
from pmrtrial.io.datasets import read_datasets
from pmrtrial.protocol import load_example_candidates
name, out = sys.argv[1], sys.argv[2]
inv = create_user(None, "inv1", "correct-horse-battery", "investigator", ("01",))
stat = create_user(None, "ustat", "correct-horse-battery", "unblinded_statistician", ())
cand = dict(load_example_candidates(name)[0]); cand.pop("candidate_id"); cand.pop("description")
p = svc.enrol_participant(inv, "01", cand)
today = p.randomised_on.isoformat()
svc.save_form(inv, p, "W0", "labs", {"crp_value": 3, "crp_unit": "mg/L"})
pmr = {"pain_vas": 2, "physician_global_vas": 1, "morning_stiffness_min": 10, "upper_limb_elevation": 0}
svc.save_form(inv, p, "W0", "pmr_as", pmr)
svc.add_gc_dose(inv, p, {"start_date": today, "dose_mg_day": 15, "dose_reason": "taper"})
flare = {**pmr, "assessment_date": today, "crp_value": 3, "crp_unit": "mg/L", "confirmed": False}
svc.add_flare(inv, p, flare)
svc.export_datasets(stat, out)
data = read_datasets(out, protocol=svc.get_protocol())
print(json.dumps([len(data.gc_doses), len(data.flares)]))
"""


@pytest.mark.parametrize("name", ["saphyr", "semaphore"])
def test_edc_init_enrol_log_export_and_verify_bundled_protocol(name: str, tmp_path: Any) -> None:
    import subprocess
    import sys

    from tests.edc.test_tamper import _cli, _env

    db = tmp_path / "edc.sqlite3"
    r = _cli(db, "init", "--protocol", name, "--sites", "2", "--per-site", "4", "--seed", "5")
    assert r.returncode == 0 and f"study {name} 1.0" in r.stdout, r.stderr
    built = subprocess.run(
        [sys.executable, "-c", _ENROL, name, str(tmp_path / "export")],
        capture_output=True,
        text=True,
        env=_env(db),
        timeout=180,
    )
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout.strip().splitlines()[-1]) == [1, 1]
    verify = _cli(db, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
