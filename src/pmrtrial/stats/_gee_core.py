"""Vectorised GEE core: log link, binomial or Poisson variance, exchangeable correlation.

Private module. :mod:`pmrtrial.stats.gee` is the public interface. Every fit, a single trial
included, goes through :func:`solve_gee_batch`, which works on ``n_reps`` replicates at once
(a single trial is ``n_reps = 1``), so the single-trial and batched answers cannot drift apart.

Notation (per replicate; cluster ``i`` has ``m_i`` members)::

    mu = exp(X beta),  v = v(mu) (mu(1 - mu) binomial, mu Poisson),  a = dmu/deta = mu
    e  = (y - mu) / sqrt(v)                    Pearson residuals
    Q  = (mu / sqrt(v)) X                      standardised derivative rows
    R_i^{-1} = [I - c_i J] / (1 - alpha),      c_i = alpha / (1 + (m_i - 1) alpha)

so, with cluster sums ``s_i = sum_j Q_j`` and ``t_i = sum_j e_j``, the cluster contributions are

    H_i = [sum_j Q_j Q_j' - c_i s_i s_i'] / (1 - alpha)       (p x p)
    g_i = [sum_j Q_j e_j  - c_i s_i t_i ] / (1 - alpha)       (p)

The scale cancels from the estimating equations and from the sandwich; it enters only the moment
estimator of ``alpha``.

Sufficient statistics. The design is intercept + a 0/1 treatment indicator and the response is
0/1, so within a replicate ``mu`` takes two values (``mu_0``, ``mu_1`` by arm) and the Pearson
residual four: ``e_a1 = (1 - mu_a) / sd_a`` for responders and ``e_a0 = -w_a`` for
non-responders of arm ``a``, with ``w_a = mu_a / sd_a``. Every cluster sum above is therefore a
linear function of the cluster's count vector ``z_i`` = (control responders, control
non-responders, active responders, active non-responders), :func:`cluster_counts`::

    s_i0 = z_i . (w_0, w_0, w_1, w_1)    s_i1 = z_i . (0, 0, w_1, w_1)
    t_i  = z_i . (e_01, -w_0, e_11, -w_1)

``sum_i Q_i'Q_i`` and ``sum_i Q_i'e_i`` need only the arm totals, and the c-weighted terms
``sum_i c_i s_i s_i'``, ``sum_i c_i s_i t_i`` are sums over clusters of products of the planes
``s_0``, ``s_1``, ``t``; ``sum_i t_i^2`` gives the pair sum of the moment estimator. The 2 x 2
systems are solved in closed form, and geepack's step halving tries all 60 halvings at once
(``delta * 0.5**k`` equals k successive halvings exactly). So one iteration is about a hundred
NumPy operations on arrays of n_clusters x n_reps (no per-participant work, no per-cluster matrix
inverse), and the single-trial and batched fits are the same code.

Layout and reproducibility. Per-cluster quantities are cluster-major planes (n_clusters, n_reps),
replicates contiguous, so an operation is one pass over them and a sum over clusters adds the rows
in cluster order (:func:`_ksum`, also for a lone replicate); working arrays are taken contiguous
(:func:`_take`). A replicate's numbers therefore do not depend on the other replicates fitted with
it, on the chunking, or on when finished replicates are dropped from the working arrays, bit for bit;
an empty cluster adds exact zeros.

Moment estimators (``ssr = sum e^2``, ``P = sum_i sum_{j<k} e_ij e_ik``, ``N`` observations,
``n_pairs = sum_i m_i (m_i - 1) / 2``, ``p`` mean parameters):

* ``"geepack"`` (geepack 1.3.9 ``geese.fit`` C++ ``gee_est``: ``update_gamma``/``update_alpha``
  with identity scale and correlation links): ``phi = ssr / N``, ``alpha = P / (phi n_pairs)``.
  One iteration = one Fisher-scoring step for beta at the current alpha, then phi, then alpha
  from the new beta. Start: the GLM estimate, alpha = 0. Stop when the largest absolute change
  of (beta, phi, alpha) is <= tol (geese.control: epsilon = 1e-4, maxit = 25).
* ``"statsmodels"`` (statsmodels 0.15 ``GEE.fit`` with ``Exchangeable.update``):
  ``phi = ssr / (N - p)``, ``alpha = P / (phi (n_pairs - p))``. One iteration = one step for
  beta; stop when the Euclidean norm of the score at the pre-step beta is < ctol (1e-6) once
  alpha has been updated at least once; otherwise update alpha from the new beta.
  Start: the GLM estimate, alpha = 0; maxiter 60.

Sandwich: ``V = B^{-1} (sum_i g_i g_i') B^{-1}`` with ``B = sum_i H_i`` (geepack ``san.se``,
statsmodels ``cov_robust``). Mancl & DeRouen (2001): residuals ``(I - H_ii)^{-1} r_i`` with
``H_ii = D_i B^{-1} D_i' V_i^{-1}``. By the Woodbury identity the corrected cluster score is
``B (B - H_i)^{-1} g_i``, hence ``V_MD = sum_i (B - H_i)^{-1} g_i g_i' (B - H_i)^{-T}``: only
p x p solves, which vectorise. Both are accumulated as sums of squares over clusters,
``V = sum_i u_i u_i'`` with ``u_i = B^{-1} g_i``, so their diagonals cannot be negative.

Zero robust variance. When every centre shows the same (scaled) result in both arms, e.g. 2/17
vs 2/17 with each centre balanced and identical across arms, every cluster score ``g_i`` is
proportional to ``B e_0`` at the solution (log RR = 0), so ``(B^{-1} g_i)_1 = 0`` for every
cluster and the sandwich variance of the log RR is exactly zero; in floating point it is
``+-1e-16`` of rounding (computed as ``B^{-1} M B^{-1}`` it was negative and ``sqrt`` gave NaN).
A variance is declared zero when ``sum_i u_ia^2 <= rtol^2 sum_i (sum_b |B^{-1}_ab g_ib|)^2``
(``rtol = sqrt(machine epsilon)``: the terms of every ``u_ia`` cancel to 8 digits); the replicate
gets status ``ZERO_VARIANCE`` (not estimable: a Wald test or interval needs a positive variance).
On that dataset geepack 1.3.9 returns ``vbeta[2, 2]`` of ``+1.96e-16`` (binomial; SE 1.4e-8,
Wald p = 1) and exactly ``0`` (Poisson; SE 0, Wald statistic Inf, p = 0 for RR = 1);
statsmodels 0.15 returns ``cov_robust[1, 1]`` of ``-1.96e-16`` / ``-2.1e-32`` and a NaN ``bse``
with "RuntimeWarning: invalid value encountered in sqrt". Neither is a usable SE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Family = Literal["binomial", "poisson"]
Moments = Literal["geepack", "statsmodels"]

# Status codes shared with pmrtrial.stats.gee (which holds the messages).
OK = 0
ZERO_RESPONDERS = 1  # an arm has no responders: log RR is -inf/+inf
NO_VARIATION = 2  # every participant responded: residuals are all zero
SINGLE_ARM = 3  # treatment does not vary
BOUNDARY = 4  # log-binomial: all participants in an arm responded, MLE at probability 1
INVALID_MEAN = 5  # log-binomial: a fitted probability reached 1 during the iterations
NOT_CONVERGED = 6  # iteration limit reached
NUMERICAL = 7  # non-finite values or a singular information matrix
NO_PAIRS = 8  # no cluster has two or more members: alpha cannot be estimated
ZERO_VARIANCE = 9  # the robust variance of a coefficient is zero up to rounding (exact balance)

DEGENERATE = (ZERO_RESPONDERS, NO_VARIATION, SINGLE_ARM, NO_PAIRS, ZERO_VARIANCE)

DEFAULT_TOL: dict[str, float] = {"geepack": 1e-4, "statsmodels": 1e-6}
DEFAULT_MAXITER: dict[str, int] = {"geepack": 25, "statsmodels": 60}
_SINGULAR_RTOL = 1e-10
_MAX_HALVINGS = 60  # geepack halves without limit; 2^-60 of a step is far below any tolerance
# A robust variance sum_i u_i^2 is "zero" when each u_i = (B^-1 g_i)_a cancels to within this
# relative size of its terms |B^-1_ab g_ib| (sqrt of machine epsilon): see _sandwich.
_ZERO_VARIANCE_RTOL = float(np.sqrt(np.finfo(np.float64).eps))
_EPS = float(np.finfo(np.float64).eps)
P = 2  # mean parameters: intercept, treatment
# powers of 1/2 for geepack's step halving (exact: delta * 0.5**k == k successive halvings)
_HALVES = 0.5 ** np.arange(1, _MAX_HALVINGS + 1, dtype=np.float64)


@dataclass(frozen=True)
class CoreFit:
    """Arrays over replicates; entries of failed replicates are NaN."""

    beta: FloatArray  # (R, p)
    vbeta: FloatArray  # (R, p, p) robust sandwich
    vbeta_md: FloatArray  # (R, p, p) Mancl-DeRouen
    alpha: FloatArray  # (R,)
    phi: FloatArray  # (R,)
    iterations: IntArray  # (R,)
    status: IntArray  # (R,)
    corr_not_pd: BoolArray  # (R,) 1 + (m_max - 1) alpha <= 0 at the end
    md_singular: BoolArray  # (R,) some B - H_i singular: Mancl-DeRouen not available


def cluster_counts(
    y: FloatArray, treatment: FloatArray, codes: IntArray, n_clusters: int, include: BoolArray | None = None
) -> FloatArray:
    """Count vectors ``z`` (R, K, 4) from 0/1 ``y``, 0/1 ``treatment`` and cluster ``codes`` (R, n).

    ``z[r, k] = (control responders, control non-responders, active responders, active
    non-responders)`` in cluster ``k`` of replicate ``r``: the sufficient statistics of the fit.
    Participants where ``include`` (R, n) is False are not counted.
    """
    n_reps = y.shape[0]
    cell = 2 * treatment.astype(np.int64) + (1 - y.astype(np.int64))  # 0..3 in the order of z
    labels = (np.arange(n_reps, dtype=np.int64)[:, None] * n_clusters + codes) * 4 + cell
    weights = None if include is None else include.ravel().astype(np.float64)
    z = np.bincount(labels.ravel(), weights=weights, minlength=n_reps * n_clusters * 4).astype(np.float64)
    return z.reshape(n_reps, n_clusters, 4)


def _take(a: npt.NDArray[Any], rows: IntArray) -> npt.NDArray[Any]:
    """Replicates ``rows`` (last axis) of ``a``, C-contiguous (``a[..., rows]`` is not, and a sum over the
    clusters of a non-contiguous plane may be evaluated in another order, see :func:`_ksum`)."""
    return np.take(a, rows, axis=-1)


def _ksum(x: FloatArray) -> FloatArray:
    """Sum over clusters of a C-contiguous (K, R) plane, in cluster order ``((x_0 + x_1) + x_2) + ...``.

    NumPy's reduction over the first axis adds the rows in turn when there are two or more replicates;
    for one replicate it would sum along the clusters, pairwise for long rows: the loop keeps the order, so
    a replicate's numbers do not depend on how many others are fitted with it.
    """
    if x.shape[-1] > 1:
        out: FloatArray = np.add.reduce(x, axis=0)
        return out
    total: FloatArray = x[0].copy()
    for k in range(1, x.shape[0]):
        total += x[k]
    return total


@dataclass(frozen=True)
class _Design:
    """Per-replicate constants derived from the counts, replicates on the LAST axis.

    The layout is cluster-major (``(K, R)`` planes, replicates contiguous): every per-cluster
    operation is one elementwise pass over ``K x R`` numbers, and every sum over clusters adds
    ``K`` rows in cluster order (the same order, hence the same rounding, for a replicate whatever
    the other replicates of the batch; an empty cluster adds exact zeros).
    """

    z: FloatArray  # (4, K, R) count planes
    n0k: FloatArray  # (K, R) control participants per cluster
    n1k: FloatArray  # (K, R) active participants per cluster
    mm1: FloatArray  # (K, R) cluster size - 1
    tot: FloatArray  # (4, R) totals over clusters
    n_arm: FloatArray  # (2, R) participants per arm
    n_obs: FloatArray  # (R,)
    n_pairs: FloatArray  # (R,)

    def take(self, rows: IntArray) -> _Design:
        return _Design(*(_take(getattr(self, f), rows) for f in self.__dataclass_fields__))


def _design(z_in: FloatArray) -> _Design:
    """The design of count vectors ``z_in`` (R, K, 4) (see :func:`cluster_counts`)."""
    z = np.ascontiguousarray(np.transpose(z_in, (2, 1, 0)), dtype=np.float64)
    n0k = z[0] + z[1]
    n1k = z[2] + z[3]
    m = n0k + n1k
    tot = np.stack([_ksum(z[a]) for a in range(4)])
    return _Design(
        z=z,
        n0k=n0k,
        n1k=n1k,
        mm1=m - 1.0,
        tot=tot,
        n_arm=np.stack([tot[0] + tot[1], tot[2] + tot[3]]),
        n_obs=tot.sum(axis=0),
        n_pairs=_ksum(m * (m - 1.0) / 2.0),
    )


@dataclass(frozen=True)
class _AtBeta:
    """Everything the iteration needs at one beta (replicates on the last axis).

    ``s0``, ``s1``, ``t`` are the cluster sums ``s_i0``, ``s_i1``, ``t_i`` (K, R); ``qq00``,
    ``qq11`` (``= qq01``), ``qe0``, ``qe1`` the uncorrelated parts ``sum Q'Q``, ``sum Q'e``;
    ``ssr`` the sum of squared Pearson residuals.
    """

    s0: FloatArray
    s1: FloatArray
    t: FloatArray
    qq00: FloatArray
    qq11: FloatArray
    qe0: FloatArray
    qe1: FloatArray
    ssr: FloatArray
    valid: BoolArray
    finite: BoolArray

    def take(self, rows: IntArray) -> _AtBeta:
        return _AtBeta(*(_take(getattr(self, f), rows) for f in self.__dataclass_fields__))

    def put(self, rows: IntArray, other: _AtBeta) -> None:
        """Overwrite replicates ``rows`` (in place) with ``other``'s."""
        for f in self.__dataclass_fields__:
            getattr(self, f)[..., rows] = getattr(other, f)


