"""The SEMAPHORE twin's adjusted risk ratios through the analysis engine against R glm + sandwich (HC0).

R: tests/reference/r/semaphore_twin_reference.R on tests/reference/data/semaphore_twin/ (the derived datasets written
by ``pmrtrial analyse TWIN --protocol semaphore --out OUT`` for the seed-2022 twin, and the twin's week-0 visits).
The test regenerates the twin, checks that the engine's derived datasets are the stored ones, and compares the
adjusted risk ratio, its Wald CI and p at 1e-6.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from pmrtrial.analysis import analyse_trial
from pmrtrial.datasets import validate_datasets
from pmrtrial.protocol import load_protocol
from pmrtrial.synth.semaphore import generate_semaphore_twin
from tests.reference._util import DATA, close, load_values

RTOL = 1e-6
ENDPOINTS = ("response_w24", "gc_free_w24")


@pytest.fixture(scope="module")
def result() -> Any:
    twin = generate_semaphore_twin(seed=2022)
    p = load_protocol("semaphore")
    ds = validate_datasets(twin.subjects, twin.visits, twin.adverse_events, protocol=p, gc_doses=twin.gc_doses)
    return analyse_trial(ds, p)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_derived_dataset_is_the_one_r_read(result: Any, endpoint: str) -> None:
    stored = pd.read_csv(DATA / "semaphore_twin" / f"{endpoint}.csv")
    mine = result.derived_datasets[endpoint].reset_index(drop=True)
    assert list(mine["subject_id"]) == list(stored["subject_id"])
    assert list(mine["value"].astype(int)) == list(stored["value"])


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_adjusted_risk_ratio_matches_r_glm_sandwich(result: Any, endpoint: str) -> None:
    want = load_values("semaphore_twin.json")[endpoint]
    entry = next(e for e in result.endpoints if e.id == endpoint).analyses["adjusted_risk_ratio"]
    assert entry["available"]
    for mine, theirs in (("estimate", "rr"), ("lo", "lo"), ("hi", "hi"), ("p", "p")):
        assert close(entry[mine], want[theirs], RTOL), (endpoint, mine, entry[mine], want[theirs])
