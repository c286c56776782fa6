r"""Normal-approximation power and sample size for two independent proportions.

Three closed forms, one per function:

* :func:`compute_power_normal` — pooled variance under H0, no continuity correction;
* :func:`compute_power_normal_cc` — the same with Fleiss' continuity correction;
* :func:`compute_power_arcsine` — Cohen's effect size :math:`h` (variance-stabilising arcsine).

Notation: :math:`p_0` (control), :math:`p_1` (treated), :math:`n_0, n_1`, :math:`r = n_1/n_0`,
:math:`\Delta = |p_1 - p_0|`, :math:`z = \Phi^{-1}(1-\alpha/2)`,
:math:`\bar p = (n_0 p_0 + n_1 p_1)/(n_0 + n_1)`, :math:`\bar q = 1 - \bar p`,
:math:`\sigma_0 = \sqrt{\bar p \bar q (1/n_0 + 1/n_1)}` (H0),
:math:`\sigma_1 = \sqrt{p_0 q_0/n_0 + p_1 q_1/n_1}` (H1).

``strict=False`` (default) counts only the rejection tail in the direction of the true difference,
as textbooks and R ``power.prop.test`` do by default; the closed-form sample sizes invert exactly
this one-tail power. ``strict=True`` adds the probability of rejecting in the wrong direction
(R ``power.prop.test(strict = TRUE)``; ``pwr::pwr.2p2n.test`` always does this).
"""

from __future__ import annotations

import math

from scipy.special import ndtr, ndtri

from pmrtrial.design._inputs import check_alpha, check_n, check_power, check_probability, check_ratio
from pmrtrial.design._results import PowerResult
from pmrtrial.exceptions import ScoreInputError

__all__ = [
    "compute_n_arcsine",
    "compute_n_normal",
    "compute_n_normal_cc",
    "compute_power_arcsine",
    "compute_power_normal",
    "compute_power_normal_cc",
]

_TAIL_NOTE = {
    False: "one tail: rejection in the direction opposite to the true difference is ignored",
    True: "both tails: rejection in either direction counts (strict)",
}


def _checked(
    p_control: float, p_treated: float, n_control: int, n_treated: int, alpha: float
) -> tuple[float, float, int, int, float]:
    return (
        check_probability(p_control, "p_control"),
        check_probability(p_treated, "p_treated"),
        check_n(n_control, "n_control"),
        check_n(n_treated, "n_treated"),
        check_alpha(alpha),
    )


def _pooled_sigmas(p0: float, p1: float, n0: int, n1: int) -> tuple[float, float]:
    pbar = (n0 * p0 + n1 * p1) / (n0 + n1)
    sigma0 = math.sqrt(pbar * (1.0 - pbar) * (1.0 / n0 + 1.0 / n1))
    sigma1 = math.sqrt(p0 * (1.0 - p0) / n0 + p1 * (1.0 - p1) / n1)
    return sigma0, sigma1


def compute_power_normal(
    p_control: float,
    p_treated: float,
    n_control: int,
    n_treated: int,
    *,
    alpha: float = 0.05,
    strict: bool = False,
) -> PowerResult:
    r"""Power of the two-sided z-test with pooled variance under H0, no continuity correction.

    Parameters
    ----------
    p_control, p_treated : float
        Response probabilities under the alternative, in (0, 1).
    n_control, n_treated : int
        Group sizes (>= 1); unequal allocation is allowed.
    alpha : float
        Two-sided significance level.
    strict : bool
        Also count rejection in the wrong direction (see module notes).

    Returns
    -------
    PowerResult

    Notes
    -----
    .. math:: 1-\beta = \Phi\left(\frac{\Delta - z\sigma_0}{\sigma_1}\right)
              \;[+\;\Phi\left(\frac{-\Delta - z\sigma_0}{\sigma_1}\right)\text{ if strict}]

    For :math:`n_0 = n_1` this is what R ``power.prop.test`` computes.

    References
    ----------
    Fleiss JL, Levin B, Paik MC. Statistical Methods for Rates and Proportions, 3rd ed., 2003, §4.2.
    """
    p0, p1, n0, n1, a = _checked(p_control, p_treated, n_control, n_treated, alpha)
    sigma0, sigma1 = _pooled_sigmas(p0, p1, n0, n1)
    z = float(-ndtri(a / 2.0))
    delta = abs(p1 - p0)
    power = float(ndtr((delta - z * sigma0) / sigma1))
    if strict:
        power += float(ndtr((-delta - z * sigma0) / sigma1))
    return PowerResult(
        method="normal",
        power=power,
        p_control=p0,
        p_treated=p1,
        n_control=n0,
        n_treated=n1,
        alpha=a,
        assumptions=(
            "normal approximation to the difference in proportions",
            "variance under H0 from the pooled proportion (n-weighted mean of p_control, p_treated)",
            "no continuity correction",
            _TAIL_NOTE[strict],
        ),
    )


