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
