"""Count validation: every error names the field (ScoreInputError.field)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats import (
    barnard_exact_test,
    boschloo_exact_test,
    estimate_risk_difference,
    estimate_risk_difference_wald,
    estimate_risk_ratio,
    estimate_risk_ratio_bayes,
    estimate_risk_ratio_score_ci,
    fisher_exact_test,
)

COUNT_FUNCTIONS = [
    fisher_exact_test,
    boschloo_exact_test,
    barnard_exact_test,
    estimate_risk_ratio,
    estimate_risk_ratio_score_ci,
    estimate_risk_difference,
    estimate_risk_difference_wald,
    estimate_risk_ratio_bayes,
]

GOOD = {"events_treated": 3, "n_treated": 10, "events_control": 2, "n_control": 10}

BAD = [
    ("events_treated", 11),  # more events than participants
    ("events_treated", -1),
    ("events_treated", 2.5),
    ("events_treated", True),
    ("events_treated", "3"),
    ("events_treated", float("nan")),
    ("n_treated", 0),
    ("n_treated", None),
    ("events_control", 11),
    ("n_control", -4),
    ("n_control", float("inf")),
]


@pytest.mark.parametrize("fn", COUNT_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("field", "value"), BAD, ids=[f"{f}={v!r}" for f, v in BAD])
def test_invalid_counts_raise_naming_the_field(fn: Any, field: str, value: Any) -> None:
    args = {**GOOD, field: value}
    with pytest.raises(ScoreInputError) as info:
        fn(args.pop("events_treated"), **args)
    assert info.value.field == field
    assert field in str(info.value)


@pytest.mark.parametrize("fn", COUNT_FUNCTIONS, ids=lambda f: f.__name__)
def test_integer_valued_floats_and_numpy_integers_are_accepted(fn: Any) -> None:
    a = fn(np.int64(3), n_treated=10.0, events_control=np.int32(2), n_control=10)
    b = fn(3, n_treated=10, events_control=2, n_control=10)
    assert a.p == b.p or (a.p is None and b.p is None)


def test_counts_are_keyword_only_after_the_first() -> None:
    with pytest.raises(TypeError):
        fisher_exact_test(3, 10, 2, 10)  # type: ignore[misc]


@pytest.mark.parametrize("fn", [estimate_risk_ratio, estimate_risk_ratio_score_ci, estimate_risk_difference])
@pytest.mark.parametrize("level", [0, 1, 1.5, "0.95", True])
def test_invalid_conf_level_names_the_field(fn: Any, level: Any) -> None:
    with pytest.raises(ScoreInputError) as info:
        fn(3, n_treated=10, events_control=2, n_control=10, conf_level=level)
    assert info.value.field == "conf_level"
