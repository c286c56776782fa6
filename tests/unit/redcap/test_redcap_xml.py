"""REDCap's XML format: what the API writes parses back; hostile or malformed records XML is refused, saying why."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from pmrtrial.edc.redcap.xmlformat import (
    XmlDataError,
    count_xml,
    error_xml,
    object_xml,
    parse_records_xml,
    records_xml,
    values_xml,
)


def test_records_round_trip_with_markup_and_cdata_terminator_in_values():
    rows = [
        {"record_id": "01-001", "redcap_event_name": "w0_arm_1", "term": "rash <arm> & ]]> itch"},
        {"record_id": "01-002", "redcap_event_name": "w0_arm_1", "term": ""},
    ]
    text = records_xml(rows, ["record_id", "redcap_event_name", "term"])
    assert text.startswith('<?xml version="1.0" encoding="UTF-8" ?>\n<records>\n<item><record_id><![CDATA[01-001]]>')
    assert parse_records_xml(text) == rows
    assert parse_records_xml(records_xml([])) == []


def test_project_count_ids_and_error_documents_are_redcaps_shapes():
    project = ET.fromstring(object_xml("project", {"project_id": 1, "is_longitudinal": 1}))
    assert project.tag == "project" and project.findtext("is_longitudinal") == "1"
    assert ET.fromstring(count_xml(34)).tag == "count" and ET.fromstring(count_xml(34)).text == "34"
    assert [e.text for e in ET.fromstring(values_xml("ids", "id", ["01-001", "01-002"]))] == ["01-001", "01-002"]
    error = error_xml("record 01-001, event w4_arm_1, field pain_vas: Enter a value between 0 and 10.")
    assert "<error>" in error  # how PyCap recognises an XML error (redcap/request.py)
    assert ET.fromstring(error).findtext("error").startswith("record 01-001")


def test_billion_laughs_is_refused_before_any_expansion():
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]  # 10^9 "lol" if expanded
    bomb = f'<?xml version="1.0"?><!DOCTYPE records [{"".join(levels)}]><records><item><a>&lol9;</a></item></records>'
    with pytest.raises(XmlDataError, match=r"declare a document type \(<!DOCTYPE \.\.\.>\), refused"):
        parse_records_xml(bomb)


def test_external_entities_and_external_dtd_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE records [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<records><item><record_id>&x;</record_id></item></records>"
    )
    with pytest.raises(XmlDataError, match="document type") as info:
        parse_records_xml(xxe)
    assert "TOP-SECRET" not in str(info.value)
    with pytest.raises(XmlDataError, match="document type"):
        parse_records_xml('<?xml version="1.0"?><!DOCTYPE records SYSTEM "http://127.0.0.1:9/x.dtd"><records/>')


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The XML data are empty; expected <records><item>...</item></records>."),
        ("<records><item><a>1</a></item>", "not well-formed (no element found: line 1, column 30"),
        ("<hash><error>x</error></hash>", "The XML root element is <hash>; expected <records>."),
        ("<records><row><a>1</a></row></records>", "Element 1 of <records> is <row>; expected <item>."),
        ("<records><item><a><b>1</b></a></item></records>", "<item> 1, field <a>: holds elements; expected a value."),
        ("<records><item><a>1</a><a>2</a></item></records>", "<item> 1, field <a>: given twice."),
        ("<records><item><a>&undefined;</a></item></records>", "not well-formed (undefined entity"),
    ],
)
def test_malformed_records_xml_names_what_is_wrong(text, message):
    with pytest.raises(XmlDataError) as info:
        parse_records_xml(text)
    assert message in str(info.value)


def test_a_value_xml_cannot_carry_is_an_error_not_a_broken_document():
    with pytest.raises(ValueError, match=r"holds a character XML 1\.0 cannot carry"):
        records_xml([{"term": "rash\x01"}])
    with pytest.raises(ValueError, match="not a valid XML element name"):
        records_xml([{"1st": "x"}])
