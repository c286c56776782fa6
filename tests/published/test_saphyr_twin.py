"""The synthetic SAPHYR twin against the published figures (saphyr_published.yaml), in the BACHELOR tiers:
exact (counts), within printed precision (percentages, RD, HR and its limits), documented conflict (none known).

Published numbers are read with ``yaml.BaseLoader`` (printed strings, so the printed precision is known without
the package's loader). Achieved values are recomputed here independently of the twin's own report: counts and
cumulative doses by hand from the tables, the Cox model with lifelines' CoxPHFitter directly, Fisher's p with
scipy, the Newcombe interval from the Wilson limits written out below.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from typer.testing import CliRunner

from pmrtrial.analysis import analyse_trial
from pmrtrial.cli import build_app
from pmrtrial.datasets import validate_datasets
from pmrtrial.protocol import load_protocol
from pmrtrial.synth.saphyr import generate_saphyr_twin
from tests.published._printed import agrees, load_printed

PUB = load_printed("saphyr")
ARMS = ("sarilumab", "placebo")


@pytest.fixture(scope="module")
def twin() -> Any:
    return generate_saphyr_twin(seed=2023)


@pytest.fixture(scope="module")
def analysed(twin: Any) -> Any:
    p = load_protocol("saphyr")
    ds = validate_datasets(
        twin.subjects, twin.visits, twin.adverse_events, protocol=p, gc_doses=twin.gc_doses, flares=twin.flares
    )
    return analyse_trial(ds, p)


def test_labelled_synthetic_and_deterministic(twin: Any) -> None:
    assert twin.label == "SYNTHETIC — not trial data"
    for frame in (twin.subjects, twin.visits, twin.adverse_events, twin.gc_doses, twin.flares):
        assert frame.attrs["synthetic"] is True
    again = generate_saphyr_twin(seed=2023)
    pd.testing.assert_frame_equal(twin.gc_doses, again.gc_doses)
    pd.testing.assert_frame_equal(twin.flares, again.flares)
    assert twin.subjects["subject_id"].str.startswith("SAP-").all()


def test_exact__arm_sizes_and_sustained_remission(twin: Any, analysed: Any) -> None:
    # abstract: 60 vs 58 randomised (deck: 118); sustained remission 17/60 vs 6/58
    counts = twin.subjects["arm"].value_counts()
    assert (counts["sarilumab"], counts["placebo"]) == (int(PUB["arms"]["randomised"]["sarilumab"]["value"]),
                                                        int(PUB["arms"]["randomised"]["placebo"]["value"]))  # fmt: skip
    assert len(twin.subjects) == int(PUB["arms"]["randomised"]["total"]["value"])
    derived = analysed.derived_datasets["sustained_remission_w52"]
    for arm in ARMS:
        values = derived.loc[derived["arm"] == arm, "value"]
        assert (int(values.sum()), len(values)) == (int(PUB["primary_endpoint"][arm]["responders"]),
                                                    int(PUB["primary_endpoint"][arm]["n"]))  # fmt: skip


def test_within_printed_precision__percentages_rd_and_fisher(analysed: Any) -> None:
    prim = PUB["primary_endpoint"]
    assert agrees(prim["sarilumab"]["pct"], 100 * 17 / 60) and agrees(prim["placebo"]["pct"], 100 * 6 / 58)
    # Newcombe hybrid score (method 10) by hand: Wilson limits of 17/60 and 6/58, then
    # lo = d - sqrt((p1 - l1)^2 + (u2 - p2)^2), hi = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)
    z = sps.norm.ppf(0.975)

    def wilson(x: int, n: int) -> tuple[float, float]:
        c, h = (x + z * z / 2) / (n + z * z), z * math.sqrt(x * (n - x) / n + z * z / 4) / (n + z * z)
        return c - h, c + h

    (l1, u1), (l2, u2) = wilson(17, 60), wilson(6, 58)
    p1, p2 = 17 / 60, 6 / 58
    lo, hi = p1 - p2 - math.hypot(p1 - l1, u2 - p2), p1 - p2 + math.hypot(u1 - p1, p2 - l2)
    rd = prim["risk_difference"]
    assert agrees(rd["estimate"], 100 * (p1 - p2)) and agrees(rd["lo"], 100 * lo) and agrees(rd["hi"], 100 * hi)
    entry = next(e for e in analysed.endpoints if e.id == "sustained_remission_w52").analyses
    assert entry["risk_difference"]["lo"] == pytest.approx(lo, abs=1e-9)
    # EULAR 2022: p = 0.0193 (Fisher's exact two-sided on 17/60 vs 6/58, scipy); abstract: P = 0.02
    fisher_p = sps.fisher_exact([[17, 43], [6, 52]]).pvalue
    assert agrees(prim["p_eular"]["value"], fisher_p) and agrees(prim["p"]["value"], fisher_p)
    assert entry["fisher_exact"]["p"] == pytest.approx(fisher_p, rel=1e-9)


def test_within_printed_precision__flare_after_remission_hr(analysed: Any) -> None:
    from lifelines import CoxPHFitter

    frame = analysed.derived_datasets["flare_after_remission"].copy()
    frame["treated"] = (frame["arm"] == "sarilumab").astype(int)
    cph = CoxPHFitter().fit(frame[["time_days", "event", "treated"]], "time_days", "event")  # Efron ties
    coef, se = float(cph.params_["treated"]), float(cph.standard_errors_["treated"])
    z = sps.norm.ppf(0.975)
    hr = PUB["secondary"]["flare_after_remission"]["hazard_ratio"]
    got = (math.exp(coef), math.exp(coef - z * se), math.exp(coef + z * se))
    assert agrees(hr["estimate"], got[0]) and agrees(hr["lo"], got[1]) and agrees(hr["hi"], got[2]), got
    # the event count the published interval implies: SE = (ln 0.90 - ln 0.35)/(2 x 1.96) = 0.241
    assert int(frame["event"].sum()) == 72 and 0.236 <= se <= 0.246
    cox = next(e for e in analysed.endpoints if e.id == "flare_after_remission").analyses["cox_ph"]
    assert cox["estimate"] == pytest.approx(got[0], rel=1e-6)  # lifelines default tolerance vs the stats module


def test_exact__cumulative_gc_medians_from_the_log(twin: Any) -> None:
    # by hand: sum of dose x days of each row, clipped to days 0-363 (week 52 = day 364, the day before it)
    log = twin.gc_doses
    ends = log["end_day"].astype("float").fillna(363).clip(upper=363)
    days = (ends - log["start_day"] + 1).clip(lower=0)
    per = (log["dose_mg_day"] * days).groupby(log["subject_id"]).sum()
    # the endpoint is evaluated at the week-52 visit: participants who withdrew before it are not in the median
    completed = twin.subjects[twin.subjects["status"] == "completed"].set_index("subject_id")["arm"]
    per = per[per.index.isin(completed.index)]
    for a in ARMS:
        median = float(np.median(per[completed[per.index] == a]))
        assert median == float(PUB["secondary"]["cumulative_gc_mg"][f"{a}_median"]["value"])


def test_plausible__doses_on_the_schedule_plus_rescue(twin: Any) -> None:
    p = load_protocol("saphyr")
    log = twin.gc_doses
    taper = log[log["reason"] == "taper"]
    for a in ARMS:
        scheduled = {(round(7 * s.from_week), float(s.dose_mg_day)) for s in p.get_arm(a).gc_taper}
        ids = set(twin.subjects.loc[twin.subjects["arm"] == a, "subject_id"])
        rows = taper[taper["subject_id"].isin(ids)]
        assert set(zip(rows["start_day"], rows["dose_mg_day"], strict=True)) == scheduled
    assert set(log["reason"]) <= {"taper", "rescue", "other"} and log["dose_mg_day"].between(0, 15).all()
    v = twin.visits
    assert v["pain_vas"].between(0, 10).all() and v["upper_limb_elevation"].between(0, 3).all()
    # every flare is followed by rescue from its day
    rescue = log[log["reason"] == "rescue"].set_index("subject_id")["start_day"]
    assert all(rescue.get(s) == d for s, d in zip(twin.flares["subject_id"], twin.flares["day"], strict=True))


def test_exact__female_count_and_the_documented_conflict(twin: Any) -> None:
    # pathway summary: 82 female, 36 male of 118, printed 69.0% / 31.0%; by hand 82/118 = 69.49% -> 69.5%
    assert int((twin.subjects["sex"] == "female").sum()) == int(PUB["baseline"]["female"]["n"]) == 82
    assert not agrees(PUB["baseline"]["female"]["pct"], 100 * 82 / 118)


def test_withdrawals__published_discontinuation_and_non_responder_imputation(twin: Any, analysed: Any) -> None:
    # abstract (as quoted): treatment-related discontinuation 12% vs 7%; 7/60 = 11.7%, 4/58 = 6.9%
    disc = PUB["adverse_events"]["treatment_related_discontinuation_pct"]
    withdrawn = twin.subjects[twin.subjects["status"] == "withdrawn"]
    counts = withdrawn["arm"].value_counts()
    assert (counts["sarilumab"], counts["placebo"]) == (7, 4)
    assert agrees(disc["sarilumab"], 100 * 7 / 60) and agrees(disc["placebo"], 100 * 4 / 58)
    # no visit after withdrawal, no week-52 visit; still in the primary denominator as non-responders
    assert not twin.visits[twin.visits["subject_id"].isin(withdrawn["subject_id"])]["week"].eq(52).any()
    derived = analysed.derived_datasets["sustained_remission_w52"].set_index("subject_id")["value"]
    assert (derived[withdrawn["subject_id"]] == 0).all() and len(derived) == 118


def test_report__only_the_documented_conflict(twin: Any) -> None:
    assert {c.target for c in twin.report.conflicts} == {"baseline.female.pct"}
    assert "82/118 = 69.5%" in twin.report.get("baseline.female.pct").explanation
    assert twin.report.get("secondary.cumulative_gc_mg.placebo_median").status == "exact"


def test_cli_writes_every_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(), ["synth", "saphyr", "--seed", "2023", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    assert {"subjects.csv", "visits.csv", "adverse_events.csv", "gc_doses.csv", "flares.csv"} <= names
    assert "SYNTHETIC" in (tmp_path / "README.txt").read_text(encoding="utf-8")
