"""Sample-size search, the saw-tooth 'always holds' size, and the explanation of BACHELOR's 17."""

from __future__ import annotations

import math
from typing import Any

import pytest

from pmrtrial.design import (
    METHODS,
    compute_power,
    compute_power_curve,
    explain_published_sample_size,
    find_sample_size,
    find_sample_size_all,
)
from pmrtrial.exceptions import EstimationError, ScoreInputError


def test_approximate_sizes_for_bachelor(r_design: dict[str, Any]) -> None:
    # normal: ceil(12.3770) = 13 (R power.prop.test tol 1e-12); arcsine: ceil(12.6872) = 13 (R pwr.2p.test);
    # normal-cc: ceil(15.5315) = 16 (Fleiss hand calculation in test_design_approximate.py).
    ppt_n = r_design["power_prop_test"]["n"][0]["n_tol_1e12"]
    pwr_n = r_design["pwr"]["n_2p"]["n"]
    normal = find_sample_size(0.2, 0.8, method="normal")
    assert normal.n_per_group == math.ceil(ppt_n) == 13
    assert normal.n_continuous == pytest.approx(ppt_n, rel=1e-8)
    assert normal.n_always == 13
    arcsine = find_sample_size(0.2, 0.8, method="arcsine")
    assert arcsine.n_per_group == math.ceil(pwr_n) == 13
    cc = find_sample_size(0.2, 0.8, method="normal-cc")
    assert cc.n_per_group == 16
    assert cc.n_continuous == pytest.approx(15.53150, abs=1e-5)
    # rpact's power at n = 13 per group (0.9153) is the one reported at the chosen size.
    assert normal.power_at_n == pytest.approx(r_design["rpact"]["power"]["power"], rel=1e-6)


def _r_fisher_curve(r_design: dict[str, Any]) -> dict[int, float]:
    return {
        int(c["n_control"]): c["power"]
        for c in r_design["fisher_exact"]["power"]
        if c["p_control"] == 0.2 and c["p_treated"] == 0.8 and c["n_control"] == c["n_treated"] and c["alpha"] == 0.05
    }


def test_exact_fisher_smallest_and_always_n(r_design: dict[str, Any]) -> None:
    # From R's exact powers for n = 12..20 (design.json): 15 -> 0.8723 < 0.9, 16..20 >= 0.9104, so with
    # the scan limited to [12, 20] both sizes are 16.
    r_curve = _r_fisher_curve(r_design)
    res = find_sample_size(0.2, 0.8, method="fisher-exact", n_min=12, n_max=20)
    assert res.n_per_group == 16 and res.n_always == 16
    assert res.power_at_n == pytest.approx(r_curve[16], abs=1e-10)
    assert [round(p.power, 10) for p in res.curve] == [round(r_curve[n], 10) for n in range(12, 21)]


def test_saw_tooth_gives_always_n_above_smallest_n(r_design: dict[str, Any]) -> None:
    # Target 0.85 with R's powers: 12 -> 0.8115, 13 -> 0.8688 (reached), 14 -> 0.8374 (lost again),
    # 15..20 -> >= 0.8723. Smallest n = 13, "always holds" n = 15.
    r_curve = _r_fisher_curve(r_design)
    assert r_curve[13] >= 0.85 > r_curve[14]
    res = find_sample_size(0.2, 0.8, power=0.85, method="fisher-exact", n_min=12, n_max=20)
    assert (res.n_per_group, res.n_always) == (13, 15)
    assert res.is_exact and res.n_continuous is None


def test_scan_extends_downward_when_lower_end_already_reaches_target() -> None:
    # R exact powers: 12 -> 0.8115, 13 -> 0.8688, 14 -> 0.8374 (all >= 0.8). A scan asked to start at 14
    # must walk down past 13 and 12 and stop at the first size that fails (below 12).
    res = find_sample_size(0.2, 0.8, power=0.8, method="fisher-exact", n_min=14, n_max=20)
    assert res.n_per_group == 12
    assert res.n_min < 12
    assert res.curve[0].power < 0.8


