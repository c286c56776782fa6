"""ADSL population flags come from the analysis engine's own population evaluation
(:func:`pmrtrial.analysis.population_sets`), for every population each protocol declares, on the three
SYNTHETIC twins (BACHELOR, SEMAPHORE, SAPHYR).

Each flag is checked twice: against the engine's evaluation (same members), and against the numbers the SAP
engine analyses in ``analyse_trial`` (a different path: the primary analysis' n, the per-protocol sensitivity's
n, the Kaplan-Meier n of the endpoint analysed on the population, the CONSORT randomised counts). Where the
publication prints a population's size, that number is checked too (sources below).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd
import pytest

from pmrtrial.analysis import analyse_trial, evaluate_populations
from pmrtrial.cdisc import build_cdisc
from pmrtrial.cdisc.adam import population_flag
from pmrtrial.cdisc.checks import check_package
from pmrtrial.datasets import validate_datasets
from pmrtrial.protocol import load_protocol

#: Population sizes the publications print, by arm.
PUBLISHED = {
    # BACHELOR (Lancet Rheumatol 2025; deck): 34 randomised (18 baricitinib, 16 placebo); primary analysis on the
    # participants assessed at week 12: 18 and 15 (one placebo participant not assessed).
    "bachelor": {
        "randomised": {"baricitinib": 18, "placebo": 16},
        "primary_analysis": {"baricitinib": 18, "placebo": 15},
    },
    # SAPHYR (Spiera et al., NEJM 2023): 60 sarilumab, 58 placebo randomised.
    "saphyr": {"randomised": {"sarilumab": 60, "placebo": 58}},
}


def _twin(name: str) -> Any:
    if name == "bachelor":
        from pmrtrial.synth import generate_bachelor_twin

        return generate_bachelor_twin()
    if name == "semaphore":
        from pmrtrial.synth.semaphore import generate_semaphore_twin

        return generate_semaphore_twin()
    from pmrtrial.synth.saphyr import generate_saphyr_twin

    return generate_saphyr_twin()


@pytest.fixture(scope="module", params=["bachelor", "semaphore", "saphyr"])
def trial(request: pytest.FixtureRequest) -> dict[str, Any]:
    name = request.param
    twin, protocol = _twin(name), load_protocol(name)
    data = validate_datasets(
        twin.subjects,
        twin.visits,
        twin.adverse_events,
        protocol=protocol,
        gc_doses=getattr(twin, "gc_doses", None),
        flares=getattr(twin, "flares", None),
    )
    packages = build_cdisc(data, protocol)
    return {
        "name": name,
        "protocol": protocol,
        "data": data,
        "adam": packages["adam"],
        "results": analyse_trial(data, protocol).to_dict(),
    }


def _flagged(adsl: pd.DataFrame, flag: str) -> set[str]:
    assert set(adsl[flag]) <= {"Y", "N"}, (flag, set(adsl[flag]))  # Y/N for everyone: never left empty
    return set(adsl.loc[adsl[flag] == "Y", "SUBJID"].astype(str))


def _by_arm(adsl: pd.DataFrame, flag: str, arms: dict[str, str]) -> dict[str, int]:
    return dict(Counter(arms[s] for s in _flagged(adsl, flag)))


def test_every_declared_population_has_the_engines_members(trial: dict[str, Any]) -> None:
    adsl = trial["adam"].datasets["ADSL"]
    engine = evaluate_populations(trial["data"], trial["protocol"])
    assert list(engine) == [p.id for p in trial["protocol"].populations]
    for pop_id, members in engine.items():
        assert members.assessable, (pop_id, members.notes)
        assert _flagged(adsl, population_flag(pop_id)) == set(members.subject_ids), pop_id
    assert not [n for n in trial["adam"].notes if "left empty" in n]
    assert check_package(trial["adam"]) == []
    flags = {v.name: v for v in trial["adam"].metadata["ADSL"].variables if v.name.endswith("FL")}
    assert all(flags[population_flag(p.id)].required for p in trial["protocol"].populations)


def test_flags_match_the_numbers_the_sap_engine_analyses(trial: dict[str, Any]) -> None:
    adsl, results, protocol = trial["adam"].datasets["ADSL"], trial["results"], trial["protocol"]
    arms = dict(zip(trial["data"].subjects["subject_id"].astype(str), trial["data"].subjects["arm"], strict=True))
    checked = 0
    for pop in protocol.populations:
        got = _by_arm(adsl, population_flag(pop.id), arms)
        if pop.id in ("randomised", "safety"):  # safety: no exposure flag, every randomised participant
            assert got == results["consort"]["randomised"]
        elif pop.id == "primary_analysis":
            assert got == {a: r["n"] for a, r in results["primary"]["responders"].items()}
        elif pop.exclude_if:
            pp = results["primary"]["sensitivity"]["per_protocol"]["details"]
            assert pp["population_id"] == pop.id
            assert got == {a: r["n"] for a, r in pp["arms"].items()}
        else:  # a population an endpoint is analysed on: its Kaplan-Meier n
            endpoint = next(e for e in protocol.endpoints if e.population == pop.id)
            km = next(e for e in results["endpoints"] if e["id"] == endpoint.id)["analyses"]["kaplan_meier"]
            assert got == {a: r["n"] for a, r in km["arms"].items()}
        for published_id, counts in PUBLISHED.get(trial["name"], {}).items():
            if published_id == pop.id:
                assert got == counts, pop.id
        checked += 1
    assert checked == len(protocol.populations)


def test_a_major_deviation_takes_a_participant_out_of_the_per_protocol_flag_only() -> None:
    from pmrtrial.synth import generate_bachelor_twin

    protocol = load_protocol("bachelor")
    twin = generate_bachelor_twin()
    visits = twin.visits.copy()
    # the first baricitinib participant: study drug recorded as 0 mg/day at week 4, while BACHELOR's dosing
    # schedules baricitinib 4 mg/day up to week 12: "study_drug_stopped", a major deviation (protocol exclude_if)
    who = str(twin.subjects.loc[twin.subjects["arm"] == "baricitinib", "subject_id"].iloc[0])
    visits.loc[(visits["subject_id"].astype(str) == who) & (visits["week"] == 4), "study_drug_mg_day"] = 0.0
    data = validate_datasets(twin.subjects, visits, twin.adverse_events, protocol=protocol)
    adsl = build_cdisc(data, protocol)["adam"].datasets["ADSL"].set_index("SUBJID")
    assert (adsl.loc[who, "EFFFL"], adsl.loc[who, "PPROTFL"]) == ("Y", "N")
    assert (adsl["PPROTFL"] == "Y").sum() == (adsl["EFFFL"] == "Y").sum() - 1  # 33 - 1 (hand count)
    engine = evaluate_populations(data, protocol)["per_protocol"]
    assert engine.excluded["study_drug_stopped"] == (who,)
