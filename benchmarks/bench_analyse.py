"""Benchmark ``pmrtrial analyse`` end to end: the BACHELOR twin and scaled synthetic trials.

Each case runs in a fresh subprocess (so peak RSS is per case) and reports CPU seconds (``time.process_time``)
for read + validate, derive + analyse (first call, and again once every lazy import is done), and report
(HTML + DOCX + results.json; PDF timed separately for the twin), with peak memory from ``resource.getrusage``.
For the twin it also times the whole ``pmrtrial analyse --no-pdf`` process (CPU of the child,
``RUSAGE_CHILDREN``) against a bare ``python -c pass`` in the same run; with ``--baseline-src DIR`` (the ``src``
folder of another checkout, e.g. ``git archive <commit> src | tar -x -C /tmp/base``) the same process is also
timed on that tree, the two alternating, so that a before/after ratio is measured under the same load.

The scaled trials are simple random canonical datasets (not the twin): N participants x 10
visits, 1:1 arms, 100 centres, every visit column filled. Targets: twin < 2 s excluding PDF;
100,000 participants x 10 visits (1,000,000 visit rows) < 60 s, with linear growth (10k, 30k).

Usage::

    PYTHONPATH=src python benchmarks/bench_analyse.py            # all cases
    PYTHONPATH=src python benchmarks/bench_analyse.py --sizes 10000
    PYTHONPATH=src python benchmarks/bench_analyse.py --sizes --baseline-src /tmp/base/src   # twin only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

WEEKS = (0, 2, 4, 8, 12, 16, 20, 24, 28, 36)


def make_scaled_trial(n: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Random canonical datasets: ``n`` participants, 10 visits each (vectorised)."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("S", np.arange(n).astype(str))
    arm = np.where(rng.random(n) < 0.5, "baricitinib", "placebo")
    subjects = pd.DataFrame(
        {
            "subject_id": ids,
            "site_id": np.char.add("C", rng.integers(0, 100, n).astype(str)),
            "arm": arm,
            "randomised_on": "2021-01-04",
            "age_years": rng.uniform(50, 90, n).round(1),
            "sex": np.where(rng.random(n) < 0.6, "female", "male"),
            "disease_duration_days": rng.uniform(5, 180, n).round(0),
            "bmi": rng.uniform(18, 40, n).round(1),
            "us_synovitis": rng.random(n) < 0.95,
            "status": rng.choice(["completed", "withdrawn", "lost"], n, p=[0.9, 0.07, 0.03]),
        }
    )
    m = n * len(WEEKS)
    active = np.repeat(arm == "baricitinib", len(WEEKS))
    week = np.tile(np.array(WEEKS, dtype=float), n)
    late = week > 0
    visits = pd.DataFrame(
        {
            "subject_id": np.repeat(ids, len(WEEKS)),
            "week": week,
            "crp_mg_l": np.where(late, rng.gamma(2.0, 4.0, m), rng.gamma(3.0, 10.0, m)).round(1),
            "esr_mm_h": rng.uniform(2, 80, m).round(0),
            "pain_vas": np.clip(rng.normal(np.where(late, 2.0, 6.5), 1.5), 0, 10).round(1),
            "patient_global_vas": np.clip(rng.normal(np.where(late, 2.0, 6.5), 1.5), 0, 10).round(1),
            "fatigue_vas": np.clip(rng.normal(3.0, 2.0, m), 0, 10).round(1),
            "physician_global_vas": np.clip(rng.normal(np.where(late, 1.5, 7.0), 1.5), 0, 10).round(1),
            "morning_stiffness_min": np.clip(rng.normal(np.where(late, 15, 120), 20), 0, 1440).round(0),
            "upper_limb_elevation": rng.choice([0, 1, 2, 3], m, p=[0.6, 0.25, 0.1, 0.05]),
            "oral_gc_mg_day": np.where(rng.random(m) < np.where(active, 0.1, 0.5), 10.0, 0.0) * late,
            "haq_di": rng.uniform(0, 3, m).round(3),
            "eq5d_index": rng.uniform(-0.2, 1, m).round(3),
            "sf36_pcs": rng.uniform(20, 60, m).round(1),
            "sf36_mcs": rng.uniform(20, 60, m).round(1),
            "study_drug_mg_day": np.where(active & (week < 24), np.where(week < 12, 4.0, 2.0), 0.0),
        }
    )
    k = n // 2
    adverse_events = pd.DataFrame(
        {
            "subject_id": rng.choice(ids, k),
            "soc": rng.choice(["Infections and infestations", "Musculoskeletal and connective tissue disorders"], k),
            "term": "event",
            "serious": rng.random(k) < 0.1,
            "severity": rng.choice(["mild", "moderate", "severe"], k),
            "onset_week": rng.uniform(0, 36, k).round(1),
            "outcome": "recovered",
        }
    )
    return subjects, visits, adverse_events


def _run_case(case: str, data_dir: Path, out_dir: Path, pdf: bool) -> dict[str, float]:
    from pmrtrial.analysis import analyse_trial
    from pmrtrial.io import read_protocol
    from pmrtrial.io.datasets import read_datasets
    from pmrtrial.published import load_published
    from pmrtrial.report.render import write_report

    timings: dict[str, float] = {}
    clock = time.process_time  # CPU seconds of this process (all threads): less sensitive to other load than wall
    t0 = clock()
    protocol = read_protocol("bachelor")
    datasets = read_datasets(data_dir, protocol=protocol)
    t1 = clock()
    result = analyse_trial(datasets, protocol, published=load_published("bachelor"))
    t2 = clock()
    write_report(result, out_dir, formats=("html", "docx"))
    t3 = clock()
    timings.update(read_validate=t1 - t0, analyse=t2 - t1, report=t3 - t2, total=t3 - t0)
    t5 = clock()
    analyse_trial(datasets, protocol, published=load_published("bachelor"))  # again: after every lazy import
    timings["analyse_warm"] = clock() - t5
    if pdf:
        t4 = clock()
        write_report(result, out_dir, formats=("pdf",))
        timings["pdf_report"] = clock() - t4
    timings["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    timings["visit_rows"] = float(len(datasets.visits))
    return timings


def _child(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, out_dir = Path(tmp) / "data", Path(tmp) / "out"
        from pmrtrial.io.datasets import write_datasets

        if args.case == "twin":
            from pmrtrial.synth import generate_bachelor_twin

            twin = generate_bachelor_twin(seed=2025)
            write_datasets(data_dir, twin.subjects, twin.visits, twin.adverse_events, manifest={"synthetic": True})
        else:
            s, v, a = make_scaled_trial(int(args.case))
            write_datasets(data_dir, s, v, a, file_format="parquet")
        timings = _run_case(args.case, data_dir, out_dir, pdf=args.case == "twin")
        if args.case == "twin":  # the whole CLI process on the same data, CPU of the child
            argv = [sys.executable, "-m", "pmrtrial", "analyse", str(data_dir), "--out", str(out_dir), "--no-pdf"]
            trees = {"cli_process": None}
            if args.baseline_src:
                trees["cli_process_baseline"] = str(Path(args.baseline_src).resolve())
            timings.update(_alternating_cpu(argv, trees, repeat=args.repeat))
            timings["python_baseline"] = _child_cpu([sys.executable, "-c", "pass"])
        print(json.dumps(timings))


def _child_cpu(argv: list[str], repeat: int = 3, pythonpath: str | None = None) -> float:
    """Minimum over ``repeat`` runs of a child's user + system CPU seconds (resource.RUSAGE_CHILDREN)."""
    return _alternating_cpu(argv, {"cpu": pythonpath}, repeat)["cpu"]


