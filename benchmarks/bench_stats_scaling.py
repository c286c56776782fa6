"""Benchmark: cost of the new statistics against the number of participants (issue: analyse linear in n).

Run:  PYTHONPATH=src python benchmarks/bench_stats_scaling.py [n_max_per_arm]   (default 800)

For n per arm doubling from 25: one Boschloo p-value (enumeration of (n+1)^2 tables, quadratic; above
BOSCHLOO_MAX_TABLES = 250,000 tables, about 500 per arm, the result is "not available" and says so, so the
cost stops growing), Kaplan-Meier + log-rank + Cox (lifelines), the adjusted risk ratio and the
Wilcoxon/Hodges-Lehmann shift (n log n, plus the m*n pairwise differences for the exact median). Not a test:
it prints seconds per call.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from pmrtrial.stats import (
    boschloo_exact_test,
    cox_ph,
    estimate_adjusted_risk_ratio,
    kaplan_meier,
    logrank_test,
    wilcoxon_hodges_lehmann,
)


def _time(fn: object, *args: object, **kwargs: object) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)  # type: ignore[operator]
    return time.perf_counter() - start, out


def main() -> None:
    n_max = int(sys.argv[1]) if len(sys.argv) > 1 else 800
    rng = np.random.default_rng(1)
    print(f"{'n/arm':>6} {'boschloo':>10} {'available':>9} {'km+lr+cox':>10} {'adj RR':>8} {'wilcoxon':>9}")
    n = 25
    while n <= n_max:
        treated = np.repeat([1, 0], n)
        time_ = np.ceil(rng.exponential(200, 2 * n) / 14) * 14
        event = (rng.random(2 * n) < 0.6).astype(int)
        y = (rng.random(2 * n) < np.where(treated == 1, 0.6, 0.35)).astype(int)
        cov = pd.DataFrame({"stratum": rng.choice(["a", "b"], 2 * n), "gc": rng.normal(12, 3, 2 * n)})
        t_b, res_b = _time(
            boschloo_exact_test, int(y[:n].sum()), n_treated=n, events_control=int(y[n:].sum()), n_control=n
        )
        start = time.perf_counter()
        kaplan_meier(time_, event, treated, arms=[1, 0])
        logrank_test(time_, event, treated)
        cox_ph(time_, event, treated, cov)
        t_s = time.perf_counter() - start
        t_a, _ = _time(estimate_adjusted_risk_ratio, y, treated, cov)
        t_w, _ = _time(wilcoxon_hodges_lehmann, time_[:n], time_[n:])
        print(f"{n:>6} {t_b:>10.3f} {res_b.available!s:>9} {t_s:>10.3f} {t_a:>8.3f} {t_w:>9.3f}")  # type: ignore[attr-defined]
        n *= 2


if __name__ == "__main__":
    main()
