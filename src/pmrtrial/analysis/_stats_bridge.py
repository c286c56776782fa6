"""Thin calls into :mod:`pmrtrial.stats` and :mod:`pmrtrial.design`, in one place.

Each function returns a :class:`StatSummary`. Plain imports: an import bug fails loudly. When the
method cannot run on these data, the summary says "not available" and why; nothing is skipped silently.
Exceptions of the stats layer (:class:`~pmrtrial.exceptions.PmrTrialError`) become unavailable
summaries with the message as the reason; programming errors propagate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from pmrtrial.analysis.results import StatSummary
from pmrtrial.design.sample_size import METHODS, find_sample_size_all
from pmrtrial.exceptions import PmrTrialError
from pmrtrial.stats import (
    barnard_exact_test,
    boschloo_exact_test,
    compare_with_published,
    estimate_mean_difference,
    estimate_risk_difference,
    estimate_risk_ratio,
    estimate_risk_ratio_bayes,
    estimate_risk_ratio_score_ci,
    fisher_exact_test,
)
from pmrtrial.stats.adjusted import estimate_adjusted_risk_ratio
from pmrtrial.stats.blinding import bang_blinding_index, blinding_table, james_blinding_index
from pmrtrial.stats.continuous import wilcoxon_hodges_lehmann
from pmrtrial.stats.gee import fit_risk_ratio_gee
from pmrtrial.stats.survival import cox_ph, kaplan_meier, logrank_test

__all__ = [
    "BOSCHLOO_MAX_TABLES",
    "adjusted_rr",
    "barnard",
    "blinding",
    "boschloo",
    "compare_published_mean_difference",
    "cox",
    "fisher",
    "gee",
    "hodges_lehmann",
    "km",
    "logrank",
    "mean_difference_welch",
    "rd_newcombe",
    "rr_bayes",
    "rr_katz",
    "rr_score",
    "sample_size",
]

#: Boschloo's test enumerates every table with the observed margins' arm sizes; above this many
#: tables ((n_t + 1) x (n_c + 1)) it is reported as not computed.
BOSCHLOO_MAX_TABLES = 250_000


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number


def _from_result(name: str, result: Any) -> StatSummary:
    """Normalise an ``EstimateResult``/``TestResult`` of :mod:`pmrtrial.stats`."""
    estimate = _num(getattr(result, "estimate", None))
    details = dict(getattr(result, "details", {}) or {})
    if hasattr(result, "statistic"):
        details["statistic"] = _num(result.statistic)
    available = bool(getattr(result, "available", True)) and not (estimate is not None and math.isnan(estimate))
    reason = getattr(result, "reason", None) or (None if available else "not estimable on these data")
    return StatSummary(
        name=name,
        available=available,
        estimate=estimate,
        lo=_num(getattr(result, "lo", None)),
        hi=_num(getattr(result, "hi", None)),
        p=_num(getattr(result, "p", None)),
        method=str(getattr(result, "method", "")),
        converged=bool(getattr(result, "converged", True)),
        warnings=tuple(getattr(result, "warnings", ())),
        reason=reason,
        details=details,
    )


def _unavailable(name: str, reason: str) -> StatSummary:
    return StatSummary(name=name, available=False, reason=reason)


def _call(
    name: str, function: Callable[..., Any], convert: Callable[[Any], StatSummary], *args: Any, **kw: Any
) -> StatSummary:
    """Run one estimator; a data problem it reports (:class:`PmrTrialError`) or a numerical failure
    becomes an unavailable summary with the reason. Programming errors propagate."""
    try:
        return convert(function(*args, **kw))
    except PmrTrialError as exc:
        return _unavailable(name, f"{type(exc).__name__}: {exc}")
    except ArithmeticError as exc:
        # A numerical failure inside a statistic must not abort the whole analysis; it is recorded and surfaced.
        return _unavailable(name, f"numerical failure in {function.__name__}: {type(exc).__name__}: {exc}")


def _two_by_two(et: int, nt: int, ec: int, nc: int) -> dict[str, int]:
    return {"n_treated": nt, "events_control": ec, "n_control": nc}


def fisher(et: int, nt: int, ec: int, nc: int) -> StatSummary:
    """Fisher's exact test, two-sided."""
    return _call("fisher", fisher_exact_test, lambda r: _from_result("fisher", r), et, **_two_by_two(et, nt, ec, nc))


def _too_many_tables(name: str, nt: int, nc: int) -> StatSummary | None:
    if (nt + 1) * (nc + 1) > BOSCHLOO_MAX_TABLES:
        return _unavailable(
            name,
            f"not computed: {(nt + 1) * (nc + 1):,} tables exceed the enumeration limit of {BOSCHLOO_MAX_TABLES:,}",
        )
    return None


