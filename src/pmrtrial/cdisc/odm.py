"""CDISC ODM 1.3.2: the study's metadata and clinical data from canonical datasets and the protocol (pure).

Metadata: one ``StudyEventDef`` per protocol visit (plus ``SE.SUBJECT`` for subject-level data),
one ``FormDef``/``ItemGroupDef`` per canonical table, and one ``ItemDef`` per canonical variable
from :mod:`pmrtrial.vocabulary` (data type, English and French question, unit, range checks,
codelists for categories). Clinical data: one ``SubjectData`` per participant, its visits as
``StudyEventData`` and its adverse events (and, when present, glucocorticoid doses and flares) as
repeating item groups. :func:`odm_xml` returns the document as text; REDCap, OpenClinica and other
EDCs import it.
"""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import pandas as pd

from pmrtrial.cdisc.define import ODM_NS, XML_LANG
from pmrtrial.datasets import AnalysisDatasets
from pmrtrial.protocol import Protocol
from pmrtrial.vocabulary import Variable, table_variables

__all__ = ["odm_xml"]

_TYPES = {"string": "text", "float": "float", "integer": "integer", "boolean": "boolean", "date": "date"}
#: canonical table -> (form OID, repeating item group)
_TABLES = {
    "subjects": ("F.SUBJECTS", False),
    "adverse_events": ("F.ADVERSE_EVENTS", True),
    "gc_doses": ("F.GC_DOSES", True),
    "flares": ("F.FLARES", True),
    "visits": ("F.VISITS", False),
}


def _o(tag: str) -> str:
    return f"{{{ODM_NS}}}{tag}"


def _translated(parent: ET.Element, tag: str, texts: dict[str, str]) -> None:
    el = ET.SubElement(parent, _o(tag))
    for lang, text in texts.items():
        ET.SubElement(el, _o("TranslatedText"), {XML_LANG: lang}).text = text


def _oid(table: str, name: str) -> str:
    return f"IT.{table.upper()}.{name.upper()}"


def _data_type(var: Variable) -> str:
    if var.kind == "category":
        return "integer" if var.levels and all(isinstance(lv, int) for lv in var.levels) else "text"
    return _TYPES[var.kind]


def _value(value: Any, var: Variable) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if var.kind == "boolean":
        return "true" if str(value).lower() in ("true", "1", "1.0") else "false"
    if var.kind == "date":
        return pd.Timestamp(value).date().isoformat()
    if var.kind == "integer" or (var.kind == "category" and _data_type(var) == "integer"):
        return str(int(float(value)))
    if var.kind == "float":
        return repr(float(value))
    return str(value)


def _frames(datasets: AnalysisDatasets) -> dict[str, pd.DataFrame]:
    frames = {"subjects": datasets.subjects, "visits": datasets.visits, "adverse_events": datasets.adverse_events}
    if datasets.gc_doses is not None:
        frames["gc_doses"] = datasets.gc_doses
    if datasets.flares is not None:
        frames["flares"] = datasets.flares
    return frames


def _variables(table: str, frame: pd.DataFrame) -> list[Variable]:
    return [v for v in table_variables(table) if v.name != "subject_id" and v.name in frame.columns]


