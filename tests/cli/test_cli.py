"""The command line: outputs, JSON contracts and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pmrtrial.cli import main
from pmrtrial.protocol import load_example_candidates

P1 = [
    "--crp-mg-l",
    "35",
    "--pain-vas",
    "6.6",
    "--physician-global-vas",
    "6.8",
    "--morning-stiffness-min",
    "120",
    "--upper-limb-elevation",
    "1",
]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_score_pmr_as__json_contract(capsys):
    code, out, _ = run(capsys, "score", "pmr-as", *P1, "--json")
    data = json.loads(out)
    assert code == 0
    assert data["score"] == pytest.approx(
        29.9
    )  # worked example P1, Leeb & Bird 2004 formula (hand): 3.5 + 6.6 + 6.8 + 12.0 + 1
    assert data["category"] == "high"


def test_score_pmr_as__flare_against_reference_and_response(capsys):
    # Leeb & Bird 2004: P6 = 10.2 against P2 = 4.9 -> flare by absolute rule only
    args = [
        "--crp-mg-dl",
        "1.2",
        "--pain-vas",
        "3",
        "--physician-global-vas",
        "2",
        "--morning-stiffness-min",
        "30",
        "--upper-limb-elevation",
        "1",
        "--reference-score",
        "4.9",
        "--no-oral-gc",
        "--json",
    ]
    code, out, _ = run(capsys, "score", "pmr-as", *args)
    data = json.loads(out)
    assert code == 0
    assert data["flare"]["is_flare"] is True and data["flare"]["by_change"] is False
    assert data["bachelor_responder"] is False and data["response_state"] == "gt10_no_gc"


def test_score_pmr_as__esr_version(capsys):
    args = [
        "--esr-mm-h",
        "22",
        "--pain-vas",
        "3.3",
        "--physician-global-vas",
        "0.9",
        "--morning-stiffness-min",
        "10",
        "--upper-limb-elevation",
        "0",
        "--json",
    ]
    code, out, _ = run(capsys, "score", "pmr-as", *args)
    assert code == 0 and json.loads(out)["score"] == pytest.approx(7.4)  # Leeb & Bird 2004 ESR example (hand)


def test_score_pmr_as__table_output(capsys):
    code, out, _ = run(capsys, "score", "pmr-as", *P1)
    assert code == 0 and "29.9" in out and "high" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["score", "pmr-as", *P1[:2], "--pain-vas", "16", *P1[4:]], "pain_vas"),
        (["score", "pmr-as", "--pain-vas", "1"], "Missing option"),
        (["score", "pmr-as", *P1[2:]], "--crp-mg-l"),
        (["protocol", "show", "nope"], "Unknown protocol"),
        (["eligibility", "missing.json"], "File not found"),
    ],
)
def test_cli__errors_are_one_line_with_nonzero_exit(capsys, args, fragment):
    code, _out, err = run(capsys, *args)
    assert code != 0
    assert fragment in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_classify__options_and_file(capsys, tmp_path: Path):
    args = [
        "--age-years",
        "72",
        "--bilateral-shoulder-aching",
        "--abnormal-crp-or-esr",
        "--morning-stiffness-min",
        "120",
        "--hip-pain",
        "--rf-and-acpa-negative",
        "--no-other-joints",
        "--json",
    ]
    code, out, _ = run(capsys, "classify", *args)
    data = json.loads(out)
    assert code == 0 and data["verdict"] == "pmr" and data["total"] == 6  # Dasgupta et al. 2012 case C1: 2+1+2+1
    f = tmp_path / "c3.json"
    f.write_text(
        json.dumps(
            {
                "age_years": 72,
                "bilateral_shoulder_aching": True,
                "abnormal_crp_or_esr": True,
                "morning_stiffness_min": 30,
                "hip_pain_or_limited_rom": False,
                "rf_or_acpa_positive": False,
                "other_joint_involvement": True,
            }
        )
    )
    code, out, _ = run(capsys, "classify", "--file", str(f), "--json")
    assert json.loads(out)["total"] == 2  # Dasgupta et al. 2012 case C3: 0+0+2+0
    f.write_text(json.dumps({"age": 72}))
    code, _, err = run(capsys, "classify", "--file", str(f))
    assert code != 0 and "age" in err


def test_eligibility__eligible_and_not(capsys, tmp_path: Path):
    by_id = {c["candidate_id"]: c for c in load_example_candidates()}
    ok, bad = tmp_path / "c01.json", tmp_path / "c03.json"
    ok.write_text(json.dumps(by_id["C01"]))
    bad.write_text(json.dumps(by_id["C03"]))
    code, out, _ = run(capsys, "eligibility", str(ok), "--json")
    assert code == 0 and json.loads(out)["status"] == "eligible"
    code, out, _ = run(capsys, "eligibility", str(bad), "--json")
    data = json.loads(out)
    assert code == 1 and data["status"] == "not_eligible"
    assert data["failed"][0]["id"] == "inc-activity" and "17" in data["failed"][0]["source_text"]
    code, out, _ = run(capsys, "eligibility", str(bad))
    assert "inc-activity" in out and "not_eligible" in out


def test_eligibility__bad_json_names_file_and_line(capsys, tmp_path: Path):
    f = tmp_path / "broken.json"
    f.write_text('{"age_years": 70,\n "sex": }')
    code, _, err = run(capsys, "eligibility", str(f))
    assert code != 0 and "broken.json" in err and "line 2" in err


def test_protocol_show_and_check(capsys, tmp_path: Path):
    code, out, _ = run(capsys, "protocol", "show", "bachelor")
    assert code == 0
    for fragment in ("baricitinib 4 mg/day", "baricitinib 2 mg/day", "W12", "inc-activity", "response_w12"):
        assert fragment in out
    code, out, _ = run(capsys, "protocol", "check", "bachelor", "--json")
    assert code == 0 and json.loads(out)["valid"] is True
    from pmrtrial.protocol.registry import read_bundled_text

    broken = tmp_path / "broken.yaml"
    broken.write_text(read_bundled_text("bachelor").replace("visits: [W12]", "visits: [W13]", 1))
    code, out, _ = run(capsys, "protocol", "check", str(broken))
    assert code == 1 and "PROTO-E001" in out and "INVALID" in out
    unknown = tmp_path / "unknown_method.yaml"
    unknown.write_text(read_bundled_text("bachelor").replace("analysis: [four_state_table]", "analysis: [cmh_test]"))
    code, out, _ = run(capsys, "protocol", "check", str(unknown), "--json")
    issues = json.loads(out)["issues"]
    assert code == 1 and [i["id"] for i in issues if i["severity"] == "error"] == ["PROTO-E017"]
    assert "'cmh_test'" in issues[-1]["message"] and issues[-1]["location"] == "endpoints.response_by_visit.analysis"


def test_demo__writes_outputs_into_named_folder(capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # The command's outputs and screening table, on the route without the EDC (as on an installation without the
    # [edc] extra): the EDC route through the command line is tests/published/test_demo_routes.py (SEMAPHORE).
    monkeypatch.setattr("pmrtrial.demo.run.edc_available", lambda: False)
    out_dir = tmp_path / "demo"
    code, out, err = run(capsys, "demo", "--out", str(out_dir))
    assert code == 0
    assert "the twin was written to data/ directly" in " ".join(out.split())
    assert not (out_dir / "edc.sqlite3").exists() and (out_dir / "report" / "report.pdf").stat().st_size > 0
    assert "HarfBuzz" not in out + err  # libharfbuzz-subset0 is optional; its absence is not the user's business
    assert {p.name for p in out_dir.iterdir()} >= {"protocol.json", "screening.json", "summary.md"}
    screening = json.loads((out_dir / "screening.json").read_text())
    assert [s["status"] for s in screening].count("eligible") == 1
    assert "C08" in out and "incomplete" in out


def test_console_script__no_traceback_on_error():
    proc = subprocess.run(
        [sys.executable, "-m", "pmrtrial", "score", "pmr-as", *P1[:2], "--pain-vas", "-1", *P1[4:]],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert proc.stderr.startswith("error: Invalid pain_vas") and "Traceback" not in proc.stderr


def test_score_pmr_as__decimal_commas_for_french_users(capsys):
    # P1 as a French user types it: 6,6 and 6,8 are 6.6 and 6.8 (score 29.9 by hand, as above)
    french = [a.replace(".", ",") if a[:1].isdigit() else a for a in P1]
    assert french != list(P1)
    code, out, _ = run(capsys, "score", "pmr-as", *french, "--json")
    assert code == 0 and json.loads(out)["score"] == pytest.approx(29.9)
    # the --option=value form too
    code, out, _ = run(capsys, "score", "pmr-as", *P1[2:], "--crp-mg-l=35,0", "--json")
    assert code == 0 and json.loads(out)["score"] == pytest.approx(29.9)


def test_help__imports_no_heavy_library():
    """``pmrtrial --help`` is instant: it imports none of scipy, pandas, statsmodels or django (nor typer/numpy)."""
    code = (
        "import json, sys\n"
        "from pmrtrial.cli import main\n"
        "main(['--help'])\n"
        "heavy = ('scipy', 'pandas', 'statsmodels', 'django', 'numpy', 'typer')\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    *help_lines, loaded = proc.stdout.strip().splitlines()
    assert json.loads(loaded) == []
    assert any(line.strip().startswith("score") for line in help_lines)


def test_version__prints_package_version(capsys):
    from pmrtrial import __version__

    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"pmrtrial {__version__}"


def test_unknown_command__one_line_error(capsys):
    code, out, err = run(capsys, "scroe")
    assert code == 2 and out == ""
    assert err.startswith("error: No such command 'scroe'.") and err.count("\n") == 1


def test_command_help__names_the_command(capsys):
    code, out, _ = run(capsys, "design", "power", "--help")
    assert code == 0 and "pmrtrial design power" in out


def test_demo__refuses_existing_folder_without_force(capsys, tmp_path: Path):
    out_dir = tmp_path / "demo"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("mine")
    code, _, err = run(capsys, "demo", "--out", str(out_dir))
    assert code == 2 and "--force" in err and err.count("\n") == 1
    assert [p.name for p in out_dir.iterdir()] == ["notes.txt"]  # nothing written, nothing removed


def test_demo__force_replaces_only_a_previous_demo_folder(tmp_path: Path):
    from pmrtrial.demo.run import claim_demo_folder
    from pmrtrial.exceptions import PmrTrialError

    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(PmrTrialError, match="not a previous pmrtrial demo folder"):
        claim_demo_folder(other, force=True)
    assert (other / "notes.txt").exists()
    previous = tmp_path / "previous"
    previous.mkdir()
    (previous / "summary.md").write_text("# pmrtrial demo")
    claim_demo_folder(previous, force=True)
    assert not previous.exists()
