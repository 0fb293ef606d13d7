"""``geoapp backup DIR`` / ``geoapp restore DIR``: the store and the photos together, restored
into an empty store with the same counts, ledger figures and photos, on both backends."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from intake_helpers import inside_point, png_bytes
from webclient import make_app, sign_in

from geoapp.cli import main
from geoapp.services import ledger
from geoapp.store import open_store

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def figures(store) -> dict:
    led = ledger.build(store, {}, now=NOW)
    return {
        "problems": store.count_problems(),
        "units": len(store.list_units()),
        "districts": len(store.list_districts()),
        "generation": store.current_generation()["id"],
        "problem_rows": store.problem_frame().to_csv(),
        "ledger_groups": json.dumps(
            [led.by_district, led.by_category, led.by_round, led.daily], default=str
        ),
        "totals": json.dumps(led.totals, default=str, sort_keys=True),
        "by_unit": json.dumps(led.by_unit, default=str, sort_keys=True),
        "users": sorted(u["name"] for u in store.list_users()),
    }


def run(url, upload_dir, *args):
    return CliRunner().invoke(
        main, ["--database-url", url, *map(str, args)], env={"GEOAPP_UPLOAD_DIR": str(upload_dir)}
    )


def demo_and_empty(request, backend: str, tmp_path) -> tuple[str, str]:
    """A private demo county and an empty database, both on ``backend``."""
    if backend == "sqlite":
        return request.getfixturevalue("demo_sqlite_url"), f"sqlite:///{tmp_path / 'empty.sqlite'}"
    dbs = request.getfixturevalue("postgis_databases")
    demo = dbs.create(template=request.getfixturevalue("demo_postgis_template"))
    return demo, dbs.create()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_backup_then_restore_into_an_empty_store(request, backend, tmp_path):
    demo_url, store_url = demo_and_empty(request, backend, tmp_path)
    served = tmp_path / "served-uploads"
    app = make_app(demo_url, UPLOAD_DIR=str(served))
    client = sign_in(app.test_client(), "admin")
    store = app.extensions["geoapp.store"]
    _, lon, lat = inside_point(store)
    body = {"lon": lon, "lat": lat, "category": "litter", "round": "R"}
    pk = client.post("/api/problems", json=body).get_json()["problem"]["id"]
    photo = png_bytes()
    r = client.post(f"/api/problems/{pk}/photos", data={"photo": (io.BytesIO(photo), "a.png")})
    assert r.status_code == 201
    photo_url = r.get_json()["url"]
    before = figures(store)

    folder = tmp_path / "backup"
    r = run(demo_url, served, "backup", folder)  # while the app still serves
    assert r.exit_code == 0, r.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["problems"] == before["problems"] and manifest["files"] == 1
    # a second backup into the same folder is refused, nothing overwritten
    again = run(demo_url, served, "backup", folder)
    assert again.exit_code == 2 and "not empty" in again.output

    restored_uploads = tmp_path / "restored-uploads"
    r = run(store_url, restored_uploads, "restore", folder)
    assert r.exit_code == 0, r.output
    with open_store(store_url) as restored:
        assert figures(restored) == before
    fresh = make_app(store_url, UPLOAD_DIR=str(restored_uploads))
    got = sign_in(fresh.test_client(), "admin").get(photo_url)
    assert got.status_code == 200 and got.data == photo
    # restoring over data is refused
    r = run(store_url, restored_uploads, "restore", folder)
    assert r.exit_code == 2 and "already holds" in r.output
    fresh.extensions["geoapp.store"].close()
    store.close()


def test_restore_refuses_a_folder_that_is_no_backup(store_url, tmp_path):
    r = run(store_url, tmp_path / "up", "restore", tmp_path)
    assert r.exit_code == 2 and "no geoapp backup" in r.output
    with open_store(store_url) as store:
        assert store.revision() is None


@pytest.mark.postgis
def test_a_sqlite_backup_is_not_restored_into_postgis(demo_sqlite_url, postgis_databases, tmp_path):
    assert run(demo_sqlite_url, tmp_path / "u", "backup", tmp_path / "b").exit_code == 0
    r = run(postgis_databases.create(), tmp_path / "u2", "restore", tmp_path / "b")
    assert r.exit_code == 2 and "same kind" in r.output
