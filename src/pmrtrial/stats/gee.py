"""Adjusted risk ratio by GEE: log-binomial (primary) and modified Poisson (fallback).

BACHELOR's primary adjusted analysis is a log-binomial GLM fitted by GEE with an exchangeable
working correlation within centre, robust (sandwich) SE and a Wald CI. This module has ONE
estimator for that analysis, used for a single trial and for a batch of simulated trials:

* :func:`fit_log_binomial_gee` and :func:`fit_modified_poisson_gee` fit one model and raise
  :class:`~pmrtrial.exceptions.ConvergenceError` when it fails (they never switch silently);
* :func:`fit_risk_ratio_gee` applies the SAP's fallback rule (written once, here);
* :func:`fit_risk_ratio_gee_batch` applies the same rule to ``n_reps`` replicates at once,
  vectorised over replicates. The single-trial functions call the batch code with one replicate.

Moment estimators for the scale and the exchangeable correlation are an explicit option:
``moments="geepack"`` (default; reproduces R ``geepack::geeglm(..., corstr = "exchangeable")``,
geepack 1.3.9, including its iteration scheme, step halving, tolerance 1e-4 and 25 iterations) or
``moments="statsmodels"`` (reproduces statsmodels ``GEE(..., cov_struct=Exchangeable()).fit()``).
See :mod:`pmrtrial.stats._gee_core` for the formulas.

Next to the robust SE the result reports the Mancl & DeRouen (2001) bias-corrected sandwich SE,
because with six centres the plain sandwich SE is too small.

References
----------
Zou G. A modified Poisson regression approach to prospective studies with binary data.
Am J Epidemiol 2004;159:702-6. Mancl LA, DeRouen TA. A covariance estimator for GEE with
improved small-sample properties. Biometrics 2001;57:126-34. Halekoh U, Højsgaard S, Yan J.
The R package geepack for generalized estimating equations. J Stat Softw 2006;15(2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri, stdtr, stdtrit

from pmrtrial._validate import as_float_array
from pmrtrial.exceptions import ConvergenceError, EstimationError, ScoreInputError
from pmrtrial.stats import _gee_core as core
from pmrtrial.stats.results import software_versions

__all__ = [
    "METHOD_LOG_BINOMIAL",
    "METHOD_LOG_BINOMIAL_POISSON_START",
    "METHOD_MODIFIED_POISSON",
    "METHOD_NONE",
    "STATUS_MESSAGES",
    "GeeBatchResult",
    "GeeResult",
    "fit_log_binomial_gee",
    "fit_modified_poisson_gee",
    "fit_risk_ratio_gee",
    "fit_risk_ratio_gee_batch",
    "fit_risk_ratio_gee_counts",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Moments = Literal["geepack", "statsmodels"]

METHOD_NONE = -1
METHOD_LOG_BINOMIAL = 0
METHOD_LOG_BINOMIAL_POISSON_START = 1
METHOD_MODIFIED_POISSON = 2
_METHOD_NAMES = {
    METHOD_NONE: "not estimable",
    METHOD_LOG_BINOMIAL: "log-binomial GEE",
    METHOD_LOG_BINOMIAL_POISSON_START: "log-binomial GEE",
    METHOD_MODIFIED_POISSON: "modified Poisson GEE",
}

STATUS_MESSAGES: dict[int, str] = {
    core.OK: "converged",
    core.ZERO_RESPONDERS: "not estimable: an arm has no responders (risk ratio 0 or infinite)",
    core.NO_VARIATION: "not estimable: every participant responded (no variation in the response)",
    core.SINGLE_ARM: "not estimable: the treatment indicator does not vary",
    core.BOUNDARY: (
        "log-binomial model not estimable: every participant in one arm responded, so the "
        "estimate lies on the boundary (fitted probability 1)"
    ),
    core.INVALID_MEAN: "log-binomial model failed: a fitted probability reached 1",
    core.NOT_CONVERGED: "iteration limit reached before convergence",
    core.NUMERICAL: "numerical failure: non-finite values or a singular information matrix",
    core.NO_PAIRS: "not estimable: no centre has two or more participants (correlation undefined)",
    core.ZERO_VARIANCE: (
        "not estimable: the robust (sandwich) variance of the log risk ratio is zero up to rounding "
        "(every centre shows the same result in both arms), so no Wald test or interval exists"
    ),
}
_FEW_CLUSTERS = 20


def _software(moments: str) -> tuple[tuple[str, str], ...]:
    reference = (
        "moment estimators of R geepack 1.3.9 (geese.fit)"
        if moments == "geepack"
        else "moment estimators of statsmodels 0.15 (GEE, Exchangeable)"
    )
    return (*software_versions().items(), ("reproduces", reference))


@dataclass(frozen=True)
class GeeResult:
    """Adjusted risk ratio (active vs control) from one GEE fit.

    Attributes
    ----------
    log_rr, se_robust, se_mancl_derouen : float
        Log risk ratio, its robust (sandwich) SE and its Mancl-DeRouen bias-corrected SE.
    rr : float
        ``exp(log_rr)``.
    ci, ci_md : tuple of float
        Wald confidence intervals for the risk ratio from ``se_robust`` and ``se_mancl_derouen``
        (normal reference).
    p, p_md : float
        Two-sided Wald z-test p-values of ``log_rr = 0`` with either SE.
    ci_md_t, p_md_t, df_t : tuple of float, float, int
        Interval and p from the Mancl-DeRouen SE with the t reference distribution on ``df_t = K - 2``
        degrees of freedom (K clusters), the small-sample reference usually paired with it (Mancl &
        DeRouen 2001; Li & Redden 2015). With few clusters (BACHELOR: 6) this is the honest interval.
        NaN when ``K <= 2``.
    estimate, lo, hi : float (properties)
        The shared result shape: ``rr`` and ``ci`` (robust SE, normal reference); ``p`` is a field.
    available, reason : bool, str or None (properties)
        False with a reason when the risk ratio is not finite.
    rho, phi : float
        Exchangeable working correlation and scale, from the chosen moment estimators.
    method : str
        ``"log-binomial GEE"`` or ``"modified Poisson GEE"``.
    start_values : str
        ``"GLM"`` (the GLM estimate, geepack's and statsmodels' default) or ``"modified Poisson GEE"``.
    fallback_used, fallback_reason : bool, str or None
        Whether the SAP's fallback rule departed from its first step, and why.
    warnings : tuple of str
        Caveats recorded (never raised): fallback, few clusters, non-positive-definite working
        correlation, Mancl-DeRouen not available, fitted probabilities near 1.
    """

    log_rr: float
    se_robust: float
    se_mancl_derouen: float
    rr: float
    ci: tuple[float, float]
    ci_md: tuple[float, float]
    p: float
    p_md: float
    conf_level: float
    intercept: float
    rho: float
    phi: float
    n_obs: int
    n_clusters: int
    iterations: int
    converged: bool
    method: str
    moments: str
    start_values: str
    fallback_used: bool
    fallback_reason: str | None
    warnings: tuple[str, ...] = ()
    software: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    ci_md_t: tuple[float, float] = (math.nan, math.nan)
    p_md_t: float = math.nan
    df_t: int = 0

    @property
    def estimate(self) -> float:
        """The risk ratio (shared result field name)."""
        return self.rr

    @property
    def lo(self) -> float:
        """Lower limit of ``ci`` (robust SE, normal reference)."""
        return self.ci[0]

    @property
    def hi(self) -> float:
        """Upper limit of ``ci`` (robust SE, normal reference)."""
        return self.ci[1]

    @property
    def available(self) -> bool:
        """Whether the risk ratio is a finite number."""
        return math.isfinite(self.rr)

    @property
    def reason(self) -> str | None:
        """Why the result is not available (None when it is)."""
        return None if self.available else "the risk ratio is not finite"

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dictionary (with the shared ``estimate/lo/hi/available/reason``)."""
        out = asdict(self)
        out["ci"] = list(self.ci)
        out["ci_md"] = list(self.ci_md)
        out["ci_md_t"] = list(self.ci_md_t)
        out["warnings"] = list(self.warnings)
        out["software"] = dict(self.software)
        out.update(estimate=self.estimate, lo=self.lo, hi=self.hi, available=self.available, reason=self.reason)
        return out


