"""REDCap data dictionary from a protocol, and `pmrtrial import redcap` (flat and EAV, all or nothing)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from pmrtrial.analysis import analyse_trial
from pmrtrial.cli import main
from pmrtrial.edc.crfs.form_specs import get_form_spec
from pmrtrial.edc.redcap.dictionary import DICTIONARY_HEADER, build_project
from pmrtrial.edc.redcap.files import csv_text
from pmrtrial.edc.redcap.records import datasets_to_records
from pmrtrial.io.datasets import read_datasets
from pmrtrial.protocol import load_protocol

HERE = Path(__file__).resolve().parents[2]
TWIN = HERE / "reference" / "data" / "twin"
R_PRIMARY = json.loads((HERE / "reference" / "values" / "twin_primary.json").read_text())


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("redcap")
    assert (
        main(["protocol", "export", "bachelor", "--format", "redcap-dictionary", "--out", str(root / "dict.csv")]) == 0
    )
    assert (
        main(
            [
                "protocol",
                "export",
                "bachelor",
                "--format",
                "redcap-dictionary",
                "--lang",
                "fr",
                "--out",
                str(root / "fr" / "dict.csv"),
            ]
        )
        == 0
    )
    return root


def test_dictionary__redcap_header_instruments_ranges_choices_branching(exported):
    raw = (exported / "dict.csv").read_bytes()
    raw.decode("utf-8")  # UTF-8
    with open(exported / "dict.csv", encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == DICTIONARY_HEADER
    fields = {r["Variable / Field Name"]: r for r in _rows(exported / "dict.csv")}
    assert next(iter(fields)) == "record_id"
    forms = {r["Form Name"] for r in fields.values()}
    assert {
        "enrolment",
        "visit_info",
        "pmr_as",
        "labs",
        "oral_gc",
        "haq_di",
        "eq5d",
        "sf36",
        "adverse_event",
        "end_of_study",
    } <= forms
    # ranges and validation come from the eCRF specs
    pain = get_form_spec("pmr_as").get_field("pain_vas")
    assert (
        fields["pain_vas"]["Text Validation Type OR Show Slider Number"],
        fields["pain_vas"]["Text Validation Min"],
        fields["pain_vas"]["Text Validation Max"],
    ) == ("number", f"{pain.min:g}", f"{pain.max:g}")
    assert fields["esr_mm_h"]["Field Note"] == "mm/h"
    assert fields["randomised_on"]["Text Validation Type OR Show Slider Number"] == "date_ymd"
    assert fields["on_oral_gc"]["Field Type"] == "yesno"
    assert fields["crp_unit"]["Choices, Calculations, OR Slider Labels"] == "1, mg/L | 2, mg/dL"
    assert fields["upper_limb_elevation"]["Field Type"] == "radio"
    assert fields["prednisone_mg_day"]["Branching Logic (Show field only if...)"] == "[on_oral_gc] = '1'"
    assert fields["pain_vas"]["Required Field?"] == "y"
    for row in fields.values():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", row["Variable / Field Name"])
        if row["Field Type"] == "radio":
            codes = [c.split(",")[0].strip() for c in row["Choices, Calculations, OR Slider Labels"].split("|")]
            assert all(re.fullmatch(r"[A-Za-z0-9_]+", c) for c in codes)


def _redcap_calc(formula: str, values: dict[str, float | str]) -> float:
    """Evaluate a REDCap calc formula (if/round, =, field references) with Python."""
    expr = re.sub(r"\[(\w+)\]", lambda m: repr(values[m.group(1)]), formula)
    expr = re.sub(r"(?<![<>!=])=(?!=)", "==", expr).replace("if(", "_if(")
    return eval(expr, {"_if": lambda c, a, b: a if c else b, "round": round})


def test_dictionary__calculated_crp_pmr_as_matches_the_published_example(exported):
    fields = {r["Variable / Field Name"]: r for r in _rows(exported / "dict.csv")}
    calc = fields["crp_pmr_as"]
    assert calc["Field Type"] == "calc"
    formula = calc["Choices, Calculations, OR Slider Labels"]
    # Leeb and Bird 2004 by hand: CRP 35 mg/L = 3.5 mg/dL; 3.5 + 6.6 + 6.8 + 0.1 x 120 + 1 = 29.9
    example = {"pain_vas": 6.6, "physician_global_vas": 6.8, "morning_stiffness_min": 120, "upper_limb_elevation": 1}
    assert _redcap_calc(formula, {**example, "crp_value": 35, "crp_unit": "1"}) == pytest.approx(29.9)
    assert _redcap_calc(formula, {**example, "crp_value": 3.5, "crp_unit": "2"}) == pytest.approx(29.9)


def test_dictionary__french_labels_and_event_files(exported):
    en = {r["Variable / Field Name"]: r["Field Label"] for r in _rows(exported / "dict.csv")}
    fr = {r["Variable / Field Name"]: r["Field Label"] for r in _rows(exported / "fr" / "dict.csv")}
    assert en.keys() == fr.keys()
    assert fr["pain_vas"] == "EVA douleur du patient" and en["pain_vas"] == "Patient's pain VAS"
    protocol = load_protocol("bachelor")
    events = _rows(exported / "dict_events.csv")
    assert [e["unique_event_name"] for e in events] == [f"{v.code.lower()}_arm_1" for v in protocol.visits]
    assert [int(e["day_offset"]) for e in events] == [v.day for v in protocol.visits]
    mapping = {(m["unique_event_name"], m["form"]) for m in _rows(exported / "dict_instrument_event_mapping.csv")}
    assert ("w12_arm_1", "sf36") in mapping and ("w2_arm_1", "sf36") not in mapping
    assert ("w0_arm_1", "enrolment") in mapping and ("w36_arm_1", "end_of_study") in mapping
    assert _rows(exported / "dict_arms.csv") == [{"arm_num": "1", "name": "Arm 1"}]
    assert {"event_name": "w2_arm_1", "form_name": "adverse_event", "custom_form_label": ""} in _rows(
        exported / "dict_repeating_instruments.csv"
    )


def _twin_records() -> list[dict[str, str]]:
    protocol = load_protocol("bachelor")
    return datasets_to_records(build_project(protocol), read_datasets(TWIN, protocol=protocol), protocol)


def _write_records(path: Path, rows: list[dict[str, str]]) -> None:
    header = list(dict.fromkeys(k for row in rows for k in row))
    path.write_text(csv_text([header, *([row.get(k, "") for k in header] for row in rows)]), encoding="utf-8")


@pytest.mark.parametrize("layout", ["flat", "eav"])
def test_import_redcap__twin_records_give_the_r_primary_numbers(exported, tmp_path, layout):
    rows = _twin_records()
    if layout == "eav":
        rows = [
            {
                "record": r["record_id"],
                "redcap_event_name": r["redcap_event_name"],
                "redcap_repeat_instrument": r.get("redcap_repeat_instrument", ""),
                "redcap_repeat_instance": r.get("redcap_repeat_instance", ""),
                "field_name": k,
                "value": v,
            }
            for r in rows
            for k, v in r.items()
            if k not in ("record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance") and v
        ]
    _write_records(tmp_path / "records.csv", rows)
    code = main(
        [
            "import",
            "redcap",
            "--dictionary",
            str(exported / "dict.csv"),
            "--records",
            str(tmp_path / "records.csv"),
            "--events",
            str(exported / "dict_events.csv"),
            "--protocol",
            "bachelor",
            "--out",
            str(tmp_path / "data"),
        ]
    )
    assert code == 0
    protocol = load_protocol("bachelor")
    primary = analyse_trial(read_datasets(tmp_path / "data", protocol=protocol), protocol).to_dict()["primary"]
    # expected: tests/reference/values/twin_primary.json (R fisher.test and epitools::riskratio on the twin)
    assert primary["responders"] == R_PRIMARY["responders"]
    assert primary["fisher"]["p"] == pytest.approx(R_PRIMARY["fisher_p"], rel=1e-6)
    assert primary["rr_crude"]["estimate"] == pytest.approx(R_PRIMARY["rr_crude"]["estimate"], rel=1e-6)


def test_import_redcap__wrong_unit_unknown_choice_missing_event_reported_nothing_written(exported, tmp_path, capsys):
    with open(exported / "dict.csv", encoding="utf-8", newline="") as handle:
        dictionary = list(csv.reader(handle))
    for row in dictionary:
        if row[0] == "esr_mm_h":
            row[6] = "mm"  # wrong unit in the REDCap project
    (tmp_path / "dict.csv").write_text(csv_text(dictionary), encoding="utf-8")
    rows = _twin_records()
    rows[0]["sex"] = "x"  # unknown choice
    rows[1]["redcap_event_name"] = "w99_arm_1"  # event not in the project
    _write_records(tmp_path / "records.csv", rows)
    code = main(
        [
            "import",
            "redcap",
            "--dictionary",
            str(tmp_path / "dict.csv"),
            "--records",
            str(tmp_path / "records.csv"),
            "--protocol",
            "bachelor",
            "--out",
            str(tmp_path / "data"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "3 problem(s)" in err
    assert "field esr_mm_h: wrong unit: the dictionary says 'mm', expected 'mm/h'" in err
    assert f"record {rows[0]['record_id']}, event w0_arm_1, field sex: unknown choice 'x'" in err
    assert f"record {rows[1]['record_id']}, event w99_arm_1, field redcap_event_name: unknown event" in err
    assert not (tmp_path / "data").exists()


def test_import_redcap__unmapped_field_and_form_rule_errors_are_reported(tmp_path):
    from pmrtrial.edc.redcap.records import RedcapImportError, records_to_datasets

    protocol = load_protocol("bachelor")
    project = build_project(protocol)
    rows = _twin_records()
    rows[2]["favourite_colour"] = "blue"
    rows[4]["pain_vas"] = "12"  # out of the eCRF range 0-10
    rows[3].pop("record_id")
    with pytest.raises(RedcapImportError) as info:
        records_to_datasets(project, rows, protocol)
    messages = [str(p) for p in info.value.problems]
    assert any("field favourite_colour: unmapped field (value 'blue')" in m for m in messages)
    assert any("field record_id: missing record id" in m for m in messages)
    where = f"record {rows[4]['record_id']}, event {rows[4]['redcap_event_name']}, field pain_vas"
    assert f"{where}: Enter a value between 0 and 10." in messages
