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
estimator of ``alpha``. Cluster sums use one ``numpy.bincount`` over replicate-and-cluster labels,
so per-replicate cluster assignments cost the same as shared ones.

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


class _Clusters:
    """Cluster sums for a subset of replicates via one bincount per column."""

    def __init__(self, codes: IntArray, n_clusters: int) -> None:
        # codes: (R, n) cluster index in [0, K)
        n_reps = codes.shape[0]
        self.k = n_clusters
        self.n_reps = n_reps
        self.labels = (np.arange(n_reps, dtype=np.int64)[:, None] * n_clusters + codes).ravel()
        self.size = self.sum(np.ones(codes.shape, dtype=np.float64))

    def sum(self, values: FloatArray) -> FloatArray:
        """(R, n) -> (R, K)."""
        out = np.asarray(
            np.bincount(self.labels, weights=values.ravel(), minlength=self.n_reps * self.k), dtype=np.float64
        )
        return out.reshape(self.n_reps, self.k)


_EPS = float(np.finfo(np.float64).eps)


def _mean_parts(
    y: FloatArray, x: FloatArray, beta: FloatArray, family: Family, moments: Moments
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """mu, Pearson residuals e, standardised derivatives Q; valid-mean mask (per replicate).

    ``"geepack"`` follows geepack's famstr.cc: ``mu = max(DBL_EPSILON, exp(eta))`` (also for
    dmu/deta), binomial ``v = mu (1 - mu)``, valid when ``0 < mu < 1``. ``"statsmodels"`` follows
    statsmodels: ``mu = exp(eta)``, binomial ``v = p (1 - p)`` with ``p`` clipped to
    ``[eps, 1 - eps]``, Poisson ``v = |mu|``; a fitted probability >= 1 is still flagged invalid.
    """
    eta = np.einsum("rnp,rp->rn", x, beta)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mu = np.exp(eta)
        if moments == "geepack":
            mu = np.maximum(mu, _EPS)
        if family == "binomial":
            if moments == "geepack":
                v = mu * (1.0 - mu)
            else:
                pc = np.clip(mu, _EPS, 1.0 - _EPS)
                v = pc * (1.0 - pc)
            valid = np.all((mu > 0.0) & (mu < 1.0), axis=1)
        else:
            v = np.abs(mu)
            valid = np.all(np.isfinite(mu) & (mu > 0.0), axis=1)
        sd = np.sqrt(np.where(v > 0.0, v, np.nan))
        e = (y - mu) / sd
        q = (mu / sd)[:, :, None] * x
    return mu, e, q, valid


def _cluster_terms(
    e: FloatArray, q: FloatArray, clusters: _Clusters, alpha: FloatArray, *, per_cluster: bool
) -> tuple[FloatArray, FloatArray, FloatArray | None, FloatArray | None, FloatArray]:
    """Information B (R,p,p) and score g (R,p); optionally H_i (R,K,p,p) and g_i (R,K,p)."""
    n_reps, _, p = q.shape
    s = np.stack([clusters.sum(q[:, :, a]) for a in range(p)], axis=-1)  # (R,K,p)
    t = clusters.sum(e)  # (R,K)
    with np.errstate(divide="ignore", invalid="ignore"):
        den = 1.0 + (clusters.size - 1.0) * alpha[:, None]
        # alpha = -1/(m - 1) exactly makes R_i singular. geepack's LU solve then works with a
        # pivot of rounding size and takes the (finite) limiting step; do the same explicitly.
        den = np.where(den == 0.0, _EPS, den)
        c = alpha[:, None] / den  # (R,K)
        f = 1.0 / (1.0 - alpha)  # (R,)
    if per_cluster:
        qq = np.empty((n_reps, clusters.k, p, p))
        for a in range(p):
            for b in range(a, p):
                qq[:, :, a, b] = clusters.sum(q[:, :, a] * q[:, :, b])
                qq[:, :, b, a] = qq[:, :, a, b]
        qe = np.stack([clusters.sum(q[:, :, a] * e) for a in range(p)], axis=-1)  # (R,K,p)
        h_i = f[:, None, None, None] * (qq - c[:, :, None, None] * s[:, :, :, None] * s[:, :, None, :])
        g_i = f[:, None, None] * (qe - c[:, :, None] * s * t[:, :, None])
        return h_i.sum(axis=1), g_i.sum(axis=1), h_i, g_i, c
    qtq = np.einsum("rnp,rnq->rpq", q, q)
    qte = np.einsum("rnp,rn->rp", q, e)
    big_b = f[:, None, None] * (qtq - np.einsum("rk,rkp,rkq->rpq", c, s, s))
    g = f[:, None] * (qte - np.einsum("rk,rkp,rk->rp", c, s, t))
    return big_b, g, None, None, c


def _moments(
    e: FloatArray, clusters: _Clusters, n_pairs: FloatArray, p: int, moments: Moments
) -> tuple[FloatArray, FloatArray]:
    """(phi, alpha) from Pearson residuals e (R, n)."""
    n_obs = e.shape[1]
    e2 = e * e
    ssr = clusters.sum(e2).sum(axis=1)
    t = clusters.sum(e)
    pair_sum = ((t * t - clusters.sum(e2)) / 2.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if moments == "geepack":
            phi = ssr / n_obs
            alpha = pair_sum / phi / n_pairs
        else:
            phi = ssr / (n_obs * (n_obs - p) / float(n_obs))
            alpha = (pair_sum / phi) / (n_pairs * (n_pairs - p) / n_pairs)
    return phi, alpha


def _solve(a: FloatArray, b: FloatArray, rtol: float = 0.0) -> tuple[FloatArray, BoolArray]:
    """Batched solve a x = b for (..., p, p) and (..., p).

    A system is flagged singular when it is not finite or ``|det| <= rtol * prod|diag|`` (``rtol=0``:
    only exact singularity, as an LU solve would see it). Flagged systems give NaN.
    """
    finite = np.all(np.isfinite(a), axis=(-2, -1)) & np.all(np.isfinite(b), axis=-1)
    safe = np.where(finite[..., None, None], a, np.eye(a.shape[-1]))
    det = np.linalg.det(safe)
    diag_prod = np.abs(np.prod(np.diagonal(safe, axis1=-2, axis2=-1), axis=-1))
    ok = finite & np.isfinite(det) & (np.abs(det) > rtol * diag_prod) & (det != 0.0)
    safe = np.where(ok[..., None, None], safe, np.eye(a.shape[-1]))
    x = np.linalg.solve(safe, np.where(ok[..., None], b, 0.0)[..., None])[..., 0]
    x[~ok] = np.nan
    x[ok & ~np.all(np.isfinite(x), axis=-1)] = np.nan
    return x, ok & np.all(np.isfinite(x), axis=-1)


def solve_gee_batch(*args: Any, **kwargs: Any) -> CoreFit:
    """See :func:`_solve_gee_batch`; floating-point warnings are silenced because every
    replicate's failure is reported through its status code instead."""
    with np.errstate(all="ignore"):
        return _solve_gee_batch(*args, **kwargs)


def _solve_gee_batch(
    y: FloatArray,
    x: FloatArray,
    codes: IntArray,
    n_clusters: int,
    start: FloatArray,
    *,
    family: Family,
    moments: Moments,
    tol: float,
    maxiter: int,
) -> CoreFit:
    """Fit the GEE on every replicate (rows of ``y``) from ``start``; never raises on bad data.

    Parameters
    ----------
    y : (R, n) 0/1 responses.  x : (R, n, p) design.  codes : (R, n) cluster index in [0, K).
    start : (R, p) starting values (the GLM estimate).
    """
    n_reps, n_obs, p = x.shape
    beta_out = np.full((n_reps, p), np.nan)
    alpha_out = np.full(n_reps, np.nan)
    phi_out = np.full(n_reps, np.nan)
    iters = np.zeros(n_reps, dtype=np.int64)
    status = np.full(n_reps, NOT_CONVERGED, dtype=np.int64)

    all_clusters = _Clusters(codes, n_clusters)
    n_pairs_all = (all_clusters.size * (all_clusters.size - 1.0) / 2.0).sum(axis=1)

    active = np.arange(n_reps)
    beta = start.astype(np.float64, copy=True)
    alpha = np.zeros(n_reps)
    n_pairs = n_pairs_all
    clusters = all_clusters
    ya, xa = y, x
    n_assoc = np.zeros(n_reps, dtype=np.int64)

    no_pairs = n_pairs_all <= (p if moments == "statsmodels" else 0)
    _, e0, _, valid0 = _mean_parts(y, x, beta, family, moments)
    bad_start = ~valid0 | ~np.all(np.isfinite(e0), axis=1)
    phi = np.full(n_reps, np.nan)
    if moments == "geepack":
        # geese.fit: gm <- lm.fit(zsca, (y - mu)^2 / variance(mu)) at the start, i.e. mean(e^2)
        phi = (e0 * e0).sum(axis=1) / n_obs
    drop = no_pairs | bad_start
    status[no_pairs] = NO_PAIRS
    status[bad_start & ~no_pairs] = INVALID_MEAN if family == "binomial" else NUMERICAL

    def keep(mask: BoolArray) -> None:
        nonlocal active, beta, alpha, phi, n_pairs, clusters, ya, xa, n_assoc
        active, beta, alpha, phi = active[mask], beta[mask], alpha[mask], phi[mask]
        n_pairs, ya, xa, n_assoc = n_pairs[mask], ya[mask], xa[mask], n_assoc[mask]
        clusters = _Clusters(codes[active], n_clusters)

    if drop.any():
        keep(~drop)

    for it in range(1, maxiter + 1):
        if active.size == 0:
            break
        _, e, q, _ = _mean_parts(ya, xa, beta, family, moments)
        big_b, g, _, _, _ = _cluster_terms(e, q, clusters, alpha, per_cluster=False)
        delta, ok = _solve(big_b, g)
        beta_new = beta + delta
        _, e_new, _, valid = _mean_parts(ya, xa, beta_new, family, moments)
        if moments == "geepack" and family == "binomial":
            # geepack update_beta: halve the step until every fitted mean is valid (0 < mu < 1)
            for _ in range(_MAX_HALVINGS):
                redo = ok & ~valid
                if not redo.any():
                    break
                delta[redo] *= 0.5
                beta_new[redo] = beta[redo] + delta[redo]
                _, e_redo, _, valid_redo = _mean_parts(ya[redo], xa[redo], beta_new[redo], family, moments)
                e_new[redo] = e_redo
                valid[redo] = valid_redo
        finite = ok & np.all(np.isfinite(e_new), axis=1)
        failed = ~valid | ~finite
        iters[active] = it

        if moments == "geepack":
            phi_new, alpha_new = _moments(e_new, clusters, n_pairs, p, moments)
            change = np.maximum(
                np.max(np.abs(delta), axis=1), np.maximum(np.abs(phi_new - phi), np.abs(alpha_new - alpha))
            )
            done = ~failed & (change <= tol)
            alpha_next, phi_next = alpha_new, phi_new
        else:
            score_norm = np.sqrt(np.sum(g * g, axis=1))
            done = ~failed & (score_norm < tol) & (n_assoc > 0)
            phi_new, alpha_new = _moments(e_new, clusters, n_pairs, p, moments)
            alpha_next = np.where(done, alpha, alpha_new)
            phi_next = np.where(done, phi, phi_new)
            n_assoc = n_assoc + 1
        failed |= ~done & ~np.isfinite(alpha_next)

        finished = done | failed
        idx_done = active[done]
        beta_out[idx_done] = beta_new[done]
        alpha_out[idx_done] = alpha_next[done]
        phi_out[idx_done] = phi_next[done]
        status[idx_done] = OK
        fail_idx = active[failed]
        invalid_mean = ok[failed] & ~valid[failed]
        status[fail_idx] = np.where(invalid_mean, INVALID_MEAN if family == "binomial" else NUMERICAL, NUMERICAL)

        beta, alpha, phi = beta_new, alpha_next, phi_next
        if finished.any():
            keep(~finished)
    # replicates still active hit the iteration limit: keep their last values, status NOT_CONVERGED
    if active.size:
        beta_out[active] = beta
        alpha_out[active] = alpha
        phi_out[active] = phi

    vbeta, vbeta_md, md_singular, num_bad, zero_var = _sandwich(
        y, x, codes, n_clusters, beta_out, alpha_out, family, moments
    )
    status[(status == OK) & num_bad] = NUMERICAL
    status[(status == OK) & zero_var] = ZERO_VARIANCE
    m_max = all_clusters.size.max(axis=1)
    with np.errstate(invalid="ignore"):
        corr_not_pd = (1.0 + (m_max - 1.0) * alpha_out) <= 0.0
    return CoreFit(beta_out, vbeta, vbeta_md, alpha_out, phi_out, iters, status, corr_not_pd, md_singular)


def _sandwich(
    y: FloatArray,
    x: FloatArray,
    codes: IntArray,
    n_clusters: int,
    beta: FloatArray,
    alpha: FloatArray,
    family: Family,
    moments: Moments,
) -> tuple[FloatArray, FloatArray, BoolArray, BoolArray, BoolArray]:
    """Robust and Mancl-DeRouen covariance at (beta, alpha); NaN rows where beta is NaN.

    Also returns flags: Mancl-DeRouen singular, numerical failure, robust variance zero."""
    n_reps, _, p = x.shape
    vb = np.full((n_reps, p, p), np.nan)
    vmd = np.full((n_reps, p, p), np.nan)
    md_singular = np.zeros(n_reps, dtype=bool)
    num_bad = np.zeros(n_reps, dtype=bool)
    zero_var = np.zeros(n_reps, dtype=bool)
    have = np.flatnonzero(np.all(np.isfinite(beta), axis=1) & np.isfinite(alpha))
    if have.size == 0:
        return vb, vmd, md_singular, num_bad, zero_var
    clusters = _Clusters(codes[have], n_clusters)
    _, e, q, _ = _mean_parts(y[have], x[have], beta[have], family, moments)
    big_b, _, h_i, g_i, _ = _cluster_terms(e, q, clusters, alpha[have], per_cluster=True)
    assert h_i is not None and g_i is not None
    eye = np.broadcast_to(np.eye(p), big_b.shape)
    b_inv, ok = _solve_matrix(big_b, eye)
    u_i = np.einsum("rpq,rkq->rkp", b_inv, g_i)  # B^-1 g_i
    vb_have = np.einsum("rkp,rkq->rpq", u_i, u_i)
    vb[have] = vb_have
    num_bad[have] = ~ok | ~np.all(np.isfinite(vb_have), axis=(1, 2))
    scale = np.einsum("rpq,rkq->rkp", np.abs(b_inv), np.abs(g_i))
    diag = np.diagonal(vb_have, axis1=1, axis2=2)
    zero_var[have] = ~num_bad[have] & np.any(
        diag <= _ZERO_VARIANCE_RTOL**2 * np.einsum("rkp,rkp->rp", scale, scale), axis=1
    )
    u, ok_i = _solve(big_b[:, None, :, :] - h_i, g_i, rtol=_SINGULAR_RTOL)
    # a cluster without members contributes H_i = 0, g_i = 0: harmless
    sing = ~np.all(ok_i, axis=1)
    u = np.where(np.isfinite(u), u, 0.0)
    vmd_have = np.einsum("rkp,rkq->rpq", u, u)
    vmd_have[sing] = np.nan
    vmd[have] = vmd_have
    md_singular[have] = sing
    return vb, vmd, md_singular, num_bad, zero_var


def _solve_matrix(a: FloatArray, b: FloatArray) -> tuple[FloatArray, BoolArray]:
    cols = [_solve(a, b[..., :, j]) for j in range(a.shape[-1])]
    x = np.stack([c[0] for c in cols], axis=-1)
    return x, cols[0][1]
