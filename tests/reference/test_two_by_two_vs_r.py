"""pmrtrial.stats two-by-two and continuous functions against stored R output.

Every expected number comes from tests/reference/values/two_by_two.json or continuous.json, written by
tests/reference/r/two_by_two_reference.R and continuous_reference.R (R version, package versions and
the exact calls are recorded in the JSON). CI needs no R.

Tolerances (relative):
* 1e-6 for closed forms (Fisher, Katz, Newcombe, Wald, t tests) - observed agreement ~1e-14;
* 1e-6 for the score intervals: R finds the constrained MLE with optimize() (not the closed-form
  quadratic used in Python), which limits R's own precision to ~1e-8;
* 1e-6 for Boschloo and Barnard: R maximises over the nuisance probability on a 20,001-point grid
  refined with optimize(tol=1e-12); scipy's shgo (32 Sobol points) and pmrtrial's grid + Brent reach
  the same maximum to ~1e-13, so 1e-6 is the precision both optimisations guarantee with margin;
* 1e-6 for the Bayesian posterior summaries (both sides integrate to ~1e-11, different formulas);
* Monte Carlo sanity check: |pmrtrial - MC| <= 5 batch standard errors + 1/n_draws.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pmrtrial.stats import (
    barnard_exact_test,
    boschloo_exact_test,
    estimate_mean_difference,
    estimate_mean_difference_from_summary,
    estimate_mean_difference_pooled,
    estimate_mean_difference_pooled_from_summary,
    estimate_risk_difference,
    estimate_risk_difference_wald,
    estimate_risk_ratio,
    estimate_risk_ratio_bayes,
    estimate_risk_ratio_score_ci,
    fisher_exact_test,
)
from tests.reference._util import close

VALUES = Path(__file__).parent / "values"
DATA = Path(__file__).parent / "data"
TWO_BY_TWO = json.loads((VALUES / "two_by_two.json").read_text())
CONTINUOUS = json.loads((VALUES / "continuous.json").read_text())
RTOL = 1e-6


def _close(actual: float | None, expected: Any, rtol: float = RTOL) -> bool:
    return close(actual, expected, rtol)


def _k(c: dict[str, Any]) -> dict[str, int]:
    return {"n_treated": c["n_treated"], "events_control": c["events_control"], "n_control": c["n_control"]}


def _call(fn: Callable[..., Any], attr: str, **extra: Any) -> Callable[[dict[str, Any]], Any]:
    def get(c: dict[str, Any]) -> Any:
        res = fn(c["events_treated"], **_k(c), **extra)
        return getattr(res, attr) if hasattr(res, attr) else res.details[attr]

    return get


def _bayes(prior: float, key: str) -> Callable[[dict[str, Any]], Any]:
    def get(c: dict[str, Any]) -> Any:
        res = estimate_risk_ratio_bayes(c["events_treated"], **_k(c), prior_a=prior, prior_b=prior)
        return {
            "median": res.estimate,
            "lo": res.lo,
            "hi": res.hi,
            "prob_rr_gt_1": res.details["prob_rr_gt_1"],
        }[key]

    return get


# quantity id -> (pmrtrial value, path into the R values)
QUANTITIES: dict[str, tuple[Callable[[dict[str, Any]], Any], tuple[str, ...]]] = {
    "fisher_p": (_call(fisher_exact_test, "p"), ("fisher_p",)),
    "fisher_p_greater": (_call(fisher_exact_test, "p", alternative="greater"), ("fisher_p_greater",)),
    # Two-sided Boschloo, tables ordered by Fisher's two-sided p (the default; R enumeration
    # boschloo_minlike_p() in two_by_two_reference.R, the definition of R Exact::exact.test(method = "boschloo")).
    "boschloo_p": (_call(boschloo_exact_test, "p"), ("boschloo_minlike_p_info_only",)),
    # scipy's definition, kept as an option: 2 x the smaller one-sided p (R boschloo_p()).
    "boschloo_p_twice_min": (_call(boschloo_exact_test, "p", definition="twice_min_one_sided"), ("boschloo_p",)),
    "boschloo_p_greater": (_call(boschloo_exact_test, "p", alternative="greater"), ("boschloo_p_greater",)),
    "boschloo_p_less": (_call(boschloo_exact_test, "p", alternative="less"), ("boschloo_p_less",)),
    "barnard_p": (_call(barnard_exact_test, "p"), ("barnard_p",)),
    "barnard_p_greater": (_call(barnard_exact_test, "p", alternative="greater"), ("barnard_p_greater",)),
    "barnard_statistic": (_call(barnard_exact_test, "statistic"), ("barnard_statistic",)),
    "katz_estimate": (_call(estimate_risk_ratio, "estimate"), ("katz", "estimate")),
    "katz_lo": (_call(estimate_risk_ratio, "lo"), ("katz", "lo")),
    "katz_hi": (_call(estimate_risk_ratio, "hi"), ("katz", "hi")),
    "katz_p": (_call(estimate_risk_ratio, "p"), ("katz", "p_wald")),
    "katz_se": (_call(estimate_risk_ratio, "se_log_rr"), ("katz", "se_log_rr")),
    "score_mn_estimate": (_call(estimate_risk_ratio_score_ci, "estimate"), ("score_mn", "estimate")),
    "score_mn_lo": (_call(estimate_risk_ratio_score_ci, "lo"), ("score_mn", "lo")),
    "score_mn_hi": (_call(estimate_risk_ratio_score_ci, "hi"), ("score_mn", "hi")),
    "score_mn_p": (_call(estimate_risk_ratio_score_ci, "p"), ("score_mn", "p_score")),
    "score_koopman_lo": (
        _call(estimate_risk_ratio_score_ci, "lo", variance_correction=False),
        ("score_koopman", "lo"),
    ),
    "score_koopman_hi": (
        _call(estimate_risk_ratio_score_ci, "hi", variance_correction=False),
        ("score_koopman", "hi"),
    ),
    "score_koopman_p": (
        _call(estimate_risk_ratio_score_ci, "p", variance_correction=False),
        ("score_koopman", "p_score"),
    ),
    "newcombe_estimate": (_call(estimate_risk_difference, "estimate"), ("newcombe", "estimate")),
    "newcombe_lo": (_call(estimate_risk_difference, "lo"), ("newcombe", "lo")),
    "newcombe_hi": (_call(estimate_risk_difference, "hi"), ("newcombe", "hi")),
    "rd_wald_lo": (_call(estimate_risk_difference_wald, "lo"), ("rd_wald", "lo")),
    "rd_wald_hi": (_call(estimate_risk_difference_wald, "hi"), ("rd_wald", "hi")),
    "rd_wald_p": (_call(estimate_risk_difference_wald, "p"), ("rd_wald", "p")),
}
for _prior, _name in ((0.5, "jeffreys"), (1.0, "uniform")):
    for _key in ("median", "lo", "hi", "prob_rr_gt_1"):
        QUANTITIES[f"bayes_{_name}_{_key}"] = (_bayes(_prior, _key), (f"bayes_{_name}", _key))

CASES = TWO_BY_TWO["cases"]


def _lookup(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    out: Any = values
    for key in path:
        out = out[key]
    return out


@pytest.mark.parametrize("quantity", sorted(QUANTITIES))
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_two_by_two_quantity_matches_r(case: dict[str, Any], quantity: str) -> None:
    getter, path = QUANTITIES[quantity]
    expected = _lookup(case["values"], path)  # R value, call in two_by_two.json["calls"]
    actual = getter(case)
    assert _close(actual, expected), f"{case['name']} {quantity}: pmrtrial {actual!r} vs R {expected!r}"


@pytest.mark.parametrize("prior", [0.5, 1.0], ids=["jeffreys", "uniform"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bayes_rr_agrees_with_r_monte_carlo(case: dict[str, Any], prior: float) -> None:
    mc = case["values"]["bayes_jeffreys_mc" if prior == 0.5 else "bayes_uniform_mc"]
    res = estimate_risk_ratio_bayes(case["events_treated"], **_k(case), prior_a=prior, prior_b=prior)
    floor = 1.0 / mc["n_draws"]
    for actual, key in (
        (res.estimate, "median"),
        (res.lo, "lo"),
        (res.hi, "hi"),
        (res.details["prob_rr_gt_1"], "prob_rr_gt_1"),
    ):
        tolerance = 5 * mc[f"se_{key}"] + floor
        assert abs(actual - mc[key]) <= tolerance, (key, actual, mc[key], tolerance)


def test_reference_file_records_provenance() -> None:
    assert TWO_BY_TWO["r_version"].startswith("R version")
    assert "epitools" in TWO_BY_TWO["packages"]
    assert {"fisher_p", "boschloo_p", "katz", "newcombe", "bayes"} <= set(TWO_BY_TWO["calls"])


# ---------------------------------------------------------------------------------------------------
# Continuous endpoints


def _read_dataset(name: str) -> tuple[list[float | None], list[float | None]]:
    import csv

    treated: list[float | None] = []
    control: list[float | None] = []
    with (DATA / "continuous_datasets.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["dataset"] != name:
                continue
            value = None if row["value"] == "NA" else float(row["value"])
            (treated if row["arm"] == "treated" else control).append(value)
    return treated, control


DATA_CASES = CONTINUOUS["data_cases"]
SUMMARY_CASES = CONTINUOUS["summary_cases"]
T_FIELDS = ("estimate", "lo", "hi", "p")


@pytest.mark.parametrize("field", [*T_FIELDS, "df", "se", "t"])
@pytest.mark.parametrize("method", ["welch", "pooled"])
@pytest.mark.parametrize("case", DATA_CASES, ids=[c["name"] for c in DATA_CASES])
def test_mean_difference_from_data_matches_r_t_test(case: dict[str, Any], method: str, field: str) -> None:
    treated, control = _read_dataset(case["name"])
    fn = estimate_mean_difference if method == "welch" else estimate_mean_difference_pooled
    res = fn(treated, control)
    actual = getattr(res, field) if field in T_FIELDS else res.details[field]
    # R: t.test(x = treated, y = control, var.equal = <method == "pooled">), continuous.json
    assert _close(actual, case[method][field])
    assert res.n_treated == case["n_treated"] and res.n_control == case["n_control"]
    assert res.details["n_dropped_treated"] == case["n_dropped_treated"]
    assert res.details["n_dropped_control"] == case["n_dropped_control"]


@pytest.mark.parametrize("field", [*T_FIELDS, "df", "se"])
@pytest.mark.parametrize("method", ["welch", "pooled"])
@pytest.mark.parametrize("case", SUMMARY_CASES, ids=[c["name"] for c in SUMMARY_CASES])
def test_mean_difference_from_summary_matches_r(case: dict[str, Any], method: str, field: str) -> None:
    fn = estimate_mean_difference_from_summary if method == "welch" else estimate_mean_difference_pooled_from_summary
    res = fn(
        case["mean_treated"],
        sd_treated=case["sd_treated"],
        n_treated=case["n_treated"],
        mean_control=case["mean_control"],
        sd_control=case["sd_control"],
        n_control=case["n_control"],
    )
    actual = getattr(res, field) if field in T_FIELDS else res.details[field]
    # R: t.test on pseudo-data with exactly these means and SDs (continuous.json "calls")
    assert _close(actual, case[method][field])
