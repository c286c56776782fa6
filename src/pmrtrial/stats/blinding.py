"""Blinding assessment: Bang's index per arm and James' index, from the end-of-study guesses.

Input: a 2 x 3 table, rows = actual arm (treated, control), columns = guess (``active``, ``control``,
``dont_know``); :func:`blinding_table` builds it from per-participant arms and guesses.

**Bang's index** (Bang, Ni & Davis, Control Clin Trials 2004;25:143-156), per arm, with ``C``/``I``/``D``
the correct, incorrect and don't-know answers among the arm's ``n`` respondents::

    BI = (2 C / (C + I) - 1) * (C + I) / n  =  (C - I) / n
    Var(BI) = [pC (1 - pC) + pI (1 - pI) + 2 pC pI] / n,   pC = C / n, pI = I / n

(the multinomial variance of pC - pI), Wald limits ``BI -+ z SE``. 0 = random guessing, 1 = all correct,
-1 = all wrong (opposite guessing); |BI| <= 0.2 is commonly read as blinding maintained.

**James' index** (James, Bloch, Lee, Kraemer & Fuller, Stat Med 1996;15:1421-1434), one for the trial.
With ``P[g, a]`` the proportion of all N respondents guessing g (active/control) in arm a, ``P_DK`` the
proportion answering don't know, ``r[g] = sum_a P[g, a]``, ``c[a] = sum_g P[g, a]`` and disagreement
weights ``W[g, a] = 0`` when g is a's own label and 0.5 otherwise::

    E   = sum_{g,a} W[g,a] r[g] c[a]
    Po  = sum W P / (1 - P_DK),   Pe = E / (1 - P_DK)^2,   kappa = (Po - Pe) / Pe
    BI  = (1 + P_DK + (1 - P_DK) kappa) / 2
    Var = (V1 + V2) / N,
    V1  = sum_{g,a} P[g,a] (1 - P_DK)^2 [(1 - P_DK) W[g,a] - (1 + kappa) (sum_k W[k,a] r[k] + sum_k W[g,k] c[k])]^2
          / (4 E^2)
    V2  = P_DK (1 - P_DK) - (1 - P_DK) (1 + kappa) (P_DK + (1 - P_DK) (1 + kappa) / 4)

0 = complete unblinding, 1 = complete blinding, 0.5 = random guessing; unblinding is suggested when the
upper limit is below 0.5. When every respondent answered don't know the index is 1 with SE 0 (James 1996,
p. 1425). The variance is the delta-method variance of BI under the multinomial; the tests check it against
a numerical delta method and a published example (Houweling et al., Clin Trials 2014;11:547).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as sps

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats._checks import check_conf_level
from pmrtrial.stats.results import BangBlindingResult, BlindingArm, EstimateResult

__all__ = ["GUESSES", "bang_blinding_index", "blinding_table", "james_blinding_index"]

GUESSES = ("active", "control", "dont_know")


def blinding_table(arm: Any, guess: Any, *, arms: Sequence[Any] = ("treated", "control")) -> np.ndarray[Any, Any]:
    """Count guesses into the 2 x 3 table (rows ``arms`` = treated, control; columns :data:`GUESSES`).

    Participants with a missing arm or guess (None/NaN) are not counted; any other value raises.
    """
    arm_list, guess_list = list(arm), list(guess)
    if len(arm_list) != len(guess_list):
        raise ScoreInputError("guess", f"length {len(guess_list)}", f"length {len(arm_list)} (as arm)")
    if len(arms) != 2:
        raise ScoreInputError("arms", arms, "two labels (treated, control)")
    table = np.zeros((2, 3), dtype=np.int64)
    for i, (a, g) in enumerate(zip(arm_list, guess_list, strict=True)):
        if (
            a is None
            or g is None
            or (isinstance(a, float) and math.isnan(a))
            or (isinstance(g, float) and math.isnan(g))
        ):
            continue
        if a not in arms:
            raise ScoreInputError(f"arm[{i}]", a, f"one of {list(arms)!r}")
        if g not in GUESSES:
            raise ScoreInputError(f"guess[{i}]", g, f"one of {list(GUESSES)!r}")
        table[list(arms).index(a), GUESSES.index(g)] += 1
    return table


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _check_table(table: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    arr = np.asarray(table, dtype=object)
    if arr.shape != (2, 3):
        raise ScoreInputError(
            "table", f"shape {arr.shape}", "a 2 x 3 table (arms treated, control x guesses active, control, dont_know)"
        )
    out = np.zeros((2, 3))
    for (i, j), v in np.ndenumerate(arr):
        if (
            isinstance(v, bool)
            or not isinstance(v, int | float | np.integer | np.floating)
            or v < 0
            or v != math.floor(v)
        ):
            raise ScoreInputError(f"table[{i}][{j}]", v, "a count (integer >= 0)")
        out[i, j] = float(v)
    return out


def bang_blinding_index(
    table: Any, *, conf_level: float = 0.95, arm_names: Sequence[str] = ("treated", "control")
) -> BangBlindingResult:
    """Bang's blinding index for each arm, with Wald CI (formulas in the module docstring).

    Parameters
    ----------
    table : 2 x 3 array-like of counts
        Rows = actual arm (treated, control); columns = guess (active, control, dont_know).
    conf_level : float
        Level of the two-sided intervals.
    arm_names : (str, str)
        Labels of the two rows in the result.

    Examples
    --------
    >>> res = bang_blinding_index([[10, 2, 8], [4, 6, 10]])
    >>> res.arm("treated").estimate, res.arm("control").estimate  # (10 - 2) / 20, (6 - 4) / 20
    (0.4, 0.1)
    """
    level = check_conf_level(conf_level)
    t = _check_table(table)
    z = float(sps.norm.isf((1 - level) / 2))
    entries = []
    for row, name in enumerate(arm_names):
        own, other = (0, 1) if row == 0 else (1, 0)
        correct, incorrect, dk = int(t[row, own]), int(t[row, other]), int(t[row, 2])
        n = correct + incorrect + dk
        nan = math.nan
        if n == 0 or correct + incorrect == 0:
            reason = "no respondent in the arm" if n == 0 else "every respondent answered don't know (0/0)"
            entries.append(BlindingArm(name, n, correct, incorrect, dk, nan, nan, nan, nan, False, reason))
            continue
        pc, pi = correct / n, incorrect / n
        estimate = (correct - incorrect) / n  # = (2 C / (C + I) - 1) (C + I) / n
        se = math.sqrt((pc * (1 - pc) + pi * (1 - pi) + 2 * pc * pi) / n)
        entries.append(BlindingArm(name, n, correct, incorrect, dk, estimate, se, estimate - z * se, estimate + z * se))
    available = any(e.available for e in entries)
    return BangBlindingResult(
        arms=tuple(entries),
        conf_level=level,
        method="Bang's blinding index (Bang, Ni & Davis 2004), 2 x 3 format, Wald CI",
        available=available,
        reason=None if available else "no arm has a respondent who guessed",
    )


def james_blinding_index(table: Any, *, conf_level: float = 0.95) -> EstimateResult:
    """James' blinding index for the trial, with Wald CI (formulas in the module docstring).

    Returns
    -------
    EstimateResult
        ``estimand="james_blinding_index"``, ``p`` None; ``details``: ``se``, ``kappa``, ``p_dont_know``.
        Not available when there is no respondent or the chance-disagreement term is 0.

    Examples
    --------
    >>> res = james_blinding_index([[0, 0, 5], [0, 0, 4]])  # everyone answered don't know
    >>> res.estimate, res.details["se"]
    (1.0, 0.0)
    """
    level = check_conf_level(conf_level)
    t = _check_table(table)
    n_treated, n_control = int(t[0].sum()), int(t[1].sum())
    total = float(t.sum())
    method = "James' blinding index (James et al. 1996), disagreement weights 0 / 0.5 / 1 (don't know), Wald CI"
    z = float(sps.norm.isf((1 - level) / 2))

    def result(estimate: float, se: float, reason: str | None = None, **details: float) -> EstimateResult:
        return EstimateResult(
            estimand="james_blinding_index", estimate=estimate, lo=estimate - z * se, hi=estimate + z * se,
            conf_level=level, p=None, method=method, n_treated=n_treated, n_control=n_control,
            details={"se": se, **details}, available=reason is None, reason=reason,
        )  # fmt: skip

    if total == 0:
        return result(math.nan, math.nan, "no respondent")
    guesses = t[:, :2].T / total  # P[g, a]: rows guess (active, control), columns arm (treated, control)
    p_dk = float(t[:, 2].sum()) / total
    if p_dk == 1.0:
        return result(1.0, 0.0, kappa=math.nan, p_dont_know=1.0)
    weights = np.array([[0.0, 0.5], [0.5, 0.0]])
    r = guesses.sum(axis=1)
    c = guesses.sum(axis=0)
    expected = float(r @ weights @ c)
    if expected == 0:
        return result(math.nan, math.nan, "chance disagreement is 0 (all guesses name one arm): kappa undefined")
    q = 1 - p_dk
    observed = float((weights * guesses).sum()) / q
    kappa = (observed - expected / q**2) / (expected / q**2)
    estimate = (1 + p_dk + q * kappa) / 2
    inner = (weights.T @ r)[None, :] + (weights @ c)[:, None]
    v1 = float((guesses * q**2 * (q * weights - (1 + kappa) * inner) ** 2).sum()) / (4 * expected**2)
    v2 = p_dk * q - q * (1 + kappa) * (p_dk + q * (1 + kappa) / 4)
    se = math.sqrt(max((v1 + v2) / total, 0.0))
    return result(estimate, se, kappa=kappa, p_dont_know=p_dk)
