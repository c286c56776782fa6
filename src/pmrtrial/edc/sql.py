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

    def columns(self) -> str:
        return ", ".join(f"{self.alias}.{qn(f.column)}" for f in self.fields)

    def _converters(self) -> list[tuple[int, list[Any], Any]]:
        """Per column, the backend's and the field's converters (cached on the connection object)."""
        db = _db()
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
        pk_at = next((i for i, f in enumerate(self.fields) if f.primary_key), None)
        if pk_at is not None and values[pk_at] is None:
            return None
        db = _db()
        for i, convs, col in self._converters():
            value = values[i]
            for converter in convs:
                value = converter(value, col, db)
            values[i] = value
        return self.model.from_db(db.alias, self.attnames, values)


def _prep(model: type[Model], attname: str, value: Any) -> Any:
    return model._meta.get_field(attname).get_db_prep_save(value, _db())


def update(model: type[Model], pk: Any, values: Mapping[str, Any]) -> int:
    """``UPDATE <table> SET col = value, ... WHERE pk = ...`` (attnames -> values); the number of rows."""
    sets = ", ".join(f"{qn(model._meta.get_field(name).column)} = %s" for name in values)
    params = [_prep(model, name, v) for name, v in values.items()]
    return execute(f"UPDATE {table(model)} SET {sets} WHERE {qn(model._meta.pk.column)} = %s", [*params, pk])


def insert(model: type[Model], objs: Sequence[Model]) -> None:
    """INSERT ``objs`` (every concrete field, primary key included: no id is read back), many rows per
    statement within the database's limit on parameters per statement."""
    fields = list(model._meta.concrete_fields)
    columns = ", ".join(qn(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    db = _db()
    per_statement = max(1, (db.features.max_query_params or 999) // len(fields))
    for start in range(0, len(objs), per_statement):
        batch = objs[start : start + per_statement]
        params = [f.get_db_prep_save(getattr(obj, f.attname), db) for obj in batch for f in fields]
        execute(f"INSERT INTO {table(model)} ({columns}) VALUES {', '.join([row] * len(batch))}", params)
