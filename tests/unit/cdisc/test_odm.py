"""`pmrtrial export odm`: ODM 1.3.2 valid against the official XSD (bundled with odmlib), and its data read back."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from pmrtrial.cdisc.define import ODM_NS
from pmrtrial.cli import main

odm_parser = pytest.importorskip("odmlib.odm_parser", reason="odmlib is not installed (the [test] extra)")
TWIN = Path(__file__).resolve().parents[2] / "reference" / "data" / "twin"
NS = {"odm": ODM_NS}


@pytest.fixture(scope="module")
def odm_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("odm") / "study.xml"
    assert main(["export", "odm", str(TWIN), "--protocol", "bachelor", "--out", str(out)]) == 0
    return out


def test_odm__valid_against_the_odm_1_3_2_schema(odm_file):
    validator = odm_parser.ODMSchemaValidator(standard="odm", version="1.3.2")
    validator.validate_file(str(odm_file))  # raises on any schema violation


def test_odm__references_resolve_and_data_equal_the_datasets(odm_file):
    root = ET.parse(odm_file).getroot()
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    oids = {
        tag: {e.get("OID") for e in mdv.findall(f"odm:{tag}", NS)}
        for tag in ("StudyEventDef", "FormDef", "ItemGroupDef", "ItemDef", "CodeList")
    }
    assert {e.get("StudyEventOID") for e in mdv.iter(f"{{{ODM_NS}}}StudyEventRef")} <= oids["StudyEventDef"]
    assert {e.get("FormOID") for e in mdv.iter(f"{{{ODM_NS}}}FormRef")} <= oids["FormDef"]
    assert {e.get("ItemGroupOID") for e in mdv.iter(f"{{{ODM_NS}}}ItemGroupRef")} <= oids["ItemGroupDef"]
    assert {e.get("ItemOID") for e in mdv.iter(f"{{{ODM_NS}}}ItemRef")} <= oids["ItemDef"]
    assert {e.get("CodeListOID") for e in mdv.iter(f"{{{ODM_NS}}}CodeListRef")} <= oids["CodeList"]
    clinical = root.find("odm:ClinicalData", NS)
    assert {e.get("ItemOID") for e in clinical.iter(f"{{{ODM_NS}}}ItemData")} <= oids["ItemDef"]
    subjects = pd.read_csv(TWIN / "subjects.csv")
    visits = pd.read_csv(TWIN / "visits.csv")
    assert [s.get("SubjectKey") for s in clinical.findall("odm:SubjectData", NS)] == list(subjects["subject_id"])
    # the week-12 CRP of every participant, read back from the XML, equals visits.csv
    crp = {}
    for subject in clinical.findall("odm:SubjectData", NS):
        for event in subject.findall("odm:StudyEventData[@StudyEventOID='SE.W12']", NS):
            item = event.find(".//odm:ItemData[@ItemOID='IT.VISITS.CRP_MG_L']", NS)
            crp[subject.get("SubjectKey")] = float(item.get("Value"))
    expected = visits[visits["week"] == 12].set_index("subject_id")["crp_mg_l"].dropna().to_dict()
    assert crp == pytest.approx(expected)
    question = mdv.find("odm:ItemDef[@OID='IT.VISITS.CRP_MG_L']/odm:Question", NS)
    langs = {t.get("{http://www.w3.org/XML/1998/namespace}lang") for t in question}
    assert langs == {"en", "fr"}
