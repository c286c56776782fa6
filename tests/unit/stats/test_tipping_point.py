"""Tipping-point analysis: every cell against scipy.stats.fisher_exact and hand RR (independent of the
code under test, which goes through pmrtrial.stats.fisher_exact_test / estimate_risk_ratio)."""

from __future__ import annotations

import json

import pytest
from scipy import stats

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats import tipping_point_binary


def test_every_imputation_and_the_flips() -> None:
    # observed 9/16 vs 3/14 (Fisher p 0.0717, not significant), 4 missing per arm.
    res = tipping_point_binary(9, n_treated=16, missing_treated=4, events_control=3, n_control=14, missing_control=4)
    assert res.complete_case is not None
    assert res.complete_case.p == pytest.approx(stats.fisher_exact([[9, 7], [3, 11]]).pvalue, rel=1e-12)
    assert not res.complete_case.significant
    assert len(res.cells) == 25
    for c in res.cells:
        a, c_ = 9 + c.imputed_treated, 3 + c.imputed_control
        expected_p = stats.fisher_exact([[a, 20 - a], [c_, 18 - c_]]).pvalue
        assert c.p == pytest.approx(expected_p, rel=1e-12)
        assert c.rr == pytest.approx((a / 20) / (c_ / 18), rel=1e-12)
        assert c.flips == (expected_p <= 0.05)  # complete case is "not significant"
    # tipping points = for each i, the first j where p <= 0.05 (read off the scipy p-values)
    expected = []
    for i in range(5):
        js = [j for j in range(5) if stats.fisher_exact([[9 + i, 11 - i], [3 + j, 15 - j]]).pvalue <= 0.05]
        if js:
            expected.append((i, min(js)))
    assert res.tipping_points == tuple(expected) and not res.robust
    assert (res.best_case.imputed_treated, res.best_case.imputed_control) == (4, 0)  # type: ignore[union-attr]
    assert (res.worst_case.imputed_treated, res.worst_case.imputed_control) == (0, 4)  # type: ignore[union-attr]
    json.dumps(res.to_dict(), allow_nan=False)


def test_bachelor_like_result_is_robust_to_two_missing() -> None:
    res = tipping_point_binary(14, n_treated=16, missing_treated=2, events_control=2, n_control=14, missing_control=1)
    # worst case 14/18 vs 3/15: scipy Fisher p well below 0.05, so no imputation flips it.
    assert stats.fisher_exact([[14, 4], [3, 12]]).pvalue < 0.01
    assert res.robust and res.tipping_points == () and len(res.cells) == 6


def test_cap_and_bad_input() -> None:
    res = tipping_point_binary(
        5, n_treated=10, missing_treated=200, events_control=2, n_control=10, missing_control=200
    )
    assert not res.available and res.reason == "not computed: 40,401 imputations exceed the cap of 10,000"
    with pytest.raises(ScoreInputError, match="missing_control"):
        tipping_point_binary(5, n_treated=10, missing_treated=1, events_control=2, n_control=10, missing_control=-1)
    with pytest.raises(ScoreInputError, match="events_treated"):
        tipping_point_binary(11, n_treated=10, missing_treated=2, events_control=2, n_control=10, missing_control=0)
