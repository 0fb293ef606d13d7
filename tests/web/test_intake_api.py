"""Reporting, editing, the workflow, duplicates, photos and deadlines through the JSON API,
on SQLite and PostGIS (the ``demo_url`` fixture)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from intake_helpers import inside_point, jpeg_like, multipart, png_bytes, snapshot
from webclient import make_app, sign_in

from geoapp.cli import main
from geoapp.core.crs import from_wgs84
from geoapp.web import openapi

M_LAT = 1 / 111_195  # degrees of latitude per metre


@pytest.fixture
def client(client):
    """The admin client, reading English: these tests check the English refusal texts
    (tests/web/test_error_language.py checks that the same refusals come in Chinese by default)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def app(demo_url, tmp_path):
    app = make_app(demo_url, UPLOAD_DIR=str(tmp_path / "uploads"), MAX_PHOTO_MB=1)
    yield app
    app.extensions["geoapp.store"].close()


@pytest.fixture
def store(app):
    return app.extensions["geoapp.store"]


@pytest.fixture(scope="module")
def shared_app_config(tmp_path_factory) -> dict:
    return {"UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")), "MAX_PHOTO_MB": 1}


@pytest.fixture
def en_reader(reader):
    """An English admin client of the module's shared app (tests/web/conftest.py), for the
    tests that only read or whose writes are all refused (each of those checks that its own
    requests changed nothing)."""
    reader.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return reader


def report(client, **fields):
    return client.post("/api/problems", json=fields)


def test_report_assigns_by_the_existing_engine(client, store):
    area, lon, lat = inside_point(store, kind="back_alley")
    r = report(client, lon=lon, lat=lat, category="litter", round="市级评估", deduction=2,
               description="垃圾落地", reporter="张三")  # fmt: skip
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert r.headers["Location"] == body["links"]["self"]
    a = body["assignment"]
    units = {u["unit_id"]: u for u in store.list_units()}
    districts = {d["district_id"]: d for d in store.list_districts()}
    assert a["assigned"] is True
    assert a["area"]["id"] == area["area_id"] and a["area"]["name"] == area["name"]
    assert a["district"]["id"] == area["district_id"]
    assert a["responsible_unit"] == {
        "id": area["responsible_unit_id"],
        "name": units[area["responsible_unit_id"]]["name"],
    }
    assert a["lead_unit"]["id"] == districts[area["district_id"]]["lead_unit_id"]
    assert a["generation"] == store.current_generation()["id"]
    p = body["problem"]
    assert p["status"] == "reported" and p["deduction"] == 2 and p["problem_id"].startswith("P-")
    assert p["source_crs"] == "EPSG:4326"
    assert [e["kind"] for e in body["events"]] == ["created", "assigned"]
    assert body["events"][0]["actor"] == "admin"  # who sent it; the reporter is a field
    assert {t["to"] for t in body["transitions"]} == {"assigned", "rectifying"}
    # the problem is visible through the read API
    got = client.get(body["links"]["self"]).get_json()["properties"]
    assert got["responsible_unit_id"] == area["responsible_unit_id"]
    assert got["due_at"] is not None and got["overdue"] is False


def test_a_category_rule_overrides_the_area_unit(client, store):
    _, lon, lat = inside_point(store, kind="back_alley")
    a = report(client, lon=lon, lat=lat, category="red_light", round="R").get_json()["assignment"]
    assert a["responsible_unit"]["name"] == "县交警大队"
    assert a["rule"]["id"] == "R01" and a["rule"]["note"]


def test_outside_the_county_is_kept_unassigned(client, store):
    before = store.count_problems()
    r = report(client, lon=116.0, lat=30.0, category="litter", round="R", problem_id="OUT-1")
    assert r.status_code == 201
    body = r.get_json()
    a = body["assignment"]
    assert a["assigned"] is False
    assert a["area"] is None and a["responsible_unit"] is None and a["lead_unit"] is None
    assert a["rule"] is None
    assert store.count_problems() == before + 1
    assert body["problem"]["problem_id"] == "OUT-1"
    assert [e["kind"] for e in body["events"]] == ["created"]


