"""Count the SQL statements of one eCRF save through the JSON API (Django test client, in process).

Used by bench_edc_load.py (run with PYTHONPATH pointing at the source tree under test, so the
same script counts a baseline checkout and this one). Prints one JSON line:
``{"backend", "create", "update", "in_process_ms", "in_process_cpu_ms"}`` where create/update are
statement counts (BEGIN/COMMIT/SAVEPOINT included) and in_process_ms / in_process_cpu_ms the mean
wall and CPU time of 100 saves without HTTP.

    PYTHONPATH=src python benchmarks/edc_save_queries.py sqlite|postgresql
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import time
import uuid
from typing import Any


def main(backend: str) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="pmrtrial-queries-")
    os.environ["PMRTRIAL_HOME"] = tmp
    os.environ["PMRTRIAL_EDC_DB"] = tmp + "/edc.sqlite3"
    os.environ["PMRTRIAL_EDC_SECRET_KEY"] = "query-count-" + uuid.uuid4().hex
    os.environ.pop("DATABASE_URL", None)
    pg: tuple[str, str] | None = None
    if backend == "postgresql":
        import psycopg

        url = os.environ["PMRTRIAL_TEST_POSTGRES_URL"]
        name = f"pmrtrial_q_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = url.rpartition("/")[0] + "/" + name
        pg = (url, name)
    try:
        return _count(backend)
    finally:
        if pg is not None:
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(pg[0], autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg[1]}" WITH (FORCE)')


def _count(backend: str) -> dict[str, Any]:
    from pmrtrial.edc import setup

    setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.client import Client
    from django.test.utils import CaptureQueriesContext

    from pmrtrial.edc import services as svc
    from pmrtrial.io.files import read_protocol_text
    from pmrtrial.protocol import load_example_candidates

    call_command("migrate", interactive=False, verbosity=0)
    svc.init_study(read_protocol_text("bachelor"), 2, n_per_site=10)
    svc.create_user(None, "inv", "bench-password-123", "investigator", ["01"])
    client = Client(HTTP_AUTHORIZATION="Bearer " + svc.create_token(None, "inv"))
    cand = dict(next(c for c in load_example_candidates() if c["candidate_id"] == "C01"))
    for k in ("candidate_id", "description"):
        cand.pop(k, None)

    def call(method: str, path: str, body: Any = None) -> Any:
        r = getattr(client, method)("/api" + path, json.dumps(body or {}), content_type="application/json")
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code} {r.content[:200]!r}")
        return r.json()

    sid = call("post", "/participants/screen", {"site": "01", "data": cand})["subject_id"]
    call("post", f"/participants/{sid}/consent", {"version": "1.0", "consented_on": dt.date.today().isoformat()})
    call("post", f"/participants/{sid}/randomise")
    version = 0

    def save(i: int) -> None:
        nonlocal version
        data = {"crp_value": round(1 + (i % 50) * 0.7, 1), "crp_unit": "mg/L", "esr_mm_h": i % 100}
        out = call(
            "put",
            f"/participants/{sid}/forms/W2/labs",
            {"data": data, "version": version, "reason": "" if version == 0 else "bench"},
        )
        version = out["version"]

    # Read each count at once: the next request's request_started signal clears the query log.
    with CaptureQueriesContext(connection) as ctx:
        save(1)
    n_create = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        save(2)
    n_update = len(ctx.captured_queries)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(3, 103):
        save(i)
    ms = (time.perf_counter() - t0) / 100 * 1000
    cpu_ms = (time.process_time() - c0) / 100 * 1000
    return {
        "backend": backend,
        "create": n_create,
        "update": n_update,
        "in_process_ms": round(ms, 1),
        # CPU of this process only (Django + client; SQLite runs in-process, PostgreSQL does not):
        # steadier than wall time on a shared machine.
        "in_process_cpu_ms": round(cpu_ms, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "sqlite")))