@dataclass(frozen=True)
class GeeBatchResult:
    """Per-replicate arrays from :func:`fit_risk_ratio_gee_batch` (NaN where not estimable).

    ``method`` holds ``METHOD_*`` codes; ``status`` holds the final status code and
    ``log_binomial_status`` that of the first log-binomial attempt (see ``STATUS_MESSAGES``).
    """

    log_rr: FloatArray
    se_robust: FloatArray
    se_md: FloatArray
    intercept: FloatArray
    rho: FloatArray
    phi: FloatArray
    iterations: IntArray
    converged: BoolArray
    estimable: BoolArray
    status: IntArray
    log_binomial_status: IntArray
    method: IntArray
    fallback_used: BoolArray
    corr_not_pd: BoolArray
    md_singular: BoolArray
    max_fitted: FloatArray
    n_obs: IntArray
    n_clusters: IntArray
    moments: str
    software: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def n_reps(self) -> int:
        return int(self.log_rr.shape[0])

    def counts(self) -> dict[str, int]:
        """How often each method and each failure occurred (for simulation reports)."""
        out = {
            "n_reps": self.n_reps,
            "estimable": int(self.estimable.sum()),
            "log_binomial": int((self.method == METHOD_LOG_BINOMIAL).sum()),
            "log_binomial_poisson_start": int((self.method == METHOD_LOG_BINOMIAL_POISSON_START).sum()),
            "modified_poisson": int((self.method == METHOD_MODIFIED_POISSON).sum()),
            "fallback_used": int(self.fallback_used.sum()),
            "mancl_derouen_unavailable": int((self.estimable & self.md_singular).sum()),
            "corr_not_positive_definite": int((self.estimable & self.corr_not_pd).sum()),
        }
        for code, message in STATUS_MESSAGES.items():
            if code != core.OK:
                out[f"not_estimable: {message}"] = int(((self.status == code) & ~self.estimable).sum())
        return out

    def to_dict(self) -> dict[str, Any]:
        """Summary counts plus the per-replicate arrays as lists."""
        arrays = {
            k: getattr(self, k).tolist()
            for k in (
                "log_rr",
                "se_robust",
                "se_md",
                "rho",
                "phi",
                "iterations",
                "converged",
                "estimable",
                "status",
                "method",
                "fallback_used",
            )
        }
        return {"moments": self.moments, "counts": self.counts(), "software": dict(self.software), **arrays}

    def result(self, i: int, conf_level: float = 0.95) -> GeeResult:
        """Replicate ``i`` as a :class:`GeeResult`; raises if it is not estimable."""
        return _row_to_result(self, i, conf_level)


