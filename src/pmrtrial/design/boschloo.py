r"""Boschloo's exact unconditional test for a whole table grid, and its exact power.

The p-values come from the enumeration engine :mod:`pmrtrial.stats._boschloo` (the same code as
:func:`pmrtrial.stats.boschloo_exact_test`), for every table at once. Definition (``definition``):

* ``"fisher_ordered"`` (default; R ``Exact::exact.test(method = "boschloo")``): tables ordered by their
  two-sided Fisher p-value; never above Fisher's p, so the Boschloo region contains Fisher's;
* ``"twice_min_one_sided"`` (``scipy.stats.boschloo_exact``): 2 x the smaller one-sided p.

At unequal allocation the two differ by a few 1e-3 in power. Nuisance maximisation: ``n_grid + 1``
equally spaced points of [0, 1] (default 1001) and ``refine_iterations`` golden-section steps (default
40) around the best one, for every table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pmrtrial._validate import FloatArray
from pmrtrial.design._inputs import check_alpha, check_n, check_probability
from pmrtrial.design._region import RejectionRegion
from pmrtrial.design._results import PowerResult
from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats._boschloo import (
    BOSCHLOO_DEFAULT_GRID,
    BOSCHLOO_REFINE_ITERATIONS,
    BoschlooDefinition,
    boschloo_pvalues,
)

__all__ = [
    "BOSCHLOO_DEFAULT_GRID",
    "BOSCHLOO_REFINE_ITERATIONS",
    "BoschlooRejectionRegion",
    "compute_boschloo_pvalues",
    "compute_boschloo_rejection_region",
    "compute_power_boschloo",
]

_DEFINITIONS = ("fisher_ordered", "twice_min_one_sided")


def _check_definition(definition: object) -> BoschlooDefinition:
    if definition not in _DEFINITIONS:
        raise ScoreInputError("definition", definition, "'fisher_ordered' or 'twice_min_one_sided'")
    return definition  # type: ignore[return-value]


@lru_cache(maxsize=128)
def _boschloo_pvalue_matrix(
    n0: int, n1: int, n_grid: int, refine_iterations: int, definition: BoschlooDefinition
) -> FloatArray:
    pvals = boschloo_pvalues(n0, n1, definition=definition, n_grid=n_grid, refine_iterations=refine_iterations)
    pvals.setflags(write=False)
    return pvals


def compute_boschloo_pvalues(
    n_control: int,
    n_treated: int,
    *,
    n_grid: int = BOSCHLOO_DEFAULT_GRID,
    refine_iterations: int = BOSCHLOO_REFINE_ITERATIONS,
    definition: BoschlooDefinition = "fisher_ordered",
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
    definition : {"fisher_ordered", "twice_min_one_sided"}
        Two-sided definition (module notes); the second equals (to the precision of the nuisance search)
        ``scipy.stats.boschloo_exact([[x_control, x_treated], [n_control - x_control,
        n_treated - x_treated]]).pvalue``.

    Returns
    -------
    ndarray of shape (n_control + 1, n_treated + 1)
        ``p[x_control, x_treated]``; read-only.
    """
    n0 = check_n(n_control, "n_control")
    n1 = check_n(n_treated, "n_treated")
    grid = check_n(n_grid, "n_grid")
    iters = int(refine_iterations)
    return _boschloo_pvalue_matrix(n0, n1, grid, iters, _check_definition(definition))


@dataclass(frozen=True, eq=False)
class BoschlooRejectionRegion(RejectionRegion):
    """Two-sided Boschloo test for fixed group sizes: p-values and rejection region (read-only)."""


def compute_boschloo_rejection_region(
    n_control: int, n_treated: int, alpha: float = 0.05, *, definition: BoschlooDefinition = "fisher_ordered"
) -> BoschlooRejectionRegion:
    """Rejection region ``p <= alpha`` of the two-sided Boschloo test (default nuisance grid)."""
    a = check_alpha(alpha)
    pvals = compute_boschloo_pvalues(n_control, n_treated, definition=definition)
    reject = pvals <= a
    reject.setflags(write=False)
    return BoschlooRejectionRegion(pvals.shape[0] - 1, pvals.shape[1] - 1, a, pvals, reject)


def compute_power_boschloo(
    p_control: float,
    p_treated: float,
    n_control: int,
    n_treated: int,
    *,
    alpha: float = 0.05,
    definition: BoschlooDefinition = "fisher_ordered",
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
    definition : {"fisher_ordered", "twice_min_one_sided"}
        Two-sided p-value definition (module notes); the analysis uses the default.

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
    region = compute_boschloo_rejection_region(n_control, n_treated, alpha, definition=_check_definition(definition))
    ordering = (
        "tables ordered by their two-sided Fisher p (R Exact::exact.test(method = 'boschloo'))"
        if definition == "fisher_ordered"
        else "as scipy.stats.boschloo_exact: ordering by one-sided Fisher p, two-sided = min(1, 2 min(one-sided))"
    )
    return region.power(
        p0,
        p1,
        method="boschloo",
        assumptions=(
            "exact enumeration of all tables under independent binomials",
            f"Boschloo p-value: {ordering}; maximum over the common nuisance probability",
            f"nuisance maximum: grid of {BOSCHLOO_DEFAULT_GRID + 1} points on [0,1] plus "
            f"{BOSCHLOO_REFINE_ITERATIONS} golden-section steps per table",
            "reject when p <= alpha",
        ),
    )
