"""The plumbing every part of a transaction stands on.

:class:`TransactionBase` holds a transaction's store and connection and the operations the
aggregate modules share: run a statement (a driver error becomes a :class:`StoreError` without
SQL or password), insert many rows at once, look rows up by key, check references before
writing, upsert and coerce input rows.  The aggregates (:mod:`~geoapp.store.reference`,
:mod:`~geoapp.store.generations`, :mod:`~geoapp.store.areas`, :mod:`~geoapp.store.problems`,
:mod:`~geoapp.store.problem_queries`, :mod:`~geoapp.store.accounts`, :mod:`~geoapp.store.audit`)
are mixins on it; :mod:`geoapp.store.engine` composes them into ``Transaction``, and
:mod:`geoapp.store.backends` fills in the few hooks where SQLite and PostGIS differ.  Also here:
the small helpers they share (the clock, chunking, JSON for details, short value lists for
messages) and each table's value converters.
"""

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import StoreError, _reason, database_error

if TYPE_CHECKING:
    from geoapp.store.engine import Store

_CONV = {name: V.converters(table) for name, table in S.metadata.tables.items()}
_CHUNK = 500  # keys per IN (...) lookup: well under SQLite's bound-parameter limit
_INSERT_BATCH = 10_000  # rows per executemany call


def _now() -> datetime:
    return datetime.now(UTC)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _names(table: sa.Table) -> list[str]:
    return [c.name for c in table.columns]


def _json(value: Any) -> str:
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(N_("event detail is not JSON-serialisable: %(exc)s"), exc=exc) from None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in an event detail")


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=_json_default)


def _short(values: Iterable[Any], limit: int = 5) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    more = len(values) - limit
    return f"{shown} and {more} more" if more > 0 else shown


