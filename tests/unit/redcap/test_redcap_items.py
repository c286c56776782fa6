"""REDCap at item level: the questionnaires as the eCRFs hold them, scores from the items with pmrtrial.scores.

dictionary -> REDCap CSV/XML records -> `pmrtrial import redcap` -> canonical datasets, with expected scores
from hand arithmetic or R (tests/unit/redcap/_items.py names each source).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from pmrtrial.cli import main
from pmrtrial.edc.crfs.form_specs import get_form_spec
from pmrtrial.edc.redcap.dictionary import SCORE_FIELDS, build_project
from pmrtrial.edc.redcap.records import RedcapImportError, read_records, score_disagreement
from pmrtrial.edc.redcap.xmlformat import records_xml
from pmrtrial.io.datasets import read_datasets
from pmrtrial.protocol import load_protocol
from tests.unit.redcap._items import EQ5D_INDEX, EQ5D_ITEMS, HAQ_DI, HAQ_ITEMS, sf36_example

from .test_redcap_files import _twin_records, _write_records

SCORES = {name for names in SCORE_FIELDS.values() for name in names}


@pytest.fixture(scope="module")
def protocol():
    return load_protocol("bachelor")


@pytest.fixture(scope="module")
def dictionary(tmp_path_factory):
    path = tmp_path_factory.mktemp("dict") / "dict.csv"
    assert main(["protocol", "export", "bachelor", "--format", "redcap-dictionary", "--out", str(path)]) == 0
    with open(path, encoding="utf-8", newline="") as handle:
        return path, {r["Variable / Field Name"]: r for r in csv.DictReader(handle)}


def test_dictionary__questionnaires_item_by_item_as_the_ecrfs_then_read_only_scores(dictionary):
    _, fields = dictionary
    for form, scores in (("haq_di", ("haq_di",)), ("eq5d", ("eq5d_index",)), ("sf36", ("sf36_pcs", "sf36_mcs"))):
        names = [n for n, r in fields.items() if r["Form Name"] == form]
        items = [f.name for f in get_form_spec(form).fields]
        assert names == [*items, *scores]
        for name in scores:
            row = fields[name]
            assert row["Field Type"] == "text" and row["Text Validation Type OR Show Slider Number"] == "number"
            assert row["Field Annotation"].startswith("@READONLY")
    haq = [n for n, r in fields.items() if r["Form Name"] == "haq_di"]
    # Fries 1980: 20 items in 8 categories; aid/device questions for 7 categories (activities has none), help for 8
    assert sum(fields[n]["Field Type"] == "radio" for n in haq) == 20
    assert sum(n.endswith("_aid") for n in haq) == 7 and sum(n.endswith("_help") for n in haq) == 8
    assert fields["dressing_dress"]["Choices, Calculations, OR Slider Labels"].startswith("0, Without any difficulty")
    assert len([n for n, r in fields.items() if r["Form Name"] == "sf36"]) == 36 + 2
    assert fields["q7"]["Choices, Calculations, OR Slider Labels"].count("|") == 5  # 6 options, codes 1-6
    assert [n for n, r in fields.items() if r["Form Name"] == "eq5d"] == [
        "mo",
        "sc",
        "ua",
        "pd",
        "ad",
        "vas",
        "eq5d_index",
    ]
    assert (fields["haq_di"]["Text Validation Min"], fields["haq_di"]["Text Validation Max"]) == ("0", "3")


def _with_items(rows: list[dict[str, str]], record: str, **extra: str) -> list[dict[str, str]]:
    """The twin's rows with ``record``'s W12 questionnaires replaced by the example items."""
    sf36, _, _ = sf36_example()
    out = []
    for row in rows:
        row = {k: v for k, v in row.items() if k not in SCORES}  # the twin's scores go; items come
        if (
            row["record_id"] == record
            and row["redcap_event_name"] == "w12_arm_1"
            and not row.get("redcap_repeat_instrument")
        ):
            row.update({**HAQ_ITEMS, **EQ5D_ITEMS, **sf36, **extra})
        out.append(row)
    return out


def _import(dictionary: Path, records: Path, out: Path) -> int:
    args = ["import", "redcap", "--dictionary", str(dictionary), "--records", str(records)]
    return main([*args, "--protocol", "bachelor", "--out", str(out)])


@pytest.mark.parametrize("fmt", ["csv", "xml"])
def test_import__items_give_the_hand_checked_and_r_scores(dictionary, protocol, tmp_path, fmt):
    rows = _twin_records()
    record = rows[0]["record_id"]
    rows = _with_items(rows, record)
    if fmt == "csv":
        _write_records(tmp_path / "records.csv", rows)
    else:
        header = list(dict.fromkeys(k for row in rows for k in row))
        (tmp_path / "records.xml").write_text(records_xml(rows, header), encoding="utf-8")
    assert _import(dictionary[0], tmp_path / f"records.{fmt}", tmp_path / "data") == 0
    visits = read_datasets(tmp_path / "data", protocol=protocol).visits
    w12 = visits[(visits.subject_id == record) & (visits.week == 12)].iloc[0]
    _, pcs, mcs = sf36_example()
    assert w12["haq_di"] == pytest.approx(HAQ_DI, abs=1e-12)  # 13/8 by hand (Bruce & Fries 2003 rules)
    assert w12["eq5d_index"] == pytest.approx(EQ5D_INDEX, abs=1e-12)  # by hand, Chevalier 2013 coefficients
    assert w12["sf36_pcs"] == pytest.approx(pcs, abs=1e-9)  # R arithmetic, tests/reference/r/sf36_reference.R
    assert w12["sf36_mcs"] == pytest.approx(mcs, abs=1e-9)
    others = visits[visits.subject_id != record]
    assert others[["haq_di", "eq5d_index", "sf36_pcs", "sf36_mcs"]].isna().all().all()  # no items, no scores
    manifest = json.loads((tmp_path / "data" / "dataset.json").read_text())
    assert manifest["questionnaire_scores"] == {"computed_from_items": 4, "supplied_without_items": 0}


def test_import__a_score_beside_the_items_must_agree_at_its_precision(dictionary, protocol):
    project = build_project(protocol)
    record = _twin_records()[0]["record_id"]
    # 1.63 is 13/8 = 1.625 to 2 decimals, 0.16 is the EQ-5D index: they agree
    result = read_records(project, _with_items(_twin_records(), record, haq_di="1.63", eq5d_index="0.16"), protocol)
    assert len(result.scores_from_items) == 4 and not result.scores_without_items
    rows = _with_items(_twin_records(), record, haq_di="1.5", sf36_pcs="60", eq5d_index="x")
    with pytest.raises(RedcapImportError) as info:
        read_records(project, rows, protocol)
    messages = {str(p) for p in info.value.problems}
    where = f"record {record}, event w12_arm_1, field"
    assert (
        f"{where} haq_di: supplied score 1.5 disagrees with 1.625 computed from the haq_di items by pmrtrial.scores"
        in messages
    )
    assert any(m.startswith(f"{where} sf36_pcs: supplied score 60 disagrees with 42.55") for m in messages)
    assert f"{where} eq5d_index: supplied score 'x' is not a number" in messages
    assert len(messages) == 3


def test_score_disagreement__precision_rule():
    # 0.5 x 10^-max(decimals, 2): "1" and 1.125 differ (0.125 > 0.005); "1.13" and 1.125 agree (0.005 <= 0.005)
    assert score_disagreement("haq_di", "1.13", 1.125, "haq_di") is None
    assert score_disagreement("haq_di", "1", 1.125, "haq_di") is not None
    assert score_disagreement("haq_di", "1.125", 1.125, "haq_di") is None
    assert score_disagreement("haq_di", "1.1", None, "haq_di") == (
        "supplied score 1.1 but the haq_di items give no score (too few answered)"
    )


def test_import__twin_scores_without_items_are_taken_as_supplied_and_counted(dictionary, protocol, tmp_path):
    rows = _twin_records()  # the twin has scores, no items
    _write_records(tmp_path / "records.csv", rows)
    assert _import(dictionary[0], tmp_path / "records.csv", tmp_path / "data") == 0
    twin = read_datasets(Path(__file__).resolve().parents[2] / "reference" / "data" / "twin", protocol=protocol)
    got = read_datasets(tmp_path / "data", protocol=protocol).visits
    columns = ["haq_di", "eq5d_index", "sf36_pcs", "sf36_mcs"]
    weeks = [12.0, 24.0, 36.0, 0.0]  # the visits whose forms hold the questionnaires (bachelor protocol)
    expected = twin.visits[twin.visits.week.isin(weeks)].set_index(["subject_id", "week"])[columns]
    merged = got.set_index(["subject_id", "week"])[columns].loc[expected.index]
    pd.testing.assert_frame_equal(merged.astype(float), expected.astype(float), check_exact=False, rtol=1e-12)
    supplied = int(expected.notna().sum().sum())
    assert supplied > 0
    manifest = json.loads((tmp_path / "data" / "dataset.json").read_text())
    assert manifest["questionnaire_scores"] == {"computed_from_items": 0, "supplied_without_items": supplied}


def test_import__score_without_items_out_of_range_names_record_event_field_value(protocol):
    rows = _twin_records()
    target = next(r for r in rows if r.get("haq_di"))
    target["haq_di"] = "4"
    with pytest.raises(RedcapImportError) as info:
        read_records(build_project(protocol), rows, protocol)
    assert [str(p) for p in info.value.problems] == [
        f"record {target['record_id']}, event {target['redcap_event_name']}, field haq_di: "
        "score '4' is not a number between 0 and 3"
    ]


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>
<records><item><record_id>&lol2;</record_id></item></records>"""


def test_import__hostile_xml_records_refused_one_line_nothing_written(dictionary, tmp_path, capsys):
    (tmp_path / "records.xml").write_text(BOMB, encoding="utf-8")
    assert _import(dictionary[0], tmp_path / "records.xml", tmp_path / "data") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "records.xml: The XML data declare a document type" in err
    assert not (tmp_path / "data").exists()
