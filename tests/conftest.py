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

Parallel runs (``make test`` runs pytest-xdist, one worker per core): every fixture is
worker-safe. Databases on the PostGIS server have unique names, files live under each
worker's ``tmp_path``, servers listen on free ports (0). Expensive data is built once per
run and shared by the workers through the ``build_once`` fixture (the demo county in SQLite
and the PostGIS template database it is cloned from, the tiny county of the browser tests);
each test still gets a private copy.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from webclient import GeoappClient, make_app, seed_test_accounts, sign_in

from geoapp.core.accounts import ROLES
from geoapp.services.accounts import create_token
from geoapp.services.county import load_county
from geoapp.store import Store, open_store

POSTGIS_URL_ENV = "GEOAPP_TEST_POSTGIS_URL"

#: The cyclic garbage collector's thresholds in every test process.  A worker keeps a large
#: heap (apps, stores, frames, module fixtures) and makes and drops far more objects than a
#: server does; with CPython's defaults (700, 10, 10) the collector walked that heap ~40 times
#: and took a fifth to a third of a worker's CPU (12 s of 41 s on tests/services + tests/io,
#: timed with gc.callbacks).  Collecting the youngest objects every 50,000 allocations instead
#: of 700 leaves it at ~1 s; cycles are still freed, later.  Nothing a test checks depends on
#: when a cycle is freed: tests that need it call gc.collect() themselves.
GC_THRESHOLDS = (50_000, 20, 10)
gc.set_threshold(*GC_THRESHOLDS)

#: How the tests copy a database: file by file (PostgreSQL 15's default, WAL_LOG, writes every
#: page of the copy to the WAL too: twice the server's CPU per test database, measured).
CLONE = "STRATEGY = FILE_COPY"
#: Copies of each template a worker keeps ready for its next tests.
SPARES = 2


