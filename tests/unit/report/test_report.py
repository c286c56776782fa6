"""Report smoke tests: files exist, HTML is self-contained, results.json keys, published comparison."""

from __future__ import annotations

import functools
import html
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
    """(page width, height, text, image boxes as (x, y, width, height, width in pixels)) for every page."""
    pypdf = pytest.importorskip("pypdf")
    pages = []
    for page in pypdf.PdfReader(str(path)).pages:
        boxes = []
        xobjects = page["/Resources"].get("/XObject", {})

        def visitor(op, args, cm, _tm, boxes=boxes, xobjects=xobjects):  # type: ignore[no-untyped-def]
            if op == b"Do":  # an XObject (image) painted with the current matrix: (w, 0, 0, h, x, y)
                pixels = xobjects[args[0]].get_object().get("/Width")
                boxes.append((cm[4], cm[5], cm[0], cm[3], pixels))

        text = page.extract_text(visitor_operand_before=visitor) or ""
        pages.append((float(page.mediabox.width), float(page.mediabox.height), text, boxes))
    return pages


def test_pdf_layout__figures_inside_the_content_box_and_no_lonely_heading(any_report):
    if any_report.pdf_engine is None or not any_report.pdf_engine.startswith("weasyprint"):
        pytest.skip(f"PDF not rendered by WeasyPrint here ({any_report.pdf_engine})")
    pages = _pdf_pages(any_report.pdf)
    assert len(pages) >= 3
    source = any_report.html.read_text(encoding="utf-8")
    headings = {html.unescape(h) for h in re.findall(r"<h[23]>([^<]+)</h[23]>", source)}
    tol = 1.0  # points
    for number, (width, height, text, boxes) in enumerate(pages, start=1):
        for x, y, w, h, pixels in boxes:
            assert x >= _MARGIN_PT - tol and y >= _MARGIN_PT - tol, f"page {number}: figure outside the margin"
            # figures are drawn at 100 dpi and shown at 0.75 pt per pixel when not shrunk; below 0.55 their 7 pt
            # labels print under 5.1 pt (the SEMAPHORE centre forest, 17 centres, once printed at 0.41)
            assert pixels is None or w / pixels >= 0.55, f"page {number}: figure shrunk to {w / pixels:.2f} pt/px"
            assert x + w <= width - _MARGIN_PT + tol, f"page {number}: figure wider than the content box"
            assert y + h <= height - _MARGIN_PT + tol, f"page {number}: figure taller than the content box"
        lines = [line for line in text.splitlines() if line.strip()]
        assert boxes or len(lines) >= 3, f"page {number} holds only {lines!r}"  # a heading alone, or nothing
        # nor a section heading or table title as the page's last line, its content on the next page (list bullets
        # are extracted after the text and are left out)
        last = [line.strip() for line in lines if line.strip() != "•"][-1]
        assert last not in headings, f"page {number} ends with the heading {last!r}"
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


# -- what a trial statistician of the comparator trials expects to see ------------------------------------------


def _drawn(monkeypatch, make):  # type: ignore[no-untyped-def]
    """The matplotlib figures drawn while ``make()`` runs (each figure is drawn to be encoded as PNG)."""
    from matplotlib.figure import Figure

    drawn = []
    original = Figure.draw

    def draw(self, renderer, *args, **kwargs):  # type: ignore[no-untyped-def]
        drawn.append(self)
        return original(self, renderer, *args, **kwargs)

    monkeypatch.setattr(Figure, "draw", draw)
    make()
    return drawn


def _texts(fig) -> list[str]:  # type: ignore[no-untyped-def]
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def _trial_result(trial: str):  # type: ignore[no-untyped-def]
    return _result(True) if trial == "bachelor" else _twin_result(trial)


