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
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln
from scipy.stats import binom

from pmrtrial._validate import FloatArray
from pmrtrial.design._inputs import check_alpha, check_n, check_probability
from pmrtrial.design._results import PowerResult
from pmrtrial.exceptions import ScoreInputError

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
class FisherRejectionRegion:
    """Exact two-sided Fisher test for fixed group sizes: p-values and rejection region.

    Attributes
    ----------
    n_control, n_treated : int
        Group sizes.
    alpha : float
        Two-sided level; a table is rejected when its p-value is ``<= alpha``.
    pvalues : ndarray, shape (n_control + 1, n_treated + 1)
        ``pvalues[x_control, x_treated]`` (read-only).
    reject : ndarray of bool, same shape
        ``pvalues <= alpha`` (read-only).
    """

    n_control: int
    n_treated: int
    alpha: float
    pvalues: FloatArray
    reject: BoolArray

    def lookup_pvalues(self, x_control: Any, x_treated: Any) -> FloatArray:
        """P-values of many observed tables at once (e.g. simulated trials), by indexing.

        Raises
        ------
        ScoreInputError
            When a count is outside ``[0, n]`` of its group.
        """
        x0 = np.asarray(x_control)
        x1 = np.asarray(x_treated)
        if x0.size and (x0.min() < 0 or x0.max() > self.n_control):
            raise ScoreInputError("x_control", int(x0.reshape(-1)[0]), f"integers in [0, {self.n_control}]")
        if x1.size and (x1.min() < 0 or x1.max() > self.n_treated):
            raise ScoreInputError("x_treated", int(x1.reshape(-1)[0]), f"integers in [0, {self.n_treated}]")
        out: FloatArray = self.pvalues[x0.astype(np.intp), x1.astype(np.intp)]
        return out

    def rejection_probability(self, p_control: float, p_treated: float) -> float:
        """Probability of landing in the rejection region: power under H1, size under H0."""
        b0 = binom.pmf(np.arange(self.n_control + 1), self.n_control, p_control)
        b1 = binom.pmf(np.arange(self.n_treated + 1), self.n_treated, p_treated)
        return float(b0 @ (self.reject.astype(np.float64) @ b1))

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python representation (nested lists)."""
        return {
            "n_control": self.n_control,
            "n_treated": self.n_treated,
            "alpha": self.alpha,
            "pvalues": self.pvalues.tolist(),
            "reject": self.reject.tolist(),
        }


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
    p0 = check_probability(p_control, "p_control")
    p1 = check_probability(p_treated, "p_treated")
    region = compute_fisher_rejection_region(n_control, n_treated, alpha)
    return PowerResult(
        method="fisher-exact",
        power=region.rejection_probability(p0, p1),
        p_control=p0,
        p_treated=p1,
        n_control=region.n_control,
        n_treated=region.n_treated,
        alpha=region.alpha,
        assumptions=(
            "exact enumeration of all (n_control+1)(n_treated+1) tables under independent binomials",
            "two-sided Fisher p-value as R fisher.test: sum of conditional probabilities <= observed "
            "(relative tolerance 1e-7); reject when p <= alpha",
        ),
    )
