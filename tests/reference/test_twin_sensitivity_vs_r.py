"""Sensitivity analyses and per-centre estimates of the twin's primary endpoint against R.

Expected values: tests/reference/values/twin_sensitivity.json, written by
tests/reference/r/twin_sensitivity_reference.R (R 4.2.2, epitools 0.5.10.1), which derives the week-12 response
itself from the raw CSVs and calls fisher.test, epitools::riskratio(method = "wald") and Newcombe's method 10 built
from prop.test(correct = FALSE) Wilson intervals.
"""

from __future__ import annotations

import pytest

from pmrtrial.analysis import analyse_trial
from pmrtrial.io.datasets import read_datasets
from pmrtrial.protocol import load_protocol
from tests.reference._util import DATA, load_values

R = load_values("twin_sensitivity.json")


@pytest.fixture(scope="module")
def primary():
    protocol = load_protocol("bachelor")
    return analyse_trial(read_datasets(DATA / "twin", protocol=protocol), protocol).to_dict()["primary"]


def test_missing_as_non_response__all_randomised_table_matches_r(primary):
    got = primary["sensitivity"]["missing_as_non_response"]
    ref = R["missing_as_non_response"]
    arms = got["details"]["arms"]
    assert {a: {"events": c["events"], "n": c["n"]} for a, c in arms.items()} == ref["counts"]
    assert got["details"]["imputed_non_responders"] == ref["missing"]
    assert got["p"] == pytest.approx(ref["fisher_p"], rel=1e-9)
    assert (got["estimate"], got["lo"], got["hi"]) == pytest.approx((ref["rr"], ref["rr_lo"], ref["rr_hi"]), rel=1e-9)
    rd = got["details"]["rd"]
    assert (rd["estimate"], rd["lo"], rd["hi"]) == pytest.approx(
        (ref["rd"]["estimate"], ref["rd"]["lo"], ref["rd"]["hi"]), rel=1e-9
    )


def test_tipping_point__every_cell_matches_r(primary):
    got = primary["sensitivity"]["tipping_point"]["details"]
    ref = R["tipping_point"]
    missing = (ref["missing"]["baricitinib"], ref["missing"]["placebo"])
    assert (got["missing_treated"], got["missing_control"]) == missing
    assert len(got["cells"]) == len(ref["cells"])
    for cell, expected in zip(got["cells"], ref["cells"], strict=True):
        for key in ("imputed_treated", "imputed_control", "events_treated", "n_treated", "events_control", "n_control"):
            assert cell[key] == expected[key], key
        assert cell["p"] == pytest.approx(expected["fisher_p"], rel=1e-9)
        assert (cell["rr"], cell["rr_lo"], cell["rr_hi"]) == pytest.approx(
            (expected["rr"], expected["rr_lo"], expected["rr_hi"]), rel=1e-9
        )
    assert got["robust"] is all(c["fisher_p"] <= 0.05 for c in ref["cells"])


def test_by_centre__counts_and_newcombe_rd_match_r(primary):
    assert [c["site_id"] for c in primary["by_centre"]] == [c["site_id"] for c in R["by_centre"]]
    for got, ref in zip(primary["by_centre"], R["by_centre"], strict=True):
        assert got["arms"] == ref["counts"]
        rd = got["rd"]
        assert (rd["estimate"], rd["lo"], rd["hi"]) == pytest.approx(
            (ref["rd"]["estimate"], ref["rd"]["lo"], ref["rd"]["hi"]), rel=1e-9, abs=1e-12
        )
