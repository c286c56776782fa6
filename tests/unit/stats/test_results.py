"""Behaviour of the frozen result objects (no numerical oracle needed: structure and encoding)."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from pmrtrial.stats import EstimateResult, TestResult, software_versions
from pmrtrial.stats.results import jsonable


def _estimate(**overrides: object) -> EstimateResult:
    fields: dict[str, object] = {
        "estimand": "risk_ratio",
        "estimate": 2.0,
        "lo": 1.0,
        "hi": math.inf,
        "conf_level": 0.95,
        "p": math.nan,
        "method": "test",
        "n_treated": 10,
        "n_control": 10,
        "events_treated": 5,
        "events_control": 0,
        "warnings": ["w"],
        "details": {"pair": (1.0, math.nan), "nested": {"x": 1}},
    }
    fields.update(overrides)
    return EstimateResult(**fields)  # type: ignore[arg-type]


def test_estimate_result_is_frozen_and_its_mappings_are_read_only() -> None:
    res = _estimate()
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 3.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        res.details["extra"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        res.software["numpy"] = "0"  # type: ignore[index]
    assert res.warnings == ("w",)  # a list given is stored as a tuple


def test_to_dict_is_strict_json_with_nan_as_null_and_inf_as_string() -> None:
    out = _estimate().to_dict()
    text = json.dumps(out, allow_nan=False)  # raises if a NaN or inf slipped through
    back = json.loads(text)
    assert back["kind"] == "estimate"
    assert back["hi"] == "inf"
    assert back["p"] is None
    assert back["details"]["pair"] == [1.0, None]
    assert back["warnings"] == ["w"]
    assert set(back["software"]) == {"python", "numpy", "scipy", "statsmodels", "pmrtrial"}


def test_test_result_to_dict_and_shared_field_names() -> None:
    res = TestResult(statistic=1.5, p=0.2, method="m", alternative="two-sided", n_treated=3, n_control=4)
    out = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert out["kind"] == "test"
    # fields a report reads on every result (shared with the GEE result)
    for name in ("p", "method", "converged", "warnings"):
        assert name in out
    for name in ("estimate", "lo", "hi", "p", "method", "converged", "warnings"):
        assert name in _estimate().to_dict()


def test_jsonable_converts_numpy_scalars_and_rejects_objects() -> None:
    import numpy as np

    assert jsonable(np.float64(-np.inf)) == "-inf"
    assert jsonable(np.int64(3)) == 3
    assert jsonable(True) is True
    with pytest.raises(TypeError):
        jsonable(object())


def test_software_versions_match_installed_packages() -> None:
    import numpy
    import scipy
    import statsmodels

    versions = software_versions()
    assert versions["numpy"] == numpy.__version__
    assert versions["scipy"] == scipy.__version__
    assert versions["statsmodels"] == statsmodels.__version__
