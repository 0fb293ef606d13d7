"""``/healthz`` and ``/readyz``: open to anyone, no data in the answer, 503 naming the failing
checks when the store is down or behind, or the upload folder cannot be written."""

from __future__ import annotations

import logging

from webclient import make_app

from geoapp.store import open_store

OK = {"status": "ok"}


def probe(app, path):
    r = app.test_client().get(path)  # no cookie, no token: as a monitor asks
    return r.status_code, r.get_json(), r


def test_both_probes_answer_anyone_with_no_data(app):
    for path in ("/healthz", "/readyz"):
        status, body, r = probe(app, path)
        assert (status, body) == (200, OK), path
        assert "no-store" in r.headers["Cache-Control"]


def test_readyz_names_a_store_that_is_behind_the_code(store_url, tmp_path):
    app = make_app(store_url, UPLOAD_DIR=str(tmp_path / "up"))
    store = app.extensions["geoapp.store"]
    assert probe(app, "/readyz")[:2] == (200, OK)
    store.downgrade("base")
    assert probe(app, "/readyz")[:2] == (503, {"status": "failing", "failing": ["schema"]})
    assert probe(app, "/healthz")[:2] == (200, OK)
    store.close()


def test_readyz_fails_when_the_upload_folder_cannot_be_written(demo_sqlite_url, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = make_app(demo_sqlite_url, UPLOAD_DIR=str(blocker / "uploads"))
    assert probe(app, "/readyz")[:2] == (503, {"status": "failing", "failing": ["uploads"]})
    app.extensions["geoapp.store"].close()


def test_readyz_fails_when_the_tile_folder_is_missing(demo_sqlite_url, tmp_path):
    app = make_app(demo_sqlite_url, UPLOAD_DIR=str(tmp_path), TILES_DIR=str(tmp_path / "none"))
    assert probe(app, "/readyz")[:2] == (503, {"status": "failing", "failing": ["tiles"]})
    app.extensions["geoapp.store"].close()


def test_readyz_fails_while_a_sqlite_file_cannot_be_read(demo_sqlite_url, tmp_path, caplog):
    app = make_app(demo_sqlite_url, UPLOAD_DIR=str(tmp_path))
    assert probe(app, "/readyz")[:2] == (200, OK)
    path = tmp_path / "demo.sqlite"
    good = path.read_bytes()
    app.extensions["geoapp.store"].close()  # drop pooled connections holding the old file
    path.write_bytes(b"this is not a database file " * 200)
    caplog.set_level(logging.WARNING)
    status, body, _ = probe(app, "/readyz")
    assert status == 503 and body == {"status": "failing", "failing": ["store", "schema"]}
    assert probe(app, "/healthz")[:2] == (200, OK)
    # what was found is in the log, not in the answer
    assert any("not ready: store" in r.getMessage() for r in caplog.records)
    path.write_bytes(good)
    app.extensions["geoapp.store"].close()
    assert probe(app, "/readyz")[:2] == (200, OK)
    app.extensions["geoapp.store"].close()


def test_readyz_fails_while_postgis_is_down_and_recovers(own_postgres, tmp_path):
    url = own_postgres.start()
    with open_store(url, upgrade=True):
        pass
    app = make_app(url, UPLOAD_DIR=str(tmp_path))
    assert probe(app, "/readyz")[:2] == (200, OK)
    own_postgres.stop()
    assert probe(app, "/readyz")[:2] == (503, {"status": "failing", "failing": ["store", "schema"]})
    assert probe(app, "/healthz")[:2] == (200, OK)
    own_postgres.start()
    assert probe(app, "/readyz")[:2] == (200, OK)
    app.extensions["geoapp.store"].close()