def _arm_parts(
    b0: FloatArray, b1: FloatArray, n_arm: FloatArray, family: Family, moments: Moments
) -> tuple[FloatArray, FloatArray, BoolArray, BoolArray]:
    """w = mu / sd and the responder residual (1 - mu) / sd per arm (2, R); valid and finite (R,).

    ``"geepack"`` follows geepack's famstr.cc: ``mu = max(DBL_EPSILON, exp(eta))`` (also for
    dmu/deta), binomial ``v = mu (1 - mu)``, valid when ``0 < mu < 1``. ``"statsmodels"`` follows
    statsmodels: ``mu = exp(eta)``, binomial ``v = p (1 - p)`` with ``p`` clipped to
    ``[eps, 1 - eps]``, Poisson ``v = |mu|``; a fitted probability >= 1 is still flagged invalid.
    The non-responder residual is ``-w``. An arm without participants is ignored.
    """
    eta = np.empty((2, b0.shape[0]))
    eta[0] = b0
    np.add(b0, b1, out=eta[1])
    mu = np.exp(eta, out=eta)
    if moments == "geepack":
        np.maximum(mu, _EPS, out=mu)
    absent = n_arm == 0.0
    if family == "binomial":
        if moments == "geepack":
            v = mu * (1.0 - mu)
        else:
            pc = np.clip(mu, _EPS, 1.0 - _EPS)
            v = pc * (1.0 - pc)
        ok_mu = (mu > 0.0) & (mu < 1.0)
    else:
        v = np.abs(mu)
        ok_mu = np.isfinite(mu) & (mu > 0.0)
    sd = np.sqrt(np.where(v > 0.0, v, np.nan))
    w = mu / sd
    e1 = (1.0 - mu) / sd
    ok_mu |= absent
    valid = ok_mu[0] & ok_mu[1]
    fin = np.isfinite(w) & np.isfinite(e1)
    fin |= absent
    return w, e1, valid, fin[0] & fin[1]


