"""Storage: units, districts, categories, rules, boundary generations, areas and problems.

One interface, two backends: SQLite (the default, a file under ``instance/``) and PostgreSQL +
PostGIS (``postgresql+psycopg://...``).  The schema is managed by the Alembic migrations in
``geoapp/migrations``; call :meth:`Store.upgrade` (or ``open_store(..., upgrade=True)``).

>>> from geoapp.store import open_store
>>> with open_store("sqlite://", upgrade=True) as store:
...     with store.transaction() as tx:
...         tx.upsert_units([{"unit_id": "U1", "name": "县城管局"}])
...     store.get_unit("U1")["name"]
1
'县城管局'
"""

from .base import AREA_COLUMNS, ASSIGNMENT_FIELDS, PROBLEM_FILTERS, Store, Transaction
from .errors import InvalidValue, NotFound, StaleVersion, StoreError, StoreUnavailable
from .factory import DEFAULT_SQLITE_PATH, URL_ENV_VAR, default_url, open_store
from .postgis import PostgisStore, PostgisTransaction

__all__ = [
    "AREA_COLUMNS",
    "ASSIGNMENT_FIELDS",
    "DEFAULT_SQLITE_PATH",
    "PROBLEM_FILTERS",
    "URL_ENV_VAR",
    "InvalidValue",
    "NotFound",
    "PostgisStore",
    "PostgisTransaction",
    "StaleVersion",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Transaction",
    "default_url",
    "open_store",
]
