"""Difference in means of a continuous endpoint between two arms (treated minus control).

One algorithm per function:

* :func:`estimate_mean_difference` / :func:`estimate_mean_difference_from_summary` - Welch's
  unequal-variance t (Satterthwaite degrees of freedom);
* :func:`estimate_mean_difference_pooled` / :func:`estimate_mean_difference_pooled_from_summary` -
  Student's pooled-variance t.

The data variants drop missing values (None/NaN), record how many were dropped per arm, and use the
arms' mean, SD and n. The summary variants take mean, SD (n - 1 denominator) and n per arm and
call ``scipy.stats.ttest_ind_from_stats``; their CI is ``d +- t(df) SE``. Both are verified against
R ``t.test`` (``tests/reference/r/two_by_two_reference.R``).

:func:`compare_with_published` infers which of the two reproduces a published row.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import stats

from pmrtrial._validate import as_float_array
from pmrtrial.exceptions import EstimationError, ScoreInputError
from pmrtrial.stats._checks import check_conf_level
from pmrtrial.stats._rzeroin import r_zeroin2
from pmrtrial.stats.results import EstimateResult, jsonable

__all__ = [
    "MethodComparison",
    "PublishedComparison",
    "compare_with_published",
    "estimate_mean_difference",
    "estimate_mean_difference_from_summary",
    "estimate_mean_difference_pooled",
    "estimate_mean_difference_pooled_from_summary",
    "wilcoxon_hodges_lehmann",
]

_WELCH = "Welch two-sample t (unequal variances, Satterthwaite df)"
_POOLED = "Student two-sample t (pooled variance)"


def _check_values(values: Any, field_name: str) -> tuple[np.ndarray[Any, np.dtype[np.float64]], int]:
    if isinstance(values, str | bytes) or np.ndim(values) != 1:
        raise ScoreInputError(field_name, values, "a one-dimensional sequence of numbers")
    array = as_float_array(values, field=field_name)
    missing = np.isnan(array)
    kept = array[~missing]
    if kept.size < 2:
        raise ScoreInputError(field_name, f"{kept.size} non-missing value(s)", "at least 2 non-missing numbers")
    return kept, int(missing.sum())


def _check_summary(mean: Any, sd: Any, n: Any, arm: str) -> tuple[float, float, int]:
    def real(value: Any, name: str, expected: str) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise ScoreInputError(name, value, expected)
        return float(value)

    m = real(mean, f"mean_{arm}", "a finite number")
    s = real(sd, f"sd_{arm}", "a finite number >= 0")
    if s < 0:
        raise ScoreInputError(f"sd_{arm}", sd, "a finite number >= 0")
    count = real(n, f"n_{arm}", "an integer >= 2")
    if count != math.floor(count) or count < 2:
        raise ScoreInputError(f"n_{arm}", n, "an integer >= 2")
    return m, s, int(count)


def _from_summary(
    summary_t: tuple[float, float, int],
    summary_c: tuple[float, float, int],
    level: float,
    equal_var: bool,
    dropped: tuple[int, int] | None,
) -> EstimateResult:
    (m1, s1, n1), (m2, s2, n2) = summary_t, summary_c
    v1, v2 = s1 * s1 / n1, s2 * s2 / n2
    if equal_var:
        df = float(n1 + n2 - 2)
        pooled_var = ((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2) / df
        se = math.sqrt(pooled_var * (1.0 / n1 + 1.0 / n2))
    else:
        se = math.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1)) if se > 0 else math.nan
    if se == 0.0:
        raise EstimationError(
            "Invalid data for a t test. Expected a positive standard deviation in at least one arm. "
            "Got SD 0 in both arms."
        )
    res = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=equal_var)
    d = m1 - m2
    q = float(stats.t.ppf(0.5 + level / 2.0, df))
    details: dict[str, Any] = {
        "mean_treated": m1,
        "mean_control": m2,
        "sd_treated": s1,
        "sd_control": s2,
        "se": se,
        "df": df,
        "t": float(res.statistic),
    }
    warn: list[str] = []
    if dropped is not None:
        details["n_dropped_treated"], details["n_dropped_control"] = dropped
        if sum(dropped) > 0:
            warn.append(f"missing values dropped: {dropped[0]} treated, {dropped[1]} control")
    return EstimateResult(
        estimand="mean_difference",
        estimate=d,
        lo=d - q * se,
        hi=d + q * se,
        conf_level=level,
        p=float(res.pvalue),
        method=_POOLED if equal_var else _WELCH,
        n_treated=n1,
        n_control=n2,
        warnings=tuple(warn),
        details=details,
    )


def _from_data(values_treated: Any, values_control: Any, conf_level: float, equal_var: bool) -> EstimateResult:
    xt, dropped_t = _check_values(values_treated, "values_treated")
    xc, dropped_c = _check_values(values_control, "values_control")
    level = check_conf_level(conf_level)
    summary_t = (float(xt.mean()), float(xt.std(ddof=1)), int(xt.size))
    summary_c = (float(xc.mean()), float(xc.std(ddof=1)), int(xc.size))
    return _from_summary(summary_t, summary_c, level, equal_var, (dropped_t, dropped_c))


def estimate_mean_difference(values_treated: Any, values_control: Any, *, conf_level: float = 0.95) -> EstimateResult:
    """Difference in means (treated - control) with Welch's t confidence interval and p-value.

    Parameters
    ----------
    values_treated, values_control : sequence of float
        Observations per arm; None/NaN are missing and dropped (counts in ``details``).
    conf_level : float
        Confidence level, default 0.95.

    Returns
    -------
    EstimateResult
        ``details`` holds both means and SDs, ``se``, Satterthwaite ``df``, ``t``, ``n_dropped_*``.

    Raises
    ------
    ScoreInputError
        Non-numeric values or fewer than 2 non-missing values in an arm (naming the argument).
    EstimationError
        Both arms constant (SE 0).
    """
    return _from_data(values_treated, values_control, conf_level, equal_var=False)


def estimate_mean_difference_pooled(
    values_treated: Any, values_control: Any, *, conf_level: float = 0.95
) -> EstimateResult:
    """Difference in means (treated - control) with Student's pooled-variance t CI and p-value.

    Parameters and results as :func:`estimate_mean_difference`, with ``df = n_t + n_c - 2``.
    """
    return _from_data(values_treated, values_control, conf_level, equal_var=True)


def estimate_mean_difference_from_summary(
    mean_treated: float,
    *,
    sd_treated: float,
    n_treated: int,
    mean_control: float,
    sd_control: float,
    n_control: int,
    conf_level: float = 0.95,
) -> EstimateResult:
    """Welch t difference in means from per-arm mean, SD (n - 1 denominator) and n.

    Parameters
    ----------
    mean_treated, sd_treated, n_treated, mean_control, sd_control, n_control
        Per-arm summaries; SD >= 0, n integer >= 2.
    conf_level : float
        Confidence level, default 0.95.

    Returns
    -------
    EstimateResult
        As :func:`estimate_mean_difference` (without ``n_dropped_*``).
    """
    level = check_conf_level(conf_level)
    return _from_summary(
        _check_summary(mean_treated, sd_treated, n_treated, "treated"),
        _check_summary(mean_control, sd_control, n_control, "control"),
        level,
        equal_var=False,
        dropped=None,
    )


def estimate_mean_difference_pooled_from_summary(
    mean_treated: float,
    *,
    sd_treated: float,
    n_treated: int,
    mean_control: float,
    sd_control: float,
    n_control: int,
    conf_level: float = 0.95,
) -> EstimateResult:
    """Student pooled-variance t difference in means from per-arm mean, SD and n.

    Parameters and results as :func:`estimate_mean_difference_from_summary`.
    """
    level = check_conf_level(conf_level)
    return _from_summary(
        _check_summary(mean_treated, sd_treated, n_treated, "treated"),
        _check_summary(mean_control, sd_control, n_control, "control"),
        level,
        equal_var=True,
        dropped=None,
    )


# ---------------------------------------------------------------------------------------------------
# Which method reproduces a published row?


@dataclass(frozen=True)
class MethodComparison:
    """How one method's result, recomputed from published summaries, deviates from the printed row.

    Attributes
    ----------
    method : str
        Method name (as in :class:`EstimateResult`).
    result : EstimateResult
        The recomputed result.
    dev_estimate, dev_lo, dev_hi : float
        Absolute deviations from the printed difference and CI limits.
    dev_p : float
        Absolute deviation from the printed p-value; for a printed inequality ("<0.0001") 0 when the
        computed p satisfies it, else the distance to the bound.
    within_tolerance : bool
        All of ``dev_estimate``, ``dev_lo``, ``dev_hi`` within ``tolerance`` of the comparison.
    """

    method: str
    result: EstimateResult
    dev_estimate: float
    dev_lo: float
    dev_hi: float
    dev_p: float
    within_tolerance: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict."""
        out: dict[str, Any] = jsonable({f.name: getattr(self, f.name) for f in fields(self) if f.name != "result"})
        out["result"] = self.result.to_dict()
        return out


