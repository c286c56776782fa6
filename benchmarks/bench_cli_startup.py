"""Benchmark the CLI's cold start: CPU seconds of whole ``pmrtrial`` processes.

Each command runs ``--repeat`` times in a fresh interpreter; the figure is the minimum CPU time (user + system)
of the child, read with ``resource.getrusage(RUSAGE_CHILDREN)``, so other load on the machine inflates it
less than wall time would. The baseline is a bare ``python -c pass`` measured in the same run; the ratio to it
is printed beside each figure. Targets (issue 15): ``--help`` <= 0.25 s, ``score pmr-as ... --json`` and
``classify ...`` <= 0.4 s, ``design power ... --method fisher-exact --n 200`` <= 0.8 s, and the whole
``simulate bachelor-as-run --n-sims 1000`` process <= 1.0 s.

Usage::

    PYTHONPATH=src python benchmarks/bench_cli_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile

SCORE = (
    "score pmr-as --crp-mg-l 35 --pain-vas 6.6 --physician-global-vas 6.8 --morning-stiffness-min 120 "
    "--upper-limb-elevation 1 --json"
)
CLASSIFY = (
    "classify --age-years 72 --bilateral-shoulder-aching --abnormal-crp-or-esr --morning-stiffness-min 120 "
    "--hip-pain --rf-and-acpa-negative --no-other-joints"
)
CASES: dict[str, tuple[str, float]] = {
    "--help": ("--help", 0.25),
    "--version": ("--version", 0.25),
    "score pmr-as --json": (SCORE, 0.4),
    "classify": (CLASSIFY, 0.4),
    "design power fisher-exact n=200": ("design power --p0 0.13 --p1 0.5 --method fisher-exact --n 200", 0.8),
    "simulate bachelor-as-run 1000": ("simulate bachelor-as-run --n-sims 1000 --out {tmp}", 1.0),
}


def child_cpu_seconds(argv: list[str], repeat: int) -> float:
    """Minimum over ``repeat`` runs of the child's user + system CPU seconds."""
    best = float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
        best = min(best, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    env_note = f"PYTHONPATH={os.environ.get('PYTHONPATH', '')}"
    baseline = child_cpu_seconds([sys.executable, "-c", "pass"], args.repeat)
    print(f"baseline python -c pass: {baseline:.3f} s CPU (min of {args.repeat}; {env_note})")
    print(f"{'command':36s} {'CPU s':>7s} {'x base':>7s} {'target':>7s}")
    failed = []
    for label, (command, target) in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            argv = [sys.executable, "-m", "pmrtrial", *command.format(tmp=tmp).split()]
            seconds = child_cpu_seconds(argv, args.repeat)
        ok = seconds <= target
        failed += [] if ok else [label]
        print(f"{label:36s} {seconds:7.3f} {seconds / baseline:7.0f} {target:7.2f} {'ok' if ok else 'OVER'}")
    print("reproduce: PYTHONPATH=src python benchmarks/bench_cli_startup.py")
    if failed:
        print(f"over target: {', '.join(failed)}")


if __name__ == "__main__":
    main()