@pytest.mark.parametrize(("crs", "code"), [("gcj02", "GCJ-02"), ("bd09", "BD-09")])
def test_phone_map_coordinates_are_converted_once(client, store, crs, code):
    area, lon, lat = inside_point(store, kind="compound_managed")
    x, y = from_wgs84([lon], [lat], crs)
    body = report(client, lon=float(x[0]), lat=float(y[0]), crs=crs, category="litter",
                  round="R").get_json()  # fmt: skip
    p = body["problem"]
    assert abs(p["lon"] - lon) < 1e-5 and abs(p["lat"] - lat) < 1e-5
    assert p["source_crs"] == code and p["source_x"] == pytest.approx(float(x[0]))
    assert body["assignment"]["area"]["id"] == area["area_id"]


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        ({"lat": 28.2, "category": "litter", "round": "R"}, 400, "lon"),
        ({"lon": 114.9, "lat": 28.2, "round": "R"}, 400, "category"),
        ({"lon": 114.9, "lat": 28.2, "category": "litter"}, 400, "round"),
        ({"lon": 114.9, "lat": 28.2, "category": "乱搭建", "round": "R"}, 400, "category"),
        ({"lon": 190, "lat": 28.2, "category": "litter", "round": "R"}, 400, "longitude"),
        ({"lon": 114.9, "lat": 95, "category": "litter", "round": "R"}, 400, "latitude"),
        ({"lon": "东经", "lat": 28.2, "category": "litter", "round": "R"}, 400, "number"),
        ({"lon": 114.9, "lat": 28.2, "crs": "mars", "category": "litter", "round": "R"}, 400,
         "mars"),
        ({"lon": 114.9, "lat": 28.2, "crs": "EPSG:999999", "category": "litter", "round": "R"},
         400, "999999"),
        ({"lon": 114.9, "lat": 28.2, "category": "litter", "round": "R", "deduction": -3}, 400,
         "deduction"),
        ({"lon": 114.9, "lat": 28.2, "category": "litter", "round": "R", "reported_at": "昨天"},
         400, "reported_at"),
        ({"lon": 114.9, "lat": 28.2, "category": "litter", "round": "R",
          "reported_at": "2999-01-01 08:00"}, 400, "future"),
        ({"lon": 114.9, "lat": 28.2, "category": "litter", "round": "R", "duplicate_of": 999999},
         404, "999999"),
        ({"lon": 114.9, "lat": 28.2, "category": "litter", "round": "R", "problem_id": "P00001"},
         409, "P00001"),
    ],
)  # fmt: skip
def test_bad_reports_are_refused_and_change_nothing(en_reader, read_store, payload, status, words):
    before = snapshot(read_store)
    r = report(en_reader, **payload)
    assert r.status_code == status, r.get_json()
    body = r.get_json()
    assert body["error"] and words in body["message"]
    assert snapshot(read_store) == before


def test_not_json_is_refused(en_reader, read_store):
    before = snapshot(read_store)
    r = en_reader.post("/api/problems", data="lon=1", content_type="text/plain")
    assert r.status_code == 400 and "JSON" in r.get_json()["message"]
    r = en_reader.post("/api/problems", json=[1, 2])
    assert r.status_code == 400
    assert snapshot(read_store) == before


def test_transitions_follow_the_workflow_and_are_recorded(client, store):
    _, lon, lat = inside_point(store)
    pk = report(client, lon=lon, lat=lat, category="litter", round="R").get_json()["problem"]["id"]
    url = f"/api/problems/{pk}/transitions"
    r = client.post(url, json={"to": "verified"})
    assert r.status_code == 409 and r.get_json()["error"] == "transition_refused"
    for to, note in [("assigned", "交办给责任单位"), ("rectifying", None), ("rectified", "已清理")]:
        r = client.post(url, json={"to": to, "note": note})
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["problem"]["status"] == to
    # reopen needs a note
    r = client.post(url, json={"to": "rectifying"})
    assert r.status_code == 409 and "note" in r.get_json()["message"]
    assert client.post(url, json={"to": "verified", "note": "核查通过"}).status_code == 200
    r = client.post(url, json={"to": "rectifying", "note": "复查发现反弹"})
    assert r.status_code == 200
    events = [e for e in r.get_json()["events"] if e["kind"] == "status"]
    assert [(e["detail"]["before"], e["detail"]["after"]) for e in events] == [
        ("reported", "assigned"),
        ("assigned", "rectifying"),
        ("rectifying", "rectified"),
        ("rectified", "verified"),
        ("verified", "rectifying"),
    ]
    assert events[0]["note"] == "交办给责任单位" and events[-1]["note"] == "复查发现反弹"
    assert all(e["at"] for e in events)
    assert client.post(url, json={}).status_code == 400
    assert client.post(url, json={"to": "closed"}).status_code == 409
    assert (
        client.post("/api/problems/99999999/transitions", json={"to": "assigned"}).status_code
        == 404
    )


