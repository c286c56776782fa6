"""Each simulated trial is analysed as the SAP does; operating characteristics and reproducibility."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest
from scipy.stats import fisher_exact

from pmrtrial.design.fisher import compute_fisher_rejection_region
from pmrtrial.design.scenario import load_scenario
from pmrtrial.design.simulate import (
    BLOCK_SIZE,
    REPLICATE_FIELDS,
    analyse_trials,
    compute_true_effect,
    fisher_pvalues_lookup,
    simulate_operating_characteristics,
    simulate_trials,
)
from pmrtrial.design.simulate_model import compile_model
from pmrtrial.exceptions import ConvergenceError, EstimationError, ScoreInputError
from pmrtrial.stats.gee import fit_risk_ratio_gee


@pytest.fixture(scope="module")
def bachelor():  # type: ignore[no-untyped-def]
    return load_scenario("bachelor-as-run")


@pytest.fixture(scope="module")
def sample(bachelor):  # type: ignore[no-untyped-def]
    model = compile_model(bachelor)
    trials = simulate_trials(bachelor, 1000, seed=5)
    return model, trials, analyse_trials(trials, model)


def test_fisher_lookup_equals_scipy(sample) -> None:  # type: ignore[no-untyped-def]
    _, _, res = sample
    for i in range(0, 1000, 4):
        x0, n0, x1, n1 = (int(res[k][i]) for k in ("x_control", "n_control", "x_treated", "n_treated"))
        expected = fisher_exact([[x0, n0 - x0], [x1, n1 - x1]]).pvalue  # scipy.stats.fisher_exact, two-sided
        assert res["p_fisher"][i] == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_fisher_lookup_empty_arm_is_nan() -> None:
    p = fisher_pvalues_lookup(np.array([0, 2]), np.array([0, 5]), np.array([3, 4]), np.array([6, 6]))
    assert math.isnan(p[0])
    assert p[1] == pytest.approx(fisher_exact([[2, 3], [4, 2]]).pvalue, rel=1e-9)


def test_counts_from_patient_data(sample) -> None:  # type: ignore[no-untyped-def]
    _, trials, res = sample
    y, t = trials.response, trials.treated
    i = 17
    assert res["n_treated"][i] == np.sum(~np.isnan(y[i]) & t[i])
    assert res["x_control"][i] == np.sum((y[i] == 1) & ~t[i])
    assert res["n_randomised_treated"][i] == t[i].sum()


def test_gee_per_replicate_equals_single_trial_path(sample) -> None:  # type: ignore[no-untyped-def]
    _, trials, res = sample
    checked = 0
    for i in range(0, 1000, 10):
        keep = ~np.isnan(trials.response[i])
        y, t, c = trials.response[i][keep], trials.treated[i][keep].astype(float), trials.centre[i][keep]
        try:
            single = fit_risk_ratio_gee(y, t, c)
        except (ConvergenceError, EstimationError):
            assert not res["gee_estimable"][i]
            continue
        assert res["gee_estimable"][i]
        checked += 1
        assert res["log_rr"][i] == pytest.approx(single.log_rr, rel=1e-12, abs=1e-12)
        assert res["se_robust"][i] == pytest.approx(single.se_robust, rel=1e-12)
        assert bool(res["gee_fallback"][i]) == single.fallback_used
        if math.isfinite(single.se_mancl_derouen):
            assert res["se_md"][i] == pytest.approx(single.se_mancl_derouen, rel=1e-12)
    assert checked >= 80


def test_gee_statsmodels_moments_match_statsmodels_on_simulated_trials(bachelor) -> None:  # type: ignore[no-untyped-def]
    # Reference: statsmodels 0.15 GEE(y, [1, treated], groups=centre, family=Binomial(link=Log()),
    # cov_struct=Exchangeable()).fit(), fitted here per replicate (independent code).
    import statsmodels.api as sm
    from statsmodels.genmod.cov_struct import Exchangeable
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.families.links import Log

    scenario = bachelor.model_copy(update={"design": bachelor.design.model_copy(update={"moments": "statsmodels"})})
    model = compile_model(scenario)
    trials = simulate_trials(scenario, 300, seed=8)
    res = analyse_trials(trials, model)
    compared = 0
    for i in range(300):
        if not res["gee_estimable"][i] or res["gee_method"][i] != 0:
            continue
        keep = ~np.isnan(trials.response[i])
        y, t, c = trials.response[i][keep], trials.treated[i][keep].astype(float), trials.centre[i][keep]
        x = np.column_stack([np.ones_like(t), t])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = sm.GEE(y, x, groups=c, family=Binomial(link=Log()), cov_struct=Exchangeable()).fit()
        if any(type(w.message).__name__ != "DomainWarning" for w in caught) or not fit.converged:
            continue  # statsmodels itself failed on this replicate
        compared += 1
        assert res["log_rr"][i] == pytest.approx(fit.params[1], rel=1e-8, abs=1e-10)
        assert res["se_robust"][i] == pytest.approx(math.sqrt(fit.cov_robust[1, 1]), rel=1e-6)
    assert compared >= 150


def test_results_independent_of_batch_size_and_n_sims(bachelor) -> None:  # type: ignore[no-untyped-def]
    a = simulate_operating_characteristics(
        bachelor, n_sims=2100, seed=3, batch_size=5000, truth_n_per_arm=20_000, threads=1
    )
    # 3 tasks of 1000 (n_sims / (4 threads) rounded up to a block), each simulated and analysed in one of 3 threads
    b = simulate_operating_characteristics(
        bachelor, n_sims=2100, seed=3, batch_size=333, truth_n_per_arm=20_000, threads=3
    )
    assert a.executor == "in-process" and b.executor == "in-process, 3 threads"
    c = simulate_operating_characteristics(bachelor, n_sims=1200, seed=3, batch_size=1000, truth_n_per_arm=20_000)
    for name in REPLICATE_FIELDS:
        x, y, z = a.replicates[0][name], b.replicates[0][name], c.replicates[0][name]
        # bit for bit: a replicate's numbers do not depend on the other replicates of its batch
        assert np.array_equal(x, y, equal_nan=True), name
        assert np.array_equal(x[:1200], z, equal_nan=True), name  # the first replicates do not depend on n_sims
    assert a.points[0].to_dict() == b.points[0].to_dict()
    d = simulate_operating_characteristics(bachelor, n_sims=300, seed=4, truth_n_per_arm=20_000)
    assert not np.array_equal(d.replicates[0]["x_treated"], a.replicates[0]["x_treated"][:300])
    assert BLOCK_SIZE == 1000


def test_many_centres_identical_across_threads_and_batches() -> None:
    # 15 centres: sums over 8 or more centres are where NumPy could change the order of additions with the
    # layout of a batch; the kernel keeps one order, so threads and batch sizes give the same numbers, bit for bit
    scenario = load_scenario("larger-confirmatory")
    a = simulate_operating_characteristics(scenario, n_sims=1100, seed=7, batch_size=5000, threads=1)
    b = simulate_operating_characteristics(scenario, n_sims=1100, seed=7, batch_size=300, threads=3)
    assert b.executor == "in-process, 3 threads" and len(a.points) == len(b.points) > 1
    for ra, rb in zip(a.replicates, b.replicates, strict=True):
        assert ra["gee_estimable"].sum() > 500
        for name in REPLICATE_FIELDS:
            assert np.array_equal(ra[name], rb[name], equal_nan=True), name


def test_threads_count_estimator_warnings_as_the_sequential_run(bachelor, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A warning raised inside the estimator is counted (message -> number of analysis calls raising it), never
    # dropped or shown, also when the analysis runs in worker threads; the process-wide warning state is restored.
    import pmrtrial.stats.gee as gee_module

    real = gee_module.fit_risk_ratio_gee_counts

    def noisy(counts, **kwargs):  # type: ignore[no-untyped-def]
        warnings.warn(f"batch of {len(counts)} replicates", RuntimeWarning, stacklevel=1)
        return real(counts, **kwargs)

    monkeypatch.setattr(gee_module, "fit_risk_ratio_gee_counts", noisy)
    filters, show = list(warnings.filters), warnings.showwarning
    # 4 tasks of 1000 replicates either way: 4 analysis calls, each raising the warning once
    seq = simulate_operating_characteristics(
        bachelor, n_sims=4000, seed=2, batch_size=1000, truth_n_per_arm=20_000, threads=1
    )
    par = simulate_operating_characteristics(
        bachelor, n_sims=4000, seed=2, batch_size=5000, truth_n_per_arm=20_000, threads=2
    )
    assert par.executor == "in-process, 2 threads"
    expected = {"RuntimeWarning in the GEE: batch of 1000 replicates": 4}
    assert seq.points[0].warnings == expected
    assert par.points[0].warnings == expected
    assert warnings.filters == filters and warnings.showwarning is show
    for name in REPLICATE_FIELDS:
        assert np.array_equal(seq.replicates[0][name], par.replicates[0][name], equal_nan=True), name


def _exact_fisher_rate(reps: dict[str, np.ndarray], p0: float, p1: float) -> float:
    """Mean over replicates of the exact Fisher rejection probability given the replicate's (n0, n1)."""
    pairs, counts = np.unique(np.stack([reps["n_control"], reps["n_treated"]], axis=1), axis=0, return_counts=True)
    total = sum(
        k * compute_fisher_rejection_region(int(a), int(b)).rejection_probability(p0, p1)
        for (a, b), k in zip(pairs, counts, strict=True)
    )
    return float(total / counts.sum())