class _Scratch:
    """Reusable (K, R) work planes of the iteration (fresh planes this size cost page faults each time).

    ``planes()`` hands out the cluster sums (s0, s1, t) of the next beta, alternating between two sets so
    that the current beta's stay intact; ``tmp``, ``c``, ``cs0``, ``prod`` are scratch."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self._sets = (np.empty((3, *shape)), np.empty((3, *shape)))
        self._turn = 0
        self.tmp = np.empty(shape)
        self.c = np.empty(shape)
        self.cs0 = np.empty(shape)
        self.prod = np.empty(shape)

    def planes(self) -> FloatArray:
        self._turn ^= 1
        return self._sets[self._turn]


def _at_beta(
    b0: FloatArray, b1: FloatArray, d: _Design, family: Family, moments: Moments, scratch: _Scratch | None = None
) -> _AtBeta:
    w, e1, valid, finite = _arm_parts(b0, b1, d.n_arm, family, moments)
    w0, w1, e10, e11 = w[0], w[1], e1[0], e1[1]
    z = d.z
    out = (None, None, None) if scratch is None else scratch.planes()
    tmp = None if scratch is None else scratch.tmp
    s1 = np.multiply(d.n1k, w1, out=out[1])
    s0 = np.multiply(d.n0k, w0, out=out[0])
    s0 += s1
    # t_i = z_i . (e_01, -w_0, e_11, -w_1)
    t = np.multiply(z[0], e10, out=out[2])
    t -= np.multiply(z[1], w0, out=tmp)
    t += np.multiply(z[2], e11, out=tmp)
    t -= np.multiply(z[3], w1, out=tmp)
    tot = d.tot
    n0, n1 = d.n_arm[0], d.n_arm[1]
    qq11 = w1 * w1 * n1
    qq00 = w0 * w0 * n0 + qq11
    qe1 = w1 * (tot[2] * e11 - tot[3] * w1)  # w_1 times the sum of e over the active arm
    qe0 = w0 * (tot[0] * e10 - tot[1] * w0) + qe1
    ssr = tot[0] * (e10 * e10) + tot[1] * (w0 * w0) + tot[2] * (e11 * e11) + tot[3] * (w1 * w1)
    return _AtBeta(s0, s1, t, qq00, qq11, qe0, qe1, ssr, valid, finite)


def _c(alpha: FloatArray, mm1: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """c_i = alpha / (1 + (m_i - 1) alpha), (K, R)."""
    den = np.multiply(mm1, alpha, out=out)
    den += 1.0
    # alpha = -1/(m - 1) exactly makes R_i singular. geepack's LU solve then works with a
    # pivot of rounding size and takes the (finite) limiting step; do the same explicitly.
    den[den == 0.0] = _EPS
    return np.divide(alpha, den, out=den)


def _csum(a: FloatArray, b: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """``sum_i a_i b_i`` over clusters (K, R) -> (R,), clusters added in order (``out``: scratch plane)."""
    return _ksum(np.multiply(a, b, out=out))


def _score_info(
    at: _AtBeta, d: _Design, alpha: FloatArray, scratch: _Scratch | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Information B (b00, b01, b11) and score (g0, g1) summed over clusters.

    ``B = f [sum Q'Q - sum_i c_i s_i s_i']``, ``g = f [sum Q'e - sum_i c_i s_i t_i]`` with
    ``f = 1 / (1 - alpha)``.
    """
    c = _c(alpha, d.mm1, None if scratch is None else scratch.c)
    cs0 = np.multiply(c, at.s0, out=None if scratch is None else scratch.cs0)
    cs1 = np.multiply(c, at.s1, out=c)
    prod = None if scratch is None else scratch.prod
    f = 1.0 / (1.0 - alpha)
    b00 = f * (at.qq00 - _csum(cs0, at.s0, prod))
    b01 = f * (at.qq11 - _csum(cs0, at.s1, prod))
    b11 = f * (at.qq11 - _csum(cs1, at.s1, prod))
    g0 = f * (at.qe0 - _csum(cs0, at.t, prod))
    g1 = f * (at.qe1 - _csum(cs1, at.t, prod))
    return b00, b01, b11, g0, g1


