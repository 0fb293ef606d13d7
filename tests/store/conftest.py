"""Fixtures for the store contract tests: every test runs on SQLite and on PostGIS.

PostGIS needs a server: set ``GEOAPP_TEST_POSTGIS_URL`` (e.g. from
``scripts/pg-test-server start /tmp/geoapp-pg 55432``).  Without it the PostGIS half is
skipped, except on CI (``CI=true``), where that is an error.  Each PostGIS test gets its own
database, copied from a session-wide template that already has the PostGIS extension.
"""

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_data import CATEGORIES, DISTRICTS, RULES, UNITS, tiling_rows

from geoapp.store import Store, open_store

POSTGIS_URL_ENV = "GEOAPP_TEST_POSTGIS_URL"
CLONE = "STRATEGY = FILE_COPY"  # as in tests/conftest.py: no copy of every page to the WAL


@pytest.fixture(scope="session")
def postgis_server() -> Iterator[tuple[sa.URL, sa.Engine, dict[str, str]]]:
    """The test server: its URL, an admin engine and two template databases, "bare" (PostGIS
    only) and "migrated" (schema at head)."""
    raw = os.environ.get(POSTGIS_URL_ENV, "").strip()
    if not raw:
        message = (
            f"{POSTGIS_URL_ENV} is not set; start a server with "
            f"`scripts/pg-test-server start /tmp/geoapp-pg 55432` and export the URL it prints"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must test the PostGIS backend: {message}")
        pytest.skip(message)
    url = sa.make_url(raw)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    tag = uuid.uuid4().hex[:10]
    templates = {"bare": f"geoapp_tpl_{tag}_bare", "migrated": f"geoapp_tpl_{tag}_head"}
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{templates["bare"]}"')
        bare = sa.create_engine(url.set(database=templates["bare"]), poolclass=sa.pool.NullPool)
        try:
            with bare.begin() as conn:
                conn.exec_driver_sql("SET client_min_messages = warning")
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        finally:
            bare.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(
                f'CREATE DATABASE "{templates["migrated"]}" TEMPLATE "{templates["bare"]}"'
            )
        with open_store(url.set(database=templates["migrated"])) as store:
            store.upgrade()
        yield url, admin, templates
    finally:
        with admin.connect() as conn:
            for name in templates.values():
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite_template(build_once) -> str:
    """A SQLite file with the schema at head, migrated once per run (a file copy per test
    instead of running every migration again: ~70 ms of CPU a test)."""

    def build(folder: Path) -> str:
        path = folder / "migrated.sqlite"
        with open_store(f"sqlite:///{path}") as store:
            store.upgrade()
        return str(path)

    return build_once("migrated-sqlite", build)


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def backend(request: pytest.FixtureRequest) -> str:
    """Runs a test once per backend: "sqlite" and "postgis"."""
    return request.param


@pytest.fixture
def new_database(request: pytest.FixtureRequest, backend: str, tmp_path) -> Callable[[str], str]:
    """``new_database(kind)``: the URL of a new database for this test's backend; kind
    "bare" has no tables, "migrated" has the schema at head; both are copies of a template
    made once per run (on SQLite "bare" is a new file)."""
    counter = iter(range(1000))

    def make(kind: str) -> str:
        if backend == "sqlite":
            path = tmp_path / f"store{next(counter)}.sqlite"
            if kind == "migrated":
                shutil.copyfile(request.getfixturevalue("migrated_sqlite_template"), path)
            return f"sqlite:///{path}"
        url, admin, templates = request.getfixturevalue("postgis_server")
        name = f"geoapp_t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{templates[kind]}" {CLONE}')

        def drop() -> None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        request.addfinalizer(drop)
        return url.set(database=name).render_as_string(hide_password=False)

    return make


@pytest.fixture
def postgis_url(request: pytest.FixtureRequest) -> str:
    """For PostGIS-only tests: the URL of a new database with PostGIS and no tables."""
    url, admin, templates = request.getfixturevalue("postgis_server")
    name = f"geoapp_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{templates["bare"]}" {CLONE}')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    request.addfinalizer(drop)
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def store_url(new_database: Callable[[str], str]) -> str:
    """URL of an empty database (no tables), once per backend."""
    return new_database("bare")


@pytest.fixture
def empty_store(store_url: str) -> Iterator[Store]:
    """A store on an empty database, schema not created yet."""
    store = open_store(store_url)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def store(new_database: Callable[[str], str]) -> Iterator[Store]:
    """A store with the schema at head and no data, once per backend."""
    store = open_store(new_database("migrated"))
    try:
        store.upgrade()
        yield store
    finally:
        store.close()


@pytest.fixture
def seeded(store: Store) -> Store:
    """Units, districts, categories and rules; no generations."""
    with store.transaction() as tx:
        tx.upsert_units(UNITS)
        tx.upsert_districts(DISTRICTS)
        tx.replace_categories(CATEGORIES)
        tx.replace_rules(RULES)
    return store


@pytest.fixture
def tiled(seeded: Store) -> Store:
    """``seeded`` plus one published generation holding the 2×2 tiling."""
    with seeded.transaction() as tx:
        gid = tx.create_generation("planner", "2×2 tiling")
        tx.put_area_versions(gid, tiling_rows())
        tx.publish_generation(gid, "planner", "first")
    return seeded
