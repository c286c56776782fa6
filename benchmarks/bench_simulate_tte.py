"""Benchmark of the time-to-event scenario kind of ``pmrtrial simulate`` (not a test; CI never runs it).

Measures, in one process run:

1. ``--n-sims`` trials of a scenario (default ``saphyr-as-run``: 118 participants, remission by week 12, flare to
   week 52), simulated and analysed in-process: the sustained-remission analyses (Fisher lookup, Newcombe RD,
   Katz RR per distinct table) and, per replicate, the vectorised log-rank and Efron Cox fit; wall and CPU s;
2. the baseline, in the same run: a plain loop over the first ``--loop-sample`` of the same replicates calling
   lifelines ``CoxPHFitter().fit`` (Efron ties) and ``lifelines.statistics.logrank_test`` per replicate (the
   simulation is not charged to the loop), extrapolated to ``--n-sims``; the ratio of the two, and the largest
   difference between the two Cox estimates on the sample (they must agree).

Usage::

    PYTHONPATH=src python benchmarks/bench_simulate_tte.py [--scenario saphyr-as-run] [--n-sims 20000] \
        [--loop-sample 200] [--batch-size 5000]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np


def _loop(reps, n: int) -> tuple[float, float, np.ndarray]:  # type: ignore[no-untyped-def]
    import pandas as pd
    from lifelines import CoxPHFitter
    from lifelines.statistics import logrank_test

    log_hr = np.full(n, np.nan)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(n):
        keep = reps.at_risk[i]
        frame = pd.DataFrame(
            {"time": reps.flare_time[i][keep], "event": reps.flare_event[i][keep], "treated": reps.group[keep]}
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = CoxPHFitter().fit(frame, "time", "event")
            treated = frame["treated"] == 1
            logrank_test(
                frame["time"][treated], frame["time"][~treated], frame["event"][treated], frame["event"][~treated]
            )
        log_hr[i] = float(fit.params_["treated"])
    return time.perf_counter() - t0, time.process_time() - c0, log_hr


def main() -> None:
    from pmrtrial.design.simulate_tte_scenario import (
        load_tte_scenario,
        simulate_tte_operating_characteristics,
        simulate_tte_replicates,
    )

    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="saphyr-as-run")
    ap.add_argument("--n-sims", type=int, default=20_000)
    ap.add_argument("--loop-sample", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=5000)
    args = ap.parse_args()
    scenario = load_tte_scenario(args.scenario)
    print(f"cores: {os.cpu_count()}; load average (1, 5, 15 min): {os.getloadavg()}")
    print(f"scenario {scenario.name}; {args.n_sims:,} trials per design point; batch {args.batch_size}")
    t0, c0 = time.perf_counter(), time.process_time()
    result = simulate_tte_operating_characteristics(
        scenario, n_sims=args.n_sims, seed=1, batch_size=args.batch_size, keep_replicates=True
    )
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n_points = len(result.points)
    total = args.n_sims * n_points
    print(f"vectorised: {total:,} trials in {wall:.2f} s wall, {cpu:.2f} s CPU ({total / wall:,.0f} trials/s)")
    reps = simulate_tte_replicates(scenario, n_sims=args.loop_sample, seed=1)
    loop_wall, loop_cpu, loop_log_hr = _loop(reps, args.loop_sample)
    per_trial = loop_cpu / args.loop_sample
    print(
        f"lifelines loop (CoxPHFitter + logrank_test): {args.loop_sample} trials in {loop_wall:.2f} s wall, "
        f"{loop_cpu:.2f} s CPU; extrapolated to {total:,}: {per_trial * total:,.0f} s CPU"
    )
    print(f"speed-up vs lifelines loop in CPU: {per_trial * total / cpu:,.0f}x")
    ours = result.replicates[0]["cox_log_hr"][: args.loop_sample]
    diff = float(np.nanmax(np.abs(ours - loop_log_hr)))
    print(f"largest |log HR difference| vectorised vs lifelines on the sample: {diff:.2e} (lifelines' tolerance)")


if __name__ == "__main__":
    main()
