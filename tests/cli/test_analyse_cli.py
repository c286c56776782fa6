"""`pmrtrial analyse` through typer's CliRunner on the sub-app (a one-command app: no sub-command name)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pmrtrial.cli.analyse import app
from pmrtrial.io.datasets import write_datasets
from tests.unit.analysis._data import make_trial

runner = CliRunner()


def test_analyse__writes_report_and_prints_location(tmp_path):
    s, v, a = make_trial(14, 18, 2, 15, sites=6)
    write_datasets(tmp_path / "data", s, v, a)
    res = runner.invoke(app, [str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--no-pdf"])
    assert res.exit_code == 0, res.output
    assert "baricitinib 14/18 vs placebo 2/15" in res.output
    assert (tmp_path / "out" / "report.html").exists() and not (tmp_path / "out" / "report.pdf").exists()
    d = json.loads((tmp_path / "out" / "results.json").read_text())
    assert d["primary"]["responders"]["baricitinib"]["events"] == 14


def test_analyse__invalid_data_fails_and_writes_nothing(tmp_path):
    s, v, a = make_trial(1, 2, 1, 2)
    v.loc[2, "morning_stiffness_min"] = 2000.0
    write_datasets(tmp_path / "data", s, v, a)  # no protocol: written unvalidated, as another EDC might
    res = runner.invoke(app, [str(tmp_path / "data"), "--out", str(tmp_path / "out")])
    assert res.exit_code != 0
    assert "visits.csv, row 3, column 'morning_stiffness_min': value 2000" in str(res.exception)
    assert not (tmp_path / "out").exists()


def _pmr_as(row) -> float:
    # CRP PMR-AS (Leeb & Bird 2004) recomputed here: CRP (mg/dL) + pain VAS + physician VAS + 0.1 x stiffness + EUL
    return (
        row.crp_mg_l / 10
        + row.pain_vas
        + row.physician_global_vas
        + 0.1 * row.morning_stiffness_min
        + row.upper_limb_elevation
    )


def test_analyse__modified_protocol_file_changes_the_results(tmp_path):
    import csv

    import pandas as pd

    from pmrtrial.protocol.registry import read_bundled_text

    s, v, a = make_trial(14, 18, 2, 15, sites=6)
    v.loc[(v["subject_id"] == "B000") & (v["week"] == 12), "crp_mg_l"] = 80.0  # W12 PMR-AS 8 + 3.5 - 0.5 = 11
    write_datasets(tmp_path / "data", s, v, a)
    text = read_bundled_text("bachelor")
    # 1. threshold: "CRP PMR-AS <= 10" becomes "<= 12" in the primary only (B000's 11 now responds)
    text = text.replace(
        "definition: {all: [{var: crp_pmr_as, op: le, value: 10}, {var: on_oral_gc, op: eq, value: false}]}\n"
        "    analysis: [fisher_exact, boschloo_exact",
        "definition: {all: [{var: crp_pmr_as, op: le, value: 12}, {var: on_oral_gc, op: eq, value: false}]}\n"
        "    analysis: [fisher_exact, boschloo_exact",
        1,
    )
    # 2. analysis list: the primary runs Fisher and Barnard only
    text = text.replace(
        "analysis: [fisher_exact, boschloo_exact, risk_ratio, risk_difference, log_binomial_gee_by_centre, "
        "bayesian_risk_ratio]",
        "analysis: [fisher_exact, barnard_exact]",
    )
    # 3. baseline variables: only age
    start, end = text.index("baseline_table:"), text.index("methods:")
    text = (
        text[:start]
        + "baseline_table:\n"
        + '  - {key: age_years, label: "Age", table: subjects, variable: age_years, kind: continuous}\n\n'
        + text[end:]
    )
    protocol_file = tmp_path / "bachelor-modified.yaml"
    protocol_file.write_text(text)
    res = runner.invoke(
        app, [str(tmp_path / "data"), "--protocol", str(protocol_file), "--out", str(tmp_path / "out"), "--no-pdf"]
    )
    assert res.exit_code == 0, res.output
    d = json.loads((tmp_path / "out" / "results.json").read_text())
    # make_trial: 14/18 respond; B000 (a responder, no GC) now has PMR-AS 11: <= 12 keeps it a responder
    assert d["primary"]["responders"]["baricitinib"] == {"n": 18, "events": 14}
    bundled = runner.invoke(app, [str(tmp_path / "data"), "--out", str(tmp_path / "out_bundled"), "--no-pdf"])
    assert bundled.exit_code == 0, bundled.output
    d_bundled = json.loads((tmp_path / "out_bundled" / "results.json").read_text())
    # with the bundled "<= 10" B000 (11) is a non-responder: 13/18
    assert d_bundled["primary"]["responders"]["baricitinib"] == {"n": 18, "events": 13}
    assert len(d_bundled["baseline"]) == 17
    primary = next(e for e in d["endpoints"] if e["id"] == "response_w12")
    assert list(primary["analyses"]) == ["fisher_exact", "barnard_exact"]
    assert d["primary"]["boschloo_p"] is None and d["primary"]["fisher_p"] is not None
    assert [row["key"] for row in d["baseline"]] == ["age_years"]
    # the unmodified secondary "CRP PMR-AS <= 10" still uses 10: B000 (11) is a non-event there
    le10 = next(r for r in d["secondary"] if r["endpoint_id"] == "crp_pmr_as_le10" and r["visit"] == "W12")
    assert le10["arms"]["baricitinib"]["events"] == 17
    # derived dataset of the primary, recomputed independently from visits.csv and subjects.csv
    visits = pd.read_csv(tmp_path / "data" / "visits.csv")
    subjects = pd.read_csv(tmp_path / "data" / "subjects.csv", dtype={"site_id": str})
    w12 = visits[visits["week"] == 12].merge(subjects[["subject_id", "site_id", "arm"]], on="subject_id")
    expected = {
        r.subject_id: (r.site_id, r.arm, "W12", str(int(_pmr_as(r) <= 12 and r.oral_gc_mg_day == 0)))
        for r in w12.itertuples()
    }
    with (tmp_path / "out" / "derived" / "response_w12.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["subject_id", "site_id", "arm", "visit", "value"]
    assert {r["subject_id"]: (r["site_id"], r["arm"], r["visit"], r["value"]) for r in rows} == expected
    assert (tmp_path / "out" / "derived" / "crp_pmr_as.csv").exists()
