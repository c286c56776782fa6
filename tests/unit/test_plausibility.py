"""Unit plausibility: suspicions for columns and single values (pmrtrial.plausibility).

Expected outcomes follow from the rules in the module docstring (hand reasoning shown per case): a suspicion is
raised exactly when the stated threshold is crossed.
"""

from __future__ import annotations

import pandas as pd
import pytest

from pmrtrial.plausibility import check_value, check_values, check_visits
from tests.unit.analysis._data import make_trial


def _visits(**columns):  # type: ignore[no-untyped-def]
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"subject_id": [f"S{i}" for i in range(n)], "week": 0, **columns})


def test_crp_in_mg_dl__suspected():
    # The case: CRP entered in mg/dL (35 mg/L typed as 3.5): baseline median 2.9 < 5 mg/L, all decimals.
    found = check_visits(_visits(crp_mg_l=[3.5, 2.2, 4.1, 1.8, 2.9, 6.3]))
    assert [(s.column, s.suspected_unit, s.factor) for s in found] == [("crp_mg_l", "mg/dL", 10.0)]
    assert found[0].message.startswith("crp_mg_l: looks like mg/dL rather than mg/L")


def test_crp_in_mg_l__not_suspected():
    # The same participants in mg/L: median 29 >= 5 mg/L.
    assert check_visits(_visits(crp_mg_l=[35.0, 22.0, 41.0, 18.0, 29.0, 63.0])) == ()


def test_crp_low_integers__not_suspected():
    # Median 3 < 5 but integer values (a mg/L lab reporting whole numbers): no decimals -> no suspicion.
    assert check_visits(_visits(crp_mg_l=[3.0, 2.0, 4.0, 1.0, 3.0, 6.0])) == ()


def test_crp_only_baseline_counts():
    # Follow-up CRP is low in responders; only each participant's first visit enters the median.
    visits = pd.DataFrame(
        {
            "subject_id": [f"S{i}" for i in range(6)] * 2,
            "week": [0] * 6 + [12] * 6,
            "crp_mg_l": [35.5, 22.1, 41.2, 18.3, 29.4, 63.5, 1.1, 0.5, 2.3, 0.9, 1.4, 0.2],
        }
    )
    assert check_visits(visits) == ()


def test_vas_0_100__suspected():
    found = check_visits(_visits(pain_vas=[66.0, 5.0, 72.0, 8.0, 40.0, 3.0]))
    assert [(s.column, s.suspected_unit) for s in found] == [("pain_vas", "0-100 mm")]
    assert "3 of 6 values above 10" in found[0].evidence  # 66, 72 and 40 exceed 10


def test_stiffness_in_hours__suspected():
    # Baseline median 2 (<= 6) and maximum 4 (<= 24): hours, not minutes.
    found = check_visits(_visits(morning_stiffness_min=[2.0, 1.5, 3.0, 4.0, 2.0, 1.0]))
    assert [(s.column, s.suspected_unit, s.factor) for s in found] == [("morning_stiffness_min", "hours", 60.0)]
    assert check_visits(_visits(morning_stiffness_min=[120.0, 90.0, 180.0, 60.0, 120.0, 45.0])) == ()


def test_too_few_values__no_verdict():
    assert check_visits(_visits(crp_mg_l=[3.5, 2.2, 4.1])) == ()


@pytest.mark.parametrize(
    ("field", "value", "suspected"),
    [
        ("crp_mg_l", 3.5, "mg/dL"),  # < 10 with a decimal
        ("crp_mg_l", 35.0, None),
        ("crp_mg_l", 4.0, None),  # an integer below 10 is an ordinary mg/L result
        ("crp_mg_dl", 35.0, "mg/L"),  # > 20 mg/dL would be 350 mg/L
        ("crp_mg_dl", 3.5, None),
        ("morning_stiffness_min", 2.0, "hours"),  # 0 < 2 < 6
        ("morning_stiffness_min", 0.0, None),
        ("morning_stiffness_min", 120.0, None),
        ("pain_vas", 6.6, None),  # no single-value rule
        ("crp_mg_l", None, None),
    ],
)
def test_check_value(field, value, suspected):
    s = check_value(field, value)
    assert (s.suspected_unit if s else None) == suspected


def test_check_values__only_flagged_fields():
    assert [s.column for s in check_values({"crp_mg_l": 3.5, "morning_stiffness_min": 120.0})] == ["crp_mg_l"]


def test_analysis_fixture__not_suspected():
    # The analysis tests' trial fixture (CRP in mg/L, VAS 0-10, stiffness in minutes) raises nothing.
    _, visits, _ = make_trial(14, 18, 2, 15, sites=6)
    assert check_visits(visits) == ()
