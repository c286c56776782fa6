"""`pmrtrial export cdisc` on the SYNTHETIC BACHELOR twin: files, formats, structure and analysis-readiness.

The twin comes from `pmrtrial synth bachelor`, results.json from `pmrtrial analyse` on it, and the SDTM/ADaM from
`pmrtrial export cdisc`, all through the CLI entry point. The primary and key secondary analyses are then recomputed
from ADSL + ADEFF alone (read back from XPT with pyreadstat, scipy for the tests) and compared with results.json.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema_rs
import numpy as np
import pandas as pd
import pyreadstat
import pytest
from scipy import stats

from pmrtrial.cdisc import build_cdisc
from pmrtrial.cdisc.checks import check_package
from pmrtrial.cdisc.define import DEF_NS, ODM_NS, XLINK_NS
from pmrtrial.cli import main
from pmrtrial.io.datasets import read_datasets
from pmrtrial.protocol import load_protocol

TWIN = Path(__file__).resolve().parents[2] / "reference" / "data" / "twin"
SCHEMA = Path(__file__).resolve().parents[2] / "reference" / "cdisc" / "dataset-json-1.1.schema.json"
SDTM = ("DM", "DS", "SV", "EX", "CM", "AE", "LB", "QS", "TS", "TA", "TV")
ADAM = ("ADSL", "ADEFF", "ADAE", "ADTTE")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cdisc")
    assert main(["synth", "bachelor", "--out", str(root / "twin")]) == 0
    assert main(["analyse", str(root / "twin"), "--out", str(root / "report"), "--no-pdf"]) == 0
    assert main(["export", "cdisc", str(root / "twin"), "--protocol", "bachelor", "--out", str(root / "out")]) == 0
    results = json.loads((root / "report" / "results.json").read_text())
    return root, results


def _xpt(root: Path, folder: str, name: str) -> tuple[pd.DataFrame, object]:
    return pyreadstat.read_xport(str(root / "out" / folder / f"{name.lower()}.xpt"))


def test_export_cdisc__writes_every_dataset_in_both_formats_and_define(run):
    root, _ = run
    for folder, names in (("sdtm", SDTM), ("adam", ADAM)):
        files = {p.name for p in (root / "out" / folder).iterdir()}
        expected = {f"{n.lower()}.{ext}" for n in names for ext in ("xpt", "json")} | {"define.xml"}
        assert expected <= files


def test_xpt__readable_by_pyreadstat_with_v5_names_labels_and_rows(run):
    root, _ = run
    for folder, names in (("sdtm", SDTM), ("adam", ADAM)):
        for name in names:
            frame, meta = _xpt(root, folder, name)
            assert meta.table_name == name
            assert all(len(c) <= 8 for c in frame.columns)
            assert all(len(label) <= 40 for label in meta.column_labels)
            doc = json.loads((root / "out" / folder / f"{name.lower()}.json").read_text())
            assert len(frame) == doc["records"]
            assert list(frame.columns) == [c["name"] for c in doc["columns"]]
            # lengths declared: every character variable's storage width is the Dataset-JSON length
            for col in doc["columns"]:
                if col["dataType"] == "string":
                    assert meta.variable_storage_width[col["name"]] >= col["length"]


def test_dataset_json__every_file_valid_against_the_official_schema(run):
    root, _ = run
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    for path in sorted((root / "out").glob("*/*.json")):
        doc = json.loads(path.read_text())
        errors = [e.message for e in validator.iter_errors(doc)]
        assert errors == [], f"{path.name}: {errors[:3]}"
        assert doc["datasetJSONVersion"].startswith("1.1")
        assert all(len(row) == len(doc["columns"]) for row in doc["rows"])


def test_define_xml__structure_resolves(run):
    root, _ = run
    ns = {"odm": ODM_NS, "def": DEF_NS}
    for folder, names in (("sdtm", SDTM), ("adam", ADAM)):
        tree = ET.parse(root / "out" / folder / "define.xml")
        top = tree.getroot()
        assert top.tag == f"{{{ODM_NS}}}ODM" and top.get("ODMVersion") == "1.3.2"
        mdv = top.find("odm:Study/odm:MetaDataVersion", ns)
        assert mdv is not None and mdv.get(f"{{{DEF_NS}}}DefineVersion") == "2.1.0"
        items = {i.get("OID") for i in mdv.findall("odm:ItemDef", ns)}
        codelists = {c.get("OID") for c in mdv.findall("odm:CodeList", ns)}
        methods = {m.get("OID") for m in mdv.findall("odm:MethodDef", ns)}
        comments = {c.get("OID") for c in mdv.findall("def:CommentDef", ns)}
        wheres = {w.get("OID") for w in mdv.findall("def:WhereClauseDef", ns)}
        value_lists = {v.get("OID") for v in mdv.findall("def:ValueListDef", ns)}
        groups = mdv.findall("odm:ItemGroupDef", ns)
        assert [g.get("Name") for g in groups] == list(names)
        for ref in mdv.iter(f"{{{ODM_NS}}}ItemRef"):
            assert ref.get("ItemOID") in items
            if ref.get("MethodOID"):
                assert ref.get("MethodOID") in methods
        for ref in mdv.iter(f"{{{ODM_NS}}}CodeListRef"):
            assert ref.get("CodeListOID") in codelists
        for ref in mdv.iter(f"{{{DEF_NS}}}ValueListRef"):
            assert ref.get("ValueListOID") in value_lists
        for ref in mdv.iter(f"{{{DEF_NS}}}WhereClauseRef"):
            assert ref.get("WhereClauseOID") in wheres
        for item in mdv.findall("odm:ItemDef", ns):
            if item.get(f"{{{DEF_NS}}}CommentOID"):
                assert item.get(f"{{{DEF_NS}}}CommentOID") in comments
            assert item.find("def:Origin", ns) is not None
        for group in groups:
            leaf = group.find("def:leaf", ns)
            assert (root / "out" / folder / leaf.get(f"{{{XLINK_NS}}}href")).exists()
    # and each define.xml is valid against the Define-XML 2.1 schema (bundled with odmlib)
    odm_parser = pytest.importorskip("odmlib.odm_parser", reason="odmlib is not installed (the [test] extra)")
    validator = odm_parser.ODMSchemaValidator(standard="define", version="2.1")
    for folder in ("sdtm", "adam"):
        validator.validate_file(str(root / "out" / folder / "define.xml"))  # raises on a schema violation
    adam = ET.parse(root / "out" / "adam" / "define.xml").getroot()
    # value-level metadata for the PMR-AS parameters
    vlm = {i.get("OID") for i in adam.iter(f"{{{ODM_NS}}}ItemDef") if i.get("OID", "").startswith("IT.ADEFF.AVAL.")}
    assert {"IT.ADEFF.AVAL.CRPPMRAS", "IT.ADEFF.AVAL.ESRPMRAS", "IT.ADEFF.AVAL.RESP"} <= vlm


def test_structural_checks__clean_on_the_twin_and_catch_each_rule():
    protocol = load_protocol("bachelor")
    data = read_datasets(Path(__file__).resolve().parents[2] / "reference" / "data" / "twin", protocol=protocol)
    packages = build_cdisc(data, protocol)
    for package in packages.values():
        assert check_package(package) == []
    sdtm = packages["sdtm"]
    broken = dict(sdtm.datasets)
    dm = broken["DM"].copy()
    dm.loc[0, "RFSTDTC"] = "07/07/2021"  # not ISO 8601
    dm.loc[1, "SEX"] = "X"  # not in codelist SEX
    dm.loc[2, "USUBJID"] = dm.loc[3, "USUBJID"]  # duplicate key
    dm.loc[4, "SITEID"] = ""  # required
    broken["DM"] = dm
    bad = type(sdtm)(sdtm.study_id, broken, sdtm.metadata, sdtm.codelists)
    ids = {(i.id, i.variable) for i in check_package(bad)}
    assert ids == {
        ("CDISC-E003", "RFSTDTC"),
        ("CDISC-E005", "SEX"),
        ("CDISC-E004", "STUDYID,USUBJID"),
        ("CDISC-E002", "SITEID"),
    }


def test_sdtm__iso_dates_sequences_and_traceability(run):
    root, _ = run
    ae, _ = _xpt(root, "sdtm", "AE")
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in ae["AESTDTC"])
    assert not ae.duplicated(["USUBJID", "AESEQ"]).any()
    lb, _ = _xpt(root, "sdtm", "LB")
    adeff, _ = _xpt(root, "adam", "ADEFF")
    crp = adeff[adeff["PARAMCD"] == "CRP"]
    assert (crp["SRCDOM"] == "LB").all() and (crp["SRCVAR"] == "LBSTRESN").all()
    joined = crp.merge(lb, left_on=["USUBJID", "SRCSEQ"], right_on=["USUBJID", "LBSEQ"], how="left")
    # every ADEFF CRP value points at the LB record that holds it
    assert joined["LBSEQ"].notna().all()
    np.testing.assert_allclose(joined["AVAL"], joined["LBSTRESN"])


def _responders(adsl: pd.DataFrame, adeff: pd.DataFrame, paramcd: str, visit: str, flag: str) -> dict[str, list[int]]:
    pop = set(adsl.loc[adsl[flag] == "Y", "USUBJID"])
    rows = adeff[
        (adeff["PARAMCD"] == paramcd)
        & (adeff["AVISIT"] == visit)
        & (adeff["ANL01FL"] == "Y")
        & adeff["USUBJID"].isin(pop)
    ]
    return {arm: [int((g["AVAL"] == 1).sum()), len(g)] for arm, g in rows.groupby("TRTP")}


def test_adam_alone__recomputes_primary_and_key_secondaries_of_results_json(run):
    root, results = run
    adsl, _ = _xpt(root, "adam", "ADSL")
    adeff, _ = _xpt(root, "adam", "ADEFF")
    label = {a["id"]: a["label"] for a in results["arms"]}
    primary = results["primary"]
    t, c = label[primary["treated_arm"]], label[primary["control_arm"]]
    counts = _responders(adsl, adeff, "RESP", "Week 12", "EFFFL")
    for arm_id, arm_label in ((primary["treated_arm"], t), (primary["control_arm"], c)):
        assert counts[arm_label] == [primary["responders"][arm_id]["events"], primary["responders"][arm_id]["n"]]
    (et, nt), (ec, nc) = counts[t], counts[c]
    p = stats.fisher_exact([[et, nt - et], [ec, nc - ec]]).pvalue
    assert p == pytest.approx(primary["fisher"]["p"], rel=1e-9)
    assert (et / nt) / (ec / nc) == pytest.approx(primary["rr_crude"]["estimate"], rel=1e-12)
    # key secondaries: CRP PMR-AS mean difference (Welch) and CRP PMR-AS <= 10 at weeks 12/24/36 (randomised)
    itt = set(adsl.loc[adsl["ITTFL"] == "Y", "USUBJID"])
    checked = 0
    for row in results["secondary"]:
        visit = f"Week {row['week']:g}"
        if row["endpoint_id"] == "crp_pmr_as":
            d = adeff[(adeff["PARAMCD"] == "CRPPMRAS") & (adeff["AVISIT"] == visit) & adeff["USUBJID"].isin(itt)]
            vt, vc = d.loc[d["TRTP"] == t, "AVAL"], d.loc[d["TRTP"] == c, "AVAL"]
            arms = row["arms"]
            assert [len(vt), len(vc)] == [arms[primary["treated_arm"]]["n"], arms[primary["control_arm"]]["n"]]
            assert vt.mean() - vc.mean() == pytest.approx(row["effect"]["estimate"], rel=1e-9)
            assert stats.ttest_ind(vt, vc, equal_var=False).pvalue == pytest.approx(row["effect"]["p"], rel=1e-9)
            checked += 1
        if row["endpoint_id"] == "crp_pmr_as_le10":
            counts = _responders(adsl, adeff, "CRPASL10", visit, "ITTFL")
            assert counts[t] == [row["arms"][primary["treated_arm"]][k] for k in ("events", "n")]
            assert counts[c] == [row["arms"][primary["control_arm"]][k] for k in ("events", "n")]
            checked += 1
    assert checked == 6
    # four-state table at week 12 from PARAMCD STATE4
    states = next(s for s in results["visit_states"] if s["visit"] == "W12")["counts"]
    d = adeff[(adeff["PARAMCD"] == "STATE4") & (adeff["AVISIT"] == "Week 12")]
    for arm_id, arm_label in ((primary["treated_arm"], t), (primary["control_arm"], c)):
        got = d.loc[d["TRTP"] == arm_label, "AVALC"].str.lower().value_counts().to_dict()
        assert {k: v for k, v in states[arm_id].items() if k not in ("n", "missing") and v} == got


def test_adtte__one_record_per_subject_with_censoring(run):
    root, _ = run
    adtte, _ = _xpt(root, "adam", "ADTTE")
    adsl, _ = _xpt(root, "adam", "ADSL")
    assert len(adtte) == len(adsl) and set(adtte["CNSR"]) <= {0.0, 1.0}
    assert (adtte["AVAL"] >= 0).all() and not math.isnan(adtte["AVAL"].sum())


def test_cm_from_gc_doses_and_adtte_from_flares_when_the_tables_are_given():
    protocol = load_protocol("bachelor")
    twin = Path(__file__).resolve().parents[2] / "reference" / "data" / "twin"
    subjects = pd.read_csv(twin / "subjects.csv", dtype={"site_id": str})
    visits = pd.read_csv(twin / "visits.csv")
    ae = pd.read_csv(twin / "adverse_events.csv")
    first, second = subjects["subject_id"].iloc[:2]
    gc = pd.DataFrame(
        {
            "subject_id": [first, first, second],
            "start_day": [10, 20, 0],
            "end_day": [19, None, 27],
            "dose_mg_day": [15.0, 10.0, 20.0],
            "reason": ["rescue", "taper", "injection"],
        }
    )
    flares = pd.DataFrame({"subject_id": [first], "day": [30], "confirmed": [True], "rule": ["investigator"]})
    from pmrtrial.datasets import validate_datasets

    data = validate_datasets(subjects, visits, ae, protocol=protocol, gc_doses=gc, flares=flares)
    packages = build_cdisc(data, protocol)
    cm = packages["sdtm"].datasets["CM"]
    assert len(cm) == 3  # one record per dosing-log row, not the visits' oral GC
    rand = pd.Timestamp(subjects["randomised_on"].iloc[0])
    row = cm[cm["USUBJID"].str.endswith(first) & (cm["CMDOSE"] == 15.0)].iloc[0]
    # hand arithmetic: day 10 after randomisation is study day 11; end day 19 -> study day 20
    start = (rand + pd.Timedelta(days=10)).date().isoformat()
    assert (row["CMSTDTC"], row["CMSTDY"], row["CMENDY"]) == (start, 11, 20)
    ongoing = cm[cm["CMDOSE"] == 10.0].iloc[0]
    assert ongoing["CMENRTPT"] == "ONGOING" and ongoing["CMENDTC"] == ""
    assert cm.loc[cm["CMDOSE"] == 20.0, "CMROUTE"].iloc[0] == "INTRA-ARTICULAR"
    adtte = packages["adam"].datasets["ADTTE"].set_index("SUBJID")
    assert (adtte.loc[first, "AVAL"], adtte.loc[first, "CNSR"]) == (30.0, 0)
    assert adtte.loc[second, "CNSR"] == 1  # no confirmed flare: censored at the last visit
    assert check_package(packages["sdtm"]) == [] and check_package(packages["adam"]) == []


def test_other_protocols__ex_frequency_from_the_dosing_segments_and_packages_conform():
    # SAPHYR: sarilumab 200 mg sc every 2 weeks (protocol dosing), not a daily dose
    protocol = load_protocol("saphyr")
    subjects = pd.read_csv(TWIN / "subjects.csv", dtype={"site_id": str})
    subjects["arm"] = subjects["arm"].replace({"baricitinib": "sarilumab"})
    visits = pd.read_csv(TWIN / "visits.csv")
    visits = visits[visits["week"].isin([float(v.week) for v in protocol.visits])]
    from pmrtrial.datasets import validate_datasets

    data = validate_datasets(subjects, visits, pd.read_csv(TWIN / "adverse_events.csv"), protocol=protocol)
    packages = build_cdisc(data, protocol)
    ex = packages["sdtm"].datasets["EX"]
    segment = next(s for a in protocol.arms if a.id == "sarilumab" for s in a.dosing)
    active = ex[ex["EXTRT"] == "SARILUMAB"]
    assert set(active["EXDOSFRQ"]) == {f"Q{segment.interval_weeks:g}W"}
    assert set(active["EXDOSE"]) == {segment.dose} and set(active["EXROUTE"]) == {"SUBCUTANEOUS"}
    for package in packages.values():
        assert check_package(package) == []
