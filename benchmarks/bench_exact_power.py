"""Benchmark: exact two-sided Fisher power, vectorised enumeration vs a scipy loop.

Run:  PYTHONPATH=src python benchmarks/bench_exact_power.py [n_per_arm]   (default 200)

The baseline computes, for every table (x0, x1), ``scipy.stats.fisher_exact`` and adds the binomial
probability of the table when p <= alpha. The vectorised path is
``pmrtrial.design.compute_power_fisher_exact`` with an empty cache. Both rejection regions are
compared table by table. Not a test: it prints timings and the ratio.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from scipy.stats import binom, fisher_exact

from pmrtrial.design import compute_fisher_rejection_region, compute_power_fisher_exact
from pmrtrial.design import fisher as fisher_module


def naive(p0: float, p1: float, n0: int, n1: int, alpha: float) -> tuple[float, np.ndarray]:
    reject = np.zeros((n0 + 1, n1 + 1), dtype=bool)
    b0 = binom.pmf(np.arange(n0 + 1), n0, p0)
    b1 = binom.pmf(np.arange(n1 + 1), n1, p1)
    power = 0.0
    for x0 in range(n0 + 1):
        for x1 in range(n1 + 1):
            p = fisher_exact([[x0, x1], [n0 - x0, n1 - x1]]).pvalue
            if p <= alpha:
                reject[x0, x1] = True
                power += b0[x0] * b1[x1]
    return power, reject


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    p0, p1, alpha = 0.2, 0.3, 0.05  # an effect for which n = 200 is a realistic size
    fisher_module._fisher_pvalue_matrix.cache_clear()
    fisher_module._fisher_region.cache_clear()
    t0 = time.perf_counter()
    fast = compute_power_fisher_exact(p0, p1, n, n, alpha=alpha).power
    t_fast = time.perf_counter() - t0  # first call in the process, includes scipy warm-up
    repeats = []
    for _ in range(5):
        fisher_module._fisher_pvalue_matrix.cache_clear()
        fisher_module._fisher_region.cache_clear()
        t1 = time.perf_counter()
        compute_power_fisher_exact(p0, p1, n, n, alpha=alpha)
        repeats.append(time.perf_counter() - t1)
    t_rep = float(np.median(repeats))
    t0 = time.perf_counter()
    slow, reject_slow = naive(p0, p1, n, n, alpha)
    t_slow = time.perf_counter() - t0
    reject_fast = compute_fisher_rejection_region(n, n, alpha).reject
    mismatches = int(np.sum(reject_fast != reject_slow))
    print(f"n per arm: {n}  tables: {(n + 1) ** 2}  p0={p0} p1={p1} alpha={alpha}")
    print(f"scipy.stats.fisher_exact loop : {t_slow:9.3f} s   power {slow:.12f}")
    print(f"vectorised, first call       : {t_fast:9.3f} s   power {fast:.12f}")
    print(f"vectorised, empty cache (med5): {t_rep:9.3f} s")
    print(f"speed-up: {t_slow / t_fast:.0f}x (first call), {t_slow / t_rep:.0f}x (median)")
    print(f"rejection-region mismatches: {mismatches} of {(n + 1) ** 2}")


if __name__ == "__main__":
    main()
