"""pmrtrial.stats.adjusted: hand-checkable values, dropped covariates, not-estimable data (R: reference tests)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats import estimate_adjusted_risk_ratio


def _data() -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(3)
    n = 80
    treated = np.repeat([1, 0], n // 2)
    stratum = rng.choice(["a", "b"], n)
    y = (rng.random(n) < np.where(treated == 1, 0.6, 0.3)).astype(int)
    return y, treated, pd.DataFrame({"stratum": stratum})


@pytest.mark.parametrize("method", ["modified_poisson", "log_binomial"])
def test_without_covariates_the_rr_is_the_crude_ratio(method: str) -> None:
    # 12/20 vs 5/20: RR = 0.6 / 0.25 = 2.4; log-RR SE (both models) = sqrt(1/12 - 1/20 + 1/5 - 1/20) (Katz).
    y = [1] * 12 + [0] * 8 + [1] * 5 + [0] * 15
    treated = [1] * 20 + [0] * 20
    res = estimate_adjusted_risk_ratio(y, treated, None, method)  # type: ignore[arg-type]
    assert res.estimate == pytest.approx(2.4, rel=1e-9)
    assert res.details["se"] == pytest.approx(math.sqrt(1 / 12 - 1 / 20 + 1 / 5 - 1 / 20), rel=1e-8)


def test_constant_and_collinear_covariates_are_dropped_with_a_warning() -> None:
    y, treated, cov = _data()
    base = estimate_adjusted_risk_ratio(y, treated, cov)
    cov2 = cov.assign(site="same", stratum_copy=cov["stratum"], arm_copy=treated)
    res = estimate_adjusted_risk_ratio(y, treated, cov2)
    assert res.estimate == pytest.approx(base.estimate, rel=1e-12)
    assert res.details["covariates"] == ("stratum=b",)
    assert [w.split("'")[1] for w in res.warnings] == ["site", "stratum_copy=b", "arm_copy"]
    assert "single level" in res.warnings[0] and all("collinear" in w for w in res.warnings[1:])


@pytest.mark.parametrize(
    ("y", "reason"),
    [([0, 0, 0, 1, 1, 0], "no event in the treated arm"), ([1, 1, 1, 1, 1, 1], "every participant had the event")],
)
def test_not_estimable_data_give_a_reason_and_nan(y: list[int], reason: str) -> None:
    res = estimate_adjusted_risk_ratio(y, [1, 1, 1, 0, 0, 0])
    assert not res.available and reason in (res.reason or "") and math.isnan(res.estimate)


def test_empty_arm_is_not_estimable() -> None:
    res = estimate_adjusted_risk_ratio([1, 0, 1], [1, 1, 1], method="log_binomial")
    assert not res.available and "one arm is empty" in (res.reason or "")


def test_bad_method_and_bad_outcome_raise_naming_the_field() -> None:
    with pytest.raises(ScoreInputError, match="method"):
        estimate_adjusted_risk_ratio([1, 0], [1, 0], method="probit")  # type: ignore[arg-type]
    with pytest.raises(ScoreInputError, match="Invalid y"):
        estimate_adjusted_risk_ratio([1, 2], [1, 0])
