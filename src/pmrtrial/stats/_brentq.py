"""Brent's root finder, step for step as ``scipy.optimize.brentq`` takes it (C. Harris, ``Zeros/brentq.c``).

The statistics need only this one root finder; importing ``scipy.optimize`` for it costs about 0.1 s of CPU (it
loads ``scipy.linalg`` and ``scipy.sparse``), more than every root search of a report. The iteration is the same
sequence of floating-point operations as scipy's C code (inverse quadratic extrapolation, secant interpolation
or bisection; a step never shorter than the tolerance), so the roots are the same to the last bit
(``tests/unit/stats/test_brentq.py`` compares both on the intervals the statistics use).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["BrentResult", "brentq"]

_EPS = 2.220446049250313e-16


class BrentResult(NamedTuple):
    root: float
    converged: bool
    iterations: int
    function_calls: int


def brentq(
    f: Callable[[float], float], a: float, b: float, *, xtol: float = 2e-12, rtol: float = 4 * _EPS, maxiter: int = 100
) -> BrentResult:
    """A root of ``f`` in ``[a, b]``, where ``f(a)`` and ``f(b)`` have opposite signs.

    Stops when the bracket is shorter than ``xtol + rtol * |x|`` (or ``f(x) == 0``); ``converged`` is False after
    ``maxiter`` iterations without that. Raises ValueError when the signs at the ends agree or ``f`` returns NaN.

    >>> round(brentq(lambda x: x * x - 2.0, 0.0, 2.0).root, 12)
    1.414213562373
    """
    if not xtol > 0.0:
        raise ValueError(f"xtol must be > 0, got {xtol}")
    if not rtol >= 4 * _EPS:
        raise ValueError(f"rtol must be >= {4 * _EPS}, got {rtol}")

    def call(x: float) -> float:
        y = float(f(x))
        if math.isnan(y):
            raise ValueError(f"the function is NaN at x = {x!r}")
        return y

    xpre, xcur = float(a), float(b)
    fpre, fcur = call(xpre), call(xcur)
    calls = 2
    if fpre * fcur > 0:
        raise ValueError("f(a) and f(b) must have different signs")
    if fpre == 0:
        return BrentResult(xpre, True, 0, calls)
    if fcur == 0:
        return BrentResult(xcur, True, 0, calls)
    xblk = fblk = spre = scur = 0.0
    for iteration in range(1, maxiter + 1):
        if fpre * fcur < 0:  # the root lies between the last two estimates: the contrapoint is the previous one
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):  # keep the best estimate in xcur
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return BrentResult(xcur, True, iteration, calls)
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # secant through the two ends of the bracket
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:  # inverse quadratic through the three points
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):
                spre, scur = scur, stry
            else:
                spre = scur = sbis
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = call(xcur)
        calls += 1
    return BrentResult(xcur, False, maxiter, calls)
