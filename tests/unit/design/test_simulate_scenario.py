"""Scenario files: schema, bundled scenarios, consistency with the protocol."""

from __future__ import annotations

import copy
import math
from importlib import resources
from typing import Any

import pytest
import yaml

from pmrtrial.design.scenario import ScenarioError, list_scenarios, load_scenario, parse_scenario


def _bundled(name: str) -> dict[str, Any]:
    text = resources.files("pmrtrial.design.scenarios").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def test_bundled_scenarios_load_and_are_documented() -> None:
    assert set(list_scenarios()) == {"bachelor-as-run", "bachelor-null", "larger-confirmatory", "bari-4mg-vs-2mg"}
    for name in list_scenarios():
        s = load_scenario(name)
        assert s.name == name
        assert len(s.description) > 20 and s.sources
        assert s.visit_codes() == ("W2", "W4", "W8", "W12", "W16", "W20", "W24", "W28", "W36")  # protocol schedule
        assert s.primary_visit() == "W12"
        assert s.inclusion_threshold() == 17.0  # protocol inc-activity: CRP PMR-AS > 17


def test_bachelor_as_run_design() -> None:
    s = load_scenario("bachelor-as-run")
    # BACHELOR: 34 randomised (18 + 16), 6 centres, 1:1 (bachelor_published.yaml design)
    assert s.sample_sizes() == (34,)
    assert s.design.centres == 6
    assert s.ratio() == (1, 1)
    assert s.block_sizes() == (2, 4)  # protocol randomisation.block_sizes
    assert s.rescue.threshold == 9.35  # Dejaco 2011 absolute flare threshold
    assert s.calibration is not None


def test_sd_centre_from_icc() -> None:
    s = load_scenario("bachelor-as-run")
    v = s.variability
    # sigma_c^2 = ICC / (1 - ICC) * (sigma_b^2 + sigma_e^2)
    expected = math.sqrt(v.centre_icc / (1 - v.centre_icc) * (v.sd_subject**2 + v.sd_residual**2))
    assert v.sd_centre == pytest.approx(expected, rel=1e-15)
    # hand calculation for ICC 0.05, sd 0.5 and 0.4: sqrt(0.05/0.95 * 0.41) = sqrt(0.0215789) = 0.146898
    alt = v.model_copy(update={"centre_icc": 0.05, "sd_subject": 0.5, "sd_residual": 0.4})
    assert alt.sd_centre == pytest.approx(0.146898, abs=1e-6)


def test_n_per_arm_sweep() -> None:
    data = _bundled("larger-confirmatory")
    data["design"]["n_per_arm"] = [10, 20]
    s = parse_scenario(data)
    assert s.sample_sizes() == (20, 40)
    assert s.n_axis() == ("n per arm", (10, 20))
    assert s.design.sweeps_n


def test_rescue_probabilities_respect_from_week() -> None:
    data = _bundled("bachelor-as-run")
    data["rescue"]["probability"] = 0.3
    data["rescue"]["from_week"] = 8
    s = parse_scenario(data)
    assert s.rescue_probabilities() == (0.0, 0.0, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["arms"][0]["pmr_as_ratio"].pop("W12"), "missing \\['W12'\\]"),
        (lambda d: d["arms"][0]["pmr_as_ratio"].update({"W99": 0.5}), "unknown \\['W99'\\]"),
        (lambda d: d["arms"][0]["pmr_as_ratio"].update({"W2": -1}), "positive"),
        (lambda d: d["arms"].append(copy.deepcopy(d["arms"][0])), "exactly two arms"),
        (lambda d: d["arms"][0].update({"control": True}), "exactly one arm"),
        (lambda d: d["design"].update({"n_per_arm": 17}), "exactly one of"),
        (lambda d: d["design"].update({"centre_weights": [1, 2]}), "centre_weights"),
        (lambda d: d["arms"][0].update({"id": "other"}), "allocation_ratio"),
        (lambda d: d.update({"protocol": "nope"}), "Unknown protocol"),
        (lambda d: d["rescue"].update({"probability": {"W5": 0.2}}), "unknown visits"),
        (lambda d: d.update({"sources": []}), "sources"),
        (lambda d: d.update({"allocation_ratio": {"baricitinib": 2, "placebo": 1}}), "not a multiple"),
    ],
)
def test_invalid_scenarios(edit: Any, message: str) -> None:
    data = _bundled("bachelor-as-run")
    edit(data)
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data)


def test_unknown_name_and_bad_yaml() -> None:
    with pytest.raises(ScenarioError, match="Unknown scenario"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="YAML"):
        load_scenario("a: [1,\nb")
    with pytest.raises(ScenarioError, match="mapping"):
        load_scenario("- 1\n- 2\n")
