"""The synthetic SEMAPHORE twin against the published figures (semaphore_published.yaml), in the BACHELOR tiers:
exact (counts), within printed precision (percentages, means, adjusted risk ratios), documented conflict (the
abstract's randomised 51/50 against the deck's denominators 49/51).

Published numbers are read with ``yaml.BaseLoader`` (printed strings). Achieved values are recomputed here from the
tables: CRP/ESR PMR-AS by the Leeb & Bird formula written out below, GC-free and doses from the gc_doses log by
hand, the adjusted risk ratio by statsmodels' Poisson GLM with HC0 (an implementation independent of
pmrtrial.stats; R glm + sandwich is checked in tests/reference/test_semaphore_twin_vs_r.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pmrtrial.cli import build_app
from pmrtrial.synth.semaphore import generate_semaphore_twin
from tests.published._printed import agrees, load_printed

PUB = load_printed("semaphore")
ARMS = ("tocilizumab", "placebo")
#: The only conflicts: arm sizes (abstract 51/50 randomised, 101 in all; the deck's percentages need 49/51).
EXPECTED_CONFLICTS = {"arms.randomised.total", "arms.randomised.tocilizumab", "arms.randomised.placebo"}


@pytest.fixture(scope="module")
def twin() -> Any:
    return generate_semaphore_twin(seed=2022)


@pytest.fixture(scope="module")
def w24(twin: Any) -> pd.DataFrame:
    """Week-24 and baseline values per participant, recomputed by hand from visits and the GC log."""
    v = twin.visits.merge(twin.subjects[["subject_id", "arm"]], on="subject_id")
    # Leeb & Bird: CRP (mg/dL) + VASp + VASph + 0.1 x stiffness (min) + EUL; ESR variant 0.1 x ESR (mm/h)
    clinical = v["pain_vas"] + v["physician_global_vas"] + v["morning_stiffness_min"] / 10 + v["upper_limb_elevation"]
    v["crp_pmr_as"] = (v["crp_mg_l"] / 10 + clinical).round(6)
    v["esr_pmr_as"] = (v["esr_mm_h"] / 10 + clinical).round(6)
    log = twin.gc_doses

    def dose_on(sid: str, day: int) -> float:
        rows = log[(log["subject_id"] == sid) & (log["start_day"] <= day)]
        rows = rows[rows["end_day"].isna() | (rows["end_day"].astype("float") >= day)]
        return float(rows["dose_mg_day"].sum())

    base = v[v["week"] == 0].set_index("subject_id")
    out = v[v["week"] == 24].set_index("subject_id").copy()
    out["dose"] = [dose_on(s, 168) for s in out.index]
    out["base_dose"] = [dose_on(s, 0) for s in out.index]
    out["base_score"] = base.loc[out.index, "crp_pmr_as"]
    out["responder"] = (out["crp_pmr_as"] < 10) & ((out["dose"] <= 5) | (out["dose"] - out["base_dose"] <= -10))
    out["free"] = out["dose"] == 0
    return out


def test_labelled_synthetic_and_deterministic(twin: Any) -> None:
    assert twin.label == "SYNTHETIC — not trial data"
    assert all(f.attrs["synthetic"] for f in (twin.subjects, twin.visits, twin.gc_doses))
    pd.testing.assert_frame_equal(twin.visits, generate_semaphore_twin(seed=2022).visits)


def test_exact__denominators_and_counts(twin: Any, w24: pd.DataFrame) -> None:
    implied = PUB["arms"]["analysed_implied_by_deck"]
    for arm in ARMS:
        at = w24[w24["arm"] == arm]
        assert len(at) == int(implied[arm]["value"])
        assert int(at["responder"].sum()) == int(PUB["primary_endpoint"][arm]["responders"])
    ae = twin.adverse_events.merge(twin.subjects[["subject_id", "arm"]], on="subject_id")
    for key, term in (("infections", "Infection"), ("headache", "Headache")):
        for arm in ARMS:
            got = ae.loc[(ae["term"] == term) & (ae["arm"] == arm), "subject_id"].nunique()
            assert got == int(PUB["adverse_events"][key][arm]["n"])
    assert float(np.median(w24["base_dose"])) == float(PUB["baseline"]["glucocorticoid_median_mg_day"]["value"])


def test_within_printed_precision__percentages_and_means(twin: Any, w24: pd.DataFrame) -> None:
    sec = PUB["secondary"]
    for arm in ARMS:
        at = w24[w24["arm"] == arm]
        n = len(at)
        assert agrees(PUB["primary_endpoint"][arm]["pct"], 100 * at["responder"].mean())
        assert agrees(sec["glucocorticoid_free_week24"][f"{arm}_pct"], 100 * at["free"].sum() / n)
        assert agrees(sec["crp_pmr_as_week24"][arm], at["crp_pmr_as"].mean())
        assert agrees(sec["esr_pmr_as_week24"][arm], at["esr_pmr_as"].mean())
        assert agrees(sec["glucocorticoid_mg_day_week24"][arm], at["dose"].mean())
        mtx = twin.subjects.loc[twin.subjects["arm"] == arm, "mtx_baseline"]
        assert agrees(PUB["baseline"]["methotrexate_co_medication"][f"{arm}_pct"], 100 * mtx.mean())
        for key in ("infections", "headache"):
            assert agrees(PUB["adverse_events"][key][arm]["pct"], 100 * int(PUB["adverse_events"][key][arm]["n"]) / n)


def test_within_printed_precision__adjusted_risk_ratios(w24: pd.DataFrame) -> None:
    import statsmodels.api as sm

    x = pd.DataFrame(
        {"treated": (w24["arm"] == "tocilizumab").astype(float), "base_dose": w24["base_dose"],
         "base_score": w24["base_score"]}
    )  # fmt: skip
    x = sm.add_constant(x)
    for outcome, printed in (
        ("responder", PUB["primary_endpoint"]["adjusted_risk_ratio"]["estimate"]),
        ("free", PUB["secondary"]["glucocorticoid_free_week24"]["adjusted_risk_ratio"]),
    ):
        fit = sm.GLM(w24[outcome].astype(float), x, family=sm.families.Poisson()).fit(cov_type="HC0")
        assert agrees(printed, float(np.exp(fit.params["treated"]))), outcome
        if outcome == "responder":
            assert float(fit.pvalues["treated"]) < 0.001  # deck: p < 0.001


def test_documented_conflicts_only(twin: Any) -> None:
    conflicts = {c.target for c in twin.report.conflicts}
    assert conflicts == EXPECTED_CONFLICTS
    assert all("49 and 51" in c.explanation for c in twin.report.conflicts)
    # the abstract's 51 + 50 = 101 against the deck's 49 + 51 = 100 (PMC10946364: 100 analysed)
    assert int(PUB["arms"]["randomised"]["total"]["value"]) == 101 and len(twin.subjects) == 100


def test_plausible__bounded_and_tapering(twin: Any) -> None:
    v = twin.visits
    assert v["pain_vas"].between(0, 10).all() and v["physician_global_vas"].between(0, 10).all()
    assert v["upper_limb_elevation"].between(0, 3).all() and (v["crp_mg_l"] >= 0).all()
    # doses never increase along a participant's log (a taper), and every step is on the 0.5 mg grid
    for _, rows in twin.gc_doses.groupby("subject_id"):
        doses = rows.sort_values("start_day")["dose_mg_day"].to_numpy()
        assert (np.diff(doses) <= 1e-9).all() and np.allclose(doses * 2, np.round(doses * 2))


def test_cli_writes_every_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(), ["synth", "semaphore", "--seed", "2022", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    assert {"subjects.csv", "visits.csv", "adverse_events.csv", "gc_doses.csv", "flares.csv"} <= names
    assert "3 documented conflicts" in result.output
