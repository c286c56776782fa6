"""The BACHELOR protocol as data, protocol validation and the predicate interpreter.

Expected protocol facts come from the deck (shared/seed) and bachelor_published.yaml (design section).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from pmrtrial.exceptions import ProtocolError, ProtocolValidationError
from pmrtrial.protocol import (
    ProtocolRegistry,
    evaluate_predicate,
    list_protocols,
    load_protocol,
    parse_predicate,
    parse_protocol,
    validate_protocol,
)
from pmrtrial.protocol.registry import read_bundled_text


@pytest.fixture(scope="module")
def bachelor():
    return load_protocol("bachelor")


@pytest.fixture
def raw() -> dict[str, Any]:
    return yaml.safe_load(read_bundled_text("bachelor"))


def test_load_protocol__bachelor_design_matches_publication(bachelor):
    # bachelor_published.yaml design: visits_weeks [0, 2, 4, 8, 12, 16, 20, 24, 28, 36]; 1:1; two arms
    assert [v.week for v in bachelor.visits] == [0, 2, 4, 8, 12, 16, 20, 24, 28, 36]
    assert bachelor.randomisation.ratio == {"baricitinib": 1, "placebo": 1}
    assert {a.id for a in bachelor.arms} == {"baricitinib", "placebo"}
    assert bachelor.id == "bachelor" and bachelor.version == "1.0"
    assert "bachelor" in list_protocols()


@pytest.mark.parametrize(
    ("arm", "week", "expected"),
    [
        # Deck: baricitinib 4 mg/day weeks 0-12, then 2 mg/day weeks 12-24; placebo weeks 0-24.
        ("baricitinib", 0, ("baricitinib", 4.0)),
        ("baricitinib", 11.9, ("baricitinib", 4.0)),
        ("baricitinib", 12, ("baricitinib", 2.0)),
        ("baricitinib", 23.9, ("baricitinib", 2.0)),
        ("baricitinib", 24, None),
        ("placebo", 12, ("placebo", 0.0)),
        ("placebo", 28, None),
    ],
)
def test_protocol_dose_at_week(bachelor, arm, week, expected):
    assert bachelor.dose_at_week(arm, week) == expected


def test_bachelor__primary_endpoint_and_rules(bachelor):
    primary = bachelor.primary_endpoint
    assert primary.id == "response_w12" and primary.visits == ("W12",)
    # Deck: "CRP PMR-AS <= 10 and no oral glucocorticoid at week 12"
    assert evaluate_predicate(primary.definition, {"crp_pmr_as": 10.0, "on_oral_gc": False}) is True
    assert evaluate_predicate(primary.definition, {"crp_pmr_as": 4.0, "on_oral_gc": True}) is False
    assert bachelor.permitted_injections[0].allowed_weeks == (1, 4)  # deck: weeks 1 and 4 only
    assert bachelor.rescue[0].consequence == "non_responder_at_visit"
    assert bachelor.sample_size is not None and bachelor.sample_size.n_per_group == 17  # deck: 17 per group


def test_bachelor__secondary_endpoints_cover_published_rows(bachelor):
    # bachelor_published.yaml secondary rows at weeks 12, 24, 36
    published = {
        "crp_pmr_as",
        "crp_pmr_as_le10",
        "esr_pmr_as",
        "esr_mm_h",
        "crp_mg_dl",
        "pain_vas",
        "fatigue_vas",
        "disease_activity_vas",
        "physician_vas",
        "morning_stiffness_min",
        "upper_limb_elevation_above_90",
        "sf36_pcs",
        "sf36_mcs",
        "haq_di",
        "eq5d_index",
    }
    secondary = {e.id: e for e in bachelor.endpoints if e.role == "secondary"}
    assert published <= set(secondary)
    for name in published:
        assert secondary[name].visits == ("W12", "W24", "W36")


def test_bachelor__every_rule_has_source_text_ref_and_machine_form(bachelor):
    rules = [*bachelor.eligibility.inclusion, *bachelor.eligibility.exclusion]
    assert [c.id for c in bachelor.eligibility.inclusion] == [
        "inc-age",
        "inc-criteria",
        "inc-duration",
        "inc-no-gc",
        "inc-activity",
    ]
    assert len(bachelor.eligibility.exclusion) == 7  # deck: seven exclusion criteria
    for item in [*rules, *bachelor.endpoints, *bachelor.rescue, *bachelor.permitted_injections, *bachelor.arms]:
        assert item.source_text.strip() and item.source_ref.strip()
    for c in rules:
        assert c.rule.describe()


def test_validate_protocol__bachelor_has_no_errors(bachelor):
    assert [i for i in validate_protocol(bachelor) if i.severity == "error"] == []


def _ids(data: dict[str, Any]) -> set[str]:
    return {i.id for i in validate_protocol(parse_protocol(data))}


def test_validate_protocol__unknown_visit_in_endpoint(raw):
    raw["endpoints"][0]["visits"] = ["W13"]
    assert "PROTO-E001" in _ids(raw)


def test_validate_protocol__overlapping_windows(raw):
    raw["visits"][2]["window_before_days"] = 20  # W4 day 28 - 20 = 8 <= W2's 14 + 3
    assert "PROTO-E002" in _ids(raw)


def test_validate_protocol__rule_names_unknown_field(raw):
    raw["eligibility"]["inclusion"][0]["rule"] = {"var": "agee_years", "op": "ge", "value": 50}
    assert "PROTO-E003" in _ids(raw)


def test_validate_protocol__duplicate_ids(raw):
    raw["eligibility"]["exclusion"].append(copy.deepcopy(raw["eligibility"]["exclusion"][0]))
    assert "PROTO-E004" in _ids(raw)


def test_validate_protocol__overlapping_dosing(raw):
    raw["arms"][0]["dosing"][1]["from_week"] = 10
    assert "PROTO-E005" in _ids(raw)


def test_validate_protocol__value_type_mismatch(raw):
    raw["eligibility"]["inclusion"][0]["rule"] = {"var": "age_years", "op": "ge", "value": "fifty"}
    raw["eligibility"]["exclusion"][0]["rule"] = {"var": "gca_signs", "op": "eq", "value": "yes"}
    assert "PROTO-E006" in _ids(raw)


def test_validate_protocol__visit_order_and_week_day(raw):
    raw["visits"][3]["day"] = 57  # W8 is day 56
    assert "PROTO-E007" in _ids(raw)


def test_validate_protocol__endpoint_unknown_variable(raw):
    raw["endpoints"][2]["variable"] = "das28"
    assert "PROTO-E008" in _ids(raw)


def test_validate_protocol__unknown_form(raw):
    raw["visits"][1]["forms"].append("dass21")
    assert "PROTO-E009" in _ids(raw)


def test_validate_protocol__exactly_one_primary(raw):
    raw["endpoints"][1]["role"] = "primary"
    assert "PROTO-E010" in _ids(raw)


def test_validate_protocol__unknown_population(raw):
    raw["endpoints"][0]["population"] = "per_protocol"
    assert "PROTO-E011" in _ids(raw)


def test_validate_protocol__randomisation_names_unknown_arm(raw):
    raw["randomisation"]["ratio"] = {"baricitinib": 2, "tocilizumab": 1}
    assert "PROTO-E012" in _ids(raw)


def test_validate_protocol__unknown_derivation(raw):
    raw["eligibility"]["derived"][0]["function"] = "das28"
    assert "PROTO-E013" in _ids(raw)


def test_validate_protocol__injection_week_outside_treatment(raw):
    raw["permitted_injections"][0]["allowed_weeks"] = [1, 30]
    assert "PROTO-E015" in _ids(raw)


def test_load_protocol__refuses_an_invalid_protocol(raw):
    raw["endpoints"][0]["visits"] = ["W13"]
    with pytest.raises(ProtocolValidationError) as info:
        load_protocol(raw)
    assert info.value.issues[0].id == "PROTO-E001"
    assert "W13" in str(info.value)


def test_parse_protocol__schema_errors_name_the_field(raw):
    del raw["arms"][0]["dosing"]
    with pytest.raises(ProtocolError, match=r"arms\.0\.dosing"):
        parse_protocol(raw)
    with pytest.raises(ProtocolError, match="at line 3"):
        parse_protocol("id: bachelor\nversion: [unclosed\narms: []\n")
    with pytest.raises(ProtocolError, match="Unknown protocol"):
        load_protocol("pmr-spare")  # not bundled (semaphore now is)


def test_parse_protocol__unknown_keys_are_rejected(raw):
    raw["arms"][0]["doze"] = 4
    with pytest.raises(ProtocolError, match="doze"):
        parse_protocol(raw)


def test_protocol_registry__refuses_duplicates(bachelor):
    registry = ProtocolRegistry()
    registry.register(bachelor)
    with pytest.raises(ProtocolError, match="already registered"):
        registry.register(bachelor)
    assert registry.get("bachelor") is bachelor
    assert len(ProtocolRegistry.bundled()) == 3  # bachelor, saphyr, semaphore


@pytest.mark.parametrize(
    ("predicate", "values", "expected"),
    [
        ({"var": "x", "op": "gt", "value": 17}, {"x": 17.01}, True),
        ({"var": "x", "op": "gt", "value": 17}, {"x": 17}, False),
        ({"var": "x", "op": "gt", "value": 17}, {"x": None}, None),
        (
            {"all": [{"var": "x", "op": "le", "value": 10}, {"var": "g", "op": "eq", "value": False}]},
            {"x": None, "g": True},
            False,
        ),
        (
            {"all": [{"var": "x", "op": "le", "value": 10}, {"var": "g", "op": "eq", "value": False}]},
            {"x": None, "g": False},
            None,
        ),
        (
            {"any": [{"var": "a", "op": "eq", "value": True}, {"var": "b", "op": "eq", "value": True}]},
            {"a": None, "b": True},
            True,
        ),
        (
            {"any": [{"var": "a", "op": "eq", "value": True}, {"var": "b", "op": "eq", "value": True}]},
            {"a": None, "b": False},
            None,
        ),
        ({"not": {"var": "a", "op": "in", "value": ["x", "y"]}}, {"a": "z"}, True),
        ({"var": "a", "op": "not_in", "value": ["x"]}, {}, None),
    ],
)
def test_evaluate_predicate__kleene_logic(predicate, values, expected):
    assert evaluate_predicate(parse_predicate(predicate), values) is expected


def test_parse_predicate__rejects_ambiguous_nodes():
    with pytest.raises(ValueError, match="exactly one"):
        parse_predicate({"all": [], "any": []})
    with pytest.raises(ValueError):
        parse_predicate({"var": "x", "op": "approx", "value": 1})


def test_validate_protocol__unknown_eq5d_value_set(raw):
    raw["parameters"]["eq5d_value_set"] = "3L-XX-2000"
    assert "PROTO-E016" in _ids(raw)


def test_bachelor__visits_name_the_pro_instruments(bachelor):
    # Issue 3: HAQ-DI, EQ-5D and SF-36 are collected at baseline and weeks 12, 24, 36 (pub secondary table weeks).
    for code in ("W0", "W12", "W24", "W36"):
        assert {"haq_di", "eq5d", "sf36"} <= set(bachelor.get_visit(code).forms)
    assert bachelor.parameters.eq5d_value_set == "3L-FR-2013"  # BACHELOR was French (Chevalier 2013)


def test_plan_pieces__schema_rejects_malformed_declarations():
    import pydantic
    import pytest as _pytest

    from pmrtrial.protocol.model import BaselineVariable, EventSpec, Origin

    with _pytest.raises(pydantic.ValidationError, match="exactly one of 'flare' or 'dataset'"):
        EventSpec.model_validate({})
    with _pytest.raises(pydantic.ValidationError, match="landmark origin needs a 'predicate'"):
        Origin.model_validate({"kind": "landmark"})
    with _pytest.raises(pydantic.ValidationError, match="binary baseline row needs 'when'"):
        BaselineVariable.model_validate(
            {"key": "f", "label": "F", "table": "subjects", "variable": "sex", "kind": "binary"}
        )
    assert Origin().describe() == "randomisation"
