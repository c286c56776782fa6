"""Canonical datasets: specs and validation (errors name the file, row, column and value)."""

from __future__ import annotations

import pandas as pd
import pytest

from pmrtrial.datasets import (
    ADVERSE_EVENTS_COLUMNS,
    SUBJECTS_COLUMNS,
    VISITS_COLUMNS,
    get_column_specs,
    validate_datasets,
)
from pmrtrial.exceptions import DataError, DuplicateRecordError, MissingColumnError
from pmrtrial.protocol import load_protocol
from tests.unit.analysis._data import make_trial

PROTOCOL = load_protocol("bachelor")
NAMES = {"subjects": "subjects.csv", "visits": "visits.csv", "adverse_events": "adverse_events.csv"}


def _trial() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return make_trial(2, 3, 1, 2)


def test_specs__every_column_documented_with_unit_and_kind():
    for specs in (SUBJECTS_COLUMNS, VISITS_COLUMNS, ADVERSE_EVENTS_COLUMNS):
        names = [s.name for s in specs]
        assert len(names) == len(set(names))
        for s in specs:
            assert s.unit and s.description and s.kind
    assert [s.name for s in get_column_specs("visits")][:3] == ["subject_id", "week", "crp_mg_l"]
    with pytest.raises(KeyError):
        get_column_specs("labs")


def test_validate_datasets__accepts_valid_and_reports_absent_optional_columns():
    s, v, a = _trial()
    d = validate_datasets(s, v, a, protocol=PROTOCOL)
    assert len(d.subjects) == 5 and len(d.visits) == 10 and len(d.adverse_events) == 0
    assert "sf36_pcs" in d.absent_columns["visits"]
    assert "bmi" in d.absent_columns["subjects"]
    assert d.synthetic is False
    assert "sf36_pcs" not in d.visits.columns  # absent columns are not invented


def test_validate_datasets__does_not_modify_inputs():
    s, v, a = _trial()
    before = v.copy()
    validate_datasets(s, v, a, protocol=PROTOCOL)
    pd.testing.assert_frame_equal(v, before)


def test_validate_datasets__synthetic_flag_from_attrs():
    s, v, a = _trial()
    s.attrs["synthetic"] = True
    assert validate_datasets(s, v, a, protocol=PROTOCOL).synthetic is True


@pytest.mark.parametrize(
    ("dataset", "row", "column", "value", "expected"),
    [
        # out of range (the VAS validator accepts [0, 10])
        ("visits", 3, "pain_vas", 11.0, "row 3, column 'pain_vas': value 11"),
        # not a number
        ("visits", 2, "crp_mg_l", "high", "row 2, column 'crp_mg_l': value 'high'"),
        # EUL is one of 0..3
        ("visits", 4, "upper_limb_elevation", 5, "row 4, column 'upper_limb_elevation': value 5"),
        # week outside the schedule (0, 2, 4, 8, 12, 16, 20, 24, 28, 36)
        ("visits", 1, "week", 13, "row 1, column 'week': value 13"),
        # category
        ("subjects", 2, "status", "dead", "row 2, column 'status': value 'dead'"),
        # arm not in the protocol
        ("subjects", 1, "arm", "tocilizumab", "row 1, column 'arm': value 'tocilizumab'"),
        # bad date
        ("subjects", 5, "randomised_on", "2021-13-45", "row 5, column 'randomised_on': value '2021-13-45'"),
    ],
)
def test_validate_datasets__error_names_file_row_column_value(dataset, row, column, value, expected):
    s, v, a = _trial()
    frame = {"subjects": s, "visits": v}[dataset]
    frame[column] = frame[column].astype(object)
    frame.loc[row - 1, column] = value
    with pytest.raises(DataError) as err:
        validate_datasets(s, v, a, protocol=PROTOCOL, source_names=NAMES)
    assert f"{dataset}.csv, {expected}" in str(err.value)


def test_validate_datasets__unknown_subject_in_visits():
    s, v, a = _trial()
    v.loc[6, "subject_id"] = "X999"
    with pytest.raises(DataError, match=r"visits.csv, row 7, column 'subject_id': value 'X999'"):
        validate_datasets(s, v, a, protocol=PROTOCOL, source_names=NAMES)


