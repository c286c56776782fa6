"""Rendering of the endpoint families: the further-endpoints table, the Kaplan-Meier figure with numbers at
risk and the cumulative glucocorticoid figure (computation is in pmrtrial.analysis; this only renders)."""

from __future__ import annotations

import pandas as pd

from pmrtrial.analysis import analyse_trial
from pmrtrial.datasets import validate_datasets
from pmrtrial.protocol import parse_protocol
from pmrtrial.report.figures import numbers_at_risk, render_figures
from pmrtrial.report.render import write_report
from pmrtrial.report.tables import build_tables
from tests.unit.analysis.test_plan_as_data import _tte_trial, _with_tte, bachelor_dict


def test_numbers_at_risk__from_the_step_table():
    # 3 participants: event at day 14, censored at day 20, event at day 28
    # at risk: t=0 -> 3; t=10 -> 3 (first time >= 10 is 14, 3 at risk); t=20 -> 2; t=25 -> 1; t=30 -> 0
    table = {"time": [14.0, 20.0, 28.0], "n_risk": [3, 2, 1], "n_event": [1, 0, 1], "n_censor": [0, 1, 0]}
    assert numbers_at_risk(3, table, [0, 10, 20, 25, 30]) == [3, 3, 2, 1, 0]


def test_report__time_to_event_and_gc_log(tmp_path):
    doc = _with_tte(bachelor_dict(), {"event": {"flare": {}}, "end_week": 12}, ["kaplan_meier", "logrank", "cox_ph"])
    proto = parse_protocol(doc)
    s, v, a = _tte_trial()
    log = pd.DataFrame(
        {
            "subject_id": ["B0", "P0", "P1"],
            "start_day": [0, 0, 30],
            "end_day": [27, None, 40],
            "dose_mg_day": [15.0, 10.0, 5.0],
            "reason": ["taper", "taper", "rescue"],
        }
    )
    result = analyse_trial(validate_datasets(s, v, a, protocol=proto), proto, gc_doses=log)
    tables = {t.id: t for t in build_tables(result)}
    rows = [r for r in tables["endpoints"].rows if r[0].text == "Time to first flare"]
    assert [r[2].text for r in rows] == ["Kaplan-Meier", "Log-rank test", "Cox hazard ratio"]  # registry labels
    # baricitinib: 3/3 events, median 28 days (hand: S = 2/3 after day 14, 1/3 after day 28)
    assert rows[0][3].text.startswith("3/3 events; median 28")
    gc = {(p.arm, p.week): p.mean for p in result.trajectories if p.variable == "cumulative_gc_mg"}
    # baricitinib W4 (day 28): B0 15 mg x 28 days = 420, B1 and B2 0 -> mean 140
    # placebo W8 (day 56): P0 10 x 56 = 560, P1 5 mg on days 30-40 = 55, P2 not seen -> mean 307.5
    assert gc[("baricitinib", 4.0)] == 140.0 and gc[("placebo", 8.0)] == 307.5
    figures = render_figures(result)
    assert "km_time_to_flare" in figures and "cumulative_gc" in figures
    assert figures["km_time_to_flare"][1][:8] == b"\x89PNG\r\n\x1a\n"
    files = write_report(result, tmp_path / "out", formats=("html",))
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Further endpoints" in html and "numbers at risk" in html and "Cumulative glucocorticoid" in html
    derived = pd.read_csv(tmp_path / "out" / "derived" / "time_to_flare.csv")
    assert list(derived.columns) == ["subject_id", "site_id", "arm", "time_days", "event"]
    assert len(files.derived) == len(proto.endpoints)