def _moments(
    at: _AtBeta, d: _Design, moments: Moments, scratch: _Scratch | None = None
) -> tuple[FloatArray, FloatArray]:
    """(phi, alpha) from the residuals: ``sum_i sum_{j<k} e_ij e_ik = (sum_i t_i^2 - ssr) / 2``."""
    ssr = at.ssr
    pair_sum = (_csum(at.t, at.t, None if scratch is None else scratch.prod) - ssr) / 2.0
    n_obs, n_pairs = d.n_obs, d.n_pairs
    if moments == "geepack":
        phi = ssr / n_obs
        alpha = pair_sum / phi / n_pairs
    else:
        phi = ssr / (n_obs * (n_obs - P) / n_obs)
        alpha = (pair_sum / phi) / (n_pairs * (n_pairs - P) / n_pairs)
    return phi, alpha


def solve_gee_batch(*args: Any, **kwargs: Any) -> CoreFit:
    """See :func:`_solve_gee_batch`; floating-point warnings are silenced because every
    replicate's failure is reported through its status code instead."""
    with np.errstate(all="ignore"):
        return _solve_gee_batch(*args, **kwargs)


def _halve(beta: FloatArray, delta: FloatArray, n_arm: FloatArray) -> tuple[FloatArray, FloatArray]:
    """geepack update_beta: halve the step until every fitted mean is valid (0 < mu < 1).

    ``beta``, ``delta`` (r, 2), ``n_arm`` (r, 2). All 60 candidates at once; ``delta * 0.5**k``
    equals ``k`` successive halvings exactly. Returns the accepted step and beta (the 60-fold
    halved ones when none is valid).
    """
    steps = delta[:, None, :] * _HALVES[None, :, None]  # (r, 60, 2)
    cand = beta[:, None, :] + steps
    mu0 = np.maximum(np.exp(cand[:, :, 0]), _EPS)
    mu1 = np.maximum(np.exp(cand[:, :, 0] + cand[:, :, 1]), _EPS)
    good = ((mu0 < 1.0) | (n_arm[:, None, 0] == 0.0)) & ((mu1 < 1.0) | (n_arm[:, None, 1] == 0.0))
    first = np.where(good.any(axis=1), good.argmax(axis=1), _MAX_HALVINGS - 1)
    rows = np.arange(beta.shape[0])
    return steps[rows, first], cand[rows, first]