# --------------------------------------------------------------------------------------------
# input handling


@dataclass(frozen=True)
class _Prepared:
    z: FloatArray  # (R, K, 4) cluster count vectors, the sufficient statistics (see _gee_core)
    n_obs: IntArray  # (R,) participants analysed
    status: IntArray  # degenerate status per replicate (OK otherwise)
    boundary: BoolArray  # an arm with every participant responding
    start: FloatArray  # (R, 2) GLM estimate: log p0, log(p1 / p0)
    n_clusters_rep: IntArray

    def rows(self, sl: slice) -> _Prepared:
        return _Prepared(
            self.z[sl], self.n_obs[sl], self.status[sl], self.boundary[sl], self.start[sl], self.n_clusters_rep[sl]
        )


def _check_binary(values: npt.NDArray[Any], name: str, allow_nan: bool = False) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ScoreInputError(name, values, "an array of 0/1 values") from exc
    bad = ~np.isin(arr, (0.0, 1.0))
    if allow_nan:
        bad &= ~np.isnan(arr)
    if bad.any():
        first = arr[bad].flat[0]
        raise ScoreInputError(
            name,
            first,
            "0 or 1 (no missing values)",
            suggestion="drop participants with a missing value before fitting" if np.isnan(first) else None,
        )
    return arr


def _prepare(y_in: Any, treatment_in: Any, cluster_in: Any, drop_missing: bool = False) -> _Prepared:
    y = _check_binary(y_in, "y", allow_nan=drop_missing)
    if y.ndim == 1:
        y = y[None, :]
    if y.ndim != 2 or y.shape[1] < 2:
        raise ScoreInputError("y", y.shape, "a 1-D array (one trial) or 2-D array (n_reps, n_subjects)")
    n_reps, n = y.shape
    trt = _check_binary(treatment_in, "treatment")
    if trt.shape not in ((n,), (n_reps, n)):
        raise ScoreInputError("treatment", trt.shape, f"shape ({n},) or ({n_reps}, {n}) to match y")
    trt = np.broadcast_to(trt, (n_reps, n))
    cl = np.asarray(cluster_in)
    if cl.shape not in ((n,), (n_reps, n)):
        raise ScoreInputError("cluster", cl.shape, f"shape ({n},) or ({n_reps}, {n}) to match y")
    if cl.dtype.kind == "f" and np.isnan(cl).any():
        raise ScoreInputError("cluster", float("nan"), "a centre label for every participant")
    _, inverse = np.unique(cl, return_inverse=True)
    codes = np.broadcast_to(inverse.reshape(cl.shape).astype(np.int64), (n_reps, n))
    n_clusters = int(codes.max()) + 1
    observed = ~np.isnan(y)
    z = core.cluster_counts(np.where(observed, y, 0.0), trt, codes, n_clusters, observed if drop_missing else None)
    return _prepare_counts(z)


def _prepare_counts(z: FloatArray) -> _Prepared:
    """Degenerate status, boundary flags and GLM start of every replicate from its count vectors ``z`` (R, K, 4)."""
    n_reps = z.shape[0]
    n_clusters_rep = (z.sum(axis=2) > 0).sum(axis=1).astype(np.int64)
    tot = z.sum(axis=1)
    r0, n0 = tot[:, 0], tot[:, 0] + tot[:, 1]
    r1, n1 = tot[:, 2], tot[:, 2] + tot[:, 3]
    status = np.full(n_reps, core.OK, dtype=np.int64)
    single_arm = (n1 == 0) | (n0 == 0)
    zero = ~single_arm & ((r1 == 0) | (r0 == 0))
    all_resp = ~single_arm & (r1 == n1) & (r0 == n0)
    status[all_resp] = core.NO_VARIATION
    status[zero] = core.ZERO_RESPONDERS
    status[single_arm] = core.SINGLE_ARM
    boundary = (status == core.OK) & ((r1 == n1) | (r0 == n0))
    with np.errstate(divide="ignore", invalid="ignore"):
        p0 = r0 / n0
        p1 = r1 / n1
        # the GLM (log-binomial or Poisson) estimate for intercept + arm is closed form:
        # the saturated two-group model fits the arm proportions
        start = np.stack([np.log(p0), np.log(p1) - np.log(p0)], axis=1)
    n_obs = (n0 + n1).astype(np.int64)
    return _Prepared(z, n_obs, status, boundary, start, n_clusters_rep)


