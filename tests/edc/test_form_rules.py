"""Form rules on plain dicts (no database, no HTTP)."""

from __future__ import annotations

import datetime as dt

import pytest

from pmrtrial.edc.crfs.form_validators import FormContext, validate_form
from pmrtrial.edc.randomisation.lists import generate_permuted_block_list
from pmrtrial.edc.screening.form_validators import parse_candidate
from pmrtrial.protocol import load_protocol
from tests.edc.conftest import bachelor_text

PROTOCOL = load_protocol(bachelor_text())


def test_pmr_as_scores_from_components_and_labs() -> None:
    # Worked example P1 (Leeb & Bird 2004 formula): pain 6.6, physician 6.8, stiffness 120 min, EUL 1, CRP 35 mg/L
    # CRP PMR-AS = 6.6 + 6.8 + 12 + 1 + 3.5 = 29.9; ESR 48: 6.6 + 6.8 + 12 + 1 + 4.8 = 31.2
    out = validate_form(
        "pmr_as",
        {"pain_vas": "6.6", "physician_global_vas": "6.8", "morning_stiffness_min": "120", "upper_limb_elevation": "1"},
        FormContext(same_visit={"labs": {"crp_value": 3.5, "crp_unit": "mg/dL", "esr_mm_h": 48}}),
    )
    assert out.ok
    assert out.derived["crp_pmr_as"] == pytest.approx(29.9)
    assert out.derived["esr_pmr_as"] == pytest.approx(31.2)
    assert out.derived["crp_pmr_as_activity"] == "high"  # > 17 (Leeb & Bird 2004)


def test_field_level_errors_for_types_ranges_and_unknown_fields() -> None:
    out = validate_form(
        "pmr_as", {"pain_vas": "11", "physician_global_vas": "abc", "upper_limb_elevation": "4", "colour": "red"}
    )
    assert out.errors == {
        "colour": "Unknown field for form pmr_as.",
        "pain_vas": "Enter a value between 0 and 10.",
        "physician_global_vas": "Enter a number.",
        "morning_stiffness_min": "This field is required.",
        "upper_limb_elevation": "Select one of: 0, 1, 2, 3.",
    }
    assert out.derived == {}


def test_oral_gc_cross_field_and_cross_visit() -> None:
    ctx = FormContext(week=12, randomised_on=dt.date(2024, 1, 10))
    assert "prednisone_mg_day" in validate_form("oral_gc", {"on_oral_gc": "yes"}, ctx).errors
    assert "prednisone_mg_day" in validate_form("oral_gc", {"on_oral_gc": "no", "prednisone_mg_day": 5}, ctx).errors
    out = validate_form("oral_gc", {"on_oral_gc": True, "prednisone_mg_day": 15, "rescue_start": "2024-01-01"}, ctx)
    assert out.errors == {"rescue_start": "Rescue cannot start before randomisation."}
    out = validate_form(
        "oral_gc",
        {"on_oral_gc": True, "prednisone_mg_day": 60, "rescue_start": "2024-02-01", "rescue_stop": "2024-01-20"},
        ctx,
    )
    assert set(out.errors) == {"rescue_stop"} and set(out.warnings) == {"prednisone_mg_day"}


def test_injection_weeks_from_protocol() -> None:
    ctx = FormContext(protocol=PROTOCOL, week=4)
    ok = validate_form("injections", {"injection_given": True, "injection_week": 1, "agent": "betamethasone 7 mg"}, ctx)
    assert ok.ok and not ok.warnings and ok.derived["deviation"] is False
    dev = validate_form(
        "injections", {"injection_given": True, "injection_week": 8, "agent": "betamethasone 7 mg"}, ctx
    )
    assert dev.derived["deviation"] is True and "weeks 1 and 4" in dev.warnings["injection_week"]


def test_bmi_visit_window_and_kit() -> None:
    # 70 kg / 1.75 m^2 = 22.857 -> 22.86
    assert validate_form("demographics", {"height_cm": 175, "weight_kg": 70}).derived["bmi"] == 22.86
    ctx = FormContext(week=12, randomised_on=dt.date(2024, 1, 1), window=(dt.date(2024, 3, 18), dt.date(2024, 4, 1)))
    assert "visit_date" in validate_form("visit_info", {"visit_date": "2024-04-05"}, ctx).warnings
    assert validate_form("visit_info", {"visit_date": "2024-03-25"}, ctx).derived["out_of_window"] is False
    assert "kit_code" in validate_form("study_drug", {"kit_code": "KAAAA"}, FormContext(kit_code="KBBBB")).errors


def test_screening_form_types_from_protocol() -> None:
    values, errors = parse_candidate(PROTOCOL, {"age_years": "72", "sex": "female", "gca_signs": "no"})
    assert not errors and values["age_years"] == 72.0 and values["gca_signs"] is False
    _, errors = parse_candidate(PROTOCOL, {"age_years": "200", "sex": "other"})
    assert set(errors) == {"age_years"} or set(errors) == {"sex"}  # the core reports the first bad field
    _, errors = parse_candidate(PROTOCOL, {"gca_signs": "maybe"})
    assert errors == {"gca_signs": "Answer yes or no."}


def test_permuted_blocks_are_balanced_and_reproducible() -> None:
    rows = generate_permuted_block_list(
        ratio={"a": 1, "b": 1}, strata=["01", "02"], n_per_stratum=30, block_sizes=(2, 4), seed=7
    )
    assert rows == generate_permuted_block_list(
        ratio={"a": 1, "b": 1}, strata=["01", "02"], n_per_stratum=30, block_sizes=(2, 4), seed=7
    )
    for stratum in ("01", "02"):
        mine = [r for r in rows if r.stratum == stratum]
        assert [r.sequence for r in mine] == list(range(1, len(mine) + 1))
        for block in {r.block for r in mine}:
            arms = [r.arm for r in mine if r.block == block]
            assert len(arms) in (2, 4) and arms.count("a") == arms.count("b")  # 1:1 within every block
    assert {r.block_size for r in rows} == {2, 4}
    with pytest.raises(ValueError, match="block_sizes"):
        generate_permuted_block_list(ratio={"a": 1, "b": 2}, strata=["01"], n_per_stratum=3, block_sizes=(2,), seed=1)
