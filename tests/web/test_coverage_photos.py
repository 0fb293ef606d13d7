"""Photos of inspection visits and patrol check-ins over HTTP (SQLite and PostGIS): sent with
the visit or check-in (JSON API as multipart, the desktop form, the phone queue's format),
kept without their metadata under the upload folder, served only to those who see the
visit or check-in, named in the inspected-point ledger; a bad photo refuses the whole
request with nothing stored."""

import json
import uuid
from pathlib import Path

import pytest
from field_helpers import camera_jpeg, form_body
from intake_helpers import jpeg_like, png_bytes
from webclient import make_app, sign_in

from geoapp.services.accounts import demo_unit


@pytest.fixture
def app(demo_url, tmp_path):
    app = make_app(demo_url, UPLOAD_DIR=str(tmp_path / "uploads"), MAX_PHOTO_MB=1)
    yield app
    app.extensions["geoapp.store"].close()


@pytest.fixture
def store(app):
    return app.extensions["geoapp.store"]


def as_role(app, role):
    return sign_in(app.test_client(), role)


def photo_dir(app) -> Path:
    return Path(app.config["UPLOAD_DIR"]) / "photos"


def kept_files(app) -> list[Path]:
    folder = photo_dir(app)
    return sorted(folder.iterdir()) if folder.exists() else []


def multipart(fields: dict, photos=()) -> dict:
    data, content_type = form_body(fields, photos)
    return {"data": data, "content_type": content_type}


def point_of(store, own: bool):
    unit = demo_unit(store)
    return next(p for p in store.inspection_points() if (p["responsible_unit_id"] == unit) == own)


def own_spot(store):
    areas = store.areas()
    row = areas[areas.responsible_unit_id == demo_unit(store)].iloc[0]
    spot = row.geometry.representative_point()
    return row.area_id, spot.x, spot.y


def visit_report(point, **extra):
    return {
        "point_id": point["point_id"],
        "round": "照片轮",
        "result": "clean",
        "client_id": uuid.uuid4().hex,
        **extra,
    }


def assert_clean_jpeg(data: bytes):
    assert data.startswith(b"\xff\xd8")
    for secret in (b"HUAWEI", b"8F3K2L9Q", b"Zhang San", b"13800138000"):
        assert secret not in data