def _resolve(moments: str, tol: float | None, maxiter: int | None) -> tuple[core.Moments, float, int]:
    if moments not in ("geepack", "statsmodels"):
        raise ScoreInputError("moments", moments, "'geepack' or 'statsmodels'")
    m: core.Moments = "geepack" if moments == "geepack" else "statsmodels"
    tol_v = core.DEFAULT_TOL[m] if tol is None else float(tol)
    maxiter_v = core.DEFAULT_MAXITER[m] if maxiter is None else int(maxiter)
    if not (tol_v > 0 and math.isfinite(tol_v)):
        raise ScoreInputError("tol", tol, "a positive number")
    if maxiter_v < 1:
        raise ScoreInputError("maxiter", maxiter, "a positive integer")
    return m, tol_v, maxiter_v


def _fit_subset(
    prep: _Prepared,
    idx: IntArray,
    start: FloatArray,
    family: core.Family,
    moments: core.Moments,
    tol: float,
    maxiter: int,
) -> core.CoreFit:
    return core.solve_gee_batch(prep.z[idx], start, family=family, moments=moments, tol=tol, maxiter=maxiter)


# --------------------------------------------------------------------------------------------
# the batch engine (every public function goes through here)


def _empty_batch(n_reps: int, prep: _Prepared, moments: str) -> dict[str, Any]:
    return {
        "log_rr": np.full(n_reps, np.nan),
        "se_robust": np.full(n_reps, np.nan),
        "se_md": np.full(n_reps, np.nan),
        "intercept": np.full(n_reps, np.nan),
        "rho": np.full(n_reps, np.nan),
        "phi": np.full(n_reps, np.nan),
        "iterations": np.zeros(n_reps, dtype=np.int64),
        "converged": np.zeros(n_reps, dtype=bool),
        "estimable": np.zeros(n_reps, dtype=bool),
        "status": prep.status.copy(),
        "log_binomial_status": prep.status.copy(),
        "method": np.full(n_reps, METHOD_NONE, dtype=np.int64),
        "fallback_used": np.zeros(n_reps, dtype=bool),
        "corr_not_pd": np.zeros(n_reps, dtype=bool),
        "md_singular": np.zeros(n_reps, dtype=bool),
        "max_fitted": np.full(n_reps, np.nan),
        "n_obs": prep.n_obs.copy(),
        "n_clusters": prep.n_clusters_rep.copy(),
    }


def _store(out: dict[str, Any], idx: IntArray, fit: core.CoreFit, rows: BoolArray, method: int) -> None:
    """Copy successful rows of ``fit`` (aligned with ``idx``) into ``out``."""
    target = idx[rows]
    out["log_rr"][target] = fit.beta[rows, 1]
    out["intercept"][target] = fit.beta[rows, 0]
    # rows with status OK have a positive robust variance (ZERO_VARIANCE otherwise) and a
    # non-negative or NaN Mancl-DeRouen variance (sums of squares): sqrt never sees a negative
    out["se_robust"][target] = np.sqrt(fit.vbeta[rows, 1, 1])
    out["se_md"][target] = np.sqrt(fit.vbeta_md[rows, 1, 1])
    out["rho"][target] = fit.alpha[rows]
    out["phi"][target] = fit.phi[rows]
    out["iterations"][target] = fit.iterations[rows]
    out["converged"][target] = True
    out["estimable"][target] = True
    out["status"][target] = core.OK
    out["method"][target] = method
    out["fallback_used"][target] = method != METHOD_LOG_BINOMIAL
    out["corr_not_pd"][target] = fit.corr_not_pd[rows]
    out["md_singular"][target] = fit.md_singular[rows]
    b = fit.beta[rows]
    out["max_fitted"][target] = np.exp(np.maximum(b[:, 0], b[:, 0] + b[:, 1]))


