"""Allocation schemes: their predictability, and Pocock–Simon minimisation with a random element.

Pure core (Python and NumPy; no I/O).

Predictability
--------------
Blackwell & Hodges (1957, *Ann Math Stat* 28:449-460) measure the selection bias a scheme allows by
the expected proportion of correct guesses of an investigator who knows the scheme and every past
allocation at the site, and follows the *convergence strategy*: guess the arm that has so far
received fewer allocations than its share (ties: either arm, right half the time).

For random permuted blocks the guesser is also assumed to know where each block starts (the
worst case: a block of size 2 gives its second allocation away). With 1:1 allocation and block size
``2m`` the expected number of correct guesses per block is ``m - 1/2 + 2**(2m-1) / C(2m, m)``
(Matts & Lachin 1988, *Control Clin Trials* 9:327-344); :func:`block_predictability` computes it
exactly by recursion over the block's remaining content (any ratio), e.g. block 2: 3/4, block 4:
17/24, block 6: 41/60.
With several block sizes drawn at random the proportion is the allocation-weighted mean over sizes.
Complete randomisation gives 1/2.

Minimisation
------------
:func:`minimise` is Pocock & Simon's (1975, *Biometrics* 31:103-115) method with the range as the
imbalance measure, summed over the declared factors, and a random element: the arm that minimises
the imbalance is given with probability ``p_best`` (e.g. 0.8), another arm otherwise; ties are broken
at random. All randomness comes from one seeded generator consumed in a fixed way (two uniforms per
participant), so the seed and the sequence of participants' factor levels reproduce every
allocation (:func:`replay_minimisation`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np

from pmrtrial.exceptions import ScoreInputError

__all__ = [
    "MinimisationState",
    "block_predictability",
    "complete_randomisation_predictability",
    "minimisation_predictability",
    "minimise",
    "permuted_block_predictability",
    "replay_minimisation",
]


@cache
def _expected_correct(remaining: tuple[int, ...]) -> Fraction:
    """Expected correct convergence guesses over the rest of a block holding ``remaining`` per arm."""
    total = sum(remaining)
    if total == 0:
        return Fraction(0)
    # Guess an arm with the most remaining slots: right with probability (its slots) / (all slots).
    value = Fraction(max(remaining), total)
    for i, r in enumerate(remaining):
        if r:
            nxt = list(remaining)
            nxt[i] -= 1
            value += Fraction(r, total) * _expected_correct(tuple(nxt))
    return value


def block_predictability(block_size: int, ratio: Sequence[int] = (1, 1)) -> Fraction:
    """Expected proportion of correct convergence guesses within one permuted block (exact).

    ``ratio`` gives the allocation ratio (e.g. (1, 1), (2, 1)); ``block_size`` must be a multiple of its sum.

    >>> block_predictability(2), block_predictability(4), block_predictability(6)
    (Fraction(3, 4), Fraction(17, 24), Fraction(41, 60))
    """
    total = sum(ratio)
    if total <= 0 or any(r <= 0 for r in ratio):
        raise ScoreInputError("ratio", list(ratio), "positive integers per arm")
    if block_size <= 0 or block_size % total:
        raise ScoreInputError("block_size", block_size, f"a positive multiple of the ratio total {total}")
    content = tuple(r * block_size // total for r in ratio)
    return _expected_correct(content) / block_size


def permuted_block_predictability(block_sizes: Sequence[int], ratio: Sequence[int] = (1, 1)) -> float:
    """Predictability of random permuted blocks whose size is drawn uniformly from ``block_sizes``.

    The guesser knows each block's size and start (worst case); the result is correct guesses over
    allocations, averaged over the sizes in proportion to the allocations each contributes.
    """
    if not block_sizes:
        raise ScoreInputError("block_sizes", list(block_sizes), "at least one block size")
    correct = sum(block_predictability(s, ratio) * s for s in block_sizes)
    return float(correct / sum(block_sizes))


def complete_randomisation_predictability() -> float:
    """Complete (unrestricted) 1:1 randomisation: every guess is a coin toss."""
    return 0.5


# -- minimisation --------------------------------------------------------------------------------


@dataclass
class MinimisationState:
    """Counts per factor level and arm; ``rng`` is the seeded generator (consumed 2 uniforms/participant)."""

    arms: tuple[str, ...]
    ratio: tuple[int, ...]
    factors: tuple[str, ...]
    p_best: float
    rng: np.random.Generator
    counts: dict[tuple[str, str], list[int]]

    @classmethod
    def new(
        cls,
        *,
        ratio: Mapping[str, int],
        factors: Sequence[str],
        p_best: float,
        seed: int,
    ) -> MinimisationState:
        if not 0.5 <= p_best <= 1.0:
            raise ScoreInputError("p_best", p_best, "a probability in [0.5, 1]")
        if not factors:
            raise ScoreInputError("factors", list(factors), "at least one factor")
        arms = tuple(sorted(ratio))
        if len(arms) < 2 or any(ratio[a] <= 0 for a in arms):
            raise ScoreInputError("ratio", dict(ratio), "two or more arms with positive integers")
        return cls(
            arms=arms,
            ratio=tuple(int(ratio[a]) for a in arms),
            factors=tuple(factors),
            p_best=float(p_best),
            rng=np.random.Generator(np.random.PCG64(seed)),
            counts={},
        )


def _imbalance(state: MinimisationState, levels: Mapping[str, str], candidate: int) -> float:
    """Sum over factors of the range of ratio-weighted counts if ``candidate`` got this participant."""
    total = 0.0
    for factor in state.factors:
        counts = list(state.counts.get((factor, str(levels[factor])), [0] * len(state.arms)))
        counts[candidate] += 1
        weighted = [c / r for c, r in zip(counts, state.ratio, strict=True)]
        total += max(weighted) - min(weighted)
    return total


def minimise(state: MinimisationState, levels: Mapping[str, str]) -> str:
    """Allocate one participant with factor ``levels`` (mutates ``state``); returns the arm."""
    missing = [f for f in state.factors if f not in levels or levels[f] in (None, "")]
    if missing:
        raise ScoreInputError(missing[0], None, "a level for every minimisation factor")
    u_choice, u_tie = state.rng.random(2)
    scores = [_imbalance(state, levels, i) for i in range(len(state.arms))]
    best = min(scores)
    leaders = [i for i, s in enumerate(scores) if s == best]
    others = [i for i in range(len(state.arms)) if i not in leaders]
    if not others or u_choice < state.p_best:
        pick = leaders[int(u_tie * len(leaders))]
    else:
        pick = others[int(u_tie * len(others))]
    for factor in state.factors:
        key = (factor, str(levels[factor]))
        row = state.counts.setdefault(key, [0] * len(state.arms))
        row[pick] += 1
    return state.arms[pick]


def replay_minimisation(
    *,
    ratio: Mapping[str, int],
    factors: Sequence[str],
    p_best: float,
    seed: int,
    entries: Sequence[Mapping[str, str]],
) -> list[str]:
    """The arms minimisation gives ``entries`` (factor levels, in randomisation order) from ``seed``."""
    state = MinimisationState.new(ratio=ratio, factors=factors, p_best=p_best, seed=seed)
    return [minimise(state, levels) for levels in entries]


def minimisation_predictability(
    *,
    factors: Mapping[str, Sequence[str]],
    p_best: float,
    n: int,
    n_trials: int = 200,
    seed: int = 1,
) -> tuple[float, float]:
    """Monte Carlo predictability of 1:1 minimisation: (proportion of correct guesses, its standard error).

    Participants' factor levels are drawn uniformly and independently; the guesser knows every past
    allocation and the factors of the next participant and guesses the arm minimisation prefers
    (a coin toss when the arms tie), the analogue of the convergence strategy.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    names = tuple(factors)
    correct = np.zeros(n_trials)
    for t in range(n_trials):
        state = MinimisationState.new(
            ratio={"a": 1, "b": 1}, factors=names, p_best=p_best, seed=int(rng.integers(2**62))
        )
        hits = 0.0
        for _ in range(n):
            levels = {f: str(factors[f][int(rng.integers(len(factors[f])))]) for f in names}
            scores = [_imbalance(state, levels, i) for i in range(2)]
            arm = minimise(state, levels)
            if scores[0] == scores[1]:
                hits += 0.5
            else:
                hits += 1.0 if state.arms[int(np.argmin(scores))] == arm else 0.0
        correct[t] = hits / n
    return float(correct.mean()), float(correct.std(ddof=1) / np.sqrt(n_trials))
