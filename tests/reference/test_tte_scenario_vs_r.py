"""The time-to-event scenario kind against R: Cox (Efron) and log-rank per replicate, the sustained-remission
analyses per 2x2 table, and the simulated log-rank power against R's own simulation and rpact's closed form.

Expected values: tests/reference/values/tte_scenario.json, written by tests/reference/r/tte_scenario_reference.R
(survival::coxph ties = "efron", survival::survdiff, fisher.test, prop.test Wilson limits, rpact 3.3.4
getEventProbabilities / getPowerSurvival, and a base-R simulation of the exponential design with survdiff) from
the replicates stored in tests/reference/data/tte_scenario/.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pmrtrial.design import cox_efron_statistics, find_sample_size_survival, logrank_statistics
from pmrtrial.design.simulate_tte_scenario import (
    _binary_analyses,
    load_tte_scenario,
    simulate_tte_operating_characteristics,
)
from tests.reference._util import DATA, close, load_values

RTOL = 1e-6
VALUES = load_values("tte_scenario.json")


def _padded_replicates() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """The stored replicates as rows of one array, padded with 'not at risk' participants (time -1, censored)."""
    data = pd.read_csv(DATA / "tte_scenario" / "flare_replicates.csv")
    groups = [g for _, g in data.groupby("replicate", sort=True)]
    width = max(len(g) for g in groups)
    time = np.full((len(groups), width), -1.0)
    event = np.zeros((len(groups), width), dtype=bool)
    treated = np.zeros((len(groups), width), dtype=np.int64)
    for i, g in enumerate(groups):
        k = len(g)
        time[i, :k], event[i, :k], treated[i, :k] = g["time_weeks"], g["event"] == 1, g["treated"]
    return time, event, treated, [int(g["replicate"].iloc[0]) for g in groups]


def test_cox_efron_per_replicate_matches_coxph() -> None:
    time, event, treated, ids = _padded_replicates()
    fit = cox_efron_statistics(time, event, treated)
    want = {c["replicate"]: c for c in VALUES["cox"]}
    assert any(want[i]["max_tied_events"] >= 2 for i in ids)  # R saw tied flare times: the Efron terms are used
    for row, rep in enumerate(ids):
        w = want[rep]
        assert fit.estimable[row] and fit.converged[row]
        assert close(float(fit.log_hr[row]), w["coef"], RTOL), (rep, fit.log_hr[row], w["coef"])
        assert close(float(fit.se[row]), w["se"], RTOL), (rep, fit.se[row], w["se"])
        assert close(float(fit.loglik[row]), w["loglik"], RTOL), (rep, fit.loglik[row], w["loglik"])


def test_logrank_per_replicate_matches_survdiff() -> None:
    time, event, treated, ids = _padded_replicates()
    o_e, _var, chisq = logrank_statistics(time, event, treated)
    want = {c["replicate"]: c for c in VALUES["cox"]}
    for row, rep in enumerate(ids):
        assert close(float(chisq[row]), want[rep]["logrank_chisq"], RTOL), rep
        assert close(float(o_e[row]), want[rep]["logrank_o_minus_e"], RTOL), rep


@pytest.mark.parametrize("case", VALUES["binary"], ids=lambda c: f"rep{c['replicate']}")
def test_sustained_remission_analyses_match_r(case: dict[str, Any]) -> None:
    out = _binary_analyses(
        np.array([case["x_treated"]]), case["n_treated"], np.array([case["x_control"]]), case["n_control"], 0.95
    )
    for key in ("fisher_p", "rd", "rd_lo", "rd_hi", "rr", "rr_lo", "rr_hi", "rr_p"):
        assert close(float(out[key][0]), case[key], RTOL), (key, out[key][0], case[key])


def test_design_power_cli_matches_rpact_for_the_exponential_scenario() -> None:
    # `pmrtrial design power --endpoint time-to-event` with the scenario's assumptions (control median ln 2 / lambda)
    from typer.testing import CliRunner

    from pmrtrial.cli.design import app

    lam = load_tte_scenario("next-pmr-flare-exponential").control_arm.flare_hazard_per_week
    for case in VALUES["power_exponential"]:
        args = ["power", "--endpoint", "time-to-event", "--hr", "0.56", "--n", str(2 * case["n_per_arm"]),
                "--median-control", repr(math.log(2) / lam), "--accrual", "104", "--follow-up", "52",
                "--dropout", "0.05", "--dropout-time", "52", "--json"]  # fmt: skip
        out = CliRunner().invoke(app, args)
        assert out.exit_code == 0, out.output
        res = json.loads(out.output)
        assert close(res["power"], case["power"], RTOL) and close(res["events"], case["events"], RTOL)


def _interpolated_n(axis: list[int], powers: list[float], target: float) -> tuple[float, int]:
    """n where the power curve crosses ``target`` (linear between the bracketing swept points), and the index above."""
    hit = next(i for i, v in enumerate(powers) if v >= target)
    x0, x1, y0, y1 = axis[hit - 1], axis[hit], powers[hit - 1], powers[hit]
    return x0 + (target - y0) * (x1 - x0) / (y1 - y0), hit


def test_simulated_logrank_power_matches_r_simulation_and_rpact() -> None:
    # Expected values: R's own simulation of the same design (10,000 replicates per n, survdiff) and rpact's closed
    # form (getPowerSurvival, Schoenfeld), both in tte_scenario.json.
    scenario = load_tte_scenario("next-pmr-flare-exponential")
    arm_c, arm_t = scenario.control_arm, scenario.treated_arm
    lam = arm_c.flare_hazard_per_week
    assert arm_t.flare_hazard_per_week / lam == pytest.approx(0.56, rel=1e-12)  # the R script's hazardRatio
    result = simulate_tte_operating_characteristics(scenario, n_sims=3000, seed=20261129, keep_replicates=False)
    rpact = {c["n_per_arm"]: c for c in VALUES["power_exponential"]}
    r_sim = {c["n_per_arm"]: c for c in VALUES["r_simulation_exponential"]}
    for point in result.points:
        n = point.n_axis_value
        power = point.metrics["power_logrank"]
        r_power = r_sim[n]["power"]
        r_se = math.sqrt(r_power * (1 - r_power) / r_sim[n]["n_replicates"])
        # 1. against the independent R simulation: 4 combined Monte Carlo SE
        assert abs(power.value - r_power) <= 4 * math.hypot(power.mcse, r_se), (n, power.value, r_power)
        # 2. against rpact's closed form: 4 Monte Carlo SE plus the closed form's own error as R's simulation
        #    measures it (Schoenfeld assumes equal arms at risk throughout; here it is optimistic by up to ~2 points)
        gap = abs(r_power - rpact[n]["power"])
        assert abs(power.value - rpact[n]["power"]) <= 4 * power.mcse + gap, (n, power.value, rpact[n]["power"])
        # 3. expected flares: exact in rpact (no approximation), 4 Monte Carlo SE; and R's simulated mean
        events = point.metrics["flare_events"]
        assert abs(events.value - rpact[n]["events"]) <= 4 * events.mcse, (n, events.value, rpact[n]["events"])
        assert r_sim[n]["mean_events"] == pytest.approx(rpact[n]["events"], rel=0.01)
    # the closed form the result reports (pmrtrial.design.compute_power_survival, same assumptions) equals rpact's
    assert result.closed_form is not None
    for entry in result.closed_form["points"]:
        ref = rpact[entry["n_axis_value"]]
        assert close(entry["power"], ref["power"], RTOL) and close(entry["events"], ref["events"], RTOL)
    # n per arm for 80% / 90% power: ours against R's simulated curve, within the n that 4 combined SE of the
    # interpolated power move it at the local slope of R's curve
    axis = [p.n_axis_value for p in result.points]
    r_powers = [r_sim[n]["power"] for n in axis]
    mcse = [p.metrics["power_logrank"].mcse for p in result.points]
    for target, key in ((0.8, "80%"), (0.9, "90%")):
        n_sim = result.n_for_power["power_logrank"][key]["interpolated_n"]
        n_r, hit = _interpolated_n(axis, r_powers, target)
        slope = (r_powers[hit] - r_powers[hit - 1]) / (axis[hit] - axis[hit - 1])
        r_se = math.sqrt(target * (1 - target) / 10_000)
        se = math.sqrt(max(mcse[hit - 1], mcse[hit]) ** 2 + r_se**2)
        assert abs(n_sim - n_r) <= 4 * se / slope, (target, n_sim, n_r)
        # the closed form (pmrtrial design samplesize --endpoint time-to-event) asks for no more than the simulation
        n_closed = find_sample_size_survival(
            0.56, power=target, lambda_control=lam, accrual_time=104, follow_up_time=52, dropout_rate=0.05,
            dropout_time=52,
        ).n / 2  # fmt: skip
        assert n_closed <= n_r + 4 * se / slope, (target, n_closed, n_r)
