"""Time-to-event statistics: Kaplan-Meier by arm, log-rank test, Cox proportional hazards.

Each function mirrors one R ``survival`` call and is checked against it (tests/reference):

* :func:`kaplan_meier` - ``survfit(Surv(time, event) ~ arm)`` with its defaults (``conf.type = "log"``,
  Greenwood variance) and the median with its CI as ``quantile(fit, 0.5)`` / ``print(fit)``;
* :func:`logrank_test` - ``survdiff(Surv(time, event) ~ treated)``;
* :func:`cox_ph` - ``coxph(Surv(time, event) ~ treated + covariates, ties = "efron")``, Wald CI and p.

The estimators come from lifelines (imported inside the functions, so that ``import pmrtrial.stats``
does not pay for it); the confidence limits that lifelines computes differently from R (the
Kaplan-Meier pointwise ``log`` limits and the median's interval) are computed here from lifelines'
event table with R's formulas.

Data conditions that make a number meaningless (an empty arm, no event at all, no event in one arm,
which makes the Cox partial likelihood monotone so that the hazard ratio is 0 or infinite) give a
result with ``available=False`` and the reason, and NaN numbers - never an invented number and never
an exception. Bad input (negative time, event not 0/1, arrays of different lengths) raises
:class:`~pmrtrial.exceptions.ScoreInputError`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import numpy as np
import pandas as pd
from scipy import stats as sps

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats._arrays import (
    FloatArray,
    as_binary,
    as_float_array,
    as_group_indicator,
    check_same_length,
    drop_missing,
)
from pmrtrial.stats._checks import check_conf_level
from pmrtrial.stats._covariates import covariate_matrix
from pmrtrial.stats.results import (
    EstimateResult,
    KaplanMeierArm,
    KaplanMeierResult,
    TestResult,
    software_versions,
)

__all__ = ["cox_ph", "kaplan_meier", "logrank_test"]

# R survival's quantile.survfit tolerance (sqrt(.Machine$double.eps)).
_R_TOLERANCE = math.sqrt(np.finfo(float).eps)
# A Cox coefficient beyond this (|log HR| > 15, HR outside 3e-7..3e6) means a monotone likelihood.
_MONOTONE_COEF = 15.0


def _software() -> dict[str, str]:
    import lifelines

    return {**software_versions(), "lifelines": str(lifelines.__version__)}


def _time_event(time: Any, event: Any) -> tuple[FloatArray, FloatArray]:
    t = as_float_array(time, "time", minimum=0.0)
    e = as_binary(event, "event")
    check_same_length(time=t, event=e)
    return t, e


# --------------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------------


def _findq(x: FloatArray, y: FloatArray, p: float) -> float:
    """R survival's ``findq``: the time at which the cumulative failure ``y`` reaches ``p``.

    ``x`` = (0, times...), ``y`` = (0, 1 - curve...), NaN where the curve is undefined. The first time
    with ``y >= p`` (within a tolerance); when ``y`` equals ``p`` on a flat segment, the midpoint of that
    segment's start and the next change (or the last time when the curve stays at ``p``).
    """
    finite = y[~np.isnan(y)]
    if finite.size == 0 or finite.max() < p:
        return math.nan
    xmax = float(x[-1])
    keep = np.ones(len(y), dtype=bool)
    seen: set[float] = set()
    nan_seen = False
    for i, v in enumerate(y):  # R's duplicated(): first occurrence kept, NA duplicates NA
        if np.isnan(v):
            keep[i] = not nan_seen
            nan_seen = True
        else:
            keep[i] = float(v) not in seen
            seen.add(float(v))
    x, y = x[keep], y[keep]
    valid = np.flatnonzero(~np.isnan(y))

    def first_at_or_above(shift: float) -> int | None:
        xs = y[valid] + shift
        if p < xs[0] or p > xs[-1]:
            return None  # approx(rule = 1) gives NA outside the range
        return int(valid[int(np.argmax(xs >= p))])

    i1, i2 = first_at_or_above(_R_TOLERANCE), first_at_or_above(-_R_TOLERANCE)
    quant = (x[i1] + x[i2]) / 2 if i1 is not None and i2 is not None else math.nan
    if not np.isnan(y[-1]) and abs(p - y[-1]) < _R_TOLERANCE and i1 is not None:
        quant = (x[i1] + xmax) / 2
    return float(quant)


def _km_arm(name: str, t: FloatArray, e: FloatArray, z: float, at: FloatArray) -> KaplanMeierArm:
    if t.size == 0:
        return KaplanMeierArm(
            arm=name, n=0, events=0, median=math.nan, median_lo=math.nan, median_hi=math.nan,
            median_reached=False, at_time=tuple(float(v) for v in at), available=False,
            reason=f"arm {name!r} has no participant",
        )  # fmt: skip
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter().fit(t, e)
    table = fitter.event_table
    table = table.loc[table["removed"] > 0]
    times = table.index.to_numpy(dtype=float)
    n_risk = table["at_risk"].to_numpy(dtype=float)
    d = table["observed"].to_numpy(dtype=float)
    surv = fitter.survival_function_.loc[times].to_numpy(dtype=float).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0))
        se_log = np.sqrt(greenwood)
        defined = surv > 0
        lo = np.where(defined, np.exp(np.log(np.where(defined, surv, 1.0)) - z * se_log), np.nan)
        hi = np.where(defined, np.minimum(np.exp(np.log(np.where(defined, surv, 1.0)) + z * se_log), 1.0), np.nan)
    x = np.concatenate([[0.0], times])
    median = _findq(x, np.concatenate([[0.0], 1 - surv]), 0.5)
    median_lo = _findq(x, np.concatenate([[0.0], 1 - lo]), 0.5)
    median_hi = _findq(x, np.concatenate([[0.0], 1 - hi]), 0.5)
    idx = np.searchsorted(times, at, side="right") - 1  # last observed time <= each requested time
    beyond = at > times[-1]

    def step(values: FloatArray) -> tuple[float, ...]:
        return tuple(math.nan if b else (1.0 if i < 0 else float(values[i])) for i, b in zip(idx, beyond, strict=True))

    return KaplanMeierArm(
        arm=name,
        n=int(t.size),
        events=int(e.sum()),
        median=median,
        median_lo=median_lo,
        median_hi=median_hi,
        median_reached=not math.isnan(median),
        table_time=tuple(float(v) for v in times),
        table_n_risk=tuple(int(v) for v in n_risk),
        table_n_event=tuple(int(v) for v in d),
        table_n_censor=tuple(int(v) for v in table["censored"].to_numpy()),
        table_survival=tuple(float(v) for v in surv),
        table_lo=tuple(float(v) for v in lo),
        table_hi=tuple(float(v) for v in hi),
        at_time=tuple(float(v) for v in at),
        at_survival=step(surv),
        at_lo=step(lo),
        at_hi=step(hi),
        at_n_risk=tuple(int((t >= v).sum()) for v in at),
    )


def kaplan_meier(
    time: Any,
    event: Any,
    group: Any = None,
    *,
    arms: Sequence[Any] | None = None,
    times: Sequence[float] = (),
    conf_level: float = 0.95,
) -> KaplanMeierResult:
    """Kaplan-Meier curve, median and its CI for each arm, as R ``survfit(Surv(time, event) ~ group)``.

    Parameters
    ----------
    time : array-like of float
        Follow-up time (>= 0; e.g. days from the origin) to the event or censoring. Missing -> row dropped.
    event : array-like of 0/1 or bool
        1 = event observed at ``time``, 0 = censored.
    group : array-like, optional
        Arm label of each participant; None = one group called ``"all"``.
    arms : sequence, optional
        The arms to report, in order (an arm listed but absent gets an entry with ``available=False``);
        default: the sorted distinct labels of ``group``. A label of ``group`` not in ``arms`` raises.
    times : sequence of float
        Times at which to report survival, its CI and numbers at risk (``summary(fit, times=)``).
    conf_level : float
        Level of the pointwise and median intervals (R ``conf.int``).

    Returns
    -------
    KaplanMeierResult
        ``arms`` holds per arm ``n, events, median, median_lo, median_hi`` (NaN = not reached, R ``NA``),
        the step table and the values at ``times``.

    Examples
    --------
    >>> res = kaplan_meier([5, 10, 15, 20], [1, 1, 0, 1])
    >>> res.arm("all").median, res.arm("all").n, res.arm("all").events
    (15.0, 4, 3)
    """
    level = check_conf_level(conf_level)
    t, e = _time_event(time, event)
    labels = np.asarray(["all"] * len(t) if group is None else list(group), dtype=object)
    check_same_length(time=t, group=labels)
    missing_group = np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in labels], dtype=bool)
    keep, dropped = drop_missing(t, e)
    keep &= ~missing_group
    dropped = int((~keep).sum())
    present = sorted({str(v) for v in labels[keep]})
    order = [str(a) for a in arms] if arms is not None else present
    unknown = [v for v in present if v not in order]
    if unknown:
        raise ScoreInputError("group", unknown[0], f"one of the arms {order!r}")
    at = np.asarray([float(v) for v in times], dtype=float)
    z = float(sps.norm.ppf(1 - (1 - level) / 2))
    str_labels = np.asarray([str(v) for v in labels], dtype=object)
    arm_results = tuple(_km_arm(a, t[keep & (str_labels == a)], e[keep & (str_labels == a)], z, at) for a in order)
    warns = [f"{dropped} participant(s) with a missing time, event or arm were dropped"] if dropped else []
    available = any(a.available for a in arm_results)
    return KaplanMeierResult(
        arms=arm_results,
        conf_level=level,
        conf_type="log",
        method=(
            "Kaplan-Meier with Greenwood variance and log-transformed pointwise limits; median CI where the "
            "limits reach 0.5 (R survfit defaults)"
        ),
        warnings=tuple(warns),
        details={"n_dropped": dropped},
        software=_software(),
        available=available,
        reason=None if available else "no participant in any arm",
    )


# --------------------------------------------------------------------------------------------------
# Two-arm helpers
# --------------------------------------------------------------------------------------------------


def _two_arm(time: Any, event: Any, treated: Any, arms: Sequence[Any] | None) -> tuple[FloatArray, ...]:
    t, e = _time_event(time, event)
    g = as_group_indicator(treated, "treated" if arms is None else "group", arms)
    check_same_length(time=t, **{"treated" if arms is None else "group": g})
    return t, e, g


def _not_estimable_reason(e: FloatArray, g: FloatArray) -> str | None:
    n_t, n_c = int((g == 1).sum()), int((g == 0).sum())
    if n_t == 0 or n_c == 0:
        return f"one arm is empty (treated n={n_t}, control n={n_c})"
    ev_t, ev_c = int(e[g == 1].sum()), int(e[g == 0].sum())
    if ev_t + ev_c == 0:
        return "no event in either arm (everyone censored)"
    return None


class _Counts(TypedDict):
    n_treated: int
    n_control: int
    events_treated: int
    events_control: int


def _counts(e: FloatArray, g: FloatArray) -> _Counts:
    return _Counts(
        n_treated=int((g == 1).sum()),
        n_control=int((g == 0).sum()),
        events_treated=int(e[g == 1].sum()),
        events_control=int(e[g == 0].sum()),
    )


def _tie_details(t: FloatArray, e: FloatArray) -> dict[str, int]:
    event_times, counts = np.unique(t[e == 1], return_counts=True)
    return {"distinct_event_times": int(event_times.size), "tied_event_times": int((counts > 1).sum())}


def logrank_test(
    time: Any,
    event: Any,
    group: Any,
    *,
    arms: Sequence[Any] | None = None,
) -> TestResult:
    """Log-rank test of equal survival in two arms, as R ``survdiff(Surv(time, event) ~ group)``.

    Parameters
    ----------
    time, event : array-like
        As in :func:`kaplan_meier`.
    group : array-like
        1/True = treated, 0/False = control; or labels when ``arms=(treated_label, control_label)``.
    arms : (treated_label, control_label), optional
        The two labels of ``group``.

    Returns
    -------
    TestResult
        ``statistic`` = the chi-square (1 df), ``p`` its upper tail; ``details`` holds observed and
        expected events per arm (R ``survdiff``'s ``obs`` and ``exp``). Not available (NaN) when an arm is
        empty or nobody had an event.
    """
    t, e, g = _two_arm(time, event, group, arms)
    keep, dropped = drop_missing(t, e, g)
    t, e, g = t[keep], e[keep], g[keep]
    counts = _counts(e, g)
    warns = [f"{dropped} participant(s) with a missing time, event or arm were dropped"] if dropped else []
    method = "Log-rank test (Mantel-Haenszel, hypergeometric variance; R survdiff rho = 0)"
    reason = _not_estimable_reason(e, g)
    if reason is not None:
        return TestResult(
            statistic=math.nan, p=math.nan, method=method, alternative="two-sided", **counts,
            warnings=tuple(warns), details={"n_dropped": dropped}, software=_software(), available=False,
            reason=reason,
        )  # fmt: skip
    from lifelines.statistics import logrank_test as _lifelines_logrank

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = _lifelines_logrank(t[g == 1], t[g == 0], event_observed_A=e[g == 1], event_observed_B=e[g == 0])
    warns += [str(w.message) for w in caught]
    # Observed and expected events per arm (survdiff's obs/exp), for the report.
    event_times = np.unique(t[e == 1])
    at_risk = np.array([(t >= s).sum() for s in event_times], dtype=float)
    at_risk_t = np.array([((t >= s) & (g == 1)).sum() for s in event_times], dtype=float)
    d_all = np.array([((t == s) & (e == 1)).sum() for s in event_times], dtype=float)
    expected_t = float((d_all * at_risk_t / at_risk).sum())
    expected_c = float(d_all.sum()) - expected_t
    details = {
        "df": 1,
        "observed_treated": counts["events_treated"],
        "observed_control": counts["events_control"],
        "expected_treated": expected_t,
        "expected_control": expected_c,
        "n_dropped": dropped,
        **_tie_details(t, e),
    }
    return TestResult(
        statistic=float(res.test_statistic), p=float(res.p_value), method=method, alternative="two-sided",
        **counts, warnings=tuple(warns), details=details, software=_software(),
    )  # fmt: skip


def cox_ph(
    time: Any,
    event: Any,
    treated: Any,
    covariates: pd.DataFrame | None = None,
    *,
    arms: Sequence[Any] | None = None,
    conf_level: float = 0.95,
) -> EstimateResult:
    """Hazard ratio treated vs control from a Cox model, as R ``coxph(..., ties = "efron")``.

    Parameters
    ----------
    time, event : array-like
        As in :func:`kaplan_meier`.
    treated : array-like
        1/True = treated, 0/False = control; or labels when ``arms=(treated_label, control_label)``.
    covariates : DataFrame, optional
        Adjustment covariates, one row per participant (same order). Numeric columns enter linearly;
        text/categorical columns are dummy-coded against their first sorted level (R's treatment
        contrasts). A constant or collinear column is dropped with a warning.
    conf_level : float
        Level of the Wald interval.

    Returns
    -------
    EstimateResult
        ``estimand="hazard_ratio"``, ``estimate`` = exp(coef), ``lo``/``hi`` = exp(coef -+ z se) (Wald),
        ``p`` = Wald two-sided p; ``details`` holds ``coef``, ``se``, ``z``, the covariate coefficients
        and tie counts. Not available when an arm is empty, nobody had an event, one arm had no event
        (monotone likelihood: the HR is 0 or infinite), or the fit did not converge.
    """
    level = check_conf_level(conf_level)
    t, e, g = _two_arm(time, event, treated, arms)
    design = covariate_matrix(covariates, len(t))
    keep, _ = drop_missing(t, e, g, *[design.matrix[:, j] for j in range(design.matrix.shape[1])])
    dropped = int((~keep).sum())
    t, e, g = t[keep], e[keep], g[keep]
    x, names, cov_warns = design.select(keep, g)
    counts = _counts(e, g)
    warns = [f"{dropped} participant(s) with a missing time, event, arm or covariate were dropped"] if dropped else []
    warns += cov_warns
    method = "Cox proportional hazards, Efron ties, Wald CI and p (R coxph ties = 'efron')" + (
        f", adjusted for {', '.join(names)}" if names else ""
    )
    base_details: dict[str, Any] = {"n_dropped": dropped, "covariates": tuple(names), **_tie_details(t, e)}

    def unavailable(reason: str, converged: bool = True) -> EstimateResult:
        return EstimateResult(
            estimand="hazard_ratio", estimate=math.nan, lo=math.nan, hi=math.nan, conf_level=level, p=math.nan,
            method=method, **counts, converged=converged, warnings=tuple(warns), details=base_details,
            software=_software(), available=False, reason=reason,
        )  # fmt: skip

    reason = _not_estimable_reason(e, g) or design.reason
    if reason is None and (counts["events_treated"] == 0 or counts["events_control"] == 0):
        arm = "treated" if counts["events_treated"] == 0 else "control"
        reason = (
            f"no event in the {arm} arm: the partial likelihood is monotone and the hazard ratio is "
            f"{'0' if arm == 'treated' else 'infinite'} (not estimable)"
        )
    if reason is not None:
        return unavailable(reason)
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    frame = pd.DataFrame(x, columns=["treated", *names])
    frame["_time"], frame["_event"] = t, e
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fitter = CoxPHFitter().fit(
                frame, duration_col="_time", event_col="_event",
                fit_options={"precision": 1e-18, "r_precision": 1e-15, "max_steps": 200},
            )  # fmt: skip
        except ConvergenceError as exc:
            warns.append(str(exc).splitlines()[0])
            return unavailable("the Cox model did not converge", converged=False)
    warns += [str(w.message).strip() for w in caught]
    coef = float(fitter.params_["treated"])
    se = float(fitter.standard_errors_["treated"])
    if not (math.isfinite(coef) and math.isfinite(se)) or abs(coef) > _MONOTONE_COEF:
        return unavailable(f"the treatment coefficient diverges (log HR {coef:.3g}): monotone likelihood")
    z = float(sps.norm.ppf(1 - (1 - level) / 2))
    wald = coef / se
    details: Mapping[str, Any] = {
        **base_details,
        "coef": coef,
        "se": se,
        "z": wald,
        "coefficients": {k: float(v) for k, v in fitter.params_.items()},
        "standard_errors": {k: float(v) for k, v in fitter.standard_errors_.items()},
        "log_likelihood": float(fitter.log_likelihood_),
    }
    return EstimateResult(
        estimand="hazard_ratio",
        estimate=math.exp(coef),
        lo=math.exp(coef - z * se),
        hi=math.exp(coef + z * se),
        conf_level=level,
        p=float(2 * sps.norm.sf(abs(wald))),
        method=method,
        **counts,
        warnings=tuple(warns),
        details=details,
        software=_software(),
    )
