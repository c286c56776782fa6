"""The time-to-event scenario kind against R: Cox (Efron) and log-rank per replicate, the sustained-remission
analyses per 2x2 table, and the simulated log-rank power against rpact.

Expected values: tests/reference/values/tte_scenario.json, written by tests/reference/r/tte_scenario_reference.R
(survival::coxph ties = "efron", survival::survdiff, fisher.test, prop.test Wilson limits, rpact 3.3.4
getEventProbabilities / getPowerSurvival) from the replicates stored in tests/reference/data/tte_scenario/.
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


def test_simulated_logrank_power_matches_rpact_and_closed_form() -> None:
    # Tolerance: 4 Monte Carlo SE of the simulated power, sqrt(p (1 - p) / n_sims) (n_sims = 3000: <= 0.036).
    scenario = load_tte_scenario("next-pmr-flare-exponential")
    arm_c, arm_t = scenario.control_arm, scenario.treated_arm
    lam = arm_c.flare_hazard_per_week
    assert arm_t.flare_hazard_per_week / lam == pytest.approx(0.56, abs=1e-5)  # the rpact script's hazardRatio
    result = simulate_tte_operating_characteristics(scenario, n_sims=3000, seed=20261129, keep_replicates=False)
    rpact = {c["n_per_arm"]: c for c in VALUES["power_exponential"]}
    for point in result.points:
        ref = rpact[point.n_axis_value]
        power = point.metrics["power_logrank"]
        assert abs(power.value - ref["power"]) <= 4 * power.mcse, (point.n_axis_value, power.value, ref["power"])
        events = point.metrics["flare_events"]
        assert abs(events.value - ref["events"]) <= 4 * events.mcse, (point.n_axis_value, events.value, ref["events"])
    # the closed form the result reports (pmrtrial.design.compute_power_survival, same assumptions) equals rpact's
    assert result.closed_form is not None
    for entry in result.closed_form["points"]:
        ref = rpact[entry["n_axis_value"]]
        assert close(entry["power"], ref["power"], RTOL) and close(entry["events"], ref["events"], RTOL)
    # n per arm for 80% / 90% power: the simulated n (linear interpolation between the two bracketing swept points)
    # against the closed form, within the n that a 4-SE error of the interpolated power moves it (SE of the two
    # bracketing powers combined; slope of rpact's power curve between them)
    axis = [p.n_axis_value for p in result.points]
    powers = [p.metrics["power_logrank"].value for p in result.points]
    mcse = [p.metrics["power_logrank"].mcse for p in result.points]
    for target, key in ((0.8, "80%"), (0.9, "90%")):
        n_closed = find_sample_size_survival(
            0.56, power=target, lambda_control=lam, accrual_time=104, follow_up_time=52, dropout_rate=0.05,
            dropout_time=52,
        ).n / 2  # fmt: skip
        n_sim = result.n_for_power["power_logrank"][key]["interpolated_n"]
        hit = next(i for i, v in enumerate(powers) if v >= target)
        lo, hi = rpact[axis[hit - 1]]["power"], rpact[axis[hit]]["power"]
        slope = (hi - lo) / (axis[hit] - axis[hit - 1])
        se = math.hypot(mcse[hit - 1], mcse[hit])
        assert abs(n_sim - n_closed) <= 4 * se / slope, (target, n_sim, n_closed)
