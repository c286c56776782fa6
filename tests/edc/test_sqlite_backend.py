"""The EDC's SQLite backend queues writers in process and always hands the queue on."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from tests.edc.conftest import select_backend


@pytest.fixture
def sqlite_tx() -> None:
    select_backend("sqlite")
    assert connection.vendor == "sqlite"


def _lock() -> threading.Lock:
    from pmrtrial.edc.sqlite_backend.base import _writer_lock

    return _writer_lock(str(connection.settings_dict["NAME"]))


def test_writer_lock_is_held_only_inside_a_transaction(sqlite_tx: None) -> None:
    assert connection.settings_dict["ENGINE"] == "pmrtrial.edc.sqlite_backend"
    assert not _lock().locked()
    with transaction.atomic():
        connection.cursor().execute("SELECT 1")
        assert _lock().locked()
    assert not _lock().locked()  # released at COMMIT
    with pytest.raises(RuntimeError), transaction.atomic():
        connection.cursor().execute("SELECT 1")
        raise RuntimeError("abort")
    assert not _lock().locked()  # released at ROLLBACK


def test_a_second_writer_waits_for_the_commit_not_a_poll(sqlite_tx: None) -> None:
    """Thread B's BEGIN waits while A's transaction is open and starts as soon as A commits."""
    a_in = threading.Event()
    a_may_commit = threading.Event()
    times: dict[str, float] = {}
    errors: list[BaseException] = []

    def a() -> None:
        try:
            with transaction.atomic():
                connection.cursor().execute("SELECT 1")
                a_in.set()
                a_may_commit.wait(10)
                times["a_commits"] = time.perf_counter()  # the last thing before COMMIT
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def b() -> None:
        try:
            a_in.wait(10)
            with transaction.atomic():
                times["b_began"] = time.perf_counter()
                connection.cursor().execute("SELECT 1")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start()
    tb.start()
    a_in.wait(10)
    time.sleep(0.2)
    assert "b_began" not in times  # B is queued behind A's open transaction
    a_may_commit.set()
    ta.join(10)
    tb.join(10)
    assert not errors
    assert times["b_began"] >= times["a_commits"]
    assert not _lock().locked()
