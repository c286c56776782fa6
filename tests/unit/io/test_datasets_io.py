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
