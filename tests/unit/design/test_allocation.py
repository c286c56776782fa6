"""Predictability of allocation schemes (Blackwell–Hodges convergence strategy) and Pocock–Simon minimisation."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest

from pmrtrial.design.allocation import (
    MinimisationState,
    block_predictability,
    complete_randomisation_predictability,
    minimisation_predictability,
    minimise,
    permuted_block_predictability,
    replay_minimisation,
)
from pmrtrial.exceptions import ScoreInputError


def test_permuted_block_predictability_matches_hand_arithmetic() -> None:
    # Block 2 (AB or BA): guess 1 is a coin toss (1/2); guess 2 is certain (1). (1/2 + 1) / 2 = 3/4.
    assert block_predictability(2) == Fraction(3, 4)
    # Block 4: guess 1: 1/2. Guess 2: the arm not yet drawn has 2 of 3 slots: 2/3. Guess 3: after AB/BA
    # (probability 2/3) a coin toss 1/2, after AA/BB (1/3) certain: 2/3*1/2 + 1/3 = 2/3. Guess 4: 1.
    # (1/2 + 2/3 + 2/3 + 1) / 4 = 17/24.
    assert block_predictability(4) * 4 == Fraction(1, 2) + Fraction(2, 3) + Fraction(2, 3) + 1 == Fraction(17, 6)
    # Closed form for 1:1 blocks of 2m (Matts & Lachin 1988): (m - 1/2 + 2**(2m-1) / C(2m, m)) / 2m.
    for m in (1, 2, 3, 4, 5):
        expected = (Fraction(m) - Fraction(1, 2) + Fraction(2 ** (2 * m - 1), comb(2 * m, m))) / (2 * m)
        assert block_predictability(2 * m) == expected
    assert block_predictability(6) == Fraction(41, 60)  # 4.1 correct guesses of 6
    # 2:1 block of 3 (AAB in random order): guess 1: A, right 2/3; after A (2/3): coin toss then certain
    # (1/2 + 1); after B (1/3): two certain guesses. 2/3 + 2/3*3/2 + 1/3*2 = 7/3 of 3 = 7/9.
    assert block_predictability(3, (2, 1)) == Fraction(7, 9)


def test_mixed_block_sizes_and_complete_randomisation() -> None:
    # Sizes drawn uniformly: correct guesses over allocations. [2, 4]: (3/2 + 17/6) / 6 = 13/18.
    assert permuted_block_predictability([2, 4]) == pytest.approx(13 / 18)
    # [4, 6]: (17/6 + 41/10) / 10 = 104/150 = 0.6933...
    assert permuted_block_predictability([4, 6]) == pytest.approx(104 / 150)
    assert permuted_block_predictability([4, 6]) < permuted_block_predictability([2, 4])
    assert complete_randomisation_predictability() == 0.5
    with pytest.raises(ScoreInputError, match="block_size"):
        block_predictability(3)


def test_new_protocols_default_to_blocks_of_4_and_6() -> None:
    from pmrtrial.protocol.model import Randomisation

    r = Randomisation(ratio={"a": 1, "b": 1}, source_text="x", source_ref="y")
    assert r.block_sizes == (4, 6) and r.method == "permuted_blocks"
    with pytest.raises(ValueError, match="minimisation_factors"):
        Randomisation(ratio={"a": 1, "b": 1}, method="minimisation", source_text="x", source_ref="y")


FACTORS = {"centre": [f"{i:02d}" for i in range(1, 7)], "gc_dose": ["<=15 mg", ">15 mg"]}


def _entries(rng: np.random.Generator, n: int) -> list[dict[str, str]]:
    return [{f: levels[int(rng.integers(len(levels)))] for f, levels in FACTORS.items()} for _ in range(n)]


def test_minimisation_replay_is_deterministic() -> None:
    entries = _entries(np.random.default_rng(5), 40)
    state = MinimisationState.new(ratio={"bari": 1, "placebo": 1}, factors=list(FACTORS), p_best=0.8, seed=99)
    live = [minimise(state, e) for e in entries]
    replayed = replay_minimisation(
        ratio={"bari": 1, "placebo": 1}, factors=list(FACTORS), p_best=0.8, seed=99, entries=entries
    )
    assert live == replayed
    other = replay_minimisation(
        ratio={"bari": 1, "placebo": 1}, factors=list(FACTORS), p_best=0.8, seed=100, entries=entries
    )
    assert other != live  # the seed matters (40 allocations: equal by chance with negligible probability)
    with pytest.raises(ScoreInputError, match="gc_dose"):
        minimise(state, {"centre": "01"})


def test_minimisation_is_unbiased_and_balances_the_margins() -> None:
    """Over 400 simulated trials of 48: each arm gets half of the allocations (within 3 SE of 1/2, the
    expected value for a scheme with no arm preference), and every factor level is far better balanced
    than under complete randomisation of the same entries."""
    rng = np.random.default_rng(2024)
    n_trials, n = 400, 48
    share, first, imb_min, imb_simple = [], [], [], []
    for t in range(n_trials):
        entries = _entries(rng, n)
        arms = replay_minimisation(ratio={"a": 1, "b": 1}, factors=list(FACTORS), p_best=0.8, seed=t, entries=entries)
        simple = ["a" if u < 0.5 else "b" for u in rng.random(n)]
        share.append(arms.count("a") / n)
        first.append(arms[0] == "a")
        for alloc, sink in ((arms, imb_min), (simple, imb_simple)):
            worst = 0
            for f, levels in FACTORS.items():
                for level in levels:
                    at = [x for x, e in zip(alloc, entries, strict=True) if e[f] == level]
                    worst = max(worst, abs(at.count("a") - at.count("b")))
            sink.append(worst)
    se = 0.5 / np.sqrt(n_trials * n)  # binomial SE of a proportion 1/2 (conservative: minimisation balances)
    assert abs(np.mean(share) - 0.5) < 3 * se
    assert abs(np.mean(first) - 0.5) < 3 * np.sqrt(0.25 / n_trials)  # first allocation: a fair coin
    assert np.mean(imb_min) < 0.5 * np.mean(imb_simple)


def test_minimisation_predictability_lies_between_blocks_and_determinism() -> None:
    p, se = minimisation_predictability(factors=FACTORS, p_best=0.8, n=34, n_trials=100, seed=3)
    # A deterministic minimisation (p_best=1) is fully predictable except at ties; with p_best = 0.8 a
    # guess of the preferred arm is right 80% of the time when arms differ and 50% at ties.
    assert 0.5 < p < 0.8 and se < 0.01
