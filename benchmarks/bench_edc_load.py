"""Load test (not a test): 20 concurrent data-entry users saving forms with audit, over loopback.

Starts `pmrtrial serve` (gunicorn, 2 workers) on a fresh SQLite file, and on PostgreSQL when
PMRTRIAL_TEST_POSTGRES_URL is set; each user saves the labs form of its own participants
through the JSON API (PUT with version and reason), for a bounded time. Reports p95 save
latency, errors, and lost writes (final database compared with the last saved payloads).

    PYTHONPATH=src python benchmarks/bench_edc_load.py [--seconds 20] [--users 20]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-123"


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
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def run(backend: str, seconds: float, n_users: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="pmrtrial-bench-"))
    env = {
        **os.environ,
        "PMRTRIAL_HOME": str(tmp),
        "PMRTRIAL_EDC_DB": str(tmp / "edc.sqlite3"),
        "PYTHONPATH": str(ROOT / "src"),
    }
    env.pop("DATABASE_URL", None)
    if backend == "postgresql":
        import psycopg

        url = os.environ["PMRTRIAL_TEST_POSTGRES_URL"]
        name = f"pmrtrial_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = url.rpartition("/")[0] + "/" + name
    _cli(env, "init", "--sites", "2", "--per-site", str(n_users + 4))
    _cli(env, "createuser", "inv", "--role", "investigator", "--site", "01", "--password-stdin", stdin=PASSWORD + "\n")
    token = _cli(env, "token", "inv").strip()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pmrtrial.cli.edc", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/api"
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    try:
        cand = json.loads((ROOT / "src/pmrtrial/protocol/data/candidates/c01.json").read_text())
        cand = {k: v for k, v in cand.items() if k not in ("candidate_id", "description")}
        subjects = []
        for _ in range(n_users):
            _, p = _request(base + "/participants/screen", token, "POST", {"site": "01", "data": cand})
            sid = p["subject_id"]
            _request(
                f"{base}/participants/{sid}/consent",
                token,
                "POST",
                {"version": "1.0", "consented_on": time.strftime("%Y-%m-%d")},
            )
            _request(f"{base}/participants/{sid}/randomise", token, "POST")
            subjects.append(sid)
        latencies: list[float] = []
        errors: list[Any] = []
        last_saved: dict[tuple[str, str], dict[str, Any]] = {}
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def user(sid: str) -> None:
            versions = {"W2": 0, "W4": 0, "W8": 0}
            i = 0
            while time.monotonic() < deadline:
                key = ("W2", "W4", "W8")[i % 3]
                i += 1
                data = {"crp_value": round(1 + (i % 50) * 0.7, 1), "crp_unit": "mg/L", "esr_mm_h": i % 100}
                body = {"data": data, "version": versions[key], "reason": "" if versions[key] == 0 else "bench"}
                t0 = time.perf_counter()
                status, out = _request(f"{base}/participants/{sid}/forms/{key}/labs", token, "PUT", body)
                dt_ms = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(dt_ms)
                    if status != 200:
                        errors.append((status, str(out)[:200]))
                    else:
                        versions[key] = out["version"]
                        last_saved[(sid, key)] = data

        threads = [threading.Thread(target=user, args=(sid,)) for sid in subjects]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        lost = 0
        for (sid, key), data in last_saved.items():
            _, rec = _request(f"{base}/participants/{sid}/forms/{key}/labs", token)
            stored = {k: rec["data"][k] for k in data}
            if stored != {k: (float(v) if k != "crp_unit" else v) for k, v in data.items()}:
                lost += 1
        _, audit = _request(f"{base}/participants/{subjects[0]}/audit", token)
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
        return {
            "backend": backend,
            "users": n_users,
            "seconds": seconds,
            "saves": len(latencies),
            "p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else None,
            "p95_ms": round(p95, 1),
            "errors": len(errors),
            "error_samples": errors[:3],
            "lost_writes": lost,
            "forms_checked": len(last_saved),
            "audit_entries_subject0": len(audit),
        }
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("PMRTRIAL_TEST_POSTGRES_URL") else [])
    for backend in backends:
        print(json.dumps(run(backend, args.seconds, args.users)))


if __name__ == "__main__":
    main()