@pytest.mark.parametrize("name", ["bachelor-null", "bachelor-as-run"])
def test_fisher_rejection_rate_equals_exact_enumeration_without_clustering(name: str) -> None:
    # With centre ICC 0 the analysed responses are independent Bernoulli(p_arm) given the arm sizes, so the
    # Fisher rejection rate must equal the exact size/power by enumeration (pmrtrial.design.fisher, itself
    # checked against R fisher.test) averaged over the simulated (n_control, n_treated): an independent check
    # of the generate -> endpoint -> count -> lookup pipeline (type I error under the null scenario).
    base = load_scenario(name)
    scenario = base.model_copy(update={"variability": base.variability.model_copy(update={"centre_icc": 0.0})})
    res = simulate_operating_characteristics(scenario, n_sims=4000, seed=12, truth_n_per_arm=400_000, with_gee=False)
    truth = res.points[0].truth
    expected = _exact_fisher_rate(res.replicates[0], truth.p_control, truth.p_treated)
    observed = res.points[0].metrics["power_fisher"]
    # MC SE of the rate (4000 trials) plus the effect of the truth's MC error (sd 0.0005 per arm) on `expected`
    assert observed.value == pytest.approx(expected, abs=4 * observed.mcse + 0.003)
    if name == "bachelor-null":
        assert res.points[0].is_null
        assert expected <= 0.05  # the exact Fisher test is conservative


