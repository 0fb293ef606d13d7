"""Alembic environment for geoapp.

Used programmatically: ``Store.upgrade()`` passes its open connection in
``config.attributes["connection"]``.  Without one (e.g. ``alembic -c <ini>``), the URL comes
from the ``sqlalchemy.url`` option or ``$GEOAPP_DATABASE_URL``.
"""

import os

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection

from geoapp.store.schema import include_name, include_object, metadata

config = context.config


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=metadata,
        include_name=include_name,
        include_object=include_object,
        compare_type=True,
        **kwargs,
    )


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("GEOAPP_DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: set sqlalchemy.url or GEOAPP_DATABASE_URL")
    return url


def _run(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
    else:
        engine = create_engine(_url(), poolclass=pool.NullPool)
        try:
            with engine.connect() as connection:
                _run(connection)
        finally:
            engine.dispose()
