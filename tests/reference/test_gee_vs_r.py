"""pmrtrial.stats.gee (moments="geepack") against stored R geepack 1.3.9 output.

Reference values: tests/reference/values/gee.json, written by tests/reference/r/gee_reference.R
from the CSVs in tests/reference/data/gee/. The exact R calls are stored in the JSON
("call" of each fit), e.g.
    geeglm(response ~ arm, family = binomial("log"), data = d, id = site, corstr = "exchangeable")
robust_se = sqrt(diag(fit$geese$vbeta)); alpha = fit$geese$alpha; scale_gamma = fit$geese$gamma;
se_log_rr_mancl_derouen is the Mancl-DeRouen (2001) formula written out in R in that script
(no Debian package offers it), an implementation independent of ours (ours uses a Woodbury form).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pmrtrial.exceptions import ConvergenceError, EstimationError
from pmrtrial.stats.gee import (
    fit_log_binomial_gee,
    fit_modified_poisson_gee,
    fit_risk_ratio_gee,
    fit_risk_ratio_gee_batch,
)

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
REF = json.loads((HERE / "values" / "gee.json").read_text())
DATASETS: dict[str, Any] = REF["datasets"]
RTOL = 1e-6  # brief: log RR and robust SE to 1e-6 relative


def _load(name: str) -> pd.DataFrame:
    return pd.read_csv(ROOT / DATASETS[name]["file"])


def _converged(name: str, key: str) -> bool:
    fit = DATASETS[name].get(key, {})
    return bool(fit.get("ok")) and fit.get("geese_error_code") == 0


# Datasets whose robust variance of the log RR is zero in exact arithmetic: geepack's SE there is
# rounding noise (1.4e-8 / 0), which we deliberately do not reproduce (see test below).
ZERO_VARIANCE = {"zero_variance_balanced_null"}
LB_OK = sorted(n for n in DATASETS if _converged(n, "log_binomial") and n not in ZERO_VARIANCE)
PO_OK = sorted(n for n in DATASETS if _converged(n, "modified_poisson") and n not in ZERO_VARIANCE)


def test_reference_file_is_what_we_think() -> None:
    assert REF["meta"]["geepack_version"] == "1.3.9"
    # five BACHELOR-like allocations of 14/18 vs 2/15 (published counts) over 6 centres
    bachelor = [n for n in DATASETS if n.startswith("bachelor_alloc")]
    assert len(bachelor) >= 4
    for n in bachelor:
        assert DATASETS[n]["responders"] == [2, 14]  # (placebo, active)
        assert DATASETS[n]["n"] == [15, 18]
        assert DATASETS[n]["n_clusters"] == 6
    assert len(LB_OK) >= 9 and len(PO_OK) >= 12


def _check(res: Any, ref: dict[str, Any], rtol: float = RTOL) -> None:
    assert res.log_rr == pytest.approx(ref["log_rr"], rel=rtol)
    assert res.se_robust == pytest.approx(ref["se_log_rr"], rel=rtol)
    assert res.intercept == pytest.approx(ref["coef"][0], rel=rtol)
    assert res.rho == pytest.approx(ref["alpha"], rel=rtol, abs=1e-9)
    assert res.phi == pytest.approx(ref["scale_gamma"], rel=rtol)
    assert res.se_mancl_derouen == pytest.approx(ref["se_log_rr_mancl_derouen"], rel=rtol)


@pytest.mark.parametrize("name", LB_OK)
def test_log_binomial_matches_geeglm(name: str) -> None:
    d = _load(name)
    res = fit_log_binomial_gee(d.response, d.arm, d.site_id, moments="geepack")
    _check(res, DATASETS[name]["log_binomial"])
    assert res.method == "log-binomial GEE" and res.converged and not res.fallback_used


@pytest.mark.parametrize("name", PO_OK)
def test_modified_poisson_matches_geeglm(name: str) -> None:
    d = _load(name)
    res = fit_modified_poisson_gee(d.response, d.arm, d.site_id, moments="geepack")
    _check(res, DATASETS[name]["modified_poisson"])
    assert res.method == "modified Poisson GEE"


def test_r_formula_sandwich_equals_geepack_vbeta() -> None:
    # sanity check of the R-side formula used for Mancl-DeRouen: with correct = FALSE it must
    # give geepack's own sandwich
    for name in LB_OK:
        ref = DATASETS[name]["log_binomial"]
        assert ref["se_log_rr_sandwich_by_formula"] == pytest.approx(ref["se_log_rr"], rel=1e-9)


def test_bachelor_like_allocation_published_scale() -> None:
    # published adjusted RR 5.8 (3.2-10.6) (BACHELOR, Lancet Rheumatol 2025); per-centre data are
    # not published, so the allocation in bachelor_alloc1.csv is ours and only the order of
    # magnitude can agree: the crude RR is (14/18)/(2/15) = 5.833 (hand calculation)
    d = _load("bachelor_alloc1")
    res = fit_risk_ratio_gee(d.response, d.arm, d.site_id)
    assert res.rr == pytest.approx(np.exp(DATASETS["bachelor_alloc1"]["log_binomial"]["log_rr"]), rel=RTOL)
    assert 4.0 < res.rr < 8.0
    assert res.n_obs == 33 and res.n_clusters == 6


# ---- datasets where the log-binomial model struggles ---------------------------------------


def test_all_responders_in_one_arm_geepack_fails_and_rule_falls_back() -> None:
    # R: geeglm(binomial("log")) stops in glm() with "no valid set of coefficients has been
    # found: please supply starting values" (stored error); geese from the Poisson estimates
    # creeps towards the boundary (largest fitted probability 0.99992) and reports convergence.
    ref = DATASETS["near100_all_active"]
    assert not ref["log_binomial"]["ok"]
    assert "no valid set of coefficients" in ref["log_binomial"]["error"]
    assert ref["log_binomial_poisson_start"]["fitted_values_range"][1] > 0.9999
    d = _load("near100_all_active")
    with pytest.raises(ConvergenceError, match="boundary"):
        fit_log_binomial_gee(d.response, d.arm, d.site_id)
    res = fit_risk_ratio_gee(d.response, d.arm, d.site_id)
    assert res.method == "modified Poisson GEE"
    assert res.fallback_used and res.fallback_reason is not None and "boundary" in res.fallback_reason
    assert any("fallback rule used" in w for w in res.warnings)
    _check(res, ref["modified_poisson"])


def test_17_of_18_geeglm_fails_in_glm_but_geese_from_poisson_start_fits() -> None:
    # R: geeglm's glm() start fails ("no valid set of coefficients"); geese(b = Poisson GEE
    # coefficients) converges. Our start is the exact GLM estimate (the arm proportions), which
    # exists here (17/18 < 1), so our step 1 succeeds; from R's starting values we reproduce geese.
    ref = DATASETS["near100_17of18"]
    assert "no valid set of coefficients" in ref["log_binomial"]["error"]
    alt = ref["log_binomial_poisson_start"]
    d = _load("near100_17of18")
    res = fit_log_binomial_gee(d.response, d.arm, d.site_id, start=alt["start"])
    _check(res, alt)
    assert res.start_values == "user-supplied"
    # default start: same GEE solution within geepack's stopping tolerance (epsilon = 1e-4)
    res_rule = fit_risk_ratio_gee(d.response, d.arm, d.site_id)
    assert res_rule.method == "log-binomial GEE" and not res_rule.fallback_used
    assert res_rule.log_rr == pytest.approx(alt["log_rr"], rel=1e-4)


def test_rule_step2_log_binomial_from_poisson_start() -> None:
    # R: default geeglm did not converge in 25 iterations (geese error code 1); geese from the
    # Poisson GEE estimates converged (error code 0): our rule reaches step 2 and reproduces it.
    name = "fallback_poisson_start_rep14658"
    ref = DATASETS[name]
    assert ref["log_binomial"]["geese_error_code"] == 1
    assert ref["log_binomial_poisson_start"]["geese_error_code"] == 0
    d = _load(name)
    with pytest.raises(ConvergenceError, match="iteration limit"):
        fit_log_binomial_gee(d.response, d.arm, d.site_id)
    res = fit_risk_ratio_gee(d.response, d.arm, d.site_id)
    assert res.method == "log-binomial GEE" and res.start_values == "modified Poisson GEE"
    assert res.fallback_used
    _check(res, ref["log_binomial_poisson_start"])


def test_rule_step3_modified_poisson() -> None:
    # R: the log-binomial fit fails to converge from both starts (error code 1); the Poisson GEE
    # converges: our rule ends at step 3 with geepack's modified Poisson values.
    name = "fallback_poisson_rep1486"
    ref = DATASETS[name]
    assert ref["log_binomial"]["geese_error_code"] == 1
    assert ref["log_binomial_poisson_start"]["geese_error_code"] == 1
    d = _load(name)
    res = fit_risk_ratio_gee(d.response, d.arm, d.site_id)
    assert res.method == "modified Poisson GEE" and res.fallback_used
    assert res.fallback_reason is not None and "iteration limit" in res.fallback_reason
    _check(res, ref["modified_poisson"])


def test_nonconvergence_is_an_error_like_geepack_error_code() -> None:
    # random_2: geepack reports error code 1 (maxit = 25 reached) for both families; we raise.
    ref = DATASETS["random_2"]
    assert ref["log_binomial"]["geese_error_code"] == 1
    assert ref["modified_poisson"]["geese_error_code"] == 1
    d = _load("random_2")
    with pytest.raises(ConvergenceError):
        fit_log_binomial_gee(d.response, d.arm, d.site_id)
    with pytest.raises(ConvergenceError):
        fit_risk_ratio_gee(d.response, d.arm, d.site_id)


def test_zero_robust_variance_is_not_estimable_where_geepack_reports_rounding_noise() -> None:
    # Replicate 1450 of simulate_trials(load_scenario("bachelor-null"), 4000, seed=18): 2/17 vs
    # 2/17 and every centre has the same arm sizes and the same responders in both arms, so the
    # log RR is 0 and every cluster's score for it is zero: its sandwich variance is exactly 0.
    # R (stored, calls as in the JSON): geepack's log-binomial fit converges (error code 0) with
    # vbeta[2, 2] = 1.96e-16 (SE 1.4e-8), its Poisson fit with vbeta[2, 2] = 0 exactly (SE 0, Wald
    # p = 0 for RR = 1): rounding noise either way; the R-side formula gives SE 3.1e-16.
    name = "zero_variance_balanced_null"
    ref = DATASETS[name]
    assert ref["responders"] == [2, 2] and ref["n"] == [17, 17]
    for key in ("log_binomial", "modified_poisson"):
        assert ref[key]["geese_error_code"] == 0
        assert abs(ref[key]["log_rr"]) < 1e-14  # RR = 1 up to rounding
        assert ref[key]["se_log_rr"] < 1e-7  # vs about 0.5 for the intercept: rounding noise
        assert ref[key]["se_log_rr_sandwich_by_formula"] < 1e-14
    d = _load(name)
    # the same data satisfy the exact-balance argument: per centre, arm sizes and responders equal
    for _, g in d.groupby("site_id"):
        assert (g.arm == 1).sum() == (g.arm == 0).sum()
        assert g.response[g.arm == 1].sum() == g.response[g.arm == 0].sum()
    for moments in ("geepack", "statsmodels"):
        with pytest.raises(EstimationError, match=r"robust \(sandwich\) variance of the log risk ratio is zero"):
            fit_risk_ratio_gee(d.response, d.arm, d.site_id, moments=moments)
        for fit in (fit_log_binomial_gee, fit_modified_poisson_gee):
            with pytest.raises(EstimationError, match="zero up to rounding"):
                fit(d.response, d.arm, d.site_id, moments=moments)
        batch = fit_risk_ratio_gee_batch(d.response, d.arm, d.site_id, moments=moments)
        assert not batch.estimable[0] and np.isnan(batch.se_robust[0])
        assert not batch.fallback_used[0]  # a property of the data, not a failed fit: no fallback


# --- Mancl-DeRouen with the t(K - 2) reference ------------------------------------------------------------
# tests/reference/values/gee_t.json (tests/reference/r/gee_t_reference.R): R qt(0.975, K - 2) and pt on R's own
# log RR and Mancl-DeRouen SE of each fit above (flattened to data/gee/md_t_inputs.csv).
GEE_T = json.loads((HERE / "values" / "gee_t.json").read_text())["fits"]


@pytest.mark.parametrize(
    "fit", [f for f in GEE_T if f["dataset"] not in ZERO_VARIANCE], ids=lambda f: f"{f['dataset']}-{f['model']}"
)
def test_mancl_derouen_t_reference_matches_r(fit: dict[str, Any]) -> None:
    d = _load(fit["dataset"])
    fitter = fit_log_binomial_gee if fit["model"] == "log_binomial" else fit_modified_poisson_gee
    res = fitter(d.response, d.arm, d.site_id, moments="geepack")
    assert res.df_t == fit["df"]
    assert res.ci_md_t[0] == pytest.approx(fit["lo"], rel=RTOL)
    assert res.ci_md_t[1] == pytest.approx(fit["hi"], rel=RTOL)
    assert res.p_md_t == pytest.approx(fit["p"], rel=RTOL)
    # the t interval is wider than the normal one with the same SE, and the shared result shape holds
    assert res.ci_md_t[0] < res.ci_md[0] and res.ci_md_t[1] > res.ci_md[1] and res.p_md_t > res.p_md
    assert (res.estimate, res.lo, res.hi) == (res.rr, res.ci[0], res.ci[1]) and res.available
    out = res.to_dict()
    assert out["estimate"] == res.rr and out["ci_md_t"] == list(res.ci_md_t) and out["reason"] is None