def test_null_scenario_type_one_error() -> None:
    null = load_scenario("bachelor-null")
    truth = compute_true_effect(null, n_per_arm=20_000)
    assert truth.rr == 1.0  # identical arms: the true RR is exactly 1
    res = simulate_operating_characteristics(null, n_sims=4000, seed=12, truth_n_per_arm=20_000)
    point = res.points[0]
    assert point.is_null
    fisher = point.metrics["power_fisher"]
    # Fisher's exact test is conservative: its size is at most alpha = 0.05 (up to MC error, 3 SE)
    assert fisher.value <= 0.05 + 3 * fisher.mcse
    # Wald tests from the GEE (non-estimable replicates count as not rejected): at most about nominal
    # (robust SE with 6 centres is anti-conservative when estimable: Mancl & DeRouen 2001, few clusters)
    assert point.metrics["power_gee_md"].value <= 0.05 + 3 * point.metrics["power_gee_md"].mcse
    assert point.metrics["power_gee"].value < 0.08
    assert "type_I_error_fisher" in {r["metric"] for r in res.table_rows()}
    assert point.metrics["bias_log_rr"].value == pytest.approx(0.0, abs=4 * point.metrics["bias_log_rr"].mcse)


def test_calibrated_bachelor_reproduces_published_primary_rates(bachelor) -> None:  # type: ignore[no-untyped-def]
    # Published week-12 response: baricitinib 14/18 (78%), placebo 2/15 (13%) (bachelor_published.yaml,
    # primary_endpoint). The calibrated scenario's true marginal rates (large simulation, 400,000 per arm:
    # MC SE <= sqrt(0.25/4e5) = 0.0008) are within 0.01 of 14/18 = 0.7778 and 2/15 = 0.1333.
    truth = compute_true_effect(bachelor, n_per_arm=400_000)
    assert truth.p_treated == pytest.approx(14 / 18, abs=0.01)
    assert truth.p_control == pytest.approx(2 / 15, abs=0.01)
    # ... and the simulated trials (BACHELOR-sized) reproduce them within Monte Carlo error (4 SE + the 0.01)
    res = simulate_operating_characteristics(bachelor, n_sims=2000, seed=21, truth_n_per_arm=400_000, with_gee=False)
    m = res.points[0].metrics
    assert m["response_treated"].value == pytest.approx(truth.p_treated, abs=4 * m["response_treated"].mcse)
    assert m["response_control"].value == pytest.approx(truth.p_control, abs=4 * m["response_control"].mcse)