def test_patch_moves_and_reassigns_with_history(client, store):
    a1, lon1, lat1 = inside_point(store, kind="back_alley")
    others = store.areas()
    other = others[
        (others["responsible_unit_id"] != a1["responsible_unit_id"])
        & (others["kind"] == "main_road")
    ]
    a2, lon2, lat2 = inside_point(store, area_id=other.iloc[0]["area_id"])
    pk = report(client, lon=lon1, lat=lat1, category="litter", round="R").get_json()["problem"][
        "id"
    ]
    r = client.patch(f"/api/problems/{pk}", json={"lon": lon2, "lat": lat2, "note": "位置报错了"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["assignment"]["area"]["id"] == a2["area_id"]
    assert body["assignment"]["responsible_unit"]["id"] == a2["responsible_unit_id"]
    edited = next(e for e in body["events"] if e["kind"] == "edited")
    assert edited["detail"]["before"]["lon"] == pytest.approx(lon1)
    assert edited["detail"]["after"]["lon"] == pytest.approx(lon2)
    assert edited["note"] == "位置报错了"
    moved = next(e for e in body["events"] if e["kind"] == "reassigned")
    assert moved["detail"]["before"]["area_id"] == a1["area_id"]
    assert moved["detail"]["after"]["area_id"] == a2["area_id"]
    # a category change re-runs the rules
    r = client.patch(f"/api/problems/{pk}", json={"category": "red_light"})
    assert r.get_json()["assignment"]["responsible_unit"]["name"] == "县交警大队"
    # bad edits change nothing
    before = snapshot(store)
    for bad, status in [
        ({"lon": 200, "lat": 28}, 400),
        ({"lon": lon2}, 400),
        ({"category": "nope"}, 400),
        ({"status": "verified"}, 400),
        ({}, 400),
        ({"lon": lon2, "lat": lat2, "crs": "mars"}, 400),
    ]:
        r = client.patch(f"/api/problems/{pk}", json=bad)
        assert r.status_code == status, (bad, r.get_json())
    assert client.patch("/api/problems/99999999", json={"round": "x"}).status_code == 404
    assert snapshot(store) == before


def test_likely_duplicates_and_links(client, store):
    _, lon, lat = inside_point(store, kind="compound_managed")
    first = report(client, lon=lon, lat=lat, category="litter", round="R", deduction=2)
    pk1 = first.get_json()["problem"]["id"]
    near = report(client, lon=lon, lat=lat + 20 * M_LAT, category="litter", round="R", deduction=2)
    body = near.get_json()
    dups = body["likely_duplicates"]
    assert [d["id"] for d in dups] == [pk1] and 19 < dups[0]["distance_m"] < 21
    # other category, or farther than 30 m: not flagged
    other = report(client, lon=lon, lat=lat, category="food_safety", round="R").get_json()
    assert other["likely_duplicates"] == []
    far = report(client, lon=lon, lat=lat + 45 * M_LAT, category="litter", round="R").get_json()
    assert pk1 not in [d["id"] for d in far["likely_duplicates"]]
    pk2 = body["problem"]["id"]
    # the problem page's data shows it too
    page = client.get(f"/problems/{pk2}")
    assert page.status_code == 200 and "30" in page.get_data(as_text=True)
    # link, then the duplicate points at the original and is not flagged any more
    r = client.put(f"/api/problems/{pk2}/duplicate", json={"duplicate_of": pk1, "note": "同一处"})
    assert r.status_code == 200
    linked = r.get_json()
    assert linked["duplicate_of"]["id"] == pk1 and linked["likely_duplicates"] == []
    assert linked["problem"]["duplicate_of"] == pk1
    assert linked["events"][-1]["kind"] == "duplicate_linked"
    orig = client.get(f"/problems/{pk1}").get_data(as_text=True)
    assert body["problem"]["problem_id"] in orig
    # en_reader: itself, a chain, an unknown problem
    assert (
        client.put(f"/api/problems/{pk1}/duplicate", json={"duplicate_of": pk1}).status_code == 409
    )
    assert (
        client.put(f"/api/problems/{pk1}/duplicate", json={"duplicate_of": pk2}).status_code == 409
    )
    assert (
        client.put(f"/api/problems/{pk1}/duplicate", json={"duplicate_of": 99999999}).status_code
        == 404
    )
    assert (
        client.put(f"/api/problems/{pk1}/duplicate", json={"duplicate_of": "x"}).status_code == 400
    )
    # linked duplicates are not candidates themselves; a third report finds only the original
    third = report(client, lon=lon, lat=lat + 10 * M_LAT, category="litter", round="R").get_json()
    assert [d["id"] for d in third["likely_duplicates"]] == [pk1]
    # unlink
    r = client.delete(f"/api/problems/{pk2}/duplicate")
    assert r.status_code == 200 and r.get_json()["duplicate_of"] is None
    assert client.delete(f"/api/problems/{pk2}/duplicate").status_code == 409
    # a closed original is no longer a candidate
    for to in ("assigned", "rectifying", "rectified", "verified"):
        client.post(f"/api/problems/{pk1}/transitions", json={"to": to})
    later = report(client, lon=lon, lat=lat, category="litter", round="R").get_json()
    assert pk1 not in [d["id"] for d in later["likely_duplicates"]]


def test_photos(client, store, app, tmp_path):
    _, lon, lat = inside_point(store)
    pk = report(client, lon=lon, lat=lat, category="litter", round="R").get_json()["problem"]["id"]
    photo_dir = tmp_path / "uploads" / "photos"
    png = png_bytes()
    r = client.post(
        f"/api/problems/{pk}/photos", data={"photo": (io.BytesIO(png), "现场.jpg")}
    )  # the name says JPEG; the bytes are a PNG: the bytes win
    assert r.status_code == 201, r.get_json()
    photo = r.get_json()
    assert photo["content_type"] == "image/png" and photo["bytes"] == len(png)
    served = client.get(photo["url"])
    assert served.status_code == 200 and served.mimetype == "image/png" and served.data == png
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    # a unit's photo: never kept by a shared cache, revalidated after a session ends
    cache = served.headers["Cache-Control"]
    assert "private" in cache and "no-cache" in cache and "public" not in cache
    served.close()
    files = list(photo_dir.iterdir())
    assert len(files) == 1 and files[0].suffix == ".png" and "现场" not in files[0].name
    r = client.post(
        f"/api/problems/{pk}/photos", data={"photo": (io.BytesIO(jpeg_like(5000)), "a")}
    )
    assert r.status_code == 201 and r.get_json()["content_type"] == "image/jpeg"
    detail = client.get(f"/problems/{pk}").get_data(as_text=True)
    assert photo["url"] in detail
    listed = client.get(f"/api/problems/{pk}").get_json()["properties"]["photos"]
    assert [p["url"] for p in listed][0] == photo["url"] and len(listed) == 2
    before = snapshot(store)
    bad = [
        ({"photo": (io.BytesIO(b"GIF89a" + b"\0" * 100), "a.png")}, 415),
        ({"photo": (io.BytesIO(b"<?php echo 1; ?>"), "photo.jpg")}, 415),
        ({"photo": (io.BytesIO(b""), "empty.png")}, 400),
        ({"file": (io.BytesIO(png), "a.png")}, 400),
        (multipart("photo", "big.jpg", jpeg_like(1024 * 1024 + 10)), 413),
    ]
    for data, status in bad:
        if isinstance(data, tuple):
            r = client.post(f"/api/problems/{pk}/photos", data=data[0], content_type=data[1])
        else:
            r = client.post(f"/api/problems/{pk}/photos", data=data)
        assert r.status_code == status, (status, r.get_json())
        assert r.get_json()["message"]
    r = client.post("/api/problems/99999999/photos", data={"photo": (io.BytesIO(png), "a.png")})
    assert r.status_code == 404
    assert snapshot(store) == before
    assert len(list(photo_dir.iterdir())) == 2
    assert client.get("/photos/99999").status_code == 404


def test_oversized_request_is_refused_before_reading(demo_url, tmp_path):
    app = make_app(demo_url, UPLOAD_DIR=str(tmp_path), MAX_UPLOAD_MB=1)
    try:
        client = sign_in(app.test_client(), "admin")
        body, content_type = multipart("photo", "a.jpg", jpeg_like(2 * 2**20))
        r = client.post("/api/problems/1/photos", data=body, content_type=content_type)
        assert r.status_code == 413 and r.get_json()["error"]
        assert app.extensions["geoapp.store"].problem_photos(1) == []
    finally:
        app.extensions["geoapp.store"].close()


def test_deadlines_and_overdue(client, store):
    _, lon, lat = inside_point(store)
    old = (datetime.now(UTC) - timedelta(hours=30)).astimezone().isoformat(timespec="seconds")
    body = report(
        client, lon=lon, lat=lat, category="litter", round="R", reported_at=old
    ).get_json()
    pk = body["problem"]["id"]
    assert body["problem"]["overdue"] is True  # litter: 24 h
    assert "overdue" in client.get(f"/problems/{pk}").get_data(as_text=True)
    r = client.put("/api/categories/litter", json={"deadline": "3d"})
    assert r.status_code == 200 and r.get_json()["deadline_hours"] == 72
    got = client.get(f"/api/problems/{pk}").get_json()["properties"]
    assert got["overdue"] is False
    due = datetime.fromisoformat(got["due_at"])
    assert abs((due - datetime.fromisoformat(old)).total_seconds() - 72 * 3600) <= 1
    before = snapshot(store)
    assert client.put("/api/categories/litter", json={"deadline": "soon"}).status_code == 400
    assert client.put("/api/categories/litter", json={"deadline": "-2d"}).status_code == 400
    assert client.put("/api/categories/litter", json={}).status_code == 400
    assert client.put("/api/categories/nope", json={"deadline": "2d"}).status_code == 404
    assert snapshot(store) == before
    # a closed problem is never overdue
    client.put("/api/categories/litter", json={"deadline": "1h"})
    assert client.get(f"/api/problems/{pk}").get_json()["properties"]["overdue"] is True
    for to in ("assigned", "rectifying", "rectified", "verified"):
        client.post(f"/api/problems/{pk}/transitions", json={"to": to})
    assert client.get(f"/api/problems/{pk}").get_json()["properties"]["overdue"] is False


@pytest.mark.parametrize(
    "deadline",
    [
        "100000000h",
        "8761",
        "366d",
        "9" * 400,
        1e300,
        10**30,
        -1,
        0,
        "0h",
        "-2d",
        "2 weeks",
        "",
        True,
        [1],
        {"h": 1},
        "1.5h",
    ],
)
def test_bad_deadlines_are_a_400_and_change_nothing(en_reader, read_store, deadline):
    before = snapshot(read_store), read_store.count_audit()
    r = en_reader.put("/api/categories/litter", json={"deadline": deadline})
    assert r.status_code == 400, r.get_data(as_text=True)
    body = r.get_json()
    assert body["error"] == "bad_input" and "deadline" in body["message"]
    assert len(body["message"]) < 200
    assert (snapshot(read_store), read_store.count_audit()) == before


def test_a_year_is_the_limit_named_in_the_refusal(client, store):
    r = client.put("/api/categories/litter", json={"deadline": "100000000h"})
    assert r.status_code == 400 and "8760" in r.get_json()["message"]
    r = client.put("/api/categories/litter", json={"deadline": "365d"})
    assert r.status_code == 200 and r.get_json()["deadline_hours"] == 8760


def test_deadline_changes_are_audited(client, store):
    old = {c["category"]: c for c in store.list_categories()}["litter"]["deadline_hours"]
    n = store.count_audit()
    assert client.put("/api/categories/litter", json={"deadline": "3d"}).status_code == 200
    assert client.put("/api/categories/垃圾落地", json={"deadline": None}).status_code == 200
    entries = store.audit_entries(limit=2, action="category.deadline")
    assert store.count_audit() == n + 2
    newest, first = entries
    assert first["actor"] == "admin" and first["target"] == "category:litter"
    assert first["before"] == {"deadline_hours": old}
    assert first["after"] == {"deadline_hours": 72}
    assert newest["before"] == {"deadline_hours": 72} and newest["after"] == {
        "deadline_hours": None
    }
    assert first["at"] is not None
    # the same value again changes nothing and is not an entry
    assert client.put("/api/categories/litter", json={"deadline": None}).status_code == 200
    assert store.count_audit() == n + 2


@pytest.mark.parametrize("hours", [100_000_000, 2**31 - 1, 8761, 0, -24])
def test_an_unusable_deadline_already_stored_breaks_no_page(client, store, demo_url, hours):
    """Defence in depth: a value written before the limit (or straight into the database)
    counts as no deadline; every reader of deadlines answers."""
    import sqlalchemy as sa

    _, lon, lat = inside_point(store)
    pk = report(client, lon=lon, lat=lat, category="litter", round="R").get_json()["problem"]["id"]
    engine = sa.create_engine(demo_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE categories SET deadline_hours = :h WHERE category = 'litter'"),
                {"h": hours},
            )
    finally:
        engine.dispose()
    for url in [
        f"/api/problems/{pk}",
        "/api/problems?category=litter",
        "/api/ledger",
        "/ledger",
        "/ledger/export.xlsx",
        "/ledger/export.csv?group=category",
        f"/problems/{pk}",
        "/ledger/print?unit=U41",
    ]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
    got = client.get(f"/api/problems/{pk}").get_json()["properties"]
    assert got["due_at"] is None and got["overdue"] is False


@pytest.mark.parametrize("big", [2**31, 2**40, 2**63, 10**30])
def test_ids_beyond_a_database_integer_answer_alike_on_both_backends(en_reader, read_store, big):
    """PostgreSQL's INTEGER is 32-bit: a larger id used to reach it and answer 503 there
    (404 on SQLite); now it is a 4xx on both, before any query."""
    _, lon, lat = inside_point(read_store)
    before = snapshot(read_store)
    r = report(en_reader, lon=lon, lat=lat, category="litter", round="R", duplicate_of=big)
    assert r.status_code == 400 and "out of range" in r.get_json()["message"]
    r = en_reader.put("/api/problems/1/duplicate", json={"duplicate_of": big})
    assert r.status_code == 400 and "out of range" in r.get_json()["message"]
    assert snapshot(read_store) == before
    for url in [f"/api/problems/{big}", f"/problems/{big}", f"/photos/{big}"]:
        assert en_reader.get(url).status_code == 404, url
    for url in [
        f"/api/generations/compare?a={big}&b=1",
        f"/api/problems?generation={big}",
        f"/api/problems?offset={big}",
    ]:
        r = en_reader.get(url)
        assert r.status_code == 400, (url, r.get_data(as_text=True))
    assert en_reader.get(f"/api/problems?offset={2**31 - 1}").status_code == 200


def test_report_times_outside_the_years_of_a_date_are_a_400(en_reader, read_store):
    _, lon, lat = inside_point(read_store)
    before = snapshot(read_store)
    for when in [
        "0001-01-01T00:00:00+08:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
        "1899-12-31T23:00:00+08:00",
        "0001-01-01",
    ]:
        r = report(en_reader, lon=lon, lat=lat, category="litter", round="R", reported_at=when)
        assert r.status_code == 400, (when, r.get_data(as_text=True))
        assert "reported_at" in r.get_json()["message"]
    assert snapshot(read_store) == before


def test_set_deadline_cli(demo_url, store):
    def run(*args):
        return CliRunner().invoke(main, ["--database-url", demo_url, *args])

    result = run("set-deadline", "垃圾落地", "2天")
    assert result.exit_code == 0, result.output
    assert "48 h" in result.output
    cats = {c["category"]: c for c in store.list_categories()}
    assert cats["litter"]["deadline_hours"] == 48
    result = run("set-deadline", "litter", "whenever")
    assert result.exit_code == 2 and "error:" in result.output
    result = run("set-deadline", "nope", "3d")
    assert result.exit_code == 2 and "nope" in result.output


def test_map_popups_link_to_the_problem_page(en_reader):
    page = en_reader.get("/").get_data(as_text=True)
    assert '"problem_page": "/problems/__ID__"' in page
    script = en_reader.get("/static/js/geoapp-map.js")
    assert b"problem-page-link" in script.data
    script.close()


def test_openapi_documents_every_write_route(shared_app, en_reader):
    doc = en_reader.get("/api/openapi.json").get_json()
    for rule in shared_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}:
            path = next((p for p in doc["paths"] if openapi.flask_path(p) == rule.rule), None)
            assert path is not None, rule.rule
            op = doc["paths"][path].get(method.lower())
            assert op is not None, (method, rule.rule)
            assert op["operationId"] == rule.endpoint.removeprefix("api.")
            for code, response in op["responses"].items():
                for content in response.get("content", {}).values():
                    name = content["schema"]["$ref"].rsplit("/", 1)[1]
                    assert name in doc["components"]["schemas"], (code, name)
    assert {r.endpoint for r in openapi.ALL_ROUTES if r.method != "get"} >= {
        "api.create_problem",
        "api.patch_problem",
        "api.problem_transition",
        "api.add_problem_photo",
        "api.link_duplicate",
        "api.set_category_deadline",
        "api.import_preview",
        "api.import_confirm",
    }
