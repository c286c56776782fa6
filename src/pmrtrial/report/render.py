"""Render an analysis into ``report.html``, ``report.pdf``, ``report.docx`` and ``results.json``.

- HTML is self-contained: inline CSS, figures as base64 PNG, no external URL (no fonts, scripts or
  stylesheets fetched).
- PDF is rendered from the same HTML by WeasyPrint (needs the Debian packages libpango-1.0-0,
  libpangoft2-1.0-0, libharfbuzz0b and a font such as fonts-dejavu-core). When WeasyPrint cannot
  load, matplotlib's ``PdfPages`` writes a figures-and-tables PDF instead and the report says so.
- DOCX uses python-docx with real Word tables.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from pmrtrial._yaml import safe_load
from pmrtrial.analysis import AnalysisResult
from pmrtrial.io import write_json_atomic, write_text_atomic
from pmrtrial.report.figures import SYNTHETIC_BANNER, render_figures
from pmrtrial.report.tables import Table, build_tables, collect_flags

__all__ = ["ReportFiles", "load_published", "render_html", "write_derived_datasets", "write_report"]

_CSS = """
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; font-size: 10pt; margin: 2em; color: #222; }
h1 { font-size: 16pt; } h2 { font-size: 13pt; border-bottom: 1px solid #ccc; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 8.5pt; }
th, td { border: 1px solid #bbb; padding: 2px 5px; vertical-align: top; }
th { background: #eef1f4; }
td.published { background: #f6f6f6; color: #555; font-style: italic; }
td.flag { background: #ffe3e0; font-weight: bold; }
td.flag::after { content: " ≠"; color: #b00020; }
.banner { background: #b00020; color: #fff; font-weight: bold; padding: 0.4em 0.8em; display: inline-block; }
.note { font-size: 8pt; color: #555; margin: 0.2em 0; }
.warn { color: #8a4b00; }
img { max-width: 100%; }
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
        table = frame.copy()
        if "value" in table.columns and any(e.id == endpoint_id and e.type == "binary" for e in result.endpoints):
            table["value"] = table["value"].astype("Int64")
        written.append(write_text_atomic(folder / f"{endpoint_id}.csv", table.to_csv(index=False, lineterminator="\n")))
    return tuple(written)


def load_published(trial: str = "bachelor") -> Mapping[str, Any]:
    """The trial's section of the bundled ``bachelor_published.yaml`` (published aggregates)."""
    text = resources.files("pmrtrial.report.data").joinpath("bachelor_published.yaml").read_text(encoding="utf-8")
    data: Mapping[str, Any] = safe_load(text)[trial]
    return data


def _title(result: AnalysisResult) -> str:
    base = f"{result.protocol_id.upper()} analysis report (protocol v{result.protocol_version})"
    return f"{SYNTHETIC_BANNER}: {base}" if result.synthetic else base


def _table_html(t: Table) -> str:
    out = [f"<h3>{html.escape(t.title)}</h3>", "<table>", "<tr>"]
    out += [f"<th>{html.escape(h)}</th>" for h in t.header]
    out.append("</tr>")
    for row in t.rows:
        out.append("<tr>")
        for cell in row:
            cls = "flag" if cell.flag else ("published" if cell.published else "")
            title = f' title="{html.escape(cell.note)}"' if cell.note else ""
            out.append(f'<td class="{cls}"{title}>{html.escape(cell.text)}</td>')
        out.append("</tr>")
    out.append("</table>")
    out += [f'<p class="note">{html.escape(n)}</p>' for n in t.notes]
    return "\n".join(out)


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
    if result.synthetic:
        parts.append(
            "<p>These data are the synthetic twin built from the published aggregates. Every table shows the "
            "published value beside the reproduced one; cells that differ beyond the printed precision are "
            "highlighted (≠).</p>"
        )
        if flags:
            parts.append(
                f"<p><b>{len(flags)} cell(s) differ from the published values</b> "
                "(listed under Methods and warnings).</p>"
            )
    by_id = {t.id: t for t in tables}
    sections = [
        ("Participant flow", ["consort"], ["consort"]),
        ("Baseline characteristics", ["baseline"], []),
        ("Primary endpoint", ["primary"], []),
        ("Response over time", ["visit_states"], ["trajectory", "states"]),
        ("Secondary endpoints", ["secondary"], ["forest"]),
        ("Further endpoints", ["endpoints"], [f for f in figures if f.startswith("km_")] + ["cumulative_gc"]),
        ("Safety", ["adverse_events"], []),
        ("Sample size", ["sample_size"], []),
        ("Reproducing the published secondary effects", ["published_methods"], []),
    ]
    for title, table_ids, figure_ids in sections:
        present = [by_id[i] for i in table_ids if i in by_id]
        if not present and not any(f in figures for f in figure_ids):
            continue
        parts.append(f"<h2>{html.escape(title)}</h2>")
        for fid in figure_ids:
            if fid in figures:
                caption, png = figures[fid]
                data = base64.b64encode(png).decode("ascii")
                parts.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">')
                parts.append(f"<figcaption class='note'>{html.escape(caption)}</figcaption></figure>")
        parts.extend(_table_html(t) for t in present)
    parts.append("<h2>Methods and warnings</h2><h3>Methods</h3><ul>")
    parts += [f"<li>{html.escape(m)}</li>" for m in result.methods]
    parts.append("</ul>")
    if pdf_note:
        parts.append(f'<p class="note">{html.escape(pdf_note)}</p>')
    parts.append(f"<h3>Warnings ({len(result.warnings)})</h3><ul>")
    parts += [f'<li class="warn">{html.escape(w)}</li>' for w in result.warnings] or ["<li>none</li>"]
    parts.append("</ul>")
    if flags:
        parts.append("<h3>Cells differing from the published values</h3><ul>")
        parts += [
            f"<li>{html.escape(str(f['table']))}: {html.escape(str(f['row']))} — {html.escape(str(f['column']))}: "
            f"{html.escape(str(f['value']))}{' (' + html.escape(str(f['note'])) + ')' if f.get('note') else ''}</li>"
            for f in flags
        ]
        parts.append("</ul>")
    parts.append("<h3>Software</h3><p class='note'>")
    parts.append(", ".join(f"{html.escape(k)} {html.escape(str(v))}" for k, v in result.software.items()))
    parts.append("</p></body></html>")
    return "\n".join(parts)


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
    for fid, (caption, png) in figures.items():
        doc.add_picture(io.BytesIO(png), width=Inches(6.0))
        doc.add_paragraph().add_run(caption).italic = True
        del fid
    for t in tables:
        doc.add_heading(t.title, level=2)
        table = doc.add_table(rows=1, cols=len(t.header))
        table.style = "Table Grid"
        for j, h in enumerate(t.header):
            table.rows[0].cells[j].text = h
        for row in t.rows:
            cells = table.add_row().cells
            for j, cell in enumerate(row):
                cells[j].text = cell.text + (" ≠" if cell.flag else "")
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


def _write_pdf(
    path: Path,
    html_text: str,
    result: AnalysisResult,
    tables: Sequence[Table],
    figures: Mapping[str, tuple[str, bytes]],
) -> str:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        import weasyprint

        weasyprint.HTML(string=html_text).write_pdf(str(tmp))
        os.replace(tmp, path)
        return f"weasyprint {weasyprint.__version__}"
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
) -> ReportFiles:
    """Write ``results.json`` and the requested report formats into ``out_dir``.

    ``published`` defaults to the bundled BACHELOR aggregates when the data are synthetic and the
    protocol is BACHELOR; with real data no published column is shown.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if published is None and result.synthetic and result.protocol_id == "bachelor":
        published = load_published("bachelor")
    tables = build_tables(result, published if result.synthetic else None)
    flags = collect_flags(tables)
    figures = render_figures(result)
    payload = result.to_dict()
    payload["report"] = {
        "synthetic": result.synthetic,
        "published_comparison": bool(published and result.synthetic),
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
