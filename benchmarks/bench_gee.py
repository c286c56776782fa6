"""Benchmark: batched GEE (pmrtrial) vs a statsmodels GEE loop, same data, same run.

Not a test. Usage: PYTHONPATH=src python benchmarks/bench_gee.py [n_reps] [n_statsmodels]
Prints replicates/second for pmrtrial's fit_risk_ratio_gee_batch (moments="statsmodels", the
like-for-like setting, and "geepack") and for a loop of statsmodels GEE fits timed on a sample.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import statsmodels.api as sm
from statsmodels.genmod.cov_struct import Exchangeable
from statsmodels.genmod.families import Binomial
from statsmodels.genmod.families.links import Log

from pmrtrial.stats.gee import fit_risk_ratio_gee_batch


def main() -> None:
    n_reps = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_sm = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    rng = np.random.default_rng(1)
    n = 33
    trt = np.r_[np.ones(18), np.zeros(15)]
    site = np.repeat(np.arange(6), [9, 7, 6, 5, 3, 3])
    perm = np.argsort(rng.random((n_reps, n)), axis=1)
    trt_r = trt[perm]
    y = (rng.random((n_reps, n)) < np.where(trt_r == 1, 0.75, 0.15)).astype(float)

    rates = {}
    for moments in ("statsmodels", "geepack"):
        t0 = time.perf_counter()
        res = fit_risk_ratio_gee_batch(y, trt_r, site, moments=moments)
        el = time.perf_counter() - t0
        rates[moments] = n_reps / el
        c = res.counts()
        print(
            f"pmrtrial batch ({moments}): {n_reps} replicates in {el:.2f} s = {rates[moments]:,.0f}/s; "
            f"estimable {c['estimable']}, fallback {c['fallback_used']}"
        )

    x = np.column_stack([np.ones(n), np.zeros(n)])
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(n_sm):
            x[:, 1] = trt_r[i]
            sm.GEE(y[i], x, groups=site, family=Binomial(link=Log()), cov_struct=Exchangeable()).fit()
    el = time.perf_counter() - t0
    sm_rate = n_sm / el
    print(
        f"statsmodels GEE loop: {n_sm} replicates in {el:.2f} s = {sm_rate:,.0f}/s "
        f"({1000 * el / n_sm:.2f} ms per fit; log-binomial only, no fallback)"
    )
    for moments, rate in rates.items():
        print(f"ratio pmrtrial ({moments}) / statsmodels loop: {rate / sm_rate:,.0f}x")


if __name__ == "__main__":
    main()
