"""Benchmark of the trial simulator (not a test; CI never runs it).

Measures, in one process run:

1. 100,000 BACHELOR-sized trials (scenario ``bachelor-as-run``), simulated and analysed with the
   Fisher lookup and the batched GEE: in-process with 1 thread and with 2 (whole tasks, generation and
   analysis, in 2 worker threads), best of ``--repeat`` runs, and on a local Dask cluster of 2 workers;
   wall and CPU seconds (CPU summed over threads);
2. a plain loop over a subsample of the same simulated trials calling ``scipy.stats.fisher_exact``
   and statsmodels ``GEE(..., cov_struct=Exchangeable()).fit()`` per trial (the simulation itself
   is not timed in the loop: the loop is charged for analysis only), extrapolated to 100,000;
3. Dask throughput with 1 and 2 local workers, and the parallel efficiency.

Usage::

    PYTHONPATH=src python benchmarks/bench_simulate.py [--n-sims 100000] [--loop-sample 200] [--batch-size 20000]
        [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np


def _loop(trials, idx):  # type: ignore[no-untyped-def]
    import statsmodels.api as sm
    from scipy.stats import fisher_exact
    from statsmodels.genmod.cov_struct import Exchangeable
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.families.links import Log

    failures = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for i in idx:
        keep = ~np.isnan(trials.response[i])
        y = trials.response[i][keep]
        t = trials.treated[i][keep].astype(float)
        c = trials.centre[i][keep]
        x0, n0 = int(y[t == 0].sum()), int((t == 0).sum())
        x1, n1 = int(y[t == 1].sum()), int((t == 1).sum())
        fisher_exact([[x0, n0 - x0], [x1, n1 - x1]])
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            try:
                fit = sm.GEE(
                    y,
                    np.column_stack([np.ones_like(t), t]),
                    groups=c,
                    family=Binomial(link=Log()),
                    cov_struct=Exchangeable(),
                ).fit()
                if not np.all(np.isfinite(fit.params)):
                    failures += 1
            except Exception:
                failures += 1
    return time.perf_counter() - t0, time.process_time() - c0, failures


def _split(scenario, n: int = 20_000, repeat: int = 3) -> None:  # type: ignore[no-untyped-def]
    """Where the time goes, per 10,000 trials (CPU seconds of this process, one thread, best of ``repeat``)."""
    from pmrtrial.design.simulate import analyse_task, generate_task
    from pmrtrial.design.simulate_model import compile_model

    model = compile_model(scenario)
    n_total = scenario.sample_sizes()[0]
    data = generate_task(model, n_total, 9, 0, n)
    analyse_task(data, model, n, n, with_gee=True)  # warm caches (block patterns, Fisher tables of these sizes)
    gen, fisher, full = [], [], []
    for _ in range(repeat):
        t0 = time.process_time()
        data = generate_task(model, n_total, 9, 0, n)
        t1 = time.process_time()
        analyse_task(data, model, n, n, with_gee=False)
        t2 = time.process_time()
        analyse_task(data, model, n, n, with_gee=True)
        t3 = time.process_time()
        gen.append(t1 - t0)
        fisher.append(t2 - t1)
        full.append(t3 - t2)
    k = 10_000 / n
    g, f, a = min(gen) * k, min(fisher) * k, min(full) * k
    print(
        f"CPU s per 10,000 trials (of {n:,}, best of {repeat}): generation {g:.3f}, counts + Fisher lookup {f:.3f}, "
        f"GEE batch {a - f:.3f}; total {g + a:.3f}"
    )


def _in_process(scenario, n_sims: int, batch_size: int, threads: int, repeat: int):  # type: ignore[no-untyped-def]
    """Best of ``repeat`` runs (wall and CPU separately: the machine may be shared)."""
    from pmrtrial.design.simulate import simulate_operating_characteristics

    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        res = simulate_operating_characteristics(
            scenario, n_sims=n_sims, seed=1, batch_size=batch_size, keep_replicates=False, threads=threads
        )
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    wall, cpu = min(walls), min(cpus)
    print(
        f"in-process, {threads} thread(s), batch {batch_size:,}: {n_sims:,} trials in {wall:.2f} s wall, "
        f"{cpu:.2f} s CPU, best of {repeat} ({n_sims / wall:,.0f} trials/s; wall "
        f"{' '.join(f'{w:.2f}' for w in walls)}, CPU {' '.join(f'{c:.2f}' for c in cpus)}; {res.executor})"
    )
    return res, wall, cpu


def _thread_split(scenario, n_sims: int, batch_size: int, threads: int) -> None:  # type: ignore[no-untyped-def]
    """CPU seconds spent in each worker thread (``time.thread_time`` around every task) of one threaded run.

    On a shared machine the wall time of the threaded run says little; the busiest thread's CPU is what the
    wall time would be on free cores if the threads never waited for each other (the GIL is released in
    NumPy's loops, not in the Python between them).
    """
    import threading

    import pmrtrial.design.simulate as sim

    real = sim.run_task
    per_thread: dict[int, float] = {}
    lock = threading.Lock()

    def timed(*a, **k):  # type: ignore[no-untyped-def]
        t0 = time.thread_time()
        out = real(*a, **k)
        with lock:
            key = threading.get_ident()
            per_thread[key] = per_thread.get(key, 0.0) + time.thread_time() - t0
        return out

    sim.run_task = timed  # type: ignore[assignment]
    try:
        c0, t0 = time.process_time(), time.perf_counter()
        sim.simulate_operating_characteristics(
            scenario, n_sims=n_sims, seed=1, batch_size=batch_size, keep_replicates=False, threads=threads
        )
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        sim.run_task = real  # type: ignore[assignment]
    busy = sorted(per_thread.values(), reverse=True)
    print(
        f"{threads} threads, CPU per worker thread: {', '.join(f'{b:.2f}' for b in busy)} s (process {cpu:.2f} s CPU, "
        f"{wall:.2f} s wall): the busiest thread, {busy[0]:.2f} s, is the wall time on {threads} free cores "
        "without waits"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-sims", type=int, default=100_000)
    ap.add_argument("--loop-sample", type=int, default=200)
    ap.add_argument("--dask-sims", type=int, default=40_000, help="trials per Dask scaling run")
    ap.add_argument("--batch-size", type=int, default=20_000, help="in-process task and analysis batch size")
    ap.add_argument("--dask-batch-size", type=int, default=10_000, help="Dask task size")
    ap.add_argument("--repeat", type=int, default=3, help="in-process runs per configuration (best reported)")
    args = ap.parse_args()

    from pmrtrial.design.scenario import load_scenario
    from pmrtrial.design.simulate import compute_true_effect, simulate_operating_characteristics, simulate_trials
    from pmrtrial.design.simulate_dask import start_local_cluster

    scenario = load_scenario("bachelor-as-run")
    print(f"cores: {os.cpu_count()}; scenario {scenario.name}; {args.n_sims:,} trials; batch {args.batch_size}")
    print(f"load average at the start (1, 5, 15 min): {os.getloadavg()}")
    _split(scenario, repeat=args.repeat)
    t0 = time.perf_counter()
    compute_true_effect(scenario)  # cached: the truth is computed once per scenario, not per run
    print(f"truth simulation (2,000,000 per arm, once per scenario): {time.perf_counter() - t0:.1f} s")

    res1, t_one, c_one = _in_process(scenario, args.n_sims, args.batch_size, 1, args.repeat)
    res_t, t_inproc, _ = _in_process(scenario, args.n_sims, args.batch_size, 2, args.repeat)
    for _ in range(args.repeat):
        _thread_split(scenario, args.n_sims, args.batch_size, 2)
    same_t = all(res1.points[0].metrics[k].value == res_t.points[0].metrics[k].value for k in res1.points[0].metrics)
    print(f"1 and 2 threads identical: {same_t}")

    client, cluster = start_local_cluster(2)
    try:
        client.run(lambda: __import__("pmrtrial.design.simulate"))  # warm the workers' imports
        t0 = time.perf_counter()
        res2 = simulate_operating_characteristics(
            scenario, n_sims=args.n_sims, seed=1, batch_size=args.dask_batch_size, client=client, keep_replicates=False
        )
        t_dask2 = time.perf_counter() - t0
    finally:
        client.close()
        cluster.close()
    print(f"dask 2 workers: {args.n_sims:,} trials in {t_dask2:.1f} s ({args.n_sims / t_dask2:,.0f} trials/s)")
    same = all(res1.points[0].metrics[k].value == res2.points[0].metrics[k].value for k in res1.points[0].metrics)
    print(f"in-process and dask results identical: {same}")

    trials = simulate_trials(scenario, args.loop_sample, seed=1)
    t_loop, c_loop, failures = _loop(trials, range(args.loop_sample))
    per = t_loop / args.loop_sample
    t_loop_full = per * args.n_sims
    c_loop_full = c_loop / args.loop_sample * args.n_sims
    print(
        "plain loop (scipy fisher_exact + statsmodels GEE.fit): "
        f"{per * 1e3:.2f} ms/trial wall, {c_loop / args.loop_sample * 1e3:.2f} ms CPU on {args.loop_sample} trials "
        f"({failures} statsmodels failures) -> {t_loop_full:.0f} s wall, {c_loop_full:.0f} s CPU extrapolated "
        f"to {args.n_sims:,}"
    )
    print(f"speed-up vs loop in CPU: in-process 1 thread {c_loop_full / c_one:.0f}x")
    print(
        f"speed-up vs loop in wall time: in-process 1 thread {t_loop_full / t_one:.0f}x, "
        f"2 threads {t_loop_full / t_inproc:.0f}x; "
        f"dask 2 workers {t_loop_full / t_dask2:.0f}x"
    )

    thr = {}
    for n_workers in (1, 2):
        client, cluster = start_local_cluster(n_workers)
        try:
            client.run(lambda: __import__("pmrtrial.design.simulate"))
            t0 = time.perf_counter()
            simulate_operating_characteristics(
                scenario,
                n_sims=args.dask_sims,
                seed=2,
                batch_size=args.dask_batch_size,
                client=client,
                keep_replicates=False,
            )
            thr[n_workers] = args.dask_sims / (time.perf_counter() - t0)
        finally:
            client.close()
            cluster.close()
        print(f"dask {n_workers} worker(s): {thr[n_workers]:,.0f} trials/s")
    print(f"dask efficiency 2 workers: {thr[2] / (2 * thr[1]):.2f} (speed-up {thr[2] / thr[1]:.2f}x)")
    print(f"load average at the end (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
