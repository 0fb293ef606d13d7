"""The field routes (geoapp/web/views/field.py) through the real app on SQLite and PostGIS: a
report from a phone stored once per client id, its photos without metadata, a unit's work
list and rectification with an after-photo, the service worker and the manifest."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import pytest
from field_helpers import camera_jpeg, form_body
from intake_helpers import inside_point, png_bytes, snapshot
from webclient import make_app, sign_in

from geoapp.core.model import OPEN_STATUSES


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


def as_role(app, role):
    client = sign_in(app.test_client(), role)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def post_form(client, url, fields, photos=()):
    body, content_type = form_body(fields, photos)
    return client.post(url, data=body, content_type=content_type)


def send(client, report, photos=()):
    return post_form(client, "/field/api/reports", {"report": json.dumps(report)}, photos)


def a_report(store, **extra):
    _area, lon, lat = inside_point(store, kind="back_alley")
    return {
        "client_id": str(uuid.uuid4()),
        "lon": lon,
        "lat": lat,
        "category": "litter",
        "round": "第三轮",
        "description": "垃圾堆放",
        "accuracy_m": 12.5,
        **extra,
    }


def test_a_report_sent_again_is_stored_once(app, store):
    inspector = as_role(app, "inspector")
    report = a_report(store)
    photo = camera_jpeg(orientation=6)
    before = store.count_problems()
    first = send(inspector, report, [photo])
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    pk = body["problem"]["id"]
    assert body["assignment"]["assigned"] and body["assignment"]["responsible_unit"]["name"]
    # the answer was lost: the phone sends the same report, with the same id, twice more
    for _ in range(2):
        again = send(inspector, report, [photo])
        assert again.status_code == 200, again.get_json()
        assert again.get_json()["problem"]["id"] == pk
        assert again.get_json()["assignment"] == body["assignment"]
    assert store.count_problems() == before + 1
    row = store.get_problem(pk)
    assert row["client_id"] == report["client_id"] and row["location_accuracy_m"] == 12.5
    assert row["reporter"] == "inspector"
    photos = store.problem_photos(pk)
    assert len(photos) == 1
    # stored without the camera, the time, the GPS position, the comment
    data = (Path(app.config["UPLOAD_DIR"]) / "photos" / photos[0]["stored_name"]).read_bytes()
    for word in (b"HUAWEI", b"Zhang San", b"13800138000", b"2026:12:07"):
        assert word not in data
    assert photos[0]["size_bytes"] == len(data)


def test_a_retry_completes_the_photos_that_did_not_arrive(app, store):
    inspector = as_role(app, "inspector")
    report = a_report(store)
    one, two = camera_jpeg(orientation=1), png_bytes(8, 6)
    pk = send(inspector, report, [one]).get_json()["problem"]["id"]
    again = send(inspector, report, [one, two])
    assert again.status_code == 200
    assert [p["content_type"] for p in store.problem_photos(pk)] == ["image/jpeg", "image/png"]
    assert len(again.get_json()["photos"]) == 2


def test_the_same_id_at_once_from_many_requests_stores_one_problem(app, store):
    """Six tabs or retries at the same moment: one stores the problem, the others answer
    it; a request the database turned away (SQLite allows one writer; 503, Retry-After) is
    sent again by the phone and answers it too."""
    report = a_report(store)
    before = store.count_problems()
    clients = [as_role(app, "inspector") for _ in range(6)]
    answers: dict = {}

    def post(i):
        answers[i] = send(clients[i], report)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = [answers[i].status_code for i in range(6)]
    assert set(codes) <= {200, 201, 503}, codes
    for i in range(6):
        if codes[i] == 503:
            assert answers[i].headers["Retry-After"]
            answers[i] = send(clients[i], report)
            codes[i] = answers[i].status_code
    assert codes.count(201) == 1 and codes.count(200) == 5, codes
    assert len({answers[i].get_json()["problem"]["id"] for i in range(6)}) == 1
    assert store.count_problems() == before + 1


@pytest.mark.parametrize(
    "change",
    [{"description": "另一处"}, {"category": "overflowing_bin"}, {"lon": 0.001}, {"lat": -0.001}],
    ids=["description", "category", "lon", "lat"],
)
def test_an_id_reused_for_another_report_is_a_conflict(app, store, change):
    inspector = as_role(app, "inspector")
    report = a_report(store)
    assert send(inspector, report).status_code == 201
    other = dict(report)
    for key, value in change.items():
        other[key] = other[key] + value if isinstance(value, float) else value
    before = snapshot(store)
    r = send(inspector, other, [camera_jpeg()])
    assert r.status_code == 409, r.get_json()
    assert report["client_id"] in r.get_json()["message"]
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("client_id", None),
        ("client_id", ""),
        ("client_id", "short"),
        ("client_id", "x" * 65),
        ("client_id", "a b c d e f g h"),
        ("client_id", "<script>alert(1)"),
        ("client_id", 12345678),
        ("client_id", ["0123456789"]),
        ("accuracy_m", -1),
        ("accuracy_m", 100_001),
        ("accuracy_m", "12"),
        ("accuracy_m", True),
        ("accuracy_m", float("nan")),
        ("accuracy_m", float("inf")),
    ],
)
def test_bad_field_values_are_refused_naming_the_field(shared_app, read_store, field, value):
    inspector = as_role(shared_app, "inspector")
    report = a_report(read_store)
    if value is None:
        report.pop(field)
    else:
        report[field] = value
    before = snapshot(read_store)
    r = send(inspector, report, [camera_jpeg()])
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["message"].startswith(field), r.get_json()
    assert snapshot(read_store) == before


GIF = b"GIF89a" + b"\0" * 64
BIG = b"\xff\xd8\xff\xe0" + b"\0" * 2**20


@pytest.mark.parametrize(
    ("fields", "photos", "status"),
    [
        ({}, [], 400),  # no report field
        ({"report": "{not json"}, [], 400),
        ({"report": "[1, 2]"}, [], 400),
        ({"report": "GOOD"}, [GIF], 415),
        ({"report": "GOOD"}, [b""], 400),
        ({"report": "GOOD"}, [BIG], 413),
        ({"report": "GOOD"}, [png_bytes()] * 7, 400),
        ({"report": "NO_CATEGORY"}, [], 400),
    ],
    ids=["missing", "not-json", "not-object", "gif", "empty", "too-large", "seven", "category"],
)
def test_a_bad_request_stores_nothing(shared_app, read_store, fields, photos, status):
    inspector = as_role(shared_app, "inspector")
    report = a_report(read_store)
    if fields.get("report") == "GOOD":
        fields = {"report": json.dumps(report)}
    elif fields.get("report") == "NO_CATEGORY":
        fields = {"report": json.dumps({**report, "category": None})}
    before = snapshot(read_store)
    r = post_form(inspector, "/field/api/reports", fields, photos)
    assert r.status_code == status, r.get_json()
    assert r.get_json()["message"]
    assert snapshot(read_store) == before
    assert read_store.problem_by_client_id(report["client_id"]) is None


@pytest.mark.parametrize("role", ["unit", "planner", None])
def test_only_reporting_roles_may_report(shared_app, read_store, role):
    client = as_role(shared_app, role)
    r = send(client, a_report(read_store))
    assert r.status_code == (401 if role is None else 403)
    page = client.get("/field/")
    assert page.status_code in (302, 403) if role else page.status_code == 302


def open_problems_of(store, unit):
    return [
        p
        for p in store.problems({"responsible_unit_id": unit})
        if p["status"] in OPEN_STATUSES or p["status"] == "open"
    ]


def test_the_unit_page_lists_its_open_problems_overdue_first_then_by_deadline(app, store):
    unit = as_role(app, "unit")
    own = open_problems_of(store, unit.unit_id)
    assert len(own) >= 3
    page = unit.get("/field/unit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    ids = [int(x) for x in __import__("re").findall(r'<li class="card[^"]*" data-id="(\d+)"', html)]
    assert sorted(ids) == sorted(p["id"] for p in own)  # every open problem, nothing else
    listed = app.test_client()  # the API's view of the same problems, for their deadlines
    sign_in(listed, "admin")
    props = {
        f["id"]: f["properties"]
        for f in listed.get(
            f"/api/problems.geojson?unit={unit.unit_id}&status=reported&status=assigned"
            "&status=rectifying&status=open"
        ).get_json()["features"]
    }
    keys = [
        (not props[i]["overdue"], props[i]["due_at"] is None, props[i]["due_at"] or "") for i in ids
    ]
    assert keys == sorted(keys)
    overdue = sum(1 for i in ids if props[i]["overdue"])
    assert f"{len(ids)}" in html and html.count("overdue-chip") == overdue
    # another unit's list is not for a unit account; staff name the unit
    assert unit.get("/field/unit?unit=NOPE").status_code == 200  # its own, whatever it asks
    coordinator = as_role(app, "coordinator")
    assert coordinator.get("/field/unit").status_code == 400
    assert coordinator.get(f"/field/unit?unit={unit.unit_id}").status_code == 200
    assert coordinator.get("/field/unit?unit=NOPE").status_code == 404
    assert as_role(app, "inspector").get("/field/unit").status_code == 403


def rectify(client, pk, photos, note="已清理"):
    return post_form(client, f"/field/api/problems/{pk}/rectify", {"note": note}, photos)


def test_a_unit_rectifies_its_problem_with_an_after_photo(app, store):
    unit = as_role(app, "unit")
    problem = next(p for p in open_problems_of(store, unit.unit_id) if p["status"] != "rectifying")
    pk = problem["id"]
    before_photos = len(store.problem_photos(pk))
    assert rectify(unit, pk, []).status_code == 400  # a photo is required
    r = rectify(unit, pk, [camera_jpeg(orientation=3)])
    assert r.status_code == 200, r.get_json()
    assert store.get_problem(pk)["status"] == "rectified"
    photos = store.problem_photos(pk)
    assert len(photos) == before_photos + 1 and photos[-1]["stage"] == "after"
    kinds = [e["kind"] for e in store.problem_events(pk)][-3:]
    assert kinds == ["photo_added", "status", "status"]
    assert store.problem_events(pk)[-1]["note"] == "已清理"
    # the answer was lost: sent again, nothing is added
    again = rectify(unit, pk, [camera_jpeg(orientation=3)])
    assert again.status_code == 200 and len(store.problem_photos(pk)) == before_photos + 1
    # the coordinator's problem page: before and after side by side
    page = as_role(app, "coordinator").get(f"/problems/{pk}").get_data(as_text=True)
    assert 'class="photo-pair"' in page
    after = page[page.index("photos-after") :]
    assert f"/photos/{photos[-1]['id']}" in after
    assert (
        f"/photos/{photos[-1]['id']}"
        not in page[page.index("photos-before") : page.index("photos-after")]
    )


def test_a_unit_cannot_rectify_what_is_not_its_own_or_closed(app, store):
    unit = as_role(app, "unit")
    others = [p for p in store.problems({}) if p["responsible_unit_id"] not in (unit.unit_id, None)]
    other = next(p for p in others if p["status"] in OPEN_STATUSES)
    before = snapshot(store)
    assert rectify(unit, other["id"], [camera_jpeg()]).status_code == 403
    verified = [
        p for p in store.problems({"responsible_unit_id": unit.unit_id, "status": "verified"})
    ]
    if verified:
        r = rectify(unit, verified[0]["id"], [camera_jpeg()])
        assert r.status_code == 409, r.get_json()
    assert rectify(unit, 99999999, [camera_jpeg()]).status_code == 404
    assert rectify(as_role(app, "inspector"), other["id"], [camera_jpeg()]).status_code == 403
    assert snapshot(store) == before


def test_the_web_app_files(shared_app):
    anonymous = shared_app.test_client()
    sw = anonymous.get("/field/sw.js")
    assert sw.status_code == 200 and sw.mimetype == "text/javascript"
    assert "no-cache" in sw.headers["Cache-Control"]
    settings = json.loads(sw.get_data(as_text=True).split("\n", 1)[0][len("self.FIELD_SW = ") : -1])
    assert settings["pages"] == ["/field/", "/field/visit", "/field/patrol"]
    for url in settings["files"]:  # every file it keeps exists
        served = anonymous.get(url)
        assert served.status_code == 200, url
        served.close()
    manifest = anonymous.get("/field/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["start_url"] == body["scope"] == "/field/" and body["name"] == "现场上报"
    page = as_role(shared_app, "inspector").get("/field/", headers={"Accept-Language": "zh"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "使用我的位置" in html and 'capture="environment"' in html
    assert '<link rel="manifest" href="/field/manifest.webmanifest">' in html
    assert '"queue": "geoapp-field-inspector"' in html  # the phone's queue is per account


def test_photos_sent_to_the_json_api_lose_their_metadata_too(app, store):
    """The same rule for every upload (geoapp.services.intake.add_photo), not only the
    phone's: the desktop's problem page and API clients send camera files as they are."""
    from geoapp.io.photos import exif_orientation

    pk = store.problems({})[0]["id"]
    coordinator = as_role(app, "coordinator")
    r = post_form(coordinator, f"/api/problems/{pk}/photos", {}, [camera_jpeg(orientation=8)])
    assert r.status_code == 201, r.get_json()
    photo = store.problem_photos(pk)[-1]
    data = (Path(app.config["UPLOAD_DIR"]) / "photos" / photo["stored_name"]).read_bytes()
    for word in (b"HUAWEI", b"Zhang San", b"13800138000", b"2026:12:07", b"xmpmeta"):
        assert word not in data
    assert exif_orientation(data[data.index(b"Exif\0\0") + 6 :]) == 8  # still shown upright
    assert photo["size_bytes"] == len(data) == r.get_json()["bytes"]
