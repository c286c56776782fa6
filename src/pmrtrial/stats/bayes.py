"""Bayesian risk ratio from independent Beta-binomial models, computed by deterministic integration.

Each arm's response probability gets an independent ``Beta(prior_a, prior_b)`` prior (default
Jeffreys, 0.5/0.5; ``1, 1`` is the uniform prior), so the posteriors are
``p_t ~ Beta(a + x_t, b + n_t - x_t)`` and ``p_c ~ Beta(a + x_c, b + n_c - x_c)``. The posterior
distribution function of ``RR = p_t / p_c`` is

.. math::
    G(r) = P(p_t \\le r p_c) = \\int_0^1 F_t(r p) f_c(p)\\,dp \\quad (r < 1), \\qquad
    G(r) = 1 - \\int_0^1 F_c(p / r) f_t(p)\\,dp \\quad (r \\ge 1),

two forms whose CDF argument never leaves [0, 1]. Each integral is the tanh-sinh (double exponential)
rule of Takahasi and Mori (1974): with ``p = expit(pi sinh t)`` the integrand, Beta density and Jacobian
together decay double-exponentially in ``t``, so the trapezoid rule in ``t`` converges geometrically even
with the density's endpoint powers (Jeffreys: ``p^-1/2``); the step is halved until two successive sums agree
to 1e-11 relative (the difference is the reported error estimate). The density and Jacobian are evaluated in
log space, so a small posterior shape (``p^(a - 1)`` near 0) and large posteriors (``B(a, b)`` underflows)
both work; a concentrated posterior (a + b > 60, both >= 1) is integrated over its central 1 - 2e-15 of
mass, where it is a narrow spike. Quantiles solve ``G(r) = q`` for ``log r`` with Brent's method
(:func:`pmrtrial.stats._brentq.brentq`, scipy's ``brentq`` step for step). No Monte Carlo, and neither
``scipy.integrate`` nor ``scipy.optimize`` (0.15 s of CPU to import; the special functions suffice).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

from pmrtrial.stats._brentq import brentq
from pmrtrial.stats._checks import check_conf_level, check_positive, check_two_by_two
from pmrtrial.stats.results import EstimateResult

__all__ = ["estimate_risk_ratio_bayes"]

#: Relative agreement of two successive tanh-sinh sums that ends the refinement.
_EPSREL = 1e-11
#: Absolute agreement that also ends it for the CDF, whose far tails (1e-200 and below) only bracket the quantiles.
_CDF_ABSTOL = 1e-15
#: Above this a + b (with both shape parameters >= 1) a posterior is integrated on its central mass.
_CONCENTRATED = 60.0
#: Nodes whose log weight is below this (e^-46 = 1e-20) are left out; the truncation point in t is capped.
_LOG_NEGLIGIBLE = -46.0
_T_MAX = 12.0
#: Step of the first sum (h = 1/2) and the finest allowed (h = 2^-13).
_MIN_LEVEL, _MAX_LEVEL = 3, 13

_Array = np.ndarray[Any, np.dtype[np.float64]]


class _BetaRule:
    """``integral of g(p) times the Beta(a, b) density`` by the tanh-sinh rule, nodes and weights kept per level.

    On [0, 1]: ``p = expit(u)``, ``u = pi sinh t``, so ``dp/dt = pi cosh t p (1 - p)`` and the weight of a node is
    ``exp(log(pi cosh t) + a log p + b log(1 - p) - log B(a, b))`` with ``log p = log_expit(u)``, exact near both
    ends. On a central interval [lo, hi] the density is evaluated at ``p = lo + (hi - lo) expit(u)``.
    """

    def __init__(self, a: float, b: float) -> None:
        self.a, self.b = a, b
        self.log_beta = float(special.betaln(a, b))
        if min(a, b) >= 1.0 and a + b > _CONCENTRATED:
            self.lo = float(special.betaincinv(a, b, 1e-15))
            self.hi = float(special.betainccinv(a, b, 1e-15))
        else:
            self.lo, self.hi = 0.0, 1.0
        probe = np.arange(0.0, _T_MAX + 1e-9, 1.0 / 16.0)
        heavy = np.concatenate(
            [probe[self._log_weight(probe) > _LOG_NEGLIGIBLE], -probe[self._log_weight(-probe) > _LOG_NEGLIGIBLE]]
        )
        self.t_max = min(float(np.abs(heavy).max()) + 1.0 / 16.0, _T_MAX) if heavy.size else 1.0
        self.tail = math.exp(max(self._log_weight(np.array([-self.t_max, self.t_max])).max(), -745.0))
        self._levels: list[tuple[_Array, _Array, _Array]] = []

    def _log_weight(self, t: _Array) -> _Array:
        u = math.pi * np.sinh(t)
        log_s, log_c = special.log_expit(u), special.log_expit(-u)
        jacobian = np.log(math.pi * np.cosh(t)) + log_s + log_c
        if self.lo == 0.0 and self.hi == 1.0:
            return np.asarray(jacobian + (self.a - 1.0) * log_s + (self.b - 1.0) * log_c - self.log_beta)
        p = self.lo + (self.hi - self.lo) * special.expit(u)
        density = (self.a - 1.0) * np.log(p) + (self.b - 1.0) * np.log1p(-p) - self.log_beta
        return np.asarray(jacobian + math.log(self.hi - self.lo) + density)

    def _level(self, m: int) -> tuple[_Array, _Array, _Array]:
        """Nodes ``p``, ``1 - p`` and weights (without the step) added at level ``m``: t = k h at level 0
        (h = 1/2), the odd multiples of h / 2^m after. ``1 - p`` is computed as ``expit(-u)`` on [0, 1], exact
        where ``p`` rounds to 1."""
        while len(self._levels) <= m:
            level = len(self._levels)
            h = 0.5 / 2**level
            k = np.arange(0.0, self.t_max / h + 1.0)
            t = k * h if level == 0 else (2.0 * np.arange(0.0, (self.t_max / h + 1.0) / 2.0) + 1.0) * h
            t = t[t <= self.t_max]
            t = np.concatenate([-t[::-1], t[1:] if level == 0 else t])
            u = math.pi * np.sinh(t)
            if self.lo == 0.0 and self.hi == 1.0:
                p, q = special.expit(u), special.expit(-u)
            else:
                p = self.lo + (self.hi - self.lo) * special.expit(u)
                q = 1.0 - p
            self._levels.append((np.asarray(p, float), np.asarray(q, float), np.exp(self._log_weight(t))))
        return self._levels[m]

    def integrate(self, g: Callable[[_Array, _Array], _Array], abstol: float = 0.0) -> tuple[float, float, bool]:
        """(value, error estimate, converged) of the integral of ``g(p, 1 - p)`` against the density, refined
        until two successive sums differ by at most 1e-11 relative or ``abstol``."""
        p, q, w = self._level(0)
        h = 0.5
        total = h * float(np.dot(w, g(p, q)))
        change = math.inf
        for m in range(1, _MAX_LEVEL + 1):
            p, q, w = self._level(m)
            h /= 2.0
            refined = total / 2.0 + h * float(np.dot(w, g(p, q)))
            change, total = abs(refined - total), refined
            if m >= _MIN_LEVEL and change <= max(_EPSREL * abs(total), abstol):
                return total, change + self.tail, True
        return total, change + self.tail, False


class _RatioPosterior:
    """CDF and quantiles of p_t / p_c for independent Beta posteriors."""

    def __init__(self, at: float, bt: float, ac: float, bc: float) -> None:
        self.at, self.bt, self.ac, self.bc = at, bt, ac, bc
        self._treated = _BetaRule(at, bt)
        self._control = _BetaRule(ac, bc)
        self.max_abserr = 0.0
        self.messages: list[str] = []

    def _integral(self, rule: _BetaRule, g: Callable[[_Array, _Array], _Array], abstol: float = 0.0) -> float:
        value, abserr, converged = rule.integrate(g, abstol)
        if not converged:
            message = f"tanh-sinh quadrature stopped at its finest step (h = 2^-{_MAX_LEVEL + 1})"
            if message not in self.messages:
                self.messages.append(message)
        self.max_abserr = max(self.max_abserr, abserr)
        return value

    def cdf(self, r: float) -> float:
        if r <= 0.0:
            return 0.0
        if math.isinf(r):
            return 1.0
        if r < 1.0:
            return self._integral(self._control, lambda p, _q: special.betainc(self.at, self.bt, r * p), _CDF_ABSTOL)
        return 1.0 - self._integral(self._treated, lambda p, _q: special.betainc(self.ac, self.bc, p / r), _CDF_ABSTOL)

    def prob_treated_greater(self) -> float:
        # P(p_t > p_c) integrated directly (not 1 - G(1)) so that tiny probabilities keep their digits.
        # P(p_t > p | p) = 1 - I_p(a_t, b_t) = I_{1-p}(b_t, a_t): from whichever of p, 1 - p is small (exact
        # where the other rounds to 1).
        return self._integral(
            self._control,
            lambda p, q: np.where(p < 0.5, special.betaincc(self.at, self.bt, p), special.betainc(self.bt, self.at, q)),
        )

    def quantile(self, q: float) -> tuple[float, bool]:
        def f(u: float) -> float:
            return self.cdf(math.exp(u)) - q

        lo, hi = -1.0, 1.0
        while f(lo) > 0.0:
            lo *= 2.0
            if lo < -700:
                return (0.0, False)
        while f(hi) < 0.0:
            hi *= 2.0
            if hi > 700:
                return (math.inf, False)
        found = brentq(f, lo, hi, xtol=1e-13, rtol=1e-14, maxiter=500)
        return (math.exp(found.root), found.converged)


def estimate_risk_ratio_bayes(
    events_treated: int,
    *,
    n_treated: int,
    events_control: int,
    n_control: int,
    prior_a: float = 0.5,
    prior_b: float = 0.5,
    cred_level: float = 0.95,
) -> EstimateResult:
    """Posterior median, equal-tailed credible interval and P(RR > 1) of the risk ratio.

    Parameters
    ----------
    events_treated, n_treated, events_control, n_control : int
        Responders and participants analysed per arm.
    prior_a, prior_b : float
        Parameters of the Beta prior put independently on each arm's response probability.
        Default 0.5, 0.5 (Jeffreys); use 1, 1 for the uniform prior.
    cred_level : float
        Probability content of the equal-tailed credible interval, default 0.95.

    Returns
    -------
    EstimateResult
        ``estimate`` = posterior median of p_t / p_c; ``lo``, ``hi`` = the ``(1 -+ cred_level)/2``
        posterior quantiles; ``conf_level`` holds ``cred_level``; ``p`` is None.
        ``details["prob_rr_gt_1"]`` = P(RR > 1 | data) = P(p_t > p_c | data); ``details`` also holds
        the prior, both posteriors and the largest integration error estimate.
        ``converged`` is False (with a warning) when a quadrature error estimate exceeds 1e-8 or a
        root search fails.

    Examples
    --------
    >>> r = estimate_risk_ratio_bayes(14, n_treated=18, events_control=2, n_control=15)
    >>> r.details["prob_rr_gt_1"] > 0.999
    True
    """
    t = check_two_by_two(events_treated, n_treated, events_control, n_control)
    a = check_positive(prior_a, "prior_a")
    b = check_positive(prior_b, "prior_b")
    level = check_conf_level(cred_level, "cred_level")
    at, bt = a + t.events_treated, b + t.n_treated - t.events_treated
    ac, bc = a + t.events_control, b + t.n_control - t.events_control
    post = _RatioPosterior(at, bt, ac, bc)
    tail = (1.0 - level) / 2.0
    median, ok_median = post.quantile(0.5)
    lo, ok_lo = post.quantile(tail)
    hi, ok_hi = post.quantile(1.0 - tail)
    prob_gt_1 = post.prob_treated_greater()
    warn = list(post.messages)
    converged = ok_median and ok_lo and ok_hi and post.max_abserr <= 1e-8
    if not converged:
        warn.append(
            f"numerical integration or root search did not meet its tolerance "
            f"(largest quadrature error estimate {post.max_abserr:.2e})"
        )
    prior_name = {(0.5, 0.5): "Jeffreys Beta(0.5, 0.5)", (1.0, 1.0): "uniform Beta(1, 1)"}.get(
        (a, b), f"Beta({a:g}, {b:g})"
    )
    return EstimateResult(
        estimand="risk_ratio",
        estimate=median,
        lo=lo,
        hi=hi,
        conf_level=level,
        p=None,
        method=f"Bayesian risk ratio, independent {prior_name} priors, posterior median and "
        "equal-tailed credible interval by numerical integration",
        n_treated=t.n_treated,
        n_control=t.n_control,
        events_treated=t.events_treated,
        events_control=t.events_control,
        converged=converged,
        warnings=tuple(warn),
        details={
            "prob_rr_gt_1": prob_gt_1,
            "prior": (a, b),
            "posterior_treated": (at, bt),
            "posterior_control": (ac, bc),
            "interval": "equal-tailed credible interval",
            "max_integration_abserr": post.max_abserr,
        },
    )
