"""EQ-5D health states and index values.

Provenance tiers (style.md 8.5): A = published value (paper, or the eq5d R package's test suite,
which reproduces the publications' printed values); B = stored R output
(tests/reference/r/eq5d_reference.R, independent arithmetic); C = hand arithmetic shown inline.
Published values are printed to 3 dp, so they are compared with an absolute tolerance of 5e-4.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.scores.eq5d import (
    EQ5D_DIMENSIONS,
    check_eq5d_state,
    check_eq5d_vas,
    compute_eq5d_index,
    compute_eq5d_state,
    list_eq5d_value_sets,
    load_eq5d_value_set,
)

PRINTED_3DP = 5e-4
REFERENCE = Path(__file__).parents[2] / "reference" / "values" / "eq5d_reference.json"

# (value set, state, published index, source)
PUBLISHED = [
    # --- 3L-UK-1997: Dolan P, Med Care 1997;35:1095-108; values as listed in Dolan 1997 and in
    # fragla/eq5d tests/testthat/test-eq5d3l.R ("EQ-5D-5L UK TTO gives correct answer").
    ("3L-UK-1997", "11111", 1.000, "Dolan 1997: full health"),
    ("3L-UK-1997", "11221", 0.760, "Dolan 1997 / eq5d test-eq5d3l.R"),
    ("3L-UK-1997", "33221", -0.037, "Dolan 1997 / eq5d test-eq5d3l.R"),
    ("3L-UK-1997", "12321", 0.329, "Dolan 1997 / eq5d test-eq5d3l.R"),
    ("3L-UK-1997", "33333", -0.594, "Dolan 1997: worst state"),
    # --- 3L-FR-2013: Chevalier & de Pouvourville, Eur J Health Econ 2013;14:57-66; Chevalier & de Pouvourville 2013
    # and fragla/eq5d test-eq5d3l.R ("France TTO").
    ("3L-FR-2013", "11111", 1.000, "Chevalier 2013: full health"),
    ("3L-FR-2013", "11233", 0.201, "Chevalier 2013 / eq5d test-eq5d3l.R"),
    ("3L-FR-2013", "21212", 0.599, "Chevalier 2013 / eq5d test-eq5d3l.R"),
    ("3L-FR-2013", "32133", -0.227, "Chevalier 2013 / eq5d test-eq5d3l.R"),
    ("3L-FR-2013", "33333", -0.530, "Chevalier 2013: worst state"),
    # --- 5L-FR-2020: Andrade et al., PharmacoEconomics 2020;38:413-25; Andrade et al. 2020 and
    # fragla/eq5d tests/testthat/test-eq5d5l.R ("EQ-5D-5L France").
    ("5L-FR-2020", "11111", 1.000, "Andrade 2020: full health"),
    ("5L-FR-2020", "22222", 0.850, "Andrade 2020 / eq5d test-eq5d5l.R"),
    ("5L-FR-2020", "33333", 0.768, "Andrade 2020 / eq5d test-eq5d5l.R"),
    ("5L-FR-2020", "44444", 0.028, "Andrade 2020 / eq5d test-eq5d5l.R"),
    ("5L-FR-2020", "54321", 0.441, "Andrade 2020 / eq5d test-eq5d5l.R"),
    ("5L-FR-2020", "55555", -0.525, "Andrade 2020: worst state"),
    # --- 5L-UK-2018: Devlin et al., Health Econ 2018;27:7-22; Devlin et al. 2018 and fragla/eq5d
    # test-eq5d5l.R ("EQ-5D-5L England"), which adds the four single-level-2 states.
    ("5L-UK-2018", "11111", 1.000, "Devlin 2018: full health"),
    ("5L-UK-2018", "11112", 0.922, "Devlin 2018 / eq5d test-eq5d5l.R"),
    ("5L-UK-2018", "11121", 0.937, "eq5d test-eq5d5l.R (England)"),
    ("5L-UK-2018", "11211", 0.950, "eq5d test-eq5d5l.R (England)"),
    ("5L-UK-2018", "12111", 0.950, "eq5d test-eq5d5l.R (England)"),
    ("5L-UK-2018", "21111", 0.942, "eq5d test-eq5d5l.R (England)"),
    ("5L-UK-2018", "23245", 0.247, "Devlin 2018 / eq5d test-eq5d5l.R"),
    ("5L-UK-2018", "55555", -0.285, "Devlin 2018: worst state"),
]


@pytest.mark.parametrize(("value_set", "state", "expected", "source"), PUBLISHED)
def test_compute_eq5d_index__matches_published(value_set: str, state: str, expected: float, source: str) -> None:
    assert compute_eq5d_index(state, value_set=value_set) == pytest.approx(expected, abs=PRINTED_3DP), source


def test_compute_eq5d_index__hand_arithmetic() -> None:
    # Tier C, coefficients from Dolan 1997-6.4:
    # 3L-UK 11223: 1 - 0.081 (constant) - 0.269 (N3) - 0.036 (UA2) - 0.123 (PD2) - 0.236 (AD3) = 0.255
    assert compute_eq5d_index("11223", value_set="3L-UK-1997") == pytest.approx(0.255, abs=1e-12)
    # 3L-FR 11233: 1 - 0.174 - 0.156 - 0.265 - 0.204 = 0.201 (Chevalier & de Pouvourville 2013 shows this sum)
    assert compute_eq5d_index("11233", value_set="3L-FR-2013") == pytest.approx(0.201, abs=1e-12)
    # 5L-FR 54321: 1 - 0.32509 - 0.172251 - 0.03979 - 0.02198 = 0.440889
    assert compute_eq5d_index("54321", value_set="5L-FR-2020") == pytest.approx(0.440889, abs=1e-12)
    # 5L-UK 23245: 1 - 0.058 - 0.080 - 0.050 - 0.276 - 0.289 = 0.247
    assert compute_eq5d_index("23245", value_set="5L-UK-2018") == pytest.approx(0.247, abs=1e-12)


def _reference() -> dict[str, dict[str, list[object]]]:
    data = json.loads(REFERENCE.read_text("utf-8"))
    return dict(data["value_sets"])


@pytest.mark.parametrize("value_set", ["3L-UK-1997", "3L-FR-2013", "5L-FR-2020", "5L-UK-2018"])
def test_compute_eq5d_index__matches_r_all_states(value_set: str) -> None:
    # Tier B: tests/reference/values/eq5d_reference.json from `Rscript tests/reference/r/eq5d_reference.R`
    # (independent R arithmetic of the published models, not the eq5d package).
    ref = _reference()[value_set]
    states = [str(s) for s in ref["states"]]
    expected = np.asarray(ref["index"], dtype=float)
    assert len(states) == (243 if value_set.startswith("3L") else 3125)
    got = compute_eq5d_index(states, value_set=value_set)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


# Transcription check: each coefficient in the data files against the tables of the four
# primary value-set papers (copied here by hand). Cross-checked
# against the eq5d R package data (fragla/eq5d data-raw/TTO.csv columns UK and France;
# data-raw/VT.csv columns France and England): all 52 coefficients agree.
DOMAIN_TABLES = {
    "3L-UK-1997": {
        "constant": -0.081,
        "n3": -0.269,
        "MO": (-0.069, -0.314),
        "SC": (-0.104, -0.214),
        "UA": (-0.036, -0.094),
        "PD": (-0.123, -0.386),
        "AD": (-0.071, -0.236),
    },
    "3L-FR-2013": {
        "constant": 0.0,
        "n3": -0.174,
        "MO": (-0.155, -0.372),
        "SC": (-0.212, -0.326),
        "UA": (-0.156, -0.189),
        "PD": (-0.112, -0.265),
        "AD": (-0.090, -0.204),
    },
    "5L-FR-2020": {
        "constant": 0.0,
        "n3": 0.0,
        "MO": (-0.03759, -0.04774, -0.17949, -0.32509),
        "SC": (-0.03656, -0.050781, -0.172251, -0.258331),
        "UA": (-0.03313, -0.03979, -0.15689, -0.24005),
        "PD": (-0.02198, -0.04704, -0.26374, -0.44399),
        "AD": (-0.02046, -0.04683, -0.20005, -0.25803),
    },
    "5L-UK-2018": {
        "constant": 0.0,
        "n3": 0.0,
        "MO": (-0.058, -0.076, -0.207, -0.274),
        "SC": (-0.050, -0.080, -0.164, -0.203),
        "UA": (-0.050, -0.063, -0.162, -0.184),
        "PD": (-0.063, -0.084, -0.276, -0.335),
        "AD": (-0.078, -0.104, -0.285, -0.289),
    },
}


@pytest.mark.parametrize("value_set", sorted(DOMAIN_TABLES))
def test_load_eq5d_value_set__coefficients_match_domain_tables(value_set: str) -> None:
    table = DOMAIN_TABLES[value_set]
    vs = load_eq5d_value_set(value_set)
    assert vs.constant == table["constant"]
    assert vs.n3 == table["n3"]
    for dim in EQ5D_DIMENSIONS:
        assert vs.decrements[dim] == table[dim], f"{value_set} {dim}"
    assert vs.citation and vs.doi


def test_list_eq5d_value_sets__the_four_contract_ids() -> None:
    assert list_eq5d_value_sets() == ("3L-FR-2013", "3L-UK-1997", "5L-FR-2020", "5L-UK-2018")


def test_load_eq5d_value_set__citations_name_the_primary_papers() -> None:
    assert "Dolan" in load_eq5d_value_set("3L-UK-1997").citation
    assert "Chevalier" in load_eq5d_value_set("3L-FR-2013").citation
    assert "Andrade" in load_eq5d_value_set("5L-FR-2020").citation
    assert "Devlin" in load_eq5d_value_set("5L-UK-2018").citation
    assert load_eq5d_value_set("5L-UK-2018").to_dict()["decrements"]["MO"] == [-0.058, -0.076, -0.207, -0.274]


def test_compute_eq5d_index__vectorised_with_missing() -> None:
    # Dolan 1997: 11111 = 1, 33333 = -0.594; None and NaN are missing.
    got = compute_eq5d_index(["11111", None, float("nan"), "33333"], value_set="3L-UK-1997")
    assert isinstance(got, np.ndarray)
    assert got[0] == 1.0
    assert math.isnan(got[1]) and math.isnan(got[2])
    assert got[3] == pytest.approx(-0.594, abs=1e-12)


def test_compute_eq5d_index__scalar_returns_float_and_missing_is_nan() -> None:
    assert isinstance(compute_eq5d_index("11111", value_set="5L-UK-2018"), float)
    assert math.isnan(compute_eq5d_index(None, value_set="5L-UK-2018"))


def test_compute_eq5d_index__accepts_integer_states() -> None:
    # Dolan 1997: 11221 = 0.760 (an integer column from a CSV, and its float twin)
    assert compute_eq5d_index(11221, value_set="3L-UK-1997") == pytest.approx(0.760, abs=1e-12)
    assert compute_eq5d_index(11221.0, value_set="3L-UK-1997") == pytest.approx(0.760, abs=1e-12)


def test_compute_eq5d_index__value_set_is_required() -> None:
    with pytest.raises(TypeError):
        compute_eq5d_index("11111")  # type: ignore[call-arg]


@pytest.mark.parametrize("bad", ["UK", "3L-UK", "", None, "5l-uk-2018"])
def test_compute_eq5d_index__unknown_value_set_raises(bad: object) -> None:
    with pytest.raises(ScoreInputError, match="value_set") as info:
        compute_eq5d_index("11111", value_set=bad)  # type: ignore[arg-type]
    assert "3L-UK-1997" in str(info.value)


@pytest.mark.parametrize(
    ("state", "value_set"),
    [
        ("1122", "3L-UK-1997"),  # too short
        ("112233", "3L-UK-1997"),  # too long
        ("11224", "3L-UK-1997"),  # level 4 does not exist in 3L
        ("11206", "5L-UK-2018"),  # 0 and 6 are not levels
        ("1a223", "3L-FR-2013"),  # not a digit
        (True, "3L-FR-2013"),
        (1.5, "3L-FR-2013"),
        ([1, 1, 2, 2, 3], "3L-FR-2013"),  # a nested sequence is not a state
    ],
)
def test_compute_eq5d_index__malformed_state_raises_naming_value(state: object, value_set: str) -> None:
    states = [state] if isinstance(state, list) else state
    with pytest.raises(ScoreInputError, match="eq5d_state") as info:
        compute_eq5d_index(states, value_set=value_set)
    assert info.value.field == "eq5d_state"


def test_compute_eq5d_index__error_names_the_bad_state_in_a_sequence() -> None:
    with pytest.raises(ScoreInputError, match="'11224'"):
        compute_eq5d_index(["11111", "11224"], value_set="3L-UK-1997")


def test_check_eq5d_state() -> None:
    check_eq5d_state("11223", levels=3)
    check_eq5d_state(["55555", None], levels=5)
    with pytest.raises(ScoreInputError):
        check_eq5d_state("11114", levels=3)
    with pytest.raises(ScoreInputError, match="levels"):
        check_eq5d_state("11111", levels=4)


def test_compute_eq5d_state() -> None:
    assert compute_eq5d_state(mo=1, sc=1, ua=2, pd=2, ad=3, levels=3) == "11223"
    assert compute_eq5d_state(mo=1, sc=None, ua=2, pd=2, ad=3, levels=3) is None
    got = compute_eq5d_state(mo=[1, 5], sc=[1, 4], ua=[1, 3], pd=[1, 2], ad=[1, 1], levels=5)
    assert list(got) == ["11111", "54321"]
    with pytest.raises(ScoreInputError, match="eq5d_pd"):
        compute_eq5d_state(mo=1, sc=1, ua=1, pd=4, ad=1, levels=3)


def test_check_eq5d_vas() -> None:
    check_eq5d_vas(0)
    check_eq5d_vas([100, None])
    with pytest.raises(ScoreInputError, match="eq5d_vas"):
        check_eq5d_vas(101)


def _all_states(levels: int) -> list[str]:
    digits = [str(i) for i in range(1, levels + 1)]
    return [a + b + c + d + e for a in digits for b in digits for c in digits for d in digits for e in digits]


def test_compute_eq5d_index__published_ranges() -> None:
    # Tier A, the papers' abstracts:
    # Devlin 2018 (Health Econ 27:7-22): "Values range from -0.285 (extreme problems on all
    # dimensions) to 0.950". (The abstract names the 0.950 states "11211 and 21111"; with the
    # paper's coefficients MO2 = -0.058 and SC2 = UA2 = -0.050 they are 11211 and 12111, and 21111
    # is 0.942, as in the eq5d package's tests: the abstract's "21111" looks like a typo.)
    uk5 = compute_eq5d_index(_all_states(5), value_set="5L-UK-2018")
    assert uk5.min() == pytest.approx(-0.285, abs=PRINTED_3DP)
    assert uk5[uk5 < 1].max() == pytest.approx(0.950, abs=PRINTED_3DP)
    # Andrade 2020 (PharmacoEconomics 38:413-25): "Values ranged from -0.525 to 1."
    fr5 = compute_eq5d_index(_all_states(5), value_set="5L-FR-2020")
    assert fr5.min() == pytest.approx(-0.525, abs=PRINTED_3DP)
    assert fr5.max() == 1.0
    # Dolan 1997: 33333 = -0.594 is the lowest of the 243 states.
    uk3 = compute_eq5d_index(_all_states(3), value_set="3L-UK-1997")
    assert uk3.min() == pytest.approx(-0.594, abs=PRINTED_3DP)
