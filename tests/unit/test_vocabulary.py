"""The variable vocabulary: one declaration per variable, complete, bilingual, and looked up consistently."""

from __future__ import annotations

import pytest

from pmrtrial import vocabulary as vocab
from pmrtrial.datasets import get_column_specs
from pmrtrial.protocol.variables import DERIVED_VISIT_VARIABLES, VISIT_VARIABLES


def test_every_variable_is_complete_and_declared_once_per_table() -> None:
    seen = set()
    for v in vocab.VARIABLES:
        assert (v.table, v.name) not in seen, v
        seen.add((v.table, v.name))
        assert v.table in vocab.TABLES
        assert v.kind in ("string", "float", "integer", "boolean", "date", "category")
        assert v.unit and v.description and v.label_en and v.label_fr, v.name
        if v.lo is not None and v.hi is not None:
            assert v.lo < v.hi, v.name
        if v.kind == "category":
            assert v.levels or v.accepted, v.name  # arm: levels come from the protocol
        if v.level_labels is not None:
            assert set(v.level_labels) == set(v.levels or ()), v.name


def test_every_dataset_table_has_its_key_first() -> None:
    for table in vocab.DATASET_TABLES:
        first = vocab.table_variables(table)[0]
        assert (first.name, first.required) == ("subject_id", True)


def test_shared_data_contract_tables_and_levels() -> None:
    # The contract every helper builds to (gc_doses, flares, blinding guesses, stratum, status 'ongoing').
    assert vocab.column_names("gc_doses") == ("subject_id", "start_day", "end_day", "dose_mg_day", "reason")
    assert vocab.column_names("flares") == ("subject_id", "day", "confirmed", "rule", "crp_pmr_as")
    assert vocab.levels("reason", "gc_doses") == ("taper", "rescue", "injection", "other")
    assert vocab.value_range("dose_mg_day", "gc_doses") == (0.0, 1000.0)
    assert vocab.get_variable("end_day", "gc_doses").required is False  # empty = ongoing
    assert vocab.get_variable("start_day", "gc_doses").kind == "integer"
    assert vocab.get_variable("confirmed", "flares").kind == "boolean"
    for who in ("participant", "investigator"):
        assert vocab.levels(f"blinding_guess_{who}") == ("active", "control", "dont_know")
    assert vocab.get_variable("stratum").kind == "string"
    assert "ongoing" in (vocab.levels("status") or ())
    assert vocab.get_variable("us_synovitis", "visits").kind == "boolean"
    assert vocab.get_variable("visit_date").kind == "date"
    assert vocab.OPTIONAL_TABLES == ("gc_doses", "flares")


def test_clinical_french_labels() -> None:
    assert vocab.label("crp_mg_l", "fr") == "Protéine C-réactive (CRP)"
    assert vocab.label("esr_mm_h", "fr") == "Vitesse de sédimentation (1re heure)"
    assert vocab.label("morning_stiffness_min", "fr") == "Raideur matinale"
    assert vocab.label("morning_stiffness_min") == "Morning stiffness"
    assert vocab.get_variable("status").level_label("lost", "fr") == "perdu de vue"
    assert vocab.get_variable("severity").level_label("mild") == "mild"  # no label declared: the level, readable


def test_lookups() -> None:
    # A name in several tables resolves to its first declaration in TABLES order, or to the table asked for.
    assert vocab.get_variable("subject_id").table == "subjects"
    assert vocab.get_variable("us_synovitis").table == "subjects"
    assert vocab.get_variable("crp_pmr_as").table == "derived"
    assert vocab.get_variable("crp_pmr_as", "flares").table == "flares"
    assert vocab.is_canonical("crp_pmr_as") and not vocab.is_canonical("crp")
    assert "response_state" in vocab.canonical_names("derived")
    assert "response_state" not in vocab.canonical_names(*vocab.DATASET_TABLES)
    assert vocab.label("ep_primary") == "ep_primary"  # undeclared names are shown as they are
    with pytest.raises(KeyError, match=r"Unknown variable 'crp' in table 'visits'\. Expected one of subject_id"):
        vocab.get_variable("crp", "visits")
    with pytest.raises(KeyError, match="Unknown table 'labs'"):
        vocab.column_names("labs")
    with pytest.raises(ValueError, match="Expected 'en' or 'fr'"):
        vocab.get_variable("bmi").label("de")  # type: ignore[arg-type]


def test_consumers_are_built_from_it() -> None:
    for table in vocab.DATASET_TABLES:
        assert get_column_specs(table) == vocab.table_variables(table)
    assert set(VISIT_VARIABLES) == {v.name for v in vocab.table_variables("visits") if v.protocol_variable}
    assert VISIT_VARIABLES["crp_mg_l"] == ("mg/L", vocab.get_variable("crp_mg_l").description)
    assert set(DERIVED_VISIT_VARIABLES) <= vocab.canonical_names("derived")


def test_eCRF_fields_take_ranges_and_choices_from_it() -> None:
    pytest.importorskip("django", reason="the [edc] extra (Django) is not installed")
    from pmrtrial.edc.crfs.form_specs import FORMS

    pain = FORMS["pmr_as"].get_field("pain_vas")
    assert pain is not None and (pain.min, pain.max) == vocab.value_range("pain_vas")
    esr = FORMS["labs"].get_field("esr_mm_h")
    assert esr is not None and (esr.min, esr.max) == vocab.value_range("esr_mm_h")
    outcome = FORMS["adverse_event"].get_field("outcome")
    assert outcome is not None and tuple(k for k, _ in outcome.choices) == vocab.levels("outcome")
    status = FORMS["end_of_study"].get_field("status")
    assert status is not None and tuple(k for k, _ in status.choices) == ("completed", "withdrawn", "lost")


def test_markdown_table_rows() -> None:
    table = vocab.markdown_table("flares").splitlines()
    assert table[0] == "| column | type | unit | accepted | required | description |"
    assert table[3] == "| `day` | integer | days | [-3650, 3650] | yes | day of the flare, days since randomisation |"
    assert len(table) == 2 + len(vocab.column_names("flares"))


def test_ground_floor__imports_only_the_standard_library() -> None:
    import ast
    import sys
    from pathlib import Path

    tree = ast.parse(Path(vocab.__file__).read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_variables_that_reveal_the_arm() -> None:
    # What a blinded export or review must leave out: the arm, and the study-drug dose (placebo: 0 mg).
    assert {(v.table, v.name) for v in vocab.VARIABLES if v.reveals_arm} == {
        ("subjects", "arm"),
        ("visits", "study_drug_mg_day"),
    }
