"""The simulator gives identical results in-process and on a local Dask cluster (2 worker processes)."""

from __future__ import annotations

import numpy as np
import pytest

from pmrtrial.design.scenario import load_scenario
from pmrtrial.design.simulate import REPLICATE_FIELDS, simulate_operating_characteristics

pytest.importorskip("distributed")


def test_local_cluster_matches_in_process() -> None:
    from pmrtrial.design.simulate_dask import start_local_cluster

    scenario = load_scenario("bachelor-as-run")
    kwargs = {"n_sims": 2500, "seed": 11, "truth_n_per_arm": 20_000}
    local = simulate_operating_characteristics(scenario, batch_size=2000, **kwargs)
    client, cluster = start_local_cluster(2, processes=True)
    try:
        remote = simulate_operating_characteristics(scenario, batch_size=700, client=client, **kwargs)
    finally:
        client.close()
        cluster.close()
    assert remote.executor.startswith("dask")
    for name in REPLICATE_FIELDS:
        a, b = local.replicates[0][name], remote.replicates[0][name]
        if a.dtype.kind in "biu":
            assert np.array_equal(a, b), name  # integer outcomes: bitwise
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, equal_nan=True, err_msg=name)
    for key, est in local.points[0].metrics.items():
        assert remote.points[0].metrics[key].value == pytest.approx(est.value, rel=1e-12, abs=1e-15), key
