"""``pmrtrial demo`` routes the synthetic twin through the EDC, and the published counts still reproduce.

The demo runs once into a temporary folder: the twin is screened, consented, randomised (demo-only
override), entered visit by visit, e-signed and locked in ``OUT/edc.sqlite3``; the export
(``OUT/data``) is analysed into ``OUT/report``. Expected values are the published figures in
bachelor_published.yaml (bundled copy, ``pmrtrial.report.render.load_published``), keys named at each
assertion, and the twin itself: the export must equal it (nothing lost or altered through the EDC).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("django", reason="the [edc] extra (Django) is not installed")
synth = pytest.importorskip("pmrtrial.synth")

from pmrtrial.datasets import validate_datasets  # noqa: E402
from pmrtrial.demo.run import run_demo  # noqa: E402
from pmrtrial.io.datasets import read_datasets, read_datasets_raw  # noqa: E402
from pmrtrial.protocol import load_protocol  # noqa: E402
from pmrtrial.published import load_published  # noqa: E402
from tests.published._routes import derived_differences, id_maps, results_differences  # noqa: E402

PUB = load_published("bachelor")
PROTOCOL = load_protocol("bachelor")
SEED = 20250101  # run_demo's default seed
STAGES: list[tuple[str, int, int]] = []  # progress(stage, done, total) calls of the module's demo run


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    STAGES.clear()
    return run_demo(tmp_path_factory.mktemp("demo"), seed=SEED, progress=lambda *a: STAGES.append(a))


@pytest.fixture(scope="module")
def results(demo: Any) -> dict[str, Any]:
    return json.loads((demo.out_dir / "report" / "results.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_report_comes_from_the_locked_edc_export(demo: Any, results: dict[str, Any]) -> None:
    out: Path = demo.out_dir
    assert demo.edc is not None and demo.edc.db == (out / "edc.sqlite3").resolve()
    manifest = json.loads((out / "data" / "dataset.json").read_text(encoding="utf-8"))
    assert manifest["source"] == "pmrtrial EDC"
    assert manifest["lock_status"] == "locked"
    assert manifest["arms_masked"] is False
    assert manifest["exported_by"] == "demo-unblinded-statistician"
    assert manifest["synthetic"] is True and manifest["demo"] is True
    assert results["synthetic"] is True
    assert demo.edc.audit_ok and demo.edc.summary["audit"]["n_entries"] > 0
    for name in ("report.html", "report.pdf", "report.docx", "results.json"):
        assert (out / "report" / name).stat().st_size > 0
    # progress was reported for every EDC stage and for the analysis, each ending complete
    last = {stage: (done, total) for stage, done, total in STAGES}
    assert set(last) == {"init", "enrol", "sign", "audit", "export", "analyse"}
    assert all(done == total for done, total in last.values())
    assert last["enrol"] == (34, 34)  # 34 randomised (bachelor_published.yaml adverse_events.safety_population.total)


def test_edc_database_is_locked_signed_and_holds_no_clear_password(demo: Any) -> None:
    with sqlite3.connect(demo.edc.db) as conn:
        assert conn.execute("SELECT demo, locked FROM edc_sites_study").fetchall() == [(1, 1)]
        rows = conn.execute("SELECT locked, signed_by FROM edc_screening_participant").fetchall()
        assert len(rows) == 34
        assert all(locked == 1 and signed.startswith("demo-investigator-") for locked, signed in rows)
        roles = dict(
            conn.execute(
                "SELECT u.username, p.role FROM auth_user u JOIN edc_accounts_profile p ON p.user_id = u.id"
            ).fetchall()
        )
        hashes = [h for (h,) in conn.execute("SELECT password FROM auth_user")]
    assert roles == {
        **{f"demo-investigator-{i:02d}": "investigator" for i in range(1, 7)},
        "demo-data-manager": "data_manager",
        "demo-unblinded-statistician": "unblinded_statistician",
    }
    assert hashes and all(h.startswith("argon2$argon2id$") for h in hashes)


def test_primary__published_counts_from_the_edc_export(results: dict[str, Any]) -> None:
    # bachelor_published.yaml primary_endpoint: baricitinib {responders: 14, n: 18}, placebo {responders: 2, n: 15}
    pub = PUB["primary_endpoint"]
    got = results["primary"]["responders"]
    for arm in ("baricitinib", "placebo"):
        assert got[arm] == {"n": pub[arm]["n"], "events": pub[arm]["responders"]}
    assert got == {"baricitinib": {"n": 18, "events": 14}, "placebo": {"n": 15, "events": 2}}
    assert results["primary"]["week"] == 12.0


def test_visit_states__equal_to_published_table_at_every_visit(results: dict[str, Any]) -> None:
    # bachelor_published.yaml visit_states: {week, baricitinib/placebo: {n, le10_no_gc, le10_gc, gt10_no_gc, gt10_gc}}
    ours = {float(row["week"]): row["counts"] for row in results["visit_states"]}
    assert len(PUB["visit_states"]) >= 8
    for published in PUB["visit_states"]:
        for arm in ("baricitinib", "placebo"):
            got = ours[float(published["week"])][arm]
            want = published[arm]
            assert {k: got[k] for k in want} == want, (published["week"], arm)
            assert got["missing"] == 0


def test_serious_adverse_events_by_soc__published(results: dict[str, Any]) -> None:
    # bachelor_published.yaml adverse_events.serious_by_soc (participants with >= 1 serious AE in the SOC)
    ours = {r["soc"]: r for r in results["adverse_events"]["serious_by_soc"]}
    published = PUB["adverse_events"]["serious_by_soc"]
    assert set(ours) == {row["soc"] for row in published}
    for row in published:
        assert (ours[row["soc"]]["baricitinib"], ours[row["soc"]]["placebo"]) == (row["baricitinib"], row["placebo"])


def _canonical(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    frame["subject_id"] = frame["subject_id"].astype(str).str.removeprefix("SYN-")
    extra = [c for c in frame.columns if c not in keys]
    return frame.sort_values(keys + extra, kind="stable").reset_index(drop=True)


#: Canonical columns the EDC exports that the twin does not carry: the randomisation stratum (the EDC's
#: list is stratified by centre), the visit date and per-visit ultrasound synovitis.
EDC_ONLY = {"stratum", "visit_date", "us_synovitis"}


def _assert_same(ours: pd.DataFrame, twin: pd.DataFrame, name: str) -> None:
    assert [c for c in ours.columns if c in twin.columns] == list(twin.columns), name
    assert set(ours.columns) - set(twin.columns) <= EDC_ONLY, name
    assert len(ours) == len(twin), name
    for col in twin.columns:
        a, b = ours[col], twin[col]
        if pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(b):
            x, y = a.to_numpy(dtype=float, na_value=np.nan), b.to_numpy(dtype=float, na_value=np.nan)
            assert np.array_equal(np.isnan(x), np.isnan(y)), (name, col)
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-9, equal_nan=True, err_msg=f"{name}.{col}")
        else:
            assert (
                a.astype(object).where(a.notna(), None).tolist() == b.astype(object).where(b.notna(), None).tolist()
            ), (name, col)


def test_export_equals_the_twin__nothing_lost_or_altered(demo: Any) -> None:
    # The reference is the twin itself, validated into canonical form (same contract as the export).
    # The EDC numbers participants <site>-<nnn>; the twin calls them SYN-<site>-<nnn> (mapping checked below).
    twin = synth.generate_bachelor_twin(seed=SEED)
    expected = validate_datasets(twin.subjects, twin.visits, twin.adverse_events, protocol=PROTOCOL)
    exported = read_datasets(demo.out_dir / "data", protocol=PROTOCOL)
    assert demo.edc.summary["loaded"]["subject_ids"] == {
        sid: sid.removeprefix("SYN-") for sid in twin.subjects["subject_id"]
    }
    _assert_same(
        _canonical(exported.subjects, ["subject_id"]), _canonical(expected.subjects, ["subject_id"]), "subjects"
    )
    _assert_same(
        _canonical(exported.visits, ["subject_id", "week"]),
        _canonical(expected.visits, ["subject_id", "week"]),
        "visits",
    )
    _assert_same(
        _canonical(exported.adverse_events, ["subject_id", "onset_week", "term"]),
        _canonical(expected.adverse_events, ["subject_id", "onset_week", "term"]),
        "adverse_events",
    )
    # and the raw CSVs hold exactly the twin's rows (34 subjects, 315 visits, 40 AEs at this seed)
    subjects, visits, aes, _ = read_datasets_raw(demo.out_dir / "data")
    assert (len(subjects), len(visits), len(aes)) == (len(twin.subjects), len(twin.visits), len(twin.adverse_events))


def test_edc_route_equals_direct_route(demo: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    # The same twin and seed written directly (run_demo's route without the EDC) and analysed: results.json and
    # every derived/<endpoint>.csv equal, but for the documented differences (tests/published/_routes.py).
    direct = tmp_path_factory.mktemp("bachelor-direct") / "demo"
    run_demo(direct, seed=SEED, edc=False, formats=())
    maps = id_maps(demo.out_dir, direct / "data")
    assert results_differences(direct / "report", demo.out_dir / "report", maps) == []
    assert derived_differences(direct / "report", demo.out_dir / "report", maps) == []
