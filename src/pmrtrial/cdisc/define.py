"""define.xml 2.1 and Dataset-JSON 1.1 documents built from a :class:`~pmrtrial.cdisc.model.CdiscPackage`.

Both are pure: :func:`dataset_json` returns a dict and :func:`define_xml` a string; the files are
written by :mod:`pmrtrial.io.cdisc`. Item OIDs are shared (``IT.<DATASET>.<VARIABLE>``), so a
Dataset-JSON column points at its define.xml ItemDef.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
from typing import Any, Literal

import pandas as pd

from pmrtrial.cdisc.model import CdiscPackage, DatasetMeta, VariableMeta
from pmrtrial.protocol import Protocol
from pmrtrial.vocabulary import get_variable

__all__ = ["DEF_NS", "ODM_NS", "XLINK_NS", "dataset_json", "define_xml", "item_oid"]

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

_JSON_TYPE = {"text": "string", "integer": "integer", "float": "double", "isodate": "date", "sasdate": "date"}
_DEFINE_TYPE = {"text": "text", "integer": "integer", "float": "float", "isodate": "date", "sasdate": "integer"}


def item_oid(dataset: str, variable: str) -> str:
    return f"IT.{dataset}.{variable}"


def _cell(value: Any, var: VariableMeta) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if var.type == "text":
        return str(value)
    if var.type == "isodate":
        return str(value) if value != "" else None
    if var.type == "sasdate":
        return pd.Timestamp(value).date().isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if var.type == "integer":
        return int(value)
    return float(value)


def dataset_json(
    package: CdiscPackage,
    name: str,
    *,
    created: dt.datetime,
    source_version: str,
    originator: str = "pmrtrial",
) -> dict[str, Any]:
    """The Dataset-JSON v1.1 document of one dataset (``rows`` as lists in column order)."""
    meta = package.metadata[name]
    frame = package.datasets[name]
    columns = []
    for var in meta.variables:
        col: dict[str, Any] = {
            "itemOID": item_oid(name, var.name),
            "name": var.name,
            "label": var.label,
            "dataType": _JSON_TYPE[var.type],
        }
        if var.type == "text":
            col["length"] = package.text_length(name, var.name)
        if var.type == "sasdate":
            col["targetDataType"] = "integer"
            col["displayFormat"] = "DATE9."
        if var.name in meta.keys:
            col["keySequence"] = meta.keys.index(var.name) + 1
        columns.append(col)
    rows = [
        [_cell(value, var) for value, var in zip(record, meta.variables, strict=True)]
        for record in frame.itertuples(index=False, name=None)
    ]
    stamp = created.replace(microsecond=0).isoformat()
    return {
        "datasetJSONCreationDateTime": stamp,
        "datasetJSONVersion": "1.1.0",
        "fileOID": f"pmrtrial/{package.study_id}/{name.lower()}",
        "dbLastModifiedDateTime": stamp,
        "originator": originator,
        "sourceSystem": {"name": "pmrtrial", "version": source_version},
        "studyOID": f"STDY.{package.study_id}",
        "metaDataVersionOID": f"MDV.{package.study_id}",
        "metaDataRef": "define.xml",
        "itemGroupOID": f"IG.{name}",
        "records": len(rows),
        "name": name,
        "label": meta.label,
        "columns": columns,
        "rows": rows,
    }


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    el = ET.SubElement(parent, tag)
    tt = ET.SubElement(el, f"{{{ODM_NS}}}TranslatedText", {XML_LANG: "en"})
    tt.text = text
    return el


def _o(tag: str) -> str:
    return f"{{{ODM_NS}}}{tag}"


def _d(tag: str) -> str:
    return f"{{{DEF_NS}}}{tag}"


def _item_def(
    mdv: ET.Element, oid: str, var: VariableMeta, length: int | None, description: str, comment: str | None
) -> None:
    attrs = {"OID": oid, "Name": var.name, "DataType": _DEFINE_TYPE[var.type], "SASFieldName": var.name}
    if length is not None:
        attrs["Length"] = str(length)
    if var.type == "sasdate":
        attrs[_d("DisplayFormat")] = "DATE9."
    if comment:
        attrs[_d("CommentOID")] = comment
    item = ET.SubElement(mdv, _o("ItemDef"), attrs)
    _text(item, _o("Description"), description)
    if var.codelist:
        ET.SubElement(item, _o("CodeListRef"), {"CodeListOID": f"CL.{var.codelist}"})
    origin_attrs: dict[str, str] = {"Type": var.origin}
    if var.origin == "Collected":
        origin_attrs["Source"] = "Investigator"
    elif var.origin in ("Assigned", "Protocol", "Derived"):
        origin_attrs["Source"] = "Sponsor"
    origin = ET.SubElement(item, _d("Origin"), origin_attrs)
    if var.origin == "Predecessor" and var.source:
        _text(origin, _o("Description"), var.source)


def define_xml(
    package: CdiscPackage,
    protocol: Protocol,
    *,
    kind: Literal["SDTM", "ADaM"],
    created: dt.datetime,
    source_version: str,
    file_suffix: str = ".xpt",
) -> str:
    """define.xml 2.1 of an SDTM or ADaM package (one define.xml per standard, as submitted).

    Datasets, variables (with origins and
    derivation comments), codelists and value-level metadata (one where-clause per PARAMCD/TESTCD
    in ``package.value_level``) are included.
    """
    ET.register_namespace("", ODM_NS)
    ET.register_namespace("def", DEF_NS)
    ET.register_namespace("xlink", XLINK_NS)
    study_id = package.study_id
    root = ET.Element(
        _o("ODM"),
        {
            "ODMVersion": "1.3.2",
            "FileType": "Snapshot",
            "FileOID": f"DEF.{study_id}",
            "CreationDateTime": created.replace(microsecond=0).isoformat(),
            "Originator": "pmrtrial",
            "SourceSystem": "pmrtrial",
            "SourceSystemVersion": source_version,
            _d("Context"): "Submission",
        },
    )
    study = ET.SubElement(root, _o("Study"), {"OID": f"STDY.{study_id}"})
    gv = ET.SubElement(study, _o("GlobalVariables"))
    ET.SubElement(gv, _o("StudyName")).text = protocol.short_title
    ET.SubElement(gv, _o("StudyDescription")).text = protocol.title
    ET.SubElement(gv, _o("ProtocolName")).text = f"{protocol.id} v{protocol.version}"
    standard_name = {"SDTM": ("SDTMIG", "3.4", "Tabulation"), "ADaM": ("ADaMIG", "1.3", "Analysis")}
    ig_name, ig_version, purpose = standard_name[kind]
    mdv = ET.SubElement(
        study,
        _o("MetaDataVersion"),
        {"OID": f"MDV.{study_id}", "Name": f"{protocol.short_title} {kind}", _d("DefineVersion"): "2.1.0"},
    )
    standards = ET.SubElement(mdv, _d("Standards"))
    ET.SubElement(
        standards,
        _d("Standard"),
        {"OID": "STD.IG", "Name": ig_name, "Type": "IG", "Version": ig_version, "Status": "Final"},
    )
    ET.SubElement(
        standards,
        _d("Standard"),
        {
            "OID": "STD.CT",
            "Name": "CDISC/NCI",
            "Type": "CT",
            "PublishingSet": kind,
            "Version": "2024-03-29",
            "Status": "Final",
        },
    )
    _metadata_version(mdv, package, purpose, file_suffix)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


_CANONICAL_REF = re.compile(r"\b(subjects|visits|adverse_events|gc_doses|flares)\.([a-z0-9_]+)|^([a-z][a-z0-9_]*)$")


def _canonical_note(source: str) -> str:
    """The vocabulary's description and unit of the canonical variable a source names (``visits.crp_mg_l``)."""
    match = _CANONICAL_REF.search(source)
    if match is None:
        return ""
    table, name = (match.group(1), match.group(2)) if match.group(1) else (None, match.group(3))
    try:
        var = get_variable(name, table)
    except KeyError:
        return ""
    unit = f", {var.unit}" if var.unit not in ("-", "") else ""
    return f" (pmrtrial {var.table}.{var.name}: {var.description}{unit})"


