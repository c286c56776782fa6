"""Sample-size search for two independent proportions, side by side across methods.

:func:`find_sample_size` evaluates the power curve of one method over a range of control-group
sizes and reports the smallest size reaching the target and, because exact tests have saw-toothed
power, the smallest size from which the target holds for every size up to ``n_max``.
:func:`explain_published_sample_size` lists candidate assumptions behind a published size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pmrtrial.design._inputs import check_alpha, check_n, check_power, check_probability, check_ratio
from pmrtrial.design._results import (
    PowerCurvePoint,
    PowerResult,
    SampleSizeCandidate,
    SampleSizeExplanation,
    SampleSizeResult,
)
from pmrtrial.design.approximate import (
    compute_n_arcsine,
    compute_n_normal,
    compute_n_normal_cc,
    compute_power_arcsine,
    compute_power_normal,
    compute_power_normal_cc,
)
from pmrtrial.design.boschloo import compute_power_boschloo
from pmrtrial.design.fisher import compute_power_fisher_exact
from pmrtrial.exceptions import EstimationError, ScoreInputError

__all__ = [
    "APPROXIMATE_METHODS",
    "EXACT_METHODS",
    "METHODS",
    "compute_power",
    "compute_power_curve",
    "explain_published_sample_size",
    "find_sample_size",
    "find_sample_size_all",
]

PowerFunction = Callable[..., PowerResult]

_POWER_FUNCTIONS: dict[str, PowerFunction] = {
    "normal": compute_power_normal,
    "normal-cc": compute_power_normal_cc,
    "arcsine": compute_power_arcsine,
    "fisher-exact": compute_power_fisher_exact,
    "boschloo": compute_power_boschloo,
}
_CLOSED_FORMS: dict[str, Callable[..., float]] = {
    "normal": compute_n_normal,
    "normal-cc": compute_n_normal_cc,
    "arcsine": compute_n_arcsine,
}
#: Every method, in display order.
METHODS: tuple[str, ...] = tuple(_POWER_FUNCTIONS)
APPROXIMATE_METHODS: tuple[str, ...] = tuple(_CLOSED_FORMS)
EXACT_METHODS: tuple[str, ...] = ("fisher-exact", "boschloo")


def _check_method(method: Any) -> str:
    if method not in _POWER_FUNCTIONS:
        raise ScoreInputError("method", method, "one of " + ", ".join(METHODS))
    return str(method)


def compute_power(
    p_control: float,
    p_treated: float,
    n_control: int,
    n_treated: int,
    *,
    alpha: float = 0.05,
    method: str = "fisher-exact",
) -> PowerResult:
    """Power by the named method (dispatch to the ``compute_power_*`` function of that method).

    ``method`` is one of :data:`METHODS`: ``normal``, ``normal-cc``, ``arcsine``, ``fisher-exact``,
    ``boschloo``.
    """
    return _POWER_FUNCTIONS[_check_method(method)](p_control, p_treated, n_control, n_treated, alpha=alpha)


def _n_treated(n_control: int, ratio: float) -> int:
    # The small tolerance keeps e.g. 1.1 * 10 = 11.000000000000002 at 11.
    return max(1, math.ceil(ratio * n_control - 1e-9))


def compute_power_curve(
    p_control: float,
    p_treated: float,
    n_values: Sequence[int],
    *,
    alpha: float = 0.05,
    method: str = "fisher-exact",
    ratio: float = 1.0,
) -> tuple[PowerCurvePoint, ...]:
    """Power of one method at every control-group size in ``n_values``.

    ``n_treated = ceil(ratio * n_control)`` at each point.
    """
    name = _check_method(method)
    r = check_ratio(ratio)
    fn = _POWER_FUNCTIONS[name]
    points = []
    for n in n_values:
        n0 = check_n(n, "n_control")
        result = fn(p_control, p_treated, n0, _n_treated(n0, r), alpha=alpha)
        points.append(PowerCurvePoint(result.n_control, result.n_treated, result.power))
    return tuple(points)


def find_sample_size(
    p_control: float,
    p_treated: float,
    *,
    alpha: float = 0.05,
    power: float = 0.9,
    method: str = "fisher-exact",
    ratio: float = 1.0,
    n_min: int | None = None,
    n_max: int | None = None,
) -> SampleSizeResult:
    """Smallest group size reaching a target power, with the power curve.

    Parameters
    ----------
    p_control, p_treated : float
        Response probabilities under the alternative, in (0, 1), different.
    alpha : float
        Two-sided significance level.
    power : float
        Target power, in (0, 1).
    method : str
        One of :data:`METHODS`.
    ratio : float
        Allocation ratio ``n_treated / n_control``; ``n_treated = ceil(ratio * n_control)``.
    n_min, n_max : int, optional
        Range of ``n_control`` scanned. Defaults: ``n_min = 1`` for approximations and
        ``max(1, floor(n_normal / 2))`` for exact tests (``n_normal`` is the uncorrected closed form);
        ``n_max = max(20, ceil(2 n_cc) + 10)`` with ``n_cc`` the Fleiss continuity-corrected size.
        When ``n_min`` already reaches the target, the scan extends downwards until a size fails.

    Returns
    -------
    SampleSizeResult
        ``n_per_group`` (smallest size reaching the target within the scan), ``n_always`` (smallest
        size from which every size up to ``n_max`` reaches it) and the curve.

    Raises
    ------
    ScoreInputError
        For invalid arguments (names the argument and value).
    EstimationError
        When the target is not reached at ``n_max``; increase ``n_max``.
    """
    p0 = check_probability(p_control, "p_control")
    p1 = check_probability(p_treated, "p_treated")
    a = check_alpha(alpha)
    target = check_power(power)
    r = check_ratio(ratio)
    name = _check_method(method)
    n_ref = compute_n_normal(p0, p1, alpha=a, power=target, ratio=r)
    n_cc = compute_n_normal_cc(p0, p1, alpha=a, power=target, ratio=r)
    hi = check_n(n_max, "n_max") if n_max is not None else max(20, math.ceil(2 * n_cc) + 10)
    if n_min is not None:
        lo = check_n(n_min, "n_min")
    else:
        lo = 1 if name in APPROXIMATE_METHODS else max(1, math.floor(n_ref / 2))
    lo = min(lo, hi)
    fn = _POWER_FUNCTIONS[name]

    def at(n: int) -> PowerCurvePoint:
        result = fn(p0, p1, n, _n_treated(n, r), alpha=a)
        return PowerCurvePoint(result.n_control, result.n_treated, result.power)

    curve = [at(n) for n in range(lo, hi + 1)]
    while curve[0].power >= target and curve[0].n_control > 1:
        curve.insert(0, at(curve[0].n_control - 1))
    if curve[-1].power < target:
        raise EstimationError(
            f"Target power {target:g} not reached by method {name!r} at n_max={hi} "
            f"(power {curve[-1].power:.4f}). Suggestion: increase n_max."
        )
    reached = [pt for pt in curve if pt.power >= target]
    first = reached[0]
    always = curve[-1]
    for pt in reversed(curve):
        if pt.power < target:
            break
        always = pt
    example = fn(p0, p1, first.n_control, first.n_treated, alpha=a)
    n_continuous = _CLOSED_FORMS[name](p0, p1, alpha=a, power=target, ratio=r) if name in _CLOSED_FORMS else None
    return SampleSizeResult(
        method=name,
        p_control=p0,
        p_treated=p1,
        alpha=a,
        target_power=target,
        ratio=r,
        n_per_group=first.n_control,
        n_treated=first.n_treated,
        power_at_n=first.power,
        n_always=always.n_control,
        n_continuous=n_continuous,
        n_min=curve[0].n_control,
        n_max=hi,
        curve=tuple(curve),
        assumptions=(*example.assumptions, "n_treated = ceil(ratio * n_control)"),
        warnings=example.warnings,
    )


def find_sample_size_all(
    p_control: float,
    p_treated: float,
    *,
    alpha: float = 0.05,
    power: float = 0.9,
    ratio: float = 1.0,
    n_max: int | None = None,
    methods: Sequence[str] = METHODS,
) -> tuple[SampleSizeResult, ...]:
    """:func:`find_sample_size` for every method in ``methods`` (default: all), in that order."""
    return tuple(
        find_sample_size(p_control, p_treated, alpha=alpha, power=power, method=m, ratio=ratio, n_max=n_max)
        for m in methods
    )


def _power_fisher_doubled(p0: float, p1: float, n: int, alpha: float) -> float:
    """Exact power of Fisher's test with two-sided p = min(1, 2 min(one-sided p)) (equal n)."""
    from scipy.stats import binom, hypergeom

    x0 = np.arange(n + 1)[:, None]
    x1 = np.arange(n + 1)[None, :]
    less = hypergeom.cdf(x0, 2 * n, x0 + x1, n)
    greater = hypergeom.sf(x0 - 1, 2 * n, x0 + x1, n)
    pvals = np.minimum(1.0, 2.0 * np.minimum(less, greater))
    b0 = binom.pmf(np.arange(n + 1), n, p0)
    b1 = binom.pmf(np.arange(n + 1), n, p1)
    return float(b0 @ ((pvals <= alpha).astype(np.float64) @ b1))


