"""Randomisation under concurrency (real commits, parallel threads) and the `pmrtrial edc` CLI."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection, connections
from typer.testing import CliRunner

from pmrtrial.edc import services as svc
from pmrtrial.edc.randomisation.models import RandomisationSlot
from tests.edc.conftest import bachelor_text, candidate, make_users

N_PARALLEL = 8


def test_parallel_randomisations_never_share_a_slot(tx_db: str) -> None:
    from pmrtrial.edc.studies import init_study

    init_study(bachelor_text(), 2, seed=99, n_per_site=N_PARALLEL + 4)
    users = make_users()
    inv = users["inv1"]
    participants = []
    for _ in range(N_PARALLEL):
        p = svc.screen_participant(inv, "01", candidate())
        svc.record_consent(inv, p, "1.0", dt.date.today())
        participants.append(p)
    barrier = threading.Barrier(N_PARALLEL)
    results: list[Any] = []
    errors: list[BaseException] = []

    def worker(p: Any) -> None:
        try:
            barrier.wait(timeout=20)
            results.append(svc.randomise_participant(inv, p))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(p,)) for p in participants]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    numbers = [r.randomisation_number for r in results]
    assert len(set(numbers)) == N_PARALLEL
    # the first N slots of site 01, each taken exactly once
    taken = RandomisationSlot.objects.filter(site__code="01", participant__isnull=False)
    assert sorted(taken.values_list("sequence", flat=True)) == list(range(1, N_PARALLEL + 1))
    assert svc.verify_audit_chain().ok


def test_cli_createuser_token_verify_export(tx_db: str, tmp_path: Any) -> None:
    from pmrtrial.cli.edc import app
    from pmrtrial.edc.studies import init_study

    init_study(bachelor_text(), 2, seed=5, n_per_site=4)
    runner = CliRunner()
    r = runner.invoke(
        app, ["createuser", "dm1", "--role", "data_manager", "--password-stdin"], input="a-long-password-1\n"
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app, ["createuser", "x", "--role", "investigator", "--password-stdin"], input="pw-long-enough-1\n"
    )
    assert r.exit_code != 0  # a site role needs --site
    r = runner.invoke(app, ["token", "dm1"])
    assert r.exit_code == 0 and r.output.strip().startswith("pmr_")
    r = runner.invoke(app, ["export", "--out", str(tmp_path / "out"), "--user", "dm1"])
    assert r.exit_code == 0, r.output
    assert '"lock_status": "NOT LOCKED' in r.output
    assert (tmp_path / "out" / "subjects.csv").exists() and (tmp_path / "out" / "dataset.json").exists()
    r = runner.invoke(app, ["audit", "verify"])
    assert r.exit_code == 0 and "intact" in r.output
    with connection.cursor() as cur:
        cur.execute("UPDATE edc_audit_auditentry SET actor = 'mallory' WHERE seq = 2")
    r = runner.invoke(app, ["audit", "verify"])
    assert r.exit_code == 1 and "audit entry 2" in r.output


@pytest.mark.parametrize("role", ["nurse"])
def test_password_never_from_argv(role: str) -> None:
    from pmrtrial.cli.edc import app

    r = CliRunner().invoke(app, ["createuser", "--help"])
    assert "--password-stdin" in r.output and "--password " not in r.output
