"""Time-to-event trial simulator: log-rank per replicate, power against rpact, size, seed, input errors."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pmrtrial.design import TteScenario, analyse_tte_trials, logrank_statistics, simulate_tte_trials
from pmrtrial.exceptions import PmrTrialError, ScoreInputError
from pmrtrial.stats import logrank_test

SURVIVAL_DESIGN = Path(__file__).resolve().parents[2] / "reference" / "values" / "survival_design.json"


@pytest.fixture(scope="module")
def saphyr_like() -> dict[str, Any]:
    """rpact 3.3.4 getSampleSizeSurvival output (tests/reference/r/survival_design_reference.R)."""
    cases = json.loads(SURVIVAL_DESIGN.read_text())["sample_size"]
    case: dict[str, Any] = next(c for c in cases if c["name"] == "saphyr_like_80")
    return case


def _scenario(case: dict[str, Any], hazard_ratio: float) -> TteScenario:
    # rpact's time unit is arbitrary (months there); the simulator reads the same numbers as weeks, which
    # leaves every hazard x time product, hence the power, unchanged.
    eta = -math.log(1 - case["dropout"]) / case["dropout_time"]
    per_arm = math.ceil(case["n_control"])  # 80.9 -> 81 per arm
    return TteScenario(
        n_control=per_arm, n_treated=per_arm, accrual_weeks=case["accrual"], follow_up_weeks=case["follow_up"],
        median_control_weeks=case["median_control"], hazard_ratio=hazard_ratio,
        dropout_hazard_control=eta, dropout_hazard_treated=eta,
    )  # fmt: skip


def test_vectorised_logrank_equals_logrank_test() -> None:
    sc = TteScenario(n_control=30, n_treated=25, accrual_weeks=20, follow_up_weeks=30, median_control_weeks=15,
                     hazard_ratio=0.6, dropout_hazard_control=0.01, dropout_hazard_treated=0.02)  # fmt: skip
    sim = simulate_tte_trials(sc, n_sims=6, seed=11)
    # Rounded to whole weeks as well, so that tied times (survdiff's grouping) are exercised.
    for time in (sim.time, np.ceil(sim.time)):
        o_e, _var, chisq = logrank_statistics(time, sim.event, sim.group)
        for i in range(sim.n_sims):
            ref = logrank_test(time[i], sim.event[i], sim.group)  # itself checked against R survdiff
            assert chisq[i] == pytest.approx(ref.statistic, abs=1e-10, rel=1e-10)
            d = ref.details
            assert o_e[i] == pytest.approx(d["observed_treated"] - d["expected_treated"], abs=1e-10)
    assert len(np.unique(np.ceil(sim.time[0]))) < sim.time.shape[1]  # the rounded times do have ties


def test_power_matches_rpact(saphyr_like: dict[str, Any]) -> None:
    # rpact's power is 0.80 at its real n = 161.8; 162 participants add ~0.1 expected events (93.5 vs 93.39),
    # which moves the Schoenfeld power by < 0.001, far below 3 Monte Carlo SE (~0.019 at 4,000 replicates).
    oc = analyse_tte_trials(simulate_tte_trials(_scenario(saphyr_like, saphyr_like["hr"]), n_sims=4000, seed=2026))
    assert abs(oc.power - saphyr_like["power"]) <= 3 * oc.power_mc_se
    assert oc.mean_events == pytest.approx(saphyr_like["events"], rel=0.02)  # rpact expected events 93.39
    assert oc.median_hazard_ratio == pytest.approx(saphyr_like["hr"], abs=0.03)
    assert oc.n_sims == 4000 and oc.seed == 2026 and oc.n_not_estimable == 0


def test_size_under_null(saphyr_like: dict[str, Any]) -> None:
    oc = analyse_tte_trials(simulate_tte_trials(_scenario(saphyr_like, 1.0), n_sims=4000, seed=7), alpha=0.05)
    se = math.sqrt(0.05 * 0.95 / 4000)  # Monte Carlo SE at the nominal level
    assert abs(oc.power - 0.05) <= 3 * se
    assert oc.power_mc_se == pytest.approx(math.sqrt(oc.power * (1 - oc.power) / 4000))


def test_deterministic_from_seed(saphyr_like: dict[str, Any]) -> None:
    sc = _scenario(saphyr_like, 0.7)
    a, b = simulate_tte_trials(sc, 50, seed=5), simulate_tte_trials(sc, 50, seed=5)
    np.testing.assert_array_equal(a.time, b.time)
    np.testing.assert_array_equal(a.event, b.event)
    assert analyse_tte_trials(a) == analyse_tte_trials(b)
    assert not np.array_equal(a.time, simulate_tte_trials(sc, 50, seed=6).time)


def test_piecewise_hazard_after_change_week() -> None:
    # No censoring before week 40. Control hazard lam = log 2 / 12 up to week 6, 3 * lam after:
    # S(10) = exp(-6 lam - 3 lam (10 - 6)) = exp(-18 lam) = 2^(-1.5) = 0.3536 (hand arithmetic).
    sc = TteScenario(n_control=100, n_treated=100, accrual_weeks=0, follow_up_weeks=40, median_control_weeks=12,
                     hazard_ratio=1.0, hazard_change_week_control=6, hazard_change_week_treated=None,
                     hazard_multiplier_after=3.0)  # fmt: skip
    sim = simulate_tte_trials(sc, 200, seed=3)
    control = sim.time[:, :100]
    expected = 2**-1.5
    se = math.sqrt(expected * (1 - expected) / control.size)
    assert abs(float(np.mean(control > 10)) - expected) <= 4 * se
    treated_expected = 2 ** (-10 / 12)  # no change in the treated arm: S(10) = exp(-10 lam)
    assert abs(float(np.mean(sim.time[:, 100:] > 10)) - treated_expected) <= 4 * se


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("n_control", 0, "> 0"),
        ("n_treated", 2.5, "an integer"),
        ("hazard_ratio", -1.0, "> 0"),
        ("median_control_weeks", math.nan, "> 0"),
        ("dropout_hazard_treated", -0.1, ">= 0"),
        ("accrual_weeks", "24", ">= 0"),
        ("hazard_change_week_control", -3, ">= 0"),
    ],
)
def test_bad_scenario_names_field(field: str, value: Any, accepted: str) -> None:
    good = {"n_control": 10, "n_treated": 10, "accrual_weeks": 10, "follow_up_weeks": 10,
            "median_control_weeks": 12, "hazard_ratio": 0.5}  # fmt: skip
    with pytest.raises(ScoreInputError) as info:
        TteScenario(**{**good, field: value})
    assert info.value.field == field and accepted in str(info.value) and str(value) in str(info.value)


def test_bad_run_arguments() -> None:
    sc = TteScenario(n_control=10, n_treated=10, accrual_weeks=10, follow_up_weeks=10, median_control_weeks=12,
                     hazard_ratio=0.5)  # fmt: skip
    with pytest.raises(PmrTrialError, match="n_sims"):
        simulate_tte_trials(sc, 0, seed=1)
    with pytest.raises(PmrTrialError, match="seed"):
        simulate_tte_trials(sc, 10, seed=-1)
    with pytest.raises(PmrTrialError, match="alpha"):
        analyse_tte_trials(simulate_tte_trials(sc, 10, seed=1), alpha=1.5)
    with pytest.raises(PmrTrialError, match="group"):
        logrank_statistics([[1.0, 2.0]], [[1, 1]], [0, 2])
    with pytest.raises(PmrTrialError, match="event"):
        logrank_statistics([[1.0, 2.0]], [[1, 2]], [0, 1])
    with pytest.raises(PmrTrialError, match="time"):
        logrank_statistics([[1.0, math.inf]], [[1, 1]], [0, 1])
    assert dataclasses.is_dataclass(sc)