@pytest.mark.parametrize("trial", TRIALS)
def test_figures__labels_axes_and_legends_in_words(trial, monkeypatch):
    """No variable name, endpoint id or arm id in any figure text: labels come from the vocabulary and the protocol
    (the forest once read "(baricitinib − placebo)", the at-risk rows "sarilumab", the centre forest "not available"
    for a GEE the protocol does not declare)."""
    from pmrtrial import vocabulary
    from pmrtrial.report.figures import render_figures

    result = _trial_result(trial)
    drawn = _drawn(monkeypatch, lambda: render_figures(result))
    assert len(drawn) >= 5
    text = "\n".join(t for fig in drawn for t in _texts(fig))
    names = {n for n in vocabulary.canonical_names() if "_" in n} | {e.id for e in result.endpoints if "_" in e.id}
    assert sorted(n for n in names if re.search(rf"\b{re.escape(n)}\b", text)) == []
    for arm in result.arms:
        if arm["id"] != arm["label"]:
            assert re.search(rf"\b{re.escape(str(arm['id']))}\b", text) is None, f"raw arm id {arm['id']}"
    if trial != "bachelor":  # neither comparator declares the GEE or the Bayesian risk ratio
        assert "GEE" not in text and "Bayesian" not in text and "not available" not in text


def test_km_figure__numbers_at_risk_hazard_ratio_logrank_and_censoring(monkeypatch):
    from pmrtrial.report.figures import plot_kaplan_meier

    result = _twin_result("saphyr")
    fig = _drawn(monkeypatch, lambda: plot_kaplan_meier(result, "flare_after_remission"))[0]
    # R survival::coxph and survdiff on this twin's derived dataset (tests/reference/values/saphyr_twin.json):
    # HR 0.5626 (0.3527 to 0.8976), log-rank p 0.01418; printed to the deck's precision, HR 0.56 (0.35 to 0.90)
    assert "Hazard ratio 0.56 (95% CI 0.35 to 0.90), Cox\nLog-rank p = 0.014" in _texts(fig)
    ax = fig.axes[0]
    derived = result.derived_datasets["flare_after_remission"]
    # the last follow-up time is 350 days (< 8 steps of 56 days, 12.5 of 28): ticks every 8 weeks
    assert derived["time_days"].max() == 350
    ticks = [0, 56, 112, 168, 224, 280, 336]
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(t) for t in ticks]
    rows = [t.get_text() for t in fig.texts]
    assert "Number at risk" in rows
    lines = {line.get_label(): line for line in ax.get_lines()}
    for arm in result.arms:
        mine = derived[derived["arm"] == arm["id"]]
        # hand count from the analysis dataset: participants whose follow-up reaches t (time >= t)
        at_risk = [str(int((mine["time_days"] >= t).sum())) for t in ticks]
        label = rows.index(next(r for r in rows if r.startswith(str(arm["label"]).split()[0])))
        assert rows[label + 1 : label + 1 + len(ticks)] == at_risk, arm["id"]
        # censoring ticks: one mark per distinct censoring time of the arm
        step = lines[arm["label"]]
        marks = [line for line in ax.get_lines() if line.get_marker() == "|" and line.get_color() == step.get_color()]
        censored = sorted(set(mine.loc[mine["event"] == 0, "time_days"]))
        assert len(marks) == 1 and sorted(marks[0].get_xdata()) == censored
    assert "Censored" in lines


def test_primary__adjusted_risk_ratio_with_its_covariates_named(monkeypatch):
    from pmrtrial.report.figures import plot_primary_forest

    result = _twin_result("semaphore")
    tables = {t.id: t for t in build_tables(result)}
    row = next(r for r in tables["primary"].rows if r[0].text.startswith("Risk ratio adjusted for"))
    covariates = "baseline oral glucocorticoid dose and baseline CRP PMR-AS"  # the protocol's, in words
    assert row[0].text == f"Risk ratio adjusted for {covariates} (modified Poisson, robust CI)"
    # R glm(family = poisson) + sandwich::vcovHC(type = "HC0") on this twin
    # (tests/reference/values/semaphore_twin.json): 2.2778 (1.4550 to 3.5658), p 0.000318
    assert row[1].text == "2.28 (1.46 to 3.57); p 0.0003"
    # the further-endpoints table names the same covariates, for the GC-free endpoint too
    methods = [r[2].text for r in tables["endpoints"].rows if r[2].text.startswith("Adjusted risk ratio")]
    assert methods == [f"Adjusted risk ratio (modified Poisson); covariates: {covariates}"] * 2
    # the forest shows it beside the crude estimates, and no method the protocol does not declare
    fig = _drawn(monkeypatch, lambda: plot_primary_forest(result))[0]
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks[-1] == "Adjusted RR, modified Poisson: 2.28 (1.46 to 3.57)" and len(ticks) == 3


