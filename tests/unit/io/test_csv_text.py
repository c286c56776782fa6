"""``csv_text`` writes the text pandas' ``DataFrame.to_csv`` writes (the reference: pandas itself)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmrtrial.io.files import csv_text


def _pandas(frame: pd.DataFrame, integer_columns: tuple[str, ...] = ()) -> str:
    table = frame.copy()
    for name in integer_columns:
        table[name] = table[name].astype("Int64")
    return table.to_csv(index=False, lineterminator="\n")


CASES = {
    "floats": pd.DataFrame({"a": ["x", "y", None, ""], "b": [0.1, -0.0, np.nan, 1e-7], "c": [1e16, 2.5, 0.0, -3.0]}),
    "integers and booleans": pd.DataFrame({"a": ["S1", "S2", "S3"], "n": [1, -2, 3], "ok": [True, False, True]}),
    "binary as Int64": pd.DataFrame({"s": ["a", "b", "c"], "value": [1.0, np.nan, 0.0]}),
    "quotes needed": pd.DataFrame({"a": ['say "hi"', "x,y", "line\nbreak"], "b": [1.0, 2.0, 3.0]}),
    "carriage return": pd.DataFrame({"a": ["x\ry", "z", "w"], "b": [1.0, 2.0, 3.0]}),
    "mixed object": pd.DataFrame({"a": ["x", 1, 2.5], "b": [1.0, 2.0, 3.0]}),
    "empty": pd.DataFrame({"a": pd.Series([], dtype=object), "b": pd.Series([], dtype=float)}),
    "one column": pd.DataFrame({"a": ["", "x"]}),
    "infinities": pd.DataFrame({"a": ["x", "y"], "b": [np.inf, -np.inf]}),
    "non-ascii": pd.DataFrame({"a": ["é", "ü"], "b": [0.3, 0.1 + 0.2]}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_same_text_as_pandas(name: str) -> None:
    frame = CASES[name]
    integer = ("value",) if "value" in frame.columns else ()
    assert csv_text(frame, integer_columns=integer) == _pandas(frame, integer)


def test_integer_column_with_fractions_is_refused_as_pandas_refuses() -> None:
    frame = pd.DataFrame({"s": ["a", "b"], "value": [0.5, 1.0]})
    with pytest.raises(TypeError):
        _pandas(frame, ("value",))
    with pytest.raises(TypeError):
        csv_text(frame, integer_columns=("value",))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.text(max_size=4), st.floats(allow_nan=True, allow_infinity=True)), min_size=0, max_size=12)
)
def test_any_text_and_float_same_as_pandas(rows: list[tuple[str, float]]) -> None:
    frame = pd.DataFrame(
        {"t": pd.Series([r[0] for r in rows], dtype=object), "x": [r[1] for r in rows]}, columns=["t", "x"]
    )
    frame["x"] = frame["x"].astype(np.float64)
    assert csv_text(frame) == _pandas(frame)
