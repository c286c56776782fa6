"""SDTM dates and study days where the canonical data hold dates (``randomised_on``, ``visits.visit_date``), and
empty with a note where they hold weeks only.

SDTMIG study day (also admiral's ``derive_vars_dy``): ``--DY`` = date - RFSTDTC + 1 on or after the reference
date, date - RFSTDTC before it; there is no day 0. Every expected value below is hand arithmetic on the BACHELOR
twin's participant SYN-01-001 (baricitinib, randomised 2021-07-07 = RFSTDTC; study drug 4 mg/day at W0, W2, W4,
2 mg/day at W12, W16, W20, 0 from W24, BACHELOR dosing: 4 mg weeks 0-12, 2 mg weeks 12-24), given these visit
dates (the other participants keep weeks only):

====  ==========  ===========================  =====
visit date        days after 2021-07-07        --DY
====  ==========  ===========================  =====
W0    2021-07-06  -1 (the day before)          -1
W2    2021-07-22  15                           16
W4    2021-08-04  28                           29
W12   2021-10-01  86                           87
W16   2021-10-27  112                          113
W20   2021-11-24  140                          141
W24+  (none)      -                            empty
====  ==========  ===========================  =====

EX, 4 mg/day: from randomisation (day 0; the drug is not taken before it, although W0 is dated the day before)
to the day before W12 (day 85): 2021-07-07 (EXSTDY 1) to 2021-09-30 (EXENDY 86). 2 mg/day: W12 (day 86) to the
last dosed visit W20 (day 140): 2021-10-01 (87) to 2021-11-24 (141). DM RFXSTDTC = 2021-07-07, RFXENDTC =
2021-11-24.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pmrtrial.cdisc import build_cdisc
from pmrtrial.cdisc.checks import check_package
from pmrtrial.cdisc.define import ODM_NS
from pmrtrial.cli import main
from pmrtrial.io.datasets import read_datasets, write_datasets
from pmrtrial.protocol import load_protocol

TWIN = Path(__file__).resolve().parents[2] / "reference" / "data" / "twin"
WHO = "SYN-01-001"
DATES = {0: "2021-07-06", 2: "2021-07-22", 4: "2021-08-04", 12: "2021-10-01", 16: "2021-10-27", 20: "2021-11-24"}
STUDY_DAY = {0: -1, 2: 16, 4: 29, 12: 87, 16: 113, 20: 141}


def _dated_twin() -> tuple[Any, Any, Any]:
    subjects = pd.read_csv(TWIN / "subjects.csv", dtype={"site_id": str})
    visits = pd.read_csv(TWIN / "visits.csv")
    ae = pd.read_csv(TWIN / "adverse_events.csv")
    mine = visits["subject_id"] == WHO
    visits["visit_date"] = visits["week"].where(mine).map(lambda w: DATES.get(int(w)) if w == w else None)
    return subjects, visits, ae


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dated twin written as canonical CSV and exported by ``pmrtrial export cdisc`` (XPT, Dataset-JSON)."""
    root = tmp_path_factory.mktemp("sdtm-dates")
    protocol = load_protocol("bachelor")
    subjects, visits, ae = _dated_twin()
    write_datasets(root / "data", subjects, visits, ae, protocol=protocol)
    assert main(["export", "cdisc", str(root / "data"), "--protocol", "bachelor", "--out", str(root / "out")]) == 0
    return root / "out"


def _json(out: Path, domain: str) -> pd.DataFrame:
    """A Dataset-JSON file as a frame; an empty value (null in the file) as ``""`` for text, NaN for numbers."""
    doc = json.loads((out / "sdtm" / f"{domain.lower()}.json").read_text(encoding="utf-8"))
    frame = pd.DataFrame(doc["rows"], columns=[c["name"] for c in doc["columns"]])
    text = [c["name"] for c in doc["columns"] if c["dataType"] in ("string", "date", "datetime")]
    frame[text] = frame[text].fillna("")
    return frame


def test_visit_dates_fill_sv_lb_qs_with_sdtmig_study_days(exported: Path) -> None:
    sv = _json(exported, "SV")
    mine = sv[sv["USUBJID"] == f"BACHELOR-{WHO}"].set_index("VISITNUM")
    for week, date in DATES.items():
        assert (mine.loc[week, "SVSTDTC"], mine.loc[week, "SVSTDY"]) == (date, STUDY_DAY[week]), week
    assert mine.loc[24, "SVSTDTC"] == "" and pd.isna(mine.loc[24, "SVSTDY"]) and mine.loc[24, "VISITDY"] == 169
    others = sv[sv["USUBJID"] != f"BACHELOR-{WHO}"]
    assert (others["SVSTDTC"] == "").all() and others["SVSTDY"].isna().all()  # weeks only: empty
    lb = _json(exported, "LB")
    crp = lb[(lb["USUBJID"] == f"BACHELOR-{WHO}") & (lb["LBTESTCD"] == "CRP")].set_index("VISITNUM")
    assert (crp.loc[2, "LBORRES"], crp.loc[2, "LBDTC"], crp.loc[2, "LBDY"]) == ("1.1", "2021-07-22", 16)
    qs = _json(exported, "QS")
    pain = qs[(qs["USUBJID"] == f"BACHELOR-{WHO}") & (qs["QSTESTCD"] == "PMRAS01")].set_index("VISITNUM")
    assert (pain.loc[0, "QSDTC"], pain.loc[0, "QSDY"]) == ("2021-07-06", -1)
    assert 0 not in set(sv["SVSTDY"].dropna()) | set(lb["LBDY"].dropna()) | set(qs["QSDY"].dropna())


