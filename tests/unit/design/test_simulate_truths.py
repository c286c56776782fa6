"""The bundled truth table (``pmrtrial/design/scenarios/truths.json``) is what the large simulation gives.

The simulator reads a bundled scenario's true effect from the table instead of re-simulating 2 million
participants per arm in every process. These tests recompute it (``use_table=False``) and require the stored
values to be identical, so the table cannot go stale: after changing the model, bump ``TRUTH_VERSION`` and run
``PYTHONPATH=src python -m tests.unit.design.test_simulate_truths`` to regenerate it.
"""

from __future__ import annotations

import json
from importlib import resources

import pytest

from pmrtrial.design.scenario import list_scenarios, load_scenario
from pmrtrial.design.simulate import (
    _TRUTH_CACHE,
    TRUTH_VERSION,
    _model_key,
    compute_true_effect,
    truth_key,
    write_truth_table,
)


def _table() -> dict:  # type: ignore[type-arg]
    return json.loads(resources.files("pmrtrial.design.scenarios").joinpath("truths.json").read_text("utf-8"))


def test_table__covers_every_bundled_scenario_at_current_version():
    table = _table()
    assert table["truth_version"] == TRUTH_VERSION
    assert sorted(table["scenarios"].values()) == sorted(list_scenarios())


@pytest.mark.parametrize("name", ["bachelor-as-run", "bachelor-null"])
def test_table__equals_recomputed_large_simulation(name):
    scenario = load_scenario(name)
    _TRUTH_CACHE.clear()
    recomputed = compute_true_effect(scenario, use_table=False)  # the large simulation itself
    _TRUTH_CACHE.clear()
    stored = compute_true_effect(scenario)  # read from the table
    assert stored == recomputed
    assert truth_key(_model_key(scenario), recomputed.n_per_arm) in _table()["truths"]


def test_truth_key__changes_with_model_size_and_version():
    scenario = load_scenario("bachelor-as-run")
    key = _model_key(scenario)
    assert truth_key(key, 1000) != truth_key(key, 2000)
    assert truth_key(key, 1000) != truth_key(key.replace("0.", "0.0", 1), 1000)


def test_unknown_scenario_model__falls_back_to_the_large_simulation():
    scenario = load_scenario("bachelor-as-run")
    _TRUTH_CACHE.clear()
    small = compute_true_effect(scenario, n_per_arm=20_000)  # not in the table: simulated
    assert small.n_per_arm == 20_000 and small.method == "large simulation"
    assert truth_key(_model_key(scenario), 20_000) not in _table()["truths"]


if __name__ == "__main__":  # maintenance: regenerate the bundled table
    target = resources.files("pmrtrial.design.scenarios").joinpath("truths.json")
    with resources.as_file(target) as path:
        path.write_text(json.dumps(write_truth_table(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")