def test_input_validation(bachelor) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScoreInputError, match="n_sims"):
        simulate_operating_characteristics(bachelor, n_sims=0, seed=1)
    with pytest.raises(ScoreInputError, match="batch_size"):
        simulate_operating_characteristics(bachelor, n_sims=10, seed=1, batch_size=0)
    with pytest.raises(ScoreInputError, match="seed"):
        simulate_operating_characteristics(bachelor, n_sims=10, seed=-1)


def test_sweep_gives_one_point_per_n() -> None:
    scenario = load_scenario("larger-confirmatory")
    small = scenario.model_copy(update={"design": scenario.design.model_copy(update={"n_per_arm": [20, 40]})})
    res = simulate_operating_characteristics(small, n_sims=500, seed=2, truth_n_per_arm=20_000, with_gee=False)
    assert [p.n_axis_value for p in res.points] == [20, 40]
    assert [p.n_total for p in res.points] == [40, 80]
    # exact binomial power of Fisher rises with n; with 500 trials the MC SE is <= 0.023
    assert res.points[1].metrics["power_fisher"].value > res.points[0].metrics["power_fisher"].value
    assert dataclasses.asdict(res.points[0].truth) == dataclasses.asdict(res.points[1].truth)


def test_analysed_replicates_are_the_patient_level_trials(bachelor) -> None:  # type: ignore[no-untyped-def]
    # simulate_operating_characteristics analyses the primary-visit fast path; simulate_trials returns the
    # full patient-level trials of the same seed. Analysing the latter gives the same numbers, bit for bit.
    res = simulate_operating_characteristics(bachelor, n_sims=1500, seed=6, batch_size=700, truth_n_per_arm=20_000)
    model = compile_model(bachelor)
    direct = analyse_trials(simulate_trials(bachelor, 1500, seed=6), model)
    for name in REPLICATE_FIELDS:
        assert np.array_equal(res.replicates[0][name], direct[name], equal_nan=True), name
