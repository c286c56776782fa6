"""Load test (not a test): concurrent data-entry users saving eCRFs with audit, over loopback.

Starts ``pmrtrial serve`` (gunicorn) on a fresh SQLite file, and on PostgreSQL when
PMRTRIAL_TEST_POSTGRES_URL is set. Each user saves the labs form of its own participant through
the JSON API (PUT with version and reason; every save changes fields, so every save writes audit
entries), for a bounded time, in two modes:

- ``stress``: closed loop, no think time (each user sends its next save as soon as the last
  returned). This measures saturation, not data entry.
- ``think``: each user waits an exponential think time (mean ``--think-mean`` s) between saves,
  as a person filling forms does.

Reported per run: p50/p95/p99 save latency, throughput, errors, lost writes (the final database
compared with the last saved payloads), whether the audit hash chain verifies, CPU seconds per save
of the server processes, of the PostgreSQL backends serving them and of this client, and the machine's
CPU utilisation. The client, the
server and PostgreSQL share the same machine (``nproc`` cores). With ``--baseline-src DIR``, the
same run first measures another source tree (e.g. a checkout of the previous commit) for a ratio.

    PYTHONPATH=src python benchmarks/bench_edc_load.py [--seconds 20] [--users 20] [--modes stress,think]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-123"
KEYS = ("W2", "W4", "W8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        [sys.executable, "-m", "pmrtrial.cli.edc", *args],
        env=env,
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
    ).stdout


def _request(url: str, token: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError as exc:
        return 0, repr(exc)


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _group_cpu(pgid: int) -> float:
    """CPU seconds (user+system) of the live processes in process group ``pgid``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parts = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(parts[2]) == pgid:
            total += (int(parts[11]) + int(parts[12])) / tick
    return total


def _pg_backends_cpu(dbname: str | None) -> float:
    """CPU seconds of the live PostgreSQL backend processes serving database ``dbname`` (0 without one)."""
    if not dbname:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if f" {dbname} " not in title or not title.startswith("postgres:"):
                continue
            parts = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(parts[11]) + int(parts[12])) / tick
    return total


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 1)