def _metadata(study: ET.Element, protocol: Protocol, frames: dict[str, pd.DataFrame], mdv_oid: str) -> None:
    units: dict[str, str] = {}
    for table, frame in frames.items():
        for var in _variables(table, frame):
            if var.unit not in ("-", "") and var.kind in ("float", "integer"):
                units.setdefault(var.unit, f"MU.{len(units) + 1}")
    if units:
        basic = ET.SubElement(study, _o("BasicDefinitions"))
        for symbol, oid in units.items():
            unit = ET.SubElement(basic, _o("MeasurementUnit"), {"OID": oid, "Name": symbol})
            _translated(unit, "Symbol", {"en": symbol})
    mdv = ET.SubElement(
        study, _o("MetaDataVersion"), {"OID": mdv_oid, "Name": f"{protocol.short_title} v{protocol.version}"}
    )
    proto = ET.SubElement(mdv, _o("Protocol"))
    events = [("SE.SUBJECT", "Participant", "Common", False)] + [
        (f"SE.{v.code}", v.label, "Scheduled", False) for v in protocol.visits
    ]
    for i, (oid, _label, _type, _rep) in enumerate(events):
        ET.SubElement(proto, _o("StudyEventRef"), {"StudyEventOID": oid, "OrderNumber": str(i + 1), "Mandatory": "No"})
    subject_forms = [_TABLES[t][0] for t in frames if t != "visits"]
    for oid, label, kind, repeating in events:
        event = ET.SubElement(
            mdv,
            _o("StudyEventDef"),
            {"OID": oid, "Name": label, "Repeating": "Yes" if repeating else "No", "Type": kind},
        )
        forms = subject_forms if oid == "SE.SUBJECT" else ["F.VISITS"]
        for i, form_ref in enumerate(forms):
            ET.SubElement(event, _o("FormRef"), {"FormOID": form_ref, "OrderNumber": str(i + 1), "Mandatory": "No"})
    for table in frames:
        form_oid, _repeating = _TABLES[table]
        form = ET.SubElement(mdv, _o("FormDef"), {"OID": form_oid, "Name": table, "Repeating": "No"})
        ET.SubElement(form, _o("ItemGroupRef"), {"ItemGroupOID": f"IG.{table.upper()}", "Mandatory": "Yes"})
    for table, frame in frames.items():
        group = ET.SubElement(
            mdv,
            _o("ItemGroupDef"),
            {"OID": f"IG.{table.upper()}", "Name": table, "Repeating": "Yes" if _TABLES[table][1] else "No"},
        )
        for i, var in enumerate(_variables(table, frame)):
            ET.SubElement(
                group,
                _o("ItemRef"),
                {
                    "ItemOID": _oid(table, var.name),
                    "OrderNumber": str(i + 1),
                    "Mandatory": "Yes" if var.required else "No",
                },
            )
    codelists: list[tuple[str, Variable]] = []
    for table, frame in frames.items():
        for var in _variables(table, frame):
            attrs = {"OID": _oid(table, var.name), "Name": var.name, "DataType": _data_type(var)}
            if attrs["DataType"] == "text":
                longest = max([1, *(len(str(v)) for v in frame[var.name].dropna())])
                attrs["Length"] = str(longest)
            item = ET.SubElement(mdv, _o("ItemDef"), attrs)
            _translated(item, "Description", {"en": var.description})
            _translated(item, "Question", {"en": var.label("en"), "fr": var.label("fr")})
            if var.unit in units:
                ET.SubElement(item, _o("MeasurementUnitRef"), {"MeasurementUnitOID": units[var.unit]})
            for comparator, bound in (("GE", var.lo), ("LE", var.hi)):
                if bound is not None and var.kind in ("float", "integer"):
                    check = ET.SubElement(item, _o("RangeCheck"), {"Comparator": comparator, "SoftHard": "Hard"})
                    ET.SubElement(check, _o("CheckValue")).text = f"{bound:g}"
            if var.levels is not None and var.kind == "category":
                oid = f"CL.{table.upper()}.{var.name.upper()}"
                ET.SubElement(item, _o("CodeListRef"), {"CodeListOID": oid})
                codelists.append((oid, var))
    for oid, var in codelists:
        cl = ET.SubElement(mdv, _o("CodeList"), {"OID": oid, "Name": var.name, "DataType": _data_type(var)})
        for level in var.levels or ():
            item = ET.SubElement(cl, _o("CodeListItem"), {"CodedValue": str(level)})
            _translated(item, "Decode", {"en": var.level_label(level, "en"), "fr": var.level_label(level, "fr")})


