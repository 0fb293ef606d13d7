"""Open a store from a URL: SQLite by default, PostgreSQL + PostGIS when the URL says so."""

import os
from pathlib import Path

import sqlalchemy as sa

from geoapp.core.messages import N_
from geoapp.store.engine import PostgisStore, Store
from geoapp.store.errors import StoreError
from geoapp.store.opening import postgis_engine, sqlite_engine

#: Environment variable holding the database URL (any SQLAlchemy URL).
URL_ENV_VAR = "GEOAPP_DATABASE_URL"
#: Where the SQLite database lives when no URL is given: ``<repo>/instance/geoapp.sqlite``.
DEFAULT_SQLITE_PATH = Path(__file__).resolve().parents[2] / "instance" / "geoapp.sqlite"


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
        store: Store = Store(sqlite_engine(parsed, echo))
    elif backend in ("postgresql", "postgres"):
        store = PostgisStore(postgis_engine(parsed, echo))
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
