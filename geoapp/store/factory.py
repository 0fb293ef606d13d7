"""Open a store from a URL: SQLite by default, PostgreSQL + PostGIS when the URL says so."""

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from geoapp.core.messages import N_
from geoapp.store.engine import Store
from geoapp.store.errors import StoreError
from geoapp.store.postgis import PostgisStore

#: Environment variable holding the database URL (any SQLAlchemy URL).
URL_ENV_VAR = "GEOAPP_DATABASE_URL"
#: Where the SQLite database lives when no URL is given: ``<repo>/instance/geoapp.sqlite``.
DEFAULT_SQLITE_PATH = Path(__file__).resolve().parents[2] / "instance" / "geoapp.sqlite"
#: Seconds SQLite waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT = 15


def default_url(default_path: str | os.PathLike[str] | None = None) -> str:
    """``$GEOAPP_DATABASE_URL`` if set, else a SQLite URL for ``default_path`` (or the
    repository's ``instance/geoapp.sqlite``)."""
    url = os.environ.get(URL_ENV_VAR, "").strip()
    if url:
        return url
    path = Path(default_path) if default_path is not None else DEFAULT_SQLITE_PATH
    return f"sqlite:///{path.resolve()}"


def open_store(
    url: str | sa.URL | None = None,
    *,
    default_path: str | os.PathLike[str] | None = None,
    upgrade: bool = False,
    echo: bool = False,
) -> Store:
    """Open the store at ``url`` (nothing connects until first use).

    ``url`` None means ``$GEOAPP_DATABASE_URL``, or else SQLite at ``default_path`` (default
    ``<repo>/instance/geoapp.sqlite``).  ``sqlite:///path`` URLs get their folder created.
    ``postgresql://`` and ``postgresql+psycopg://`` URLs give a PostGIS store.  With
    ``upgrade=True`` the schema is brought to the newest revision at once.

    >>> store = open_store("sqlite://")          # in memory
    >>> store.upgrade(); store.is_empty()
    True
    >>> store.close()
    """
    if url is None:
        url = default_url(default_path)
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        shown = url if isinstance(url, str) and "@" not in url else "(hidden)"
        raise StoreError(N_("not a database URL: %(shown)s"), shown=shown) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        store: Store = Store(_sqlite_engine(parsed, echo))
    elif backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.get_driver_name() != "psycopg":
            raise StoreError(
                N_(
                    "use the psycopg driver for PostgreSQL (postgresql+psycopg://...), not %(drivername)r"
                ),
                drivername=parsed.drivername,
            )
        store = PostgisStore(sa.create_engine(parsed, echo=echo, pool_pre_ping=True))
    else:
        raise StoreError(
            N_("unsupported database %(backend)r: use sqlite:///path or postgresql+psycopg://..."),
            backend=backend,
        )
    if upgrade:
        try:
            store.upgrade()
        except BaseException:
            store.close()
            raise
    return store


def _sqlite_engine(url: sa.URL, echo: bool) -> Engine:
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

    # SQLAlchemy's recipe for real transactions on pysqlite: let SQLAlchemy emit BEGIN itself
    # (so reads and DDL are inside the transaction too) and switch on foreign keys.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        # write-ahead log: readers (every page and API request) never wait for a writer
        if database not in ("", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine
