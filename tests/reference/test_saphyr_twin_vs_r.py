"""The SAPHYR twin's time to flare after remission through the analysis engine against R survival.

R: tests/reference/r/saphyr_twin_reference.R on tests/reference/data/saphyr_twin/flare_after_remission.csv, the
derived dataset written by ``pmrtrial analyse TWIN --protocol saphyr --out OUT`` for the seed-2023 twin
(coxph ties = "efron" HR and Wald CI, survdiff p, survfit medians). The test regenerates the twin, checks that the
engine's derived dataset is the stored one, and compares every number at 1e-6.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pmrtrial.analysis import analyse_trial
from pmrtrial.datasets import validate_datasets
from pmrtrial.protocol import load_protocol
from pmrtrial.synth.saphyr import generate_saphyr_twin
from tests.reference._util import DATA, close, load_values

RTOL = 1e-6


@pytest.fixture(scope="module")
def entry_and_frame() -> tuple[dict, pd.DataFrame]:
    twin = generate_saphyr_twin(seed=2023)
    p = load_protocol("saphyr")
    ds = validate_datasets(
        twin.subjects, twin.visits, twin.adverse_events, protocol=p, gc_doses=twin.gc_doses, flares=twin.flares
    )
    result = analyse_trial(ds, p)
    entry = next(e for e in result.endpoints if e.id == "flare_after_remission").analyses
    return entry, result.derived_datasets["flare_after_remission"]


def test_derived_dataset_is_the_one_r_read(entry_and_frame: tuple[dict, pd.DataFrame]) -> None:
    stored = pd.read_csv(DATA / "saphyr_twin" / "flare_after_remission.csv", dtype={"site_id": str})
    mine = entry_and_frame[1].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        mine[["subject_id", "arm", "event"]], stored[["subject_id", "arm", "event"]], check_dtype=False
    )
    assert (mine["time_days"].to_numpy() == stored["time_days"].to_numpy()).all()


def test_cox_efron_hr_ci_p_match_r(entry_and_frame: tuple[dict, pd.DataFrame]) -> None:
    want = load_values("saphyr_twin.json")["cox"]
    cox = entry_and_frame[0]["cox_ph"]
    for mine, theirs in (("estimate", "hr"), ("lo", "lo"), ("hi", "hi"), ("p", "p")):
        assert close(cox[mine], want[theirs], RTOL), (mine, cox[mine], want[theirs])


def test_logrank_p_matches_r_survdiff(entry_and_frame: tuple[dict, pd.DataFrame]) -> None:
    want = load_values("saphyr_twin.json")["logrank"]
    assert close(entry_and_frame[0]["logrank"]["p"], want["p"], RTOL)


def test_km_medians_match_r_survfit(entry_and_frame: tuple[dict, pd.DataFrame]) -> None:
    want = load_values("saphyr_twin.json")["km"]
    arms = entry_and_frame[0]["kaplan_meier"]["arms"]
    for arm in ("sarilumab", "placebo"):
        assert (arms[arm]["n"], arms[arm]["events"]) == (want[arm]["n"], want[arm]["events"])
        for key in ("median", "median_lo", "median_hi"):
            got = arms[arm][key]
            assert close(math.nan if got is None else got, want[arm][key], RTOL), (arm, key, got)


def test_search_helper_cox_matches_r() -> None:
    # the twin's flare-time search uses its own fast Efron fit; it agrees with R coxph on the stored dataset
    import numpy as np

    from pmrtrial.synth._comparator import efron_cox_binary

    data = pd.read_csv(DATA / "saphyr_twin" / "flare_after_remission.csv")
    beta, se = efron_cox_binary(
        data["time_days"].to_numpy(float),
        data["event"].to_numpy(int),
        (data["arm"] == "sarilumab").to_numpy(int),
    )
    want = load_values("saphyr_twin.json")["cox"]
    assert close(float(np.exp(beta)), want["hr"], RTOL) and close(se, want["se"], RTOL)
