r"""Boschloo's exact unconditional test: p-values for a whole table grid, and exact power.

Definition (that of ``scipy.stats.boschloo_exact``, which the tests reproduce):

* one-sided ("less", :math:`p_0 < p_1` is *not* implied; the orientation is scipy's with the control
  group as its first column) ordering statistic :math:`T(x_0, x_1) = P(X_0 \le x_0 \mid t)`, the
  one-sided Fisher p-value (hypergeometric CDF given :math:`t = x_0 + x_1`); "greater" uses
  :math:`P(X_1 \le x_1 \mid t)`;
* one-sided p-value :math:`\max_{\pi\in[0,1]} P_\pi\{T \le T_{obs}(1+10^{-13})\}` under two independent
  binomials with common :math:`\pi`;
* two-sided p-value :math:`\min(1, 2\min(p_{less}, p_{greater}))`.

Vectorisation. For one observed table :math:`o`, the tables of diagonal :math:`t` that are at least as
extreme form a prefix of that diagonal (T is a cumulative probability along it), and their conditional
mass is the largest :math:`T` on the diagonal not exceeding :math:`T_o`. Call it :math:`w_{o,t}`. Then

.. math:: P_\pi(o) = \sum_{t=0}^{N} w_{o,t}\,\binom{N}{t}\pi^t(1-\pi)^{N-t},

so the p-values of all tables at all :math:`\pi` are one matrix product :math:`W B(\pi)`.

Nuisance maximisation (documented grid). :math:`\pi` runs over ``n_grid + 1`` equally spaced points
of :math:`[0, 1]` (default 1001, step 0.001); for every table the best grid point is then refined by
a vectorised golden-section search on the bracket formed by its two neighbours (``refine_iterations``
steps, default 40, shrinking the bracket by :math:`0.618^{40}\approx 4\times10^{-9}`). The reported
maximum is the larger of the grid and refined values, so it is never below the grid maximum.
scipy instead runs ``shgo`` with 32 Sobol points and can stop below the true maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt

from pmrtrial._validate import FloatArray
from pmrtrial.design._inputs import check_alpha, check_n, check_probability
from pmrtrial.design._region import RejectionRegion, binom_pmf_matrix
from pmrtrial.design._results import PowerResult

__all__ = [
    "BOSCHLOO_DEFAULT_GRID",
    "BOSCHLOO_REFINE_ITERATIONS",
    "BoschlooRejectionRegion",
    "compute_boschloo_pvalues",
    "compute_boschloo_rejection_region",
    "compute_power_boschloo",
]

BoolArray = npt.NDArray[np.bool_]

#: Number of intervals of the equally spaced nuisance grid on [0, 1].
BOSCHLOO_DEFAULT_GRID = 1000
#: Golden-section steps of the local refinement around the best grid point.
BOSCHLOO_REFINE_ITERATIONS = 40
_TIE_TOLERANCE = 1e-13  # scipy.stats.boschloo_exact: fisher_stat * (1 + 1e-13)
_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def _statistic(n0: int, n1: int, alternative: Literal["less", "greater"]) -> FloatArray:
    """Fisher one-sided p-value of every table, indexed [x0, x1], as scipy computes it."""
    x0 = np.arange(n0 + 1)[:, None]
    x1 = np.arange(n1 + 1)[None, :]
    from scipy.stats import hypergeom  # scipy.stats costs ~1 s of CPU to import: only when a region is built

    total = n0 + n1
    if alternative == "less":
        out: FloatArray = hypergeom.cdf(x0, total, x0 + x1, n0)
    else:
        out = hypergeom.cdf(x1, total, x0 + x1, n1)
    return np.asarray(out, dtype=np.float64)


def _weights(stat: FloatArray) -> FloatArray:
    """W[o, t]: conditional mass of the tables on diagonal t at least as extreme as table o."""
    n0, n1 = stat.shape[0] - 1, stat.shape[1] - 1
    flat = stat.reshape(-1)
    thresholds = flat * (1.0 + _TIE_TOLERANCE)
    w = np.zeros((flat.size, n0 + n1 + 1), dtype=np.float64)
    for t in range(n0 + n1 + 1):
        x0 = np.arange(max(0, t - n1), min(t, n0) + 1)
        diag = np.sort(stat[x0, t - x0])  # cumulative conditional probabilities along the diagonal
        idx = np.searchsorted(diag, thresholds, side="right")
        w[:, t] = np.where(idx > 0, diag[np.maximum(idx - 1, 0)], 0.0)
    return w


def _max_over_nuisance(w: FloatArray, n_grid: int, refine_iterations: int) -> FloatArray:
    total = w.shape[1] - 1
    grid = np.linspace(0.0, 1.0, n_grid + 1)
    values = w @ binom_pmf_matrix(total, grid).T  # (tables, grid)
    best = values.argmax(axis=1)
    best_value = values[np.arange(w.shape[0]), best]
    lo = grid[np.maximum(best - 1, 0)]
    hi = grid[np.minimum(best + 1, n_grid)]

    def evaluate(pis: FloatArray) -> FloatArray:
        result: FloatArray = np.einsum("ij,ij->i", w, binom_pmf_matrix(total, pis))
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


@lru_cache(maxsize=128)
def _boschloo_pvalue_matrix(n0: int, n1: int, n_grid: int, refine_iterations: int) -> FloatArray:
    one_sided = [
        _max_over_nuisance(_weights(_statistic(n0, n1, alt)), n_grid, refine_iterations).reshape(n0 + 1, n1 + 1)
        for alt in ("less", "greater")
    ]
    pvals = np.minimum(2.0 * np.minimum(one_sided[0], one_sided[1]), 1.0)
    pvals.setflags(write=False)
    return pvals


def compute_boschloo_pvalues(
    n_control: int,
    n_treated: int,
    *,
    n_grid: int = BOSCHLOO_DEFAULT_GRID,
    refine_iterations: int = BOSCHLOO_REFINE_ITERATIONS,
) -> FloatArray:
    """Two-sided Boschloo p-values of every table with group sizes ``(n_control, n_treated)``.

    Parameters
    ----------
    n_control, n_treated : int
        Group sizes (>= 1). Cost grows as ``(n0 n1) (n0 + n1) n_grid``; about a second at 60 per arm.
    n_grid : int
        Intervals of the equally spaced nuisance grid on [0, 1] (see module notes).
    refine_iterations : int
        Golden-section steps around the best grid point.

    Returns
    -------
    ndarray of shape (n_control + 1, n_treated + 1)
        ``p[x_control, x_treated]`` equal (to the precision of the nuisance search) to
        ``scipy.stats.boschloo_exact([[x_control, x_treated], [n_control - x_control,
        n_treated - x_treated]]).pvalue``; read-only.
    """
    n0 = check_n(n_control, "n_control")
    n1 = check_n(n_treated, "n_treated")
    grid = check_n(n_grid, "n_grid")
    iters = int(refine_iterations)
    return _boschloo_pvalue_matrix(n0, n1, grid, iters)


@dataclass(frozen=True, eq=False)
class BoschlooRejectionRegion(RejectionRegion):
    """Two-sided Boschloo test for fixed group sizes: p-values and rejection region (read-only)."""


def compute_boschloo_rejection_region(n_control: int, n_treated: int, alpha: float = 0.05) -> BoschlooRejectionRegion:
    """Rejection region ``p <= alpha`` of the two-sided Boschloo test (default nuisance grid)."""
    a = check_alpha(alpha)
    pvals = compute_boschloo_pvalues(n_control, n_treated)
    reject = pvals <= a
    reject.setflags(write=False)
    return BoschlooRejectionRegion(pvals.shape[0] - 1, pvals.shape[1] - 1, a, pvals, reject)


def compute_power_boschloo(
    p_control: float, p_treated: float, n_control: int, n_treated: int, *, alpha: float = 0.05
) -> PowerResult:
    r"""Exact power of the two-sided Boschloo test, by complete enumeration.

    Parameters
    ----------
    p_control, p_treated : float
        Response probabilities under the alternative, in (0, 1).
    n_control, n_treated : int
        Group sizes (>= 1); feasible up to about 60-100 per arm.
    alpha : float
        Two-sided level; reject when :math:`p \le \alpha`.

    Returns
    -------
    PowerResult

    References
    ----------
    Boschloo RD. Raised conditional level of significance for the 2x2-table when testing the
    equality of two probabilities. Statistica Neerlandica 1970;24:1-9.
    """
    p0 = check_probability(p_control, "p_control")  # validate the cheap inputs before building the region
    p1 = check_probability(p_treated, "p_treated")
    region = compute_boschloo_rejection_region(n_control, n_treated, alpha)
    return region.power(
        p0,
        p1,
        method="boschloo",
        assumptions=(
            "exact enumeration of all tables under independent binomials",
            "Boschloo p-value as scipy.stats.boschloo_exact: ordering by one-sided Fisher p, maximum over "
            "the common nuisance probability, two-sided = min(1, 2 min(one-sided))",
            f"nuisance maximum: grid of {BOSCHLOO_DEFAULT_GRID + 1} points on [0,1] plus "
            f"{BOSCHLOO_REFINE_ITERATIONS} golden-section steps per table",
            "reject when p <= alpha",
        ),
    )
