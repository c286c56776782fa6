"""CLI: ``pmrtrial score haq-di|eq5d|sf36`` on a fresh Typer app (the lead wires the real one).

Expected numbers: Dolan 1997 (EQ-5D-3L UK) and the hand-worked examples of
the HAQ-DI (Bruce & Fries 2003) and SF-36 (Ware, Kosinski & Keller 1994) scoring rules
(HAQ-DI H1, SF-36 S3), as in the unit tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pmrtrial.cli.score_pro import register
from pmrtrial.exceptions import ScoreInputError

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    score_app = typer.Typer()
    register(score_app)
    return score_app


def test_eq5d__json_prints_index(app: typer.Typer) -> None:
    result = runner.invoke(app, ["eq5d", "--state", "11221", "--value-set", "3L-UK-1997", "--json"])
    assert result.exit_code == 0, result.output
    # Dolan 1997: 11221 = 0.760
    assert json.loads(result.output) == {"index": pytest.approx(0.760, abs=1e-12)}


def test_eq5d__contract_example(app: typer.Typer) -> None:
    result = runner.invoke(app, ["eq5d", "--state", "11223", "--value-set", "3L-UK-1997", "--json"])
    assert result.exit_code == 0, result.output
    # hand: 1 - 0.081 - 0.269 - 0.036 - 0.123 - 0.236 = 0.255 (Dolan 1997 coefficients)
    assert json.loads(result.output)["index"] == pytest.approx(0.255, abs=1e-12)


def test_eq5d__text_and_vas(app: typer.Typer) -> None:
    result = runner.invoke(app, ["eq5d", "-s", "55555", "--value-set", "5L-UK-2018", "--vas", "40"])
    assert result.exit_code == 0, result.output
    # Devlin 2018: 55555 = -0.285
    assert "-0.285" in result.output and "EQ VAS: 40" in result.output
    out = runner.invoke(app, ["eq5d", "-s", "11111", "--value-set", "5L-FR-2020", "--vas", "70", "--json"])
    assert json.loads(out.output) == {"index": 1.0, "vas": 70.0}


def test_eq5d__value_set_is_required(app: typer.Typer) -> None:
    result = runner.invoke(app, ["eq5d", "--state", "11111"])
    assert result.exit_code != 0
    assert "--value-set" in result.output


def test_eq5d__bad_input_raises_score_input_error(app: typer.Typer) -> None:
    bad_state = runner.invoke(app, ["eq5d", "--state", "11224", "--value-set", "3L-UK-1997"])
    assert isinstance(bad_state.exception, ScoreInputError)
    assert "11224" in str(bad_state.exception)
    bad_set = runner.invoke(app, ["eq5d", "--state", "11111", "--value-set", "FR"])
    assert isinstance(bad_set.exception, ScoreInputError)
    bad_vas = runner.invoke(app, ["eq5d", "--state", "11111", "--value-set", "3L-FR-2013", "--vas", "120"])
    assert isinstance(bad_vas.exception, ScoreInputError)


H1_ITEMS = [
    "dressing_dress=2",
    "arising_chair=1",
    "eating_cut_meat=1",
    "walking_outdoors=2",
    "hygiene_toilet=3",
    "reach_overhead_object=1",
    "grip_faucets=1",
    "activities_chores=2",
    "arising_help=true",
    "walking_aid=true",
    "reach_aid=yes",
]


def test_haq_di__options_json(app: typer.Typer) -> None:
    args = ["haq-di", "--json"]
    for item in H1_ITEMS:
        args += ["--item", item]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["score"] == pytest.approx(1.875, abs=1e-12)  # Bruce & Fries 2003 case H1 with aids: 15/8
    assert payload["reason"] is None
    without = runner.invoke(app, [*args, "--without-aids"])
    assert json.loads(without.output)["score"] == pytest.approx(1.625, abs=1e-12)  # H1 without aids: 13/8


def test_haq_di__file_and_missing_reason(app: typer.Typer, tmp_path: Path) -> None:
    # Bruce & Fries 2003 case H3: five categories answered -> missing
    answers = {
        "dressing_dress": 1,
        "arising_bed": 1,
        "eating_lift_cup": 1,
        "walking_steps": 1,
        "hygiene_toilet": 1,
    }
    path = tmp_path / "haq.json"
    path.write_text(json.dumps(answers))
    result = runner.invoke(app, ["haq-di", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert "missing" in result.output and "only 5 of 8" in result.output
    # an option adds the sixth category: 6/6 = 1.000 (Bruce & Fries 2003 case H2)
    six = runner.invoke(app, ["haq-di", "--file", str(path), "-i", "reach_pick_up_clothing=1"])
    assert "1.000" in six.output


def test_haq_di__out_of_range_names_item(app: typer.Typer) -> None:
    result = runner.invoke(app, ["haq-di", "-i", "walking_steps=4"])
    assert isinstance(result.exception, ScoreInputError)
    assert "walking_steps" in str(result.exception) and "4" in str(result.exception)
    malformed = runner.invoke(app, ["haq-di", "-i", "walking_steps"])
    assert isinstance(malformed.exception, ScoreInputError)
    not_int = runner.invoke(app, ["haq-di", "-i", "walking_steps=two"])
    assert isinstance(not_int.exception, ScoreInputError) and "walking_steps" in str(not_int.exception)


S3 = {
    "q3a": 1, "q3b": 2, "q3c": 2, "q3d": 2, "q3e": 3, "q3f": 3, "q3g": 2, "q3h": 3, "q3i": 3, "q3j": 3,
    "q4a": 1, "q4b": 1, "q4c": 2, "q4d": 2, "q5a": 2, "q5b": 2, "q5c": 1, "q7": 3, "q8": 2,
    "q1": 3, "q11a": 4, "q11b": 2, "q11c": 3, "q11d": 3, "q9a": 3, "q9e": 4, "q9g": 4, "q9i": 3,
    "q6": 2, "q10": 4, "q9b": 5, "q9c": 5, "q9d": 3, "q9f": 4, "q9h": 3,
}  # fmt: skip


def test_sf36__file_json(app: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "sf36.json"
    path.write_text(json.dumps({**S3, "q2": None}))
    result = runner.invoke(app, ["sf36", "--file", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    # Ware, Kosinski & Keller 1994 case S3: PF 70, BP 62, PCS 42.552, MCS 47.187
    assert payload["pf"] == pytest.approx(70.0)
    assert payload["bp"] == pytest.approx(62.0)
    assert payload["pcs"] == pytest.approx(42.552, abs=5e-4)
    assert payload["mcs"] == pytest.approx(47.187, abs=5e-4)
    assert payload["scoring"] == "SF-36 v1 standard, 1990 US norms"


def test_sf36__options_text(app: typer.Typer) -> None:
    args = ["sf36"]
    for key, value in S3.items():
        args += ["-i", f"{key}={value}"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "PCS 42.552" in result.output and "MCS 47.187" in result.output  # Ware, Kosinski & Keller 1994 case S3
    only_pf = runner.invoke(app, ["sf36", "-i", "q3a=3", "-i", "q3b=NA"])
    assert "PCS missing" in only_pf.output


def test_sf36__bad_file(app: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("[1, 2]")
    result = runner.invoke(app, ["sf36", "--file", str(path)])
    assert isinstance(result.exception, ScoreInputError)
    missing = runner.invoke(app, ["sf36", "--file", str(tmp_path / "nope.json")])
    assert isinstance(missing.exception, ScoreInputError)
