"""Normal and arcsine approximations against R (power.prop.test, pwr, rpact) and hand calculations."""

from __future__ import annotations

import math
from typing import Any

import pytest
from scipy.stats import norm

from pmrtrial.design import (
    compute_n_arcsine,
    compute_n_normal,
    compute_n_normal_cc,
    compute_power_arcsine,
    compute_power_normal,
    compute_power_normal_cc,
)
from pmrtrial.exceptions import ScoreInputError


def test_normal_power_matches_power_prop_test(r_design: dict[str, Any]) -> None:
    # R: power.prop.test(n, p1, p2, sig.level = 0.05, strict = FALSE/TRUE)$power (calls in design.json)
    cases = r_design["power_prop_test"]["power"]
    assert len(cases) == 8
    for case in cases:
        n = int(case["n"])
        got = compute_power_normal(case["p_control"], case["p_treated"], n, n, strict=case["strict"])
        assert got.power == pytest.approx(case["power"], rel=1e-8), case["call"]


def test_normal_n_matches_power_prop_test_with_tight_tolerance(r_design: dict[str, Any]) -> None:
    # R: power.prop.test(p1, p2, sig.level = 0.05, power, tol = 1e-12)$n. The default tol
    # (.Machine$double.eps^0.25) gives a uniroot root accurate to ~1e-4 only, so it is checked loosely.
    for case in r_design["power_prop_test"]["n"]:
        got = compute_n_normal(case["p_control"], case["p_treated"], alpha=0.05, power=case["power"])
        assert got == pytest.approx(case["n_tol_1e12"], rel=1e-8), case["call"]
        assert got == pytest.approx(case["n_default_tol"], abs=1e-3), case["call"]


def test_normal_n_matches_rpact_including_unequal_allocation(r_design: dict[str, Any]) -> None:
    # R: rpact getSampleSizeRates(pi1 = 0.8, pi2 = 0.2, alpha = 0.05, sided = 2, beta = 0.1,
    #    allocationRatioPlanned = 1 or 1.5); group 1 is the treated arm, so ratio = n_treated / n_control.
    for case in r_design["rpact"]["sample_size"]:
        ratio = case["ratio_treated_to_control"]
        got = compute_n_normal(0.2, 0.8, alpha=0.05, power=0.9, ratio=ratio)
        assert got == pytest.approx(case["n_control"], rel=1e-8), case["call"]
        assert got * ratio == pytest.approx(case["n_treated"], rel=1e-8), case["call"]


def test_normal_power_close_to_rpact_numerical_integration(r_design: dict[str, Any]) -> None:
    # R: rpact getPowerRates(..., maxNumberOfSubjects = 26)$overallReject = 0.9153272746. rpact goes
    # through its group-sequential integration routine, which differs from the closed form by ~6e-8
    # relative; the closed form itself is verified to 1e-8 against power.prop.test above.
    case = r_design["rpact"]["power"]
    got = compute_power_normal(0.2, 0.8, 13, 13).power
    assert got == pytest.approx(case["power"], rel=1e-6)


def test_arcsine_power_matches_pwr(r_design: dict[str, Any]) -> None:
    # R: pwr.2p2n.test(h = ES.h(p1, p2), n1, n2, sig.level = 0.05)$power; pwr counts both tails,
    # which is strict=True here.
    for case in r_design["pwr"]["power_2p2n"]:
        got = compute_power_arcsine(
            case["p_control"], case["p_treated"], int(case["n_control"]), int(case["n_treated"]), strict=True
        )
        assert got.power == pytest.approx(case["power"], rel=1e-8), case["call"]
    eq = r_design["pwr"]["power_2p"]
    assert compute_power_arcsine(0.2, 0.8, 13, 13, strict=True).power == pytest.approx(eq["power"], rel=1e-8)


def test_arcsine_n_matches_pwr_within_its_uniroot_tolerance(r_design: dict[str, Any]) -> None:
    # R: pwr.2p.test(h = ES.h(0.8, 0.2), sig.level = 0.05, power = 0.9)$n = 12.68723 (uniroot, default tol,
    # both tails). Hand: h = 2 asin(sqrt .8) - 2 asin(sqrt .2) = 1.287002;
    # n = ((1.959964 + 1.281552) / h)^2 * 2 = (2.518656)^2 * 2 = 12.687257 (one tail); the far tail
    # (~1e-9 at this n) shifts n by far less than 1e-3.
    got = compute_n_arcsine(0.2, 0.8, alpha=0.05, power=0.9)
    assert got == pytest.approx(r_design["pwr"]["n_2p"]["n"], abs=1e-3)
    h = 2 * math.asin(math.sqrt(0.8)) - 2 * math.asin(math.sqrt(0.2))
    assert got == pytest.approx(((1.959963984540054 + 1.2815515655446004) / h) ** 2 * 2, rel=1e-12)