def compute_power_normal_cc(
    p_control: float,
    p_treated: float,
    n_control: int,
    n_treated: int,
    *,
    alpha: float = 0.05,
    strict: bool = False,
) -> PowerResult:
    r"""Power of the two-sided pooled z-test with Fleiss' continuity correction.

    Parameters are those of :func:`compute_power_normal`.

    Notes
    -----
    The corrected test rejects when :math:`|\hat p_1-\hat p_0| - c > z\sigma_0` with
    :math:`c = \tfrac12(1/n_0 + 1/n_1)`, so

    .. math:: 1-\beta = \Phi\left(\frac{\Delta - c - z\sigma_0}{\sigma_1}\right)
              \;[+\;\Phi\left(\frac{-\Delta - c - z\sigma_0}{\sigma_1}\right)\text{ if strict}].

    Solving the non-strict form for :math:`n_0` gives exactly the Fleiss–Tytun–Ury sample size
    :math:`n' = \tfrac{n}{4}\left(1+\sqrt{1 + \tfrac{2(r+1)}{n r \Delta}}\right)^2`
    (:func:`compute_n_normal_cc`).

    References
    ----------
    Fleiss JL, Tytun A, Ury HK. A simple approximation for calculating sample sizes for comparing
    independent proportions. Biometrics 1980;36:343-346.
    """
    p0, p1, n0, n1, a = _checked(p_control, p_treated, n_control, n_treated, alpha)
    sigma0, sigma1 = _pooled_sigmas(p0, p1, n0, n1)
    z = float(-ndtri(a / 2.0))
    delta = abs(p1 - p0)
    c = 0.5 * (1.0 / n0 + 1.0 / n1)
    power = float(ndtr((delta - c - z * sigma0) / sigma1))
    if strict:
        power += float(ndtr((-delta - c - z * sigma0) / sigma1))
    return PowerResult(
        method="normal-cc",
        power=power,
        p_control=p0,
        p_treated=p1,
        n_control=n0,
        n_treated=n1,
        alpha=a,
        assumptions=(
            "normal approximation to the difference in proportions",
            "variance under H0 from the pooled proportion (n-weighted mean of p_control, p_treated)",
            "Fleiss continuity correction 1/2 (1/n_control + 1/n_treated)",
            _TAIL_NOTE[strict],
        ),
    )


