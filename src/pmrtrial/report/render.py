"""Render an analysis into ``report.html``, ``report.pdf``, ``report.docx`` and ``results.json``.

- HTML is self-contained: inline CSS, figures as base64 PNG, no external URL (no fonts, scripts or
  stylesheets fetched).
- PDF is rendered from the same HTML by WeasyPrint (needs the Debian packages libpango-1.0-0,
  libpangoft2-1.0-0, libharfbuzz0b and a font such as fonts-dejavu-core; libharfbuzz-subset0 is optional:
  without it WeasyPrint subsets fonts with fontTools and the engine string says so). When WeasyPrint cannot
  load, matplotlib's ``PdfPages`` writes a figures-and-tables PDF instead and the report says so.
- DOCX uses python-docx with real Word tables.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pmrtrial.analysis import AnalysisResult
from pmrtrial.io import write_json_atomic, write_text_atomic
from pmrtrial.io.files import csv_text
from pmrtrial.published import load_published
from pmrtrial.report.comparison import comparison_table
from pmrtrial.report.figures import SYNTHETIC_BANNER, render_figures
from pmrtrial.report.tables import Table, build_tables, collect_flags, fmt_p, primary_effects

__all__ = ["ReportFiles", "render_html", "write_derived_datasets", "write_report"]

_CSS = """
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; font-size: 10pt; margin: 2em; color: #222; }
h1 { font-size: 16pt; } h2 { font-size: 13pt; margin-top: 1.4em; }
h2, h3 { break-after: avoid; page-break-after: avoid; }
.keep { break-inside: avoid; page-break-inside: avoid; }
/* Journal three-line tables (booktabs): a rule above the header, one below it, one under the last row. */
table { border-collapse: collapse; margin: 0.6em 0; font-size: 8.5pt;
        border-top: 1.5pt solid #000; border-bottom: 1.5pt solid #000; }
th { border: none; border-bottom: 0.75pt solid #000; text-align: left; font-weight: bold; padding: 3px 6px; }
td { border: none; padding: 2px 6px; vertical-align: top; }
td.published { color: #555; font-style: italic; }
td.flag { background: #ffe3e0; font-weight: bold; }
td.flag::after { content: " ≠"; color: #b00020; }
.banner { background: #b00020; color: #fff; font-weight: bold; padding: 0.4em 0.8em; display: inline-block; }
.note { font-size: 8pt; color: #555; margin: 0.2em 0; }
.summary { font-size: 11pt; }
.warn { color: #8a4b00; }
figure { margin: 0.6em 0; break-inside: avoid; page-break-inside: avoid; }
/* Figures fit the page's content box (A4 landscape, 1.2 cm margins: 27.3 x 18.6 cm) with a heading and caption. */
img { max-width: 100%; max-height: 11cm; width: auto; height: auto; }
@media print { body { margin: 0; } }
@page { size: A4 landscape; margin: 1.2cm; }
"""


@dataclass(frozen=True)
class ReportFiles:
    out_dir: Path
    html: Path | None
    pdf: Path | None
    docx: Path | None
    json: Path
    pdf_engine: str | None
    flags: tuple[Mapping[str, Any], ...]
    derived: tuple[Path, ...] = ()


def write_derived_datasets(result: AnalysisResult, out_dir: str | os.PathLike[str]) -> tuple[Path, ...]:
    """Write ``derived/<endpoint id>.csv``: the analysis dataset of every endpoint (double programming).

    Binary and continuous: ``subject_id, site_id, arm, visit, value`` (binary 1/0, empty = not
    evaluable); time to event: ``subject_id, site_id, arm, time_days, event`` (1 = event, 0 = censored).
    """
    folder = Path(out_dir) / "derived"
    written = []
    for endpoint_id, frame in result.derived_datasets.items():
        binary = any(e.id == endpoint_id and e.type == "binary" for e in result.endpoints)
        text = csv_text(frame, integer_columns=("value",) if binary else ())
        written.append(write_text_atomic(folder / f"{endpoint_id}.csv", text))
    return tuple(written)


def _title(result: AnalysisResult) -> str:
    base = f"{result.protocol_id.upper()} analysis report (protocol v{result.protocol_version})"
    return f"{SYNTHETIC_BANNER}: {base}" if result.synthetic else base


#: Tables with at most this many rows are kept on one page with their title; longer ones break between rows.
_KEEP_ROWS = 18
_TABLE_NUMBER = re.compile(r"^Table \d+\.\s*")


def _table_html(t: Table, number: int) -> str:
    keep = ' class="keep"' if len(t.rows) <= _KEEP_ROWS else ""
    title = f"Table {number}. {_TABLE_NUMBER.sub('', t.title)}"
    # the header row in <thead>: a table broken across pages repeats it on every page (WeasyPrint, browsers)
    out = [f"<div{keep}>", f"<h3>{html.escape(title)}</h3>", "<table>", "<thead><tr>"]
    out += [f"<th>{html.escape(h)}</th>" for h in t.header]
    out.append("</tr></thead><tbody>")
    for row in t.rows:
        out.append("<tr>")
        for cell in row:
            cls = "flag" if cell.flag else ("published" if cell.published else "")
            title = f' title="{html.escape(cell.note)}"' if cell.note else ""
            out.append(f'<td class="{cls}"{title}>{html.escape(cell.text)}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    out += [f'<p class="note">{html.escape(n)}</p>' for n in t.notes]
    out.append("</div>")
    return "\n".join(out)


_FIGURE_NUMBER = re.compile(r"^Figure \d+\.\s*")


def _figure_html(caption: str, png: bytes, number: int) -> str:
    text = f"Figure {number}. {_FIGURE_NUMBER.sub('', caption)}"
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(text)}" src="data:image/png;base64,{data}">'
        f"<figcaption class='note'>{html.escape(text)}</figcaption></figure>"
    )


def compared_cells(tables: Sequence[Table]) -> int:
    """Reproduced cells checked against a published value (the denominator of the page-1 agreement line)."""
    return sum(1 for t in tables if t.id != "published_methods" for row in t.rows for cell in row if cell.compared)


def _primary_line(result: AnalysisResult) -> str:
    pr = result.primary
    t, c = pr.treated_arm, pr.control_arm
    rt, rc = pr.responders[t], pr.responders[c]
    labels = {str(a["id"]): str(a["label"]) for a in result.arms}
    effect = "".join(f"; {html.escape(text)}" for text in primary_effects(result))
    p = pr.fisher.to_dict().get("p")
    ptext = "" if p is None else f"; Fisher exact p = {fmt_p(p)}"
    return (
        f"Primary endpoint ({html.escape(pr.label)}, {html.escape(pr.visit)}): {html.escape(labels.get(t, t))} "
        f"{rt['events']}/{rt['n']} vs {html.escape(labels.get(c, c))} {rc['events']}/{rc['n']}{effect}{ptext}."
    )


def render_html(
    result: AnalysisResult,
    tables: Sequence[Table],
    figures: Mapping[str, tuple[str, bytes]],
    *,
    flags: Sequence[Mapping[str, Any]] = (),
    pdf_note: str | None = None,
) -> str:
    """The self-contained HTML report."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(_title(result))}</title>",
        f"<style>{_CSS}</style></head><body>",
    ]
    if result.synthetic:
        parts.append(f'<p class="banner">{SYNTHETIC_BANNER}</p>')
    parts.append(f"<h1>{html.escape(_title(result))}</h1>")
    parts.append(
        f'<p class="note">Generated {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")} by pmrtrial '
        f"{html.escape(result.software.get('pmrtrial', ''))}. Every number is also in results.json.</p>"
    )
    parts.append(f'<p class="summary">{_primary_line(result)}</p>')
    if result.synthetic:
        compared = compared_cells(tables)
        agreement = (
            f"<b>Published vs reproduced: {compared - len(flags)} of {compared} compared cells agree within the "
            f"printed precision; {len(flags)} differ" + (" (listed in Appendix A).</b>" if flags else ".</b>")
        )
        parts.append(f'<p class="summary">{agreement}</p>')
        parts.append(
            "<p>These data are the synthetic twin built from the published aggregates. Every table shows the "
            "published value beside the reproduced one; cells that differ beyond the printed precision are "
            "highlighted (≠).</p>"
        )
    by_id = {t.id: t for t in tables}
    sections = [
        ("Published beside reproduced", ["published_comparison"], []),
        ("Participant flow", ["consort"], ["consort"]),
        ("Baseline characteristics", ["baseline"], []),
        ("Primary endpoint", ["primary", "primary_sensitivity"], ["primary_forest", "centre_forest"]),
        ("Response over time", ["visit_states"], ["trajectory", "states"]),
        ("Secondary endpoints", ["secondary"], ["forest"]),
        ("Further endpoints", ["endpoints"], [f for f in figures if f.startswith("km_")] + ["cumulative_gc"]),
        ("Safety", ["adverse_events"], []),
        ("Sample size", ["sample_size"], []),
        ("Reproducing the published secondary effects", ["published_methods"], []),
    ]
    n_table = n_figure = 0
    for title, table_ids, figure_ids in sections:
        present = [by_id[i] for i in table_ids if i in by_id]
        shown = [f for f in figure_ids if f in figures]
        if not present and not shown:
            continue
        # Short tables first, then figures, then long tables: a section opens with what fits beside its heading.
        short = [t for t in present if len(t.rows) <= _KEEP_ROWS]
        long = [t for t in present if len(t.rows) > _KEEP_ROWS]
        blocks = []
        for t in short:
            n_table += 1
            blocks.append(_table_html(t, n_table))
        for fid in shown:
            n_figure += 1
            blocks.append(_figure_html(*figures[fid], n_figure))
        for t in long:
            n_table += 1
            blocks.append(_table_html(t, n_table))
        # The heading travels with its first block (a figure, or a table's title and first rows): never alone at
        # the bottom of a page. A figure or short table is kept whole with it; a long table breaks between rows.
        first_is_long_table = not short and not shown
        if first_is_long_table:
            parts.append(f"<h2>{html.escape(title)}</h2>")
            parts.extend(blocks)
        else:
            parts.append(f'<div class="keep"><h2>{html.escape(title)}</h2>{blocks[0]}</div>')
            parts.extend(blocks[1:])
    parts.append("<h2>Methods and warnings</h2><h3>Methods</h3><ul>")
    parts += [f"<li>{html.escape(m)}</li>" for m in result.methods]
    parts.append("</ul>")
    if pdf_note:
        parts.append(f'<p class="note">{html.escape(pdf_note)}</p>')
    parts.append(f"<h3>Warnings ({len(result.warnings)})</h3><ul>")
    parts += [f'<li class="warn">{html.escape(w)}</li>' for w in result.warnings] or ["<li>none</li>"]
    parts.append("</ul>")
    parts.append("<h3>Software</h3><p class='note'>")
    parts.append(", ".join(f"{html.escape(k)} {html.escape(str(v))}" for k, v in result.software.items()))
    parts.append("</p>")
    if flags:
        parts.append('<div class="keep"><h2>Appendix A. Cells differing from the published values</h2>')
        parts.append("<table><tr><th>Table</th><th>Row</th><th>Column</th><th>Reproduced</th><th>Why</th></tr>")
        parts += [
            f"<tr><td>{html.escape(_TABLE_NUMBER.sub('', str(f.get('title') or f['table'])))}</td>"
            f"<td>{html.escape(str(f['row']))}</td>"
            f"<td>{html.escape(str(f['column']))}</td><td>{html.escape(str(f['value']))}</td>"
            f"<td>{html.escape(str(f.get('note') or ''))}</td></tr>"
            for f in flags
        ]
        parts.append("</table></div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _three_line(table: Any) -> None:
    """Journal three-line borders on a python-docx table: heavy rules above and below, a thin one under the header."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def borders(parent: Any, tag: str, rules: Mapping[str, int]) -> None:
        element = OxmlElement(tag)
        for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
            edge = OxmlElement(f"w:{side}")
            size = rules.get(side, 0)
            edge.set(qn("w:val"), "single" if size else "nil")
            if size:
                edge.set(qn("w:sz"), str(size))
                edge.set(qn("w:color"), "000000")
            element.append(edge)
        parent.append(element)

    borders(table._tbl.tblPr, "w:tblBorders", {"top": 12, "bottom": 12})
    for cell in table.rows[0].cells:
        borders(cell._tc.get_or_add_tcPr(), "w:tcBorders", {"top": 12, "bottom": 6})


_WORD_RUN_BREAK = re.compile(r"(\t|\r|\n)")


def _word_run(text: str) -> str:
    """The content of a ``w:r`` holding ``text``, as python-docx's ``run.text = text`` writes it: a tab is a
    ``w:tab``, a line end a ``w:br``, text with outer spaces keeps them (``xml:space="preserve"``)."""
    out = []
    for piece in _WORD_RUN_BREAK.split(text):
        if piece == "\t":
            out.append("<w:tab/>")
        elif piece in ("\r", "\n"):
            out.append("<w:br/>")
        elif piece:
            space = ' xml:space="preserve"' if len(piece.strip()) < len(piece) else ""
            out.append(f"<w:t{space}>{html.escape(piece, quote=False)}</w:t>")
    return "".join(out)


def _add_rows(table: Any, rows: Sequence[Sequence[str]]) -> None:
    """Append ``rows`` of cell texts to a python-docx table made with ``add_table(rows=0, cols=...)``.

    The XML is what ``table.add_row()`` and ``cell.text = ...`` write (every cell as wide as its grid column, one
    paragraph with one run; a cell left out of a short row keeps an empty paragraph), built as one string and
    parsed once: a third of the CPU of the object API for the report's ~1,000 cells.
    """
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn

    widths = [int(col.get(qn("w:w"))) for col in table._tbl.tblGrid.gridCol_lst]
    trs = []
    for row in rows:
        cells = [f"<w:p><w:r>{_word_run(text)}</w:r></w:p>" for text in row[: len(widths)]]
        cells += ["<w:p/>"] * (len(widths) - len(cells))
        tcs = "".join(
            f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr>{cell}</w:tc>'
            for width, cell in zip(widths, cells, strict=True)
        )
        trs.append(f"<w:tr>{tcs}</w:tr>")
    for tr in parse_xml(f"<w:tbl {nsdecls('w')}>{''.join(trs)}</w:tbl>"):
        table._tbl.append(tr)


def _write_docx(
    path: Path, result: AnalysisResult, tables: Sequence[Table], figures: Mapping[str, tuple[str, bytes]]
) -> Path:
    from docx import Document
    from docx.shared import Inches, RGBColor

    doc = Document()
    doc.add_heading(_title(result), level=0)
    if result.synthetic:
        run = doc.add_paragraph().add_run(SYNTHETIC_BANNER)
        run.bold = True
        run.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
    for number, (caption, png) in enumerate(figures.values(), start=1):
        doc.add_picture(io.BytesIO(png), width=Inches(6.0))
        doc.add_paragraph().add_run(f"Figure {number}. {_FIGURE_NUMBER.sub('', caption)}").italic = True
    for number, t in enumerate(tables, start=1):
        doc.add_heading(f"Table {number}. {_TABLE_NUMBER.sub('', t.title)}", level=2)
        table = doc.add_table(rows=0, cols=len(t.header))
        texts = [list(t.header), *([cell.text + (" ≠" if cell.flag else "") for cell in row] for row in t.rows)]
        _add_rows(table, texts)
        _three_line(table)
        for n in t.notes:
            doc.add_paragraph(n)
    doc.add_heading("Methods and warnings", level=1)
    for m in result.methods:
        doc.add_paragraph(m, style="List Bullet")
    for w in result.warnings:
        doc.add_paragraph(w, style="List Bullet")
    tmp = path.with_name(f".{path.name}.tmp")
    doc.save(str(tmp))
    os.replace(tmp, path)
    return path


def _import_weasyprint() -> Any:
    """Import WeasyPrint without its notice that HarfBuzz-Subset (an optional Debian library) is absent.

    WeasyPrint then subsets fonts with fontTools; the PDF is the same document. The engine string in the
    report says which subsetter ran (see ``_FontSubsetNotice``), so nothing is hidden from the reader.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset will be required", category=DeprecationWarning)
        import weasyprint
    return weasyprint


class _FontSubsetNotice(logging.Filter):
    """Swallow WeasyPrint's per-font "Using fontTools instead of HarfBuzz-Subset" log line, remembering it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = False

    def filter(self, record: logging.LogRecord) -> bool:
        if "instead of HarfBuzz-Subset" in record.getMessage():
            self.seen = True
            return False
        return True


def _write_pdf(
    path: Path,
    html_text: str,
    result: AnalysisResult,
    tables: Sequence[Table],
    figures: Mapping[str, tuple[str, bytes]],
) -> str:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        weasyprint = _import_weasyprint()
        subsetter = _FontSubsetNotice()
        logger = logging.getLogger("weasyprint")
        logger.addFilter(subsetter)
        try:
            weasyprint.HTML(string=html_text).write_pdf(str(tmp))
        finally:
            logger.removeFilter(subsetter)
        os.replace(tmp, path)
        engine = f"weasyprint {weasyprint.__version__}"
        if subsetter.seen:
            engine += " (fonts subset by fontTools: the optional HarfBuzz-Subset library is absent)"
        return engine
    except (ImportError, OSError):
        pass
    # Fallback: figures and tables as matplotlib pages (documented in the module docstring).
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    with PdfPages(str(tmp)) as pdf:
        for caption, png in figures.values():
            fig = Figure(figsize=(11.7, 8.3))
            ax = fig.add_axes((0.02, 0.06, 0.96, 0.88))
            ax.imshow(imread(io.BytesIO(png), format="png"))
            ax.axis("off")
            fig.text(0.02, 0.02, caption, fontsize=9)
            fig.text(0.02, 0.97, _title(result), fontsize=10)
            pdf.savefig(fig)
        for t in tables:
            fig = Figure(figsize=(11.7, 8.3))
            fig.text(0.02, 0.97, t.title, fontsize=10, va="top")
            lines = [" | ".join(t.header)] + [
                " | ".join(c.text + (" ≠" if c.flag else "") for c in row) for row in t.rows
            ]
            fig.text(0.02, 0.93, "\n".join(lines[:60]), fontsize=6, va="top", family="monospace")
            pdf.savefig(fig)
    os.replace(tmp, path)
    return "matplotlib PdfPages (fallback: weasyprint unavailable)"


def write_report(
    result: AnalysisResult,
    out_dir: str | os.PathLike[str],
    *,
    published: Mapping[str, Any] | None = None,
    formats: Sequence[str] = ("html", "pdf", "docx"),
    enrolment: Mapping[str, Any] | None = None,
) -> ReportFiles:
    """Write ``results.json`` and the requested report formats into ``out_dir``.

    ``published`` defaults to the bundled BACHELOR aggregates when the data are synthetic and the
    protocol is BACHELOR; with real data no published column is shown. ``enrolment`` (assessed for eligibility,
    excluded with reasons; from the EDC's screening summary) adds the CONSORT enrolment stage and goes to
    ``results.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if published is None and result.synthetic and result.protocol_id == "bachelor":
        published = load_published("bachelor")
    tables = build_tables(result, published if result.synthetic else None)
    if result.synthetic:  # comparator twins (SEMAPHORE, SAPHYR): published beside reproduced
        compared = comparison_table(result)
        if compared is not None:
            tables = (*tables, compared)
    flags = collect_flags(tables)
    figures = render_figures(result, enrolment)
    payload = result.to_dict()
    if enrolment is not None:
        payload["enrolment"] = dict(enrolment)
    payload["report"] = {
        "synthetic": result.synthetic,
        "published_comparison": bool(published and result.synthetic)
        or any(t.id == "published_comparison" for t in tables),
        "flags": flags,
    }
    json_path = write_json_atomic(out / "results.json", payload)
    derived = write_derived_datasets(result, out)
    html_path = pdf_path = docx_path = None
    engine = None
    html_text = render_html(result, tables, figures, flags=flags)
    if "html" in formats:
        html_path = write_text_atomic(out / "report.html", html_text)
    if "pdf" in formats:
        pdf_path = out / "report.pdf"
        engine = _write_pdf(pdf_path, html_text, result, tables, figures)
    if "docx" in formats:
        docx_path = _write_docx(out / "report.docx", result, tables, figures)
    for path in (json_path, html_path, pdf_path, docx_path, *derived):
        if path is not None:
            path.chmod(0o644)  # temporary files are created private; reports are meant to be shared
    return ReportFiles(out, html_path, pdf_path, docx_path, json_path, engine, tuple(flags), derived)
