"""Real answers of every documented ``/api/`` route against the schemas of the OpenAPI
document the app generates from its pydantic models (geoapp/web/schemas), on both backends:
the reads, and every write (report, edit, workflow, photo, duplicates, deadline, import,
the boundary editor from draft to rollback) as an admin on the demo county.  Refusals are
checked against the ``Error`` schema; every operation of the document must have been called.
"""

from __future__ import annotations

import io
import json

import jsonschema_rs
import pytest
from intake_helpers import inside_point, png_bytes
from pydantic import BaseModel

from geoapp.web import openapi

HEADER = "编号,检查轮次,问题类别,问题描述,扣分,上报时间,经度,纬度"


class Checker:
    """Calls the app and checks each answer against the document's declared answer."""

    def __init__(self, client):
        self.client = client
        self.doc = client.get("/api/openapi.json").get_json()
        self.components = self.doc["components"]
        self.called: set[tuple[str, str]] = set()
        self.failures: list[str] = []

    def call(self, method: str, path: str, status: int, url: str | None = None, **kwargs):
        url = url or path
        response = self.client.open(url, method=method, **kwargs)
        where = f"{method} {url} -> {response.status_code}"
        assert response.status_code == status, (where, response.get_data(as_text=True)[:800])
        operation = self.doc["paths"][path][method.lower()]
        self.called.add((path, method.lower()))
        declared = operation["responses"].get(str(status))
        if declared is None:
            self.failures.append(f"{where}: status not declared")
            return response
        if status == 304:
            return response
        media = response.mimetype
        content = declared.get("content", {})
        if media not in content:
            self.failures.append(f"{where}: {media} not declared ({list(content)})")
            return response
        schema = content[media]["schema"]
        if self.components["schemas"][schema["$ref"].rsplit("/", 1)[1]].get("format") == "binary":
            return response
        validator = jsonschema_rs.Draft202012Validator({**schema, "components": self.components})
        body = response.get_json()
        errors = [f"{e.instance_path}: {e.message}"[:300] for e in validator.iter_errors(body)]
        if errors:
            self.failures.append(f"{where}:\n  " + "\n  ".join(errors[:8]))
        return response


