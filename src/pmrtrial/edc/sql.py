"""Hand-written SQL for the hot path of a form save (token lookup, participant, visits, records, audit).

The ORM builds and compiles every query anew: on a save that was most of the server's CPU (about
0.3-0.7 ms per statement, several hundred column references quoted per request). The few statements
every save runs are written here once, from the models' metadata (table and column names come from
``_meta``, so a renamed field cannot drift), and read back into ordinary model instances with the
same value conversions the ORM applies (:meth:`Shape.instance`). Values written go through each
field's ``get_db_prep_save``, as the ORM does. Everything else keeps using the ORM.

``FOR UPDATE`` is added only where the database has it (PostgreSQL); SQLite serialises writers with
``BEGIN IMMEDIATE`` (see :mod:`pmrtrial.edc.sqlite_backend`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

__all__ = ["Shape", "col", "execute", "fetch", "for_update", "insert", "qn", "table", "update", "vendor"]


def _db() -> Any:
    """The current thread's connection object (not the proxy: converters and caches belong to it)."""
    return connections[DEFAULT_DB_ALIAS]


def qn(name: str) -> str:
    """A quoted identifier for the current database."""
    return str(_db().ops.quote_name(name))


def vendor() -> str:
    """``sqlite`` or ``postgresql``: key of the caches of statements written for the current database."""
    return str(_db().vendor)


def table(model: type[Model]) -> str:
    return qn(model._meta.db_table)


def col(model: type[Model], name: str) -> str:
    """The quoted column of field ``name`` (or its attname) of ``model``."""
    return qn(model._meta.get_field(name).column)  # type: ignore[union-attr]


def for_update(of: str = "") -> str:
    """`` FOR UPDATE [OF alias]`` where the database locks rows, else nothing."""
    features = _db().features
    if not features.has_select_for_update:
        return ""
    return f" FOR UPDATE OF {of}" if of and features.has_select_for_update_of else " FOR UPDATE"


def fetch(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of a SELECT."""
    with _db().cursor() as cursor:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())


def execute(sql: str, params: Sequence[Any] = ()) -> int:
    """Run an INSERT/UPDATE; the number of rows it changed."""
    with _db().cursor() as cursor:
        cursor.execute(sql, list(params))
        return int(cursor.rowcount)


class Shape:
    """The columns of one model in a SELECT (``alias.col, ...``) and the row -> instance conversion.

    ``only`` names the fields to read (default: every concrete field) and ``exclude`` fields not to read;
    the others are deferred, as with ``QuerySet.only`` / ``defer``.
    """

    def __init__(
        self, model: type[Model], alias: str, only: Iterable[str] | None = None, exclude: Iterable[str] = ()
    ) -> None:
        names, skip = (None if only is None else set(only)), set(exclude)
        self.model = model
        self.alias = alias
        self.fields = [
            f
            for f in model._meta.concrete_fields
            if (names is None or f.attname in names or f.name in names) and f.name not in skip
        ]
        self.attnames = frozenset(f.attname for f in self.fields)
        self.width = len(self.fields)
        self._pk_at = next((i for i, f in enumerate(self.fields) if f.primary_key), None)

    def columns(self) -> str:
        return ", ".join(f"{self.alias}.{qn(f.column)}" for f in self.fields)

    def _converters(self, db: Any) -> list[tuple[int, list[Any], Any]]:
        """Per column, the backend's and the field's converters (cached on the connection object ``db``)."""
        cache: dict[int, list[tuple[int, list[Any], Any]]] = db.__dict__.setdefault("_pmr_converters", {})
        key = id(self)
        if key not in cache:
            out = []
            for i, field in enumerate(self.fields):
                col = field.get_col(self.model._meta.db_table)
                convs = db.ops.get_db_converters(col) + col.get_db_converters(db)
                if convs:
                    out.append((i, convs, col))
            cache[key] = out
        return cache[key]

    def instance(self, row: Sequence[Any], start: int = 0) -> Any:
        """The model instance of ``row[start:start + width]``; None when its primary key is NULL (outer join)."""
        values = list(row[start : start + self.width])
        if self._pk_at is not None and values[self._pk_at] is None:
            return None
        db = _db()
        for i, convs, col in self._converters(db):
            value = values[i]
            for converter in convs:
                value = converter(value, col, db)
            values[i] = value
        return self.model.from_db(db.alias, self.attnames, values)


@functools.cache
def _update_sql(db_vendor: str, model: type[Model], names: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    fields = tuple(model._meta.get_field(name) for name in names)
    sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)  # type: ignore[union-attr]
    return f"UPDATE {table(model)} SET {sets} WHERE {qn(model._meta.pk.column)} = %s", fields  # type: ignore[union-attr]


def update(model: type[Model], pk: Any, values: Mapping[str, Any]) -> int:
    """``UPDATE <table> SET col = value, ... WHERE pk = ...`` (attnames -> values); the number of rows."""
    db = _db()
    sql, fields = _update_sql(db.vendor, model, tuple(values))
    return execute(sql, [*(f.get_db_prep_save(v, db) for f, v in zip(fields, values.values(), strict=True)), pk])


@functools.cache
def _insert_sql(db_vendor: str, model: type[Model], n_rows: int) -> str:
    fields = model._meta.concrete_fields
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = ", ".join(qn(f.column) for f in fields)
    return f"INSERT INTO {table(model)} ({columns}) VALUES {', '.join([row] * n_rows)}"


def insert(model: type[Model], objs: Sequence[Model], *, along: tuple[str, Sequence[Any]] | None = None) -> None:
    """INSERT ``objs`` (every concrete field, primary key included: no id is read back), many rows per
    statement within the database's limit on parameters per statement.

    ``along``: an UPDATE (sql, params) to run in the same transaction. On PostgreSQL it rides in the
    first INSERT's statement (``WITH moved AS (UPDATE ...) INSERT ...``: one round trip less); elsewhere
    it runs after the INSERTs and must change exactly one row.
    """
    fields = model._meta.concrete_fields
    db = _db()
    per_statement = max(1, (db.features.max_query_params or 999) // len(fields))
    ride = along is not None and db.vendor == "postgresql"
    for start in range(0, len(objs), per_statement):
        batch = objs[start : start + per_statement]
        params = [f.get_db_prep_save(getattr(obj, f.attname), db) for obj in batch for f in fields]
        sql = _insert_sql(db.vendor, model, len(batch))
        if ride and along is not None and start == 0:
            sql, params = f"WITH moved AS ({along[0]}) {sql}", [*along[1], *params]
        execute(sql, params)
    if along is not None and not ride:
        changed = execute(*along)
        if changed != 1:
            raise RuntimeError(f"Expected to update one row, updated {changed}: {along[0]}")