def _run_rule(prep: _Prepared, moments: core.Moments, tol: float, maxiter: int) -> dict[str, Any]:
    out = _empty_batch(prep.z.shape[0], prep, moments)
    fit_ok = prep.status == core.OK

    # step 1: log-binomial GEE from the GLM estimate (not attempted on the boundary)
    step1 = np.flatnonzero(fit_ok & ~prep.boundary)
    out["log_binomial_status"][prep.boundary] = core.BOUNDARY
    need_fallback = np.flatnonzero(prep.boundary)
    if step1.size:
        f1 = _fit_subset(prep, step1, prep.start[step1], "binomial", moments, tol, maxiter)
        good = f1.status == core.OK
        out["log_binomial_status"][step1] = f1.status
        _store(out, step1, f1, good, METHOD_LOG_BINOMIAL)
        # a zero robust variance is a property of the data, not a failed fit: no fallback
        settled = good | (f1.status == core.ZERO_VARIANCE)
        out["status"][step1[~good & settled]] = core.ZERO_VARIANCE
        need_fallback = np.union1d(need_fallback, step1[~settled])
    if need_fallback.size == 0:
        return out

    # modified Poisson GEE (needed for step 2's starting values and for step 3)
    fp = _fit_subset(prep, need_fallback, prep.start[need_fallback], "poisson", moments, tol, maxiter)
    p_good = fp.status == core.OK
    out["status"][need_fallback] = fp.status  # final status unless a later step succeeds

    # step 2: log-binomial GEE from the modified Poisson estimates (not on the boundary)
    retry = p_good & ~prep.boundary[need_fallback]
    lb2_good = np.zeros(need_fallback.size, dtype=bool)
    if retry.any():
        idx2 = need_fallback[retry]
        f2 = _fit_subset(prep, idx2, fp.beta[retry], "binomial", moments, tol, maxiter)
        g2 = f2.status == core.OK
        _store(out, idx2, f2, g2, METHOD_LOG_BINOMIAL_POISSON_START)
        zv2 = f2.status == core.ZERO_VARIANCE  # converged, but the variance is zero: final
        out["status"][idx2[zv2]] = core.ZERO_VARIANCE
        lb2_good[np.flatnonzero(retry)[g2 | zv2]] = True

    # step 3: modified Poisson GEE
    _store(out, need_fallback, fp, p_good & ~lb2_good, METHOD_MODIFIED_POISSON)
    return out


def fit_risk_ratio_gee_batch(
    y: Any,
    treatment: Any,
    cluster: Any,
    *,
    moments: Moments = "geepack",
    tol: float | None = None,
    maxiter: int | None = None,
    chunk_size: int = 20_000,
    missing: Literal["error", "drop"] = "error",
) -> GeeBatchResult:
    """Fit the adjusted risk ratio to many replicates at once, with the SAP's fallback rule.

    Parameters
    ----------
    y : array_like, shape (n_reps, n_subjects)
        0/1 responses (a 1-D array is one replicate).
    treatment : array_like, shape (n_subjects,) or (n_reps, n_subjects)
        1 = active, 0 = control; shared by all replicates or one row per replicate.
    cluster : array_like, shape (n_subjects,) or (n_reps, n_subjects)
        Centre labels (any sortable values), shared or per replicate.
    moments : {"geepack", "statsmodels"}
        Moment estimators and iteration scheme to reproduce (see the module docstring).
    tol, maxiter : optional
        Convergence tolerance and iteration limit; default to the reproduced software's
        (geepack 1e-4 / 25, statsmodels 1e-6 / 60).
    chunk_size : int
        Replicates per vectorised block (memory bound); does not change any result.
    missing : {"error", "drop"}
        ``"drop"``: a NaN response leaves that participant out of that replicate (complete-case
        analysis per replicate; ``n_obs`` says how many were analysed), so replicates with
        different numbers of analysed participants are fitted in one call. The result equals
        fitting each replicate on its analysed participants. ``"error"`` (default): NaN raises
        :class:`~pmrtrial.exceptions.ScoreInputError`.

    Returns
    -------
    GeeBatchResult
        Per-replicate arrays. Degenerate replicates (an arm without responders, everyone a
        responder, a single arm, a robust variance that is zero up to rounding) are marked not
        estimable with their status; nothing is raised or warned. An estimable replicate always
        has a finite, positive ``se_robust``.

    Notes
    -----
    The rule is that of :func:`fit_risk_ratio_gee`, applied replicate by replicate.
    """
    m, tol_v, maxiter_v = _resolve(moments, tol, maxiter)
    if int(chunk_size) < 1:
        raise ScoreInputError("chunk_size", chunk_size, "a positive integer")
    if missing not in ("error", "drop"):
        raise ScoreInputError("missing", missing, "'error' or 'drop'")
    prep = _prepare(y, treatment, cluster, drop_missing=missing == "drop")
    return _run_chunks(prep, m, tol_v, maxiter_v, int(chunk_size))


def _run_chunks(prep: _Prepared, m: core.Moments, tol: float, maxiter: int, chunk_size: int) -> GeeBatchResult:
    n_reps = prep.z.shape[0]
    if n_reps <= chunk_size:
        merged = _run_rule(prep, m, tol, maxiter)
    else:
        parts = [
            _run_rule(prep.rows(slice(lo, lo + chunk_size)), m, tol, maxiter) for lo in range(0, n_reps, chunk_size)
        ]
        merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return GeeBatchResult(**merged, moments=m, software=_software(m))