class Server:
    """A fresh database and ``pmrtrial serve`` on it, from the source tree ``src``."""

    def __init__(self, backend: str, src: Path, n_users: int, serve_args: list[str]) -> None:
        self.backend = backend
        self.tmp = Path(tempfile.mkdtemp(prefix="pmrtrial-bench-"))
        self.env = {
            **os.environ,
            "PMRTRIAL_HOME": str(self.tmp),
            "PMRTRIAL_EDC_DB": str(self.tmp / "edc.sqlite3"),
            "PYTHONPATH": str(src),
        }
        self.env.pop("DATABASE_URL", None)
        self.pg_name: str | None = None
        if backend == "postgresql":
            import psycopg

            url = os.environ["PMRTRIAL_TEST_POSTGRES_URL"]
            self.pg_name = f"pmrtrial_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            self.env["DATABASE_URL"] = url.rpartition("/")[0] + "/" + self.pg_name
        _cli(self.env, "init", "--sites", "2", "--per-site", str(n_users + 4))
        _cli(
            self.env,
            "createuser",
            "inv",
            "--role",
            "investigator",
            "--site",
            "01",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        self.token = _cli(self.env, "token", "inv").strip()
        port = _free_port()
        self.serve_cmd = [sys.executable, "-m", "pmrtrial.cli.edc", "serve", "--port", str(port), *serve_args]
        self.proc = subprocess.Popen(
            self.serve_cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        self.base = f"http://127.0.0.1:{port}/api"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not start")

    def subjects(self, n: int) -> list[str]:
        cand = json.loads((ROOT / "src/pmrtrial/protocol/data/candidates/c01.json").read_text())
        cand = {k: v for k, v in cand.items() if k not in ("candidate_id", "description")}
        out = []
        for _ in range(n):
            _, p = _request(self.base + "/participants/screen", self.token, "POST", {"site": "01", "data": cand})
            sid = p["subject_id"]
            today = time.strftime("%Y-%m-%d")
            _request(
                f"{self.base}/participants/{sid}/consent", self.token, "POST", {"version": "1.0", "consented_on": today}
            )
            _request(f"{self.base}/participants/{sid}/randomise", self.token, "POST")
            out.append(sid)
        return out

    def audit_verifies(self) -> bool:
        return "intact" in _cli(self.env, "audit", "verify")

    def stop(self) -> None:
        os.killpg(self.proc.pid, 15)
        self.proc.wait(15)
        if self.pg_name:
            import psycopg

            with psycopg.connect(os.environ["PMRTRIAL_TEST_POSTGRES_URL"], autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')


def load(server: Server, subjects: list[str], seconds: float, think_mean: float, seed: int) -> dict[str, Any]:
    """Run the users for ``seconds`` (think_mean 0 = closed loop without think time)."""
    latencies: list[float] = []
    errors: list[Any] = []
    last_saved: dict[tuple[str, str], dict[str, Any]] = {}
    versions: dict[tuple[str, str], int] = {}
    lock = threading.Lock()
    rng_master = random.Random(seed)
    deadline = time.monotonic() + seconds

    def user(sid: str, rng: random.Random) -> None:
        i = 0
        if think_mean > 0:  # start staggered, as people do
            time.sleep(rng.uniform(0, think_mean))
        while time.monotonic() < deadline:
            key = KEYS[i % 3]
            i += 1
            # Every save changes all three fields (esr and crp differ from the previous save of this key).
            n = len(latencies) + i
            data = {"crp_value": round(1 + (n % 50) * 0.7 + 0.1 * (i % 3), 1), "crp_unit": "mg/L", "esr_mm_h": n % 97}
            v = versions.get((sid, key), 0)
            body = {"data": data, "version": v, "reason": "" if v == 0 else "bench"}
            t0 = time.perf_counter()
            status, out = _request(f"{server.base}/participants/{sid}/forms/{key}/labs", server.token, "PUT", body)
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(ms)
                if status != 200:
                    errors.append((status, str(out)[:200]))
                else:
                    versions[(sid, key)] = out["version"]
                    last_saved[(sid, key)] = data
            if think_mean > 0:
                pause = rng.expovariate(1 / think_mean)
                if time.monotonic() + pause >= deadline:
                    break
                time.sleep(pause)

    busy0, total0 = _machine_busy()
    srv0, cli0, t0 = _group_cpu(server.proc.pid), time.process_time(), time.monotonic()
    pg0 = _pg_backends_cpu(server.pg_name)
    threads = [threading.Thread(target=user, args=(sid, random.Random(rng_master.random()))) for sid in subjects]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    srv_cpu, cli_cpu = _group_cpu(server.proc.pid) - srv0, time.process_time() - cli0
    pg_cpu = _pg_backends_cpu(server.pg_name) - pg0
    busy1, total1 = _machine_busy()
    lost = 0
    for (sid, key), data in last_saved.items():
        _, rec = _request(f"{server.base}/participants/{sid}/forms/{key}/labs", server.token)
        stored = {k: rec["data"][k] for k in data}
        if stored != {k: (float(v) if k != "crp_unit" else v) for k, v in data.items()}:
            lost += 1
    latencies.sort()
    n = len(latencies)
    return {
        "saves": n,
        "throughput_per_s": round(n / elapsed, 1),
        "mean_ms": round(sum(latencies) / n, 1) if n else None,
        "p50_ms": _pct(latencies, 0.50),
        "p95_ms": _pct(latencies, 0.95),
        "p99_ms": _pct(latencies, 0.99),
        "errors": len(errors),
        "error_samples": errors[:3],
        "lost_writes": lost,
        "forms_checked": len(last_saved),
        "server_cpu_ms_per_save": round(srv_cpu / n * 1000, 1) if n else None,
        "client_cpu_ms_per_save": round(cli_cpu / n * 1000, 1) if n else None,
        # The PostgreSQL backends serving the server's connections (null on SQLite, which runs inside gunicorn).
        "postgres_cpu_ms_per_save": round(pg_cpu / n * 1000, 1) if n and server.pg_name else None,
        "machine_cpu_busy": round((busy1 - busy0) / max(total1 - total0, 1), 2),
        # Cores used by gunicorn + this client (PostgreSQL excluded): less than the core count
        # while the machine is busy means other processes took the rest.
        "cores_used_by_server_and_client": round((srv_cpu + cli_cpu) / elapsed, 2),
    }


def _query_counts(backend: str, src: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("edc_save_queries.py")), backend],
        env=env,
        text=True,
        capture_output=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each load run")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--modes", default="stress,think", help="comma-separated: stress, think")
    parser.add_argument("--think-mean", type=float, default=2.0, help="mean think time (s), exponential")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--serve-args", default="", help="extra arguments of `pmrtrial serve` (default: its defaults)")
    parser.add_argument("--baseline-src", type=Path, help="also measure this source tree (e.g. the previous commit)")
    parser.add_argument(
        "--baseline-serve-args", default="--workers 2", help="`pmrtrial serve` arguments for the baseline tree"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    backends = [
        b for b in args.backends.split(",") if b != "postgresql" or os.environ.get("PMRTRIAL_TEST_POSTGRES_URL")
    ]
    modes = [m for m in args.modes.split(",") if m]
    trees = [("current", ROOT / "src", args.serve_args)]
    if args.baseline_src:
        trees.insert(0, ("baseline", args.baseline_src.resolve(), args.baseline_serve_args))
    print(f"# {os.cpu_count()} CPUs shared by the client (this process), gunicorn and PostgreSQL", flush=True)
    results: dict[tuple[str, str, str], dict[str, Any]] = {}
    for backend in backends:
        for label, src, serve_args in trees:
            q = _query_counts(backend, src)
            print(json.dumps({"tree": label, "what": "statements per save", **q}), flush=True)
            for mode in modes:
                server = Server(backend, src, args.users, shlex.split(serve_args))
                try:
                    subjects = server.subjects(args.users)
                    think = args.think_mean if mode == "think" else 0.0
                    r = load(server, subjects, args.seconds, think, args.seed)
                    r["audit_chain_verifies"] = server.audit_verifies()
                finally:
                    server.stop()
                reproduce = (
                    f"PYTHONPATH=src python benchmarks/bench_edc_load.py --backends {backend} --modes {mode} "
                    f"--seconds {args.seconds:g} --users {args.users} --think-mean {args.think_mean:g}"
                )
                if label == "baseline":
                    reproduce += f" --baseline-src {src} --baseline-serve-args {shlex.quote(serve_args)}"
                elif serve_args:
                    reproduce += f" --serve-args {shlex.quote(serve_args)}"
                results[(backend, label, mode)] = r
                row = {"tree": label, "backend": backend, "mode": mode, "users": args.users, **r}
                row["serve"] = " ".join(server.serve_cmd[3:])
                row["reproduce"] = reproduce
                print(json.dumps(row), flush=True)
            if label == "current" and args.baseline_src:
                for mode in modes:
                    b, c = results.get((backend, "baseline", mode)), results.get((backend, "current", mode))
                    if b and c and b["p95_ms"] and c["p95_ms"]:
                        print(
                            json.dumps(
                                {
                                    "ratio_baseline_over_current": backend + "/" + mode,
                                    "p95": round(b["p95_ms"] / c["p95_ms"], 2),
                                    "throughput": round(c["throughput_per_s"] / max(b["throughput_per_s"], 1e-9), 2),
                                }
                            ),
                            flush=True,
                        )


if __name__ == "__main__":
    main()