@pytest.mark.parametrize("trial", ["semaphore", "saphyr"])
def test_cumulative_gc_figure__median_and_iqr_band_by_arm(trial, monkeypatch):
    from pmrtrial.report.figures import plot_cumulative_gc

    result = _twin_result(trial)
    ax = _drawn(monkeypatch, lambda: plot_cumulative_gc(result))[0].axes[0]
    labels = [str(a["label"]) for a in result.arms]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"{x}: median (band: IQR)" for x in labels]
    assert len(ax.collections) == 2  # one interquartile band per arm
    assert "median and interquartile range" in ax.get_title()
    if trial == "saphyr":  # abstract: median cumulative dose at week 52, 777 mg sarilumab vs 2044 mg placebo
        assert [line.get_ydata()[-1] for line in ax.get_lines()] == [777.0, 2044.0]


@pytest.mark.parametrize("any_report", ["semaphore", "saphyr"], indirect=True)  # BACHELOR names its own trial
def test_comparator_reports__no_bachelor_wording(any_report):
    trial = json.loads(any_report.json.read_text(encoding="utf-8"))["protocol_id"]
    html_text = any_report.html.read_text(encoding="utf-8").lower()
    with zipfile.ZipFile(any_report.docx) as z:
        docx_text = z.read("word/document.xml").decode("utf-8").lower()
    for word in ("bachelor", "baricitinib"):
        assert word not in html_text and word not in docx_text, (trial, word)
    assert trial in html_text  # the comparator's own name is there


_NOT_FIGURES = {"source", "note", "notes", "derivation", "definition", "unit", "of", "citation", "design"}


def _published_figures(section, prefix=""):  # type: ignore[no-untyped-def]
    """Dotted paths of every result figure of a published file (the design section and free text left out)."""
    for key, value in section.items():
        if key in _NOT_FIGURES:
            continue
        if isinstance(value, dict) and not ("value" in value and not isinstance(value["value"], dict)):
            yield from _published_figures(value, f"{prefix}{key}.")
        elif isinstance(value, dict) or (isinstance(value, int | float | str) and not isinstance(value, bool)):
            yield f"{prefix}{key}"


@pytest.mark.parametrize("trial", ["semaphore", "saphyr"])
def test_comparison_table__every_published_figure_beside_its_reproduction(trial):
    from importlib import resources

    from pmrtrial._yaml import safe_load
    from pmrtrial.report.comparison import comparison_table

    specs = safe_load(resources.files("pmrtrial.report").joinpath("comparator_figures.yaml").read_text("utf-8"))
    listed = [s["published"] for key in (trial, f"{trial}_safety", f"{trial}_not_reproduced") for s in specs[key]]
    figures = list(_published_figures(load_published(trial)))
    assert len(figures) >= 30  # e.g. SEMAPHORE: arms, primary, secondary, adverse events, baseline
    assert sorted(set(figures) - set(listed)) == []  # every published figure has a row
    table = comparison_table(_twin_result(trial))
    assert table is not None and len(table.rows) == len(listed) == len(set(listed))
    for row in table.rows:
        if row[2].flag:  # a difference is shown with its documented reason, never bare
            assert row[2].note is not None and "; " in row[2].note, row[0].text
        if not row[2].compared:
            assert row[2].text.startswith("not reproduced: "), row[0].text
    # published 51 vs 50 randomised (JAMA abstract) against the deck's 49 vs 51: flagged, with the reason
    if trial == "semaphore":
        randomised = next(r for r in table.rows if r[0].text == "Randomised, tocilizumab")
        assert (randomised[1].text, randomised[2].text, randomised[2].flag) == ("51", "49", True)