@pytest.fixture
def checker(app, client, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return Checker(client)


def _sheet(store) -> bytes:
    _, x, y = inside_point(store, kind="back_alley")
    rows = [
        f"N1,第三轮复查,垃圾桶满溢,桶满溢,0.5,2026-11-01 09:30,{x},{y}",
        "N3,第三轮复查,不存在的类别,x,1,2026-11-01 10:00,114.9,28.2",
        "N4,第三轮复查,垃圾桶满溢,县外,1,2026-11-01 10:00,116.5,29.2",
    ]
    return ("\n".join([HEADER, *rows]) + "\n").encode("gbk")


def _reads(c: Checker, pk: int) -> None:
    bbox = "114.8,28.1,115.1,28.4"
    c.call("GET", "/api/lookup", 200, "/api/lookup?lon=114.92&lat=28.22")
    c.call("GET", "/api/lookup", 200, "/api/lookup?lon=116.5&lat=29.2")
    c.call("GET", "/api/lookup", 400, "/api/lookup?lon=x&lat=1")
    c.call("GET", "/api/districts", 200)
    etag = c.call("GET", "/api/districts", 200, "/api/districts?display_crs=gcj02").headers["ETag"]
    c.call(
        "GET",
        "/api/districts",
        304,
        "/api/districts?display_crs=gcj02",
        headers={"If-None-Match": etag},
    )
    c.call("GET", "/api/areas", 200, f"/api/areas?bbox={bbox}&simplify=5")
    c.call("GET", "/api/units", 200)
    c.call("GET", "/api/problems", 200, "/api/problems?limit=3&offset=2")
    c.call("GET", "/api/problems", 400, "/api/problems?limit=abc")
    c.call("GET", "/api/problems.geojson", 200, "/api/problems.geojson?status=assigned")
    path = "/api/problems/{problem_pk}"
    c.call("GET", path, 200, f"/api/problems/{pk}")
    c.call("GET", path, 200, f"/api/problems/{pk}?display_crs=bd09")
    c.call("GET", path, 404, "/api/problems/2147483647")
    for zoom in (3, 12, 18):
        c.call("GET", "/api/problems/clusters", 200, f"/api/problems/clusters?zoom={zoom}")
    c.call("GET", "/api/search", 200, "/api/search?q=路")
    c.call("GET", "/api/search", 200, "/api/search?q=D1")
    c.call("GET", "/api/summary", 200)
    c.call("GET", "/api/summary", 200, "/api/summary?status=rectified,verified")
    for group in ("unit", "district", "category"):
        c.call("GET", "/api/ledger", 200, f"/api/ledger?group={group}")
    c.call("GET", "/api/ledger", 400, "/api/ledger?group=nope")
    c.call("GET", "/api/openapi.json", 200)


def _intake(c: Checker, store) -> None:
    _, x, y = inside_point(store)
    made = []
    for body in (
        {"lon": x, "lat": y, "category": "litter", "round": "R", "description": "d"},
        {"lon": 116.5, "lat": 29.2, "category": "litter", "round": "R"},
        {"lon": x, "lat": y, "category": "litter", "round": "R", "reporter": "r"},
    ):
        made.append(c.call("POST", "/api/problems", 201, json=body).get_json()["problem"]["id"])
    c.call("POST", "/api/problems", 400, json={"lon": "x", "lat": y})
    c.call("POST", "/api/problems", 400, json=[1])
    first, outside, again = made
    path = "/api/problems/{problem_pk}"
    c.call("PATCH", path, 200, f"/api/problems/{outside}", json={"lon": x, "lat": y, "note": "n"})
    c.call("PATCH", path, 400, f"/api/problems/{outside}", json={"nope": 1})
    c.call("GET", path, 200, f"/api/problems/{outside}")
    path = "/api/problems/{problem_pk}/transitions"
    c.call("POST", path, 200, f"/api/problems/{first}/transitions", json={"to": "assigned"})
    c.call("POST", path, 409, f"/api/problems/{first}/transitions", json={"to": "verified"})
    photo = {"photo": (io.BytesIO(png_bytes()), "p.png")}
    c.call(
        "POST",
        "/api/problems/{problem_pk}/photos",
        201,
        f"/api/problems/{first}/photos",
        data=photo,
    )
    c.call(
        "POST", "/api/problems/{problem_pk}/photos", 400, f"/api/problems/{first}/photos", data={}
    )
    path = "/api/problems/{problem_pk}/duplicate"
    c.call("PUT", path, 200, f"/api/problems/{again}/duplicate", json={"duplicate_of": first})
    c.call("GET", "/api/problems/{problem_pk}", 200, f"/api/problems/{first}")
    c.call("GET", "/api/problems/{problem_pk}", 200, f"/api/problems/{again}")
    c.call("PUT", path, 400, f"/api/problems/{again}/duplicate", json={})
    c.call("DELETE", path, 200, f"/api/problems/{again}/duplicate", json={"note": "n"})
    path = "/api/categories/{category}"
    c.call("PUT", path, 200, "/api/categories/litter", json={"deadline": "3d"})
    c.call("PUT", path, 200, "/api/categories/litter", json={"deadline": None})
    c.call("PUT", path, 400, "/api/categories/litter", json={"deadline": "9999d"})
    c.call("PUT", path, 404, "/api/categories/nope", json={"deadline": "3d"})
    sheet = {"file": (io.BytesIO(_sheet(store)), "sheet.csv")}
    preview = c.call("POST", "/api/imports", 200, data=sheet).get_json()
    path = "/api/imports/{token}"
    c.call("POST", path, 400, preview["confirm"], json={})
    c.call("POST", path, 400, preview["confirm"], json={"skip_bad": "yes"})
    c.call("POST", path, 200, preview["confirm"], json={"skip_bad": True})


def _editor(c: Checker) -> None:
    c.call("GET", "/api/drafts", 200)
    state = c.call("POST", "/api/drafts", 201, json={"message": "m"}).get_json()
    c.call("POST", "/api/drafts", 400, json={"parent_id": "x"})
    gid, version = state["generation"]["id"], state["generation"]["version"]
    c.call("GET", "/api/drafts", 200)
    c.call("GET", "/api/drafts/{generation_id}", 200, f"/api/drafts/{gid}")
    area = state["areas"]["features"][0]
    unit = next(
        f["properties"]["responsible_unit_id"]
        for f in state["areas"]["features"]
        if f["properties"]["responsible_unit_id"] != area["properties"]["responsible_unit_id"]
    )
    op = {"type": "reassign", "area_id": area["id"], "responsible_unit_id": unit}
    path = "/api/drafts/{generation_id}/edits"
    state = c.call(
        "POST", path, 200, f"/api/drafts/{gid}/edits", json={"version": version, "op": op}
    ).get_json()
    c.call("POST", path, 409, f"/api/drafts/{gid}/edits", json={"version": version, "op": op})
    c.call("POST", path, 400, f"/api/drafts/{gid}/edits", json={"op": op})
    version = state["generation"]["version"]
    for step in ("undo", "redo"):
        state = c.call(
            "POST",
            f"/api/drafts/{{generation_id}}/{step}",
            200,
            f"/api/drafts/{gid}/{step}",
            json={"version": version},
        ).get_json()
        version = state["generation"]["version"]
    c.call("GET", "/api/drafts/{generation_id}/validation", 200, f"/api/drafts/{gid}/validation")
    c.call("GET", "/api/drafts/{generation_id}/preview", 200, f"/api/drafts/{gid}/preview")
    path = "/api/drafts/{generation_id}/publish"
    body = {"version": version, "message": "reassigned", "accept_warnings": True, "note": "ok"}
    published = c.call("POST", path, 200, f"/api/drafts/{gid}/publish", json=body).get_json()
    c.call("POST", path, 400, f"/api/drafts/{gid}/publish", json={"version": "x"})
    c.call("GET", "/api/generations", 200)
    c.call(
        "GET", "/api/generations/compare", 200, f"/api/generations/compare?a=1&b={published['id']}"
    )
    c.call("GET", "/api/generations/compare", 400, "/api/generations/compare?a=1")
    c.call(
        "POST",
        "/api/generations/{generation_id}/rollback",
        200,
        "/api/generations/1/rollback",
        json={},
    )
    export = c.call(
        "GET",
        "/api/generations/{generation_id}/areas.geojson",
        200,
        "/api/generations/1/areas.geojson",
    )
    c.call(
        "GET", "/api/generations/{generation_id}/areas.gpkg", 200, "/api/generations/1/areas.gpkg"
    )
    upload = {"file": (io.BytesIO(export.get_data()), "areas.geojson"), "message": "up"}
    uploaded = c.call("POST", "/api/drafts/upload", 201, data=upload).get_json()
    c.call("POST", "/api/drafts/upload", 400, data={})
    path = "/api/drafts/{generation_id}"
    c.call("DELETE", path, 200, f"/api/drafts/{uploaded['generation']['id']}")
    c.call("DELETE", path, 409, "/api/drafts/1")


def _coverage(c: Checker, app, store) -> None:
    from webclient import sign_in

    from geoapp.services.accounts import demo_unit

    point = store.inspection_points()[0]
    c.call("GET", "/api/points", 200)
    c.call("GET", "/api/points", 200, f"/api/points?lon={point['lon']}&lat={point['lat']}")
    c.call("GET", "/api/points", 400, "/api/points?lon=1")
    path = "/api/points/{point_pk}"
    c.call("PATCH", path, 200, f"/api/points/{point['id']}", json={"name": "改名"})
    c.call("PATCH", path, 400, f"/api/points/{point['id']}", json={"kind": "castle"})
    visit = {"point_id": point["point_id"], "round": "R", "result": "clean"}
    c.call("POST", "/api/visits", 201, json=visit)
    c.call("POST", "/api/visits", 400, json={**visit, "result": "dirty"})
    from field_helpers import camera_jpeg, form_body

    data, kind = form_body({"report": json.dumps(visit)}, [camera_jpeg()])
    seen = c.call("POST", "/api/visits", 201, data=data, content_type=kind).get_json()["visit"]
    c.call("GET", "/api/visits/{visit_id}/photo", 200, seen["photo_url"])
    c.call("GET", "/api/visits/{visit_id}/photo", 404, "/api/visits/2147483647/photo")
    c.call("GET", "/api/coverage", 200)
    c.call("GET", "/api/coverage/map", 200)
    areas = store.areas()
    own = areas[areas.responsible_unit_id == demo_unit(store)].iloc[0]
    spot = own.geometry.representative_point()
    admin, c.client = c.client, sign_in(app.test_client(), "unit")
    body = {"area_id": own.area_id, "lon": spot.x, "lat": spot.y, "client_id": "schema-check-1"}
    c.call("POST", "/api/checkins", 201, json=body)
    c.call("POST", "/api/checkins", 422, json={**body, "lon": 114.0, "client_id": "schema-2x"})
    data, kind = form_body(
        {"report": json.dumps({**body, "client_id": "schema-3"})}, [camera_jpeg()]
    )
    done = c.call("POST", "/api/checkins", 201, data=data, content_type=kind).get_json()
    c.call("GET", "/api/checkins/{checkin_id}/photo", 200, done["checkin"]["photo_url"])
    c.call("GET", "/api/checkins/{checkin_id}/photo", 404, "/api/checkins/2147483647/photo")
    c.client = admin


def test_every_documented_answer_matches_its_schema(app, checker):
    store = app.extensions["geoapp.store"]
    pk = int(store.problem_frame()["id"].min())
    _reads(checker, pk)
    _intake(checker, store)
    _editor(checker)
    _coverage(checker, app, store)
    assert not checker.failures, "\n\n".join(checker.failures)
    documented = {(p, m) for p, ops in checker.doc["paths"].items() for m in ops}
    assert documented == checker.called


def test_the_document_is_built_from_the_models():
    """Every operation's answer and body is a model's schema: nothing hand-written."""
    for route in openapi.ALL_ROUTES:
        assert isinstance(route.response, type) and issubclass(route.response, BaseModel)
        assert route.body is None or issubclass(route.body, BaseModel), route.endpoint


def _json_writes(app, client) -> list[tuple[str, str, type]]:
    """(method, URL, body model) of every route taking a JSON body, with real ids."""
    store = app.extensions["geoapp.store"]
    pk = int(store.problem_frame()["id"].min())
    draft = client.post("/api/drafts", json={}).get_json()["generation"]["id"]
    values = {
        "problem_pk": pk,
        "generation_id": draft,
        "category": "litter",
        "token": "a" * 24,
        "point_pk": 1,
    }
    out = []
    for route in openapi.ALL_ROUTES:
        if route.body is None or route.body_media != "application/json":
            continue
        url = route.path.format(**values)
        if route.endpoint == "api.generation_rollback":
            url = route.path.format(generation_id=1)
        out.append((route.method.upper(), url, route.body))
    return out


def test_a_malformed_body_is_a_400_naming_the_field(app, client):
    """Every field of every JSON body, sent as a value no field takes (a nested list), and a
    body that is not an object: 400 ``bad_input`` naming the field, in Chinese by default and
    in English when asked; nothing is written."""
    store = app.extensions["geoapp.store"]
    writes = _json_writes(app, client)
    before = (store.count_problems(), len(store.list_generations()))
    assert len(writes) >= 10
    for lang, sep in (("zh", "："), ("en", ": ")):
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        for method, url, model in writes:
            for name, field in model.model_fields.items():
                field = field.alias or name
                r = client.open(url, method=method, json={field: [[]]})
                answer = r.get_json()
                assert r.status_code == 400, (method, url, field, answer)
                assert answer["error"] == "bad_input", (method, url, field, answer)
                faults = [answer["message"], *answer.get("details", [])]
                # a list field may name the item: problems[0]
                named = (field + sep, field + "[")
                assert any(f.startswith(named) for f in faults), (url, field, faults)
            r = client.open(url, method=method, json=[1])
            assert r.status_code == 400, (method, url, r.get_json())
            assert r.get_json()["message"].startswith("body" + sep), r.get_json()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    answer = client.post("/api/problems", json={"nope": 1}).get_json()
    known = "lon, lat, crs, category, round, deduction, description, reported_at, reporter"
    assert f"nope: unknown field (known: {known}, problem_id, duplicate_of)" in answer["details"]
    message = client.post("/api/problems", json={"lat": 1}).get_json()["message"]
    assert message == "lon: is required", message
    url = next(u for m, u, model in writes if u.endswith("/edits"))
    message = client.post(url, json={"version": True, "op": {}}).get_json()["message"]
    assert message == "version: must be a whole number, got True", message
    assert (store.count_problems(), len(store.list_generations())) == before


def test_the_filter_parameters_are_the_parsers():
    """The documented problem filters are exactly those geoapp.services.query_params parses, with its
    limits (page size, zoom, simplification) and its display CRSs."""
    from geoapp.services import query_params
    from geoapp.web.schemas import ledger, map

    assert set(map.ProblemFilters.model_fields) == set(query_params.FILTER_PARAMS)
    assert set(ledger.LedgerQuery.model_fields) == {*query_params.FILTER_PARAMS, "group"}
    limit = map.PagedQuery.model_json_schema()["properties"]["limit"]
    assert (limit["maximum"], limit["default"]) == (
        query_params.MAX_LIMIT,
        query_params.DEFAULT_LIMIT,
    )
    assert map.ClustersQuery.model_json_schema()["properties"]["zoom"]["maximum"] == 24
    crs = map.DisplayQuery.model_json_schema()["properties"]["display_crs"]["enum"]
    assert tuple(crs) == query_params.DISPLAY_CRS


def test_a_long_bad_value_is_echoed_cut_short(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    answer = client.post("/api/drafts", json={"parent_id": "9" * 5000 + "x"}).get_json()
    assert answer["error"] == "bad_input" and answer["message"].startswith("parent_id: ")
    assert len(answer["message"]) < 120, answer["message"]
