r"""Monte Carlo simulator for two-arm time-to-event trials (flare after remission under a glucocorticoid taper).

A SAPHYR-like trial: participants enter uniformly over ``accrual_weeks``; the analysis is at calendar week
``accrual_weeks + follow_up_weeks`` (administrative censoring); each arm has an exponential drop-out hazard
(censoring); flare times are exponential with control hazard ``log(2) / median_control_weeks`` and treated
hazard ``hazard_ratio`` times that. Optionally the hazard of each arm is multiplied by
``hazard_multiplier_after`` from its own ``hazard_change_week_*`` on (e.g. after the placebo taper ends at
week 52, after the active arm's taper ends at week 14): a piecewise-constant hazard with one change point
per arm, in time since randomisation, simulated by inverting the cumulative hazard.

Every replicate is analysed with the two-sided log-rank test as R ``survdiff(Surv(time, event) ~ arm)``
computes it (rho = 0; at each distinct event time :math:`d` events among :math:`n` at risk, of whom
:math:`n_1` treated, contribute :math:`E_1 = d n_1 / n` and the hypergeometric variance
:math:`V = d (n_1/n)(1 - n_1/n)(n - d)/(n - 1)`, so tied times are handled as survdiff does). The statistic
is :math:`(O_1 - E_1)^2 / V` (chi-square, 1 df). The hazard ratio per replicate is the log-rank (Peto)
estimate :math:`\exp((O_1 - E_1)/V)`, a one-step approximation to the Cox estimate, not the Cox estimate.
Vectorised over replicates with numpy; times are in weeks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import chdtrc

from pmrtrial.design._inputs import check_alpha
from pmrtrial.exceptions import ScoreInputError

__all__ = [
    "CoxFits",
    "TteOperatingCharacteristics",
    "TteScenario",
    "TteSimulation",
    "analyse_tte_trials",
    "cox_efron_statistics",
    "logrank_statistics",
    "simulate_tte_trials",
]

_MAX_CELLS = 50_000_000  # n_sims * participants held in memory at once


def _positive(value: Any, field: str, *, allow_zero: bool = False, integer: bool = False) -> None:
    what = "an integer" if integer else "a finite number"
    expected = f"{what} {'>= 0' if allow_zero else '> 0'}"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ScoreInputError(field, value, expected)
    if integer and not float(value).is_integer():
        raise ScoreInputError(field, value, expected)
    number = float(value)
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise ScoreInputError(field, value, expected)


@dataclass(frozen=True)
class TteScenario:
    """A two-arm time-to-event trial to simulate (times in weeks).

    Attributes
    ----------
    n_control, n_treated : int
        Participants per arm (the allocation ratio is ``n_treated / n_control``).
    accrual_weeks : float
        Uniform accrual over ``[0, accrual_weeks]`` (0 = everyone enters at week 0).
    follow_up_weeks : float
        Follow-up after the last participant entered; the analysis is at ``accrual_weeks + follow_up_weeks``.
    median_control_weeks : float
        Median time to flare in the control arm (hazard ``log(2) / median``, before any change week).
    hazard_ratio : float
        Treated vs control hazard ratio.
    dropout_hazard_control, dropout_hazard_treated : float
        Exponential drop-out hazard per week (0 = no drop-out); a drop-out fraction ``q`` by week ``w`` is
        ``-log(1 - q) / w``.
    hazard_change_week_control, hazard_change_week_treated : float or None
        Week (since randomisation) from which that arm's flare hazard is multiplied by
        ``hazard_multiplier_after`` (e.g. the end of the arm's taper); None = no change.
    hazard_multiplier_after : float
        The multiplier (default 1: constant hazards).
    """

    n_control: int
    n_treated: int
    accrual_weeks: float
    follow_up_weeks: float
    median_control_weeks: float
    hazard_ratio: float
    dropout_hazard_control: float = 0.0
    dropout_hazard_treated: float = 0.0
    hazard_change_week_control: float | None = None
    hazard_change_week_treated: float | None = None
    hazard_multiplier_after: float = 1.0

    def __post_init__(self) -> None:
        _positive(self.n_control, "n_control", integer=True)
        _positive(self.n_treated, "n_treated", integer=True)
        _positive(self.accrual_weeks, "accrual_weeks", allow_zero=True)
        _positive(self.follow_up_weeks, "follow_up_weeks")
        _positive(self.median_control_weeks, "median_control_weeks")
        _positive(self.hazard_ratio, "hazard_ratio")
        _positive(self.dropout_hazard_control, "dropout_hazard_control", allow_zero=True)
        _positive(self.dropout_hazard_treated, "dropout_hazard_treated", allow_zero=True)
        for name in ("hazard_change_week_control", "hazard_change_week_treated"):
            if getattr(self, name) is not None:
                _positive(getattr(self, name), name, allow_zero=True)
        _positive(self.hazard_multiplier_after, "hazard_multiplier_after")

    @property
    def n(self) -> int:
        """Participants in both arms."""
        return int(self.n_control) + int(self.n_treated)

    @property
    def analysis_week(self) -> float:
        """Calendar week of the analysis (``accrual_weeks + follow_up_weeks``)."""
        return float(self.accrual_weeks) + float(self.follow_up_weeks)


@dataclass(frozen=True)
class TteSimulation:
    """Simulated trials: one row per replicate, one column per participant.

    Attributes
    ----------
    scenario : TteScenario
    seed : int
    n_sims : int
    time : ndarray, shape (n_sims, n)
        Weeks from randomisation to flare or censoring.
    event : ndarray of bool, shape (n_sims, n)
        True = flare observed, False = censored (drop-out or analysis).
    group : ndarray of int, shape (n,)
        1 = treated, 0 = control (the first ``n_control`` columns are control).
    """

    scenario: TteScenario
    seed: int
    n_sims: int
    time: NDArray[np.float64]
    event: NDArray[np.bool_]
    group: NDArray[np.int64]


@dataclass(frozen=True)
class TteOperatingCharacteristics:
    """Operating characteristics of a time-to-event design under the log-rank test.

    Attributes
    ----------
    scenario : TteScenario
    seed, n_sims : int
    alpha : float
        Two-sided level.
    power : float
        Fraction of replicates with log-rank p < alpha (not-estimable replicates count as not rejected).
    power_mc_se : float
        Monte Carlo standard error of ``power``: ``sqrt(power (1 - power) / n_sims)``.
    mean_events : float
        Mean number of observed flares per trial.
    median_hazard_ratio : float
        Median over replicates of the log-rank (Peto) estimate ``exp((O1 - E1) / V)``.
    n_not_estimable : int
        Replicates with no event (V = 0), counted as not rejected.
    method : str
    """

    scenario: TteScenario
    seed: int
    n_sims: int
    alpha: float
    power: float
    power_mc_se: float
    mean_events: float
    median_hazard_ratio: float
    n_not_estimable: int
    method: str


def _piecewise_exponential(
    unit: NDArray[np.float64], rate: float, change: float | None, multiplier: float
) -> NDArray[np.float64]:
    """Invert the cumulative hazard ``rate * t`` (then ``rate * multiplier`` after ``change``) at Exp(1) draws."""
    before = unit / rate
    if change is None or multiplier == 1.0:
        return before
    at_change = rate * change
    after = change + (unit - at_change) / (rate * multiplier)
    return np.where(unit < at_change, before, after)


def simulate_tte_trials(scenario: TteScenario, n_sims: int, seed: int) -> TteSimulation:
    """Simulate ``n_sims`` trials of ``scenario`` (numpy ``default_rng(seed)``, deterministic from the seed).

    Examples
    --------
    >>> sc = TteScenario(n_control=5, n_treated=5, accrual_weeks=10, follow_up_weeks=20,
    ...                  median_control_weeks=12, hazard_ratio=0.5)
    >>> simulate_tte_trials(sc, n_sims=3, seed=1).time.shape
    (3, 10)
    """
    if not isinstance(scenario, TteScenario):
        raise ScoreInputError("scenario", scenario, "a TteScenario")
    _positive(n_sims, "n_sims", integer=True)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ScoreInputError("seed", seed, "an integer >= 0")
    n_sims, n = int(n_sims), scenario.n
    if n_sims * n > _MAX_CELLS:
        raise ScoreInputError("n_sims", n_sims, f"at most {_MAX_CELLS // n} for {n} participants (memory cap)")
    rng = np.random.default_rng(seed)
    n_c = int(scenario.n_control)
    group = np.concatenate([np.zeros(n_c, dtype=np.int64), np.ones(int(scenario.n_treated), dtype=np.int64)])
    lam_c = math.log(2.0) / float(scenario.median_control_weeks)
    mult = float(scenario.hazard_multiplier_after)
    unit = rng.standard_exponential((n_sims, n))
    flare = np.empty((n_sims, n))
    flare[:, :n_c] = _piecewise_exponential(unit[:, :n_c], lam_c, scenario.hazard_change_week_control, mult)
    flare[:, n_c:] = _piecewise_exponential(
        unit[:, n_c:], lam_c * float(scenario.hazard_ratio), scenario.hazard_change_week_treated, mult
    )
    eta = np.where(group == 1, float(scenario.dropout_hazard_treated), float(scenario.dropout_hazard_control))
    with np.errstate(divide="ignore"):
        dropout = rng.standard_exponential((n_sims, n)) / eta  # inf where eta = 0
    entry = rng.uniform(0.0, float(scenario.accrual_weeks), (n_sims, n))
    admin = scenario.analysis_week - entry
    censor = np.minimum(dropout, admin)
    event = flare <= censor
    time = np.where(event, flare, censor)
    return TteSimulation(scenario=scenario, seed=int(seed), n_sims=n_sims, time=time, event=event, group=group)


@dataclass(frozen=True)
class _TieGroups:
    """Per replicate (rows), the sorted times grouped into tie groups; values valid where ``last`` is True.

    ``at_risk`` and ``at_risk_1`` count everyone (and the treated) with time >= the group's time; ``deaths``
    and ``deaths_1`` the events (and treated events) at that time.
    """

    last: NDArray[np.bool_]
    at_risk: NDArray[np.float64]
    at_risk_1: NDArray[np.float64]
    deaths: NDArray[np.float64]
    deaths_1: NDArray[np.float64]


def _tie_groups(time: Any, event: Any, group: Any) -> _TieGroups:
    """Check ``time``/``event``/``group`` (see :func:`logrank_statistics`) and build the risk-set table."""
    t = np.atleast_2d(np.asarray(time, dtype=float))
    e = np.atleast_2d(np.asarray(event)).astype(float)
    g = np.broadcast_to(np.asarray(group), t.shape).astype(float)
    if e.shape != t.shape:
        raise ScoreInputError("event", e.shape, f"an array of the shape of time, {t.shape}")
    if not np.all(np.isin(e, (0.0, 1.0))):
        raise ScoreInputError("event", e[~np.isin(e, (0.0, 1.0))][0], "0/False (censored) or 1/True (event)")
    if not np.all(np.isfinite(t)):
        raise ScoreInputError("time", t[~np.isfinite(t)][0], "finite times")
    if not np.all(np.isin(g, (0.0, 1.0))):
        raise ScoreInputError("group", g[~np.isin(g, (0.0, 1.0))][0], "0 (control) or 1 (treated)")
    n = t.shape[1]
    order = np.argsort(t, axis=1, kind="stable")
    t = np.take_along_axis(t, order, axis=1)
    e = np.take_along_axis(e, order, axis=1)
    g = np.take_along_axis(g, order, axis=1)
    idx = np.broadcast_to(np.arange(n), t.shape)
    first = np.ones(t.shape, dtype=bool)
    first[:, 1:] = t[:, 1:] != t[:, :-1]
    last = np.ones(t.shape, dtype=bool)
    last[:, :-1] = first[:, 1:]
    first_idx = np.maximum.accumulate(np.where(first, idx, 0), axis=1)  # start of each element's tie group
    cum_e, cum_eg, cum_g = np.cumsum(e, axis=1), np.cumsum(e * g, axis=1), np.cumsum(g, axis=1)
    at_risk = (n - first_idx).astype(float)
    at_risk_1 = g.sum(axis=1, keepdims=True) - np.take_along_axis(cum_g - g, first_idx, axis=1)
    deaths = cum_e - np.take_along_axis(cum_e - e, first_idx, axis=1)  # valid at the group's last element
    deaths_1 = cum_eg - np.take_along_axis(cum_eg - e * g, first_idx, axis=1)
    return _TieGroups(last, at_risk, at_risk_1, deaths, deaths_1)


def logrank_statistics(
    time: Any, event: Any, group: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Log-rank ``O1 - E1`` and variance ``V`` per replicate (rows), as R ``survdiff``, plus the chi-square.

    ``time`` and ``event`` have shape (n_sims, n); ``group`` (1 = treated, 0 = control) shape (n,) or
    (n_sims, n). Tied times are grouped as survdiff groups them. Returns ``(o_minus_e, variance, chisq)``;
    the chi-square is NaN where ``V = 0`` (no event, or all events where only one arm is at risk).

    Examples
    --------
    >>> o_e, v, chisq = logrank_statistics([[1.0, 2.0, 3.0, 4.0]], [[1, 1, 1, 0]], [1, 0, 1, 0])
    >>> [round(float(o_e[0]), 4), round(float(v[0]), 4)]  # O1 = 2, E1 = 1/2 + 1/3 + 1/2; V = 1/4 + 2/9 + 1/4
    [0.6667, 0.7222]
    """
    tg = _tie_groups(time, event, group)
    at_risk, deaths = tg.at_risk, tg.deaths
    share = tg.at_risk_1 / at_risk
    with np.errstate(invalid="ignore", divide="ignore"):
        var_term = np.where(at_risk > 1, deaths * share * (1 - share) * (at_risk - deaths) / (at_risk - 1), 0.0)
    expected_1 = np.where(tg.last, deaths * share, 0.0).sum(axis=1)
    variance = np.where(tg.last, var_term, 0.0).sum(axis=1)
    o_minus_e = np.where(tg.last, tg.deaths_1, 0.0).sum(axis=1) - expected_1
    with np.errstate(invalid="ignore", divide="ignore"):
        chisq = np.where(variance > 0, o_minus_e**2 / variance, np.nan)
    return o_minus_e, variance, chisq


@dataclass(frozen=True)
class CoxFits:
    """Cox proportional-hazards fits of one binary covariate (treated vs control), one per replicate.

    Attributes
    ----------
    log_hr, se : ndarray
        Maximum partial-likelihood estimate of the log hazard ratio and its model-based SE
        ``1 / sqrt(I(beta))`` (R ``coxph`` ``coef`` and ``se(coef)``); NaN where not estimable.
    estimable : ndarray of bool
        False when there is no event, when every event is in one arm (the partial likelihood is monotone:
        the estimate is infinite; R warns "coefficient may be infinite") or when Newton-Raphson did not converge.
    converged : ndarray of bool
        Newton-Raphson met the tolerance within ``max_iter`` iterations (with step halving).
    iterations : ndarray of int
    loglik : ndarray
        Log partial likelihood at the estimate (R ``fit$loglik[2]``).
    """

    log_hr: NDArray[np.float64]
    se: NDArray[np.float64]
    estimable: NDArray[np.bool_]
    converged: NDArray[np.bool_]
    iterations: NDArray[np.int64]
    loglik: NDArray[np.float64]


def _efron_terms(
    beta: NDArray[np.float64], tg: _TieGroups, max_ties: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Efron log partial likelihood, score and information at ``beta`` (one value per row)."""
    r = np.exp(beta)[:, None]
    use = tg.last & (tg.deaths > 0)
    n1, d1 = tg.at_risk_1, tg.deaths_1
    s0 = tg.at_risk - n1 + n1 * r
    s1 = n1 * r
    e0 = tg.deaths - d1 + d1 * r
    e1 = d1 * r
    loglik = beta * np.where(use, d1, 0.0).sum(axis=1)
    score = np.where(use, d1, 0.0).sum(axis=1)
    info = np.zeros_like(beta)
    safe_d = np.where(use, tg.deaths, 1.0)
    for k in range(max_ties):
        term = use & (tg.deaths > k)
        f = k / safe_d
        denom = np.where(term, s0 - f * e0, 1.0)
        ratio = np.where(term, (s1 - f * e1) / denom, 0.0)
        loglik -= np.where(term, np.log(denom), 0.0).sum(axis=1)
        score -= ratio.sum(axis=1)
        info += (ratio - ratio**2).sum(axis=1)  # binary covariate: x^2 = x
    return loglik, score, info


def cox_efron_statistics(time: Any, event: Any, group: Any, *, tol: float = 1e-10, max_iter: int = 30) -> CoxFits:
    r"""Cox PH fit of ``group`` (1 = treated) per replicate (rows), Efron ties, as R ``coxph`` (default ties).

    Newton-Raphson from :math:`\beta = 0` on the log partial likelihood with Efron's approximation for tied
    event times: at an event time with :math:`d` events (:math:`d_1` treated) among :math:`n_0` control and
    :math:`n_1` treated at risk, with :math:`r = e^\beta`, :math:`S_0 = n_0 + n_1 r`, :math:`S_1 = n_1 r`,
    :math:`D_0 = d_0 + d_1 r`, :math:`D_1 = d_1 r`, the contribution is
    :math:`d_1\beta - \sum_{k=0}^{d-1} \log(S_0 - \tfrac kd D_0)`; score and information follow (the
    covariate is binary, so :math:`x^2 = x`). A step that lowers the likelihood is halved (as ``coxph``).
    Convergence: the relative change of the log likelihood below ``tol`` (``coxph.control(eps = 1e-9)``;
    tighter here) and the last step below ``1e-8``. Without tied event times Efron equals Breslow.

    Examples
    --------
    >>> fit = cox_efron_statistics([[1.0, 2.0, 3.0, 4.0, 5.0]], [[1, 1, 1, 1, 0]], [0, 1, 0, 1, 1])
    >>> bool(fit.estimable[0]), round(float(fit.log_hr[0]), 4)
    (True, -1.4388)
    """
    tg = _tie_groups(time, event, group)
    rows = tg.at_risk.shape[0]
    use = tg.last & (tg.deaths > 0)
    max_ties = int(np.where(use, tg.deaths, 0.0).max(initial=0.0))
    events = np.where(use, tg.deaths, 0.0).sum(axis=1)
    events_1 = np.where(use, tg.deaths_1, 0.0).sum(axis=1)
    # Monotone likelihood (infinite estimate): every event in one arm, or, for an arm, none of its members at risk
    # at any event time of the other arm. The first case covers the trials simulated here; the second is caught by
    # non-convergence or a diverging estimate.
    finite = (events_1 > 0) & (events_1 < events)
    beta = np.zeros(rows)
    loglik, score, info = _efron_terms(beta, tg, max_ties)
    converged = np.zeros(rows, dtype=bool)
    iterations = np.zeros(rows, dtype=np.int64)
    active = finite.copy()
    for it in range(1, max_iter + 1):
        if not active.any():
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            step = np.where(active & (info > 0), score / info, 0.0)
        new = beta + step
        new_ll, new_score, new_info = _efron_terms(new, tg, max_ties)
        for _ in range(40):  # step halving where the likelihood went down
            worse = active & (new_ll < loglik - 1e-12 * np.abs(loglik))
            if not worse.any():
                break
            step = np.where(worse, step / 2, step)
            new = beta + step
            new_ll, new_score, new_info = _efron_terms(new, tg, max_ties)
        done = active & (np.abs(new_ll - loglik) <= tol * np.abs(loglik)) & (np.abs(step) < 1e-8)
        beta = np.where(active, new, beta)
        loglik = np.where(active, new_ll, loglik)
        score = np.where(active, new_score, score)
        info = np.where(active, new_info, info)
        iterations = np.where(active, it, iterations)
        converged |= done
        active &= ~done
    estimable = finite & converged & (info > 0) & (np.abs(beta) < 30)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.where(estimable, 1.0 / np.sqrt(np.where(info > 0, info, np.nan)), np.nan)
    return CoxFits(
        log_hr=np.where(estimable, beta, np.nan),
        se=se,
        estimable=estimable,
        converged=converged,
        iterations=iterations,
        loglik=loglik,
    )


def analyse_tte_trials(simulation: TteSimulation, alpha: float = 0.05) -> TteOperatingCharacteristics:
    """Log-rank test (two-sided, R ``survdiff``) on every replicate: power, events, hazard ratio.

    Examples
    --------
    >>> sc = TteScenario(n_control=50, n_treated=50, accrual_weeks=10, follow_up_weeks=30,
    ...                  median_control_weeks=12, hazard_ratio=1.0)
    >>> oc = analyse_tte_trials(simulate_tte_trials(sc, n_sims=200, seed=3))
    >>> 0.0 <= oc.power <= 0.15
    True
    """
    if not isinstance(simulation, TteSimulation):
        raise ScoreInputError("simulation", simulation, "a TteSimulation from simulate_tte_trials")
    alpha = check_alpha(alpha)
    o_minus_e, variance, chisq = logrank_statistics(simulation.time, simulation.event, simulation.group)
    estimable = variance > 0
    p = np.where(estimable, chdtrc(1, np.where(estimable, chisq, 0.0)), 1.0)
    power = float(np.mean(p < alpha))
    with np.errstate(invalid="ignore", divide="ignore"):
        hr = np.exp(o_minus_e[estimable] / variance[estimable])
    return TteOperatingCharacteristics(
        scenario=simulation.scenario,
        seed=simulation.seed,
        n_sims=simulation.n_sims,
        alpha=alpha,
        power=power,
        power_mc_se=math.sqrt(power * (1 - power) / simulation.n_sims),
        mean_events=float(simulation.event.sum(axis=1).mean()),
        median_hazard_ratio=float(np.median(hr)) if hr.size else math.nan,
        n_not_estimable=int((~estimable).sum()),
        method="Log-rank test, two-sided (R survdiff, rho = 0); HR = exp((O1 - E1) / V) (Peto, log-rank based)",
    )