def test_exposure_runs_on_the_visit_dates_and_gives_dm_rfxstdtc(exported: Path) -> None:
    ex = _json(exported, "EX")
    mine = ex[ex["USUBJID"] == f"BACHELOR-{WHO}"].sort_values("EXSTDTC")
    rows = mine[["EXDOSE", "EXSTDTC", "EXENDTC", "EXSTDY", "EXENDY"]].values.tolist()
    assert rows == [[4.0, "2021-07-07", "2021-09-30", 1, 86], [2.0, "2021-10-01", "2021-11-24", 87, 141]]
    dm = _json(exported, "DM").set_index("SUBJID")
    assert dm.loc[WHO, ["RFSTDTC", "RFXSTDTC", "RFXENDTC"]].tolist() == ["2021-07-07", "2021-07-07", "2021-11-24"]
    # a participant without visit dates: exposure on the planned days (W0 = day 0 .. W20 = day 140)
    other = dm.loc["SYN-01-002"]
    assert (other["RFSTDTC"], other["RFXSTDTC"]) == ("2021-11-02", "2021-11-02")


def test_define_lists_the_populated_date_variables_and_notes_say_what_is_planned(exported: Path) -> None:
    define = ET.parse(exported / "sdtm" / "define.xml").getroot()
    items = {i.get("OID") for i in define.iter(f"{{{ODM_NS}}}ItemDef")}
    for domain, variables in {
        "DM": ("RFSTDTC", "RFXSTDTC", "RFXENDTC"),
        "SV": ("SVSTDTC", "SVSTDY"),
        "LB": ("LBDTC", "LBDY"),
        "QS": ("QSDTC", "QSDY"),
        "AE": ("AESTDTC", "AESTDY"),
        "EX": ("EXSTDTC", "EXENDTC"),
    }.items():
        populated = _json(exported, domain)
        for var in variables:
            assert (populated[var].astype(str) != "").any() and populated[var].notna().any(), (domain, var)
            assert f"IT.{domain}.{var}" in items, (domain, var)
    notes = (exported / "sdtm" / "NOTES.txt").read_text(encoding="utf-8")
    assert "EX/CM: an interval between visits runs from the visit dates;" in notes
    assert "without a date: --DTC and --DY empty there" in notes


def test_weeks_only_twin_keeps_dates_empty_with_the_note_and_checks_clean() -> None:
    protocol = load_protocol("bachelor")
    packages = build_cdisc(read_datasets(TWIN, protocol=protocol), protocol)
    sdtm = packages["sdtm"]
    assert (sdtm.datasets["SV"]["SVSTDTC"] == "").all() and sdtm.datasets["SV"]["SVSTDY"].isna().all()
    assert any("no visit dates in the data; --DTC and --DY empty" in n for n in sdtm.notes)
    assert (sdtm.datasets["DM"]["RFXSTDTC"] == sdtm.datasets["DM"]["RFSTDTC"]).all()  # planned: from day 0
    assert check_package(sdtm) == [] and check_package(packages["adam"]) == []


def test_study_day_check_catches_a_wrong_day_and_a_day_zero() -> None:
    protocol = load_protocol("bachelor")
    subjects, visits, ae = _dated_twin()
    from pmrtrial.datasets import validate_datasets

    sdtm = build_cdisc(validate_datasets(subjects, visits, ae, protocol=protocol), protocol)["sdtm"]
    assert check_package(sdtm) == []
    broken = dict(sdtm.datasets)
    sv = broken["SV"].copy()
    w2 = (sv["USUBJID"] == f"BACHELOR-{WHO}") & (sv["VISITNUM"] == 2)
    sv.loc[w2, "SVSTDY"] = 15  # pmrtrial's day count, not SDTM's: 2021-07-22 is study day 16
    lb = broken["LB"].copy()
    lb.loc[(lb["USUBJID"] == f"BACHELOR-{WHO}") & (lb["VISITNUM"] == 0), "LBDY"] = 0  # no day 0 in SDTM
    broken["SV"], broken["LB"] = sv, lb
    issues = check_package(type(sdtm)(sdtm.study_id, broken, sdtm.metadata, sdtm.codelists))
    assert {(i.id, i.dataset, i.variable) for i in issues} == {
        ("CDISC-E008", "SV", "SVSTDY"),
        ("CDISC-E008", "LB", "LBDY"),
    }
    assert any("2021-07-22 is study day 16" in i.message for i in issues)
