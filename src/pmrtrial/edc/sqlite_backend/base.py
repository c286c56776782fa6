"""Django's SQLite backend, with write transactions queued in process instead of polled.

Every EDC transaction starts with ``BEGIN IMMEDIATE`` (it takes SQLite's write lock at once, so
it cannot fail later on a lock upgrade). When the lock is taken, SQLite's busy handler retries
after sleeps of 1, 2, 5, 10, ... up to 100 ms: under 20 concurrent savers most of a save's latency
was that sleeping, and the order was unfair. Here the threads of one server process first queue
on a :class:`threading.Lock` (woken the moment the previous writer commits); only the other
worker processes still meet SQLite's busy handler. The lock is held from ``BEGIN`` to
``COMMIT``/``ROLLBACK`` (or close) and is never held outside a transaction; waiting for it is
bounded by the database ``timeout`` option, after which the usual "database is locked" error
is raised, as SQLite itself would.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _writer_lock(name: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(name, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):  # type: ignore[misc]
    _pmr_held: threading.Lock | None = None

    def _start_transaction_under_autocommit(self) -> None:
        if self.is_in_memory_db():
            super()._start_transaction_under_autocommit()
            return
        lock = _writer_lock(str(self.settings_dict["NAME"]))
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        if not lock.acquire(timeout=timeout):
            raise OperationalError("database is locked")
        self._pmr_held = lock
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._pmr_release()
            raise

    def _pmr_release(self) -> None:
        lock, self._pmr_held = self._pmr_held, None
        if lock is not None:
            lock.release()

    def _commit(self) -> Any:
        try:
            return super()._commit()
        finally:
            self._pmr_release()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()
        finally:
            self._pmr_release()

    def _close(self) -> Any:
        try:
            return super()._close()
        finally:
            self._pmr_release()
