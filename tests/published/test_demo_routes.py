"""``pmrtrial demo --protocol semaphore|saphyr``: the twin through the demo EDC gives the same analysis as the twin
written directly (BACHELOR: ``test_demo_through_edc.py``, which reuses its own demo run).

SEMAPHORE, the faster of the two, runs through the command line itself (``python -m pmrtrial demo --protocol
semaphore`` in an empty folder, so the default output folder and the command's summary are checked too); SAPHYR
through :func:`pmrtrial.demo.run.run_demo` (no PDF or DOCX: the comparison reads ``results.json`` and the derived
datasets). Each EDC route is compared with the direct route of the same twin and seed (``run_demo(..., edc=False)``),
see ``_routes.py`` for what is compared and the fields that legitimately differ.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("django", reason="the [edc] extra (Django) is not installed")
pytest.importorskip("pmrtrial.synth")

import pmrtrial
from pmrtrial.cli import main
from pmrtrial.demo.run import run_demo
from pmrtrial.demo.twins import DEMO_PROTOCOLS
from tests.published._routes import derived_differences, id_maps, log_differences, results_differences


def _direct(tmp_path_factory: pytest.TempPathFactory, trial: str) -> Path:
    out = tmp_path_factory.mktemp(f"{trial}-direct") / "demo"
    run_demo(out, protocol=trial, edc=False, formats=())
    return out


@pytest.fixture(scope="module")
def semaphore(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cwd = tmp_path_factory.mktemp("semaphore-cli")
    src = str(Path(pmrtrial.__file__).parents[1])  # this checkout's code in the child, whatever the cwd
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])]))
    proc = subprocess.run(
        [sys.executable, "-m", "pmrtrial", "demo", "--protocol", "semaphore"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    direct = _direct(tmp_path_factory, "semaphore")
    return {"proc": proc, "cwd": cwd, "edc": cwd / "pmrtrial-demo-semaphore", "direct": direct}


@pytest.fixture(scope="module")
def saphyr(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    edc = tmp_path_factory.mktemp("saphyr-edc") / "demo"
    result = run_demo(edc, protocol="saphyr", formats=())
    assert result.edc is not None and result.edc.audit_ok
    return {"edc": edc, "direct": _direct(tmp_path_factory, "saphyr")}


def _assert_routes_equal(runs: dict[str, Any]) -> None:
    edc, direct = runs["edc"], runs["direct"]
    maps = id_maps(edc, direct / "data")
    assert results_differences(direct / "report", edc / "report", maps) == []
    assert derived_differences(direct / "report", edc / "report", maps) == []


@pytest.mark.slow
def test_semaphore_cli__default_folder_report_and_published_beside_reproduced(semaphore: dict[str, Any]) -> None:
    proc = semaphore["proc"]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [p.name for p in semaphore["cwd"].iterdir()] == ["pmrtrial-demo-semaphore"]  # the default --out
    out: Path = semaphore["edc"]
    for name in ("report.html", "report.pdf", "report.docx", "results.json"):
        assert (out / "report" / name).stat().st_size > 0
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "Published beside reproduced" in html  # the comparator twins' comparison table
    # the summary names the protocol and the number of sites of the data (not BACHELOR's 6)
    n_sites = pd.read_csv(out / "data" / "subjects.csv", dtype=str)["site_id"].nunique()
    text = " ".join(proc.stdout.split())
    assert f"semaphore 1.0, {n_sites} sites" in text and "semaphore protocol v1.0" in text
    gc_rows = len(pd.read_csv(semaphore["direct"] / "data" / "gc_doses.csv"))  # the twin's GC dose log
    assert f"{gc_rows} GC dose rows" in text and "flare assessments" not in text  # SEMAPHORE's twin has no flares


@pytest.mark.slow
def test_semaphore__edc_route_equals_direct_route(semaphore: dict[str, Any]) -> None:
    assert semaphore["proc"].returncode == 0, semaphore["proc"].stderr[-2000:]
    # the EDC route really went through the EDC, and the direct route did not
    assert json.loads((semaphore["edc"] / "data" / "dataset.json").read_text())["source"] == "pmrtrial EDC"
    assert not (semaphore["direct"] / "edc.sqlite3").exists()
    # the gc_doses log went through the GC dose log service: the twin's rows, unchanged
    maps = id_maps(semaphore["edc"], semaphore["direct"] / "data")
    assert log_differences(semaphore["direct"] / "data", semaphore["edc"] / "data", maps, "gc_doses") == []
    _assert_routes_equal(semaphore)


@pytest.mark.slow
def test_saphyr__edc_route_equals_direct_route(saphyr: dict[str, Path]) -> None:
    # gc_doses through the GC dose log service, flares through the flare log service: the twin's rows, unchanged
    maps = id_maps(saphyr["edc"], saphyr["direct"] / "data")
    for table in ("gc_doses", "flares"):
        assert log_differences(saphyr["direct"] / "data", saphyr["edc"] / "data", maps, table) == [], table
    _assert_routes_equal(saphyr)


def test_demo__unknown_protocol_is_a_one_line_error_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["demo", "--protocol", "semaphorre"])
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "'semaphorre'" in err and all(name in err for name in DEMO_PROTOCOLS)
    assert list(tmp_path.iterdir()) == []


def test_default_output_folder_per_protocol() -> None:
    from pmrtrial.demo.run import default_out_dir

    assert default_out_dir() == Path("pmrtrial-demo") == default_out_dir("bachelor")
    assert default_out_dir("semaphore") == Path("pmrtrial-demo-semaphore")
    assert default_out_dir("saphyr") == Path("pmrtrial-demo-saphyr")


@pytest.mark.parametrize("trial", DEMO_PROTOCOLS)
def test_screening_record__every_twin_participant_answers_the_protocol_and_is_eligible(trial: str) -> None:
    from pmrtrial.demo.twins import generate_twin
    from pmrtrial.edc.screening.twin_records import screening_record
    from pmrtrial.protocol import load_protocol, screen_candidate

    protocol = load_protocol(trial)
    twin = generate_twin(trial)
    baseline = {str(r["subject_id"]): r for r in twin.visits[twin.visits["week"] == 0].to_dict("records")}
    for subject in twin.subjects.to_dict("records"):
        record = screening_record(subject, baseline[str(subject["subject_id"])], protocol)
        assert list(record) == [f.name for f in protocol.eligibility.fields]
        # the twin's own values where it has them
        assert record["age_years"] == subject["age_years"]
        assert "sex" not in record or record["sex"] == subject["sex"]
        result = screen_candidate(protocol, record)
        assert result.status == "eligible", (subject["subject_id"], [o.id for o in result.failed])
