"""Covariate-adjusted risk ratio of a binary outcome: modified Poisson or log-binomial regression.

* ``method="modified_poisson"`` (Zou 2004, Am J Epidemiol 159:702): a Poisson GLM with log link for the
  0/1 outcome, with the robust (sandwich) variance HC0 - as R ``glm(family = poisson)`` +
  ``sandwich::vcovHC(type = "HC0")``, equal to ``geepack::geeglm(corstr = "independence")`` with one
  cluster per participant. Wald CI and z-test p.
* ``method="log_binomial"``: the binomial GLM with log link by iteratively reweighted least squares with
  R ``glm.fit``'s step halving into the valid region, started at ``(log(mean(y)), 0, ..., 0)``;
  model-based SE (R ``summary.glm``), Wald CI (``confint.default``) and z-test p. When the fit does not
  converge or its maximum lies on the boundary (a fitted probability of 1, so the likelihood is not
  regular there), the modified Poisson estimate is reported instead and the fall-back is recorded in
  ``warnings`` and ``details["fallback"]`` (the usual remedy: Zou 2004; Spiegelman & Hertzmark 2005).

Covariates: numeric columns linear, text/categorical dummy-coded against the first sorted level; a
covariate constant in the analysed participants or collinear with the treatment or earlier covariates is
dropped with a recorded warning (R returns an ``NA`` coefficient for it). An empty arm, no event in an
arm (risk ratio 0 or infinite) or every participant with the event gives ``available=False`` and a reason.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats._arrays import FloatArray, as_binary, check_same_length, drop_missing
from pmrtrial.stats._checks import check_conf_level
from pmrtrial.stats._covariates import covariate_matrix
from pmrtrial.stats.results import EstimateResult

__all__ = ["estimate_adjusted_risk_ratio"]

AdjustedMethod = Literal["modified_poisson", "log_binomial"]
_METHODS = ("modified_poisson", "log_binomial")
_EPSILON = 1e-12  # relative deviance change, as glm.control(epsilon = 1e-12) in the R reference
_MAXIT = 200
_BOUNDARY = 1e-6  # a fitted probability above 1 - this is on the boundary
_DIVERGING = 15.0  # |coefficient| beyond this: (quasi-)separation


def _poisson_irls(x: FloatArray, y: FloatArray) -> tuple[FloatArray, bool]:
    """Poisson GLM (log link) by IRLS from R's start (mu = y + 0.1); returns coefficients and converged."""
    mu = y + 0.1
    eta = np.log(mu)
    dev_old = math.inf
    beta: FloatArray = np.zeros(x.shape[1])
    for _ in range(_MAXIT):
        z = eta + (y - mu) / mu
        w = mu
        beta = np.asarray(np.linalg.solve(x.T @ (w[:, None] * x), x.T @ (w * z)), dtype=np.float64)
        eta = x @ beta
        mu = np.exp(eta)
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = 2 * float(np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < _EPSILON:
            return beta, True
        dev_old = dev
    return beta, False


def _binomial_deviance(y: FloatArray, mu: FloatArray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(y > 0, -2 * np.log(mu), -2 * np.log1p(-mu))
    return float(terms.sum())


def _log_binomial_irls(x: FloatArray, y: FloatArray) -> tuple[FloatArray, bool, bool]:
    """Log-binomial GLM as R ``glm.fit``: IRLS with step halving while a fitted value is outside (0, 1).

    Returns coefficients, converged, and whether the last step had to be halved (R's ``boundary``).
    """
    beta = np.zeros(x.shape[1])
    beta[0] = math.log(float(y.mean()))
    eta = x @ beta
    mu = np.exp(eta)
    dev_old = _binomial_deviance(y, mu)
    boundary = False
    for _ in range(_MAXIT):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            w = mu / (1 - mu)
            z = eta + (y - mu) / mu
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(z))):
            return beta, False, True  # a fitted probability reached 1: the boundary
        try:
            new = np.linalg.solve(x.T @ (w[:, None] * x), x.T @ (w * z))
        except np.linalg.LinAlgError:
            return beta, False, boundary
        eta_new = x @ new
        boundary = False
        halvings = 0
        while not (np.all(np.isfinite(eta_new)) and np.all(eta_new < 0)) or not math.isfinite(
            _binomial_deviance(y, np.exp(eta_new))
        ):
            halvings += 1
            if halvings > _MAXIT:
                return beta, False, True
            new = (new + beta) / 2
            eta_new = x @ new
            boundary = True
        beta, eta = new, eta_new
        mu = np.exp(eta)
        dev = _binomial_deviance(y, mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < _EPSILON:
            return beta, True, boundary
        dev_old = dev
    return beta, False, boundary


def _modified_poisson_cov(x: FloatArray, y: FloatArray, beta: FloatArray) -> FloatArray:
    """HC0 sandwich (X'WX)^-1 [sum (y - mu)^2 x x'] (X'WX)^-1 of the Poisson GLM (canonical link)."""
    mu = np.exp(x @ beta)
    bread = np.linalg.inv(x.T @ (mu[:, None] * x))
    scores = (y - mu)[:, None] * x
    return np.asarray(bread @ (scores.T @ scores) @ bread, dtype=np.float64)


def estimate_adjusted_risk_ratio(
    y: Any,
    treated: Any,
    covariates: pd.DataFrame | None = None,
    method: AdjustedMethod = "modified_poisson",
    *,
    conf_level: float = 0.95,
) -> EstimateResult:
    """Risk ratio treated / control adjusted for ``covariates``.

    Parameters
    ----------
    y : array-like of 0/1 or bool
        The binary outcome (missing -> participant dropped, counted in ``details["n_dropped"]``).
    treated : array-like of 0/1 or bool
        1 = treated arm, 0 = control.
    covariates : DataFrame, optional
        One row per participant (same order as ``y``); numeric columns linear, text/categorical columns
        dummy-coded. None = unadjusted (the model's RR is then the crude ratio of proportions).
    method : {"modified_poisson", "log_binomial"}
        See the module docstring; log-binomial falls back to modified Poisson when it fails.
    conf_level : float
        Level of the Wald interval.

    Returns
    -------
    EstimateResult
        ``estimand="risk_ratio"``; ``details`` holds ``coef``, ``se``, ``model`` (the model actually
        reported), ``fallback`` (None or the reason log-binomial was not reported), ``covariates`` (those
        kept), ``coefficients``. Not available, with a reason, for an empty arm, no event in an arm, an
        outcome with no variation, or a fit that fails.

    Examples
    --------
    >>> res = estimate_adjusted_risk_ratio([1, 1, 0, 1, 0, 0], [1, 1, 1, 0, 0, 0])
    >>> round(res.estimate, 6)  # (2/3) / (1/3), the crude ratio when there is no covariate
    2.0
    """
    if method not in _METHODS:
        raise ScoreInputError("method", method, f"one of {list(_METHODS)}")
    level = check_conf_level(conf_level)
    yy = as_binary(y, "y")
    g = as_binary(treated, "treated")
    n_all = check_same_length(y=yy, treated=g)
    design = covariate_matrix(covariates, n_all)
    keep, _ = drop_missing(yy, g, *[design.matrix[:, j] for j in range(design.matrix.shape[1])])
    dropped = int((~keep).sum())
    yy, g = yy[keep], g[keep]
    x_cov, names, warns = design.select(keep, g)
    if dropped:
        warns.insert(0, f"{dropped} participant(s) with a missing outcome, arm or covariate were dropped")
    counts = {
        "n_treated": int((g == 1).sum()),
        "n_control": int((g == 0).sum()),
        "events_treated": int(yy[g == 1].sum()),
        "events_control": int(yy[g == 0].sum()),
    }
    adjusted = f" adjusted for {', '.join(names)}" if names else " (no covariate)"
    poisson_method = "Modified Poisson regression (Zou 2004), robust HC0 sandwich SE, Wald CI" + adjusted
    details: dict[str, Any] = {"n_dropped": dropped, "covariates": tuple(names), "model": method, "fallback": None}

    def result(estimate: float, lo: float, hi: float, p: float, text: str, **extra: Any) -> EstimateResult:
        reason = extra.pop("reason", None)
        return EstimateResult(
            estimand="risk_ratio", estimate=estimate, lo=lo, hi=hi, conf_level=level, p=p, method=text,
            n_treated=counts["n_treated"], n_control=counts["n_control"],
            events_treated=counts["events_treated"], events_control=counts["events_control"],
            converged=extra.pop("converged", True), warnings=tuple(warns), details={**details, **extra},
            available=reason is None, reason=reason,
        )  # fmt: skip

    nan = math.nan
    reason = None
    if counts["n_treated"] == 0 or counts["n_control"] == 0:
        reason = f"one arm is empty (treated n={counts['n_treated']}, control n={counts['n_control']})"
    elif counts["events_treated"] == 0 or counts["events_control"] == 0:
        arm = "treated" if counts["events_treated"] == 0 else "control"
        value = "0" if arm == "treated" else "infinite"
        reason = f"no event in the {arm} arm: the risk ratio is {value} (separation; not estimable by regression)"
    elif yy.min() == 1:
        reason = "every participant had the event: the outcome does not vary"
    text = poisson_method if method == "modified_poisson" else "Log-binomial regression" + adjusted
    if reason is not None:
        return result(nan, nan, nan, nan, text, reason=reason)

    x = np.column_stack([np.ones(len(yy)), x_cov])
    z = float(sps.norm.ppf(1 - (1 - level) / 2))
    coef_names = ["(Intercept)", "treated", *names]
    if method == "log_binomial":
        beta, converged, boundary = _log_binomial_irls(x, yy)
        max_fitted = float(np.exp(x @ beta).max())
        failure = None
        if boundary or max_fitted > 1 - _BOUNDARY:
            failure = f"the log-binomial fit reached the boundary (a fitted probability of {max_fitted:.6g})"
        elif not converged:
            failure = "the log-binomial fit did not converge"
        if failure is None:
            mu = np.exp(x @ beta)
            cov = np.linalg.inv(x.T @ ((mu / (1 - mu))[:, None] * x))
            details["max_fitted"] = max_fitted
            return _finish(result, beta, cov, z, coef_names, text, warns)
        warns.append(f"{failure}; the modified Poisson estimate is reported instead")
        details["fallback"] = failure
        details["model"] = "modified_poisson"
        text = poisson_method + " (fall-back from log-binomial)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        beta, converged = _poisson_irls(x, yy)
    if not converged or not np.all(np.isfinite(beta)):
        return result(nan, nan, nan, nan, text, reason="the Poisson fit did not converge", converged=False)
    return _finish(result, beta, _modified_poisson_cov(x, yy, beta), z, coef_names, text, warns)


def _finish(
    result: Callable[..., EstimateResult],
    beta: FloatArray,
    cov: FloatArray,
    z: float,
    names: list[str],
    text: str,
    warns: list[str],
) -> EstimateResult:
    se = np.sqrt(np.diag(cov))
    for name, b in zip(names[2:], beta[2:], strict=True):
        if abs(b) > _DIVERGING:
            warns.append(f"the coefficient of covariate {name!r} diverges ({b:.3g}): quasi-separation")
    coef, s = float(beta[1]), float(se[1])
    if abs(coef) > _DIVERGING or not math.isfinite(s):
        return result(math.nan, math.nan, math.nan, math.nan, text, reason="the treatment coefficient diverges")
    out = result(
        math.exp(coef),
        math.exp(coef - z * s),
        math.exp(coef + z * s),
        float(2 * sps.norm.sf(abs(coef / s))),
        text,
        coef=coef,
        se=s,
        coefficients={n: float(b) for n, b in zip(names, beta, strict=True)},
        standard_errors={n: float(v) for n, v in zip(names, se, strict=True)},
    )
    assert isinstance(out, EstimateResult)
    return out
