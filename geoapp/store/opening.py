"""Opening each backend's engine: the last of the SQLite/PostgreSQL differences of
:mod:`geoapp.store.backends` (which fills in the transaction hooks), kept apart so that each
module stays short.

On SQLite: real transactions (SQLAlchemy emits ``BEGIN``, optionally ``IMMEDIATE``), foreign
keys on, the write-ahead log, a busy timeout, the SQL functions of the exact spatial tests, and
a compiler that writes ``INDEXED BY`` hints.  On PostgreSQL: the psycopg driver only, and a
pre-ping of pooled connections.
"""

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import Engine

from geoapp.core.messages import N_
from geoapp.store.backends import (
    SQLITE_POINT_INTERSECTS,
    SQLITE_SHAPES_INTERSECT,
    _sqlite_point_intersects,
    _sqlite_shapes_intersect,
)
from geoapp.store.errors import StoreError

#: Seconds SQLite waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT = 15


def postgis_engine(url: sa.URL, echo: bool) -> Engine:
    """An engine for a ``postgresql://`` or ``postgresql+psycopg://`` URL (psycopg only)."""
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_driver_name() != "psycopg":
        raise StoreError(
            N_(
                "use the psycopg driver for PostgreSQL (postgresql+psycopg://...), not %(drivername)r"
            ),
            drivername=url.drivername,
        )
    return sa.create_engine(url, echo=echo, pool_pre_ping=True)


class _SQLiteHintCompiler(SQLiteCompiler):
    """SQLite's statement compiler, writing a table's ``with_hint(..., dialect_name="sqlite")``
    after its name (``FROM problems INDEXED BY ix_problems_ledger``): SQLAlchemy's own
    SQLite compiler drops every table hint without a word."""

    def get_from_hint_text(self, table: Any, text: str | None) -> str | None:
        return text


def sqlite_engine(url: sa.URL, echo: bool) -> Engine:
    """An engine for a ``sqlite://`` URL (its folder created) with real transactions."""
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                N_("cannot create the folder for %(database)s: %(strerror)s"),
                database=database,
                strerror=exc.strerror,
            ) from None
    engine = sa.create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
    engine.dialect.statement_compiler = _SQLiteHintCompiler

    # SQLAlchemy's recipe for real transactions on pysqlite: let SQLAlchemy emit BEGIN itself
    # (so reads and DDL are inside the transaction too) and switch on foreign keys.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        dbapi_connection.create_function(
            SQLITE_POINT_INTERSECTS, 3, _sqlite_point_intersects, deterministic=True
        )
        dbapi_connection.create_function(
            SQLITE_SHAPES_INTERSECT, 2, _sqlite_shapes_intersect, deterministic=True
        )
        # write-ahead log: readers (every page and API request) never wait for a writer
        if database not in ("", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # ``connection.execution_options(sqlite_begin="IMMEDIATE")`` takes the write lock at
        # once (schema upgrades: two at a time wait for each other instead of both reading
        # the old revision)
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine
