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