def _alternating_cpu(argv: list[str], trees: dict[str, str | None], repeat: int) -> dict[str, float]:
    """Minimum child CPU seconds per source tree (PYTHONPATH; None = as inherited), the trees run in turn."""
    best = dict.fromkeys(trees, float("inf"))
    for _ in range(repeat):
        for name, pythonpath in trees.items():
            env = dict(os.environ) if pythonpath is None else {**os.environ, "PYTHONPATH": pythonpath}
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            best[name] = min(best[name], after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 30_000, 100_000])
    parser.add_argument("--baseline-src", help="also time the twin's CLI process on this src folder (same run)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the CLI process per tree (minimum kept)")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        _child(args)
        return
    cases = ["twin", *(str(n) for n in args.sizes)]
    rows = []
    for case in cases:
        extra = ["--repeat", str(args.repeat)] + (["--baseline-src", args.baseline_src] if args.baseline_src else [])
        proc = subprocess.run(
            [sys.executable, __file__, "--case", case, *extra], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            print(f"{case}: failed\n{proc.stderr[-2000:]}")
            continue
        rows.append((case, json.loads(proc.stdout.strip().splitlines()[-1])))
    head = ("case", "visit rows", "read+valid", "analyse", "warm", "report", "total", "pdf", "peak MB")
    widths = (10, 11, 10, 8, 6, 7, 7, 6, 8)
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)))
    for case, t in rows:
        pdf = f"{t['pdf_report']:.2f}" if "pdf_report" in t else "-"
        print(
            f"{case:>10} {int(t['visit_rows']):>11,} {t['read_validate']:>10.2f} {t['analyse']:>8.2f} "
            f"{t['analyse_warm']:>6.2f} {t['report']:>7.2f} {t['total']:>7.2f} {pdf:>6} {t['peak_rss_mb']:>8.0f}"
        )
        if "cli_process" in t:
            base = t["python_baseline"]
            print(
                f"{'':>10} whole 'pmrtrial analyse --no-pdf' process: {t['cli_process']:.2f} s CPU "
                f"({t['cli_process'] / base:.0f}x a bare 'python -c pass' at {base:.3f} s, same run)"
            )
            if "cli_process_baseline" in t:
                before = t["cli_process_baseline"]
                print(
                    f"{'':>10} the same process on --baseline-src: {before:.2f} s CPU; this tree / baseline = "
                    f"{t['cli_process'] / before:.2f} (min of {args.repeat}, alternating, same run)"
                )
    print(
        "CPU seconds; 'warm' = the analysis run again after every lazy import; total excludes the PDF. Targets: "
        "twin warm analysis <= 0.5 s, whole --no-pdf process <= 2.5 s, 100,000 x 10 without PDF <= 10 s."
    )
    print("reproduce: PYTHONPATH=src python benchmarks/bench_analyse.py [--sizes 10000 100000]")


if __name__ == "__main__":
    main()
