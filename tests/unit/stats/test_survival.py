"""pmrtrial.stats.survival: input checks, not-estimable conditions, lazy lifelines import.

The numbers themselves are checked against R in tests/reference/test_survival_vs_r.py; here the expected
values are hand arithmetic (shown) or structural.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats import cox_ph, kaplan_meier, logrank_test


def test_import_of_pmrtrial_stats_does_not_import_lifelines() -> None:
    code = "import sys, pmrtrial.stats; print('lifelines' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_kaplan_meier_by_hand() -> None:
    # times 2, 4(event), 4(censored), 6, 8; S(2) = 4/5, S(4) = 4/5 * 3/4 = 0.6, S(6) = 0.6 * 1/2 = 0.3.
    res = kaplan_meier([2, 4, 4, 6, 8], [1, 1, 0, 1, 0], times=[1, 4, 7, 9])
    arm = res.arm("all")
    assert arm.table_survival == pytest.approx((0.8, 0.6, 0.3, 0.3), rel=1e-12)
    assert arm.median == 6.0 and arm.median_reached
    assert arm.at_n_risk == (5, 4, 1, 0)
    assert arm.at_survival[:3] == pytest.approx((1.0, 0.6, 0.3)) and math.isnan(arm.at_survival[3])
    # Greenwood: var(log S(2)) = 1/(5*4) = 0.05; lower = 0.8 * exp(-1.959964 * sqrt(0.05)).
    assert arm.table_lo[0] == pytest.approx(0.8 * math.exp(-1.959963984540054 * math.sqrt(0.05)), rel=1e-12)


def test_median_on_a_flat_segment_at_one_half_is_the_midpoint() -> None:
    # 4 participants, events at 1, 2, 3, 4: S = 0.75, 0.5, 0.25, 0 -> S = 0.5 on [2, 3): median (2+3)/2.
    assert kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1]).arm("all").median == 2.5


def test_median_not_reached_is_nan_not_a_number_made_up() -> None:
    arm = kaplan_meier([1, 2, 3, 4], [1, 0, 0, 0]).arm("all")
    assert not arm.median_reached and math.isnan(arm.median) and math.isnan(arm.median_hi)


def test_listed_arm_without_participants_is_reported_unavailable() -> None:
    res = kaplan_meier([1, 2], [1, 0], ["b", "b"], arms=["a", "b"])
    assert not res.arm("a").available and res.arm("a").reason == "arm 'a' has no participant"
    assert res.arm("b").n == 2 and res.available


@pytest.mark.parametrize(
    ("time", "event", "field"),
    [([1, -2], [1, 0], "time"), ([1, 2], [1, 2], "event"), (["x", 2], [1, 0], "time"), ([1, 2], [1], "event")],
)
def test_bad_input_names_the_field(time: list[object], event: list[object], field: str) -> None:
    with pytest.raises(ScoreInputError) as info:
        kaplan_meier(time, event)
    assert info.value.field == field


def test_unknown_group_label_raises() -> None:
    with pytest.raises(ScoreInputError, match="group"):
        logrank_test([1, 2, 3], [1, 1, 0], ["a", "b", "c"], arms=("a", "b"))


@pytest.mark.parametrize(
    ("treated", "event", "reason"),
    [
        ([1, 1, 1, 1], [1, 0, 1, 0], "one arm is empty"),
        ([1, 1, 0, 0], [0, 0, 0, 0], "everyone censored"),
        ([1, 1, 0, 0], [1, 1, 0, 0], "no event in the control arm"),
    ],
)
def test_not_estimable_cox_and_logrank(treated: list[int], event: list[int], reason: str) -> None:
    time = [3, 5, 7, 9]
    cox = cox_ph(time, event, treated)
    assert not cox.available and reason in (cox.reason or "")
    assert all(math.isnan(v) for v in (cox.estimate, cox.lo, cox.hi, cox.p))
    lr = logrank_test(time, event, treated)
    if reason == "no event in the control arm":
        assert lr.available  # the log-rank test is defined with events in one arm only
    else:
        assert not lr.available and math.isnan(lr.p)


def test_constant_and_collinear_covariates_are_dropped_with_a_warning() -> None:
    rng = np.random.default_rng(1)
    n = 40
    treated = np.repeat([1, 0], n // 2)
    time = rng.exponential(10, n).round()
    event = (rng.random(n) < 0.7).astype(int)
    age = rng.normal(70, 5, n)
    cov = pd.DataFrame({"age": age, "const": 1.0, "age_copy": 2 * age + 1, "arm_copy": treated})
    res = cox_ph(time, event, treated, cov)
    base = cox_ph(time, event, treated, cov[["age"]])
    assert res.available and res.estimate == pytest.approx(base.estimate, rel=1e-10)
    assert res.details["covariates"] == ("age",)
    assert len(res.warnings) == 3 and all("dropped" in w for w in res.warnings)


def test_missing_rows_are_dropped_and_counted() -> None:
    res = logrank_test([1, 2, None, 4, 5, 6], [1, 0, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0])
    assert res.n_treated == 2 and res.details["n_dropped"] == 1