def compute_power_arcsine(
    p_control: float,
    p_treated: float,
    n_control: int,
    n_treated: int,
    *,
    alpha: float = 0.05,
    strict: bool = False,
) -> PowerResult:
    r"""Power of the two-sided test on Cohen's :math:`h` (arcsine transformation).

    Parameters are those of :func:`compute_power_normal`.

    Notes
    -----
    .. math:: h = 2\arcsin\sqrt{p_1} - 2\arcsin\sqrt{p_0},\qquad
              1-\beta = \Phi\left(|h|\sqrt{\tfrac{n_0 n_1}{n_0+n_1}} - z\right)
              \;[+\;\Phi\left(-|h|\sqrt{\tfrac{n_0 n_1}{n_0+n_1}} - z\right)\text{ if strict}].

    ``strict=True`` is what ``pwr::pwr.2p2n.test(h = ES.h(p1, p2), ...)`` computes.

    References
    ----------
    Cohen J. Statistical Power Analysis for the Behavioral Sciences, 2nd ed., 1988, ch. 6.
    """
    p0, p1, n0, n1, a = _checked(p_control, p_treated, n_control, n_treated, alpha)
    h = abs(2.0 * math.asin(math.sqrt(p1)) - 2.0 * math.asin(math.sqrt(p0)))
    z = float(-ndtri(a / 2.0))
    k = h * math.sqrt(n0 * n1 / (n0 + n1))
    power = float(ndtr(k - z))
    if strict:
        power += float(ndtr(-k - z))
    return PowerResult(
        method="arcsine",
        power=power,
        p_control=p0,
        p_treated=p1,
        n_control=n0,
        n_treated=n1,
        alpha=a,
        assumptions=(
            "normal approximation on the arcsine-square-root scale (Cohen's h), variance 1/n per group",
            _TAIL_NOTE[strict],
        ),
    )


def _checked_design(
    p_control: float, p_treated: float, alpha: float, power: float, ratio: float
) -> tuple[float, float, float, float, float]:
    p0 = check_probability(p_control, "p_control")
    p1 = check_probability(p_treated, "p_treated")
    if p0 == p1:
        raise ScoreInputError(
            "p_treated", p1, f"a value different from p_control ({p0:g})", suggestion="no n can detect 0."
        )
    return p0, p1, check_alpha(alpha), check_power(power), check_ratio(ratio)


def compute_n_normal(
    p_control: float, p_treated: float, *, alpha: float = 0.05, power: float = 0.9, ratio: float = 1.0
) -> float:
    r"""Real-valued control-group size solving the non-strict :func:`compute_power_normal`.

    .. math:: n_0 = \frac{\left(z\sqrt{\bar p\bar q(1+1/r)} + z_\beta\sqrt{p_0q_0 + p_1q_1/r}\right)^2}
                         {\Delta^2},\qquad \bar p = \frac{p_0 + r p_1}{1+r},\; n_1 = r n_0.
    """
    p0, p1, a, pw, r = _checked_design(p_control, p_treated, alpha, power, ratio)
    pbar = (p0 + r * p1) / (1.0 + r)
    za = float(-ndtri(a / 2.0))
    zb = float(ndtri(pw))
    num = za * math.sqrt(pbar * (1 - pbar) * (1 + 1 / r)) + zb * math.sqrt(p0 * (1 - p0) + p1 * (1 - p1) / r)
    return num**2 / (p1 - p0) ** 2


def compute_n_normal_cc(
    p_control: float, p_treated: float, *, alpha: float = 0.05, power: float = 0.9, ratio: float = 1.0
) -> float:
    r"""Fleiss–Tytun–Ury continuity-corrected control-group size (real-valued).

    .. math:: n_0' = \frac{n_0}{4}\left(1 + \sqrt{1 + \frac{2(r+1)}{n_0 r \Delta}}\right)^2
    """
    n = compute_n_normal(p_control, p_treated, alpha=alpha, power=power, ratio=ratio)
    r = check_ratio(ratio)
    delta = abs(check_probability(p_treated, "p_treated") - check_probability(p_control, "p_control"))
    return n / 4.0 * (1.0 + math.sqrt(1.0 + 2.0 * (r + 1.0) / (n * r * delta))) ** 2


def compute_n_arcsine(
    p_control: float, p_treated: float, *, alpha: float = 0.05, power: float = 0.9, ratio: float = 1.0
) -> float:
    r"""Real-valued control-group size solving the non-strict :func:`compute_power_arcsine`.

    .. math:: n_0 = \left(\frac{z + z_\beta}{h}\right)^2 \frac{1+r}{r}
    """
    p0, p1, a, pw, r = _checked_design(p_control, p_treated, alpha, power, ratio)
    h = 2.0 * math.asin(math.sqrt(p1)) - 2.0 * math.asin(math.sqrt(p0))
    za = float(-ndtri(a / 2.0))
    zb = float(ndtri(pw))
    return ((za + zb) / h) ** 2 * (1.0 + r) / r
