"""The synthetic BACHELOR twin: determinism, plausibility, eligibility, dataset contract, labelling."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from pmrtrial.protocol import load_protocol, screen_candidate
from pmrtrial.scores import classify_response_state, compute_crp_pmr_as
from pmrtrial.synth import SYNTHETIC_LABEL, generate_bachelor_twin

SUBJECT_COLUMNS = [
    "subject_id", "site_id", "arm", "randomised_on", "age_years", "sex",
    "disease_duration_days", "bmi", "us_synovitis", "status",
]  # fmt: skip
VISIT_COLUMNS = [
    "subject_id", "week", "crp_mg_l", "esr_mm_h", "pain_vas", "patient_global_vas", "fatigue_vas",
    "physician_global_vas", "morning_stiffness_min", "upper_limb_elevation", "oral_gc_mg_day", "haq_di",
    "eq5d_index", "sf36_pcs", "sf36_mcs", "study_drug_mg_day", "us_synovitis",
]  # fmt: skip
AE_COLUMNS = ["subject_id", "soc", "term", "serious", "severity", "onset_week", "outcome"]


@pytest.fixture(scope="module")
def twin() -> Any:
    return generate_bachelor_twin(seed=2025)


def _states(t: Any) -> pd.DataFrame:
    v = t.visits
    score = compute_crp_pmr_as(
        crp_mg_l=v["crp_mg_l"].to_numpy(float),
        pain_vas=v["pain_vas"].to_numpy(float),
        physician_global_vas=v["physician_global_vas"].to_numpy(float),
        morning_stiffness_min=v["morning_stiffness_min"].to_numpy(float),
        upper_limb_elevation=v["upper_limb_elevation"].to_numpy(float),
    )
    out = v[["subject_id", "week"]].copy()
    out["crp_pmr_as"] = score
    out["state"] = classify_response_state(score, on_oral_gc=v["oral_gc_mg_day"].to_numpy() > 0)
    out["arm"] = out["subject_id"].map(dict(zip(t.subjects["subject_id"], t.subjects["arm"], strict=False)))
    return out


def test_columns_and_labels(twin: Any) -> None:
    assert list(twin.subjects.columns) == SUBJECT_COLUMNS
    assert list(twin.visits.columns) == VISIT_COLUMNS
    assert list(twin.adverse_events.columns) == AE_COLUMNS
    for frame in (twin.subjects, twin.visits, twin.adverse_events):
        assert frame.attrs["synthetic"] is True
        assert frame.attrs["label"] == "SYNTHETIC — not trial data"
    assert SYNTHETIC_LABEL == "SYNTHETIC — not trial data"
    assert twin.subjects["subject_id"].str.match(r"^SYN-0[1-6]-\d{3}$").all()
    assert twin.subjects["subject_id"].is_unique


def test_subject_types_and_ranges(twin: Any) -> None:
    s = twin.subjects
    assert s["site_id"].isin([f"0{i}" for i in range(1, 7)]).all()
    assert s["arm"].isin(["baricitinib", "placebo"]).all()
    assert s["sex"].isin(["female", "male"]).all()
    assert s["status"].isin(["completed", "withdrawn", "lost"]).all()
    assert pd.api.types.is_datetime64_any_dtype(s["randomised_on"])
    # recruitment 2020-12 to 2023-08 (yaml design.recruitment)
    assert s["randomised_on"].min() >= pd.Timestamp("2020-12-01")
    assert s["randomised_on"].max() <= pd.Timestamp("2023-08-31")
    assert s["us_synovitis"].dtype == bool
    # a visit row exists exactly when the participant attended; withdrawn/lost have no visits after leaving
    last = twin.visits.groupby("subject_id")["week"].max()
    assert (last[s.set_index("subject_id")["status"] == "completed"] == 36).all()
    assert (last[s.set_index("subject_id")["status"] != "completed"] < 36).all()


def test_visit_plausibility(twin: Any) -> None:
    v = twin.visits
    assert v["week"].isin([0, 2, 4, 8, 12, 16, 20, 24, 28, 36]).all()
    assert not v.duplicated(["subject_id", "week"]).any()
    for col in ("pain_vas", "patient_global_vas", "fatigue_vas", "physician_global_vas"):
        assert v[col].between(0, 10).all(), col
        assert np.allclose(v[col] * 10, np.round(v[col] * 10)), col  # one decimal
    assert (v["crp_mg_l"] >= 0).all()
    assert v["esr_mm_h"].between(0, 200).all()
    assert pd.api.types.is_integer_dtype(v["morning_stiffness_min"])
    assert v["morning_stiffness_min"].between(0, 1440).all()
    assert pd.api.types.is_integer_dtype(v["upper_limb_elevation"])
    assert v["upper_limb_elevation"].isin([0, 1, 2, 3]).all()
    assert (v["oral_gc_mg_day"] >= 0).all()
    pro = ["haq_di", "eq5d_index", "sf36_pcs", "sf36_mcs"]
    on_pro_weeks = v["week"].isin([0, 12, 24, 36])
    assert v.loc[on_pro_weeks, pro].notna().all().all()
    assert v.loc[~on_pro_weeks, pro].isna().all().all()
    assert v["haq_di"].dropna().between(0, 3).all()
    assert v["eq5d_index"].dropna().between(-0.53, 1.0).all()  # EQ-5D-3L France value set range


def test_baseline_inclusion_score_and_no_gc(twin: Any) -> None:
    st = _states(twin)
    b0 = st[st["week"] == 0]
    assert len(b0) == 34
    assert (b0["crp_pmr_as"].round(6) > 17).all()  # inclusion criterion CRP PMR-AS > 17
    assert (twin.visits.loc[twin.visits["week"] == 0, "oral_gc_mg_day"] == 0).all()


def test_gc_dose_matches_state(twin: Any) -> None:
    st = _states(twin).merge(twin.visits[["subject_id", "week", "oral_gc_mg_day"]], on=["subject_id", "week"])
    gc_states = st["state"].isin(["le10_gc", "gt10_gc"])
    assert (st.loc[gc_states, "oral_gc_mg_day"] > 0).all()
    assert (st.loc[~gc_states, "oral_gc_mg_day"] == 0).all()
    # realistic rescue prednisone doses: 2.5-25 mg/day on a 2.5 mg grid
    doses = st.loc[gc_states, "oral_gc_mg_day"]
    assert doses.between(2.5, 25).all() and np.allclose(doses / 2.5, np.round(doses / 2.5))


def test_study_drug_follows_protocol(twin: Any) -> None:
    protocol = load_protocol("bachelor")
    v = twin.visits.merge(twin.subjects[["subject_id", "arm"]], on="subject_id")
    for _, row in v.iterrows():
        dose = protocol.dose_at_week(row["arm"], row["week"])
        assert row["study_drug_mg_day"] == (0.0 if dose is None else dose[1])
    # hand: baricitinib 4 mg weeks 0-<12, 2 mg weeks 12-<24, none after (yaml design.arms.baricitinib.regimen)
    bari = v[v["arm"] == "baricitinib"].set_index("week")["study_drug_mg_day"]
    assert set(bari.loc[[0, 2, 4, 8]]) == {4.0}
    assert set(bari.loc[[12, 16, 20]]) == {2.0}
    assert set(bari.loc[[24, 28, 36]]) == {0.0}


def test_everyone_eligible_at_baseline(twin: Any) -> None:
    protocol = load_protocol("bachelor")
    b0 = twin.visits[twin.visits["week"] == 0].set_index("subject_id")
    for _, s in twin.subjects.iterrows():
        v = b0.loc[s["subject_id"]]
        candidate = {
            "candidate_id": s["subject_id"],
            "age_years": float(s["age_years"]),
            "sex": s["sex"],
            "bilateral_shoulder_aching": True,
            "symptom_duration_days": float(s["disease_duration_days"]),
            "gc_in_last_2_weeks": False,
            "crp_mg_l": float(v["crp_mg_l"]),
            "esr_mm_h": float(v["esr_mm_h"]),
            "pain_vas": float(v["pain_vas"]),
            "physician_global_vas": float(v["physician_global_vas"]),
            "morning_stiffness_min": float(v["morning_stiffness_min"]),
            "upper_limb_elevation": int(v["upper_limb_elevation"]),
            "hip_pain_or_limited_rom": True,
            "rf_or_acpa_positive": False,
            "other_joint_involvement": False,
            "us_shoulder_and_hip": bool(s["us_synovitis"]),
            "us_both_shoulders": bool(s["us_synovitis"]),
            "gca_signs": False,
            "unstable_cardiovascular_disease": False,
            "serious_illness": False,
            "active_infection": False,
            "malignancy_within_5_years": False,
            "immunosuppressant_within_1_year": False,
            "pregnant_or_breastfeeding": False,
        }
        result = screen_candidate(protocol, candidate)
        assert result.status == "eligible", (s["subject_id"], [o.id for o in result.failed])


def test_adverse_event_values(twin: Any) -> None:
    ae = twin.adverse_events
    assert ae["severity"].isin(["mild", "moderate", "severe"]).all()
    assert ae["outcome"].isin(["recovered", "recovering", "not recovered", "fatal", "unknown"]).all()
    assert ae["serious"].dtype == bool
    assert ae["onset_week"].between(0, 36).all()
    assert ae["subject_id"].isin(twin.subjects["subject_id"]).all()


def test_same_seed_gives_identical_frames(twin: Any) -> None:
    again = generate_bachelor_twin(seed=2025)
    pd.testing.assert_frame_equal(twin.subjects, again.subjects)
    pd.testing.assert_frame_equal(twin.visits, again.visits)
    pd.testing.assert_frame_equal(twin.adverse_events, again.adverse_events)
    assert twin.report.to_dict() == again.report.to_dict()


@pytest.mark.parametrize("seed", [1, 7])
def test_other_seeds_change_values_not_counts(twin: Any, seed: int) -> None:
    other = generate_bachelor_twin(seed=seed)
    assert not twin.visits["pain_vas"].equals(other.visits["pain_vas"])
    assert not twin.subjects["age_years"].equals(other.subjects["age_years"])

    def table(t: Any) -> pd.DataFrame:
        st = _states(t)
        return st.groupby(["week", "arm", "state"]).size().rename("n").reset_index()

    pd.testing.assert_frame_equal(table(twin), table(other))
    assert {c.target for c in twin.report.conflicts} == {c.target for c in other.report.conflicts}
    assert other.report.counts()["conflict"] == twin.report.counts()["conflict"]


def test_result_to_dict(twin: Any) -> None:
    d = twin.to_dict()
    assert d["synthetic"] is True and d["label"] == SYNTHETIC_LABEL and d["seed"] == 2025
    assert d["n_subjects"] == 34  # yaml design.arms: 18 + 16
    assert {c["status"] for c in d["report"]["checks"]} <= {"exact", "within_printed_precision", "conflict"}


def test_invalid_seed() -> None:
    from pmrtrial.exceptions import DataError

    with pytest.raises(DataError, match="seed"):
        generate_bachelor_twin(seed="1")  # type: ignore[arg-type]