class TransactionBase:
    """A transaction's connection and the plumbing its operations share (no operation of
    its own: those come from the aggregate mixins; see :class:`geoapp.store.Transaction`)."""

    def __init__(self, store: "Store", connection: Connection) -> None:
        self._store = store
        self._conn = connection
        self._open = True

    # ------------------------------------------------------------------ plumbing

    def _close(self) -> None:
        self._open = False

    def _x(self, statement: Any, params: Any = None) -> sa.CursorResult[Any]:
        if not self._open:
            raise StoreError(N_("this transaction has ended; use it only inside its `with` block"))
        try:
            if params is None:
                return self._conn.execute(statement)
            return self._conn.execute(statement, params)
        except sa_exc.StatementError as exc:
            if isinstance(exc, sa_exc.DBAPIError):
                raise database_error(exc, self._store.url) from exc
            raise StoreError(
                N_("cannot run the statement: %(reason)s"), reason=_reason(exc.orig or exc)
            ) from exc

    def _dicts(self, statement: Any) -> list[dict[str, Any]]:
        return [dict(row._mapping) for row in self._x(statement)]

    def _insert_many(self, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert many rows (all with the same keys, values already converted) fast."""
        if not rows:
            return
        if not self._open:
            raise StoreError(N_("this transaction has ended; use it only inside its `with` block"))
        columns = list(rows[0])
        for batch in _chunks(rows, _INSERT_BATCH):
            self._bulk_insert(table, columns, batch)

    # ------------------------------------------------------------------ backend hooks
    # (each backend in geoapp.store.backends provides these)

    def _bulk_insert(
        self, table: sa.Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Insert ``rows`` (dicts of ``columns``, values already converted) the fastest way."""
        raise NotImplementedError

    def _insert_columns(
        self, table: sa.Table, columns: Sequence[str], values: Sequence[Sequence[Any]]
    ) -> None:
        """Insert rows given column by column (``values[k]`` holds ``columns[k]`` of every
        row), each value already what the driver takes (timestamps as UTC text)."""
        raise NotImplementedError

    def _rows_with_keys(
        self, key: sa.Column[Any], keys: Iterable[Any], *columns: sa.Column[Any]
    ) -> Iterator[sa.Row[Any]]:
        """Rows (key, *columns) of key's table whose key is one of ``keys``."""
        raise NotImplementedError

    def _drop_indexes(self, tables: Sequence[sa.Table], incoming: int) -> list[str]:
        """Before a bulk load of ``incoming`` rows into ``tables``: drop the indexes it is
        cheaper to build again afterwards; returns what :meth:`_create_indexes` needs."""
        raise NotImplementedError

    def _create_indexes(self, statements: Sequence[str], rows: int) -> None:
        """After the bulk load: build again what :meth:`_drop_indexes` dropped."""
        raise NotImplementedError

    # ------------------------------------------------------------------ lookups, upserts

    def _ids_by_key(self, column: sa.Column[Any], keys: Iterable[Any]) -> dict[Any, int]:
        """Map unique-key values to the ``id`` of their rows."""
        return {k: i for k, i in self._rows_with_keys(column, keys, column.table.c.id)}

    def _existing(self, column: sa.Column[Any], values: Iterable[Any]) -> set[Any]:
        return {row[0] for row in self._rows_with_keys(column, values)}

    def _check_refs(
        self,
        column: sa.Column[Any],
        rows: Sequence[Mapping[str, Any]],
        field: str,
        what: str,
        where: Callable[[Mapping[str, Any]], str],
    ) -> None:
        """Raise a StoreError naming the values of ``field`` in ``rows`` missing from
        ``column``, and the first row (described by ``where(row)``) that uses one."""
        values = {r.get(field) for r in rows}
        values.discard(None)
        if not values:
            return
        missing = values - self._existing(column, values)
        if missing:
            first = next(r for r in rows if r.get(field) in missing)
            ordered = list(dict.fromkeys(r[field] for r in rows if r.get(field) in missing))
            raise StoreError(
                N_("unknown %(what)s %(short)s (first referenced by %(where)s)"),
                what=what,
                short=_short(ordered),
                where=where(first),
            )

    def _upsert(
        self, table: sa.Table, rows: Sequence[Mapping[str, Any]], key: str, what: str
    ) -> None:
        """Insert rows whose key is new; update only the given fields of the others.

        Required (NOT NULL) fields may be left out of an update but not set to None, and
        must be given for a new row.
        """
        existing = self._existing(table.c[key], (r[key] for r in rows))
        required = [c.name for c in table.columns if not c.nullable and c.name != key]
        for row in rows:
            for field in required:
                if row.get(field) is None and (field in row or row[key] not in existing):
                    new = "" if row[key] in existing else f" for a new {what}"
                    raise StoreError(
                        N_("%(what)s %(value)r: %(field)s is required%(new)s"),
                        what=what,
                        value=row[key],
                        field=field,
                        new=new,
                    )
        groups: dict[tuple[bool, tuple[str, ...]], list[Mapping[str, Any]]] = {}
        for row in rows:
            groups.setdefault((row[key] in existing, tuple(sorted(row))), []).append(row)
        for (is_update, fields), group in groups.items():
            if not is_update:
                self._insert_many(table, group)
                continue
            values = {f: sa.bindparam(f"_{f}", type_=table.c[f].type) for f in fields if f != key}
            if not values:
                continue
            stmt = sa.update(table).where(table.c[key] == sa.bindparam("_key")).values(values)
            params = [
                {"_key": r[key], **{f"_{f}": r[f] for f in fields if f != key}} for r in group
            ]
            for batch in _chunks(params, _INSERT_BATCH):
                self._x(stmt, list(batch))

    def _prepare(
        self,
        rows: Iterable[Mapping[str, Any]],
        table: sa.Table,
        key: str,
        what: str,
        required: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        if isinstance(rows, (Mapping, str | bytes)):
            raise StoreError(
                N_("expected a list of %(what)s rows, got %(name)s"),
                what=what,
                name=type(rows).__name__,
            )
        if isinstance(rows, pd.DataFrame):
            rows = rows.to_dict("records")
        convs = _CONV[table.name]
        out: list[dict[str, Any]] = []
        seen: set[Any] = set()
        for i, row in enumerate(rows, start=1):
            label = row.get(key) if isinstance(row, Mapping) else None
            where = f"{what} {label!r}" if label is not None else f"{what} row {i}"
            r = V.coerce_row(row, convs, where=where, required=(key, *required))
            if r[key] in seen:
                raise StoreError(
                    N_("%(what)s %(value)r appears more than once in the input"),
                    what=what,
                    value=r[key],
                )
            seen.add(r[key])
            out.append(r)
        return out