def fit_risk_ratio_gee_counts(
    counts: Any,
    *,
    moments: Moments = "geepack",
    tol: float | None = None,
    maxiter: int | None = None,
    chunk_size: int = 20_000,
) -> GeeBatchResult:
    """:func:`fit_risk_ratio_gee_batch` from each replicate's per-centre 2 x 2 counts.

    With a 0/1 response and a 0/1 treatment as the only covariate, a trial's data reduce to four
    counts per centre (see :mod:`pmrtrial.stats._gee_core`), and the fit depends on the data only
    through them. Callers that hold the counts already (the trial simulator) skip the
    participant-level preparation (validation, sorting the centre labels, counting).

    Parameters
    ----------
    counts : array_like, shape (n_reps, n_clusters, 4) or (n_clusters, 4)
        Per replicate and centre: control responders, control non-responders, active responders,
        active non-responders (non-negative whole numbers). A centre without participants (all
        four zero) is allowed and changes nothing.
    moments, tol, maxiter, chunk_size
        As for :func:`fit_risk_ratio_gee_batch`.

    Returns
    -------
    GeeBatchResult
        Equal to :func:`fit_risk_ratio_gee_batch` on participant-level data with these counts
        (centres in the same order).
    """
    m, tol_v, maxiter_v = _resolve(moments, tol, maxiter)
    if int(chunk_size) < 1:
        raise ScoreInputError("chunk_size", chunk_size, "a positive integer")
    try:
        z = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ScoreInputError("counts", counts, "an array of non-negative whole numbers") from exc
    shape = z.shape
    if z.ndim == 2:
        z = z[None]
    if z.ndim != 3 or z.shape[2] != 4 or z.shape[1] < 1:
        raise ScoreInputError(
            "counts", shape, "shape (n_reps, n_clusters, 4) or (n_clusters, 4): r0, n0 - r0, r1, n1 - r1 per centre"
        )
    bad = ~(np.isfinite(z) & (z >= 0.0) & (z == np.floor(z)))
    if bad.any():
        raise ScoreInputError("counts", float(z[bad][0]), "non-negative whole numbers")
    return _run_chunks(_prepare_counts(z), m, tol_v, maxiter_v, int(chunk_size))


# --------------------------------------------------------------------------------------------
# single trial


def _validate_single(y: Any, treatment: Any, cluster: Any) -> tuple[FloatArray, FloatArray, Any]:
    yv = as_float_array(y, field="y", allowed=(0, 1))
    tv = as_float_array(treatment, field="treatment", allowed=(0, 1))
    if yv.ndim != 1 or tv.shape != yv.shape:
        raise ScoreInputError("treatment", tv.shape, f"a 1-D array of the same length as y ({yv.shape})")
    for name, arr in (("y", yv), ("treatment", tv)):
        if np.isnan(arr).any():
            raise ScoreInputError(
                name, None, "0 or 1 for every participant", suggestion="drop participants with missing data"
            )
    cl = np.asarray(cluster)
    if cl.shape != yv.shape:
        raise ScoreInputError("cluster", cl.shape, f"a 1-D array of the same length as y ({yv.shape})")
    return yv, tv, cl


def _wald(log_rr: float, se: float, conf_level: float, df: int | None = None) -> tuple[tuple[float, float], float]:
    """Wald CI of the RR and two-sided p, normal reference (``df`` None) or t with ``df`` degrees of freedom."""
    if not (math.isfinite(se) and se > 0) or (df is not None and df < 1):
        return (math.nan, math.nan), math.nan
    # scipy.special (ndtr/ndtri, stdtr/stdtrit) rather than scipy.stats: the simulator's GEE loads no scipy.stats.
    if df is None:
        q = float(ndtri(0.5 + conf_level / 2.0))
        p = float(2.0 * ndtr(-abs(log_rr / se)))
    else:
        q = float(stdtrit(df, 0.5 + conf_level / 2.0))
        p = float(2.0 * stdtr(df, -abs(log_rr / se)))
    ci = (math.exp(log_rr - q * se), math.exp(log_rr + q * se))
    return ci, p


def _row_warnings(batch: GeeBatchResult, i: int, fallback_reason: str | None) -> list[str]:
    warns: list[str] = []
    if fallback_reason:
        warns.append(f"fallback rule used: {fallback_reason}")
    k = int(batch.n_clusters[i])
    if k < _FEW_CLUSTERS:
        warns.append(
            f"only {k} clusters: the robust (sandwich) SE is biased downwards; "
            "see the Mancl-DeRouen SE reported beside it"
        )
    if batch.corr_not_pd[i]:
        warns.append(
            f"estimated exchangeable correlation {batch.rho[i]:.4g} makes the working correlation "
            "matrix of the largest cluster not positive definite"
        )
    if batch.md_singular[i]:
        warns.append("Mancl-DeRouen SE not available: leaving out one cluster leaves the model unidentified")
    if batch.method[i] != METHOD_MODIFIED_POISSON and batch.max_fitted[i] > 0.999:
        warns.append(f"largest fitted probability {batch.max_fitted[i]:.6f} is close to 1 (boundary)")
    return warns


