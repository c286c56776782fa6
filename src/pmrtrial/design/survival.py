r"""Time-to-event design: required events (Schoenfeld, Freedman), participants, and power.

Closed forms, as R ``rpact::getSampleSizeSurvival`` / ``getPowerSurvival`` compute them for a fixed design
(``getDesignGroupSequential(kMax = 1, alpha, sided = 2, beta)``); ``r`` = allocation ratio
``n_treated / n_control``, ``z_a`` = the ``1 - alpha/2`` normal quantile, ``z_b`` = the ``power`` quantile:

* Schoenfeld (1981): :math:`D = (z_a + z_b)^2 (1 + r)^2 / (r \log^2 HR)`;
* Freedman (1982): :math:`D = (z_a + z_b)^2 (1 + r\,HR)^2 / (r (1 - HR)^2)`;
* power at ``D`` events, both tails as rpact does for ``sided = 2``:
  :math:`\Phi(\delta - z_a) + \Phi(-\delta - z_a)` with :math:`\delta = \sqrt{D r}\,|\log HR| / (1 + r)`
  (Schoenfeld) or :math:`\sqrt{D r}\,|1 - HR| / (1 + r\,HR)` (Freedman).

Events to participants: exponential event times (control hazard ``lambda_c``, treated ``HR * lambda_c``),
exponential drop-out with hazard ``eta = -log(1 - dropout_rate) / dropout_time`` in both arms, uniform
accrual over ``accrual_time`` and analysis ``follow_up_time`` after the last participant entered. The
probability that a participant's event is observed is

.. math:: P = \frac{\lambda}{\lambda + \eta}\left[1 - \frac{e^{-(\lambda+\eta)F} - e^{-(\lambda+\eta)(A+F)}}
          {(\lambda+\eta)A}\right]

(``1 - e^{-(\lambda+\eta)F}`` when ``A = 0``), and ``n = D / ((r P_t + P_c) / (1 + r))`` (real; the
integer to recruit is its ceiling, rounded up to the allocation).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from scipy import stats as sps

from pmrtrial.design._inputs import check_alpha, check_power, check_ratio
from pmrtrial.exceptions import ScoreInputError

__all__ = [
    "SURVIVAL_METHODS",
    "SurvivalDesignResult",
    "compute_power_survival",
    "find_sample_size_survival",
    "probability_of_event",
    "required_events",
]

SurvivalMethod = Literal["schoenfeld", "freedman"]
SURVIVAL_METHODS: tuple[SurvivalMethod, ...] = ("schoenfeld", "freedman")


@dataclass(frozen=True)
class SurvivalDesignResult:
    """Events, participants and power of a two-arm time-to-event design.

    Attributes
    ----------
    method : str
        ``"schoenfeld"`` or ``"freedman"``.
    hazard_ratio, alpha, allocation_ratio : float
        Treated vs control hazard ratio, two-sided level, ``n_treated / n_control``.
    events : float
        Required (or given) number of events, real (``events_required`` = its ceiling).
    power : float
        Power at ``events`` (both tails).
    n, n_treated, n_control : float or None
        Participants (real, as rpact's ``nFixed``), None when no accrual assumptions were given.
    n_required : int or None
        Participants to recruit: ceiling of ``n``.
    probability_of_event : float or None
        Probability that a participant's event is observed (allocation-weighted).
    assumptions : tuple of str
        Every assumption, in words.
    """

    method: str
    hazard_ratio: float
    alpha: float
    allocation_ratio: float
    events: float
    events_required: int
    power: float
    n: float | None
    n_treated: float | None
    n_control: float | None
    n_required: int | None
    probability_of_event: float | None
    assumptions: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dictionary."""
        out = asdict(self)
        out["assumptions"] = list(self.assumptions)
        return out


def _check_method(method: str) -> SurvivalMethod:
    if method not in SURVIVAL_METHODS:
        raise ScoreInputError("method", method, "one of " + ", ".join(SURVIVAL_METHODS))
    return method


def _check_hr(hazard_ratio: float) -> float:
    hr = float(hazard_ratio)
    if not (math.isfinite(hr) and hr > 0 and hr != 1):
        raise ScoreInputError("hazard_ratio", hazard_ratio, "a number > 0 other than 1")
    return hr


def _check_nonnegative(value: float, field: str, *, positive: bool = False) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ScoreInputError(field, value, "a finite number " + ("> 0" if positive else ">= 0"))
    return number


def _delta(hr: float, r: float, method: SurvivalMethod) -> float:
    """Standardised effect per sqrt(event)."""
    if method == "schoenfeld":
        return math.sqrt(r) * abs(math.log(hr)) / (1 + r)
    return math.sqrt(r) * abs(1 - hr) / (1 + r * hr)


def required_events(
    hazard_ratio: float, *, alpha: float = 0.05, power: float = 0.8, allocation_ratio: float = 1.0,
    method: str = "schoenfeld",
) -> float:  # fmt: skip
    """Required number of events (real), two-sided ``alpha`` (formulas in the module docstring).

    Examples
    --------
    >>> round(required_events(0.56, alpha=0.05, power=0.8), 4)  # rpact eventsFixed 93.3864
    93.3864
    """
    hr = _check_hr(hazard_ratio)
    a = check_alpha(alpha)
    pw = check_power(power)
    r = check_ratio(allocation_ratio)
    m = _check_method(method)
    z = float(sps.norm.isf(a / 2)) + float(sps.norm.ppf(pw))
    return (z / _delta(hr, r, m)) ** 2


def _power_at(events: float, hr: float, a: float, r: float, m: SurvivalMethod) -> float:
    shift = math.sqrt(events) * _delta(hr, r, m)
    z = float(sps.norm.isf(a / 2))
    return float(sps.norm.cdf(shift - z) + sps.norm.cdf(-shift - z))


def probability_of_event(
    hazard: float, *, accrual_time: float, follow_up_time: float, dropout_hazard: float = 0.0
) -> float:
    """Probability that an exponential event is observed under uniform accrual, follow-up and drop-out."""
    total = hazard + dropout_hazard
    if total == 0:
        return 0.0
    a, f = accrual_time, follow_up_time
    if a == 0:
        return hazard / total * -math.expm1(-total * f)
    return hazard / total * (1 - (math.exp(-total * f) - math.exp(-total * (a + f))) / (total * a))


def _events_to_n(
    events: float,
    hr: float,
    r: float,
    lambda_control: float,
    accrual_time: float,
    follow_up_time: float,
    dropout_rate: float,
    dropout_time: float,
) -> tuple[float, float]:
    eta = -math.log1p(-dropout_rate) / dropout_time
    kw = {"accrual_time": accrual_time, "follow_up_time": follow_up_time, "dropout_hazard": eta}
    p_t = probability_of_event(hr * lambda_control, **kw)
    p_c = probability_of_event(lambda_control, **kw)
    p = (r * p_t + p_c) / (1 + r)
    return events / p, p


def _control_hazard(median_control: float | None, lambda_control: float | None) -> float | None:
    if (median_control is None) == (lambda_control is None):
        if median_control is None:
            return None
        raise ScoreInputError("median_control", median_control, "either median_control or lambda_control, not both")
    if median_control is not None:
        return math.log(2) / _check_nonnegative(median_control, "median_control", positive=True)
    return _check_nonnegative(lambda_control, "lambda_control", positive=True)  # type: ignore[arg-type]


def _result(
    m: SurvivalMethod,
    hr: float,
    a: float,
    r: float,
    events: float,
    lam: float | None,
    accrual_time: float,
    follow_up_time: float,
    dropout_rate: float,
    dropout_time: float,
    extra: tuple[str, ...],
) -> SurvivalDesignResult:
    name = {"schoenfeld": "Schoenfeld (1981)", "freedman": "Freedman (1982)"}[m]
    assumptions = [
        f"{name} events for a two-sided log-rank test at alpha {a:g}, hazard ratio {hr:g}, "
        f"allocation treated:control {r:g}:1",
        *extra,
    ]
    n = n_t = n_c = p_event = None
    n_required = None
    if lam is not None:
        n, p_event = _events_to_n(events, hr, r, lam, accrual_time, follow_up_time, dropout_rate, dropout_time)
        n_t, n_c = n * r / (1 + r), n / (1 + r)
        n_required = math.ceil(n - 1e-9)
        assumptions.append(
            f"exponential event times, control median {math.log(2) / lam:.4g} (hazard {lam:.6g}); uniform accrual "
            f"over {accrual_time:g}, follow-up {follow_up_time:g} after the last entry; drop-out {dropout_rate:.0%} "
            f"by {dropout_time:g} (exponential) in both arms"
        )
    return SurvivalDesignResult(
        method=m, hazard_ratio=hr, alpha=a, allocation_ratio=r, events=events,
        events_required=math.ceil(events - 1e-9), power=_power_at(events, hr, a, r, m), n=n, n_treated=n_t,
        n_control=n_c, n_required=n_required, probability_of_event=p_event, assumptions=tuple(assumptions),
    )  # fmt: skip


def find_sample_size_survival(
    hazard_ratio: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    allocation_ratio: float = 1.0,
    method: str = "schoenfeld",
    median_control: float | None = None,
    lambda_control: float | None = None,
    accrual_time: float = 12.0,
    follow_up_time: float = 12.0,
    dropout_rate: float = 0.0,
    dropout_time: float = 12.0,
) -> SurvivalDesignResult:
    """Events and (with ``median_control`` or ``lambda_control``) participants for the target power.

    Equivalent to ``rpact::getSampleSizeSurvival(getDesignGroupSequential(kMax = 1, alpha = alpha,
    sided = 2, beta = 1 - power), typeOfComputation = "Schoenfeld"|"Freedman", hazardRatio,
    lambda2 = lambda_control, allocationRatioPlanned, accrualTime = c(0, accrual_time), followUpTime,
    dropoutRate1 = dropoutRate2 = dropout_rate, dropoutTime)``: ``eventsFixed`` and ``nFixed``.
    Times are in any one unit (months, weeks...), the same for all arguments.
    """
    hr = _check_hr(hazard_ratio)
    a = check_alpha(alpha)
    r = check_ratio(allocation_ratio)
    m = _check_method(method)
    lam = _control_hazard(median_control, lambda_control)
    acc = _check_nonnegative(accrual_time, "accrual_time")
    fu = _check_nonnegative(follow_up_time, "follow_up_time")
    if lam is not None and acc + fu == 0:
        raise ScoreInputError("follow_up_time", follow_up_time, "> 0 when accrual_time is 0")
    drop = _check_nonnegative(dropout_rate, "dropout_rate")
    if drop >= 1:
        raise ScoreInputError("dropout_rate", dropout_rate, "a proportion in [0, 1)")
    dtime = _check_nonnegative(dropout_time, "dropout_time", positive=True)
    events = required_events(hr, alpha=a, power=power, allocation_ratio=r, method=m)
    return _result(m, hr, a, r, events, lam, acc, fu, drop, dtime, (f"target power {check_power(power):g}",))


def compute_power_survival(
    hazard_ratio: float,
    *,
    events: float | None = None,
    n: float | None = None,
    alpha: float = 0.05,
    allocation_ratio: float = 1.0,
    method: str = "schoenfeld",
    median_control: float | None = None,
    lambda_control: float | None = None,
    accrual_time: float = 12.0,
    follow_up_time: float = 12.0,
    dropout_rate: float = 0.0,
    dropout_time: float = 12.0,
) -> SurvivalDesignResult:
    """Power of the two-sided log-rank test at ``events`` events, or at the events expected from ``n``.

    With ``events``: as ``rpact::getPowerSurvival(design, typeOfComputation, hazardRatio,
    maxNumberOfEvents = events, ...)$overallReject``. With ``n`` (and ``median_control`` or
    ``lambda_control``): the expected events ``n * P(event)`` under the accrual, follow-up and drop-out
    assumptions, then the same formula.
    """
    hr = _check_hr(hazard_ratio)
    a = check_alpha(alpha)
    r = check_ratio(allocation_ratio)
    m = _check_method(method)
    lam = _control_hazard(median_control, lambda_control)
    acc = _check_nonnegative(accrual_time, "accrual_time")
    fu = _check_nonnegative(follow_up_time, "follow_up_time")
    drop = _check_nonnegative(dropout_rate, "dropout_rate")
    if drop >= 1:
        raise ScoreInputError("dropout_rate", dropout_rate, "a proportion in [0, 1)")
    dtime = _check_nonnegative(dropout_time, "dropout_time", positive=True)
    if (events is None) == (n is None):
        raise ScoreInputError("events", events, "either events or n (with median_control), not both")
    if events is not None:
        d = _check_nonnegative(events, "events", positive=True)
        return _result(m, hr, a, r, d, lam, acc, fu, drop, dtime, (f"{d:g} events",))
    if lam is None:
        raise ScoreInputError("median_control", None, "a control median (or hazard) when power is asked at n")
    n_total = _check_nonnegative(n, "n", positive=True)  # type: ignore[arg-type]
    _, p_event = _events_to_n(1.0, hr, r, lam, acc, fu, drop, dtime)
    d = n_total * p_event
    return _result(m, hr, a, r, d, lam, acc, fu, drop, dtime, (f"{n_total:g} participants: {d:.4g} expected events",))
