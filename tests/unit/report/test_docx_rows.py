"""DOCX table rows built as one XML string are the XML python-docx's own API writes (the reference)."""

from __future__ import annotations

import pytest

docx = pytest.importorskip("docx")

from pmrtrial.report.render import _add_rows  # noqa: E402

ROWS = [
    ["Endpoint", "Baricitinib", "Placebo", "p"],
    ["CRP <= 10 & no GC", "14/18 (77.8%)", "2/15 (13.3%)", "<0.001"],
    ["  leading and trailing  ", "tab\there", "two\nlines", ""],
    ["carriage\r\nreturn", "≠ flag ≠", "quotes \"x\" 'y'", "<b>not markup</b>"],
    ["short row"],
]


def _reference(document, cols: int):
    table = document.add_table(rows=1, cols=cols)
    for j, text in enumerate(ROWS[0]):
        table.rows[0].cells[j].text = text
    for row in ROWS[1:]:
        cells = table.add_row().cells
        for j, text in enumerate(row):
            cells[j].text = text
    return table


def test_rows_are_the_xml_of_add_row_and_cell_text() -> None:
    document = docx.Document()
    reference = _reference(document, 4)
    ours = document.add_table(rows=0, cols=4)
    _add_rows(ours, ROWS)
    # the tables differ only in being two tables: compare their rows and grid, serialised
    assert ours._tbl.xml == reference._tbl.xml
    assert [c.text for c in ours.rows[2].cells] == ["  leading and trailing  ", "tab\there", "two\nlines", ""]
