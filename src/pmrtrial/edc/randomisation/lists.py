"""Stratified permuted-block allocation lists (pure Python and NumPy: no Django).

Each stratum (centre) gets consecutive blocks; each block's size is drawn at random from
``block_sizes`` and holds every arm in the protocol ratio, in random order. One seed
reproduces the whole list (``numpy.random.Generator(PCG64(seed))``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pmrtrial.exceptions import ScoreInputError

__all__ = ["AllocationRow", "generate_permuted_block_list"]


@dataclass(frozen=True)
class AllocationRow:
    stratum: str
    sequence: int  # 1-based within the stratum
    arm: str
    block: int  # 1-based within the stratum
    block_size: int


def generate_permuted_block_list(
    *,
    ratio: Mapping[str, int],
    strata: Sequence[str],
    n_per_stratum: int,
    block_sizes: Sequence[int],
    seed: int,
) -> list[AllocationRow]:
    """Allocation list with at least ``n_per_stratum`` slots per stratum (whole blocks only).

    Raises :class:`ScoreInputError` when a block size is not a multiple of the ratio total.
    """
    total = sum(ratio.values())
    if total <= 0 or any(v <= 0 for v in ratio.values()):
        raise ScoreInputError("ratio", dict(ratio), "positive integers per arm")
    for size in block_sizes:
        if size <= 0 or size % total:
            raise ScoreInputError("block_sizes", list(block_sizes), f"multiples of the ratio total {total}")
    if n_per_stratum < 1:
        raise ScoreInputError("n_per_stratum", n_per_stratum, "an integer >= 1")
    rng = np.random.Generator(np.random.PCG64(seed))
    arms = sorted(ratio)
    rows: list[AllocationRow] = []
    for stratum in strata:
        seq = 0
        block = 0
        while seq < n_per_stratum:
            block += 1
            size = int(rng.choice(np.asarray(block_sizes)))
            content = [arm for arm in arms for _ in range(ratio[arm] * size // total)]
            for arm in rng.permutation(np.asarray(content)):
                seq += 1
                rows.append(AllocationRow(stratum, seq, str(arm), block, size))
    return rows
