"""Blinding indices: published example, hand arithmetic and an independent delta-method variance.

No R package for these is in Debian, so:

* Houweling et al., Clin Trials 2014;11:547-552, Table 2 (investigators): guesses active 48 / 22,
  control 4 / 30, don't know 330 / 319 (treated / control arm). The values printed for this example
  (3 decimals) by the BlindingIndex.jl README (a port of R package BI): James 0.896, SE 0.011,
  CI 0.875-0.918; Bang treated 0.115 (SE 0.018, 0.08-0.15), placebo 0.022 (SE 0.019, -0.016-0.06).
* Bang's index by hand: (correct - incorrect) / n, multinomial variance of pC - pI.
* James' variance against the delta method computed numerically (finite differences of the index as a
  function of the six cell probabilities, multinomial covariance) - a separate code path from the
  closed form of James et al. 1996.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats import bang_blinding_index, blinding_table, james_blinding_index

HOUWELING = [[48, 4, 330], [22, 30, 319]]  # rows treated, control; columns active, control, dont_know


def test_houweling_2014_investigators_as_published() -> None:
    james = james_blinding_index(HOUWELING)
    assert round(james.estimate, 3) == 0.896 and round(james.details["se"], 3) == 0.011
    assert (round(james.lo, 3), round(james.hi, 3)) == (0.875, 0.918)
    bang = bang_blinding_index(HOUWELING)
    t, c = bang.arm("treated"), bang.arm("control")
    assert (round(t.estimate, 3), round(t.se, 3), round(t.lo, 2), round(t.hi, 2)) == (0.115, 0.018, 0.08, 0.15)
    assert (round(c.estimate, 3), round(c.se, 3), round(c.lo, 3), round(c.hi, 2)) == (0.022, 0.019, -0.016, 0.06)


def test_bang_by_hand() -> None:
    # treated arm: 48 correct, 4 incorrect, 330 don't know, n = 382: BI = 44/382;
    # var = (pC(1-pC) + pI(1-pI) + 2 pC pI) / n with pC = 48/382, pI = 4/382.
    arm = bang_blinding_index(HOUWELING).arm("treated")
    pc, pi = 48 / 382, 4 / 382
    assert arm.estimate == pytest.approx(44 / 382, rel=1e-14)
    assert arm.se == pytest.approx(math.sqrt((pc * (1 - pc) + pi * (1 - pi) + 2 * pc * pi) / 382), rel=1e-14)
    assert (arm.correct, arm.incorrect, arm.dont_know, arm.n) == (48, 4, 330, 382)


def _james_index(p: np.ndarray) -> float:
    """James' index from the six cell probabilities, written afresh from the 1996 definitions."""
    p = p.reshape(2, 3)  # rows arms, columns guesses
    dk = p[:, 2].sum()
    correct = p[0, 0] + p[1, 1]
    incorrect = p[0, 1] + p[1, 0]
    guessed_active, guessed_control = p[0, 0] + p[1, 0], p[0, 1] + p[1, 1]
    guessers_treated, guessers_control = p[0, 0] + p[0, 1], p[1, 0] + p[1, 1]
    chance_incorrect = 0.5 * (guessed_active * guessers_control + guessed_control * guessers_treated)
    observed = 0.5 * incorrect / (1 - dk)
    expected = chance_incorrect / (1 - dk) ** 2
    kappa = observed / expected - 1
    assert correct >= 0
    return float((1 + dk + (1 - dk) * kappa) / 2)


@pytest.mark.parametrize("table", [HOUWELING, [[82, 25, 170], [27, 29, 83]], [[12, 3, 5], [6, 9, 4]]])
def test_james_variance_equals_the_numerical_delta_method(table: list[list[int]]) -> None:
    counts = np.asarray(table, dtype=float).ravel()
    n = counts.sum()
    p = counts / n
    res = james_blinding_index(table)
    assert res.estimate == pytest.approx(_james_index(p), rel=1e-12)
    grad = np.zeros(6)
    h = 1e-6
    for k in range(6):
        up, down = p.copy(), p.copy()
        up[k] += h
        down[k] -= h
        grad[k] = (_james_index(up) - _james_index(down)) / (2 * h)
    delta_var = float(grad @ (np.diag(p) - np.outer(p, p)) @ grad) / n
    assert res.details["se"] == pytest.approx(math.sqrt(delta_var), rel=1e-6)


def test_everyone_dont_know() -> None:
    james = james_blinding_index([[0, 0, 7], [0, 0, 5]])
    assert (james.estimate, james.details["se"], james.lo, james.hi) == (1.0, 0.0, 1.0, 1.0)
    bang = bang_blinding_index([[0, 0, 7], [3, 1, 5]])
    assert not bang.arm("treated").available and "don't know" in (bang.arm("treated").reason or "")
    # control arm: 1 guessed control (correct), 3 guessed active (incorrect), 5 don't know: (1 - 3) / 9.
    assert bang.arm("control").estimate == pytest.approx(-2 / 9)


def test_empty_table_and_empty_arm() -> None:
    assert not james_blinding_index([[0, 0, 0], [0, 0, 0]]).available
    bang = bang_blinding_index([[0, 0, 0], [3, 1, 5]])
    assert (
        bang.available
        and not bang.arm("treated").available
        and bang.arm("treated").reason == "no respondent in the arm"
    )


def test_blinding_table_counts_and_rejects_unknown_guesses() -> None:
    table = blinding_table(
        ["treated", "treated", "control", "control", None], ["active", "dont_know", "active", "control", "active"]
    )
    assert table.tolist() == [[1, 0, 1], [1, 1, 0]]
    with pytest.raises(ScoreInputError, match="guess"):
        blinding_table(["treated"], ["placebo"])
    with pytest.raises(ScoreInputError, match="table"):
        bang_blinding_index([[1, 2], [3, 4]])
    with pytest.raises(ScoreInputError, match=r"table\[0\]\[1\]"):
        james_blinding_index([[1, -2, 0], [3, 4, 0]])
