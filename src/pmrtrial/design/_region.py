"""The rejection region of an exact two-sided test for fixed group sizes (shared by Fisher and Boschloo)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pmrtrial._validate import FloatArray
from pmrtrial.design._inputs import check_probability
from pmrtrial.design._results import PowerResult
from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats._boschloo import binom_pmf_matrix

BoolArray = npt.NDArray[np.bool_]

__all__ = ["RejectionRegion"]


@dataclass(frozen=True, eq=False)
class RejectionRegion:
    """P-values of every table ``(x_control, x_treated)`` and the rejection region of a test.

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
        b0 = binom_pmf_matrix(self.n_control, np.array([p_control]))[0]
        b1 = binom_pmf_matrix(self.n_treated, np.array([p_treated]))[0]
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

    def power(self, p_control: float, p_treated: float, *, method: str, assumptions: tuple[str, ...]) -> PowerResult:
        """Exact power of the test at the true response probabilities, as a :class:`PowerResult`."""
        p0 = check_probability(p_control, "p_control")
        p1 = check_probability(p_treated, "p_treated")
        return PowerResult(
            method=method,
            power=self.rejection_probability(p0, p1),
            p_control=p0,
            p_treated=p1,
            n_control=self.n_control,
            n_treated=self.n_treated,
            alpha=self.alpha,
            assumptions=assumptions,
        )