def _share_url_builders() -> None:
    """Every test makes its own app, and werkzeug compiles two URL-builder functions for each
    of its ~360 routes (two thirds of the time it takes to make an app).  The compiled code
    depends only on the rule's parts and its defaults: the function reads the converters at
    call time from the rule it is bound to.  So the test process compiles each shape once
    and every app's rules bind the same function (werkzeug does exactly what it did before,
    once instead of once per app)."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    built: dict[tuple, Callable] = {}

    def shared(self, append_unknown: bool = True):
        defaults = tuple(
            (
                name,
                self._converters[name].to_url(value) if name in self._converters else repr(value),
            )
            for name, value in sorted((self.defaults or {}).items())
        )
        key = (tuple(self._trace), defaults, append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    Rule._compile_builder = shared


_share_url_builders()


#: Files whose tests take seconds each (``--durations``: servers under load, browsers, walks
#: over every route and role), longest first, started before every other test: a parallel run
#: then ends on short tests instead of one worker finishing a long one alone.  Tests marked
#: ``slow`` come right after them.
LONG_TESTS_FIRST = (
    "tests/services/test_load.py",
    "tests/services/test_scaling.py",
    "tests/services/test_assign_dask.py",
    "tests/web/test_permissions.py",
    "tests/web/test_answer_cache.py",
    "tests/web/test_api_schemas.py",
    "tests/web/test_role_pages.py",
    "tests/browser/",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long tests first (see ``LONG_TESTS_FIRST``), every other test in its usual order; the
    order is the same in every xdist worker, which pytest-xdist requires."""

    def rank(item: pytest.Item) -> int:
        for i, prefix in enumerate(LONG_TESTS_FIRST):
            if item.nodeid.startswith(prefix):
                return i
        return len(LONG_TESTS_FIRST) + (0 if item.get_closest_marker("slow") else 1)

    items.sort(key=rank)  # stable: the order within a rank is kept


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
    """Creates throwaway databases on the test server, from templates.

    ``CREATE DATABASE`` waits for two checkpoints of the server (about half of its time is
    spent waiting, not working), so each worker keeps ``SPARES`` copies of each template it
    was asked for ready, made by background threads while the tests that took the previous
    copies run (copies made at once share the server's checkpoints), and drops the databases
    it is done with in the background too.  A copy is identical whenever it is made: a
    template never changes once built."""

    def __init__(self, url: str):
        self.url = sa.make_url(url)
        self.admin = sa.create_engine(
            self.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        self.created: list[str] = []
        self._spares: dict[str, list[Future]] = {}  # template ("" for none) -> copies made
        self._lock = threading.Lock()
        self._background = ThreadPoolExecutor(max_workers=SPARES, thread_name_prefix="pg-spares")

    def _create_now(self, template: str | None) -> str:
        name = f"geoapp_t_{uuid.uuid4().hex[:12]}"
        with self._lock:
            self.created.append(name)
        with self.admin.connect() as conn:
            if template:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" {CLONE}')
            else:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" {CLONE}')
        return name

    def create(self, template: str | None = None) -> str:
        key = template or ""
        with self._lock:
            waiting = self._spares.setdefault(key, [])
            ready = [f for f in waiting if f.done()]
            spare = (ready or waiting or [None])[0]
            if spare is not None:
                waiting.remove(spare)
        name = None
        if spare is not None:
            try:
                name = spare.result()
            except Exception:  # made again below, where its error is raised to the test
                name = None
        if name is None:
            name = self._create_now(template)
        with self._lock:
            waiting = self._spares[key]
            while len(waiting) < SPARES:
                waiting.append(self._background.submit(self._create_now, template))
        return self.url_for(name)

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def _drop_now(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with self._lock:
            if name in self.created:
                self.created.remove(name)

    def drop(self, url: str) -> None:
        """Drop the database at ``url`` (in the background: nobody uses it any more)."""
        self._background.submit(self._drop_now, sa.make_url(url).database)

    def close(self) -> None:
        with self._lock:
            spares = [f for waiting in self._spares.values() for f in waiting]
            self._spares.clear()
        for spare in spares:
            with contextlib.suppress(Exception):
                spare.result()
        self._background.shutdown(wait=True)
        for name in list(self.created):
            self._drop_now(name)
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
        seed_test_accounts(store)
    finally:
        store.close()


SHARED_DATABASES = "shared-postgis-databases.txt"


def shared_folder(config: pytest.Config, tmp_path_factory) -> Path | None:
    """The folder all pytest-xdist workers of this run share (the parent of each worker's
    base temporary folder); None when the run is not distributed."""
    if not hasattr(config, "workerinput"):
        return None
    return tmp_path_factory.getbasetemp().parent


def _build_once(request: pytest.FixtureRequest, key: str, build: Callable[[Path], str]) -> str:
    """``build(folder)`` once per test run, its answer shared by every xdist worker.

    The first worker to ask builds (into ``folder``, shared by the workers) while the others
    wait on a lock, then read the answer it wrote; without xdist it simply builds. A build
    that raises writes no answer, so the next worker to ask tries again."""
    tmp_path_factory = request.getfixturevalue("tmp_path_factory")
    shared = shared_folder(request.config, tmp_path_factory)
    if shared is None:
        return build(tmp_path_factory.mktemp(key))
    answer = shared / f"{key}.answer"
    with open(shared / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if answer.exists():
            return answer.read_text(encoding="utf-8")
        folder = shared / key
        folder.mkdir(exist_ok=True)
        value = build(folder)
        tmp = answer.with_suffix(".tmp")
        tmp.write_text(value, encoding="utf-8")
        tmp.rename(answer)
        return value


@pytest.fixture(scope="session")
def build_once(request) -> Callable[[str, Callable[[Path], str]], str]:
    """``build_once(key, build)``: the answer of ``build(folder)``, called once per test run
    whatever the number of xdist workers (see ``_build_once``)."""
    return lambda key, build: _build_once(request, key, build)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The xdist controller, once every worker is done, drops the PostGIS databases the
    workers shared (no worker may: another one could still be cloning them)."""
    config = session.config
    if hasattr(config, "workerinput") or config.getoption("dist", "no") == "no":
        return
    factory = getattr(config, "_tmp_path_factory", None)
    listed = factory.getbasetemp() / SHARED_DATABASES if factory else None
    if listed is None or not listed.exists():
        return
    for line in listed.read_text(encoding="utf-8").splitlines():
        server, _, name = line.partition(" ")
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.dispose()


@pytest.fixture(scope="session")
def demo_sqlite_template(build_once) -> str:
    """Path of the demo county (and the demo accounts) in SQLite, built once per run."""

    def build(folder: Path) -> str:
        path = folder / "demo.sqlite"
        _load_demo(f"sqlite:///{path}")
        return str(path)

    return build_once("demo-sqlite", build)


def postgis_template(request, key: str, load: Callable[[str], None]) -> str:
    """Name of a PostGIS database filled by ``load(url)`` once per run (shared by the xdist
    workers through ``build_once``), to be cloned with ``postgis_databases.create(template=...)``.
    Nobody may connect to it while it is cloned, so tests only ever use clones."""
    dbs: PostgisDatabases = request.getfixturevalue("postgis_databases")
    shared = shared_folder(request.config, request.getfixturevalue("tmp_path_factory"))
    if shared is None:  # one process: postgis_databases drops it at the end
        url = dbs.create()
        load(url)
        return sa.make_url(url).database

    def build(folder: Path) -> str:
        name = f"geoapp_tpl_{uuid.uuid4().hex[:12]}"
        server = dbs.url.render_as_string(hide_password=False)
        with open(shared / SHARED_DATABASES, "a", encoding="utf-8") as fh:
            fh.write(f"{server} {name}\n")  # dropped by the controller, even half-built
        with dbs.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        load(dbs.url_for(name))
        return name

    return request.getfixturevalue("build_once")(key, build)


@pytest.fixture(scope="session")
def demo_postgis_template(request) -> str:
    """Name of a PostGIS database holding the demo county (and the demo accounts), built
    once per run, to be cloned with ``postgis_databases.create(template=...)``."""
    return postgis_template(request, "demo-postgis", _load_demo)


@pytest.fixture
def demo_sqlite_url(request, tmp_path) -> str:
    """A private copy of the demo county in SQLite."""
    return demo_sqlite_copy(request, tmp_path)


@pytest.fixture(scope="module")
def demo_store(demo_sqlite_template, tmp_path_factory):
    """An open store on a copy of the demo county in SQLite, shared by a module's tests (for
    tests that only read it)."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    shutil.copyfile(demo_sqlite_template, path)
    store = open_store(f"sqlite:///{path}")
    yield store
    store.close()


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


def demo_sqlite_copy(request, folder: Path) -> str:
    """URL of a new copy of the demo county in SQLite, in ``folder``."""
    path = folder / "demo.sqlite"
    shutil.copyfile(request.getfixturevalue("demo_sqlite_template"), path)
    return f"sqlite:///{path}"


@contextlib.contextmanager
def demo_copy(request, backend: str, folder: Path) -> Iterator[str]:
    """URL of a private copy of the demo county on ``backend`` ("sqlite": a file in
    ``folder``; "postgis": a clone of the template, dropped when the block ends)."""
    if backend == "sqlite":
        yield demo_sqlite_copy(request, folder)
        return
    dbs = request.getfixturevalue("postgis_databases")
    url = dbs.create(template=request.getfixturevalue("demo_postgis_template"))
    try:
        yield url
    finally:
        dbs.drop(url)


@pytest.fixture(params=BACKENDS)
def demo_url(request, tmp_path) -> Iterator[str]:
    """URL of a private copy of the demo county, once per backend."""
    with demo_copy(request, request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def module_demo_sqlite_url(request, tmp_path_factory) -> str:
    """URL of a copy of the demo county in SQLite shared by one module's tests."""
    return demo_sqlite_copy(request, tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module", params=BACKENDS)
def module_demo_url(request, tmp_path_factory) -> Iterator[str]:
    """URL of a copy of the demo county shared by one module's tests, once per backend (for
    tests that only read it, or a module that writes once and then only reads)."""
    with demo_copy(request, request.param, tmp_path_factory.mktemp("demo")) as url:
        yield url


def _load_tiny(url: str) -> None:
    from hand_county import open_county

    with tempfile.TemporaryDirectory() as folder:
        open_county(url, Path(folder)).close()


@pytest.fixture(params=BACKENDS)
def tiny_county(request, build_once, tmp_path) -> Iterator[Store]:
    """A store on a private copy of the tiny county of tests/hand_county.py (no accounts),
    once per backend; the county is loaded once per run and copied for each test."""
    dbs = None
    if request.param == "sqlite":

        def build(folder: Path) -> str:
            _load_tiny(f"sqlite:///{folder / 'tiny.sqlite'}")
            return str(folder / "tiny.sqlite")

        path = tmp_path / "tiny.sqlite"
        shutil.copyfile(build_once("tiny-sqlite", build), path)
        url = f"sqlite:///{path}"
    else:
        dbs = request.getfixturevalue("postgis_databases")
        url = dbs.create(template=postgis_template(request, "tiny-postgis", _load_tiny))
    store = open_store(url)
    try:
        yield store
    finally:
        store.close()
        if dbs is not None:
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


#: How often a live server's loop checks whether it was asked to stop (seconds).
SERVER_POLL_S = 0.02


@pytest.fixture
def live_server() -> Iterator[Callable[..., str]]:
    """``base_url = live_server(app)`` serves a Flask/WSGI app on 127.0.0.1 on a free port
    in a daemon thread; stopped at teardown."""
    from werkzeug.serving import make_server

    running = []

    def start(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(
            target=server.serve_forever,
            # shutdown() returns once the loop next looks: werkzeug's default 0.5 s is
            # a quarter of a second of nothing on average at every browser test's teardown
            kwargs={"poll_interval": SERVER_POLL_S},
            name=f"live_server:{server.server_port}",
            daemon=True,
        )
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
