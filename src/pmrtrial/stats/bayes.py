"""Bayesian risk ratio from independent Beta-binomial models, computed by deterministic integration.

Each arm's response probability gets an independent ``Beta(prior_a, prior_b)`` prior (default
Jeffreys, 0.5/0.5; ``1, 1`` is the uniform prior), so the posteriors are
``p_t ~ Beta(a + x_t, b + n_t - x_t)`` and ``p_c ~ Beta(a + x_c, b + n_c - x_c)``. The posterior
distribution function of ``RR = p_t / p_c`` is

.. math::
    G(r) = P(p_t \\le r p_c) = \\int_0^1 F_t(r p) f_c(p)\\,dp \\quad (r < 1), \\qquad
    G(r) = 1 - \\int_0^1 F_c(p / r) f_t(p)\\,dp \\quad (r \\ge 1),

two forms whose CDF argument never leaves [0, 1]. For small posteriors the integrals use QUADPACK's
QAWS rule (``scipy.integrate.quad(weight="alg")``), which integrates the Beta density's endpoint
powers exactly; for large ones (a + b > 60, both >= 1) the density is evaluated in log space and
integrated over its central 1 - 2e-15 of mass, because B(a, b) underflows and the density is a
narrow spike there. Quantiles solve ``G(r) = q`` for ``log r`` with ``scipy.optimize.brentq``. No Monte Carlo.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

from scipy import integrate, optimize, special

from pmrtrial.stats._checks import check_conf_level, check_positive, check_two_by_two
from pmrtrial.stats.results import EstimateResult

__all__ = ["estimate_risk_ratio_bayes"]

_EPSREL = 1e-11
#: Above this a + b (with both shape parameters >= 1) a posterior is integrated on its central mass.
_CONCENTRATED = 60.0


class _RatioPosterior:
    """CDF and quantiles of p_t / p_c for independent Beta posteriors."""

    def __init__(self, at: float, bt: float, ac: float, bc: float) -> None:
        self.at, self.bt, self.ac, self.bc = at, bt, ac, bc
        self.max_abserr = 0.0
        self.messages: list[str] = []

    def _weighted_integral(self, g: Callable[[float], float], a: float, b: float) -> float:
        """Integral of g(p) times the Beta(a, b) density over [0, 1]."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if min(a, b) >= 1.0 and a + b > _CONCENTRATED:
                value, abserr = self._concentrated_integral(g, a, b)
            else:
                # QAWS: integral of g(p) * p^(a-1) * (1-p)^(b-1); divide by B(a, b) for the density.
                raw, raw_err = integrate.quad(
                    g, 0.0, 1.0, weight="alg", wvar=(a - 1.0, b - 1.0), epsabs=0.0, epsrel=_EPSREL, limit=200
                )
                scale = math.exp(special.betaln(a, b))
                value, abserr = raw / scale, raw_err / scale
        for w in caught:
            message = " ".join(str(w.message).split())
            if message not in self.messages:
                self.messages.append(message)
        self.max_abserr = max(self.max_abserr, abserr)
        return float(value)

    @staticmethod
    def _concentrated_integral(g: Callable[[float], float], a: float, b: float) -> tuple[float, float]:
        # Large posteriors: B(a, b) underflows and QAWS's weight is a narrow spike it can miss, so integrate
        # g times the density (evaluated in log space) over the central 1 - 2e-15 of the Beta mass.
        lo = float(special.betaincinv(a, b, 1e-15))
        hi = float(special.betainccinv(a, b, 1e-15))
        log_norm = special.betaln(a, b)

        def integrand(p: float) -> float:
            return g(p) * math.exp((a - 1.0) * math.log(p) + (b - 1.0) * math.log1p(-p) - log_norm)

        mean = a / (a + b)
        value, abserr = integrate.quad(integrand, lo, hi, points=[mean], epsabs=0.0, epsrel=_EPSREL, limit=200)
        return float(value), float(abserr)

    def cdf(self, r: float) -> float:
        if r <= 0.0:
            return 0.0
        if math.isinf(r):
            return 1.0
        if r < 1.0:
            return self._weighted_integral(lambda p: float(special.betainc(self.at, self.bt, r * p)), self.ac, self.bc)
        return 1.0 - self._weighted_integral(
            lambda p: float(special.betainc(self.ac, self.bc, p / r)), self.at, self.bt
        )

    def prob_treated_greater(self) -> float:
        # P(p_t > p_c) integrated directly (not 1 - G(1)) so that tiny probabilities keep their digits.
        return self._weighted_integral(lambda p: float(special.betaincc(self.at, self.bt, p)), self.ac, self.bc)

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
        root, info = optimize.brentq(f, lo, hi, xtol=1e-13, rtol=1e-14, maxiter=500, full_output=True)
        return (math.exp(float(root)), bool(info.converged))


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
