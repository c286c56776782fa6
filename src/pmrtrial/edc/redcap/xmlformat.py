"""REDCap's XML API format: writing what the API serves, and a hardened parser for imported records.

Pure (no Django, no files). The shapes are REDCap's (as its API documentation and PyCap use them):

- records, flat: ``<records><item><record_id>...</record_id><field>value</field>...</item></records>``;
  EAV: the same envelope, each item holding ``record``, ``redcap_event_name``,
  ``redcap_repeat_instrument``, ``redcap_repeat_instance``, ``field_name``, ``value``;
- metadata, instruments, events, arms, form-event mapping, repeating instruments, export field
  names: a list, in the same ``<records><item>...`` envelope, one element per key;
- project information: one ``<project>`` element with one element per key;
- import answers: ``<count>n</count>``, or ``<ids><id>...</id></ids>``;
- errors: ``<hash><error>message</error></hash>`` (PyCap recognises an error by ``<error>``).

Values are written as CDATA, as REDCap does. Imported XML is parsed with ``defusedxml`` (an
install requirement of the ``edc`` extra), which refuses any document type declaration: no entity
can be declared, so neither entity expansion (the "billion laughs") nor an external entity (a
local file, a URL) can be smuggled in. Every refusal is a :class:`XmlDataError` saying why.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeET

from pmrtrial.exceptions import DataError

__all__ = ["XmlDataError", "count_xml", "error_xml", "object_xml", "parse_records_xml", "records_xml", "values_xml"]

_DECLARATION = '<?xml version="1.0" encoding="UTF-8" ?>\n'
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
#: Characters XML 1.0 cannot carry at all (not even in CDATA).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class XmlDataError(DataError):
    """Imported XML that is malformed, hostile or not REDCap's records shape."""


def _tag(name: str) -> str:
    if not _NAME.match(name) or name.lower().startswith("xml"):
        raise ValueError(f"{name!r} is not a valid XML element name")
    return name


def _cdata(value: Any) -> str:
    text = "" if value is None else str(value)
    if _ILLEGAL.search(text):
        raise ValueError(f"value {text!r} holds a character XML 1.0 cannot carry")
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _item(row: Mapping[str, Any], keys: Iterable[str] | None, element: str = "item") -> str:
    names = list(keys) if keys is not None else list(row)
    inner = "".join(f"<{_tag(k)}>{_cdata(row.get(k))}</{k}>" for k in names)
    return f"<{element}>{inner}</{element}>"


def records_xml(rows: Iterable[Mapping[str, Any]], keys: Iterable[str] | None = None) -> str:
    """``<records><item>...</item></records>``: one item per row (``keys`` fixes the elements and their order)."""
    fixed = list(keys) if keys is not None else None
    body = "\n".join(_item(row, fixed) for row in rows)
    return f"{_DECLARATION}<records>\n{body}\n</records>\n" if body else f"{_DECLARATION}<records></records>\n"


def object_xml(root: str, values: Mapping[str, Any]) -> str:
    """One element ``root`` holding one element per key (REDCap's project information)."""
    return f"{_DECLARATION}{_item(values, None, _tag(root))}\n"


def count_xml(count: int) -> str:
    """REDCap's import answer ``<count>n</count>``."""
    return f"{_DECLARATION}<count>{int(count)}</count>\n"


def values_xml(root: str, element: str, values: Iterable[Any]) -> str:
    """``<root><element>value</element>...</root>`` (REDCap's ``<ids><id>...</id></ids>``)."""
    inner = "".join(f"<{_tag(element)}>{_cdata(v)}</{element}>" for v in values)
    return f"{_DECLARATION}<{_tag(root)}>{inner}</{root}>\n"


def error_xml(message: str) -> str:
    """REDCap's XML error document."""
    return f"{_DECLARATION}<hash>\n  <error>{_cdata(message)}</error>\n</hash>\n"


def parse_records_xml(text: str) -> list[dict[str, str]]:
    """Rows of a REDCap ``<records><item>...`` document (flat or EAV), refusing anything else.

    Raises
    ------
    XmlDataError
        A document type declaration or entity (refused outright: entity expansion and external
        entities), malformed XML (with line and column), a root other than ``records``, a child
        other than ``item``, a field element with child elements, or a field given twice in an item.
    """
    if not text.strip():
        raise XmlDataError("The XML data are empty; expected <records><item>...</item></records>.")
    try:
        root = SafeET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise XmlDataError(
            "The XML data declare a document type (<!DOCTYPE ...>), refused: entity declarations could expand "
            "without bound or read external files. Send <records><item>...</item></records> without a DTD."
        ) from None
    except defusedxml.EntitiesForbidden as exc:
        raise XmlDataError(
            f"The XML data declare the entity {exc.name!r}, refused (no entities are accepted)."
        ) from None
    except defusedxml.ExternalReferenceForbidden as exc:
        raise XmlDataError(f"The XML data refer to an external resource {exc.sysid!r}, refused.") from None
    except defusedxml.DefusedXmlException as exc:
        raise XmlDataError(f"The XML data are refused: {exc}.") from None
    except ET.ParseError as exc:
        raise XmlDataError(f"The XML data are not well-formed ({exc}; expat counts columns from 0).") from None
    if root.tag != "records":
        raise XmlDataError(f"The XML root element is <{root.tag}>; expected <records>.")
    rows: list[dict[str, str]] = []
    for n, item in enumerate(root, start=1):
        if item.tag != "item":
            raise XmlDataError(f"Element {n} of <records> is <{item.tag}>; expected <item>.")
        row: dict[str, str] = {}
        for field in item:
            if len(field):
                raise XmlDataError(f"<item> {n}, field <{field.tag}>: holds elements; expected a value.")
            if field.tag in row:
                raise XmlDataError(f"<item> {n}, field <{field.tag}>: given twice.")
            row[field.tag] = (field.text or "").strip()
        rows.append(row)
    return rows
