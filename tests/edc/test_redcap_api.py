"""The REDCap-compatible API with the real PyCap client against a live `pmrtrial serve` on a loopback port.

Round trip of issue 14: a demo study is created from the BACHELOR protocol, the SYNTHETIC twin's records are imported
through /redcap/api/ with PyCap, exported again with PyCap, turned into canonical datasets with `pmrtrial import redcap`
and analysed: the primary numbers equal the R reference (tests/reference/values/twin_primary.json: R fisher.test and
epitools::riskratio on the twin).
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
import requests

redcap = pytest.importorskip("redcap", reason="PyCap is not installed (the [test] extra)")

from pmrtrial.analysis import analyse_trial  # noqa: E402
from pmrtrial.cli import main  # noqa: E402
from pmrtrial.edc.redcap.dictionary import SCORE_FIELDS, build_project  # noqa: E402
from pmrtrial.edc.redcap.files import csv_text  # noqa: E402
from pmrtrial.edc.redcap.records import datasets_to_records  # noqa: E402
from pmrtrial.edc.redcap.xmlformat import records_xml  # noqa: E402
from pmrtrial.io.datasets import read_datasets  # noqa: E402
from pmrtrial.protocol import load_protocol  # noqa: E402
from tests.unit.redcap._items import EQ5D_INDEX, EQ5D_ITEMS, HAQ_DI, HAQ_ITEMS, sf36_example  # noqa: E402

HERE = Path(__file__).resolve().parents[1]
TWIN = HERE / "reference" / "data" / "twin"
R_PRIMARY = json.loads((HERE / "reference" / "values" / "twin_primary.json").read_text())
PASSWORD = "correct-horse-battery-staple"
SCORES = {name for names in SCORE_FIELDS.values() for name in names}


def _cli(*args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "pmrtrial", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("redcap-api")
    db = str(root / "edc.sqlite3")
    _cli("edc", "init", "--protocol", "bachelor", "--sites", "6", "--demo", "--db", db)
    sites = [arg for code in ("01", "02", "03", "04", "05", "06") for arg in ("--site", code)]
    _cli(
        "edc",
        "createuser",
        "inv",
        "--role",
        "investigator",
        *sites,
        "--password-stdin",
        "--db",
        db,
        stdin=PASSWORD + "\n",
    )
    _cli(
        "edc",
        "createuser",
        "stat",
        "--role",
        "unblinded_statistician",
        "--password-stdin",
        "--db",
        db,
        stdin=PASSWORD + "\n",
    )
    _cli(
        "edc",
        "createuser",
        "inv01",
        "--role",
        "investigator",
        "--site",
        "01",
        "--password-stdin",
        "--db",
        db,
        stdin=PASSWORD + "\n",
    )
    _cli("edc", "createuser", "mon", "--role", "monitor", *sites, "--password-stdin", "--db", db, stdin=PASSWORD + "\n")
    users = ("inv", "stat", "inv01", "mon")
    tokens = {u: _cli("edc", "token", u, "--redcap", "--db", db).splitlines()[-1] for u in users}
    port = _free_port()
    log = open(root / "serve.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pmrtrial",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--threads",
            "2",
            "--insecure-cookies",
            "--db",
            db,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )
    url = f"http://127.0.0.1:{port}/redcap/api/"
    deadline = time.time() + 90
    while True:
        try:
            requests.post(url, data={"token": tokens["inv"], "content": "version"}, timeout=5)
            break
        except requests.ConnectionError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("pmrtrial serve did not start: " + (root / "serve.log").read_text()[-2000:])
            time.sleep(0.5)
    yield url, tokens, root
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def test_tokens_are_32_hex_characters_and_others_are_refused(server):
    url, tokens, _ = server
    for token in tokens.values():
        assert len(token) == 32 and all(c in "0123456789ABCDEF" for c in token)
    bad = requests.post(url, data={"token": "0" * 32, "content": "metadata", "format": "json"}, timeout=30)
    assert bad.status_code == 403 and bad.json() == {"error": "You do not have permissions to use the API"}


def test_pycap_reads_the_project_metadata_events_and_mappings(server):
    url, tokens, _ = server
    project = redcap.Project(url, tokens["inv"])
    expected = build_project(load_protocol("bachelor"))
    metadata = project.export_metadata()
    assert [m["field_name"] for m in metadata] == [f.name for f in expected.fields]
    assert project.def_field == "record_id" and project.is_longitudinal
    assert str(project.export_version()) == "14.0.0"
    assert project.export_project_info()["is_longitudinal"] == 1
    assert [i["instrument_name"] for i in project.export_instruments()] == [n for n, _ in expected.instruments]
    assert [e["unique_event_name"] for e in project.export_events()] == [e[0] for e in expected.events]
    mapping = project.export_instrument_event_mappings()
    assert {"arm_num": 1, "unique_event_name": "w12_arm_1", "form": "sf36"} in mapping
    names = project.export_field_names()
    assert {"original_field_name": "pain_vas", "choice_value": "", "export_field_name": "pain_vas"} in names
    csv_meta = project.export_metadata(format_type="csv")
    assert csv_meta.splitlines()[0].startswith("field_name,form_name,section_header,field_type")


def _twin_rows() -> list[dict[str, str]]:
    """The twin's REDCap rows without its questionnaire scores (the twin has no items; the EDC stores scores
    computed from items only, so the API refuses a score without items: tested below)."""
    protocol = load_protocol("bachelor")
    rows = datasets_to_records(build_project(protocol), read_datasets(TWIN, protocol=protocol), protocol)
    return [{k: v for k, v in row.items() if k not in SCORES} for row in rows]


def test_round_trip__import_export_import_redcap_analyse_gives_the_r_primary(server, tmp_path):
    url, tokens, _ = server
    rows = _twin_rows()
    answer = redcap.Project(url, tokens["inv"]).import_records(rows)
    assert answer == {"count": 34}
    # blinded investigator: the arm is not exported
    blinded = redcap.Project(url, tokens["inv"]).export_records(events=["w0_arm_1"])
    assert {r["arm"] for r in blinded} == {""}
    exported = redcap.Project(url, tokens["stat"]).export_records()
    assert len({r["record_id"] for r in exported}) == 34
    header = list(exported[0])
    (tmp_path / "records.csv").write_text(csv_text([header, *([r[k] for k in header] for r in exported)]))
    assert (
        main(["protocol", "export", "bachelor", "--format", "redcap-dictionary", "--out", str(tmp_path / "dict.csv")])
        == 0
    )
    assert (
        main(
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
        == 0
    )
    protocol = load_protocol("bachelor")
    primary = analyse_trial(read_datasets(tmp_path / "data", protocol=protocol), protocol).to_dict()["primary"]
    assert primary["responders"] == R_PRIMARY["responders"]
    assert primary["fisher"]["p"] == pytest.approx(R_PRIMARY["fisher_p"], rel=1e-6)
    assert primary["rr_crude"]["estimate"] == pytest.approx(R_PRIMARY["rr_crude"]["estimate"], rel=1e-6)
    # EAV export holds the same values
    eav = redcap.Project(url, tokens["stat"]).export_records(record_type="eav", records=[exported[0]["record_id"]])
    flat = {
        (r["redcap_event_name"], k): v
        for r in exported
        if r["record_id"] == exported[0]["record_id"] and not r["redcap_repeat_instrument"]
        for k, v in r.items()
        if v and k != "record_id"
    }
    for item in eav:
        if not item["redcap_repeat_instrument"]:
            assert flat[(item["redcap_event_name"], item["field_name"])] == item["value"]


def test_failed_import_stores_nothing_and_names_each_problem(server):
    url, tokens, _ = server
    project = redcap.Project(url, tokens["inv"])
    before = project.export_records(format_type="csv")
    record = before.splitlines()[1].split(",")[0]
    bad = [
        {"record_id": record, "redcap_event_name": "w2_arm_1", "fatigue_vas": "3"},  # valid change...
        {"record_id": record, "redcap_event_name": "w4_arm_1", "pain_vas": "12"},  # ...out of range
        {"record_id": record, "redcap_event_name": "w4_arm_1", "upper_limb_elevation": "7"},  # unknown choice
        {"record_id": record, "redcap_event_name": "w99_arm_1", "pain_vas": "1"},  # unknown event
    ]
    with pytest.raises(redcap.RedcapError) as info:
        project.import_records(bad)
    message = str(info.value)
    assert f"record {record}, event w4_arm_1, field pain_vas: Enter a value between 0 and 10." in message
    assert f"record {record}, event w4_arm_1, field upper_limb_elevation: unknown choice '7'" in message
    assert f"record {record}, event w99_arm_1, field redcap_event_name: unknown or missing event" in message
    # the valid change was not stored either, and a change without a reason is refused
    assert project.export_records(format_type="csv") == before
    with pytest.raises(redcap.RedcapError, match="reason for change"):
        project.import_records([bad[0]])
    reply = requests.post(
        url,
        data={
            "token": tokens["inv"],
            "content": "record",
            "format": "json",
            "type": "flat",
            "data": json.dumps([bad[0]]),
            "reason": "transcription error",
        },
        timeout=120,
    )
    assert reply.json() == {"count": 1}
    after = [r for r in project.export_records(records=[record], events=["w2_arm_1"])]
    assert after[0]["fatigue_vas"] in ("3", "3.0")


def test_records_csv_export_parses_and_eav_type_matches(server):
    url, tokens, _ = server
    reply = requests.post(
        url,
        data={
            "token": tokens["stat"],
            "content": "record",
            "format": "csv",
            "type": "flat",
            "records[0]": "01-001",
            "fields[0]": "pain_vas",
        },
        timeout=120,
    )
    rows = list(csv.DictReader(reply.text.splitlines()))
    assert rows and set(rows[0]) == {
        "record_id",
        "redcap_event_name",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
        "pain_vas",
    }


def test_site_scoping_and_roles_apply_to_the_token(server):
    url, tokens, _ = server
    site01 = redcap.Project(url, tokens["inv01"]).export_records(fields=["record_id"])
    assert site01 and {r["record_id"][:3] for r in site01} == {"01-"}
    other = redcap.Project(url, tokens["stat"]).export_records(fields=["record_id"], events=["w0_arm_1"])
    outside = next(r["record_id"] for r in other if not r["record_id"].startswith("01-"))
    with pytest.raises(
        redcap.RedcapError, match=f"record {outside}, event w0_arm_1, field record_id: no such participant"
    ):
        redcap.Project(url, tokens["inv01"]).import_records(
            [{"record_id": outside, "redcap_event_name": "w0_arm_1", "fatigue_vas": "1"}]
        )
    with pytest.raises(redcap.RedcapError, match="does not allow 'enter_data'"):
        redcap.Project(url, tokens["mon"]).import_records(
            [{"record_id": site01[0]["record_id"], "redcap_event_name": "w2_arm_1", "fatigue_vas": "1"}]
        )


# -- format=xml and item-level questionnaires ------------------------------------------------------------------


def _xml_rows(text: str) -> list[dict[str, str]]:
    """<records><item>... parsed with the standard library (independent of pmrtrial's parser)."""
    root = ET.fromstring(text)
    assert root.tag == "records"
    return [{field.tag: field.text or "" for field in item} for item in root]


def _as_text(rows: list[dict]) -> list[dict[str, str]]:
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


def test_pycap_xml_exports_equal_the_json_exports(server):
    url, tokens, _ = server
    project = redcap.Project(url, tokens["stat"])
    metadata = project.export_metadata(format_type="xml")
    assert _xml_rows(metadata) == _as_text(project.export_metadata())
    record = project.export_records(fields=["record_id"], events=["w0_arm_1"])[0]["record_id"]
    flat = project.export_records(format_type="xml", records=[record])
    assert isinstance(flat, str) and flat.startswith('<?xml version="1.0" encoding="UTF-8" ?>')
    assert _xml_rows(flat) == project.export_records(records=[record])
    eav = project.export_records(format_type="xml", record_type="eav", records=[record])
    assert _xml_rows(eav) == project.export_records(record_type="eav", records=[record])
    for content in ("event", "arm", "formEventMapping", "instrument", "repeatingFormsEvents", "exportFieldNames"):
        as_json = requests.post(url, data={"token": tokens["stat"], "content": content, "format": "json"}, timeout=60)
        as_xml = requests.post(url, data={"token": tokens["stat"], "content": content, "format": "xml"}, timeout=60)
        assert _xml_rows(as_xml.text) == _as_text(as_json.json()), content
    info = ET.fromstring(requests.post(url, data={"token": tokens["stat"], "content": "project", "format": "xml"}).text)
    assert info.tag == "project" and info.findtext("is_longitudinal") == "1"
    refused = requests.post(url, data={"token": "0" * 32, "content": "metadata", "format": "xml"}, timeout=30)
    assert refused.status_code == 403
    assert ET.fromstring(refused.text).findtext("error") == "You do not have permissions to use the API"


def test_item_level_round_trip__edc_pycap_xml_import_redcap_gives_the_edcs_scores(server, tmp_path):
    url, tokens, root = server
    stat = redcap.Project(url, tokens["stat"])
    inv = redcap.Project(url, tokens["inv"])
    ids = sorted({r["record_id"] for r in stat.export_records(fields=["record_id"], events=["w0_arm_1"])})
    a, b = ids[-1], ids[-2]
    sf36, pcs, mcs = sf36_example()
    items = {**HAQ_ITEMS, **EQ5D_ITEMS, **sf36}
    assert inv.import_records([{"record_id": a, "redcap_event_name": "w12_arm_1", **items}]) == {"count": 1}
    row_b = {"record_id": b, "redcap_event_name": "w12_arm_1", **items, "haq_di": "1.625"}  # agrees with its items
    assert inv.import_records(records_xml([row_b], list(row_b)), import_format="xml") == {"count": 1}
    exported = _xml_rows(stat.export_records(format_type="xml"))
    for record in (a, b):
        w12 = next(r for r in exported if r["record_id"] == record and r["redcap_event_name"] == "w12_arm_1")
        assert {k: w12[k] for k in items} == items  # the items travel as entered
        assert float(w12["haq_di"]) == pytest.approx(HAQ_DI, abs=1e-12)  # 13/8 by hand (tests/unit/redcap/_items.py)
        assert float(w12["eq5d_index"]) == pytest.approx(EQ5D_INDEX, abs=1e-12)  # by hand, Chevalier 2013
        assert float(w12["sf36_pcs"]) == pytest.approx(pcs, abs=1e-9)  # R, tests/reference/r/sf36_reference.R
        assert float(w12["sf36_mcs"]) == pytest.approx(mcs, abs=1e-9)
    header = list(exported[0])
    (tmp_path / "records.csv").write_text(csv_text([header, *([r[k] for k in header] for r in exported)]))
    dictionary = tmp_path / "dict.csv"
    assert main(["protocol", "export", "bachelor", "--format", "redcap-dictionary", "--out", str(dictionary)]) == 0
    args = ["import", "redcap", "--dictionary", str(dictionary), "--records", str(tmp_path / "records.csv")]
    assert main([*args, "--protocol", "bachelor", "--out", str(tmp_path / "data")]) == 0
    manifest = json.loads((tmp_path / "data" / "dataset.json").read_text())
    assert manifest["questionnaire_scores"] == {"computed_from_items": 8, "supplied_without_items": 0}
    # the EDC's own canonical export
    _cli("edc", "export", "--out", str(tmp_path / "edc"), "--user", "stat", "--db", str(root / "edc.sqlite3"))
    protocol = load_protocol("bachelor")
    columns = ["haq_di", "eq5d_index", "sf36_pcs", "sf36_mcs"]
    mine = read_datasets(tmp_path / "data", protocol=protocol).visits.set_index(["subject_id", "week"])[columns]
    edc = read_datasets(tmp_path / "edc", protocol=protocol).visits.set_index(["subject_id", "week"])[columns]
    assert mine.notna().sum().sum() == 8 and edc.notna().sum().sum() == 8
    pd.testing.assert_frame_equal(mine.sort_index().astype(float), edc.loc[mine.index].sort_index().astype(float))


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE records [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><records><item><record_id>&c;</record_id></item></records>'
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE records [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<records><item><record_id>01-001</record_id><redcap_event_name>w2_arm_1</redcap_event_name>"
    "<ae_term>&x;</ae_term></item></records>"
)


def test_hostile_or_bad_xml_imports_are_refused_and_nothing_is_stored(server):
    url, tokens, _ = server
    inv = redcap.Project(url, tokens["inv"])
    before = inv.export_records(format_type="csv")
    for body in (BOMB, XXE):
        reply = requests.post(
            url,
            data={"token": tokens["inv"], "content": "record", "format": "xml", "type": "flat", "data": body},
            timeout=60,
        )
        assert reply.status_code == 400
        error = ET.fromstring(reply.text).findtext("error")
        assert error.startswith("The XML data declare a document type (<!DOCTYPE ...>), refused")
        with pytest.raises(redcap.RedcapError, match="declare a document type"):
            inv.import_records(body, import_format="xml")
    record = before.splitlines()[1].split(",")[0]
    bad = records_xml([{"record_id": record, "redcap_event_name": "w12_arm_1", **HAQ_ITEMS, "q7": "7"}])
    with pytest.raises(redcap.RedcapError) as info:
        inv.import_records(bad, import_format="xml")
    assert f"record {record}, event w12_arm_1, field q7: unknown choice '7'; expected one of 1, 2, 3, 4, 5, 6" in str(
        info.value
    )
    with pytest.raises(redcap.RedcapError, match="not well-formed"):
        inv.import_records("<records><item>", import_format="xml")
    assert inv.export_records(format_type="csv") == before


def test_api_import_refuses_a_disagreeing_score_and_a_score_without_items(server):
    url, tokens, _ = server
    inv = redcap.Project(url, tokens["inv"])
    before = inv.export_records(format_type="csv")
    record = before.splitlines()[1].split(",")[0]
    rows = [
        {"record_id": record, "redcap_event_name": "w12_arm_1", **HAQ_ITEMS, "haq_di": "2"},
        {"record_id": record, "redcap_event_name": "w24_arm_1", "sf36_pcs": "50"},
    ]
    with pytest.raises(redcap.RedcapError) as info:
        inv.import_records(rows)
    message = str(info.value)
    assert (
        f"record {record}, event w12_arm_1, field haq_di: supplied score 2 disagrees with 1.625 computed from the "
        "haq_di items by pmrtrial.scores" in message
    )
    assert f"record {record}, event w24_arm_1, field sf36_pcs: a score without any item of sf36" in message
    assert inv.export_records(format_type="csv") == before
