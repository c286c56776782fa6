"""pmrtrial.design.survival against R rpact 3.3 (stored output tests/reference/values/survival_design.json).

Written by tests/reference/r/survival_design_reference.R. Exact rpact calls:

* sample size: ``getSampleSizeSurvival(getDesignGroupSequential(kMax = 1, alpha = alpha, sided = 2,
  beta = 1 - power), typeOfComputation = "Schoenfeld" | "Freedman", hazardRatio = hr,
  lambda2 = log(2) / median_control, allocationRatioPlanned = ratio, accrualTime = c(0, accrual),
  followUpTime = follow_up, dropoutRate1 = dropout, dropoutRate2 = dropout, dropoutTime = dropout_time)``,
  fields ``eventsFixed``, ``nFixed``, ``nFixed1``, ``nFixed2``;
* power: ``getPowerSurvival(getDesignGroupSequential(kMax = 1, alpha = alpha, sided = 2),
  typeOfComputation, hazardRatio, lambda2 = log(2) / 12, allocationRatioPlanned = ratio,
  accrualTime = c(0, 24), maxNumberOfEvents = events, maxNumberOfSubjects = 500)$overallReject``.

SAPHYR-like: HR 0.56 (published flare HR), two-sided alpha 0.05, power 80% -> 93.39 events (94), 161.8
participants (162); power 90% -> 125.02 events, 216.6 participants; months, control median 12, accrual 24,
follow-up 12, 10% drop-out by 12. Tolerance 1e-6 relative (closed forms; observed ~1e-14).
"""

from __future__ import annotations

from typing import Any

import pytest

from pmrtrial.design import compute_power_survival, find_sample_size_survival
from tests.reference._util import load_values

REF = load_values("survival_design.json")
RTOL = 1e-6


@pytest.mark.parametrize("case", REF["sample_size"], ids=[c["name"] for c in REF["sample_size"]])
def test_sample_size_matches_rpact(case: dict[str, Any]) -> None:
    res = find_sample_size_survival(
        case["hr"],
        alpha=case["alpha"],
        power=case["power"],
        allocation_ratio=case["ratio"],
        method=case["method"].lower(),
        median_control=case["median_control"],
        accrual_time=case["accrual"],
        follow_up_time=case["follow_up"],
        dropout_rate=case["dropout"],
        dropout_time=case["dropout_time"],
    )
    assert res.events == pytest.approx(case["events"], rel=RTOL)
    assert res.n == pytest.approx(case["n"], rel=RTOL)
    assert res.n_treated == pytest.approx(case["n_treated"], rel=RTOL)
    assert res.n_control == pytest.approx(case["n_control"], rel=RTOL)
    assert res.power >= case["power"]  # both tails at the real number of events


@pytest.mark.parametrize("case", REF["power"])
def test_power_matches_rpact(case: dict[str, Any]) -> None:
    res = compute_power_survival(
        case["hr"], events=case["events"], alpha=case["alpha"], allocation_ratio=case["ratio"],
        method=case["method"].lower(),
    )  # fmt: skip
    assert res.power == pytest.approx(case["power"], rel=RTOL)


def test_saphyr_like_published_assumptions() -> None:
    saphyr = {c["name"]: c for c in REF["sample_size"]}
    res80 = find_sample_size_survival(0.56, power=0.8, median_control=12, accrual_time=24, follow_up_time=12,
                                      dropout_rate=0.1, dropout_time=12)  # fmt: skip
    assert (res80.events_required, res80.n_required) == (94, 162)
    assert res80.n == pytest.approx(saphyr["saphyr_like_80"]["n"], rel=RTOL)
    # power at n: the expected events from n participants give back the target power
    back = compute_power_survival(0.56, n=res80.n, median_control=12, accrual_time=24, follow_up_time=12,
                                  dropout_rate=0.1, dropout_time=12)  # fmt: skip
    assert back.events == pytest.approx(res80.events, rel=1e-12) and back.power == pytest.approx(res80.power)