def _fallback_reason(batch: GeeBatchResult, i: int) -> str | None:
    method = int(batch.method[i])
    if method == METHOD_LOG_BINOMIAL:
        return None
    first = STATUS_MESSAGES[int(batch.log_binomial_status[i])]
    if method == METHOD_LOG_BINOMIAL_POISSON_START:
        return f"{first}; refitted from the modified Poisson GEE estimates as starting values"
    return f"{first}; modified Poisson GEE used instead (Zou 2004)"


def _row_to_result(batch: GeeBatchResult, i: int, conf_level: float) -> GeeResult:
    if not batch.estimable[i]:
        status = int(batch.status[i])
        message = STATUS_MESSAGES[status]
        if status in core.DEGENERATE:
            raise EstimationError(f"Risk ratio GEE {message}.")
        lb = STATUS_MESSAGES[int(batch.log_binomial_status[i])]
        raise ConvergenceError(f"Risk ratio GEE failed: log-binomial: {lb}; modified Poisson: {message}.")
    log_rr = float(batch.log_rr[i])
    se = float(batch.se_robust[i])
    se_md = float(batch.se_md[i])
    ci, p = _wald(log_rr, se, conf_level)
    ci_md, p_md = _wald(log_rr, se_md, conf_level)
    df_t = int(batch.n_clusters[i]) - 2
    ci_md_t, p_md_t = _wald(log_rr, se_md, conf_level, df=df_t)
    reason = _fallback_reason(batch, i)
    method = int(batch.method[i])
    return GeeResult(
        log_rr=log_rr,
        se_robust=se,
        se_mancl_derouen=se_md,
        rr=math.exp(log_rr),
        ci=ci,
        ci_md=ci_md,
        p=p,
        p_md=p_md,
        ci_md_t=ci_md_t,
        p_md_t=p_md_t,
        df_t=df_t,
        conf_level=conf_level,
        intercept=float(batch.intercept[i]),
        rho=float(batch.rho[i]),
        phi=float(batch.phi[i]),
        n_obs=int(batch.n_obs[i]),
        n_clusters=int(batch.n_clusters[i]),
        iterations=int(batch.iterations[i]),
        converged=bool(batch.converged[i]),
        method=_METHOD_NAMES[method],
        moments=batch.moments,
        start_values="modified Poisson GEE" if method == METHOD_LOG_BINOMIAL_POISSON_START else "GLM",
        fallback_used=bool(batch.fallback_used[i]),
        fallback_reason=reason,
        warnings=tuple(_row_warnings(batch, i, reason)),
        software=batch.software,
    )


def _check_conf(conf_level: float) -> float:
    c = float(conf_level)
    if not 0.0 < c < 1.0:
        raise ScoreInputError("conf_level", conf_level, "a number in (0, 1)")
    return c


def _fit_single_family(
    family: core.Family,
    y: Any,
    treatment: Any,
    cluster: Any,
    moments: str,
    start: Sequence[float] | None,
    tol: float | None,
    maxiter: int | None,
    conf_level: float,
) -> GeeResult:
    conf = _check_conf(conf_level)
    m, tol_v, maxiter_v = _resolve(moments, tol, maxiter)
    yv, tv, cl = _validate_single(y, treatment, cluster)
    prep = _prepare(yv, tv, cl)
    batch_parts = _empty_batch(1, prep, m)
    name = "log-binomial" if family == "binomial" else "modified Poisson"
    if prep.status[0] != core.OK:
        raise EstimationError(f"{name} GEE {STATUS_MESSAGES[int(prep.status[0])]}.")
    if family == "binomial" and prep.boundary[0] and start is None:
        raise ConvergenceError(f"{STATUS_MESSAGES[core.BOUNDARY]}.")
    if start is None:
        start_arr = prep.start
    else:
        start_arr = as_float_array(list(start), field="start").reshape(1, -1)
        if start_arr.shape != (1, 2) or not np.all(np.isfinite(start_arr)):
            raise ScoreInputError("start", start, "two finite numbers (intercept, log risk ratio)")
    fit = _fit_subset(prep, np.array([0]), start_arr, family, m, tol_v, maxiter_v)
    if fit.status[0] != core.OK:
        error = EstimationError if int(fit.status[0]) in core.DEGENERATE else ConvergenceError
        raise error(f"{name} GEE: {STATUS_MESSAGES[int(fit.status[0])]}.")
    method = METHOD_LOG_BINOMIAL if family == "binomial" else METHOD_MODIFIED_POISSON
    _store(batch_parts, np.array([0]), fit, np.array([True]), method)
    batch_parts["fallback_used"][0] = False
    batch = GeeBatchResult(**batch_parts, moments=m, software=_software(m))
    res = _row_to_result(batch, 0, conf)
    start_label = "GLM" if start is None else "user-supplied"
    return GeeResult(
        **{
            **{f: getattr(res, f) for f in res.__dataclass_fields__},
            "start_values": start_label,
            "fallback_reason": None,
        }
    )