def explain_published_sample_size(
    n_published: int,
    p_control: float,
    p_treated: float,
    *,
    alpha: float = 0.05,
    power: float = 0.9,
    dropouts: Sequence[float] = (0.05, 0.10, 0.15, 0.20, 0.25),
    n_max: int | None = None,
) -> SampleSizeExplanation:
    """List assumptions that would (or would not) yield a published per-group sample size.

    Candidates, each with the size it gives: every method without allowance; every method's integer
    size (and, for approximations, its real-valued size) inflated for drop-out as
    ``ceil(n / (1 - d))`` and as ``ceil(n (1 + d))``; the "always holds" size of exact tests; and the
    Fisher test with a doubled one-sided p-value. For each base size, ``details`` also gives the
    range of drop-out rates ``d`` for which ``ceil(n / (1 - d))`` equals the published size.

    The result is labelled an *inference*: a publication rarely states its software or rounding.
    """
    n_pub = check_n(n_published, "n_published")
    p0 = check_probability(p_control, "p_control")
    p1 = check_probability(p_treated, "p_treated")
    a = check_alpha(alpha)
    target = check_power(power)
    results = find_sample_size_all(p0, p1, alpha=a, power=target, n_max=n_max)
    candidates: list[SampleSizeCandidate] = []

    def add(assumption: str, n: int, method: str, dropout: float = 0.0, **details: Any) -> None:
        candidates.append(SampleSizeCandidate(assumption, int(n), method, dropout, int(n) == n_pub, details))

    def dropout_range(base: float) -> list[float] | None:
        # ceil(base / (1 - d)) == n_pub  <=>  n_pub - 1 < base / (1 - d) <= n_pub
        lo_d = 1.0 - base / (n_pub - 1) if n_pub > 1 else 0.0
        hi_d = 1.0 - base / n_pub
        if hi_d < 0:
            return None
        return [max(lo_d, 0.0), hi_d]

    for res in results:
        label = f"{res.method}: smallest n with power >= {target:g}"
        add(label, res.n_per_group, res.method, power_at_n=res.power_at_n)
        bases: list[tuple[str, float]] = [(f"{res.n_per_group}", float(res.n_per_group))]
        if res.n_continuous is not None:
            add(
                f"{res.method}: real-valued size {res.n_continuous:.3f}, rounded to nearest",
                round(res.n_continuous),
                res.method,
                n_continuous=res.n_continuous,
            )
            bases.append((f"{res.n_continuous:.3f}", res.n_continuous))
        else:
            add(
                f"{res.method}: smallest n from which power >= {target:g} for every n up to {res.n_max}",
                res.n_always,
                res.method,
            )
        for text, base in bases:
            for d in dropouts:
                add(
                    f"{res.method}: n = {text} inflated for {d:.0%} drop-out, ceil(n / (1 - d))",
                    math.ceil(base / (1.0 - d) - 1e-9),
                    res.method,
                    d,
                    base=base,
                    dropout_range_for_published=dropout_range(base),
                )
                add(
                    f"{res.method}: n = {text} inflated for {d:.0%} drop-out, ceil(n (1 + d))",
                    math.ceil(base * (1.0 + d) - 1e-9),
                    res.method,
                    d,
                    base=base,
                )
    hi = results[0].n_max
    doubled = [(n, _power_fisher_doubled(p0, p1, n, a)) for n in range(1, hi + 1)]
    n_doubled = next((n for n, pw in doubled if pw >= target), hi)
    add(
        f"fisher-exact with two-sided p = 2 x one-sided p: smallest n with power >= {target:g}",
        n_doubled,
        "fisher-exact-doubled",
        power_at_n=dict(doubled)[n_doubled],
    )
    return SampleSizeExplanation(
        n_published=n_pub,
        p_control=p0,
        p_treated=p1,
        alpha=a,
        target_power=target,
        candidates=tuple(candidates),
        note=(
            "Inference, not a published fact: each candidate is a hypothesis about the unstated "
            "assumption (method, rounding, drop-out allowance) behind the published size."
        ),
    )
