"""Risk ratio and risk difference of a two-arm binary outcome, with confidence intervals.

Every function takes ``events_treated`` first, then keyword-only ``n_treated``, ``events_control``,
``n_control``; contrasts are treated over (or minus) control. One algorithm per function:

* :func:`estimate_risk_ratio` - crude RR with the Katz (log, "Woolf") Wald interval;
* :func:`estimate_risk_ratio_score_ci` - crude RR with the Miettinen-Nurminen score interval
  (``variance_correction=True``) or the Koopman score interval (``False``);
* :func:`estimate_risk_difference` - RD with Newcombe's hybrid-score interval (method 10);
* :func:`estimate_risk_difference_wald` - RD with the unpooled Wald interval.

All closed forms and root searches are implemented here with numpy/scipy and verified against R
(``tests/reference/r/two_by_two_reference.R``; ``epitools::riskratio`` for Katz, ``prop.test`` Wilson
limits for Newcombe, and a score interval whose constrained MLE R finds by ``optimize``; here Brent's method).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from scipy.special import ndtr, ndtri  # the normal cdf and quantile, as scipy.stats.norm computes them

from pmrtrial.exceptions import EstimationError, ScoreInputError
from pmrtrial.stats._brentq import brentq
from pmrtrial.stats._checks import TwoByTwo, check_conf_level, check_two_by_two
from pmrtrial.stats.results import EstimateResult

__all__ = [
    "estimate_risk_difference",
    "estimate_risk_difference_wald",
    "estimate_risk_ratio",
    "estimate_risk_ratio_score_ci",
]


def _z(conf_level: float) -> float:
    return float(ndtri(0.5 + conf_level / 2.0))


def _two_sided_normal_p(z: float) -> float:
    return float(2.0 * ndtr(-abs(z)))


def _common(t: TwoByTwo) -> dict[str, Any]:
    return {
        "n_treated": t.n_treated,
        "n_control": t.n_control,
        "events_treated": t.events_treated,
        "events_control": t.events_control,
    }


def estimate_risk_ratio(
    events_treated: int,
    *,
    n_treated: int,
    events_control: int,
    n_control: int,
    conf_level: float = 0.95,
    zero_cell_correction: float = 0.5,
) -> EstimateResult:
    """Crude risk ratio with the Katz log-scale (Wald) confidence interval.

    Parameters
    ----------
    events_treated, n_treated, events_control, n_control : int
        Responders and participants analysed per arm.
    conf_level : float
        Confidence level, default 0.95.
    zero_cell_correction : float
        Added to each of the four cells **only when an arm has no event** (the RR or its log-scale
        variance is then undefined); ``n`` grows by twice the correction. Zero non-event cells need
        no correction and get none. ``0`` disables it (an arm without event then raises).

    Returns
    -------
    EstimateResult
        ``estimate`` = (a/n1)/(c/n0); ``p`` is the Wald z test of log RR = 0; ``details`` holds
        ``log_rr``, ``se_log_rr``, ``z`` and ``correction`` (0 when none was applied). A correction is
        also recorded in ``warnings``.

    Raises
    ------
    ScoreInputError
        For invalid counts, level or correction, naming the field.
    EstimationError
        When an arm has no event and ``zero_cell_correction`` is 0.

    Notes
    -----
    .. math:: \\operatorname{SE}(\\log RR) = \\sqrt{1/a - 1/n_1 + 1/c - 1/n_0}

    References
    ----------
    Katz D, Baptista J, Azen SP, Pike MC. Obtaining confidence intervals for the risk ratio in cohort
    studies. Biometrics 1978;34:469-74.
    """
    t = check_two_by_two(events_treated, n_treated, events_control, n_control)
    level = check_conf_level(conf_level)
    if isinstance(zero_cell_correction, bool) or not isinstance(zero_cell_correction, int | float):
        raise ScoreInputError("zero_cell_correction", zero_cell_correction, "a number in [0, 1]")
    if not 0.0 <= float(zero_cell_correction) <= 1.0:
        raise ScoreInputError("zero_cell_correction", zero_cell_correction, "a number in [0, 1]")
    warn: list[str] = []
    a, n1, c, n0 = float(t.events_treated), float(t.n_treated), float(t.events_control), float(t.n_control)
    correction = 0.0
    if t.events_treated == 0 or t.events_control == 0:
        if zero_cell_correction == 0:
            raise EstimationError(
                "Risk ratio with Katz CI is undefined: an arm has no event "
                f"(events_treated={t.events_treated}, events_control={t.events_control}). "
                "Suggestion: use zero_cell_correction=0.5 or estimate_risk_ratio_score_ci."
            )
        correction = float(zero_cell_correction)
        a, c = a + correction, c + correction
        n1, n0 = n1 + 2 * correction, n0 + 2 * correction
        warn.append(
            f"an arm has no event: {correction:g} added to every cell of the 2x2 table "
            "(Haldane-Anscombe) before computing the RR and its CI"
        )
        if t.events_treated == 0 and t.events_control == 0:
            warn.append("no event in either arm: the corrected RR of 1 carries no information")
    log_rr = math.log(a / n1) - math.log(c / n0)
    variance = max(1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n0, 0.0)
    se = math.sqrt(variance)
    z = _z(level)
    if se > 0:
        z_stat = log_rr / se
        p = _two_sided_normal_p(z_stat)
    else:
        z_stat = math.nan
        p = math.nan
        warn.append("every participant responded in both arms: SE(log RR) is 0 and the CI is degenerate")
    return EstimateResult(
        estimand="risk_ratio",
        estimate=math.exp(log_rr),
        lo=math.exp(log_rr - z * se),
        hi=math.exp(log_rr + z * se),
        conf_level=level,
        p=p,
        method="crude risk ratio, Katz log-scale Wald CI",
        warnings=tuple(warn),
        details={"log_rr": log_rr, "se_log_rr": se, "z": z_stat, "correction": correction},
        **_common(t),
    )


def _score_statistic_ratio(t: TwoByTwo, theta: float, lam: float) -> float:
    """Score z statistic for H0: p_t = theta * p_c (Miettinen-Nurminen 1985, Farrington-Manning 1990)."""
    x1, n1, x2, n2 = t.events_treated, t.n_treated, t.events_control, t.n_control
    p1_hat, p2_hat = x1 / n1, x2 / n2
    numerator = p1_hat - theta * p2_hat
    if abs(numerator) <= 1e-15 * max(1.0, theta):
        return 0.0
    n = n1 + n2
    a = n * theta
    b = -(n1 * theta + x1 + n2 + x2 * theta)
    c = x1 + x2
    disc = max(b * b - 4.0 * a * c, 0.0)
    p2 = (-b - math.sqrt(disc)) / (2.0 * a)
    p2 = min(max(p2, 0.0), 1.0)
    p1 = min(max(theta * p2, 0.0), 1.0)
    variance = lam * (p1 * (1.0 - p1) / n1 + theta * theta * p2 * (1.0 - p2) / n2)
    if variance <= 0.0:  # pragma: no cover - defensive: not reached on valid counts (searched n <= 3)
        return math.copysign(math.inf, numerator)
    return numerator / math.sqrt(variance)


def _search_log_root(f: Callable[[float], float], u_start: float, direction: float) -> tuple[float, bool]:
    """Find the root of ``f`` in log space, stepping from ``u_start`` in ``direction`` to bracket it.

    Returns ``(u, found)``; ``found`` is False when no sign change exists before |u| = 700 (the limit
    is then 0 or infinity).
    """
    f_start = f(u_start)
    step = 0.25
    u_prev = u_start
    while True:
        u_next = u_start + direction * step
        if abs(u_next) > 700:
            return (direction * math.inf, False)
        f_next = f(u_next)
        if f_next == 0.0:
            return (u_next, True)
        if (f_next > 0) != (f_start > 0):
            lo, hi = sorted((u_prev, u_next))
            found = brentq(f, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=500)
            if not found.converged:  # as scipy.optimize.brentq(disp=True) does
                raise RuntimeError(f"Brent's method did not converge after {found.iterations} iterations")
            return (found.root, True)
        u_prev = u_next
        step *= 2.0


def estimate_risk_ratio_score_ci(
    events_treated: int,
    *,
    n_treated: int,
    events_control: int,
    n_control: int,
    conf_level: float = 0.95,
    variance_correction: bool = True,
) -> EstimateResult:
    """Crude risk ratio with the asymptotic score confidence interval.

    The interval is ``{theta : Z(theta)^2 <= z^2}`` where ``Z`` is the score statistic for
    ``p_t = theta p_c`` evaluated at the constrained maximum-likelihood estimates (closed-form
    quadratic of Miettinen & Nurminen). Implemented here (root search on log theta with Brent's method,
    scipy's ``brentq`` step for step), not by statsmodels, because statsmodels'
    ``confint_proportions_2indep`` returns NaN or complex numbers on some boundary tables; on ordinary
    tables the two agree.

    Parameters
    ----------
    events_treated, n_treated, events_control, n_control : int
        Responders and participants analysed per arm.
    conf_level : float
        Confidence level, default 0.95.
    variance_correction : bool
        True (default): Miettinen-Nurminen, variance multiplied by ``N/(N-1)``. False: Koopman (1984)
        score interval without the factor.

    Returns
    -------
    EstimateResult
        ``estimate`` = crude RR (0 or ``inf`` when an arm has no event, NaN when neither has);
        ``lo`` is 0 when the treated arm has no event and ``hi`` is ``inf`` when the control arm has
        none; ``p`` is the two-sided score test of RR = 1 with the same variance factor (NaN when no
        arm differs from 0 or 1 in pooled response).

    References
    ----------
    Koopman PAR. Confidence intervals for the ratio of two binomial proportions. Biometrics
    1984;40:513-7. Miettinen O, Nurminen M. Comparative analysis of two rates. Stat Med 1985;4:213-26.
    """
    t = check_two_by_two(events_treated, n_treated, events_control, n_control)
    level = check_conf_level(conf_level)
    if not isinstance(variance_correction, bool):
        raise ScoreInputError("variance_correction", variance_correction, "True or False")
    n = t.n_treated + t.n_control
    lam = n / (n - 1.0) if variance_correction else 1.0
    z = _z(level)
    warn: list[str] = []
    x1, x2 = t.events_treated, t.events_control
    p1_hat, p2_hat = x1 / t.n_treated, x2 / t.n_control
    converged = True

    def upper_f(u: float) -> float:
        return _score_statistic_ratio(t, math.exp(u), lam) + z

    def lower_f(u: float) -> float:
        return _score_statistic_ratio(t, math.exp(u), lam) - z

    if x1 == 0 and x2 == 0:
        estimate, lo, hi = math.nan, 0.0, math.inf
        warn.append("no event in either arm: the risk ratio is not estimable; CI is (0, inf)")
    else:
        if x2 == 0:
            estimate, hi = math.inf, math.inf
            warn.append("no event in the control arm: the RR estimate and upper limit are infinite")
            u_lo, found = _search_log_root(lower_f, 40.0, -1.0)
            lo = math.exp(u_lo) if found else 0.0
        elif x1 == 0:
            estimate, lo = 0.0, 0.0
            warn.append("no event in the treated arm: the RR estimate and lower limit are 0")
            u_hi, found = _search_log_root(upper_f, -40.0, 1.0)
            hi = math.exp(u_hi) if found else math.inf
        else:
            estimate = p1_hat / p2_hat
            u0 = math.log(estimate)
            u_hi, found_hi = _search_log_root(upper_f, u0, 1.0)
            u_lo, found_lo = _search_log_root(lower_f, u0, -1.0)
            hi = math.exp(u_hi) if found_hi else math.inf
            lo = math.exp(u_lo) if found_lo else 0.0
            converged = found_hi and found_lo
            if not converged:
                warn.append("score interval root not bracketed within exp(+-700); limit reported as 0 or inf")
    pooled = (x1 + x2) / n
    if 0.0 < pooled < 1.0:
        z_stat = (p1_hat - p2_hat) / math.sqrt(lam * pooled * (1 - pooled) * (1 / t.n_treated + 1 / t.n_control))
        p = _two_sided_normal_p(z_stat)
    else:
        z_stat, p = math.nan, math.nan
        warn.append("pooled response is 0 or 1: the score test of RR = 1 is undefined")
    name = "Miettinen-Nurminen" if variance_correction else "Koopman"
    return EstimateResult(
        estimand="risk_ratio",
        estimate=estimate,
        lo=lo,
        hi=hi,
        conf_level=level,
        p=p,
        method=f"crude risk ratio, {name} score CI",
        converged=converged,
        warnings=tuple(warn),
        details={"variance_factor": lam, "score_z_at_rr_1": z_stat},
        **_common(t),
    )


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval for one proportion (no continuity correction)."""
    z2 = z * z
    centre = (x + z2 / 2.0) / (n + z2)
    half = z * math.sqrt(x * (n - x) / n + z2 / 4.0) / (n + z2)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def estimate_risk_difference(
    events_treated: int,
    *,
    n_treated: int,
    events_control: int,
    n_control: int,
    conf_level: float = 0.95,
) -> EstimateResult:
    """Risk difference with Newcombe's hybrid-score confidence interval (method 10).

    Parameters
    ----------
    events_treated, n_treated, events_control, n_control : int
        Responders and participants analysed per arm.
    conf_level : float
        Confidence level, default 0.95.

    Returns
    -------
    EstimateResult
        ``estimate`` = p_t - p_c; ``p`` is None (the method defines no test); ``details`` holds the
        Wilson limits of each arm.

    Notes
    -----
    With Wilson limits :math:`(l_1, u_1)` for the treated and :math:`(l_2, u_2)` for the control arm,

    .. math:: L = d - \\sqrt{(p_1 - l_1)^2 + (u_2 - p_2)^2}, \\quad
              U = d + \\sqrt{(u_1 - p_1)^2 + (p_2 - l_2)^2}

    References
    ----------
    Newcombe RG. Interval estimation for the difference between independent proportions: comparison
    of eleven methods. Stat Med 1998;17:873-90 (method 10).
    """
    t = check_two_by_two(events_treated, n_treated, events_control, n_control)
    level = check_conf_level(conf_level)
    z = _z(level)
    p1 = t.events_treated / t.n_treated
    p2 = t.events_control / t.n_control
    l1, u1 = _wilson(t.events_treated, t.n_treated, z)
    l2, u2 = _wilson(t.events_control, t.n_control, z)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return EstimateResult(
        estimand="risk_difference",
        estimate=d,
        lo=lo,
        hi=hi,
        conf_level=level,
        p=None,
        method="risk difference, Newcombe hybrid score CI (method 10)",
        details={"wilson_treated": (l1, u1), "wilson_control": (l2, u2)},
        **_common(t),
    )


def estimate_risk_difference_wald(
    events_treated: int,
    *,
    n_treated: int,
    events_control: int,
    n_control: int,
    conf_level: float = 0.95,
) -> EstimateResult:
    """Risk difference with the unpooled Wald confidence interval and Wald z test.

    Parameters
    ----------
    events_treated, n_treated, events_control, n_control : int
        Responders and participants analysed per arm.
    conf_level : float
        Confidence level, default 0.95.

    Returns
    -------
    EstimateResult
        ``estimate`` = p_t - p_c, CI ``d +- z SE`` with
        ``SE = sqrt(p_t(1-p_t)/n_t + p_c(1-p_c)/n_c)`` (not truncated to [-1, 1]), ``p`` from ``d/SE``.
        When ``SE`` is 0 the CI is degenerate, ``p`` is NaN and a warning says so.
    """
    t = check_two_by_two(events_treated, n_treated, events_control, n_control)
    level = check_conf_level(conf_level)
    z = _z(level)
    p1 = t.events_treated / t.n_treated
    p2 = t.events_control / t.n_control
    d = p1 - p2
    se = math.sqrt(p1 * (1 - p1) / t.n_treated + p2 * (1 - p2) / t.n_control)
    warn: list[str] = []
    if se > 0:
        z_stat = d / se
        p = _two_sided_normal_p(z_stat)
    else:
        z_stat, p = math.nan, math.nan
        warn.append("every arm has response 0% or 100%: the Wald SE is 0 and the CI is degenerate")
    return EstimateResult(
        estimand="risk_difference",
        estimate=d,
        lo=d - z * se,
        hi=d + z * se,
        conf_level=level,
        p=p,
        method="risk difference, unpooled Wald CI",
        warnings=tuple(warn),
        details={"se": se, "z": z_stat},
        **_common(t),
    )
