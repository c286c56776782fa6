"""The simulator gives identical results in-process and on a local Dask cluster (2 worker processes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from pmrtrial.cli.simulate import app
from pmrtrial.design.scenario import load_scenario
from pmrtrial.design.simulate import REPLICATE_FIELDS, simulate_operating_characteristics

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Any, Any]]:
    from pmrtrial.design.simulate_dask import start_local_cluster

    client, local_cluster = start_local_cluster(2, processes=True)
    try:
        yield client, local_cluster
    finally:
        client.close()
        local_cluster.close()


def test_local_cluster_matches_in_process(cluster: tuple[Any, Any]) -> None:
    client, _ = cluster
    scenario = load_scenario("bachelor-as-run")
    kwargs = {"n_sims": 2100, "seed": 11, "truth_n_per_arm": 20_000}
    local = simulate_operating_characteristics(scenario, batch_size=2000, **kwargs)
    remote = simulate_operating_characteristics(scenario, batch_size=700, client=client, **kwargs)
    assert remote.executor.startswith("dask")
    for name in REPLICATE_FIELDS:
        a, b = local.replicates[0][name], remote.replicates[0][name]
        if a.dtype.kind in "biu":
            assert np.array_equal(a, b), name  # integer outcomes: bitwise
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, equal_nan=True, err_msg=name)
    for key, est in local.points[0].metrics.items():
        assert remote.points[0].metrics[key].value == pytest.approx(est.value, rel=1e-12, abs=1e-15), key


def test_cli_scheduler_option(cluster: tuple[Any, Any], tmp_path: Path) -> None:
    _, local_cluster = cluster
    args = ["bachelor-null", "--n-sims", "1200", "--seed", "5", "--truth-n", "20000", "--quiet", "--fisher-only"]
    on_cluster = CliRunner().invoke(
        app, [*args, "--scheduler", local_cluster.scheduler_address, "--out", str(tmp_path / "d")]
    )
    assert on_cluster.exit_code == 0, on_cluster.output
    in_process = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "p")])
    assert in_process.exit_code == 0, in_process.output
    d = json.loads((tmp_path / "d" / "results.json").read_text())
    p = json.loads((tmp_path / "p" / "results.json").read_text())
    assert d["executor"].startswith("dask")
    assert d["points"] == p["points"]
