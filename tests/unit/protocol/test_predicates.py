"""The one predicate evaluator: the scalar and vectorised forms agree (Kleene logic, 6-decimal rounding)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmrtrial.protocol.predicates import (
    ROUND_DECIMALS,
    Predicate,
    evaluate_predicate,
    evaluate_predicate_vectorised,
    parse_predicate,
)

CUTOFFS = [0.0, 1.5, 7.0, 9.35, 10.0, 17.0]
NUMERIC_OPS = ["eq", "ne", "lt", "le", "gt", "ge"]


def _near(c: float) -> st.SearchStrategy[float]:
    # Exactly at the cut-off, inside the rounding (|d| < 5e-7) and just outside it (1e-6, 1e-5).
    return st.sampled_from([c, c + 1e-7, c - 1e-7, c + 4e-7, c - 4e-7, c + 1e-6, c - 1e-6, c + 1e-5, c - 1e-5])


numbers = st.one_of(
    st.sampled_from(CUTOFFS).flatmap(_near),
    st.floats(min_value=-50, max_value=50, allow_nan=False),
    st.integers(min_value=-3, max_value=20).map(float),
)
x_values = st.one_of(st.none(), st.just(math.nan), numbers)
b_values = st.sampled_from([True, False, None])
s_values = st.sampled_from(["a", "b", "c", None])

comparison_x = st.one_of(
    st.builds(lambda op, v: {"var": "x", "op": op, "value": v}, st.sampled_from(NUMERIC_OPS), st.sampled_from(CUTOFFS)),
    st.builds(
        lambda op, v: {"var": "x", "op": op, "value": v},
        st.sampled_from(["in", "not_in"]),
        st.lists(st.sampled_from(CUTOFFS), min_size=1, max_size=3),
    ),
)
comparison_b = st.one_of(
    st.builds(lambda op, v: {"var": "b", "op": op, "value": v}, st.sampled_from(["eq", "ne"]), st.booleans()),
    st.builds(lambda op, v: {"var": "b", "op": op, "value": [v]}, st.sampled_from(["in", "not_in"]), st.booleans()),
)
comparison_s = st.one_of(
    st.builds(lambda op, v: {"var": "s", "op": op, "value": v}, st.sampled_from(["eq", "ne"]), st.sampled_from("abd")),
    st.builds(
        lambda op, v: {"var": "s", "op": op, "value": v},
        st.sampled_from(["in", "not_in"]),
        st.lists(st.sampled_from("abd"), min_size=1, max_size=2),
    ),
)
# "absent" is never in the data: missing everywhere.
comparison_absent = st.just({"var": "absent", "op": "gt", "value": 1})
leaves = st.one_of(comparison_x, comparison_b, comparison_s, comparison_absent)
trees = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.builds(lambda c: {"all": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"any": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, children),
    ),
    max_leaves=6,
)
rows = st.lists(st.fixed_dictionaries({"x": x_values, "b": b_values, "s": s_values}), min_size=1, max_size=24)


def _as_float(result: bool | None) -> float:
    return math.nan if result is None else float(result)


def _scalar(predicate: Predicate, records: list[dict[str, Any]]) -> np.ndarray:
    return np.array([_as_float(evaluate_predicate(predicate, r)) for r in records])


@settings(max_examples=300, deadline=None)
@given(tree=trees, records=rows)
def test_scalar_and_vectorised_forms_agree(tree: dict[str, Any], records: list[dict[str, Any]]) -> None:
    predicate = parse_predicate(tree)
    expected = _scalar(predicate, records)
    frame = pd.DataFrame(
        {
            "x": np.array([math.nan if r["x"] is None else r["x"] for r in records], dtype=np.float64),
            "b": pd.array([r["b"] for r in records], dtype="boolean"),
            "s": pd.Series([r["s"] for r in records], dtype=object),
        }
    )
    np.testing.assert_array_equal(evaluate_predicate_vectorised(predicate, frame), expected)
    # Plain arrays with None inside (object dtype) give the same answers.
    columns = {k: np.array([r[k] for r in records], dtype=object) for k in ("x", "b", "s")}
    np.testing.assert_array_equal(evaluate_predicate_vectorised(predicate, columns), expected)


@settings(max_examples=100, deadline=None)
@given(tree=trees, records=rows.filter(lambda r: len(r) % 2 == 0))
def test_vectorised_form_keeps_any_array_shape(tree: dict[str, Any], records: list[dict[str, Any]]) -> None:
    # The simulator evaluates replicates x participants at once.
    predicate = parse_predicate(tree)
    expected = _scalar(predicate, records).reshape(2, -1)
    columns = {
        "x": np.array([math.nan if r["x"] is None else r["x"] for r in records]).reshape(2, -1),
        "b": np.array([math.nan if r["b"] is None else float(r["b"]) for r in records]).reshape(2, -1),
        "s": np.array([r["s"] for r in records], dtype=object).reshape(2, -1),
    }
    np.testing.assert_array_equal(evaluate_predicate_vectorised(predicate, columns), expected)


@pytest.mark.parametrize(
    ("value", "op", "expected"),
    [
        # 10 + 4e-7 rounds to 10.000000 at 6 decimals: "le 10" holds, "gt 10" does not.
        (10.0000004, "le", True),
        (10.0000004, "gt", False),
        # 10 + 6e-7 rounds to 10.000001: "gt 10" holds.
        (10.0000006, "gt", True),
        (9.9999996, "ge", True),
        (9.35, "gt", False),  # Dejaco's absolute flare rule is strict: 9.35 is not a flare
        (17.0, "gt", False),  # BACHELOR inclusion: CRP PMR-AS > 17; 17.0 is moderate (README)
    ],
)
def test_rounding_at_cut_offs(value: float, op: str, expected: bool) -> None:
    assert ROUND_DECIMALS == 6
    cutoff = 10.0 if abs(value - 10) < 1 else (9.35 if abs(value - 9.35) < 0.01 else 17.0)
    predicate = parse_predicate({"var": "x", "op": op, "value": cutoff})
    assert evaluate_predicate(predicate, {"x": value}) is expected
    assert evaluate_predicate_vectorised(predicate, {"x": [value]}).tolist() == [float(expected)]


def test_kleene_truth_tables() -> None:
    # Kleene's strong three-valued logic: F AND ? = F, T AND ? = ?, T OR ? = T, F OR ? = ?, NOT ? = ?.
    t, f = {"var": "x", "op": "eq", "value": 1}, {"var": "x", "op": "eq", "value": 2}
    unknown = {"var": "y", "op": "eq", "value": 1}
    values = {"x": 1, "y": None}
    cases = [
        ({"all": [f, unknown]}, False),
        ({"all": [t, unknown]}, None),
        ({"any": [t, unknown]}, True),
        ({"any": [f, unknown]}, None),
        ({"not": unknown}, None),
        ({"not": f}, True),
    ]
    for tree, expected in cases:
        predicate = parse_predicate(tree)
        assert evaluate_predicate(predicate, values) is expected
        got = evaluate_predicate_vectorised(predicate, {"x": [1.0], "y": [math.nan]})
        assert got.tolist() == [_as_float(expected)] or (expected is None and math.isnan(got[0]))


def test_ordering_text_is_an_error_in_both_forms() -> None:
    predicate = parse_predicate({"var": "s", "op": "lt", "value": "b"})
    with pytest.raises(ValueError, match="operator 'lt' needs numbers"):
        evaluate_predicate(predicate, {"s": "a"})
    with pytest.raises(ValueError, match="operator 'lt' needs numbers"):
        evaluate_predicate_vectorised(predicate, pd.DataFrame({"s": ["a"]}))
