"""A line-by-line port of R's ``zeroin2`` (``src/library/stats/src/zeroin.c``, Brent's root finder).

Used where the R result depends on the exact iteration path, not only on the root: ``wilcox.test``
finds the Hodges-Lehmann estimate and its normal-approximation CI as the "root" of a step function
with ``uniroot(tol = 1e-4)``, so any other root finder lands elsewhere inside the step (up to ~1e-3
relative). Reproducing R's steps reproduces R's number.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

__all__ = ["r_zeroin2"]

_EPSILON = sys.float_info.epsilon


def r_zeroin2(
    f: Callable[[float], float], ax: float, bx: float, fa: float, fb: float, tol: float, maxit: int = 1000
) -> float:
    """Root of ``f`` in ``[ax, bx]`` given ``fa = f(ax)``, ``fb = f(bx)`` of opposite signs, as R ``uniroot``."""
    a, b = ax, bx
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):  # swap so that b is the best approximation
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * _EPSILON * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):  # interpolation may be tried
            cb = c - b
            if a == c:  # linear interpolation
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:  # inverse quadratic interpolation
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b
