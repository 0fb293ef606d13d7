"""Fixtures of tests/web only: one app per module and backend for the tests that only read.

Most tests of the JSON API and the OGC API only read the demo county.  Making an app (and
the first answers of each app, which fill its store's read caches) for each of them costs
more than many of the tests themselves, so they share:

* ``shared_app``: an app on a private copy of the demo county, once per module and backend
  (the ids stay ``[sqlite]`` / ``[postgis]``, as with ``demo_url``);
* ``reader``: a new client of that app signed in as admin (sessions and cookies are the
  client's own; nothing a test sets on it reaches another test);
* ``reader_as(role)``: the same for any role;
* ``read_store``: the shared app's store.

Only tests that write nothing may use them (no POST, PUT, PATCH, DELETE that succeeds, no
store writes): a test that writes keeps ``app`` / ``client`` (its own copy).  The answers a
shared app caches are keyed on everything that decides them (the store's version, the
reader's scope), so a reader served from another test's cache gets the answer it would have
got anyway: tests/web/test_answer_cache.py checks exactly that.
"""

from __future__ import annotations

import pytest
from webclient import GeoappClient, make_app, sign_in

from geoapp.core.accounts import ROLES


@pytest.fixture(scope="module")
def shared_demo_url(module_demo_url) -> str:
    """A private copy of the demo county shared by one module's reading tests, per backend."""
    return module_demo_url


@pytest.fixture(scope="module")
def shared_app_config() -> dict:
    """Settings of the module's shared app (a module overrides this fixture to change them)."""
    return {}


@pytest.fixture(scope="module")
def shared_app(shared_demo_url, shared_app_config):
    app = make_app(shared_demo_url, **shared_app_config)
    yield app
    app.extensions["geoapp.store"].close()


@pytest.fixture
def reader(shared_app) -> GeoappClient:
    """A new admin client of the module's shared app (for tests that only read)."""
    return sign_in(shared_app.test_client(), "admin")


@pytest.fixture
def reader_as(shared_app):
    """``reader_as(role)``: a new client of the shared app signed in as that role (None:
    anonymous)."""

    def make(role: str | None) -> GeoappClient:
        assert role is None or role in ROLES, role
        return sign_in(shared_app.test_client(), role)

    return make


@pytest.fixture
def read_store(shared_app):
    """The shared app's store (for tests that only read it)."""
    return shared_app.extensions["geoapp.store"]


@pytest.fixture(scope="module")
def shared_sqlite_app(module_demo_sqlite_url):
    """Like ``shared_app``, on SQLite only (for modules whose tests run on SQLite only)."""
    app = make_app(module_demo_sqlite_url)
    yield app
    app.extensions["geoapp.store"].close()