@dataclass(frozen=True)
class PublishedComparison:
    """Welch and pooled t recomputed from a published row, with deviations and the closest method.

    ``closest`` is the method with the smaller largest CI-limit deviation (both methods give the same
    point estimate). ``tolerance`` is what ``within_tolerance`` used.
    """

    welch: MethodComparison
    pooled: MethodComparison
    closest: str
    tolerance: float
    published: Any = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "published", MappingProxyType(dict(self.published)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict."""
        return {
            "welch": self.welch.to_dict(),
            "pooled": self.pooled.to_dict(),
            "closest": self.closest,
            "tolerance": self.tolerance,
            "published": jsonable(dict(self.published)),
        }


_P_PATTERN = re.compile(r"^\s*([<>]=?)?\s*([0-9]*\.?[0-9]+(?:[eE]-?[0-9]+)?)\s*$")


def _p_deviation(p: float, printed: Any) -> float:
    if isinstance(printed, bool):
        raise ScoreInputError("published_p", printed, 'a p-value such as 0.31 or "<0.0001"')
    if isinstance(printed, numbers.Real):
        return abs(p - float(printed))
    match = _P_PATTERN.match(str(printed))
    if not match:
        raise ScoreInputError("published_p", printed, 'a p-value such as 0.31 or "<0.0001"')
    relation, number = match.group(1), float(match.group(2))
    if relation is None:
        return abs(p - number)
    satisfied = p < number if relation == "<" else p <= number if relation == "<=" else p >= number
    return 0.0 if satisfied else abs(p - number)


def compare_with_published(
    mean_treated: float,
    *,
    sd_treated: float,
    n_treated: int,
    mean_control: float,
    sd_control: float,
    n_control: int,
    published_difference: float,
    published_lo: float,
    published_hi: float,
    published_p: float | str,
    decimals: int = 1,
    conf_level: float = 0.95,
) -> PublishedComparison:
    """Recompute a published mean difference by Welch and pooled t and report which matches better.

    Parameters
    ----------
    mean_treated, sd_treated, n_treated, mean_control, sd_control, n_control
        Published per-arm summaries.
    published_difference, published_lo, published_hi : float
        The printed difference and CI limits.
    published_p : float or str
        The printed p-value, e.g. ``"0.31"`` or ``"<0.0001"``.
    decimals : int
        Decimals printed for the difference and CI. The tolerance of ``within_tolerance`` is one unit
        of the last printed digit (``10**-decimals``): half a unit for rounding the printed result, and
        about as much again because the published means and SDs are themselves rounded.
    conf_level : float
        Level of the printed CI, default 0.95.

    Returns
    -------
    PublishedComparison
        Per-method deviations and the closest method. A row that neither method reproduces (both
        ``within_tolerance`` False) suggests another analysis (adjusted model, other population).
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 10:
        raise ScoreInputError("decimals", decimals, "an integer in [0, 10]")
    printed: dict[str, float] = {}
    for name, value in (
        ("published_difference", published_difference),
        ("published_lo", published_lo),
        ("published_hi", published_hi),
    ):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise ScoreInputError(name, value, "a finite number")
        printed[name] = float(value)
    tolerance = 10.0 ** (-decimals)
    summary: dict[str, Any] = {
        "mean_treated": mean_treated,
        "sd_treated": sd_treated,
        "n_treated": n_treated,
        "mean_control": mean_control,
        "sd_control": sd_control,
        "n_control": n_control,
        "conf_level": conf_level,
    }
    comparisons = []
    for function in (estimate_mean_difference_from_summary, estimate_mean_difference_pooled_from_summary):
        res = function(**summary)
        dev_est = abs(res.estimate - printed["published_difference"])
        dev_lo = abs(res.lo - printed["published_lo"])
        dev_hi = abs(res.hi - printed["published_hi"])
        comparisons.append(
            MethodComparison(
                method=res.method,
                result=res,
                dev_estimate=dev_est,
                dev_lo=dev_lo,
                dev_hi=dev_hi,
                dev_p=_p_deviation(float(res.p or math.nan), published_p),
                within_tolerance=max(dev_est, dev_lo, dev_hi) <= tolerance + 1e-12,
            )
        )
    welch, pooled = comparisons
    closest = welch.method if max(welch.dev_lo, welch.dev_hi) <= max(pooled.dev_lo, pooled.dev_hi) else (pooled.method)
    return PublishedComparison(
        welch=welch,
        pooled=pooled,
        closest=closest,
        tolerance=tolerance,
        published={**printed, "published_p": published_p, **summary},
    )


# --------------------------------------------------------------------------------------------------
# Wilcoxon rank-sum test and Hodges-Lehmann shift (R wilcox.test(x, y, conf.int = TRUE))
# --------------------------------------------------------------------------------------------------

_WILCOX_TOL_ROOT = 1e-4  # R wilcox.test's tol.root default
_DBL_EPSILON = float(np.finfo(float).eps)


def _wilcox_counts(m: int, n: int) -> list[int]:
    """Exact counts of the Mann-Whitney statistic U = 0..m*n for samples of sizes m, n (R ``cwilcox``).

    Coefficients of the Gaussian binomial [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i),
    computed as exact integer power series truncated at degree m*n.
    """
    top = m * n
    coef = [0] * (top + 1)
    coef[0] = 1
    for i in range(1, m + 1):
        step = n + i
        for k in range(top, step - 1, -1):  # multiply by (1 - q^(n+i))
            coef[k] -= coef[k - step]
        for k in range(i, top + 1):  # divide by (1 - q^i)
            coef[k] += coef[k - i]
    return coef


def _pwilcox(q: float, m: int, n: int, counts: list[int], total: int, lower_tail: bool = True) -> float:
    """R ``pwilcox(q, m, n, lower.tail)``, summing over the shorter range as R does."""
    q = math.floor(q + 1e-7)
    if q < 0:
        return 0.0 if lower_tail else 1.0
    if q >= m * n:
        return 1.0 if lower_tail else 0.0
    p = 0.0
    if q <= m * n / 2:
        for i in range(int(q) + 1):
            p += counts[i] / total
    else:
        for i in range(int(m * n - q)):
            p += counts[i] / total
        lower_tail = not lower_tail
    return p if lower_tail else 0.5 - p + 0.5


def _qwilcox(x: float, m: int, n: int, counts: list[int], total: int) -> int:
    """R ``qwilcox(x, m, n)`` for 0 < x <= 0.5: the smallest q with P(U <= q) >= x."""
    x = x - 10 * _DBL_EPSILON
    p = 0.0
    q = 0
    while True:
        p += counts[q] / total
        if p >= x:
            return q
        q += 1


def _arm_summary(values: np.ndarray[Any, np.dtype[np.float64]]) -> dict[str, float | int]:
    if values.size == 0:
        return {"n": 0, "mean": math.nan, "sd": math.nan, "median": math.nan, "q1": math.nan, "q3": math.nan}
    q1, median, q3 = (float(v) for v in np.percentile(values, [25, 50, 75]))  # R quantile type 7
    sd = float(np.std(values, ddof=1)) if values.size > 1 else math.nan
    return {"n": int(values.size), "mean": float(values.mean()), "sd": sd, "median": median, "q1": q1, "q3": q3}


def wilcoxon_hodges_lehmann(x: Any, y: Any, *, conf_level: float = 0.95) -> EstimateResult:
    """Wilcoxon rank-sum test and Hodges-Lehmann shift of ``x`` (treated) versus ``y`` (control).

    Computed exactly as R ``wilcox.test(x, y, conf.int = TRUE, conf.level = conf_level)`` with its
    defaults: when both arms have fewer than 50 values and there is no tie, the exact p-value (the
    permutation distribution of W) and the exact CI (order statistics of the m*n pairwise differences,
    ``qwilcox``), with the median of the differences as the estimate; otherwise the normal approximation
    with continuity correction, its CI and estimate found as R does with ``uniroot(tol = 1e-4)`` on the
    step function of the shift (so they can differ from the exact median of the differences by ~tol; that
    median is in ``details["hodges_lehmann_median"]``).

    Parameters
    ----------
    x, y : array-like of float
        Values of the treated and control arm; missing values are dropped (counted in details).
    conf_level : float
        Requested level. If the exact distribution cannot achieve it, R's rule applies (the achieved
        level is reported in ``conf_level`` with a warning).

    Returns
    -------
    EstimateResult
        ``estimand="location_shift"`` (Hodges-Lehmann, treated minus control), ``p`` = two-sided rank-sum
        p; ``details``: ``W`` (R's statistic), ``exact`` (bool), ``correct`` (continuity correction used),
        ``hodges_lehmann_median``, ``arms`` = {treated, control: n, mean, sd, median, q1, q3},
        ``n_dropped_treated``, ``n_dropped_control``. Not available (with a reason) when an arm has no
        value or all values are tied.

    Examples
    --------
    >>> res = wilcoxon_hodges_lehmann([1.5, 2.5, 4.0], [0.5, 3.0])
    >>> res.estimate, round(res.p, 12), res.details["exact"]  # R: estimate 1, p-value 0.8 (exact)
    (1.0, 0.8, True)
    """
    level = check_conf_level(conf_level)
    xa = as_float_array(x, field="x")
    ya = as_float_array(y, field="y")
    if xa.ndim != 1 or ya.ndim != 1:
        raise ScoreInputError("x" if xa.ndim != 1 else "y", "not one-dimensional", "a sequence of numbers")
    dropped_x, dropped_y = int(np.isnan(xa).sum()), int(np.isnan(ya).sum())
    xv, yv = xa[~np.isnan(xa)], ya[~np.isnan(ya)]
    nx, ny = int(xv.size), int(yv.size)
    details: dict[str, Any] = {
        "arms": {"treated": _arm_summary(xv), "control": _arm_summary(yv)},
        "n_dropped_treated": dropped_x,
        "n_dropped_control": dropped_y,
    }
    warns: list[str] = []
    if dropped_x or dropped_y:
        warns.append(f"dropped missing values: {dropped_x} treated, {dropped_y} control")

    def result(
        estimate: float, lo: float, hi: float, p: float, method: str, reason: str | None = None
    ) -> EstimateResult:
        return EstimateResult(
            estimand="location_shift", estimate=estimate, lo=lo, hi=hi, conf_level=details.get("conf_level", level),
            p=p, method=method, n_treated=nx, n_control=ny, warnings=tuple(warns), details=details,
            available=reason is None, reason=reason,
        )  # fmt: skip

    if nx == 0 or ny == 0:
        return result(
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            "Wilcoxon rank-sum",
            f"an arm has no value (treated n={nx}, control n={ny})",
        )
    combined = np.concatenate([xv, yv])
    ranks = stats.rankdata(combined)
    w_stat = float(ranks[:nx].sum()) - nx * (nx + 1) / 2
    details["W"] = w_stat
    diffs = np.sort(np.subtract.outer(xv, yv).ravel())
    details["hodges_lehmann_median"] = float(np.median(diffs))
    ties = len(np.unique(combined)) != combined.size
    exact = nx < 50 and ny < 50 and not ties
    details["exact"] = exact
    details["correct"] = not exact
    alpha = 1 - level
    if exact:
        counts = _wilcox_counts(nx, ny)
        total = math.comb(nx + ny, ny)
        if w_stat > nx * ny / 2:
            p_one = _pwilcox(w_stat - 1, nx, ny, counts, total, lower_tail=False)
        else:
            p_one = _pwilcox(w_stat, nx, ny, counts, total)
        p = min(2 * p_one, 1.0)
        qu = _qwilcox(alpha / 2, nx, ny, counts, total)
        qu = max(qu, 1)
        ql = nx * ny - qu
        achieved = 2 * _pwilcox(qu - 1, nx, ny, counts, total)
        if achieved - alpha > alpha / 2:
            warns.append(f"requested conf_level {level:g} not achievable with these sizes; achieved {1 - achieved:.6g}")
            details["conf_level"] = 1 - achieved
        method = "Wilcoxon rank-sum exact test; Hodges-Lehmann shift with exact CI (R wilcox.test)"
        return result(float(np.median(diffs)), float(diffs[qu - 1]), float(diffs[ql]), p, method)

    def w_of(d: float, correct: bool) -> float:
        dr = stats.rankdata(np.concatenate([xv - d, yv]))
        _, tie_counts = np.unique(dr, return_counts=True)
        dz = float(dr[:nx].sum()) - nx * (nx + 1) / 2 - nx * ny / 2
        corr = float(np.sign(dz)) * 0.5 if correct else 0.0
        tie_term = float((tie_counts.astype(float) ** 3 - tie_counts).sum())
        sigma = math.sqrt((nx * ny / 12) * ((nx + ny + 1) - tie_term / ((nx + ny) * (nx + ny - 1))))
        return (dz - corr) / sigma if sigma > 0 else math.nan

    _, tie_counts = np.unique(ranks, return_counts=True)
    tie_term = float((tie_counts.astype(float) ** 3 - tie_counts).sum())
    n_all = nx + ny
    sigma = math.sqrt((nx * ny / 12) * ((n_all + 1) - tie_term / (n_all * (n_all - 1)))) if n_all > 1 else 0.0
    if sigma == 0:
        return result(math.nan, math.nan, math.nan, math.nan, "Wilcoxon rank-sum", "all observations are tied")
    if nx < 50 and ny < 50:
        warns.append("ties: exact p-value and CI not available, normal approximation used (as R)")
    z = w_stat - nx * ny / 2
    z = (z - float(np.sign(z)) * 0.5) / sigma
    p = float(2 * min(stats.norm.cdf(z), stats.norm.sf(z)))
    mumin, mumax = float(xv.min() - yv.max()), float(xv.max() - yv.min())
    w_min, w_max = w_of(mumin, True), w_of(mumax, True)

    def root(zq: float) -> float:
        f_lower = w_min - zq
        if f_lower <= 0:
            return mumin
        f_upper = w_max - zq
        if f_upper >= 0:
            return mumax
        return r_zeroin2(lambda d: w_of(d, True) - zq, mumin, mumax, f_lower, f_upper, _WILCOX_TOL_ROOT)

    lo = root(float(stats.norm.isf(alpha / 2)))
    hi = root(float(stats.norm.ppf(alpha / 2)))
    estimate = r_zeroin2(
        lambda d: w_of(d, False), mumin, mumax, w_of(mumin, False), w_of(mumax, False), _WILCOX_TOL_ROOT
    )
    method = (
        "Wilcoxon rank-sum test, normal approximation with continuity correction; Hodges-Lehmann shift "
        "and CI by R wilcox.test's root search (tol 1e-4)"
    )
    return result(estimate, lo, hi, p, method)
