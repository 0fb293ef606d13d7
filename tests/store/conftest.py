"""Fixtures for the store contract tests: every test runs on SQLite and on PostGIS.

PostGIS needs a server: set ``GEOAPP_TEST_POSTGIS_URL`` (e.g. from
``scripts/pg-test-server start /tmp/geoapp-pg 55432``).  Without it the PostGIS half is
skipped, except on CI (``CI=true``), where that is an error.  Each PostGIS test gets its own
database, copied from a session-wide template that already has the PostGIS extension (by
``postgis_databases`` of tests/conftest.py).
"""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_data import CATEGORIES, DISTRICTS, RULES, UNITS, tiling_rows

from geoapp.store import Store, open_store


@pytest.fixture(scope="session")
def postgis_server(postgis_databases) -> dict[str, str]:
    """Two template databases on the test server, "bare" (PostGIS only) and "migrated" (schema
    at head), made once per worker through the shared ``postgis_databases`` of
    tests/conftest.py: it keeps a spare copy of each template made in the background while a
    test runs and drops the copies in the background too (a ``CREATE DATABASE`` waits for two
    checkpoints of the server), and drops the templates at the end, once no copy is being made
    of them."""
    bare = postgis_databases.create()
    engine = sa.create_engine(bare, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET client_min_messages = warning")
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    finally:
        engine.dispose()
    bare_name = sa.make_url(bare).database
    migrated = postgis_databases.create(template=bare_name)
    with open_store(migrated) as store:
        store.upgrade()
    return {"bare": bare_name, "migrated": sa.make_url(migrated).database}


def _postgis_copy(request: pytest.FixtureRequest, kind: str) -> str:
    """The URL of a new copy of the PostGIS template ``kind``, dropped after the test."""
    templates = request.getfixturevalue("postgis_server")
    dbs = request.getfixturevalue("postgis_databases")
    url = dbs.create(template=templates[kind])
    request.addfinalizer(lambda: dbs.drop(url))
    return url


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


BACKENDS = ["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)]


@pytest.fixture(params=BACKENDS)
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
        return _postgis_copy(request, kind)

    return make


@pytest.fixture
def postgis_url(request: pytest.FixtureRequest) -> str:
    """For PostGIS-only tests: the URL of a new database with PostGIS and no tables."""
    return _postgis_copy(request, "bare")


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


def _seed(store: Store) -> Store:
    with store.transaction() as tx:
        tx.upsert_units(UNITS)
        tx.upsert_districts(DISTRICTS)
        tx.replace_categories(CATEGORIES)
        tx.replace_rules(RULES)
    return store


def _tile(store: Store) -> Store:
    with store.transaction() as tx:
        gid = tx.create_generation("planner", "2×2 tiling")
        tx.put_area_versions(gid, tiling_rows())
        tx.publish_generation(gid, "planner", "first")
    return store


@pytest.fixture
def seeded(store: Store) -> Store:
    """Units, districts, categories and rules; no generations."""
    return _seed(store)


@pytest.fixture
def tiled(seeded: Store) -> Store:
    """``seeded`` plus one published generation holding the 2×2 tiling."""
    return _tile(seeded)


@pytest.fixture(scope="module", params=BACKENDS)
def tiled_to_read(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Store]:
    """``tiled``, made once per module and backend, for the tests that only read it (none
    may write to it: they share it)."""
    dbs = None
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("tiled") / "store.sqlite"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        dbs = request.getfixturevalue("postgis_databases")
        url = dbs.create(template=request.getfixturevalue("postgis_server")["migrated"])
    store = open_store(url)
    try:
        store.upgrade()
        yield _tile(_seed(store))
    finally:
        store.close()
        if dbs is not None:
            dbs.drop(url)
