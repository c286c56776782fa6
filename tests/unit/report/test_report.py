"""Report smoke tests: files exist, HTML is self-contained, results.json keys, published comparison."""

from __future__ import annotations

import functools
import json
import re
import zipfile

import pytest

from pmrtrial.analysis import analyse_trial
from pmrtrial.datasets import validate_datasets
from pmrtrial.protocol import load_protocol
from pmrtrial.published import load_published
from pmrtrial.report.render import write_report
from pmrtrial.report.tables import build_tables, collect_flags, fmt_p, printed_decimals
from tests.unit.analysis._data import make_trial

PROTOCOL = load_protocol("bachelor")


def _result(synthetic: bool, events_t: int = 14):  # type: ignore[no-untyped-def]
    s, v, a = make_trial(events_t, 18, 2, 15, sites=6)
    s.attrs["synthetic"] = synthetic
    return analyse_trial(validate_datasets(s, v, a, protocol=PROTOCOL), PROTOCOL)


@pytest.fixture(scope="module")
def report(tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("report")
    return write_report(_result(True), out)


@functools.cache
def _twin_result(trial: str):  # type: ignore[no-untyped-def]
    """The analysed synthetic twin of a comparator trial (default seeds, as `pmrtrial synth`)."""
    if trial == "semaphore":
        from pmrtrial.synth.semaphore import generate_semaphore_twin as generate
    else:
        from pmrtrial.synth.saphyr import generate_saphyr_twin as generate
    twin, protocol = generate(), load_protocol(trial)
    data = validate_datasets(
        twin.subjects, twin.visits, twin.adverse_events, protocol=protocol, gc_doses=twin.gc_doses, flares=twin.flares
    )
    return analyse_trial(data, protocol)


TRIALS = ("bachelor", "semaphore", "saphyr")


@pytest.fixture(scope="module", params=TRIALS)
def any_report(request, report, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The report of each trial, rendered once per module: BACHELOR (the fixture above) and the comparator twins."""
    if request.param == "bachelor":
        return report
    return write_report(_twin_result(request.param), tmp_path_factory.mktemp(request.param))


def test_write_report__all_files_written(any_report):
    for path in (any_report.html, any_report.pdf, any_report.docx, any_report.json):
        assert path is not None and path.exists() and path.stat().st_size > 1000
    assert any_report.pdf.read_bytes()[:5] == b"%PDF-"
    assert any_report.pdf_engine is not None


def test_html__self_contained_no_external_url(any_report):
    text = any_report.html.read_text(encoding="utf-8")
    assert re.search(r"https?://", text) is None
    assert "<link" not in text and "<script" not in text and "@import" not in text
    figures = re.findall(r"<figcaption class='note'>Figure \d+\. ", text)
    assert text.count("data:image/png;base64,") == len(figures) >= 5


def test_html__bachelor_figures(report):
    # CONSORT, primary forest, primary by centre, trajectory, states, forest
    assert report.html.read_text(encoding="utf-8").count("data:image/png;base64,") == 6


def test_html__synthetic_title_and_published_columns(report):
    text = report.html.read_text(encoding="utf-8")
    assert "<title>SYNTHETIC — not trial data" in text
    assert "(published)" in text and "Published effect" in text
    assert "Methods and warnings" in text


def test_docx__has_real_tables(any_report):
    with zipfile.ZipFile(any_report.docx) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    assert xml.count("<w:tbl>") >= 7
    assert "SYNTHETIC" in xml


def test_results_json__keys(report):
    d = json.loads(report.json.read_text(encoding="utf-8"))
    assert d["primary"]["responders"]["placebo"] == {"n": 15, "events": 2}
    assert {"estimate", "lo", "hi"} <= set(d["primary"]["rr_crude"])
    assert {"estimate", "lo", "hi", "p", "method", "converged", "warnings"} <= set(d["primary"]["rr_gee"])
    assert d["visit_states"] and d["secondary"] and "sample_size" in d
    assert d["report"]["synthetic"] is True and isinstance(d["report"]["flags"], list)


def test_tables__published_comparison_flags_only_differences():
    published = load_published("bachelor")
    # 14/18 vs 2/15 is the published primary result: the responder cells are not flagged ...
    primary = next(t for t in build_tables(_result(True), published) if t.id == "primary")
    assert not any(c.flag for row in primary.rows[:2] for c in row)
    # ... 13/18 is not (published 14/18, 78%): flagged
    primary = next(t for t in build_tables(_result(True, events_t=13), published) if t.id == "primary")
    assert primary.rows[0][1].flag and primary.rows[0][1].text == "13/18 (72%)"
    flags = collect_flags(build_tables(_result(True, events_t=13), published))
    assert any(f["table"] == "primary" for f in flags)


def test_tables__real_data_have_no_published_columns():
    tables = build_tables(_result(False))
    assert not any("published" in h.lower() for t in tables for h in t.header)


@pytest.mark.parametrize(
    ("p", "text"),
    [(0.80, "0.80"), (0.0020, "0.0020"), (0.020, "0.020"), (0.00005, "<0.0001"), (0.0003, "0.0003"), (0.087, "0.087")],
)
def test_fmt_p__journal_style(p, text):
    # printed styles taken from bachelor_published.yaml secondary p-values
    assert fmt_p(p) == text


def test_printed_decimals():
    assert (printed_decimals(2.0), printed_decimals(5.34), printed_decimals(14)) == (1, 2, 0)


def test_pdf__without_harfbuzz_subset_is_written_quietly_and_says_so(tmp_path, monkeypatch, caplog):
    """Debian's libharfbuzz-subset0 is optional (absent from the base image): WeasyPrint then subsets fonts with
    fontTools. The PDF is still written, no warning or log line escapes, and the engine string records it."""
    fonts = pytest.importorskip("weasyprint.pdf.fonts")
    monkeypatch.setattr(fonts, "harfbuzz_subset", None)  # what WeasyPrint holds when the library did not load
    with caplog.at_level("WARNING"):
        files = write_report(_result(True), tmp_path, formats=("pdf",))
    assert files.pdf is not None and files.pdf.read_bytes().startswith(b"%PDF")
    assert files.pdf_engine is not None and "HarfBuzz-Subset library is absent" in files.pdf_engine
    assert not [r for r in caplog.records if "HarfBuzz" in r.getMessage()]


# -- layout of the PDF, read back with pypdf -----------------------------------------------------------

_MARGIN_PT = 1.2 / 2.54 * 72  # @page margin 1.2 cm


def _pdf_pages(path):  # type: ignore[no-untyped-def]
    """(page width, height, text, image boxes as (x, y, width, height)) for every page."""
    pypdf = pytest.importorskip("pypdf")
    pages = []
    for page in pypdf.PdfReader(str(path)).pages:
        boxes = []

        def visitor(op, _args, cm, _tm, boxes=boxes):  # type: ignore[no-untyped-def]
            if op == b"Do":  # an XObject (image) painted with the current matrix: (w, 0, 0, h, x, y)
                boxes.append((cm[4], cm[5], cm[0], cm[3]))

        text = page.extract_text(visitor_operand_before=visitor) or ""
        pages.append((float(page.mediabox.width), float(page.mediabox.height), text, boxes))
    return pages


def test_pdf_layout__figures_inside_the_content_box_and_no_lonely_heading(any_report):
    if any_report.pdf_engine is None or not any_report.pdf_engine.startswith("weasyprint"):
        pytest.skip(f"PDF not rendered by WeasyPrint here ({any_report.pdf_engine})")
    pages = _pdf_pages(any_report.pdf)
    assert len(pages) >= 3
    tol = 1.0  # points
    for number, (width, height, text, boxes) in enumerate(pages, start=1):
        for x, y, w, h in boxes:
            assert x >= _MARGIN_PT - tol and y >= _MARGIN_PT - tol, f"page {number}: figure outside the margin"
            assert x + w <= width - _MARGIN_PT + tol, f"page {number}: figure wider than the content box"
            assert y + h <= height - _MARGIN_PT + tol, f"page {number}: figure taller than the content box"
        lines = [line for line in text.splitlines() if line.strip()]
        assert boxes or len(lines) >= 3, f"page {number} holds only {lines!r}"  # a heading alone, or nothing
    first_text = pages[0][2]
    assert len(first_text) >= 600, "page 1 is nearly empty"
    assert "Primary endpoint" in first_text


def test_html__three_line_tables_numbered_and_labelled(any_report):
    text = any_report.html.read_text(encoding="utf-8")
    css = text[text.index("<style>") : text.index("</style>")]
    assert "border-top: 1.5pt solid" in css and "border-bottom: 1.5pt solid" in css  # top and bottom rules
    assert "th { border: none; border-bottom: 0.75pt solid" in css  # the header rule
    assert "td { border: none;" in css  # no grid
    numbers = [int(n) for n in re.findall(r"<h3>Table (\d+)\. ", text)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 5
    figures = [int(n) for n in re.findall(r"<figcaption class='note'>Figure (\d+)\. ", text)]
    assert figures == list(range(1, len(figures) + 1)) and len(figures) >= 4
    assert "haq_di W" not in text  # plot labels come from the vocabulary (checked in the PNG alt texts too)


def test_docx__tables_have_three_rules_only(any_report):
    with zipfile.ZipFile(any_report.docx) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    first = xml[xml.index("<w:tbl>") : xml.index("</w:tbl>")]
    borders = first[first.index("<w:tblBorders>") : first.index("</w:tblBorders>")]
    assert '<w:top w:val="single"' in borders and '<w:bottom w:val="single"' in borders
    assert '<w:insideH w:val="nil"' in borders and '<w:insideV w:val="nil"' in borders
    assert '<w:left w:val="nil"' in borders and "Table Grid" not in xml


def test_twin_summary_and_appendix(any_report):
    text = any_report.html.read_text(encoding="utf-8")
    body_start = text[: text.index("<h2>")]
    line = re.search(r"Published vs reproduced: (\d+) of (\d+) compared cells agree", body_start)
    assert line is not None
    # every row of the comparator's "Published beside reproduced" table is a compared cell (BACHELOR: every table)
    assert int(line.group(2)) >= 10, "the agreement line counts (almost) no compared cell"
    assert int(line.group(1)) == int(line.group(2)) - len(any_report.flags)
    if any_report.flags:
        assert "Appendix A. Cells differing from the published values" in text
        assert f"{len(any_report.flags)} differ (listed in Appendix A)" in body_start


def test_exact_method_cap_is_stated_in_results_json_and_report(tmp_path):
    """Boschloo runs up to 250,000 tables ((n_t + 1) x (n_c + 1)); above, results.json and the report say so.
    600 per arm: 601 x 601 = 361,201 tables > 250,000 (hand arithmetic)."""
    s, v, a = make_trial(300, 600, 100, 600, sites=6)
    s.attrs["synthetic"] = False
    result = analyse_trial(validate_datasets(s, v, a, protocol=PROTOCOL), PROTOCOL)
    files = write_report(result, tmp_path, formats=("html",))
    boschloo = json.loads(files.json.read_text())["primary"]["boschloo"]
    assert boschloo["available"] is False and "361,201 tables exceed the enumeration limit" in boschloo["reason"]
    html_text = files.html.read_text(encoding="utf-8")
    assert "not computed (see note)" in html_text and "361,201 tables exceed the enumeration limit" in html_text


def test_sensitivity_table__numbered_rows_under_the_primary_result(report):
    text = report.html.read_text(encoding="utf-8")
    titles = re.findall(r"<h3>Table (\d+)\. ([^<]+)</h3>", text)
    names = [t for _, t in titles]
    assert names.index("Primary endpoint: sensitivity analyses") == names.index("Primary endpoint") + 1
    result = _result(False)
    table = next(t for t in build_tables(result) if t.id == "primary_sensitivity")
    assert [r[0].text for r in table.rows] == ["–", "S1", "S2", "S3"]
    # make_trial(14, 18, 2, 15): no one missing, so S1 = the primary table 14/18 vs 2/15 and nothing to impute
    assert [c.text for c in table.rows[1][2:4]] == ["14/18 (78%)", "2/15 (13%)"]
    assert table.rows[3][2].text == "0 missing" and table.rows[3][3].text == "0 missing"
    assert any("no imputation changes the conclusion" in n for n in table.notes)
    assert any("not assessable: no gc_doses log" in n for n in table.notes)


def test_centre_forest__one_row_per_centre_rr_not_estimable_said():
    from pmrtrial.report.figures import render_figures

    result = _result(False)
    figures = render_figures(result)
    assert "centre_forest" in figures and figures["centre_forest"][1][:8] == b"\x89PNG\r\n\x1a\n"
    assert "not estimable" in figures["centre_forest"][0]
    # make_trial(14, 18, 2, 15, sites=6): participant i of an arm at centre S(i % 6); placebo responders P000, P001
    # are at S0 and S1, so S2..S5 have no placebo responder and no risk ratio
    by_site = {c["site_id"]: c for c in result.primary.by_centre}
    assert sorted(by_site) == ["S0", "S1", "S2", "S3", "S4", "S5"]
    assert [by_site[s]["rr"]["available"] for s in sorted(by_site)] == [True, True, False, False, False, False]
    assert by_site["S0"]["arms"] == {"baricitinib": {"n": 3, "events": 3}, "placebo": {"n": 3, "events": 1}}