def _vlm_target(meta: DatasetMeta) -> tuple[str, str] | None:
    """(variable the value list describes, variable of the where-clause) of a findings/BDS dataset."""
    names = {v.name for v in meta.variables}
    if "PARAMCD" in names and "AVAL" in names:
        return "AVAL", "PARAMCD"
    testcd = f"{meta.name}TESTCD"
    if testcd in names:
        return f"{meta.name}STRESN", testcd
    return None


def _metadata_version(mdv: ET.Element, package: CdiscPackage, purpose: str, suffix: str) -> None:
    vlm: dict[str, list[tuple[str, str]]] = {}
    for name, meta in package.metadata.items():
        target = _vlm_target(meta)
        levels = package.value_level.get(name, {})
        if target is None or not levels:
            continue
        described, where = target
        present = set(package.datasets[name][where])
        vlm[name] = [(code, text) for code, text in levels.items() if code in present]
        vl = ET.SubElement(mdv, _d("ValueListDef"), {"OID": f"VL.{name}.{described}"})
        for i, (code, _) in enumerate(vlm[name]):
            ref = ET.SubElement(
                vl,
                _o("ItemRef"),
                {"ItemOID": f"{item_oid(name, described)}.{code}", "OrderNumber": str(i + 1), "Mandatory": "No"},
            )
            ET.SubElement(ref, _d("WhereClauseRef"), {"WhereClauseOID": f"WC.{name}.{where}.{code}"})
    for name, entries in vlm.items():
        target = _vlm_target(package.metadata[name])
        assert target is not None
        for code, _ in entries:
            wc = ET.SubElement(mdv, _d("WhereClauseDef"), {"OID": f"WC.{name}.{target[1]}.{code}"})
            check = ET.SubElement(
                wc, _o("RangeCheck"), {"SoftHard": "Soft", _d("ItemOID"): item_oid(name, target[1]), "Comparator": "EQ"}
            )
            ET.SubElement(check, _o("CheckValue")).text = code
    comments: list[tuple[str, str]] = []
    for name, meta in package.metadata.items():
        group = ET.SubElement(
            mdv,
            _o("ItemGroupDef"),
            {
                "OID": f"IG.{name}",
                "Name": name,
                "SASDatasetName": name,
                "Repeating": "No" if meta.structure.startswith("One record per subject") else "Yes",
                "IsReferenceData": "Yes" if meta.cdisc_class == "TRIAL DESIGN" else "No",
                "Purpose": purpose,
                _d("Structure"): meta.structure,
                _d("StandardOID"): "STD.IG",
                _d("ArchiveLocationID"): f"LF.{name}",
                **({"Domain": name} if not meta.is_adam else {}),
            },
        )
        _text(group, _o("Description"), meta.label)
        for i, var in enumerate(meta.variables):
            attrs = {
                "ItemOID": item_oid(name, var.name),
                "OrderNumber": str(i + 1),
                "Mandatory": "Yes" if var.required else "No",
            }
            if var.name in meta.keys:
                attrs["KeySequence"] = str(meta.keys.index(var.name) + 1)
            if var.origin == "Derived":
                attrs["MethodOID"] = f"MT.{name}.{var.name}"
            ET.SubElement(group, _o("ItemRef"), attrs)
        ET.SubElement(group, _d("Class"), {"Name": meta.cdisc_class})
        leaf = ET.SubElement(group, _d("leaf"), {"ID": f"LF.{name}", f"{{{XLINK_NS}}}href": f"{name.lower()}{suffix}"})
        ET.SubElement(leaf, _d("title")).text = f"{name.lower()}{suffix}"
    methods: list[tuple[str, str]] = []
    for name, meta in package.metadata.items():
        for var in meta.variables:
            length = package.text_length(name, var.name) if var.type == "text" else (8 if var.numeric else None)
            comment = None
            if var.source and var.origin != "Predecessor":
                comment = f"COM.{name}.{var.name}"
                comments.append((comment, f"Source: {var.source}{_canonical_note(var.source)}"))
            _item_def(mdv, item_oid(name, var.name), var, length, var.label, comment)
            if var.origin == "Derived":
                methods.append((f"MT.{name}.{var.name}", var.source or f"{var.label}: derived by pmrtrial"))
            target = _vlm_target(meta)
            if target is not None and var.name == target[0] and name in vlm:
                item = mdv.findall(_o("ItemDef"))[-1]
                ET.SubElement(item, _d("ValueListRef"), {"ValueListOID": f"VL.{name}.{var.name}"})
                for code, text in vlm[name]:
                    _item_def(mdv, f"{item_oid(name, var.name)}.{code}", var, length, text[:1000], None)
    used = {v.codelist for meta in package.metadata.values() for v in meta.variables if v.codelist}
    for codelist in (c for c in package.codelists.values() if c.id in used):
        cl = ET.SubElement(
            mdv, _o("CodeList"), {"OID": f"CL.{codelist.id}", "Name": codelist.name, "DataType": codelist.data_type}
        )
        decoded = any(decode and decode != code for code, decode in codelist.terms.items())
        for i, (code, decode) in enumerate(codelist.terms.items()):
            if decoded:
                item = ET.SubElement(cl, _o("CodeListItem"), {"CodedValue": code, "OrderNumber": str(i + 1)})
                _text(item, _o("Decode"), decode or code)
            else:
                ET.SubElement(cl, _o("EnumeratedItem"), {"CodedValue": code, "OrderNumber": str(i + 1)})
    for oid, text in methods:
        method = ET.SubElement(
            mdv, _o("MethodDef"), {"OID": oid, "Name": oid.removeprefix("MT."), "Type": "Computation"}
        )
        _text(method, _o("Description"), text)
    for oid, text in comments:
        comment_el = ET.SubElement(mdv, _d("CommentDef"), {"OID": oid})
        _text(comment_el, _o("Description"), text)
