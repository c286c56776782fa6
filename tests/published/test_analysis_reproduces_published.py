"""The analysis engine run on the synthetic twin reproduces BACHELOR's published figures.

Expected values are published figures (bachelor_published.yaml, tier A) at printed precision. The twin is
built from those aggregates (pmrtrial.synth), so this checks the whole path twin -> datasets -> validation
-> derivations -> analysis against the publication.
"""

from __future__ import annotations

import pytest

from pmrtrial.analysis import analyse_trial
from pmrtrial.datasets import validate_datasets
from pmrtrial.protocol import load_protocol
from pmrtrial.report.render import load_published
from pmrtrial.report.tables import build_tables, collect_flags

synth = pytest.importorskip("pmrtrial.synth")

PUB = load_published("bachelor")
PROTOCOL = load_protocol("bachelor")


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    twin = synth.generate_bachelor_twin(seed=2025)
    datasets = validate_datasets(twin.subjects, twin.visits, twin.adverse_events, protocol=PROTOCOL)
    assert datasets.synthetic
    return analyse_trial(datasets, PROTOCOL, published=PUB)


def test_primary__published_counts(result):
    # published: baricitinib 14/18 (78%), placebo 2/15 (13%)
    assert result.primary.responders == {"baricitinib": {"n": 18, "events": 14}, "placebo": {"n": 15, "events": 2}}


def test_primary__crude_rr_and_fisher(result):
    # published RR 5.8 (printed to one decimal); Fisher exact p < 0.001 (stats-notes.md: 0.000361403)
    assert round(result.primary.rr_crude.estimate, 1) == 5.8
    assert result.primary.fisher.p < 0.001


def test_visit_states__equal_to_published_table(result):
    ours = {row.week: row.counts for row in result.visit_states}
    for published in PUB["visit_states"]:
        for arm in ("baricitinib", "placebo"):
            got = ours[float(published["week"])][arm]
            want = published[arm]
            assert {k: got[k] for k in want} == want, (published["week"], arm)
            assert got["missing"] == 0


def test_baseline_and_secondary_summaries__within_printed_precision(result):
    flags = collect_flags(build_tables(result, PUB))
    # baseline (mean, SD, median, quartiles, n, %) and the per-arm secondary summaries all match ...
    assert [f for f in flags if f["table"] == "baseline"] == []
    assert [f for f in flags if f["table"] == "visit_states"] == []
    arm_cells = [f for f in flags if f["table"] == "secondary" and f["column"] in ARM_COLUMNS]
    # ... except the ESR PMR-AS means, which the publication makes arithmetically inconsistent with its own
    # CRP PMR-AS, CRP and ESR rows. ESR PMR-AS = CRP PMR-AS - CRP(mg/dL) + ESR/10; week 12 baricitinib:
    # 5.7 - 0.4 + 22.2/10 = 7.5 (printed 8.1); placebo: 6.3 - 1.2 + 12.9/10 = 6.4 (printed 5.5).
    assert {f["row"].split(" / ")[1] for f in arm_cells} <= {"ESR PMR-AS"}


ARM_COLUMNS = ("Baricitinib 4 mg then 2 mg", "Placebo")


def test_serious_adverse_events__by_soc(result):
    ours = {r["soc"]: r for r in result.adverse_events.serious_by_soc}
    for row in PUB["adverse_events"]["serious_by_soc"]:
        assert (ours[row["soc"]]["baricitinib"], ours[row["soc"]]["placebo"]) == (row["baricitinib"], row["placebo"])
    assert sum(result.adverse_events.deaths.values()) == PUB["adverse_events"]["deaths"]["total"]  # 0


def test_gee__reported_with_small_sample_correction_and_documented_gap(result):
    gee = result.primary.rr_gee
    assert gee.available and gee.converged
    md_lo, md_hi = gee.details["ci_mancl_derouen"]
    assert md_lo < gee.lo and md_hi > gee.hi  # the Mancl-DeRouen interval is the wider one
    # The published adjusted interval (3.2 to 10.6) depends on the unpublished allocation to centres; the report
    # says so beside the number (stats-notes.md, "Primary endpoint from the published counts").
    primary = next(t for t in build_tables(result, PUB) if t.id == "primary")
    assert any("allocation of participants to centres is not published" in n for n in primary.notes)


def test_ultrasound_synovitis_week12__published_fractions(result):
    # deck, ultrasound slide: synovitis at week 12, baricitinib 11/18, placebo 12/16 (randomised denominators)
    row = next(r for r in result.secondary if r.endpoint_id == "us_synovitis_w12")
    assert {a: (row.arms[a]["events"], row.arms[a]["n"]) for a in row.arms} == {
        "baricitinib": (11, 18),
        "placebo": (12, 16),
    }
    entry = next(e for e in result.endpoints if e.id == "us_synovitis_w12")
    assert entry.analyses["risk_ratio"]["imputed_non_events"] == {"baricitinib": 0, "placebo": 1}
