"""The engine's positional subject join gives exactly the frame of ``pandas.merge(how="left")`` (the reference)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmrtrial.analysis.engine import _left_join


def _left() -> pd.DataFrame:
    # a filtered visit frame: a non-default index, subjects in no particular order, one repeated
    return pd.DataFrame(
        {"subject_id": ["S3", "S1", "S2", "S1"], "arm": ["a", "b", "a", "b"], "value": [1.0, np.nan, 0.0, 1.0]},
        index=[7, 3, 9, 11],
    )


def _right(subjects: list[str]) -> pd.DataFrame:
    n = len(subjects)
    return pd.DataFrame(
        {
            "subject_id": subjects,
            "age": np.arange(n, dtype=np.int64) + 60,
            "female": np.arange(n) % 2 == 0,
            "crp": np.linspace(1.0, 2.0, n),
            "sex": ["F", "M", "F", "M", "F"][:n],
            "bmi": pd.array([20.5, None, 30.0, 25.0, 22.0][:n], dtype="Float64"),
        }
    )


@pytest.mark.parametrize(
    "subjects",
    [
        ["S1", "S2", "S3"],  # every subject found: dtypes kept
        ["S2", "S3", "S9", "S1", "S8"],  # extra rows on the right, another order
        ["S1", "S3"],  # S2 missing: NaN fill, int -> float, bool -> object, as merge does
    ],
)
def test_same_frame_as_merge(subjects: list[str]) -> None:
    left, right = _left(), _right(subjects)
    pd.testing.assert_frame_equal(_left_join(left, right), left.merge(right, on="subject_id", how="left"))


def test_shapes_it_does_not_handle_go_to_merge() -> None:
    left = _left()
    duplicated = _right(["S1", "S2", "S3"])
    duplicated = pd.concat([duplicated, duplicated.iloc[[0]]], ignore_index=True)  # S1 twice: rows multiply
    pd.testing.assert_frame_equal(_left_join(left, duplicated), left.merge(duplicated, on="subject_id", how="left"))
    overlapping = _right(["S1", "S2", "S3"]).assign(arm="x")  # a shared column: merge adds suffixes
    pd.testing.assert_frame_equal(_left_join(left, overlapping), left.merge(overlapping, on="subject_id", how="left"))


def test_left_is_not_changed() -> None:
    left = _left()
    before = left.copy()
    _left_join(left, _right(["S1", "S2", "S3"]))
    pd.testing.assert_frame_equal(left, before)
