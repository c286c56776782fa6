"""Benchmark ``pmrtrial demo --protocol bachelor|semaphore|saphyr``: wall and CPU seconds of the whole process.

Each protocol's demo runs ``--repeat`` times (default 1: a run takes minutes) in a fresh process into a temporary
folder; the figures are the minimum wall time and the minimum CPU time (user + system of the process and of the EDC
child it waits for, read with ``resource.getrusage(RUSAGE_CHILDREN)``). On a shared machine the wall time also
holds the wait for the CPU and for the audit anchor's fsync (one per committed transaction); the CPU time is the
steadier figure.

With ``--baseline-src DIR`` (the ``src`` folder of another checkout, e.g. ``/work/main/src``) each run of this
tree alternates with a run of the baseline tree in the same session, and the CPU ratio (this / baseline) is printed:
the steadier comparison on a loaded machine.

Usage::

    PYTHONPATH=src python benchmarks/bench_demo.py [--protocol saphyr] [--repeat 1] [--baseline-src DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROTOCOLS = ("bachelor", "semaphore", "saphyr")
SRC = Path(__file__).resolve().parents[1] / "src"


def run_once(protocol: str, src: Path = SRC) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``pmrtrial demo --protocol PROTOCOL`` process of the code in ``src`` (this tree's
    by default), run in a temporary folder."""
    env = {**os.environ, "PYTHONPATH": str(src.resolve())}
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "pmrtrial", "demo", "--protocol", protocol, "--out", str(Path(tmp) / "demo")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, env=env, cwd=tmp
        )
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", choices=PROTOCOLS, action="append", help="Default: all three.")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--baseline-src", help="The src folder of a baseline checkout, run alternately.")
    args = parser.parse_args()
    for protocol in args.protocol or PROTOCOLS:
        runs, base = [], []
        for _ in range(args.repeat):
            runs.append(run_once(protocol))
            if args.baseline_src:
                base.append(run_once(protocol, Path(args.baseline_src)))
        wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
        line = f"pmrtrial demo --protocol {protocol:<9}  wall {wall:7.1f} s   CPU {cpu:7.1f} s"
        if base:
            b_wall, b_cpu = min(r[0] for r in base), min(r[1] for r in base)
            line += f"   baseline wall {b_wall:7.1f} s   CPU {b_cpu:7.1f} s   CPU ratio {cpu / b_cpu:.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
