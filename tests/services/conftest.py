"""Fixtures of the service tests: a PostGIS server of the test's own that already holds the
demo county.

``own_postgres`` (tests/conftest.py) starts an empty server: ``initdb``, the PostGIS
extension, then every test migrated the database and loaded the demo county itself (seconds
of CPU in Python and in the server, three times per run in these files).  The files of a
server that did all that once are the same every time, so they are built once per test run
(shared by the xdist workers through ``build_once``) and each test's server starts from a
copy of them: still a server of its own, which the test may stop and start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _build_demo_server(folder: Path) -> str:
    """A stopped PostgreSQL data folder (in ``folder``) whose database ``geoapp_test`` is
    migrated to the head and holds the demo county; returns its path."""
    sys.path.insert(0, str(REPO / "bench"))
    import loadgen

    from geoapp.services.county import load_county
    from geoapp.store import open_store

    # built where the server's own user may write (root runs it as `postgres`), kept in the
    # run's shared folder once stopped
    server = loadgen.PgServer()
    try:
        url = server.start()
        with open_store(url, upgrade=True) as store:
            load_county(store)
        server.stop()
        kept = folder / "data"
        subprocess.run(["cp", "-a", str(server.data), str(kept)], check=True)
    finally:
        server.remove()
    return str(kept)


@pytest.fixture(scope="session")
def demo_server_files(build_once) -> str:
    """The data folder of a stopped server holding the demo county, built once per run."""
    return build_once("own-demo-postgres", _build_demo_server)


@pytest.fixture
def own_demo_postgres(own_postgres, demo_server_files):
    """``own_postgres`` whose database already holds the demo county at the schema's head
    (as ``open_store(url, upgrade=True)`` then ``load_county``); ``start()`` returns its URL."""
    template = demo_server_files
    subprocess.run(["cp", "-a", template, str(own_postgres.data)], check=True)
    return own_postgres