def test_pdf_layout__a_table_broken_across_pages_repeats_its_header(any_report):
    """The SAPHYR CONSORT table (13 visits) once continued on the next page with no column header."""
    if any_report.pdf_engine is None or not any_report.pdf_engine.startswith("weasyprint"):
        pytest.skip(f"PDF not rendered by WeasyPrint here ({any_report.pdf_engine})")
    html_text = any_report.html.read_text(encoding="utf-8")
    assert html_text.count("<thead>") == html_text.count("<h3>Table ")  # every numbered table
    result = json.loads(any_report.json.read_text(encoding="utf-8"))
    arm_words = [str(a["label"]).split()[0] for a in result["arms"]]  # first word of each arm's column header
    pages = [text for _, _, text, _ in _pdf_pages(any_report.pdf)]
    visits = [f"Seen at {v['visit']} (week {v['week']:g})" for v in result["consort"]["analysed_by_visit"]]
    holding = [text for text in pages if any(v in text for v in visits)]
    assert holding, "no page holds the participant-flow table"
    for text in holding:  # every page with rows of the table shows the arms' column headers above them
        first_row = min(text.index(v) for v in visits if v in text)
        assert all(word in text[:first_row] for word in arm_words), text[:300]


def test_page_one__states_the_protocols_primary_analysis(any_report):
    """Page 1 leads with the analysis the protocol declares first for the primary endpoint, not always the crude RR."""
    trial = json.loads(any_report.json.read_text(encoding="utf-8"))["protocol_id"]
    text = any_report.html.read_text(encoding="utf-8")
    summary = text[text.index('<p class="summary">') : text.index("<h2>")]
    if trial == "semaphore":
        # R glm + sandwich on the twin (tests/reference/values/semaphore_twin.json): 2.2778 (1.4550 to 3.5658)
        assert "; risk ratio adjusted for baseline oral glucocorticoid dose and baseline CRP PMR-AS 2.28 " in summary
        assert "(95% CI 1.46 to 3.57); crude risk ratio" in summary
    elif trial == "saphyr":
        # NEJM abstract: 28% (17/60) vs 10% (6/58), difference 18 percentage points (95% CI 4 to 32)
        found = re.search(r"; risk difference (\S+) percentage points \(95% CI (\S+) to (\S+)\); crude", summary)
        assert found is not None and [round(float(x)) for x in found.groups()] == [18, 4, 32]
    else:
        # R epitools::riskratio on 14/18 vs 2/15 (tests/reference/values/twin_primary.json): 5.83 (1.57 to 21.70)
        assert "; crude risk ratio 5.83 (95% CI 1.57 to 21.70); Fisher exact p = 0.0004." in summary


@pytest.mark.parametrize("trial", TRIALS)
def test_tables__headers_and_row_labels_in_words(trial):
    """Table headers, row labels and the analysis column carry labels, not variable names or method ids."""
    from pmrtrial import vocabulary
    from pmrtrial.analysis.registry import ANALYSIS_METHODS

    result = _trial_result(trial)
    tables = build_tables(result)
    words = [h for t in tables for h in t.header]
    words += [c.text for t in tables for row in t.rows for c in row[:3] if not c.text[:1].isdigit()]
    text = "\n".join(words)
    names = {n for n in vocabulary.canonical_names() if "_" in n} | {m for m in ANALYSIS_METHODS if "_" in m}
    assert sorted(n for n in names if re.search(rf"\b{re.escape(n)}\b", text)) == []
    further = next((t for t in tables if t.id == "endpoints"), None)
    if further is not None:  # the registry's labels ("Kaplan-Meier"), never "kaplan meier"
        labels = {m.label for m in ANALYSIS_METHODS.values()}
        assert all(row[2].text.split(";")[0] in labels for row in further.rows)


def test_risk_table_times__week_based_steps():
    from pmrtrial.report.figures import risk_table_times

    # hand: 350 days -> 8-week steps (350 / 28 = 12.5 >= 8, 350 / 56 = 6.25 < 8); 168 days -> 4-week steps
    # (168 / 14 = 12, 168 / 28 = 6); 30 days -> weekly
    assert risk_table_times(350) == [0, 56, 112, 168, 224, 280, 336]
    assert risk_table_times(168) == [0, 28, 56, 84, 112, 140, 168]
    assert risk_table_times(30) == [0, 7, 14, 21, 28]
