"""The Brent root finder of pmrtrial.stats._brentq against scipy.optimize.brentq (the reference it ports)."""

from __future__ import annotations

import math

import pytest
from scipy import optimize, special

from pmrtrial.stats._brentq import brentq


def _functions() -> list[tuple[str, object, float, float]]:
    """Smooth, steep, flat-near-the-root and step-like functions on brackets like those of the statistics."""
    out: list[tuple[str, object, float, float]] = []
    for c in (-3.7, -0.2, 0.0, 0.9, 2.5):
        out.append((f"cubic {c}", lambda x, c=c: x**3 - c, -10.0, 10.0))
        out.append((f"atan {c}", lambda x, c=c: math.atan(x - c) + 0.1 * (x - c) ** 3, -10.0, 10.0))
        out.append((f"root-like {c}", lambda x, c=c: math.copysign(abs(x - c) ** 0.3, x - c) + 1e-3 * x, -8.0, 8.0))
    for a, b, q in ((0.5, 0.5, 0.025), (14.5, 4.5, 0.5), (2.5, 13.5, 0.975), (400.5, 100.5, 0.3)):
        out.append(
            (
                f"beta cdf {a},{b},{q}",
                lambda u, a=a, b=b, q=q: float(special.betainc(a, b, special.expit(u))) - q,
                -20.0,
                20.0,
            )
        )
    return out


@pytest.mark.parametrize(("name", "f", "lo", "hi"), _functions(), ids=[f[0] for f in _functions()])
@pytest.mark.parametrize(("xtol", "rtol"), [(2e-12, 4 * 2.220446049250313e-16), (1e-13, 1e-14), (1e-14, 1e-15)])
def test_same_root_iterations_and_calls_as_scipy(name, f, lo, hi, xtol, rtol) -> None:
    # Reference: scipy.optimize.brentq(full_output=True) on the same function, bracket and tolerances.
    root, info = optimize.brentq(f, lo, hi, xtol=xtol, rtol=rtol, maxiter=500, full_output=True)
    ours = brentq(f, lo, hi, xtol=xtol, rtol=rtol, maxiter=500)
    assert ours.root == root  # bit for bit: the same operations in the same order
    assert (ours.iterations, ours.function_calls, ours.converged) == (
        info.iterations,
        info.function_calls,
        info.converged,
    )


def test_exact_zero_at_an_end_is_returned() -> None:
    assert brentq(lambda x: x - 1.0, 1.0, 3.0).root == 1.0
    assert brentq(lambda x: x - 3.0, 1.0, 3.0).root == 3.0


def test_iteration_cap_is_reported_not_raised() -> None:
    # Hand check: a bracket of 2^20 with a tolerance of 1e-12 needs more than 3 bisections.
    found = brentq(lambda x: math.copysign(1.0, x - 0.123), -(2.0**20), 2.0**20, maxiter=3)
    assert not found.converged
    assert found.iterations == 3


@pytest.mark.parametrize(
    ("f", "kwargs", "message"),
    [
        (lambda x: x * x + 1.0, {}, "different signs"),
        (lambda x: math.nan if x > 0 else -1.0, {}, "NaN at x"),
        (lambda x: x, {"xtol": 0.0}, "xtol must be > 0"),
        (lambda x: x, {"rtol": 1e-17}, "rtol must be >="),
    ],
)
def test_bad_input_names_the_problem(f, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        brentq(f, -1.0, 1.0, **kwargs)

