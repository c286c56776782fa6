"""``pmrtrial synth bachelor`` via typer's CliRunner on the sub-app."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from pmrtrial.cli.synth import app

runner = CliRunner()


def test_bachelor_writes_clean_csvs_readme_and_report(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bachelor", "--seed", "2025", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC — not trial data" in result.output
    subjects = pd.read_csv(tmp_path / "subjects.csv")
    visits = pd.read_csv(tmp_path / "visits.csv")
    events = pd.read_csv(tmp_path / "adverse_events.csv")
    assert len(subjects) == 34  # yaml design.arms: 18 + 16
    assert (tmp_path / "subjects.csv").read_text(encoding="utf-8").startswith("subject_id,site_id,arm,")
    assert visits.columns[0] == "subject_id" and "crp_mg_l" in visits.columns
    assert int(events["serious"].sum()) == 10  # yaml adverse_events.serious_total_events.total
    readme = (tmp_path / "README.txt").read_text(encoding="utf-8")
    assert readme.startswith("SYNTHETIC — not trial data")
    report = json.loads((tmp_path / "twin_report.json").read_text(encoding="utf-8"))
    assert report["synthetic"] is True and report["label"] == "SYNTHETIC — not trial data"
    assert report["report"]["counts"]["conflict"] == 11
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_bachelor_parquet(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bachelor", "--seed", "3", "--out", str(tmp_path), "--format", "parquet"])
    assert result.exit_code == 0, result.output
    visits = pd.read_parquet(tmp_path / "visits.parquet")
    assert set(visits["week"]) == {0, 2, 4, 8, 12, 16, 20, 24, 28, 36}


def test_bad_format_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bachelor", "--out", str(tmp_path), "--format", "xlsx"])
    assert result.exit_code != 0
    assert "format" in str(result.exception)