def boschloo(et: int, nt: int, ec: int, nc: int) -> StatSummary:
    """Boschloo's exact unconditional test, two-sided (skipped above :data:`BOSCHLOO_MAX_TABLES`)."""
    return _too_many_tables("boschloo", nt, nc) or _call(
        "boschloo", boschloo_exact_test, lambda r: _from_result("boschloo", r), et, **_two_by_two(et, nt, ec, nc)
    )


def barnard(et: int, nt: int, ec: int, nc: int) -> StatSummary:
    """Barnard's exact unconditional test, two-sided (same enumeration limit as Boschloo's)."""
    return _too_many_tables("barnard", nt, nc) or _call(
        "barnard", barnard_exact_test, lambda r: _from_result("barnard", r), et, **_two_by_two(et, nt, ec, nc)
    )


def rr_katz(et: int, nt: int, ec: int, nc: int) -> StatSummary:
    """Crude risk ratio with the Katz log CI."""
    return _call(
        "rr_crude",
        estimate_risk_ratio,
        lambda r: _from_result("rr_crude", r),
        et,
        **_two_by_two(et, nt, ec, nc),
    )


def rr_score(et: int, nt: int, ec: int, nc: int) -> StatSummary:
    """Crude risk ratio with the score CI."""
    return _call(
        "rr_score",
        estimate_risk_ratio_score_ci,
        lambda r: _from_result("rr_score", r),
        et,
        **_two_by_two(et, nt, ec, nc),
    )


def rd_newcombe(et: int, nt: int, ec: int, nc: int) -> StatSummary:
    """Risk difference with the Newcombe hybrid-score CI."""
    return _call(
        "rd",
        estimate_risk_difference,
        lambda r: _from_result("rd", r),
        et,
        **_two_by_two(et, nt, ec, nc),
    )


def rr_bayes(et: int, nt: int, ec: int, nc: int) -> StatSummary:
    """Bayesian risk ratio (independent Jeffreys Beta priors): posterior median and 95% CrI."""
    return _call(
        "rr_bayes",
        estimate_risk_ratio_bayes,
        lambda r: _from_result("rr_bayes", r),
        et,
        **_two_by_two(et, nt, ec, nc),
    )


def mean_difference_welch(values_treated: np.ndarray[Any, Any], values_control: np.ndarray[Any, Any]) -> StatSummary:
    """Mean difference (treated - control) with the Welch t CI and p."""
    return _call(
        "mean_difference",
        estimate_mean_difference,
        lambda r: _from_result("mean_difference", r),
        values_treated,
        values_control,
    )


def _from_gee(result: Any) -> StatSummary:
    md_lo, md_hi = result.ci_md
    return StatSummary(
        name="rr_gee",
        available=math.isfinite(float(result.estimate)),
        estimate=float(result.estimate),
        lo=float(result.lo),
        hi=float(result.hi),
        p=float(result.p),
        method=str(result.method),
        converged=bool(result.converged),
        warnings=tuple(result.warnings),
        details={
            "log_rr": float(result.log_rr),
            "se_robust": float(result.se_robust),
            "se_mancl_derouen": float(result.se_mancl_derouen),
            "ci_mancl_derouen": [float(md_lo), float(md_hi)],
            "p_mancl_derouen": float(getattr(result, "p_md", math.nan)),
            "ci_mancl_derouen_t": [float(v) for v in result.ci_md_t],
            "p_mancl_derouen_t": float(result.p_md_t),
            "df_t": int(result.df_t),
            "fallback_used": bool(result.fallback_used),
            "fallback_reason": getattr(result, "fallback_reason", None),
            "rho": float(getattr(result, "rho", math.nan)),
            "n_obs": int(getattr(result, "n_obs", 0)),
            "n_clusters": int(getattr(result, "n_clusters", 0)),
            "moments": str(getattr(result, "moments", "")),
        },
    )


def gee(y: np.ndarray[Any, Any], treatment: np.ndarray[Any, Any], cluster: np.ndarray[Any, Any]) -> StatSummary:
    """Risk ratio clustered by centre: log-binomial GEE, exchangeable within centre, geepack moments, with the
    explicit modified-Poisson fallback of :func:`pmrtrial.stats.gee.fit_risk_ratio_gee`."""
    return _call("rr_gee", fit_risk_ratio_gee, _from_gee, y, treatment, cluster, moments="geepack")