def fit_log_binomial_gee(
    y: Any,
    treatment: Any,
    cluster: Any,
    *,
    moments: Moments = "geepack",
    start: Sequence[float] | None = None,
    tol: float | None = None,
    maxiter: int | None = None,
    conf_level: float = 0.95,
) -> GeeResult:
    """Log-binomial GEE (log link, binomial variance), exchangeable correlation within cluster.

    Equivalent to R ``geepack::geeglm(y ~ treatment, family = binomial("log"), id = cluster,
    corstr = "exchangeable")`` with ``moments="geepack"``, and to statsmodels
    ``GEE(y, X, groups, family=Binomial(link=Log()), cov_struct=Exchangeable()).fit()`` with
    ``moments="statsmodels"``.

    Parameters
    ----------
    y, treatment : array_like of 0/1
        Response and treatment indicator (1 = active), one entry per participant.
    cluster : array_like
        Centre label per participant.
    moments : {"geepack", "statsmodels"}
        Moment estimators for the scale and the correlation, with that software's iteration
        scheme and defaults.
    start : (float, float), optional
        Starting values (intercept, log RR); default the GLM estimate (the arm proportions).
    tol, maxiter : optional
        Defaults of the reproduced software.
    conf_level : float
        Confidence level of the Wald intervals.

    Returns
    -------
    GeeResult

    Raises
    ------
    EstimationError
        Not estimable (an arm without responders, every participant a responder, one arm only,
        or a robust variance of the log RR that is zero up to rounding: see
        :mod:`pmrtrial.stats._gee_core`).
    ConvergenceError
        The fit failed: every participant of an arm responded (estimate on the boundary),
        a fitted probability reached 1, the iteration limit was reached, or numerical failure.
        It never switches to another model; :func:`fit_risk_ratio_gee` does.
    """
    return _fit_single_family("binomial", y, treatment, cluster, moments, start, tol, maxiter, conf_level)


def fit_modified_poisson_gee(
    y: Any,
    treatment: Any,
    cluster: Any,
    *,
    moments: Moments = "geepack",
    start: Sequence[float] | None = None,
    tol: float | None = None,
    maxiter: int | None = None,
    conf_level: float = 0.95,
) -> GeeResult:
    """Modified Poisson GEE (Zou 2004): log link, Poisson variance, robust SE.

    Same interface and errors as :func:`fit_log_binomial_gee`; the R equivalent is
    ``geeglm(y ~ treatment, family = poisson("log"), id = cluster, corstr = "exchangeable")``.
    """
    return _fit_single_family("poisson", y, treatment, cluster, moments, start, tol, maxiter, conf_level)


def fit_risk_ratio_gee(
    y: Any,
    treatment: Any,
    cluster: Any,
    *,
    moments: Moments = "geepack",
    tol: float | None = None,
    maxiter: int | None = None,
    conf_level: float = 0.95,
) -> GeeResult:
    """Adjusted risk ratio by GEE with the SAP's fallback rule (used by analysis and simulator).

    The rule, applied in this order:

    1. log-binomial GEE (exchangeable correlation within cluster) from the GLM estimate;
       skipped when every participant of an arm responded (the estimate is then on the
       boundary, fitted probability 1);
    2. if step 1 failed (fitted probability reached 1, no convergence, numerical failure):
       log-binomial GEE again, starting from the modified Poisson GEE estimates;
    3. if that fails too (or step 1 was skipped): modified Poisson GEE (Zou 2004).

    Steps 2 and 3 set ``fallback_used``, ``fallback_reason`` and a warning string in the result;
    ``method`` and ``start_values`` say what produced the estimate. Nothing is raised as a
    Python warning. :func:`fit_risk_ratio_gee_batch` applies the same rule per replicate (this
    function calls it with one replicate).

    Raises
    ------
    EstimationError
        Not estimable (an arm without responders, every participant a responder, one arm, or
        a zero robust variance of the log RR: every centre shows the same result in both arms;
        that is a property of the data, so it does not trigger the fallback rule).
    ConvergenceError
        Every step failed.
    """
    conf = _check_conf(conf_level)
    yv, tv, cl = _validate_single(y, treatment, cluster)
    batch = fit_risk_ratio_gee_batch(yv, tv, cl, moments=moments, tol=tol, maxiter=maxiter)
    return _row_to_result(batch, 0, conf)