def _item_group(
    parent: ET.Element, table: str, row: Mapping[Any, Any], variables: list[Variable], key: int | None
) -> None:
    attrs = {"ItemGroupOID": f"IG.{table.upper()}"}
    if key is not None:
        attrs["ItemGroupRepeatKey"] = str(key)
    group = ET.SubElement(parent, _o("ItemGroupData"), attrs)
    for var in variables:
        value = _value(row.get(var.name), var)
        if value is not None:
            ET.SubElement(group, _o("ItemData"), {"ItemOID": _oid(table, var.name), "Value": value})


def odm_xml(datasets: AnalysisDatasets, protocol: Protocol, *, created: dt.datetime, source_version: str) -> str:
    """The ODM 1.3.2 document (metadata and clinical data) of validated canonical datasets."""
    ET.register_namespace("", ODM_NS)
    frames = _frames(datasets)
    study_oid = f"ST.{protocol.id.upper()}"
    mdv_oid = f"MDV.{protocol.id.upper()}.{protocol.version}"
    root = ET.Element(
        _o("ODM"),
        {
            "FileType": "Snapshot",
            "Granularity": "All",
            "FileOID": f"ODM.{protocol.id.upper()}.{created.strftime('%Y%m%dT%H%M%S')}",
            "CreationDateTime": created.replace(microsecond=0).isoformat(),
            "ODMVersion": "1.3.2",
            "Originator": "pmrtrial",
            "SourceSystem": "pmrtrial",
            "SourceSystemVersion": source_version,
        },
    )
    study = ET.SubElement(root, _o("Study"), {"OID": study_oid})
    gv = ET.SubElement(study, _o("GlobalVariables"))
    ET.SubElement(gv, _o("StudyName")).text = protocol.short_title
    note = " SYNTHETIC data: not trial data." if datasets.synthetic else ""
    ET.SubElement(gv, _o("StudyDescription")).text = protocol.title + note
    ET.SubElement(gv, _o("ProtocolName")).text = f"{protocol.id} v{protocol.version}"
    _metadata(study, protocol, frames, mdv_oid)
    clinical = ET.SubElement(root, _o("ClinicalData"), {"StudyOID": study_oid, "MetaDataVersionOID": mdv_oid})
    code_of = {float(v.week): v.code for v in protocol.visits}
    by_subject = {t: dict(tuple(f.groupby("subject_id", sort=False))) for t, f in frames.items() if t != "subjects"}
    variables = {t: _variables(t, f) for t, f in frames.items()}
    for subject in frames["subjects"].to_dict("records"):
        sid = str(subject["subject_id"])
        subject_el = ET.SubElement(clinical, _o("SubjectData"), {"SubjectKey": sid})
        event = ET.SubElement(subject_el, _o("StudyEventData"), {"StudyEventOID": "SE.SUBJECT"})
        form = ET.SubElement(event, _o("FormData"), {"FormOID": "F.SUBJECTS"})
        _item_group(form, "subjects", subject, variables["subjects"], None)
        for table in ("adverse_events", "gc_doses", "flares"):
            rows = by_subject.get(table, {}).get(sid)
            if rows is None or table not in frames:
                continue
            form = ET.SubElement(event, _o("FormData"), {"FormOID": _TABLES[table][0]})
            for n, row in enumerate(rows.to_dict("records")):
                _item_group(form, table, row, variables[table], n + 1)
        visits = by_subject["visits"].get(sid)
        for row in [] if visits is None else visits.sort_values("week").to_dict("records"):
            code = code_of.get(float(row["week"]))
            if code is None:
                continue
            visit = ET.SubElement(subject_el, _o("StudyEventData"), {"StudyEventOID": f"SE.{code}"})
            form = ET.SubElement(visit, _o("FormData"), {"FormOID": "F.VISITS"})
            _item_group(form, "visits", row, variables["visits"], None)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