# Replicates that finished are dropped from the working arrays when they are at least this share
# of them (copying every array costs about one iteration); until then they are carried along,
# computed but not recorded again (a replicate's numbers do not depend on the others').
_COMPACT_SHARE = 0.25


def _solve_gee_batch(
    z: FloatArray,
    start: FloatArray,
    *,
    family: Family,
    moments: Moments,
    tol: float,
    maxiter: int,
) -> CoreFit:
    """Fit the GEE on every replicate from ``start``; never raises on bad data.

    Parameters
    ----------
    z : (R, K, 4) cluster count vectors (:func:`cluster_counts`).
    start : (R, 2) starting values (the GLM estimate).
    """
    n_reps = z.shape[0]
    beta_out = np.full((n_reps, P), np.nan)
    alpha_out = np.full(n_reps, np.nan)
    phi_out = np.full(n_reps, np.nan)
    iters = np.zeros(n_reps, dtype=np.int64)
    status = np.full(n_reps, NOT_CONVERGED, dtype=np.int64)
    invalid_code = INVALID_MEAN if family == "binomial" else NUMERICAL
    geepack = moments == "geepack"
    halving = geepack and family == "binomial"

    full = _design(z)
    no_pairs = full.n_pairs <= (P if moments == "statsmodels" else 0)
    b0 = start[:, 0].astype(np.float64, copy=True)
    b1 = start[:, 1].astype(np.float64, copy=True)
    at = _at_beta(b0, b1, full, family, moments)
    bad_start = ~at.valid | ~at.finite
    # geese.fit: gm <- lm.fit(zsca, (y - mu)^2 / variance(mu)) at the start, i.e. mean(e^2)
    phi = at.ssr / full.n_obs if geepack else np.full(n_reps, np.nan)
    status[no_pairs] = NO_PAIRS
    status[bad_start & ~no_pairs] = invalid_code

    # active: replicate index of each working row; live: rows not finished yet (finished rows are
    # carried until compaction, see _COMPACT_SHARE)
    active = np.flatnonzero(~(no_pairs | bad_start))
    d = full.take(active)
    b0, b1, phi, at = b0[active], b1[active], phi[active], at.take(active)
    alpha = np.zeros(active.size)
    n_assoc = np.zeros(active.size, dtype=np.int64)
    live = np.ones(active.size, dtype=bool)
    n_live = active.size
    scratch = _Scratch(d.mm1.shape)

    for it in range(1, maxiter + 1):
        if n_live == 0:
            break
        b00, b01, b11, g0, g1 = _score_info(at, d, alpha, scratch)
        det = b00 * b11 - b01 * b01
        d0 = np.divide(b11 * g0 - b01 * g1, det)
        d1 = np.divide(b00 * g1 - b01 * g0, det)
        ok = np.isfinite(d0) & np.isfinite(d1) & (det != 0.0)
        d0[~ok] = np.nan
        d1[~ok] = np.nan
        b0_new = b0 + d0
        b1_new = b1 + d1
        at_new = _at_beta(b0_new, b1_new, d, family, moments, scratch)
        valid = at_new.valid
        if halving:
            redo = np.flatnonzero(ok & ~valid & live)
            if redo.size:
                step, beta_h = _halve(
                    np.stack([b0[redo], b1[redo]], axis=1),
                    np.stack([d0[redo], d1[redo]], axis=1),
                    d.n_arm[:, redo].T,
                )
                d0[redo], d1[redo] = step[:, 0], step[:, 1]
                b0_new[redo], b1_new[redo] = beta_h[:, 0], beta_h[:, 1]
                at_new.put(redo, _at_beta(b0_new[redo], b1_new[redo], d.take(redo), family, moments))
                valid = at_new.valid
        failed = ~valid | ~(ok & at_new.finite)
        iters[active[live]] = it

        phi_new, alpha_new = _moments(at_new, d, moments, scratch)
        if geepack:
            change = np.maximum(
                np.maximum(np.abs(d0), np.abs(d1)), np.maximum(np.abs(phi_new - phi), np.abs(alpha_new - alpha))
            )
            done = ~failed & (change <= tol)
            alpha_next, phi_next = alpha_new, phi_new
        else:
            score_norm = np.sqrt(g0 * g0 + g1 * g1)
            done = ~failed & (score_norm < tol) & (n_assoc > 0)
            alpha_next = np.where(done, alpha, alpha_new)
            phi_next = np.where(done, phi, phi_new)
            n_assoc += 1
        failed |= ~done & ~np.isfinite(alpha_next)
        done &= live
        failed &= live

        b0, b1, alpha, phi, at = b0_new, b1_new, alpha_next, phi_next, at_new
        finished = done | failed
        if finished.any():
            idx_done = active[done]
            beta_out[idx_done, 0] = b0[done]
            beta_out[idx_done, 1] = b1[done]
            alpha_out[idx_done] = alpha[done]
            phi_out[idx_done] = phi[done]
            status[idx_done] = OK
            status[active[failed]] = np.where(ok[failed] & ~valid[failed], invalid_code, NUMERICAL)
            live &= ~finished
            n_live = int(np.count_nonzero(live))
            if n_live <= (1.0 - _COMPACT_SHARE) * live.size:
                stay = np.flatnonzero(live)
                active, b0, b1, alpha, phi, n_assoc = (
                    active[stay],
                    b0[stay],
                    b1[stay],
                    alpha[stay],
                    phi[stay],
                    n_assoc[stay],
                )
                at, d, live = at.take(stay), d.take(stay), live[stay]
                scratch = _Scratch(d.mm1.shape)
    # replicates still live hit the iteration limit: keep their last values, status NOT_CONVERGED
    if n_live:
        idx = active[live]
        beta_out[idx, 0] = b0[live]
        beta_out[idx, 1] = b1[live]
        alpha_out[idx] = alpha[live]
        phi_out[idx] = phi[live]

    vbeta, vbeta_md, md_singular, num_bad, zero_var = _sandwich(full, beta_out, alpha_out, family, moments)
    status[(status == OK) & num_bad] = NUMERICAL
    status[(status == OK) & zero_var] = ZERO_VARIANCE
    m_max = (full.mm1 + 1.0).max(axis=0)
    corr_not_pd = (1.0 + (m_max - 1.0) * alpha_out) <= 0.0
    return CoreFit(beta_out, vbeta, vbeta_md, alpha_out, phi_out, iters, status, corr_not_pd, md_singular)


