"""ADaM XPT files of the SYNTHETIC twin against an independent R reading of them.

Expected values: tests/reference/values/cdisc_adam.json, written by tests/reference/r/cdisc_adam_reference.R
(R 4.2.2, haven 2.5.1, epitools 0.5.10.1): it reads adsl.xpt and adeff.xpt with haven::read_xpt, selects the
primary records (PARAMCD RESP, AVISIT "Week 12", ANL01FL "Y", EFFFL "Y"), counts responders, and calls
fisher.test, epitools::riskratio(method = "wald") and t.test(var.equal = FALSE) on CRPPMRAS.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pmrtrial.analysis import analyse_trial
from pmrtrial.cdisc import build_cdisc
from pmrtrial.io.cdisc import write_cdisc
from pmrtrial.io.datasets import read_datasets
from pmrtrial.protocol import load_protocol

HERE = Path(__file__).resolve().parent
R = json.loads((HERE / "values" / "cdisc_adam.json").read_text())


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    protocol = load_protocol("bachelor")
    data = read_datasets(HERE / "data" / "twin", protocol=protocol)
    out = tmp_path_factory.mktemp("xpt")
    write_cdisc(out, build_cdisc(data, protocol), protocol, formats=["xpt"])
    return out, analyse_trial(data, protocol).to_dict()


def test_adam_xpt__primary_recomputed_in_r_equals_results(analysed):
    out, result = analysed
    assert (out / "adam" / "adsl.xpt").exists() and (out / "adam" / "adeff.xpt").exists()
    primary = result["primary"]
    for side, arm in (("treated", primary["treated_arm"]), ("control", primary["control_arm"])):
        assert R["responders"][side] == primary["responders"][arm]
    assert primary["fisher"]["p"] == pytest.approx(R["fisher_p"], rel=1e-9)
    for key in ("estimate", "lo", "hi"):
        assert primary["rr_crude"][key] == pytest.approx(R["rr_crude"][key], rel=1e-9)


def test_adam_xpt__crp_pmr_as_welch_in_r_equals_results(analysed):
    _, result = analysed
    rows = {f"Week {r['week']:g}": r for r in result["secondary"] if r["endpoint_id"] == "crp_pmr_as"}
    for ref in R["crp_pmr_as_welch"]:
        row = rows[ref["visit"]]
        assert row["arms"][result["primary"]["treated_arm"]]["n"] == ref["n_treated"]
        assert row["arms"][result["primary"]["control_arm"]]["n"] == ref["n_control"]
        for key in ("estimate", "lo", "hi", "p"):
            assert row["effect"][key] == pytest.approx(ref[key], rel=1e-9)
