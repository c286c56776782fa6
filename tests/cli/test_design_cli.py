"""CLI of the design engine (typer sub-app), via CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmrtrial.cli.design import app
from pmrtrial.exceptions import ScoreInputError

runner = CliRunner()


def test_samplesize_json_fisher_and_normal() -> None:
    # Expected sizes: normal 13 (R power.prop.test n = 12.377), fisher-exact 16 (R fisher.test enumeration:
    # power 0.872315 at 15, 0.910458 at 16), see tests/reference/values/design.json.
    for method, n in (("normal", 13), ("fisher-exact", 16)):
        result = runner.invoke(
            app,
            [
                "samplesize",
                "--p0",
                "0.2",
                "--p1",
                "0.8",
                "--alpha",
                "0.05",
                "--power",
                "0.9",
                "--method",
                method,
                "--json",
            ],
        )
        assert result.exit_code == 0, result.output
        rows = json.loads(result.output)
        assert [r["method"] for r in rows] == [method]
        assert rows[0]["n_per_group"] == n
        assert ("n_always" in rows[0]) == (method == "fisher-exact")
    assert rows[0]["power_at_n"] == pytest.approx(0.910458, abs=1e-6)


def test_samplesize_table_lists_all_methods() -> None:
    result = runner.invoke(app, ["samplesize", "--p0", "0.2", "--p1", "0.8", "--n-max", "25"])
    assert result.exit_code == 0, result.output
    for method in ("normal", "normal-cc", "arcsine", "fisher", "boschloo"):
        assert method in result.output


def test_power_json_unequal() -> None:
    # R: exact_power(p0 = 0.2, p1 = 0.8, n0 = 15, n1 = 18, alpha = 0.05) in design.json
    ref = json.loads((Path(__file__).parents[1] / "reference/values/design.json").read_text())
    expected = next(
        c["power"]
        for c in ref["fisher_exact"]["power"]
        if (c["n_control"], c["n_treated"], c["p_control"]) == (15, 18, 0.2)
    )
    result = runner.invoke(
        app,
        [
            "power",
            "--p0",
            "0.2",
            "--p1",
            "0.8",
            "--n",
            "15",
            "--n1",
            "18",
            "--method",
            "fisher-exact",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["power"] == pytest.approx(expected, abs=1e-10)


def test_curve_writes_png_and_svg(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["curve", "--p0", "0.2", "--p1", "0.8", "--n-min", "5", "--n-max", "20", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    png = tmp_path / "power_curve.png"
    svg = tmp_path / "power_curve.svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text()
    assert "<svg" in text and "fisher-exact" in text and "participants per group" in text


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["power", "--p0", "1.2", "--p1", "0.8", "--n", "10"], "--p0"),
        (["power", "--p0", "0.2", "--p1", "0", "--n", "10"], "--p1"),
        (["power", "--p0", "0.2", "--p1", "0.8", "--n", "0"], "--n"),
        (["power", "--p0", "0.2", "--p1", "0.8", "--n", "10", "--alpha", "1"], "--alpha"),
        (["power", "--p0", "0.2", "--p1", "0.8", "--n", "10", "--method", "chisq"], "--method"),
        (["samplesize", "--p0", "0.2", "--p1", "0.8", "--method", "wald"], "--method"),
        (["samplesize", "--p0", "0.2", "--p1", "0.2"], "--p1"),
        (["curve", "--p0", "0.2", "--p1", "0.8", "--n-min", "9", "--n-max", "5", "--out", "x"], "--n-max"),
    ],
)
def test_bad_input_raises_named_error(args: list[str], option: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert isinstance(result.exception, ScoreInputError)
    message = str(result.exception)
    assert option in message and "\n" not in message


def test_design_explain__bachelor_17_reproduced_by_fisher_16_plus_5pct_dropout(capsys):
    # Deck: 20% vs 80%, two-sided alpha 0.05, power 90%, 17 per group. Exact Fisher gives 16 (stats-notes table,
    # R enumeration in tests/reference/values/design.json); ceil(16 / 0.95) = ceil(16.84) = 17 (hand).
    from pmrtrial.cli import main

    code = main(["design", "explain", "--n", "17", "--p0", "0.2", "--p1", "0.8", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["label"] == "inference"
    matching = [c for c in data["candidates"] if c["matches"]]
    assert any(c["method"] == "fisher-exact" and c["dropout"] == 0.05 for c in matching)
    assert not any(
        c["dropout"] == 0 and c["n"] == 17 for c in data["candidates"]
    )  # no method gives 17 without allowance


def test_time_to_event_samplesize_and_power_match_rpact() -> None:
    # rpact getSampleSizeSurvival / getPowerSurvival, stored by tests/reference/r/survival_design_reference.R
    ref = json.loads((Path(__file__).parents[1] / "reference/values/survival_design.json").read_text())
    saphyr = next(c for c in ref["sample_size"] if c["name"] == "saphyr_like_90")
    result = runner.invoke(
        app,
        [
            "samplesize", "--endpoint", "time-to-event", "--hr", "0.56", "--power", "0.9", "--method", "schoenfeld",
            "--median-control", "12", "--accrual", "24", "--follow-up", "12", "--dropout", "0.1", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["events"] == pytest.approx(saphyr["events"], rel=1e-6)
    assert row["n"] == pytest.approx(saphyr["n"], rel=1e-6)
    assert (row["events_required"], row["n_required"]) == (126, 217)
    power_ref = next(c for c in ref["power"] if c["events"] == 69 and c["method"] == "Freedman")
    result = runner.invoke(
        app,
        ["power", "--endpoint", "time-to-event", "--hr", "0.56", "--events", "69", "--method", "freedman", "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["power"] == pytest.approx(power_ref["power"], rel=1e-6)


def test_time_to_event_without_hr_raises_a_named_error() -> None:
    # the main app turns ScoreInputError into one line on stderr (as for every other bad input here)
    result = runner.invoke(app, ["samplesize", "--endpoint", "time-to-event"])
    assert isinstance(result.exception, ScoreInputError) and result.exception.field == "--hr"
    result = runner.invoke(app, ["power", "--endpoint", "survival", "--hr", "0.5", "--events", "9"])
    assert isinstance(result.exception, ScoreInputError) and result.exception.field == "--endpoint"
