"""Storage: units, districts, categories, rules, boundary generations, areas and problems.

One interface, two backends: SQLite (the default, a file under ``instance/``) and PostgreSQL +
PostGIS (``postgresql+psycopg://...``).  The schema is managed by the Alembic migrations in
``geoapp/store/migrations``; call :meth:`Store.upgrade` (or ``open_store(..., upgrade=True)``):
a deploy step (``geoapp db upgrade``), never done by an app server, which only checks
(:meth:`Store.require_head`).

This package's ``__init__`` is the store's interface: the web layer and the CLI import
``geoapp.store`` and nothing below it (tests/test_architecture.py).  Its modules may import
``geoapp.core`` and SQLAlchemy/Alembic/psycopg, never the services, web or CLI.

Inside: ``engine`` (the Store, its transactions and migrations) composes ``Transaction`` from
one mixin per aggregate: ``reference`` (units, districts, categories, rules), ``generations``
(drafts, edit history, publishing), ``areas``, ``problems`` (one problem: writes, events,
photos), ``problem_bulk`` (a batch of imported problems, column by column), ``problem_queries`` (the problem filters and the read models), ``accounts`` (users,
sessions, tokens, failed sign-ins) and ``audit``, all on ``plumbing``; ``backends`` is all that
differs between SQLite and PostGIS; ``factory`` opens a store from a URL; ``schema`` and
``migrations`` define the tables; ``errors`` the errors.

>>> from geoapp.store import open_store
>>> with open_store("sqlite://", upgrade=True) as store:
...     with store.transaction() as tx:
...         tx.upsert_units([{"unit_id": "U1", "name": "县城管局"}])
...     store.get_unit("U1")["name"]
1
'县城管局'
"""

from geoapp.store.areas import AREA_COLUMNS
from geoapp.store.backup import backup_database, restore_database
from geoapp.store.engine import PostgisStore, PostgisTransaction, Store, Transaction
from geoapp.store.errors import (
    InvalidValue,
    NotFound,
    SchemaOutOfDate,
    StaleVersion,
    StoreError,
    StoreUnavailable,
    safe_url,
)
from geoapp.store.factory import DEFAULT_SQLITE_PATH, URL_ENV_VAR, default_url, open_store
from geoapp.store.problem_queries import PROBLEM_FILTERS
from geoapp.store.problems import ASSIGNMENT_FIELDS, DEFAULT_STATUS

__all__ = [
    "backup_database",
    "restore_database",
    "AREA_COLUMNS",
    "ASSIGNMENT_FIELDS",
    "DEFAULT_SQLITE_PATH",
    "PROBLEM_FILTERS",
    "URL_ENV_VAR",
    "InvalidValue",
    "NotFound",
    "PostgisStore",
    "PostgisTransaction",
    "SchemaOutOfDate",
    "StaleVersion",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Transaction",
    "DEFAULT_STATUS",
    "default_url",
    "safe_url",
    "open_store",
]
