"""Exact tests for a two-arm binary outcome (Fisher, Boschloo, Barnard).

All functions take ``events_treated`` first, then keyword-only ``n_treated``, ``events_control``,
``n_control``. The alternative ``"greater"`` means "response more likely on treatment".

Definitions (scipy's, verified against R code written from the definitions, see
``tests/reference/r/two_by_two_reference.R``):

* Fisher: conditional test, two-sided p = sum of the hypergeometric probabilities of the tables no
  more probable than the observed one (same as R ``fisher.test``).
* Boschloo: unconditional test; the p-value is the maximum over the nuisance common response
  probability ``pi`` of the probability of the tables at least as extreme as the observed one. Two-sided
  (default): tables ordered by their two-sided Fisher p-value, as R ``Exact::exact.test(method =
  "boschloo")`` - never above Fisher's p. The scipy definition (2 x the smaller one-sided p, whose
  statistic is the one-sided Fisher p) is kept as ``definition="twice_min_one_sided"``.
* Barnard: unconditional test with the pooled-variance z statistic; two-sided p-value from
  ``|z| >= |z_obs|`` (ties within 1e-12 relative included) maximised over ``pi``. Implemented here
  (grid + bounded Brent refinement) because scipy's ``barnard_exact`` drops floating-point ties.

Boschloo enumerates every table (:mod:`pmrtrial.stats._boschloo`); above ``max_tables`` tables the result
is not available and states the cap.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import optimize, stats

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats._boschloo import (
    BOSCHLOO_DEFAULT_GRID,
    BOSCHLOO_MAX_TABLES,
    BOSCHLOO_REFINE_ITERATIONS,
    BoschlooDefinition,
    boschloo_pvalues,
    fisher_two_sided_statistic,
    one_sided_statistic,
)
from pmrtrial.stats._checks import TwoByTwo, check_two_by_two
from pmrtrial.stats.results import TestResult

__all__ = ["barnard_exact_test", "boschloo_exact_test", "fisher_exact_test"]

_ALTERNATIVES = ("two-sided", "less", "greater")


def _check_alternative(alternative: Any) -> str:
    if alternative not in _ALTERNATIVES:
        raise ScoreInputError("alternative", alternative, "one of 'two-sided', 'less', 'greater'")
    return str(alternative)


def fisher_exact_test(
    events_treated: int,
    *,
    n_treated: int,
    events_control: int,
    n_control: int,
    alternative: str = "two-sided",
) -> TestResult:
    """Fisher's exact test of equal response probabilities in two arms.

    Parameters
    ----------
    events_treated : int
        Responders in the treated arm.
    n_treated : int
        Participants analysed in the treated arm (> 0).
    events_control : int
        Responders in the control arm.
    n_control : int
        Participants analysed in the control arm (> 0).
    alternative : {"two-sided", "less", "greater"}
        ``"greater"``: response more likely on treatment.

    Returns
    -------
    TestResult
        ``statistic`` is the sample odds ratio ``a d / (b c)`` (scipy's; R's ``fisher.test`` reports
        the conditional MLE instead); ``p`` as R ``fisher.test``.

    Raises
    ------
    ScoreInputError
        For invalid counts (naming the field) or alternative.

    Examples
    --------
    >>> round(fisher_exact_test(14, n_treated=18, events_control=2, n_control=15).p, 6)
    0.000361
    """
    t = check_two_by_two(events_treated, n_treated, events_control, n_control)
    alternative = _check_alternative(alternative)
    table = [
        [t.events_treated, t.n_treated - t.events_treated],
        [t.events_control, t.n_control - t.events_control],
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = stats.fisher_exact(table, alternative=alternative)
    return TestResult(
        statistic=float(res.statistic),
        p=float(res.pvalue),
        method="Fisher exact test (scipy.stats.fisher_exact)",
        alternative=alternative,
        n_treated=t.n_treated,
        n_control=t.n_control,
        events_treated=t.events_treated,
        events_control=t.events_control,
        warnings=tuple(str(w.message) for w in caught),
        details={"statistic_name": "sample odds ratio"},
    )


def boschloo_exact_test(
    events_treated: int,
    *,
    n_treated: int,
    events_control: int,
    n_control: int,
    alternative: str = "two-sided",
    definition: BoschlooDefinition = "fisher_ordered",
    max_tables: int | None = BOSCHLOO_MAX_TABLES,
) -> TestResult:
    """Boschloo's unconditional exact test.

    Parameters
    ----------
    events_treated, n_treated, events_control, n_control : int
        Counts, as in :func:`fisher_exact_test`.
    alternative : {"two-sided", "less", "greater"}
        ``"greater"``: response more likely on treatment.
    definition : {"fisher_ordered", "twice_min_one_sided"}
        Two-sided p-value. ``"fisher_ordered"`` (default; R ``Exact::exact.test(method = "boschloo")``):
        tables ordered by their two-sided Fisher p-value, so the p never exceeds Fisher's.
        ``"twice_min_one_sided"``: ``min(1, 2 min(p_less, p_greater))`` as ``scipy.stats.boschloo_exact``.
        One-sided p-values are the same under both.
    max_tables : int or None
        Cap on the ``(n_treated + 1)(n_control + 1)`` tables enumerated (cost grows with their number,
        about 0.3 s at the default 250,000, i.e. 500 per arm). Above it the result is not available and
        says so; None = no cap.

    Returns
    -------
    TestResult
        ``statistic``: the observed table's ordering statistic (two-sided or one-sided Fisher p);
        ``details``: ``definition``, ``statistic_name``, ``n_tables``, ``max_tables``, the nuisance grid.

    Notes
    -----
    Enumeration of every table, maximum over the common response probability on a 1,001-point grid
    refined by golden-section search (:mod:`pmrtrial.stats._boschloo`). Checked against R enumerations
    (``tests/reference/r/two_by_two_reference.R``) for both definitions and against a brute-force
    enumeration in the tests.

    References
    ----------
    Boschloo RD. Raised conditional level of significance for the 2 x 2-table when testing the
    equality of two probabilities. Statistica Neerlandica 1970;24:1-9.

    Examples
    --------
    >>> round(boschloo_exact_test(14, n_treated=18, events_control=2, n_control=15).p, 9)
    0.000183817
    """
    t = check_two_by_two(events_treated, n_treated, events_control, n_control)
    alternative = _check_alternative(alternative)
    if definition not in ("fisher_ordered", "twice_min_one_sided"):
        raise ScoreInputError("definition", definition, "'fisher_ordered' or 'twice_min_one_sided'")
    if max_tables is not None and (isinstance(max_tables, bool) or not isinstance(max_tables, int) or max_tables < 1):
        raise ScoreInputError("max_tables", max_tables, "an integer >= 1 or None")
    n_tables = (t.n_treated + 1) * (t.n_control + 1)
    if alternative == "two-sided":
        name = "two-sided Fisher p-value" if definition == "fisher_ordered" else "one-sided Fisher p-values"
        text = (
            "Boschloo exact test, tables ordered by two-sided Fisher p (R Exact::exact.test)"
            if definition == "fisher_ordered"
            else "Boschloo exact test, two-sided = 2 x smaller one-sided p (scipy.stats.boschloo_exact)"
        )
    else:
        name, text = "one-sided Fisher p-value", "Boschloo exact test, one-sided"
    details: dict[str, Any] = {
        "definition": definition,
        "statistic_name": name,
        "n_tables": n_tables,
        "max_tables": max_tables,
        "nuisance_grid": BOSCHLOO_DEFAULT_GRID + 1,
        "refine_iterations": BOSCHLOO_REFINE_ITERATIONS,
    }
    if max_tables is not None and n_tables > max_tables:
        reason = f"not computed: {n_tables:,} tables exceed the enumeration cap of {max_tables:,}"
        return TestResult(
            statistic=float("nan"), p=float("nan"), method=text, alternative=alternative, n_treated=t.n_treated,
            n_control=t.n_control, events_treated=t.events_treated, events_control=t.events_control,
            details=details, available=False, reason=reason,
        )  # fmt: skip
    # Engine orientation: group 0 = control, group 1 = treated. "greater" (treated better) is the
    # engine's one-sided "greater" statistic P(X1 <= x1 | t) reversed: use scipy's column convention.
    obs = (np.array([t.events_control]), np.array([t.events_treated]))
    engine_alt = {"two-sided": "two-sided", "greater": "less", "less": "greater"}[alternative]
    p = float(boschloo_pvalues(t.n_control, t.n_treated, alternative=engine_alt, definition=definition, tables=obs)[0])  # type: ignore[arg-type]
    if alternative == "two-sided" and definition == "fisher_ordered":
        stat = float(fisher_two_sided_statistic(t.n_control, t.n_treated)[t.events_control, t.events_treated])
    elif alternative == "two-sided":
        stat = float("nan")
    else:
        stat = float(one_sided_statistic(t.n_control, t.n_treated, engine_alt)[t.events_control, t.events_treated])  # type: ignore[arg-type]
    return TestResult(
        statistic=stat, p=p, method=text, alternative=alternative, n_treated=t.n_treated, n_control=t.n_control,
        events_treated=t.events_treated, events_control=t.events_control, details=details,
    )  # fmt: skip


def _max_over_nuisance(region: np.ndarray[Any, np.dtype[np.float64]], t: TwoByTwo, grid_points: int) -> float:
    """max over pi of sum_{(x1, x2) in region} Bin(x1; n_t, pi) Bin(x2; n_c, pi)."""
    x1 = np.arange(t.n_treated + 1)
    x2 = np.arange(t.n_control + 1)

    def prob(pi: float) -> float:
        return float(stats.binom.pmf(x1, t.n_treated, pi) @ region @ stats.binom.pmf(x2, t.n_control, pi))

    grid = np.linspace(0.0, 1.0, grid_points)
    b1 = stats.binom.pmf(x1[:, None], t.n_treated, grid[None, :])
    b2 = stats.binom.pmf(x2[:, None], t.n_control, grid[None, :])
    values = np.einsum("ig,ij,jg->g", b1, region, b2)
    best = float(values.max())
    for i in np.argsort(values)[-5:]:
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid_points - 1)]
        res = optimize.minimize_scalar(
            lambda pi: -prob(pi), bounds=(lo, hi), method="bounded", options={"xatol": 1e-12}
        )
        best = max(best, -float(res.fun))
    return min(best, 1.0)


def barnard_exact_test(
    events_treated: int,
    *,
    n_treated: int,
    events_control: int,
    n_control: int,
    alternative: str = "two-sided",
    grid_points: int = 1001,
) -> TestResult:
    """Barnard's unconditional exact test with the pooled-variance z statistic.

    Parameters
    ----------
    events_treated, n_treated, events_control, n_control : int
        Counts, as in :func:`fisher_exact_test`.
    alternative : {"two-sided", "less", "greater"}
        ``"greater"``: response more likely on treatment.
    grid_points : int
        Points of the grid over the nuisance probability; the best 5 are refined by bounded Brent
        minimisation (``xatol`` 1e-12).

    Returns
    -------
    TestResult
        ``statistic`` is the pooled z ``(p_t - p_c) / sqrt(p(1-p)(1/n_t + 1/n_c))`` (0 when
        ``p_t = p_c``).

    Notes
    -----
    Implemented here rather than by ``scipy.stats.barnard_exact`` because scipy (1.17) compares
    ``|z| >= |z_obs|`` without tolerance: tables whose ``|z|`` equals the observed one mathematically
    but is one ulp smaller in floating point are dropped from the rejection region (15/18 vs 10/15 gives
    0.3134 instead of 0.3493). Here ties within a relative 1e-12 count as "at least as extreme".
    Verified against an R enumeration (``tests/reference/r/two_by_two_reference.R``).

    References
    ----------
    Barnard GA. Significance tests for 2 x 2 tables. Biometrika 1947;34:123-38.
    """
    t = check_two_by_two(events_treated, n_treated, events_control, n_control)
    alternative = _check_alternative(alternative)
    if isinstance(grid_points, bool) or not isinstance(grid_points, int) or grid_points < 3:
        raise ScoreInputError("grid_points", grid_points, "an integer >= 3")
    x1 = np.arange(t.n_treated + 1)[:, None]
    x2 = np.arange(t.n_control + 1)[None, :]
    p1, p2 = x1 / t.n_treated, x2 / t.n_control
    pooled = (x1 + x2) / (t.n_treated + t.n_control)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / t.n_treated + 1 / t.n_control))
    z[np.broadcast_to(p1 == p2, z.shape)] = 0.0
    z_obs = float(z[t.events_treated, t.events_control])
    slack = 1e-12 * max(1.0, abs(z_obs))
    if alternative == "two-sided":
        region = np.abs(z) >= abs(z_obs) - slack
    elif alternative == "greater":
        region = z >= z_obs - slack
    else:
        region = z <= z_obs + slack
    p = _max_over_nuisance(region.astype(np.float64), t, grid_points)
    return TestResult(
        statistic=z_obs,
        p=p,
        method="Barnard exact test, pooled z (enumeration, ties within 1e-12 included)",
        alternative=alternative,
        n_treated=t.n_treated,
        n_control=t.n_control,
        events_treated=t.events_treated,
        events_control=t.events_control,
        details={"statistic_name": "pooled z", "grid_points": grid_points},
    )
