"""REDCap files: write a project's dictionary and event files; import a REDCap export into canonical datasets.

Adapter (reads and writes files); the mapping itself is pure (:mod:`.dictionary`, :mod:`.records`).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pmrtrial.edc.redcap.dictionary import Lang, RedcapProject, build_project
from pmrtrial.edc.redcap.records import RedcapImport, RedcapImportError, eav_to_flat, read_records
from pmrtrial.exceptions import DataError
from pmrtrial.io.datasets import write_datasets
from pmrtrial.io.files import write_text_atomic
from pmrtrial.protocol import Protocol

__all__ = ["csv_text", "import_redcap", "read_csv_rows", "write_project_files"]


def csv_text(rows: Sequence[Sequence[str]]) -> str:
    """CSV as REDCap writes it: every field quoted, CRLF-free newlines, UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue()


def read_csv_rows(path: str | os.PathLike[str]) -> list[list[str]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return [list(row) for row in csv.reader(handle)]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"Cannot read {path}: {exc}") from None


def _dicts(rows: list[list[str]]) -> list[dict[str, Any]]:
    if not rows:
        return []
    header = rows[0]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def write_project_files(protocol: Protocol, out: str | os.PathLike[str], *, lang: Lang = "en") -> list[Path]:
    """``out`` (the data dictionary) plus ``<stem>_arms.csv``, ``_events.csv``, ``_instrument_event_mapping.csv``
    and ``_repeating_instruments.csv`` beside it (REDCap's import formats for a longitudinal project)."""
    project: RedcapProject = build_project(protocol, lang=lang)
    target = Path(out)
    stem = target.with_suffix("")
    files = {
        target: project.dictionary_rows(),
        Path(f"{stem}_arms.csv"): project.arms_rows(),
        Path(f"{stem}_events.csv"): project.events_rows(),
        Path(f"{stem}_instrument_event_mapping.csv"): project.mapping_rows(),
        Path(f"{stem}_repeating_instruments.csv"): project.repeating_rows(),
    }
    return [write_text_atomic(path, csv_text(rows)) for path, rows in files.items()]


def _events(path: str | os.PathLike[str], project: RedcapProject) -> dict[str, float]:
    """unique_event_name -> protocol week, from a REDCap events CSV (days offsets or our own event names)."""
    weeks = project.week_of_event
    out: dict[str, float] = {}
    for row in _dicts(read_csv_rows(path)):
        name = (row.get("unique_event_name") or "").strip()
        if not name:
            raise DataError(f"{path}: a row has no unique_event_name.")
        if name in weeks:
            out[name] = weeks[name]
            continue
        offset = (row.get("day_offset") or "").strip()
        by_day = {day: week for _u, _l, week, day in project.events}
        try:
            out[name] = by_day[int(float(offset))]
        except (ValueError, KeyError):
            raise DataError(
                f"{path}: event {name!r} is not a protocol visit (day_offset {offset!r} matches no visit day)."
            ) from None
    return out


def import_redcap(
    *,
    dictionary: str | os.PathLike[str],
    records: str | os.PathLike[str],
    protocol: Protocol,
    out: str | os.PathLike[str],
    events: str | os.PathLike[str] | None = None,
) -> RedcapImport:
    """Canonical datasets in ``out`` from a REDCap export (flat or EAV; CSV, or REDCap XML when the file
    name ends in ``.xml``); nothing written on any problem. The manifest records how many questionnaire
    scores were computed from items and how many were taken as supplied without items."""
    project = build_project(protocol)
    dictionary_rows = read_csv_rows(dictionary)
    rows = _read_records(records)
    if rows and "field_name" in rows[0] and "value" in rows[0]:
        rows = eav_to_flat(rows)
    event_weeks = _events(events, project) if events is not None else None
    result = read_records(project, rows, protocol, dictionary=dictionary_rows, events=event_weeks)
    data = result.datasets
    write_datasets(
        out,
        data.subjects,
        data.visits,
        data.adverse_events,
        protocol=protocol,
        manifest={
            "source": "REDCap import",
            "protocol": {"id": protocol.id, "version": protocol.version},
            "questionnaire_scores": {
                "computed_from_items": len(result.scores_from_items),
                "supplied_without_items": len(result.scores_without_items),
            },
        },
    )
    return result


def _read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    if str(path).lower().endswith(".xml"):
        from pmrtrial.edc.redcap.xmlformat import XmlDataError, parse_records_xml

        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"Cannot read {path}: {exc}") from None
        try:
            return list(parse_records_xml(text))
        except XmlDataError as exc:
            raise DataError(f"{path}: {exc}") from None
    return _dicts(read_csv_rows(path))


__all__ += ["RedcapImportError"]
