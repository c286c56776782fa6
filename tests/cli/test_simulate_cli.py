"""CLI of the trial simulator (typer sub-app), via CliRunner."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pmrtrial.cli.simulate import app
from pmrtrial.design.scenario import ScenarioError
from pmrtrial.exceptions import ScoreInputError

runner = CliRunner()
FAST = ["--n-sims", "300", "--seed", "1", "--truth-n", "20000", "--quiet"]


def test_simulate_writes_results_and_table(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bachelor-as-run", *FAST, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["scenario"] == "bachelor-as-run"
    assert data["n_sims"] == 300
    assert data["seed"] == 1
    point = data["points"][0]
    assert point["n_total"] == 34  # BACHELOR randomised 18 + 16 (bachelor_published.yaml)
    for key in (
        "power_fisher",
        "power_gee",
        "power_gee_md",
        "bias_log_rr",
        "coverage_robust",
        "coverage_md",
        "gee_fallback_rate",
        "gee_non_convergence_rate",
    ):
        assert set(point["metrics"][key]) == {"value", "mcse", "n"}
    rows = list(csv.DictReader((tmp_path / "operating_characteristics.csv").read_text().splitlines()))
    assert {r["metric"] for r in rows} >= {"power_fisher", "power_gee"}
    assert set(rows[0]) == {
        "scenario",
        "n_total",
        "n_axis",
        "n_axis_value",
        "metric",
        "estimate",
        "mcse",
        "n_replicates",
    }
    assert "power_fisher" in result.output
    assert not (tmp_path / "power_vs_n.png").exists()  # no sweep, no plot


def test_same_seed_same_results(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        assert (
            runner.invoke(app, ["bachelor-null", *FAST, "--fisher-only", "--out", str(tmp_path / sub)]).exit_code == 0
        )
    a = json.loads((tmp_path / "a" / "results.json").read_text())["points"]
    b = json.loads((tmp_path / "b" / "results.json").read_text())["points"]
    assert a == b


def test_sweep_writes_power_plot_and_grid(tmp_path: Path) -> None:
    scenario = yaml.safe_load(Path("src/pmrtrial/design/scenarios/larger-confirmatory.yaml").read_text())
    scenario["design"]["n_per_arm"] = [15, 30]
    scenario["name"] = "small-sweep"
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(scenario))
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"scenarios": ["small.yaml", "bachelor-null"]}))
    out = tmp_path / "out"
    result = runner.invoke(app, ["--grid", str(grid), *FAST, "--fisher-only", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "small-sweep" / "power_vs_n.png").stat().st_size > 0
    assert (out / "small-sweep" / "power_vs_n.svg").stat().st_size > 0
    assert (out / "bachelor-null" / "results.json").exists()
    rows = list(csv.DictReader((out / "operating_characteristics.csv").read_text().splitlines()))
    assert {r["scenario"] for r in rows} == {"small-sweep", "bachelor-null"}


def test_errors() -> None:
    r = runner.invoke(app, ["no-such-scenario", *FAST])
    assert isinstance(r.exception, ScenarioError)
    r = runner.invoke(app, ["bachelor-as-run", *FAST, "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"])
    assert isinstance(r.exception, ScoreInputError)
    r = runner.invoke(app, [*FAST])
    assert isinstance(r.exception, ScenarioError)
    with pytest.raises(ScenarioError):
        raise r.exception
