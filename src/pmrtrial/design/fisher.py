r"""Exact power of the two-sided Fisher exact test, by complete enumeration.

The two-sided p-value is R's ``fisher.test`` definition: the sum of the conditional (hypergeometric)
probabilities of every table with the same margins whose probability is at most the observed
one times :math:`1 + 10^{-7}` (a relative tolerance that makes mathematically tied tables tie).

Speed comes from two facts. (1) Conditionally on the total number of responders
:math:`t = x_0 + x_1`, the tables form one anti-diagonal of the :math:`(n_0+1)\times(n_1+1)` grid, so
all p-values of one diagonal are one sort, one cumulative sum and one ``searchsorted``. (2) The p-value
matrix depends only on :math:`(n_0, n_1)` and the rejection region only on :math:`(n_0, n_1, \alpha)`;
both are cached. Power is then a bilinear form: :math:`b_0^\top R\, b_1` with binomial pmf vectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from pmrtrial._validate import FloatArray
from pmrtrial.design._inputs import check_alpha, check_n, check_probability
from pmrtrial.design._region import RejectionRegion
from pmrtrial.design._results import PowerResult

__all__ = [
    "FISHER_RELATIVE_TOLERANCE",
    "FisherRejectionRegion",
    "compute_fisher_pvalues",
    "compute_fisher_rejection_region",
    "compute_power_fisher_exact",
]

BoolArray = npt.NDArray[np.bool_]

#: Relative tolerance of R ``fisher.test`` (``relErr <- 1 + 10^(-7)``).
FISHER_RELATIVE_TOLERANCE = 1e-7


def _log_choose(n: int) -> FloatArray:
    k = np.arange(n + 1, dtype=np.float64)
    out: FloatArray = gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)
    return out


@lru_cache(maxsize=512)
def _fisher_pvalue_matrix(n0: int, n1: int) -> FloatArray:
    lc0 = _log_choose(n0)
    lc1 = _log_choose(n1)
    pvals = np.empty((n0 + 1, n1 + 1), dtype=np.float64)
    rel = 1.0 + FISHER_RELATIVE_TOLERANCE
    for t in range(n0 + n1 + 1):
        x0 = np.arange(max(0, t - n1), min(t, n0) + 1)
        x1 = t - x0
        # Conditional probabilities on this diagonal, normalised as R's dnhyper does
        # (exp(log d - max log d) / sum), so that the comparison is on the same scale.
        logd = lc0[x0] + lc1[x1]
        d = np.exp(logd - logd.max())
        d /= d.sum()
        order = np.sort(d)
        cum = np.cumsum(order)
        idx = np.searchsorted(order, d * rel, side="right")
        pvals[x0, x1] = np.minimum(cum[idx - 1], 1.0)
    pvals.setflags(write=False)
    return pvals


def compute_fisher_pvalues(n_control: int, n_treated: int) -> FloatArray:
    """Two-sided Fisher exact p-values of every table with group sizes ``(n_control, n_treated)``.

    Parameters
    ----------
    n_control, n_treated : int
        Group sizes (>= 1).

    Returns
    -------
    ndarray of shape (n_control + 1, n_treated + 1)
        ``p[x_control, x_treated]``, read-only (shared through a cache).

    Notes
    -----
    Same definition as R ``fisher.test(matrix(c(x0, n0 - x0, x1, n1 - x1), 2))$p.value``.
    """
    return _fisher_pvalue_matrix(check_n(n_control, "n_control"), check_n(n_treated, "n_treated"))


@dataclass(frozen=True, eq=False)
class FisherRejectionRegion(RejectionRegion):
    """Exact two-sided Fisher test (R ``fisher.test`` p-values) for fixed group sizes."""


@lru_cache(maxsize=512)
def _fisher_region(n0: int, n1: int, alpha: float) -> FisherRejectionRegion:
    pvals = _fisher_pvalue_matrix(n0, n1)
    reject = pvals <= alpha
    reject.setflags(write=False)
    return FisherRejectionRegion(n0, n1, alpha, pvals, reject)


def compute_fisher_rejection_region(n_control: int, n_treated: int, alpha: float = 0.05) -> FisherRejectionRegion:
    """Cached rejection region of the two-sided Fisher exact test (see :class:`FisherRejectionRegion`)."""
    return _fisher_region(check_n(n_control, "n_control"), check_n(n_treated, "n_treated"), check_alpha(alpha))


def compute_power_fisher_exact(
    p_control: float, p_treated: float, n_control: int, n_treated: int, *, alpha: float = 0.05
) -> PowerResult:
    r"""Exact power of the two-sided Fisher exact test, by complete enumeration.

    Parameters
    ----------
    p_control, p_treated : float
        Response probabilities under the alternative, in (0, 1).
    n_control, n_treated : int
        Group sizes (>= 1).
    alpha : float
        Two-sided level; reject when :math:`p \le \alpha`.

    Returns
    -------
    PowerResult

    Notes
    -----
    .. math:: 1-\beta = \sum_{x_0=0}^{n_0}\sum_{x_1=0}^{n_1} \mathbf 1[p(x_0,x_1)\le\alpha]\,
              \binom{n_0}{x_0}p_0^{x_0}q_0^{n_0-x_0}\binom{n_1}{x_1}p_1^{x_1}q_1^{n_1-x_1}

    Power is not monotone in n (saw-tooth), because the test is discrete.

    References
    ----------
    Casagrande JT, Pike MC, Smith PG. The power function of the "exact" test for comparing two
    binomial distributions. Appl Stat 1978;27:176-180.
    """
    p0 = check_probability(p_control, "p_control")  # validate the cheap inputs before building the region
    p1 = check_probability(p_treated, "p_treated")
    region = compute_fisher_rejection_region(n_control, n_treated, alpha)
    return region.power(
        p0,
        p1,
        method="fisher-exact",
        assumptions=(
            "exact enumeration of all (n_control+1)(n_treated+1) tables under independent binomials",
            "two-sided Fisher p-value as R fisher.test: sum of conditional probabilities <= observed "
            "(relative tolerance 1e-7); reject when p <= alpha",
        ),
    )