def _inv2(
    a00: FloatArray, a01: FloatArray, a10: FloatArray, a11: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Closed-form inverse of 2 x 2 matrices given entrywise; also returns the determinant."""
    det = a00 * a11 - a01 * a10
    return a11 / det, -a01 / det, -a10 / det, a00 / det, det


# Replicates per slice of the sandwich: its ~40 per-cluster planes then stay small (reused memory, no fresh pages).
_SANDWICH_SLICE = 2048


def _sandwich(
    full: _Design,
    beta: FloatArray,
    alpha: FloatArray,
    family: Family,
    moments: Moments,
) -> tuple[FloatArray, FloatArray, BoolArray, BoolArray, BoolArray]:
    """Robust and Mancl-DeRouen covariance at (beta, alpha); NaN rows where beta is NaN.

    Also returns flags: Mancl-DeRouen singular, numerical failure, robust variance zero.
    Computed in slices of replicates (each replicate's numbers are its own, see :func:`_sandwich_rows`)."""
    n_reps = beta.shape[0]
    vb = np.full((n_reps, P, P), np.nan)
    vmd = np.full((n_reps, P, P), np.nan)
    md_singular = np.zeros(n_reps, dtype=bool)
    num_bad = np.zeros(n_reps, dtype=bool)
    zero_var = np.zeros(n_reps, dtype=bool)
    have = np.flatnonzero(np.isfinite(beta[:, 0]) & np.isfinite(beta[:, 1]) & np.isfinite(alpha))
    for lo in range(0, have.size, _SANDWICH_SLICE):
        rows = have[lo : lo + _SANDWICH_SLICE]
        _sandwich_rows(
            full.take(rows), beta[rows], alpha[rows], family, moments, rows, vb, vmd, md_singular, num_bad, zero_var
        )
    return vb, vmd, md_singular, num_bad, zero_var


def _sandwich_rows(
    d: _Design,
    b_have: FloatArray,
    al: FloatArray,
    family: Family,
    moments: Moments,
    have: IntArray,
    vb: FloatArray,
    vmd: FloatArray,
    md_singular: BoolArray,
    num_bad: BoolArray,
    zero_var: BoolArray,
) -> None:
    """:func:`_sandwich` for the replicates ``have`` (design ``d``, estimates ``b_have``, ``al``), written in place.

    Per-cluster quantities are (K, R) planes; sums over clusters add them in cluster order."""
    w, e1, _, _ = _arm_parts(b_have[:, 0], b_have[:, 1], d.n_arm, family, moments)
    z = d.z
    w0, w1, e10, e11 = w[0], w[1], e1[0], e1[1]
    n0, n1 = d.n0k, d.n1k  # (K, R) per cluster and arm
    sum0 = z[0] * e10 - z[1] * w0  # sum of e, control arm
    sum1 = z[2] * e11 - z[3] * w1
    t = sum0 + sum1
    s1 = w1 * n1
    s0 = w0 * n0 + s1
    c = _c(al, d.mm1)
    f = 1.0 / (1.0 - al)
    qq11 = w1 * w1 * n1
    h00 = f * (w0 * w0 * n0 + qq11 - c * s0 * s0)
    h01 = f * (qq11 - c * s0 * s1)
    h11 = f * (qq11 - c * s1 * s1)
    g0 = f * (w0 * sum0 + w1 * sum1 - c * s0 * t)
    g1 = f * (w1 * sum1 - c * s1 * t)
    b00, b01, b11 = _ksum(h00), _ksum(h01), _ksum(h11)

    i00, i01, i10, i11, det = _inv2(b00, b01, b01, b11)
    ok = np.isfinite(det) & (det != 0.0)
    u0 = i00 * g0 + i01 * g1  # B^-1 g_i
    u1 = i10 * g0 + i11 * g1
    v00, v01, v11 = _csum(u0, u0), _csum(u0, u1), _csum(u1, u1)
    vb[have, 0, 0], vb[have, 0, 1], vb[have, 1, 0], vb[have, 1, 1] = v00, v01, v01, v11
    num_bad[have] = ~ok | ~(np.isfinite(v00) & np.isfinite(v01) & np.isfinite(v11))
    r0 = np.abs(i00) * np.abs(g0) + np.abs(i01) * np.abs(g1)
    r1 = np.abs(i10) * np.abs(g0) + np.abs(i11) * np.abs(g1)
    tol2 = _ZERO_VARIANCE_RTOL**2
    zero = (v00 <= tol2 * _csum(r0, r0)) | (v11 <= tol2 * _csum(r1, r1))
    zero_var[have] = ~num_bad[have] & zero

    # Mancl-DeRouen: u_i = (B - H_i)^-1 g_i (a cluster without members has H_i = 0, g_i = 0)
    a00, a01, a11 = b00 - h00, b01 - h01, b11 - h11
    j00, j01, j10, j11, det_i = _inv2(a00, a01, a01, a11)
    ok_i = (
        np.isfinite(a00 + a01 + a11 + g0 + g1)
        & np.isfinite(det_i)
        & (np.abs(det_i) > _SINGULAR_RTOL * np.abs(a00 * a11))
        & (det_i != 0.0)
    )
    m0 = j00 * g0 + j01 * g1
    m1 = j10 * g0 + j11 * g1
    ok_i &= np.isfinite(m0) & np.isfinite(m1)
    m0 = np.where(ok_i, m0, 0.0)
    m1 = np.where(ok_i, m1, 0.0)
    sing = ~np.logical_and.reduce(ok_i, axis=0)
    vm00, vm01, vm11 = _csum(m0, m0), _csum(m0, m1), _csum(m1, m1)
    vm00[sing] = vm01[sing] = vm11[sing] = np.nan
    vmd[have, 0, 0], vmd[have, 0, 1], vmd[have, 1, 0], vmd[have, 1, 1] = vm00, vm01, vm01, vm11
    md_singular[have] = sing