@pytest.mark.parametrize("url", ["/api/visits", "/field/api/visits"])
def test_visit_keeps_its_photo_without_metadata_once(app, store, url):
    inspector = as_role(app, "inspector")
    report = visit_report(point_of(store, own=True))
    first = inspector.post(url, **multipart({"report": json.dumps(report)}, [camera_jpeg()]))
    assert first.status_code == 201, first.json
    visit = first.json["visit"]
    assert visit["photo_name"] and visit["photo_url"].endswith(f"/visits/{visit['id']}/photo")
    files = kept_files(app)
    assert [f.name for f in files] == [visit["photo_name"]]
    assert_clean_jpeg(files[0].read_bytes())
    assert store.get_visit(visit["id"])["photo_name"] == visit["photo_name"]
    # the queue's retry after a lost answer: the stored visit, no second file
    again = inspector.post(url, **multipart({"report": json.dumps(report)}, [camera_jpeg()]))
    assert again.status_code == 200 and again.json["visit"]["id"] == visit["id"]
    assert len(kept_files(app)) == 1
    served = inspector.get(visit["photo_url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data == files[0].read_bytes()
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in served.headers["Cache-Control"]


def test_visit_with_problems_and_a_png_photo(app, store):
    inspector = as_role(app, "inspector")
    report = visit_report(
        point_of(store, own=False),
        result="problems",
        problems=[{"category": "overflowing_bin", "deduction": 2.0}],
    )
    r = inspector.post("/api/visits", **multipart({"report": json.dumps(report)}, [png_bytes()]))
    assert r.status_code == 201, r.json
    assert r.json["visit"]["photo_name"].endswith(".png")
    assert len(r.json["visit"]["problem_pks"]) == 1
    assert inspector.get(r.json["visit"]["photo_url"]).mimetype == "image/png"


def test_visit_without_photo_has_none(app, store):
    inspector = as_role(app, "inspector")
    r = inspector.post("/api/visits", json=visit_report(point_of(store, own=True)))
    assert r.status_code == 201, r.json
    assert r.json["visit"]["photo_name"] is None and r.json["visit"]["photo_url"] is None
    assert inspector.get(f"/api/visits/{r.json['visit']['id']}/photo").status_code == 404
    plain = inspector.post(
        "/api/visits", **multipart({"report": json.dumps(visit_report(point_of(store, True)))})
    )
    assert plain.status_code == 201 and plain.json["visit"]["photo_name"] is None
    assert kept_files(app) == []


@pytest.mark.parametrize(
    ("photos", "status"),
    [
        ([b"this is not a picture at all"], 415),
        ([b"GIF89a" + b"\0" * 40], 415),
        ([b""], 400),
        ([jpeg_like(1024 * 1024 + 1)], 413),
        ([camera_jpeg(), camera_jpeg()], 400),
    ],
)
@pytest.mark.parametrize("url", ["/api/visits", "/field/api/visits"])
def test_bad_visit_photo_stores_nothing(app, store, url, photos, status):
    inspector = as_role(app, "inspector")
    report = visit_report(
        point_of(store, own=True),
        result="problems",
        problems=[{"category": "overflowing_bin", "deduction": 1.0}],
    )
    problems_before = store.count_problems()
    r = inspector.post(url, **multipart({"report": json.dumps(report)}, photos))
    assert r.status_code == status, r.json
    assert r.json["message"]
    assert store.visit_by_client_id(report["client_id"]) is None
    assert store.problem_by_client_id(f"{report['client_id']}:0") is None
    assert store.count_problems() == problems_before
    assert kept_files(app) == []


@pytest.mark.parametrize("url", ["/api/checkins", "/field/api/checkins"])
def test_checkin_keeps_its_photo(app, store, url):
    unit = as_role(app, "unit")
    area_id, x, y = own_spot(store)
    report = {"area_id": area_id, "lon": x, "lat": y, "client_id": uuid.uuid4().hex}
    first = unit.post(url, **multipart({"report": json.dumps(report)}, [camera_jpeg()]))
    assert first.status_code == 201, first.json
    row = first.json["checkin"]
    assert [f.name for f in kept_files(app)] == [row["photo_name"]]
    assert_clean_jpeg(kept_files(app)[0].read_bytes())
    assert store.checkin_by_client_id(report["client_id"])["photo_name"] == row["photo_name"]
    again = unit.post(url, **multipart({"report": json.dumps(report)}, [camera_jpeg()]))
    assert again.status_code == 200 and len(kept_files(app)) == 1
    assert unit.get(row["photo_url"]).status_code == 200
    assert as_role(app, "coordinator").get(row["photo_url"]).status_code == 200
    # the phone page lists it with a link to the photo
    page = unit.get("/field/patrol").get_data(as_text=True)
    assert row["photo_url"] in page


@pytest.mark.parametrize(
    ("photos", "status"),
    [([b"<html>not an image</html>"], 415), ([jpeg_like(1024 * 1024 + 1)], 413)],
)
def test_bad_checkin_photo_stores_nothing(app, store, photos, status):
    unit = as_role(app, "unit")
    area_id, x, y = own_spot(store)
    report = {"area_id": area_id, "lon": x, "lat": y, "client_id": uuid.uuid4().hex}
    r = unit.post("/field/api/checkins", **multipart({"report": json.dumps(report)}, photos))
    assert r.status_code == status, r.json
    assert store.checkin_by_client_id(report["client_id"]) is None
    assert kept_files(app) == []


def test_photos_are_served_only_within_the_viewers_scope(app, store):
    inspector = as_role(app, "inspector")
    urls = {}
    for own in (True, False):
        report = visit_report(point_of(store, own))
        r = inspector.post(
            "/api/visits", **multipart({"report": json.dumps(report)}, [camera_jpeg()])
        )
        urls[own] = r.json["visit"]["photo_url"]
    unit = as_role(app, "unit")
    assert unit.get(urls[True]).status_code == 200
    assert unit.get(urls[False]).status_code == 404
    assert as_role(app, "coordinator").get(urls[False]).status_code == 200
    assert app.test_client().get(urls[True]).status_code in (302, 401, 403)
    # another unit's check-in with a photo: not the demo unit's to see
    areas = store.areas()
    other = areas[areas.responsible_unit_id != demo_unit(store)].iloc[0]
    kept = kept_files(app)[0].name  # a file that exists: refused by scope, not by absence
    with store.transaction() as tx:
        cid = tx.add_checkin(
            {
                "client_id": uuid.uuid4().hex,
                "unit_id": other.responsible_unit_id,
                "area_id": other.area_id,
                "checked_at": "2026-12-07T08:00:00+08:00",
                "local_date": "2026-12-07",
                "lon": 117.0,
                "lat": 31.0,
                "distance_m": 0.0,
                "photo_name": kept,
            }
        )
    assert unit.get(f"/api/checkins/{cid}/photo").status_code == 404
    assert unit.get("/api/checkins/999999/photo").status_code == 404
    assert unit.get("/api/visits/999999/photo").status_code == 404


def test_ledger_export_and_print_name_the_photo(app, store):
    inspector = as_role(app, "inspector")
    report = visit_report(point_of(store, own=True))
    r = inspector.post("/api/visits", **multipart({"report": json.dumps(report)}, [camera_jpeg()]))
    visit = r.json["visit"]
    coordinator = as_role(app, "coordinator")
    text = coordinator.get("/ledger/coverage/export.csv?round=照片轮").data.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].endswith(",照片")
    assert len(lines) == 2 and lines[1].endswith("," + visit["photo_name"])
    page = coordinator.get("/ledger/coverage/print?round=照片轮").get_data(as_text=True)
    assert f'href="{visit["photo_url"]}"' in page
