"""Shared fixtures: databases on both backends, the demo county, the Flask app, accounts.

Every test that takes ``store_url`` or ``demo_url`` runs twice: on SQLite and on the
PostGIS server named by ``GEOAPP_TEST_POSTGIS_URL`` (``make test`` starts one). Without that
variable the PostGIS half is skipped, except under ``CI=true``, where it fails.

Accounts (every route needs a role, see geoapp/web/permissions.py):

* The demo databases hold one account per role, named after it (``admin``, ``coordinator``,
  ``planner``, ``inspector``, ``unit``), with the password ``TEST_PASSWORDS[role]``
  (``"<role>-password"``).  The ``unit`` account is bound to ``DEMO_UNIT`` (the unit
  answering for most demo problems); ``client_as("unit").unit_id`` names it too.
* ``client``: a test client signed in as **admin** (the usual case: "may do anything").
* ``client_as(role)``: a new test client signed in as ``role`` (any of ROLES).
* ``anon_client``: a test client nobody signed in to.
* ``token_for(role)``: a fresh API token of that role; send it as
  ``headers={"Authorization": f"Bearer {token}"}`` (exempt from CSRF).
* All these clients send the session's CSRF token as ``X-CSRFToken`` on every POST, PUT,
  PATCH and DELETE, as static/js/csrf.js does in a browser; pass ``csrf=False`` to a call
  to leave it out (``client.post(url, json=..., csrf=False)``).
* Browser tests: ``login(page, base_url, role="admin")`` from tests/browser/conftest.py
  signs a Playwright page in through the real login form.

Signing in here writes the Flask-Login session directly (no password hashing per test).
``make_app``, ``sign_in``, ``GeoappClient`` and ``TEST_PASSWORDS`` live in tests/webclient.py
(import them from there: ``from webclient import make_app, sign_in``).
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from webclient import TEST_PASSWORDS, GeoappClient, make_app, sign_in

from geoapp.core.accounts import ROLES
from geoapp.services.accounts import create_token, seed_demo_accounts
from geoapp.services.county import load_county
from geoapp.store import open_store

POSTGIS_URL_ENV = "GEOAPP_TEST_POSTGIS_URL"


def _require_postgis() -> str:
    raw = os.environ.get(POSTGIS_URL_ENV, "").strip()
    if not raw:
        message = (
            f"{POSTGIS_URL_ENV} is not set; `make test` starts a PostGIS server, or run "
            "`scripts/pg-test-server start /tmp/geoapp-pg 55432` and export the URL"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must test the PostGIS backend: {message}")
        pytest.skip(message)
    return raw


class PostgisDatabases:
    """Creates throwaway databases on the test server, from templates."""

    def __init__(self, url: str):
        self.url = sa.make_url(url)
        self.admin = sa.create_engine(
            self.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        self.created: list[str] = []

    def create(self, template: str | None = None) -> str:
        name = f"geoapp_t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            if template:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url_for(name)

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = sa.make_url(url).database
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            self.drop(self.url_for(name))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgis_databases() -> Iterator[PostgisDatabases]:
    dbs = PostgisDatabases(_require_postgis())
    try:
        yield dbs
    finally:
        dbs.close()


def _load_demo(url: str) -> None:
    store = open_store(url)
    try:
        store.upgrade()
        load_county(store)
        seed_demo_accounts(store, TEST_PASSWORDS)
    finally:
        store.close()


@pytest.fixture(scope="session")
def demo_sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    _load_demo(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def demo_postgis_template(postgis_databases: PostgisDatabases) -> str:
    url = postgis_databases.create()
    _load_demo(url)
    return sa.make_url(url).database


@pytest.fixture
def demo_sqlite_url(demo_sqlite_template, tmp_path) -> str:
    """A private copy of the demo county in SQLite."""
    path = tmp_path / "demo.sqlite"
    shutil.copyfile(demo_sqlite_template, path)
    return f"sqlite:///{path}"


BACKENDS = ["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)]


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> Iterator[str]:
    """URL of a new, empty database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    dbs = request.getfixturevalue("postgis_databases")
    url = dbs.create()
    yield url
    dbs.drop(url)


@pytest.fixture(params=BACKENDS)
def demo_url(request) -> Iterator[str]:
    """URL of a private copy of the demo county, once per backend."""
    if request.param == "sqlite":
        yield request.getfixturevalue("demo_sqlite_url")
        return
    dbs = request.getfixturevalue("postgis_databases")
    url = dbs.create(template=request.getfixturevalue("demo_postgis_template"))
    yield url
    dbs.drop(url)


@pytest.fixture
def app(demo_url):
    app = make_app(demo_url)
    yield app
    app.extensions["geoapp.store"].close()


@pytest.fixture
def client(app):
    """A client signed in as admin."""
    return sign_in(app.test_client(), "admin")


@pytest.fixture
def client_as(app):
    """``client_as(role)``: a new client signed in as the demo account of that role."""

    def make(role: str) -> GeoappClient:
        assert role in ROLES, role
        return sign_in(app.test_client(), role)

    return make


@pytest.fixture
def anon_client(app):
    """A client nobody signed in to (it still has a session and a CSRF token)."""
    return sign_in(app.test_client(), None)


@pytest.fixture
def token_for(app):
    """``token_for(role)``: a new API token of that role (``unit`` bound to the demo unit)."""
    store = app.extensions["geoapp.store"]

    def make(role: str) -> str:
        unit_id = store.get_user("unit")["unit_id"] if role == "unit" else None
        return create_token(store, f"test-{role}-{uuid.uuid4().hex[:6]}", role, unit_id)

    return make


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def own_postgres():
    """A PostGIS server of the test's own (own data folder, free port), which the test may
    stop and start (``bench/loadgen.py``'s PgServer); removed at teardown.  Missing
    PostgreSQL binaries skip the test, except under CI=true, where that is a failure."""
    pgbin = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))
    if not (pgbin / "pg_ctl").exists():
        message = f"no PostgreSQL binaries in {pgbin} (apt-get install postgresql-15)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import loadgen

    server = loadgen.PgServer()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def live_server() -> Iterator[Callable[..., str]]:
    """``base_url = live_server(app)`` serves a Flask/WSGI app on 127.0.0.1 on a free port
    in a daemon thread; stopped at teardown."""
    from werkzeug.serving import make_server

    running = []

    def buffered(app):
        """Each answer read whole and its iterable closed before the first byte is sent:
        Werkzeug's server drains the socket before it closes the answer, so a client that
        drops the connection (a favicon still loading when the page moves on) would leave an
        open static file to the garbage collector (a ResourceWarning, an error under
        ``filterwarnings = error``)."""

        def wsgi(environ, start_response):
            iterable = app(environ, start_response)
            try:
                body = b"".join(iterable)
            finally:
                if hasattr(iterable, "close"):
                    iterable.close()
            return [body]

        return wsgi

    def start(app) -> str:
        server = make_server("127.0.0.1", 0, buffered(app), threaded=True)
        thread = threading.Thread(
            target=server.serve_forever, name=f"live_server:{server.server_port}", daemon=True
        )
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
