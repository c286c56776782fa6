r"""Enumeration engine of Boschloo's unconditional exact test (shared by :mod:`pmrtrial.stats.exact` and
:mod:`pmrtrial.design.boschloo`).

Tables are indexed ``[x0, x1]`` with ``x0`` responders among ``n0`` (control) and ``x1`` among ``n1``
(treated). A test is an ordering statistic ``T`` (small = extreme); the p-value of table ``o`` is
``max over pi of P_pi{T <= T_o}`` under two independent binomials with common ``pi``.

Two-sided definitions (``definition``):

* ``"fisher_ordered"`` (default; R ``Exact::exact.test(method = "boschloo")`` and the literature):
  ``T`` = the two-sided Fisher p-value of the table (R ``fisher.test``: the conditional probability of
  the tables no more probable than it, relative tolerance 1e-7); ties within a relative 1e-7 count as
  at least as extreme. This p never exceeds Fisher's.
* ``"twice_min_one_sided"`` (``scipy.stats.boschloo_exact``): ``T`` = a one-sided Fisher p-value
  (``P(X0 <= x0 | t)`` for "less", ``P(X1 <= x1 | t)`` for "greater"), ties within 1e-13, and the
  two-sided p = ``min(1, 2 min(p_less, p_greater))``.

Vectorisation. Along a diagonal ``t = x0 + x1`` each statistic is a cumulative conditional probability
(the set of tables with ``T <= c`` is nested and its conditional mass is the largest ``T <= c`` on the
diagonal), so ``P_pi{T <= T_o} = sum_t w[o, t] Bin(t; n0 + n1, pi)`` with ``w[o, t]`` that largest value.

Nuisance maximisation: ``pi`` over ``n_grid + 1`` equally spaced points of [0, 1] (default 1001), then a
golden-section refinement (``refine_iterations``, default 40: bracket shrunk by 0.618^40 ~ 4e-9) on the
bracket around the best grid point; the maximum reported is never below the grid maximum.

Cost: the statistic of every table, ``(n0 + 1)(n1 + 1)`` values, then one row per table wanted. One
table costs about ``(n0 n1) log`` + ``n_grid (n0 + n1)``: quadratic in the arm sizes, so callers cap it
(:data:`BOSCHLOO_MAX_TABLES`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import gammaln, xlog1py, xlogy
from scipy.stats import hypergeom

from pmrtrial._validate import FloatArray

__all__ = [
    "BOSCHLOO_DEFAULT_GRID",
    "BOSCHLOO_MAX_TABLES",
    "BOSCHLOO_REFINE_ITERATIONS",
    "BoschlooDefinition",
    "boschloo_pvalues",
]

BoschlooDefinition = Literal["fisher_ordered", "twice_min_one_sided"]
#: Number of intervals of the equally spaced nuisance grid on [0, 1].
BOSCHLOO_DEFAULT_GRID = 1000
#: Golden-section steps of the local refinement around the best grid point.
BOSCHLOO_REFINE_ITERATIONS = 40
#: Largest number of tables ``(n0 + 1)(n1 + 1)`` enumerated for one p-value (about 500 per arm).
BOSCHLOO_MAX_TABLES = 250_000
_ONE_SIDED_TIE = 1e-13  # scipy.stats.boschloo_exact: statistic * (1 + 1e-13)
_FISHER_TIE = 1e-7  # R fisher.test: relErr = 1 + 1e-7
_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def one_sided_statistic(n0: int, n1: int, alternative: Literal["less", "greater"]) -> FloatArray:
    """Fisher one-sided p-value of every table, indexed [x0, x1], as scipy computes it."""
    x0 = np.arange(n0 + 1)[:, None]
    x1 = np.arange(n1 + 1)[None, :]
    total = n0 + n1
    if alternative == "less":
        out: FloatArray = hypergeom.cdf(x0, total, x0 + x1, n0)
    else:
        out = hypergeom.cdf(x1, total, x0 + x1, n1)
    return np.asarray(out, dtype=np.float64)


def fisher_two_sided_statistic(n0: int, n1: int) -> FloatArray:
    """Two-sided Fisher p-value (R ``fisher.test`` rule) of every table, indexed [x0, x1]."""
    x0 = np.arange(n0 + 1, dtype=np.float64)[:, None]
    x1 = np.arange(n1 + 1, dtype=np.float64)[None, :]
    log_pmf = (
        gammaln(n0 + 1.0) - gammaln(x0 + 1.0) - gammaln(n0 - x0 + 1.0)
        + gammaln(n1 + 1.0) - gammaln(x1 + 1.0) - gammaln(n1 - x1 + 1.0)
    )  # fmt: skip
    pmf = np.exp(log_pmf)  # unnormalised; each diagonal is normalised below
    out = np.empty((n0 + 1, n1 + 1), dtype=np.float64)
    for t in range(n0 + n1 + 1):
        i = np.arange(max(0, t - n1), min(t, n0) + 1)
        d = pmf[i, t - i]
        d = d / d.sum()
        order = np.sort(d)
        cumulative = np.cumsum(order)
        idx = np.searchsorted(order, d * (1.0 + _FISHER_TIE), side="right")
        out[i, t - i] = np.minimum(cumulative[idx - 1], 1.0)
    return out


def _weights(stat: FloatArray, rows: FloatArray, tie: float) -> FloatArray:
    """w[o, t]: conditional mass of the tables on diagonal t at least as extreme as table o (``rows`` = T_o)."""
    n0, n1 = stat.shape[0] - 1, stat.shape[1] - 1
    thresholds = rows * (1.0 + tie)
    w = np.zeros((rows.size, n0 + n1 + 1), dtype=np.float64)
    for t in range(n0 + n1 + 1):
        x0 = np.arange(max(0, t - n1), min(t, n0) + 1)
        diag = np.sort(stat[x0, t - x0])  # cumulative conditional probabilities along the diagonal
        idx = np.searchsorted(diag, thresholds, side="right")
        w[:, t] = np.where(idx > 0, diag[np.maximum(idx - 1, 0)], 0.0)
    return w


def _binom_matrix(total: int, pis: FloatArray) -> FloatArray:
    """Binomial(total, pi) pmf for every pi (rows) and t = 0..total (columns), pi in [0, 1]."""
    t = np.arange(total + 1, dtype=np.float64)
    log_choose = gammaln(total + 1.0) - gammaln(t + 1.0) - gammaln(total - t + 1.0)
    logp = log_choose[None, :] + xlogy(t[None, :], pis[:, None]) + xlog1py(total - t[None, :], -pis[:, None])
    out: FloatArray = np.exp(logp)
    return out


def _max_over_nuisance(w: FloatArray, n_grid: int, refine_iterations: int) -> FloatArray:
    total = w.shape[1] - 1
    grid = np.linspace(0.0, 1.0, n_grid + 1)
    values = w @ _binom_matrix(total, grid).T  # (tables, grid)
    best = values.argmax(axis=1)
    best_value = values[np.arange(w.shape[0]), best]
    lo = grid[np.maximum(best - 1, 0)]
    hi = grid[np.minimum(best + 1, n_grid)]

    def evaluate(pis: FloatArray) -> FloatArray:
        result: FloatArray = np.einsum("ij,ij->i", w, _binom_matrix(total, pis))
        return result

    c = hi - _GOLDEN * (hi - lo)
    d = lo + _GOLDEN * (hi - lo)
    fc, fd = evaluate(c), evaluate(d)
    for _ in range(refine_iterations):
        left = fc >= fd  # maximum lies in [lo, d]
        hi = np.where(left, d, hi)
        lo = np.where(left, lo, c)
        new_c = hi - _GOLDEN * (hi - lo)
        new_d = lo + _GOLDEN * (hi - lo)
        c_next = np.where(left, new_c, d)
        d_next = np.where(left, c, new_d)
        # Each table needs one new evaluation; the point is c_next (left) or d_next (right).
        f_new = evaluate(np.where(left, c_next, d_next))
        fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
        c, d = c_next, d_next
    refined = np.maximum(fc, fd)
    out: FloatArray = np.minimum(np.maximum(best_value, refined), 1.0)
    return out


def boschloo_pvalues(
    n0: int,
    n1: int,
    *,
    alternative: Literal["two-sided", "less", "greater"] = "two-sided",
    definition: BoschlooDefinition = "fisher_ordered",
    tables: tuple[FloatArray, FloatArray] | None = None,
    n_grid: int = BOSCHLOO_DEFAULT_GRID,
    refine_iterations: int = BOSCHLOO_REFINE_ITERATIONS,
) -> FloatArray:
    """Boschloo p-values of the tables ``tables = (x0, x1)`` (integer arrays), or of every table [x0, x1].

    ``alternative`` "less"/"greater" are the one-sided tests (the same under both definitions, with
    "less" = fewer responders in group 0 than expected... as scipy orients them: see the module notes).
    """

    def for_stat(stat: FloatArray, tie: float) -> FloatArray:
        rows = stat.reshape(-1) if tables is None else stat[tables[0].astype(int), tables[1].astype(int)]
        values = _max_over_nuisance(_weights(stat, rows, tie), n_grid, refine_iterations)
        out: FloatArray = values if tables is not None else values.reshape(n0 + 1, n1 + 1)
        return out

    if alternative in ("less", "greater"):
        return for_stat(one_sided_statistic(n0, n1, alternative), _ONE_SIDED_TIE)
    if definition == "fisher_ordered":
        return for_stat(fisher_two_sided_statistic(n0, n1), _FISHER_TIE)
    less = for_stat(one_sided_statistic(n0, n1, "less"), _ONE_SIDED_TIE)
    greater = for_stat(one_sided_statistic(n0, n1, "greater"), _ONE_SIDED_TIE)
    out: FloatArray = np.minimum(2.0 * np.minimum(less, greater), 1.0)
    return out
