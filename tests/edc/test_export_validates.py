"""An interim (unlocked) EDC export is a valid set of canonical datasets (issue 10: status drift)."""

from __future__ import annotations

from typing import Any

from pmrtrial.edc import services as svc
from pmrtrial.edc.sites.services import get_protocol, get_study
from pmrtrial.io.datasets import read_datasets
from pmrtrial.vocabulary import column_names
from tests.edc.conftest import randomised

PMR_W0 = {
    "pain_vas": 7,
    "patient_global_vas": 7,
    "fatigue_vas": 5,
    "physician_global_vas": 6,
    "morning_stiffness_min": 120,
    "upper_limb_elevation": 1,
}


def test_interim_export_passes_dataset_validation(users: dict[str, Any], tmp_path: Any) -> None:
    inv = users["inv1"]
    ongoing = randomised(users)
    ended = randomised(users, "02")
    for p, site_inv in ((ongoing, inv), (ended, users["inv2"])):
        svc.save_form(site_inv, p, "W0", "visit_info", {"visit_date": p.randomised_on.isoformat()})
        svc.save_form(site_inv, p, "W0", "labs", {"crp_value": 35, "crp_unit": "mg/L", "esr_mm_h": 40})
        svc.save_form(site_inv, p, "W0", "pmr_as", PMR_W0)
        svc.save_form(site_inv, p, "W0", "ultrasound", {"synovitis": True})
    svc.save_form(
        users["inv2"],
        ended,
        "EOS",
        "end_of_study",
        {"status": "withdrawn", "end_date": ended.randomised_on.isoformat(), "reason": "moved"},
    )
    assert get_study().locked is False
    exported = svc.export_datasets(users["ustat"], tmp_path / "interim")
    assert exported.manifest["lock_status"].startswith("NOT LOCKED")
    # Columns are the vocabulary's, in its order; those the EDC has no source for are absent, not empty.
    for table, frame in (("subjects", exported.subjects), ("visits", exported.visits)):
        assert list(frame.columns) == [c for c in column_names(table) if c in frame.columns]
    assert {"stratum", "status"} <= set(exported.subjects.columns)
    assert {"visit_date", "us_synovitis"} <= set(exported.visits.columns)
    data = read_datasets(tmp_path / "interim", protocol=get_protocol(get_study()))
    status = dict(zip(data.subjects["subject_id"], data.subjects["status"], strict=True))
    assert status[ongoing.subject_id] == "ongoing"  # the EDC's 'randomised' participant, still followed
    week0 = data.visits.set_index("subject_id")
    assert (
        week0.loc[ongoing.subject_id, "visit_date"]
        == data.subjects.set_index("subject_id").loc[ongoing.subject_id, "randomised_on"]
    )
    assert bool(week0.loc[ongoing.subject_id, "us_synovitis"]) is True
    assert data.gc_doses is None and data.flares is None  # optional tables the EDC does not export
    assert "blinding_guess_participant" in data.absent_columns["subjects"]
