"""Every workflow through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from pmrtrial.edc import services as svc
from pmrtrial.edc.audit.models import AuditEntry
from pmrtrial.edc.errors import ConflictError, FormInvalid, LockedError, NotFound, PermissionDenied, WorkflowError
from tests.edc.conftest import PASSWORD, candidate, randomised

PMR_W12 = {
    "pain_vas": 2,
    "patient_global_vas": 2,
    "fatigue_vas": 1,
    "physician_global_vas": 1,
    "morning_stiffness_min": 10,
    "upper_limb_elevation": 0,
}
LABS_W12 = {"crp_value": 4, "crp_unit": "mg/L", "esr_mm_h": 10}


def _visit_date(p: Any, code: str) -> str:
    return p.visits.get(code=code).target_date.isoformat()


def test_screening_keeps_failures_with_source_text(users: dict[str, Any]) -> None:
    inv = users["inv1"]
    ok = svc.screen_participant(inv, "01", candidate())
    assert ok.status == "eligible"
    # signs of GCA: exclusion exc-gca applies (bachelor-v1.0.yaml, deck exclusion criteria).
    fail = svc.screen_participant(inv, "01", candidate(gca_signs=True))
    assert fail.status == "screen_failed"
    failed = fail.eligibility["failed"]
    assert [c["id"] for c in failed] == ["exc-gca"]
    assert failed[0]["source_text"].startswith("signs of giant cell arteritis")
    assert fail.subject_id == "01-002"


def test_screening_invalid_saves_nothing(users: dict[str, Any]) -> None:
    from pmrtrial.edc.screening.models import Participant

    with pytest.raises(FormInvalid) as exc:
        svc.screen_participant(users["inv1"], "01", candidate(pain_vas="eleven"))
    assert "pain_vas" in exc.value.errors
    with pytest.raises(FormInvalid) as exc:
        svc.screen_participant(users["inv1"], "01", candidate(crp_mg_l=None))
    assert "crp_mg_l" in exc.value.errors
    assert Participant.objects.count() == 0


def test_consent_before_randomisation_and_schedule(users: dict[str, Any]) -> None:
    inv = users["inv1"]
    p = svc.screen_participant(inv, "01", candidate())
    with pytest.raises(WorkflowError):
        svc.randomise_participant(inv, p)
    svc.record_consent(inv, p, "2.1", dt.date.today())
    p = svc.randomise_participant(inv, p)
    assert p.status == "randomised" and p.randomisation_number.startswith("R1-01-") and p.kit_code.startswith("K")
    visits = {v.code: v for v in p.visits.all()}
    assert len(visits) == 10  # protocol: W0..W36, 10 visits
    w12 = visits["W12"]
    # W12: day 84, window -7/+7 (bachelor-v1.0.yaml)
    assert w12.target_date == p.randomised_on + dt.timedelta(days=84)
    assert (w12.window_start, w12.window_end) == (
        w12.target_date - dt.timedelta(days=7),
        w12.target_date + dt.timedelta(days=7),
    )
    with pytest.raises(WorkflowError):
        svc.randomise_participant(inv, p)


def test_nurse_cannot_randomise_and_other_site_is_invisible(users: dict[str, Any]) -> None:
    p = svc.screen_participant(users["inv1"], "01", candidate())
    svc.record_consent(users["nurse1"], p, "1.0", dt.date.today())
    with pytest.raises(PermissionDenied):
        svc.randomise_participant(users["nurse1"], p)
    with pytest.raises(NotFound):
        svc.get_participant(users["inv2"], p.subject_id)
    with pytest.raises(NotFound):
        svc.randomise_participant(users["inv2"], p)


def test_demo_override_refused_in_real_study(users: dict[str, Any]) -> None:
    p = svc.screen_participant(users["inv1"], "01", candidate())
    svc.record_consent(users["inv1"], p, "1.0", dt.date.today())
    with pytest.raises(PermissionDenied, match="demo"):
        svc.randomise_participant(users["inv1"], p, demo_arm="placebo")


def test_demo_override_in_demo_study(users: dict[str, Any]) -> None:
    from pmrtrial.edc.sites.models import Study

    Study.objects.update(demo=True)
    day = dt.date(2022, 3, 1)
    p = svc.enrol_participant(
        users["inv1"], "01", candidate(), screened_on=day, consented_on=day, randomised_on=day, demo_arm="placebo"
    )
    assert p.randomised_on == day
    assert svc.get_allocation(users["ustat"], p) == "placebo"


def test_visit_forms_scores_warnings_reason_and_window(users: dict[str, Any]) -> None:
    inv = users["inv1"]
    p = randomised(users)
    # visit date outside W12's window: a warning that needs confirmation (protocol deviation)
    late = (p.visits.get(code="W12").window_end + dt.timedelta(days=1)).isoformat()
    with pytest.raises(FormInvalid) as exc:
        svc.save_form(inv, p, "W12", "visit_info", {"visit_date": late})
    assert not exc.value.errors and "visit_date" in exc.value.warnings
    svc.save_form(inv, p, "W12", "visit_info", {"visit_date": late}, confirm_warnings=True)
    assert p.visits.get(code="W12").out_of_window is True
    svc.save_form(inv, p, "W12", "labs", LABS_W12)
    rec = svc.save_form(inv, p, "W12", "pmr_as", PMR_W12)
    # CRP PMR-AS = 2 + 1 + 0.1*10 + 0 + 4/10 = 4.4 (Leeb & Bird 2004 formula, by hand)
    assert rec.derived["crp_pmr_as"] == pytest.approx(4.4)
    # ESR PMR-AS = 2 + 1 + 1 + 0 + 10/10 = 5.0
    assert rec.derived["esr_pmr_as"] == pytest.approx(5.0)
    assert rec.derived["crp_pmr_as_activity"] == "low"  # 1.5 < 4.4 < 7 (Leeb 2004/2007)
    # an invalid value saves nothing and names the field
    with pytest.raises(FormInvalid) as exc:
        svc.save_form(inv, p, "W12", "pmr_as", {**PMR_W12, "pain_vas": 12}, expected_version=1, reason="typo")
    assert set(exc.value.errors) == {"pain_vas"}
    # a change after first entry needs a reason
    with pytest.raises(FormInvalid) as exc:
        svc.save_form(inv, p, "W12", "pmr_as", {**PMR_W12, "pain_vas": 3}, expected_version=1)
    assert "reason" in exc.value.errors
    rec = svc.save_form(inv, p, "W12", "pmr_as", {**PMR_W12, "pain_vas": 3}, expected_version=1, reason="source")
    assert rec.version == 2 and rec.data["pain_vas"] == 3
    entry = AuditEntry.objects.filter(object_id=f"{p.subject_id}/W12", field="pain_vas", action="update").get()
    assert (entry.old_value, entry.new_value, entry.reason) == ("2.0", "3.0", "source")
    # labs saved after pmr_as keep the score in step: pain 3 + 1 + 0.1*10 + 0 + 40/10 = 9.0
    svc.save_form(inv, p, "W12", "labs", {**LABS_W12, "crp_value": 40}, expected_version=1, reason="lab report")
    assert svc.get_form(inv, p, "W12", "pmr_as").derived["crp_pmr_as"] == pytest.approx(9.0)


def test_lost_update_second_editor_gets_conflict(users: dict[str, Any]) -> None:
    p = randomised(users)
    svc.save_form(users["inv1"], p, "W2", "labs", LABS_W12)
    # both editors opened version 1
    svc.save_form(users["inv1"], p, "W2", "labs", {**LABS_W12, "esr_mm_h": 20}, expected_version=1, reason="a")
    with pytest.raises(ConflictError) as exc:
        svc.save_form(users["nurse1"], p, "W2", "labs", {**LABS_W12, "esr_mm_h": 30}, expected_version=1, reason="b")
    assert exc.value.version == 2 and exc.value.current["esr_mm_h"] == 20
    assert svc.get_form(users["inv1"], p, "W2", "labs").data["esr_mm_h"] == 20  # the first save is kept


def test_injection_outside_weeks_1_and_4_is_a_deviation(users: dict[str, Any]) -> None:
    p = randomised(users)
    data = {"injection_given": True, "injection_week": 3, "agent": "cortivazol 3.75 mg"}
    with pytest.raises(FormInvalid) as exc:
        svc.save_form(users["inv1"], p, "W4", "injections", data)
    assert "injection_week" in exc.value.warnings
    rec = svc.save_form(users["inv1"], p, "W4", "injections", data, confirm_warnings=True)
    assert rec.derived["deviation"] is True
    with pytest.raises(NotFound):  # the protocol lists injections at W4 only
        svc.save_form(users["inv1"], p, "W8", "injections", data)


def test_adverse_event_and_end_of_study(users: dict[str, Any]) -> None:
    p = randomised(users, days_ago=70)
    onset = (p.randomised_on + dt.timedelta(days=21)).isoformat()
    ae = {
        "soc": "Infections and infestations",
        "term": "Herpes zoster",
        "serious": False,
        "severity": "moderate",
        "relatedness": "possible",
        "onset_date": onset,
        "outcome": "recovering",
    }
    with pytest.raises(FormInvalid) as exc:
        svc.add_adverse_event(users["inv1"], p, {**ae, "outcome": "fatal"})
    assert "serious" in exc.value.errors
    rec = svc.add_adverse_event(users["inv1"], p, ae)
    assert rec.key == "AE-1" and rec.derived["onset_week"] == 3.0  # 21 days / 7
    with pytest.raises(FormInvalid) as exc:
        svc.save_form(users["inv1"], p, "EOS", "end_of_study", {"status": "withdrawn", "end_date": onset})
    assert "reason" in exc.value.errors
    svc.save_form(
        users["inv1"], p, "EOS", "end_of_study", {"status": "withdrawn", "end_date": onset, "reason": "moved abroad"}
    )
    p.refresh_from_db()
    assert p.status == "withdrawn"


def test_queries_locking_signature_unlock(users: dict[str, Any]) -> None:
    p = randomised(users)
    svc.save_form(users["inv1"], p, "W2", "labs", LABS_W12)
    with pytest.raises(PermissionDenied):
        svc.raise_query(users["inv1"], p, "W2", "labs", "crp_value", "?")
    q = svc.raise_query(users["mon1"], p, "W2", "labs", "crp_value", "Please check the unit")
    svc.answer_query(users["nurse1"], q.id, "Checked against the lab report")
    q = svc.close_query(users["mon1"], q.id)
    assert q.state == "closed"
    with pytest.raises(RuntimeError):
        q.delete()
    with pytest.raises(Exception, match="password"):
        svc.sign_casebook(users["inv1"], p, "wrong")
    p = svc.sign_casebook(users["inv1"], p, PASSWORD, confirm_exceptions=svc.signature_exceptions(p))
    assert p.signed_by == "inv1"
    svc.lock_form(users["dm"], p, "W2", "labs")
    with pytest.raises(LockedError, match="form is locked"):
        svc.save_form(users["inv1"], p, "W2", "labs", {**LABS_W12, "esr_mm_h": 11}, expected_version=1, reason="x")
    with pytest.raises(FormInvalid):
        svc.unlock_form(users["dm"], p, "W2", "labs", "")
    svc.unlock_form(users["dm"], p, "W2", "labs", "query answered: correction needed")
    svc.lock_participant(users["dm"], p)
    with pytest.raises(LockedError, match="casebook is locked"):
        svc.save_form(users["inv1"], p, "W4", "labs", LABS_W12)
    svc.unlock_participant(users["dm"], p, "late lab result")
    svc.lock_database(users["dm"])
    with pytest.raises(LockedError, match="database is locked"):
        svc.save_form(users["inv1"], p, "W4", "labs", LABS_W12)
    svc.unlock_database(users["dm"], "reopened for a correction")
    svc.save_form(users["inv1"], p, "W4", "labs", LABS_W12)
    unlocks = AuditEntry.objects.filter(field="locked", new_value="false")
    assert unlocks.count() == 3 and all(e.reason for e in unlocks)


def test_emergency_unblinding(users: dict[str, Any]) -> None:
    p = randomised(users)
    req = svc.request_unblinding(users["inv1"], p, "Severe infection: need to know the treatment")
    with pytest.raises(WorkflowError):
        svc.reveal_allocation(users["inv1"], req.id)
    with pytest.raises(PermissionDenied):
        svc.approve_unblinding(users["inv1"], req.id)
    svc.approve_unblinding(users["dm"], req.id)
    with pytest.raises(NotFound):  # only the named requester
        svc.reveal_allocation(users["dm"], req.id)
    label = svc.reveal_allocation(users["inv1"], req.id)
    arm = svc.get_allocation(users["ustat"], p)
    assert label == {"baricitinib": "Baricitinib 4 mg then 2 mg", "placebo": "Placebo"}[arm]
    reveal = AuditEntry.objects.filter(action="reveal").get()
    assert reveal.restricted and reveal.actor == "inv1" and "Severe infection" in reveal.reason


def test_export_masks_arms_for_blinded_users(users: dict[str, Any], tmp_path: Any) -> None:
    p = randomised(users)
    svc.save_form(users["inv1"], p, "W0", "visit_info", {"visit_date": p.randomised_on.isoformat()})
    svc.save_form(users["inv1"], p, "W0", "demographics", {"height_cm": 160, "weight_kg": 64})
    with pytest.raises(PermissionDenied):
        svc.build_datasets(users["inv1"])
    blinded = svc.export_datasets(users["bstat"], tmp_path / "b")
    assert blinded.subjects["arm"].str.fullmatch(r"BC-[A-Z2-7]{8}").all()
    assert blinded.manifest["blinded"] is True
    from pmrtrial.datasets import validate_datasets

    # Validation accepts the codes as a blinded export ('ongoing', the interim status, is not a level yet here).
    subjects = blinded.subjects.assign(status="completed")
    checked = validate_datasets(
        subjects, blinded.visits, blinded.adverse_events, protocol=svc.get_protocol(), blinded=True
    )
    assert checked.blinded
    assert blinded.subjects["bmi"].tolist() == [25.0]  # 64 / 1.6**2 = 25.0
    assert blinded.visits["study_drug_mg_day"].isna().all()
    assert blinded.manifest["lock_status"].startswith("NOT LOCKED")
    text = "".join(f.read_text() for f in (tmp_path / "b").iterdir())
    assert "baricitinib" not in text.lower() and "placebo" not in text.lower()
    # The screening summary for the CONSORT enrolment stage: one screened person, randomised, no failed criterion.
    screening = (tmp_path / "b" / "screening.csv").read_text().splitlines()
    assert screening[0] == "screening_id,site_id,screened_on,eligibility,randomised,excluded_by"
    assert len(screening) == 2 and screening[1].startswith(f"{p.subject_id},") and screening[1].endswith(",True,")
    unblinded = svc.build_datasets(users["ustat"])
    assert unblinded.subjects["arm"].tolist() == [svc.get_allocation(users["ustat"], p)]
    svc.lock_database(users["dm"])
    assert svc.build_datasets(users["ustat"]).manifest["locked"] is True


def test_audit_completeness_and_tamper_detection(users: dict[str, Any]) -> None:
    before = AuditEntry.objects.filter(action__in=["create", "update"]).count()
    p = randomised(users)  # screening: 23 fields + status + failed = 25; consent 3; allocation 4 -> 32 changes
    svc.save_form(users["inv1"], p, "W2", "labs", LABS_W12)  # 3 fields
    svc.save_form(users["inv1"], p, "W2", "labs", {**LABS_W12, "esr_mm_h": 12}, expected_version=1, reason="r")  # 1
    changes = 25 + 3 + 4 + 3 + 1
    assert AuditEntry.objects.filter(action__in=["create", "update"]).count() - before == changes
    result = svc.verify_audit_chain()
    assert result.ok, result.message
    target = AuditEntry.objects.filter(field="esr_mm_h", action="update").get()
    with connection.cursor() as cur:
        cur.execute("UPDATE edc_audit_auditentry SET new_value = %s WHERE seq = %s", ["99", target.seq])
    result = svc.verify_audit_chain()
    assert not result.ok and result.bad_seq == target.seq
    assert f"audit entry {target.seq}" in result.message


def test_blinded_codes_are_per_participant(users: dict[str, Any]) -> None:
    """One unblinding decodes one participant: codes differ even between participants of the same arm."""
    from pmrtrial.edc.randomisation.secrets import blinded_code_key

    ps = [randomised(users) for _ in range(4)]
    codes = svc.build_datasets(users["bstat"]).subjects.set_index("subject_id")["arm"]
    assert codes.nunique() == 4
    arms = [svc.get_allocation(users["ustat"], p) for p in ps]
    assert len(set(arms)) < 4  # two arms, four participants: some share an arm, none shares a code
    key = blinded_code_key(users["ustat"])
    assert [key[codes[p.subject_id]] for p in ps] == arms
    with pytest.raises(PermissionDenied):
        blinded_code_key(users["bstat"])
