"""Blinded exports: validated as blinded, pooled review only, arm comparisons refused (issue 12, item 10)."""

from __future__ import annotations

import base64
import json

import pytest

from pmrtrial.analysis.blinded import BlindedComparisonRefused, blinded_review
from pmrtrial.cli import main
from pmrtrial.exceptions import DataError
from pmrtrial.io.datasets import read_datasets, write_datasets
from pmrtrial.io.files import read_protocol_text
from pmrtrial.protocol import load_protocol
from tests.unit.analysis._data import make_trial

BACHELOR = load_protocol(read_protocol_text("bachelor"))


def _blinded_folder(tmp_path, *, blinded=True, codes=True):
    s, v, a = make_trial(3, 4, 1, 3)  # 4 baricitinib + 3 placebo, seen at W0 and W12
    if codes:
        s["arm"] = ["BC-" + base64.b32encode(bytes([i] * 5)).decode() for i in range(len(s))]
    folder = tmp_path / "blind"
    write_datasets(folder, s, v, a, manifest={"blinded": blinded} if blinded else None)
    return folder


def test_a_blinded_export_validates_as_blinded(tmp_path) -> None:
    data = read_datasets(_blinded_folder(tmp_path), protocol=BACHELOR)
    assert data.blinded is True and data.subjects["arm"].str.startswith("BC-").all()
    # The same codes without the manifest flag are unknown arms.
    with pytest.raises(DataError, match="Expected an arm of protocol bachelor"):
        read_datasets(_blinded_folder(tmp_path / "x", blinded=False), protocol=BACHELOR)
    # A folder marked blinded but holding real arms is refused too (it would leak the grouping).
    with pytest.raises(DataError, match="blinded code per participant"):
        read_datasets(_blinded_folder(tmp_path / "y", codes=False), protocol=BACHELOR)


def test_pooled_review_and_refusal_of_arm_comparison(tmp_path) -> None:
    data = read_datasets(_blinded_folder(tmp_path), protocol=BACHELOR)
    review = blinded_review(data)
    assert review.n_subjects == 7  # 4 + 3 (make_trial)
    # make_trial: every W0 has CRP 30 mg/L; at W12 CRP is 5 mg/L for all (hand-made data).
    assert review.visits[0.0]["crp_mg_l"]["n"] == 7 and review.visits[0.0]["crp_mg_l"]["mean"] == 30.0
    assert review.visits[12.0]["crp_mg_l"]["median"] == 5.0
    # At W12, 3 + 1 responders take no GC and the other 1 + 2 take 5 mg/day: mean 15/7.
    assert review.visits[12.0]["oral_gc_mg_day"]["mean"] == pytest.approx(15 / 7)
    with pytest.raises(BlindedComparisonRefused, match="pooled summaries only"):
        blinded_review(data, group_by="arm")


def test_cli_refuses_a_blinded_folder_and_runs_the_pooled_review(tmp_path, capsys) -> None:
    folder = _blinded_folder(tmp_path)
    code = main(["analyse", str(folder), "--out", str(tmp_path / "out"), "--no-pdf"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "is a blinded export" in err and "pmrtrial analyse --blinded" in err
    assert not (tmp_path / "out").exists()
    code = main(["analyse", str(folder), "--blinded", "--out", str(tmp_path / "out")])
    assert code == 0
    review = json.loads((tmp_path / "out" / "blinded_review.json").read_text())
    assert review["arms_compared"] is False and review["n_subjects"] == 7
    assert not (tmp_path / "out" / "results.json").exists()
