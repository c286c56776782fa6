"""`pmrtrial simulate` on time-to-event scenarios: dispatch on `kind`, results.json and the CSV table, errors."""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

import yaml
from typer.testing import CliRunner

from pmrtrial.cli.simulate import app
from pmrtrial.design.scenario import ScenarioError

runner = CliRunner()
FAST = ["--n-sims", "200", "--seed", "1", "--quiet"]


def test_bundled_tte_scenario_writes_results_and_table(tmp_path: Path) -> None:
    result = runner.invoke(app, ["saphyr-as-run", *FAST, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["kind"] == "time_to_event" and data["scenario"] == "saphyr-as-run" and data["n_sims"] == 200
    point = data["points"][0]
    assert (point["n_treated"], point["n_control"]) == (60, 58)  # SAPHYR randomised 60 + 58 (NEJM 2023)
    for key in ("power_fisher", "power_rd_newcombe", "power_logrank", "power_cox_wald", "coverage_cox_wald"):
        assert set(point["metrics"][key]) == {"value", "mcse", "n"}
    assert {"too_few_events", "cox_not_estimable", "logrank_not_testable"} <= set(point["counts"])
    rows = list(csv.DictReader((tmp_path / "operating_characteristics.csv").read_text().splitlines()))
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
    assert {"power_logrank", "flare_events"} <= {r["metric"] for r in rows}
    assert "power_cox_wald" in result.output and "true HR" in result.output


def test_sweep_reports_n_for_power_and_file_dispatch(tmp_path: Path) -> None:
    text = resources.files("pmrtrial.design.scenarios").joinpath("next-pmr-flare.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["name"] = "my-flare-trial"
    data["design"]["n_per_arm"] = [40, 120]
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(app, [str(path), *FAST, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = json.loads((tmp_path / "out" / "results.json").read_text())
    assert out["scenario"] == "my-flare-trial" and [p["n_axis_value"] for p in out["points"]] == [40, 120]
    assert set(out["n_for_power"]["power_logrank"]) == {"80%", "90%"}
    assert "n per arm for power_logrank" in result.output
    assert (tmp_path / "out" / "power_vs_n.png").stat().st_size > 0  # a sweep: the power-vs-n plot


def test_same_seed_same_results_and_errors(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        r = runner.invoke(app, ["saphyr-null", *FAST, "--batch-size", "70" if sub == "a" else "5000",
                                "--out", str(tmp_path / sub)])  # fmt: skip
        assert r.exit_code == 0, r.output
    a, b = (json.loads((tmp_path / s / "results.json").read_text()) for s in ("a", "b"))
    assert a["points"] == b["points"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: survival\nname: bad\n", encoding="utf-8")
    r = runner.invoke(app, [str(bad), *FAST])
    assert isinstance(r.exception, ScenarioError) and "field 'kind' is 'survival'" in str(r.exception)
