"""One loader for the bundled published figures of every trial (``pmrtrial/published/<trial>.yaml``).

Expected values are the published figures themselves, each named with its publication.
"""

from __future__ import annotations

import pytest

from pmrtrial.published import PrintedNumber, list_published, load_published, published_text


def test_every_trial_is_bundled_next_to_the_others():
    assert list_published() == ["bachelor", "saphyr", "semaphore"]


def test_bachelor_primary_counts():
    # Saraux A, et al. Lancet Rheumatol 2025: baricitinib 14/18, placebo 2/15 at week 12
    primary = load_published("bachelor")["primary_endpoint"]
    assert (primary["baricitinib"]["responders"], primary["baricitinib"]["n"]) == (14, 18)
    assert (primary["placebo"]["responders"], primary["placebo"]["n"]) == (2, 15)


def test_saphyr_primary_counts_keep_their_printed_precision():
    # Spiera RF, et al. N Engl J Med 2023;389:1263-1272 (abstract): sarilumab 17/60 (28%), placebo 6/58 (10%)
    primary = load_published("saphyr", printed=True)["primary_endpoint"]
    assert (primary["sarilumab"]["responders"], primary["sarilumab"]["n"]) == (17, 60)
    assert (primary["placebo"]["responders"], primary["placebo"]["n"]) == (6, 58)
    assert isinstance(primary["p"]["value"], PrintedNumber) and primary["p"]["value"].decimals == 2


def test_semaphore_design_centres():
    # Devauchelle-Pensec V, et al. JAMA 2022;328:1053-1062 (abstract): 17 centres in France
    design = load_published("semaphore")["design"]
    assert design["centres"]["value"] == 17 and design["country"]["value"] == "France"


def test_unknown_trial_names_the_bundled_ones():
    with pytest.raises(KeyError, match="bachelor, saphyr, semaphore"):
        published_text("nope")
