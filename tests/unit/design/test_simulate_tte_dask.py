"""The time-to-event scenario kind gives identical results in-process and on a local Dask cluster."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from pmrtrial.design.simulate_tte_scenario import (
    TTE_REPLICATE_FIELDS,
    load_tte_scenario,
    simulate_tte_operating_characteristics,
)

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


def test_dask_matches_in_process(cluster: tuple[Any, Any]) -> None:
    client, _ = cluster
    scenario = load_tte_scenario("next-pmr-flare").model_copy(
        update={"design": load_tte_scenario("next-pmr-flare").design.model_copy(update={"n_per_arm": [40, 60]})}
    )
    local = simulate_tte_operating_characteristics(scenario, n_sims=2100, seed=11, batch_size=2000)
    seen: list[int] = []
    remote = simulate_tte_operating_characteristics(
        scenario, n_sims=2100, seed=11, batch_size=700, client=client, progress=seen.append
    )
    assert remote.executor.startswith("dask") and sum(seen) == 2 * 2100
    for point in range(2):
        for name in TTE_REPLICATE_FIELDS:
            np.testing.assert_array_equal(local.replicates[point][name], remote.replicates[point][name], err_msg=name)
    assert local.points == remote.points and local.n_for_power == remote.n_for_power