def test_one_tail_arcsine_is_pwr_minus_far_tail() -> None:
    # Hand: far tail = Phi(-h sqrt(13/2) - 1.959964) with h = 1.287002: Phi(-5.241236) = 7.97e-8.
    h = 2 * math.asin(math.sqrt(0.8)) - 2 * math.asin(math.sqrt(0.2))
    far = norm.cdf(-h * math.sqrt(6.5) - 1.959963984540054)
    one = compute_power_arcsine(0.2, 0.8, 13, 13).power
    both = compute_power_arcsine(0.2, 0.8, 13, 13, strict=True).power
    assert both - one == pytest.approx(far, rel=1e-9)
    assert far == pytest.approx(7.97e-8, rel=2e-3)


def test_continuity_corrected_power_by_hand() -> None:
    # Hand calculation (Fleiss, pooled variance, correction 1/2 (1/16 + 1/16) = 0.0625), n = 16 + 16:
    # pbar = 0.5; sigma0 = sqrt(0.25 * 2/16) = 0.1767767; sigma1 = sqrt((0.16 + 0.16)/16) = 0.1414214;
    # z = (0.6 - 0.0625 - 1.959964 * 0.1767767) / 0.1414214 = 0.1910240 / 0.1414214 = 1.350744;
    # Phi(1.350744) = 0.911611 (arithmetic done with a pocket calculator, math.erf for Phi).
    got = compute_power_normal_cc(0.2, 0.8, 16, 16)
    assert got.power == pytest.approx(0.911611, abs=2e-6)
    assert got.method == "normal-cc"


def test_continuity_corrected_unequal_power_by_hand() -> None:
    # Hand: n0 = 15, n1 = 18, p0 = .2, p1 = .8: pbar = (3 + 14.4)/33 = 0.5272727;
    # sigma0 = sqrt(0.5272727 * 0.4727273 * (1/15 + 1/18)) = sqrt(0.2492562 * 0.1222222) = 0.1745412;
    # sigma1 = sqrt(0.16/15 + 0.16/18) = sqrt(0.0195556) = 0.1398412; c = 0.5 * 0.1222222 = 0.0611111;
    # z = (0.6 - 0.0611111 - 1.959964 * 0.1745412) / 0.1398412 = 0.1967943 / 0.1398412 = 1.407270;
    # Phi(1.407270) = 0.920326.
    got = compute_power_normal_cc(0.2, 0.8, 15, 18)
    assert got.power == pytest.approx(0.920326, abs=2e-6)


def test_fleiss_cc_n_by_hand_from_r_uncorrected_n(r_design: dict[str, Any]) -> None:
    # Hand: n = 12.3770143 (power.prop.test, tol 1e-12); Fleiss: n/4 (1 + sqrt(1 + 4/(n * 0.6)))^2
    # = 3.0942536 * (1 + sqrt(1.5386258))^2 = 3.0942536 * (2.2404136)^2 = 3.0942536 * 5.0194530 = 15.53150.
    n = r_design["power_prop_test"]["n"][0]["n_tol_1e12"]
    expected = n / 4 * (1 + math.sqrt(1 + 4 / (n * 0.6))) ** 2
    assert expected == pytest.approx(15.53150, abs=1e-5)
    assert compute_n_normal_cc(0.2, 0.8, alpha=0.05, power=0.9) == pytest.approx(expected, rel=1e-10)


def test_fleiss_cc_n_inverts_the_cc_power_function() -> None:
    # Solving Phi((D - c - z sigma0)/sigma1) = 0.9 for real n (c = 1/n when equal) gives Fleiss' formula
    # exactly (algebra in compute_power_normal_cc's Notes). Check at the real-valued root by hand:
    n = compute_n_normal_cc(0.2, 0.8)
    sigma0 = math.sqrt(0.25 * 2 / n)
    sigma1 = math.sqrt(0.32 / n)
    value = (0.6 - 1 / n - 1.959963984540054 * sigma0) / sigma1
    assert value == pytest.approx(1.2815515655446004, rel=1e-12)  # qnorm(0.9)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"p_control": 0.0}, "p_control"),
        ({"p_treated": 1.0}, "p_treated"),
        ({"p_treated": 1.2}, "p_treated"),
        ({"n_control": 0}, "n_control"),
        ({"n_treated": 2.5}, "n_treated"),
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": "0.05"}, "alpha"),
        ({"p_control": None}, "p_control"),
    ],
)
def test_invalid_inputs_name_the_argument(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {
        "p_control": 0.2,
        "p_treated": 0.8,
        "n_control": 10,
        "n_treated": 10,
        "alpha": 0.05,
    }
    args.update(kwargs)
    for fn in (compute_power_normal, compute_power_normal_cc, compute_power_arcsine):
        with pytest.raises(ScoreInputError) as info:
            fn(
                args["p_control"],
                args["p_treated"],
                args["n_control"],
                args["n_treated"],
                alpha=args["alpha"],
            )
        assert info.value.field == field


def test_equal_probabilities_have_no_sample_size() -> None:
    with pytest.raises(ScoreInputError, match="p_treated"):
        compute_n_normal(0.3, 0.3)


def test_result_to_dict_round_trip() -> None:
    result = compute_power_normal(0.2, 0.8, 13, 14)
    d = result.to_dict()
    assert d["n_control"] == 13 and d["n_treated"] == 14 and d["method"] == "normal"
    assert d["power"] == result.power
    assert result.n_per_group == (13, 14)
    assert any("pooled" in a for a in d["assumptions"])
