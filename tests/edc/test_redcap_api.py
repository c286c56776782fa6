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
from pathlib import Path

import pytest
import requests

redcap = pytest.importorskip("redcap", reason="PyCap is not installed (the [test] extra)")

from pmrtrial.analysis import analyse_trial  # noqa: E402
from pmrtrial.cli import main  # noqa: E402
from pmrtrial.edc.redcap.dictionary import SCORE_FIELDS, build_project  # noqa: E402
from pmrtrial.edc.redcap.files import csv_text  # noqa: E402
from pmrtrial.edc.redcap.records import datasets_to_records  # noqa: E402
from pmrtrial.io.datasets import read_datasets  # noqa: E402
from pmrtrial.protocol import load_protocol  # noqa: E402

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
