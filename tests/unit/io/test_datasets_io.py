"""Reading and writing dataset folders: round trips, bad files, nothing written on failure."""

from __future__ import annotations

import pandas as pd
import pytest

from pmrtrial.exceptions import DataError
from pmrtrial.io.datasets import read_datasets, write_datasets
from pmrtrial.protocol import load_protocol
from tests.unit.analysis._data import make_trial

PROTOCOL = load_protocol("bachelor")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_then_read__round_trip_keeps_values_and_synthetic_flag(tmp_path, fmt):
    s, v, a = make_trial(2, 3, 1, 2)
    s.attrs["synthetic"] = True
    write_datasets(tmp_path, s, v, a, protocol=PROTOCOL, file_format=fmt)
    d = read_datasets(tmp_path, protocol=PROTOCOL)
    assert d.synthetic is True
    assert d.subjects["subject_id"].tolist() == s["subject_id"].tolist()
    assert d.visits["crp_mg_l"].tolist() == v["crp_mg_l"].tolist()
    assert d.source_names["visits"] == f"visits.{fmt}"


def test_write_datasets__invalid_data_writes_nothing(tmp_path):
    s, v, a = make_trial(2, 3, 1, 2)
    v.loc[0, "pain_vas"] = 12.0
    with pytest.raises(DataError, match="pain_vas"):
        write_datasets(tmp_path / "out", s, v, a, protocol=PROTOCOL)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_read_datasets__bad_csv_error_names_file_row_column_value(tmp_path):
    s, v, a = make_trial(2, 3, 1, 2)
    write_datasets(tmp_path, s, v, a)
    text = (tmp_path / "visits.csv").read_text().splitlines()
    # data row 4 is line 5 of the file (after the header)
    cells = text[4].split(",")
    header = text[0].split(",")
    cells[header.index("esr_mm_h")] = "250"
    text[4] = ",".join(cells)
    (tmp_path / "visits.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(DataError, match=r"visits.csv, row 4, column 'esr_mm_h': value 250"):
        read_datasets(tmp_path, protocol=PROTOCOL)


def test_read_datasets__missing_and_ambiguous_files(tmp_path):
    with pytest.raises(DataError, match=r"subjects\.csv or subjects\.parquet"):
        read_datasets(tmp_path, protocol=PROTOCOL)
    s, v, a = make_trial(1, 1, 1, 1)
    write_datasets(tmp_path, s, v, a)
    pd.DataFrame(s).to_parquet(tmp_path / "subjects.parquet")
    with pytest.raises(DataError, match="Ambiguous"):
        read_datasets(tmp_path, protocol=PROTOCOL)


def _optional_tables(subject_ids: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    doses = pd.DataFrame(
        {
            "subject_id": [subject_ids[0], subject_ids[0], subject_ids[1]],
            "start_day": [0, 15, 3],
            "end_day": [14, None, 9],  # empty end_day: ongoing to end of follow-up
            "dose_mg_day": [15.0, 10.0, 20.0],
            "reason": ["taper", "taper", "rescue"],
        }
    )
    flares = pd.DataFrame(
        {
            "subject_id": [subject_ids[1]],
            "day": [84],
            "confirmed": [True],
            "rule": ["dejaco_2011"],
            "crp_pmr_as": [12.4],
        }
    )
    return doses, flares


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_optional_tables__round_trip_and_absent_file_means_absent_table(tmp_path, fmt):
    s, v, a = make_trial(2, 3, 1, 2)
    doses, flares = _optional_tables(s["subject_id"].tolist())
    write_datasets(tmp_path, s, v, a, protocol=PROTOCOL, file_format=fmt, gc_doses=doses, flares=flares)
    d = read_datasets(tmp_path, protocol=PROTOCOL)
    assert d.gc_doses is not None and d.flares is not None and d.absent_tables == ()
    assert d.gc_doses["dose_mg_day"].tolist() == [15.0, 10.0, 20.0]
    assert d.gc_doses["end_day"].isna().tolist() == [False, True, False]
    assert d.flares["confirmed"].tolist() == [True]
    assert d.source_names["flares"] == f"flares.{fmt}"
    # Writing again without the optional tables removes them: the tables are absent.
    write_datasets(tmp_path, s, v, a, protocol=PROTOCOL, file_format=fmt)
    d = read_datasets(tmp_path, protocol=PROTOCOL)
    assert d.gc_doses is None and d.flares is None
    assert d.absent_tables == ("gc_doses", "flares")


def test_optional_tables__errors_name_file_row_column_value(tmp_path):
    s, v, a = make_trial(2, 3, 1, 2)
    doses, flares = _optional_tables(s["subject_id"].tolist())
    write_datasets(tmp_path, s, v, a, gc_doses=doses, flares=flares)
    text = (tmp_path / "gc_doses.csv").read_text().replace("rescue", "infusion")
    (tmp_path / "gc_doses.csv").write_text(text)
    with pytest.raises(DataError, match=r"gc_doses\.csv, row 3, column 'reason': value 'infusion'\. Expected one of"):
        read_datasets(tmp_path, protocol=PROTOCOL)
    backwards = doses.assign(end_day=[14, None, 1])
    with pytest.raises(DataError, match=r"gc_doses, row 3, column 'end_day': value 1\. Expected end_day >= start_day"):
        write_datasets(tmp_path / "x", s, v, a, protocol=PROTOCOL, gc_doses=backwards)
    stranger = flares.assign(subject_id=["Z999"])
    with pytest.raises(DataError, match=r"flares, row 1, column 'subject_id': value 'Z999'"):
        write_datasets(tmp_path / "y", s, v, a, protocol=PROTOCOL, flares=stranger)
    twice = pd.concat([flares, flares], ignore_index=True)
    with pytest.raises(DataError, match="one row per participant and day"):
        write_datasets(tmp_path / "z", s, v, a, protocol=PROTOCOL, flares=twice)