def test_validate_datasets__unknown_subject_in_adverse_events():
    s, v, _ = _trial()
    a = pd.DataFrame(
        {
            "subject_id": ["B000", "Z1"],
            "soc": ["Infections and infestations"] * 2,
            "term": ["Cystitis"] * 2,
            "serious": [False, True],
        }
    )
    with pytest.raises(DataError, match=r"adverse_events.csv, row 2, column 'subject_id': value 'Z1'"):
        validate_datasets(s, v, a, protocol=PROTOCOL, source_names=NAMES)


def test_validate_datasets__duplicate_subject_week():
    s, v, a = _trial()
    v = pd.concat([v, v.iloc[[3]]], ignore_index=True)
    with pytest.raises(DuplicateRecordError, match=r"row 11, column 'subject_id, week'"):
        validate_datasets(s, v, a, protocol=PROTOCOL, source_names=NAMES)


def test_validate_datasets__duplicate_subject_id():
    s, v, a = _trial()
    s.loc[1, "subject_id"] = s.loc[0, "subject_id"]
    with pytest.raises(DuplicateRecordError, match=r"subjects.csv, row 2, column 'subject_id'"):
        validate_datasets(s, v, a, protocol=PROTOCOL, source_names=NAMES)


def test_validate_datasets__missing_required_column_and_value():
    s, v, a = _trial()
    with pytest.raises(MissingColumnError, match="required column 'site_id'"):
        validate_datasets(s.drop(columns=["site_id"]), v, a, protocol=PROTOCOL)
    s.loc[2, "site_id"] = None
    with pytest.raises(DataError, match=r"subjects, row 3, column 'site_id'"):
        validate_datasets(s, v, a, protocol=PROTOCOL)


def test_validate_datasets__unknown_column_rejected():
    s, v, a = _trial()
    v["crp_mg_dl"] = 1.0
    with pytest.raises(DataError, match="unknown column 'crp_mg_dl'"):
        validate_datasets(s, v, a, protocol=PROTOCOL)


def test_validate_datasets__boolean_text_accepted_and_bad_boolean_rejected():
    s, v, _ = _trial()
    a = pd.DataFrame(
        {
            "subject_id": ["B000", "P001"],
            "soc": ["Infections and infestations"] * 2,
            "term": ["Cystitis"] * 2,
            "serious": ["true", "0"],
        }
    )
    d = validate_datasets(s, v, a, protocol=PROTOCOL)
    assert d.adverse_events["serious"].tolist() == [True, False]
    a.loc[1, "serious"] = "maybe"
    with pytest.raises(DataError, match=r"row 2, column 'serious': value 'maybe'"):
        validate_datasets(s, v, a, protocol=PROTOCOL)


def test_specs__built_from_the_vocabulary():
    from pmrtrial.datasets import FLARES_COLUMNS, GC_DOSES_COLUMNS
    from pmrtrial.vocabulary import table_variables

    assert table_variables("visits") == VISITS_COLUMNS
    assert [s.name for s in GC_DOSES_COLUMNS] == ["subject_id", "start_day", "end_day", "dose_mg_day", "reason"]
    assert [s.name for s in FLARES_COLUMNS] == ["subject_id", "day", "confirmed", "rule", "crp_pmr_as"]


def test_validate_datasets__interim_status_ongoing_and_new_optional_columns():
    s, v, a = _trial()
    s = s.assign(status=["ongoing"] * len(s), stratum="S0", blinding_guess_participant="dont_know")
    v = v.assign(us_synovitis="true", visit_date="2021-01-04")
    d = validate_datasets(s, v, a, protocol=PROTOCOL)
    assert set(d.subjects["status"]) == {"ongoing"}
    assert d.visits["us_synovitis"].all()
    with pytest.raises(DataError, match=r"column 'blinding_guess_investigator': value 'placebo'\. Expected one of"):
        validate_datasets(s.assign(blinding_guess_investigator="placebo"), v, a, protocol=PROTOCOL)
