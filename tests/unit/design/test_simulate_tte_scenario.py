"""Time-to-event scenarios (kind: time_to_event): truths, size under the null, determinism, input errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import yaml

from pmrtrial.design.scenario import ScenarioError
from pmrtrial.design.simulate_tte_scenario import (
    TTE_REPLICATE_FIELDS,
    _proportional,
    cox_limit,
    list_tte_scenarios,
    load_tte_scenario,
    scenario_kind,
    simulate_tte_operating_characteristics,
    simulate_tte_replicates,
    tte_truth,
)
from pmrtrial.exceptions import ScoreInputError
from pmrtrial.published import load_published


def _yaml(name: str) -> dict[str, Any]:
    from importlib import resources

    text = resources.files("pmrtrial.design.scenarios").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def test_bundled_scenarios_load() -> None:
    assert list_tte_scenarios() == ["next-pmr-flare", "next-pmr-flare-exponential", "saphyr-as-run", "saphyr-null"]
    for name in list_tte_scenarios():
        sc = load_tte_scenario(name)
        assert sc.name == name and sc.sources


def test_saphyr_as_run_is_calibrated_to_the_published_primary() -> None:
    pub = load_published("saphyr")["primary_endpoint"]
    truth = tte_truth(load_tte_scenario("saphyr-as-run"))
    # published 17/60 and 6/58 (NEJM 2023 abstract); the hazards are stated to 5 significant figures
    assert truth.sr_treated == pytest.approx(pub["sarilumab"]["responders"] / pub["sarilumab"]["n"], abs=5e-4)
    assert truth.sr_control == pytest.approx(pub["placebo"]["responders"] / pub["placebo"]["n"], abs=5e-4)
    # hazards not proportional (taper ends at weeks 14 and 52): the truth is the large-sample Cox limit, which
    # lies inside the published CI of the flare HR, 0.35 to 0.90 (as the scenario's calibration.achieved says)
    assert not truth.proportional_hazards
    assert 0.35 < truth.hazard_ratio < 0.90
    # and between the two piecewise hazard ratios, 0.022313 / 0.052801 = 0.4226 and 0.027891 / 0.052801 = 0.5282
    assert 0.022313 / 0.052801 < truth.hazard_ratio < 0.027891 / 0.052801


def test_truth_hazard_ratio_when_proportional() -> None:
    assert _proportional(load_tte_scenario("saphyr-as-run")) is None
    truth = tte_truth(load_tte_scenario("next-pmr-flare"))
    assert truth.proportional_hazards and truth.hazard_ratio == pytest.approx(0.02956856 / 0.052801, rel=1e-12)
    null = tte_truth(load_tte_scenario("saphyr-null"))
    assert null.hazard_ratio == 1.0 and null.risk_difference == pytest.approx(0.0, abs=1e-15)


def test_large_sample_cox_truth_equals_the_ratio_under_proportional_hazards() -> None:
    # Both arms' hazards rise by the same factor at the same week: proportional (ratio 0.5 throughout), so the
    # large-sample Cox fit used for non-proportional scenarios must recover log(0.5) within 4 of its SEs.
    data = _yaml("saphyr-as-run")
    data["protocol"] = None
    data["truth_n_per_arm"] = 100_000
    data["arms"][0].update(flare_hazard_per_week=0.02, flare_hazard_after_taper_per_week=0.03, taper_end_week=14)
    data["arms"][1].update(flare_hazard_per_week=0.04, flare_hazard_after_taper_per_week=0.06, taper_end_week=14)
    sc = load_tte_scenario(data)
    assert _proportional(sc) == pytest.approx(0.5)
    log_hr, se = cox_limit(sc)
    assert abs(log_hr - math.log(0.5)) <= 4 * se and 0 < se < 0.01


def test_null_scenario_size_within_monte_carlo_error() -> None:
    n_sims = 4000
    result = simulate_tte_operating_characteristics(load_tte_scenario("saphyr-null"), n_sims=n_sims, seed=3)
    point = result.points[0]
    assert point.is_null
    se = math.sqrt(0.05 * 0.95 / n_sims)  # Monte Carlo SE at the nominal level
    for metric in ("power_logrank", "power_cox_wald"):
        assert abs(point.metrics[metric].value - 0.05) <= 4 * se, metric
    for metric in ("power_fisher", "power_rr_katz", "power_rd_newcombe"):  # exact/score tests may be conservative
        assert point.metrics[metric].value <= 0.05 + 4 * se, metric
    assert abs(point.metrics["coverage_cox_wald"].value - 0.95) <= 4 * math.sqrt(0.95 * 0.05 / n_sims)
    assert point.counts["too_few_events"] == 0 and point.counts["cox_not_estimable"] == 0
    rows = result.table_rows()
    assert {"type_I_error_logrank", "type_I_error_fisher"} <= {r["metric"] for r in rows}


def test_results_do_not_depend_on_batch_size_or_n_sims() -> None:
    sc = load_tte_scenario("saphyr-as-run")
    a = simulate_tte_operating_characteristics(sc, n_sims=2500, seed=9, batch_size=5000)
    b = simulate_tte_operating_characteristics(sc, n_sims=2500, seed=9, batch_size=300)
    c = simulate_tte_operating_characteristics(sc, n_sims=1200, seed=9, batch_size=1000)
    for name in TTE_REPLICATE_FIELDS:
        np.testing.assert_array_equal(a.replicates[0][name], b.replicates[0][name], err_msg=name)
        np.testing.assert_array_equal(a.replicates[0][name][:1200], c.replicates[0][name], err_msg=name)
    assert a.points == b.points
    d = simulate_tte_operating_characteristics(sc, n_sims=300, seed=10)
    assert not np.array_equal(a.replicates[0]["cox_log_hr"][:300], d.replicates[0]["cox_log_hr"])
    # the patient-level replicates are those analysed
    reps = simulate_tte_replicates(sc, n_sims=5, seed=9)
    events = reps.flare_event[:, reps.group == 1].sum(axis=1)
    np.testing.assert_array_equal(events, a.replicates[0]["events_treated"][:5])


def test_sustained_remission_definition_on_replicates() -> None:
    reps = simulate_tte_replicates(load_tte_scenario("saphyr-as-run"), n_sims=50, seed=1)
    # sustained remission implies in remission at the landmark and no flare observed by week 52 (= 40 weeks after)
    assert not (reps.sustained_remission & ~reps.at_risk).any()
    sr_times = reps.flare_time[reps.sustained_remission]
    assert not reps.flare_event[reps.sustained_remission].any() and np.all(sr_times == pytest.approx(40.0))
    assert np.isnan(reps.flare_time[~reps.at_risk]).all()


def _bad(data: dict[str, Any], match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        load_tte_scenario(data)


def test_bad_input_names_the_field_the_value_and_what_is_accepted() -> None:
    data = _yaml("saphyr-as-run")
    data["arms"][0]["remission_probability"] = 1.5
    _bad(data, r"arms\.0\.remission_probability: Input should be less than or equal to 1 \(got 1\.5\)")
    data = _yaml("saphyr-as-run")
    data["arms"][1]["taper_end_week"] = 40
    _bad(data, r"arms\.placebo\.taper_end_week is 40.*ends that arm's gc_taper at week 52")
    data = _yaml("saphyr-as-run")
    data["arms"][0]["id"] = "tocilizumab"
    _bad(data, r"arms\.tocilizumab: not an arm of protocol 'saphyr' \(accepted: \['placebo', 'sarilumab'\]\)")
    data = _yaml("saphyr-as-run")
    data["design"]["follow_up_weeks"] = 26
    _bad(data, r"follow_up_weeks \(26\) must be at least timeline.sustained_remission_week \(52\)")
    data = _yaml("next-pmr-flare")
    data["design"]["n_treated"] = 50
    _bad(data, r"design: Value error, give either n_per_arm .* or both n_treated and n_control")
    data = _yaml("next-pmr-flare")
    data["arms"][0]["dropout"] = {"proportion": 1.2, "by_week": 52}
    _bad(data, r"arms\.0\.dropout\.proportion: Input should be less than 1 \(got 1\.2\)")
    data = _yaml("next-pmr-flare")
    data["timeline"]["flare_hazard"] = 1
    _bad(data, r"timeline\.flare_hazard: Extra inputs are not permitted")
    with pytest.raises(ScenarioError, match=r"field 'kind' is 'survival'; accepted: binary, time_to_event"):
        scenario_kind("kind: survival\nname: x\n")
    assert scenario_kind("name: x\n") == "binary"
    with pytest.raises(ScenarioError, match="Unknown scenario 'saphyr'"):
        load_tte_scenario("saphyr")
    with pytest.raises(ScoreInputError, match="n_sims"):
        simulate_tte_operating_characteristics(load_tte_scenario("saphyr-null"), n_sims=0, seed=1)
    with pytest.raises(ScoreInputError, match="seed"):
        simulate_tte_operating_characteristics(load_tte_scenario("saphyr-null"), n_sims=10, seed=-1)


def test_too_few_events_and_infinite_cox_estimates_are_counted_not_dropped() -> None:
    # 6 per arm, rare flares: many replicates have fewer than min_events flares, some none in an arm (monotone
    # partial likelihood: infinite Cox estimate) or none at all (log-rank undefined). Every one is counted.
    data = _yaml("next-pmr-flare")
    data["design"].update(n_per_arm=[6], min_events=5)
    for arm in data["arms"]:
        arm.update(flare_hazard_per_week=0.004, flare_hazard_after_taper_per_week=0.004)
    data["arms"][1].pop("flare_hazard_after_taper_per_week")
    result = simulate_tte_operating_characteristics(load_tte_scenario(data), n_sims=1000, seed=4)
    point, reps = result.points[0], result.replicates[0]
    events = reps["events_control"] + reps["events_treated"]
    one_arm = (reps["events_control"] == 0) | (reps["events_treated"] == 0)
    assert point.counts["too_few_events"] == int((events < 5).sum()) > 0
    assert point.counts["no_flare"] == int((events == 0).sum()) > 0
    assert point.counts["logrank_not_testable"] == point.counts["no_flare"]
    assert point.counts["cox_all_flares_in_one_arm"] == int(one_arm.sum()) > 0
    assert not reps["cox_estimable"][one_arm].any() and np.isnan(reps["cox_log_hr"][one_arm]).all()
    assert point.counts["cox_not_estimable"] == int((~reps["cox_estimable"]).sum()) >= int(one_arm.sum())
    assert point.metrics["cox_not_estimable_rate"].value == pytest.approx(point.counts["cox_not_estimable"] / 1000)
    assert point.metrics["mean_hr"].n == 1000 - point.counts["cox_not_estimable"]  # HR summaries: estimable only
    # not estimable counts as not rejected: the Wald power is at most the estimable fraction
    assert point.metrics["power_cox_wald"].value <= 1 - point.metrics["cox_not_estimable_rate"].value