def test_unequal_allocation_uses_ceil_ratio(r_design: dict[str, Any]) -> None:
    # rpact (allocationRatioPlanned = 1.5): n_control = 10.2165, n_treated = 15.3248 for power 0.9. At
    # n_control = 10 (treated 15) power is below target, so the smallest integer design is
    # 11 / ceil(16.5) = 17.
    case = r_design["rpact"]["sample_size"][1]
    res = find_sample_size(0.2, 0.8, method="normal", ratio=1.5)
    assert res.n_continuous == pytest.approx(case["n_control"], rel=1e-8)
    assert (res.n_per_group, res.n_treated) == (11, 17)
    assert compute_power(0.2, 0.8, 10, 15, method="normal").power < 0.9


def test_find_all_runs_every_method_in_order() -> None:
    results = find_sample_size_all(0.2, 0.8, n_max=30)
    assert tuple(r.method for r in results) == METHODS
    sizes = {r.method: r.n_per_group for r in results}
    assert sizes["normal"] == 13 and sizes["normal-cc"] == 16 and sizes["fisher-exact"] == 16
    d = results[3].to_dict()
    assert d["n_always"] == 16 and len(d["curve"]) == d["n_max"] - d["n_min"] + 1


def test_curve_helper_and_errors() -> None:
    pts = compute_power_curve(0.2, 0.8, [16, 17], method="fisher-exact")
    # R exact powers (design.json): 0.910458 and 0.938056
    assert [round(p.power, 6) for p in pts] == [0.910458, 0.938056]
    with pytest.raises(EstimationError, match="n_max"):
        find_sample_size(0.2, 0.8, method="fisher-exact", n_max=14)
    with pytest.raises(ScoreInputError, match="method"):
        find_sample_size(0.2, 0.8, method="chisq")
    with pytest.raises(ScoreInputError, match="p_treated"):
        find_sample_size(0.4, 0.4)
    with pytest.raises(ScoreInputError, match="ratio"):
        find_sample_size(0.2, 0.8, ratio=0)
    with pytest.raises(ScoreInputError, match="power"):
        find_sample_size(0.2, 0.8, power=1.0)


def test_explanation_of_bachelor_17_is_labelled_inference() -> None:
    # BACHELOR (bachelor_published.yaml): 0.2 vs 0.8, alpha 0.05 two-sided, power 0.9, 17 per group.
    # Hand arithmetic for the candidates expected to match: exact Fisher 16 (R) / (1 - 0.05) = 16.84 -> 17;
    # Fleiss 15.53 / 0.95 = 16.35 -> 17; 16 * 1.05 = 16.8 -> 17. Uncorrected 13 / 0.8 = 16.25 -> 17.
    # No method gives 17 without a drop-out allowance (13, 16, 13, 16, 14).
    exp = explain_published_sample_size(17, 0.2, 0.8, alpha=0.05, power=0.9, n_max=30)
    assert exp.label == "inference" and "Inference" in exp.note
    matching = {(c.method, c.dropout, c.details.get("base")) for c in exp.matching}
    assert ("fisher-exact", 0.05, 16.0) in matching
    assert ("normal-cc", 0.05, 16.0) in matching
    assert ("normal", 0.20, 13.0) in matching
    no_allowance = [c for c in exp.candidates if c.dropout == 0.0 and "real-valued" not in c.assumption]
    assert all(c.n != 17 for c in no_allowance)
    fisher_5 = next(c for c in exp.matching if c.method == "fisher-exact" and c.dropout == 0.05)
    # ceil(16 / (1 - d)) = 17 exactly when 16/17 < 1 - d... i.e. 0 < d <= 1 - 16/17 = 0.0588
    assert fisher_5.details["dropout_range_for_published"][1] == pytest.approx(1 - 16 / 17)
    d = exp.to_dict()
    assert d["label"] == "inference" and len(d["matching"]) == len(exp.matching) >= 3
