"""`pmrtrial analyse` through typer's CliRunner on the sub-app (a one-command app: no sub-command name)."""

from __future__ import annotations

import json

import pytest
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
        "bayesian_risk_ratio,\n               missing_as_non_response, per_protocol, tipping_point]",
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


def test_analyse__crp_in_mg_dl_warns_on_stderr_json_and_report(tmp_path, capsys):
    """The issue's case: CRP typed in mg/dL into the mg/L column (every value a tenth of its mg/L value, so the
    baseline median drops below 5 mg/L): one warning line on stderr naming the column and the suspected unit,
    and the same warning in results.json and the report."""
    from pmrtrial.cli import main

    s, v, a = make_trial(14, 18, 2, 15, sites=6)
    v["crp_mg_l"] = v["crp_mg_l"] / 10 + 0.05  # mg/dL as a lab prints it (one decimal)
    write_datasets(tmp_path / "data", s, v, a)
    code = main(["analyse", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--no-pdf"])
    err = capsys.readouterr().err
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(lines) == 1 and "crp_mg_l" in lines[0] and "looks like mg/dL" in lines[0]
    warnings = json.loads((tmp_path / "out" / "results.json").read_text())["warnings"]
    assert any(w.startswith("Unit plausibility: crp_mg_l: looks like mg/dL") for w in warnings)
    assert "Unit plausibility: crp_mg_l" in (tmp_path / "out" / "report.html").read_text()


def test_analyse__vas_0_100_warns_before_the_validation_error(tmp_path, capsys):
    from pmrtrial.cli import main

    s, v, a = make_trial(14, 18, 2, 15, sites=6)
    v["pain_vas"] = v["pain_vas"] * 10
    write_datasets(tmp_path / "data", s, v, a)
    code = main(["analyse", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--no-pdf"])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert err[0].startswith("warning: visits.csv pain_vas: looks like 0-100 mm rather than 0-10")
    assert err[-1].startswith("error: Invalid data in visits.csv") and not (tmp_path / "out").exists()


def test_score__single_crp_value_at_the_boundary_warns(capsys):
    from pmrtrial.cli import main

    args = ["score", "pmr-as", "--pain-vas", "6.6", "--physician-global-vas", "6.8", "--morning-stiffness-min"]
    code = main([*args, "120", "--upper-limb-elevation", "1", "--crp-mg-l", "3.5", "--json"])
    out, err = capsys.readouterr()
    # Scored as given (a warning never changes data), Leeb & Bird 2004 formula by hand:
    # CRP 3.5 mg/L = 0.35 mg/dL; 0.35 + 6.6 + 6.8 + 120 x 0.1 + 1 = 26.75
    assert code == 0 and json.loads(out)["score"] == pytest.approx(26.75)
    assert err.strip().startswith("warning: crp_mg_l: looks like mg/dL rather than mg/L")


def test_analyse__consort_enrolment_from_screening_csv(tmp_path):
    """The EDC export's screening.csv (one row per screened person) adds the enrolment stage: 36 assessed,
    33 randomised (make_trial: 18 + 15), 3 excluded: two failed inc-activity (one of them also exc-gca), one
    eligible but not randomised (hand count)."""
    from pmrtrial.demo.pipeline import analyse_directory

    s, v, a = make_trial(14, 18, 2, 15, sites=6)
    write_datasets(tmp_path / "data", s, v, a)
    rows = [f"{sid},01,2021-01-04,eligible,true," for sid in s["subject_id"]]
    rows += [
        "X1,01,2021-01-05,not_eligible,false,inc-activity",
        "X2,02,2021-01-05,not_eligible,false,inc-activity;exc-gca",
    ]
    rows += ["X3,03,2021-01-06,eligible,false,"]
    header = "screening_id,site_id,screened_on,eligibility,randomised,excluded_by"
    (tmp_path / "data" / "screening.csv").write_text("\n".join([header, *rows]) + "\n")
    run = analyse_directory(tmp_path / "data", out_dir=tmp_path / "out", formats=("html",))
    enrolment = json.loads((tmp_path / "out" / "results.json").read_text())["enrolment"]
    assert enrolment["assessed"] == 36 and enrolment["randomised"] == 33 and enrolment["excluded"] == 3
    assert enrolment["reasons"] == {"inc-activity": 2, "exc-gca": 1} and enrolment["other"] == 1
    assert "enrolment from the EDC" in run.files.html.read_text()