def _from_km(result: Any) -> StatSummary:
    arms = {
        a.arm: {
            "n": a.n,
            "events": a.events,
            "median": _num(a.median),
            "median_lo": _num(a.median_lo),
            "median_hi": _num(a.median_hi),
            "median_reached": a.median_reached,
            "table": {
                "time": list(a.table_time),
                "n_risk": list(a.table_n_risk),
                "n_event": list(a.table_n_event),
                "n_censor": list(a.table_n_censor),
                "survival": list(a.table_survival),
                "lo": list(a.table_lo),
                "hi": list(a.table_hi),
            },
        }
        for a in result.arms
    }
    return StatSummary(
        name="kaplan_meier",
        available=bool(result.available),
        method=str(result.method),
        converged=bool(result.converged),
        warnings=tuple(result.warnings),
        reason=result.reason,
        details={"arms": arms, "conf_level": float(result.conf_level), "conf_type": str(result.conf_type)},
    )


def km(time: Any, event: Any, arm: Any, arms: tuple[str, str]) -> StatSummary:
    """Kaplan-Meier per arm (n, events, median and its CI, step table), as R ``survfit``."""
    return _call("kaplan_meier", kaplan_meier, _from_km, time, event, arm, arms=list(arms))


def logrank(time: Any, event: Any, arm: Any, arms: tuple[str, str]) -> StatSummary:
    """Log-rank test treated vs control, as R ``survdiff``."""
    return _call("logrank", logrank_test, lambda r: _from_result("logrank", r), time, event, arm, arms=list(arms))


def cox(time: Any, event: Any, arm: Any, arms: tuple[str, str], covariates: Any = None) -> StatSummary:
    """Hazard ratio treated vs control (Efron ties, Wald CI), as R ``coxph``; covariates optional."""
    return _call("cox_ph", cox_ph, lambda r: _from_result("cox_ph", r), time, event, arm, covariates, arms=list(arms))


def adjusted_rr(y: Any, treated: Any, covariates: Any) -> StatSummary:
    """Risk ratio adjusted for ``covariates`` (modified Poisson, robust SE), as R ``glm`` + ``sandwich``."""
    return _call(
        "adjusted_risk_ratio",
        estimate_adjusted_risk_ratio,
        lambda r: _from_result("adjusted_risk_ratio", r),
        y,
        treated,
        covariates,
    )


def hodges_lehmann(values_treated: Any, values_control: Any) -> StatSummary:
    """Wilcoxon rank-sum p and the Hodges-Lehmann shift with its CI, as R ``wilcox.test(conf.int = TRUE)``."""
    return _call(
        "wilcoxon_hodges_lehmann",
        wilcoxon_hodges_lehmann,
        lambda r: _from_result("wilcoxon_hodges_lehmann", r),
        values_treated,
        values_control,
    )


def blinding(who: str, arm: Any, guess: Any, arms: tuple[str, str]) -> dict[str, StatSummary]:
    """James' index (main) and Bang's index per arm of the guesses of ``who`` (participant or investigator)."""
    table = blinding_table(list(arm), list(guess), arms=arms)
    james = _call(f"james_{who}", james_blinding_index, lambda r: _from_result(f"james_{who}", r), table)

    def bang_summary(r: Any) -> StatSummary:
        return StatSummary(
            name=f"bang_{who}",
            available=bool(r.available),
            method=str(r.method),
            reason=r.reason,
            details={"arms": {a.arm: a.to_dict() for a in r.arms}, "table": table.tolist()},
        )

    bang = _call(f"bang_{who}", bang_blinding_index, bang_summary, table, arm_names=arms)
    return {f"james_{who}": james, f"bang_{who}": bang}


def compare_published_mean_difference(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """Welch vs pooled t recomputed from one published row (an ``error`` entry when the row is invalid)."""
    try:
        result = compare_with_published(**row)
    except PmrTrialError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    out: Mapping[str, Any] = result.to_dict()
    return out


def sample_size(p_control: float, p_treated: float, alpha: float, power: float) -> Mapping[str, Any]:
    """Sample size by every method of :mod:`pmrtrial.design`, or a "not available" entry."""
    # Boschloo power needs seconds of enumeration per n; it belongs to `pmrtrial design`, not to every analysis.
    methods = tuple(m for m in METHODS if m != "boschloo")
    try:
        results = find_sample_size_all(p_control, p_treated, alpha=alpha, power=power, methods=methods)
    except PmrTrialError as exc:
        return {"available": False, "reason": f"{type(exc).__name__}: {exc}"}
    rows = []
    for r in results:
        d = r.to_dict()
        d.pop("curve", None)
        rows.append(d)
    return {
        "available": True,
        "methods": rows,
        "note": "Boschloo power is omitted here (slow enumeration); run `pmrtrial design` for it.",
    }
