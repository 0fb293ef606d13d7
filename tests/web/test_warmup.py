"""Warming at start (``geoapp serve``, geoapp.wsgi): after it, the first map load (the page
and its four data requests) reads no problem and no area from the database: everything it
needs was made before the first coordinator came. Checked by the SQL the store really runs,
with an unwarmed app as the control."""

import re

import pytest
from sqlalchemy import event
from webclient import make_app, sign_in

from geoapp.web.warmup import warm_app

FIRST_LOAD = [
    "/",
    "/api/districts",
    "/api/areas",
    "/api/units",
    "/api/problems/clusters?zoom=13&bbox=114.80,28.10,115.00,28.35",
    "/api/problems/clusters?zoom=15&bbox=114.90,28.20,114.95,28.25",
]
ROWS = re.compile(r"\bFROM\s+\"?(problems|areas|area_versions)\"?(\s|$)", re.I)
# a generation's row counts its areas (an index look-up, not a read of them)
COUNT = re.compile(r"SELECT count\(\*\) AS \w+\s+FROM area_versions\s+WHERE", re.I)


def tables_read(app) -> set[str]:
    """The tables of problems and areas the first map load reads rows from."""
    seen: set[str] = set()
    engine = app.extensions["geoapp.store"].engine

    def record(conn, cursor, statement, *args):
        seen.update(m.group(1).lower() for m in ROWS.finditer(COUNT.sub("", statement)))

    event.listen(engine, "before_cursor_execute", record)
    try:
        client = sign_in(app.test_client(), "coordinator")
        for url in FIRST_LOAD:
            assert client.get(url).status_code == 200, url
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


@pytest.mark.parametrize("warmed", [True, False])
def test_the_first_map_load_after_warming_reads_nothing_heavy(demo_sqlite_url, warmed):
    # as geoapp serve and geoapp.wsgi make it
    app = make_app(demo_sqlite_url, WARM_CACHES=warmed)
    try:
        if warmed:
            assert tables_read(app) == set()
        else:  # the control: without warming, the same load reads them
            assert {"problems"} <= tables_read(app)
    finally:
        app.extensions["geoapp.store"].close()


def test_warming_names_what_it_made(demo_sqlite_url):
    app = make_app(demo_sqlite_url)
    try:
        took = warm_app(app)
    finally:
        app.extensions["geoapp.store"].close()
    assert set(took) == {"page", "districts", "areas", "units", "problems", "deadlines", "map page"}
