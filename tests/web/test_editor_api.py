"""The boundary editor's JSON API on both backends: drafts, edits, 409, undo/redo,
validation, preview, publish, rollback, compare, export, upload."""

from __future__ import annotations

import io
import json
from collections import Counter

import geopandas as gpd
import pytest
import shapely
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from geoapp.core.model import OPEN_STATUSES


@pytest.fixture
def client(client):
    """The admin client, reading English: these tests check the English refusal texts
    (tests/web/test_error_language.py checks that the same refusals come in Chinese by default)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def drafter(reader):
    """The same, on the module's shared app (tests/web/conftest.py): for the tests that change
    nothing but a new draft of their own (no publishing, no rollback), which no other test
    reads."""
    reader.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return reader


def post(client, url, body=None, status=200):
    response = client.post(url, json=body if body is not None else {})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_json()


def new_draft(client) -> tuple[int, int]:
    state = post(client, "/api/drafts", {}, 201)
    assert state["generation"]["status"] == "draft"
    assert state["can_undo"] is False
    return state["generation"]["id"], state["generation"]["version"]


def shared_corners(state) -> list[tuple[tuple, set]]:
    """(corner, its areas) of every exterior corner held by exactly two areas, sorted."""
    owners: dict[tuple, set] = {}
    for f in state["areas"]["features"]:
        geom = f["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for poly in polys:
            for xy in poly[0]:
                owners.setdefault(tuple(xy), set()).add(f["id"])
    return sorted((xy, ids) for xy, ids in owners.items() if len(ids) == 2)


def shared_vertex(state) -> tuple[list[float], list[str]]:
    """A vertex held by exactly two areas, and those areas."""
    pairs = shared_corners(state)
    xy, ids = pairs[len(pairs) // 2]
    return list(xy), sorted(ids)


def busy_area(store) -> tuple[str, str]:
    """An area with open and closed problems, and a unit other than its own."""
    problems = store.problems({"assigned": True})
    both = Counter()
    kinds: dict[str, set] = {}
    for p in problems:
        kinds.setdefault(p["area_id"], set()).add(p["status"] in OPEN_STATUSES)
        both[p["area_id"]] += 1
    area = next(a for a, _ in both.most_common() if kinds[a] == {True, False})
    own = next(p["responsible_unit_id"] for p in problems if p["area_id"] == area)
    other = next(u["unit_id"] for u in store.list_units() if u["unit_id"] != own)
    return area, other


def test_move_a_shared_vertex_preview_and_publish(client):
    gid, version = new_draft(client)
    state = get(client, f"/api/drafts/{gid}")
    src, owners = shared_vertex(state)
    dst = [src[0] + 0.0002, src[1] + 0.0001]
    state = post(
        client,
        f"/api/drafts/{gid}/edits",
        {"version": version, "op": {"type": "move_vertex", "from": src, "to": dst}},
    )
    assert state["changed"] == owners
    assert state["generation"]["version"] == version + 1
    assert state["can_undo"] is True
    report = get(client, f"/api/drafts/{gid}/validation")
    assert report["errors"] == 0, report["findings"]
    preview = get(client, f"/api/drafts/{gid}/preview")
    assert {c["area_id"] for c in preview["changed_areas"]} == set(owners)
    for p in preview["problems"]:
        assert p["before"]["area_id"] in owners or p["after"]["area_id"] in owners
    # the published generation is untouched until publishing
    current = get(client, "/api/generations")["generations"][0]
    assert current["is_current"] and current["status"] == "published"
    body = {"version": state["generation"]["version"], "message": "move a vertex"}
    if report["warnings"]:
        body |= {"accept_warnings": True, "note": "checked"}
    published = post(client, f"/api/drafts/{gid}/publish", body)
    assert published["status"] == "published" and published["is_current"]
    assert published["publish_message"].startswith("move a vertex")
    areas = get(client, f"/api/drafts/{gid}")["areas"]["features"]
    moved = [f for f in areas if f["id"] in owners]
    for f in moved:
        assert dst in [list(xy) for ring in [f["geometry"]["coordinates"][0]] for xy in ring]


def test_reassign_moves_open_problems_and_closed_ones_keep_theirs(app, client):
    store = app.extensions["geoapp.store"]
    area, unit = busy_area(store)
    gid, version = new_draft(client)
    state = post(
        client,
        f"/api/drafts/{gid}/edits",
        {
            "version": version,
            "op": {"type": "reassign", "area_id": area, "responsible_unit_id": unit},
        },
    )
    preview = get(client, f"/api/drafts/{gid}/preview")
    in_area = store.problems({"area_id": area})
    assert {p["id"] for p in preview["problems"]} >= {
        p["id"] for p in in_area if p["rule_id"] is None
    }
    by_unit = {u["unit_id"]: u for u in preview["units"]}
    assert unit in by_unit
    assert by_unit[unit]["problems_after"] > by_unit[unit]["problems_before"]
    applies = {p["id"]: p["applies"] for p in preview["problems"]}
    assert True in applies.values() and False in applies.values()
    published = post(
        client,
        f"/api/drafts/{gid}/publish",
        {"version": state["generation"]["version"], "message": "unit change"},
    )
    assert published["reassigned"] > 0 and published["kept"] > 0
    for pk, moved in applies.items():
        p = store.get_problem(pk)
        events = [e["kind"] for e in store.problem_events(pk)]
        if moved:
            assert p["responsible_unit_id"] == unit and p["generation_id"] == gid
            assert "reassigned" in events
        else:
            assert p["responsible_unit_id"] != unit
            assert "assignment_kept" in events


def test_a_stale_version_is_a_409_and_nothing_is_lost(drafter):
    gid, version = new_draft(drafter)
    first = {"type": "reassign", "area_id": "A001", "name": "planner one"}
    second = {"type": "reassign", "area_id": "A002", "name": "planner two"}
    post(drafter, f"/api/drafts/{gid}/edits", {"version": version, "op": first})
    conflict = post(drafter, f"/api/drafts/{gid}/edits", {"version": version, "op": second}, 409)
    assert conflict["error"] == "stale_version"
    assert conflict["current_version"] == version + 1
    assert conflict["op"] == second
    assert "someone else" in conflict["message"]
    # the second planner applies the returned op again on the current version
    post(
        drafter,
        f"/api/drafts/{gid}/edits",
        {"version": conflict["current_version"], "op": conflict["op"]},
    )
    names = {
        f["id"]: f["properties"]["name"]
        for f in get(drafter, f"/api/drafts/{gid}")["areas"]["features"]
    }
    assert names["A001"] == "planner one" and names["A002"] == "planner two"
    stale_publish = post(
        drafter, f"/api/drafts/{gid}/publish", {"version": version, "message": "x"}, 409
    )
    assert stale_publish["current_version"] == version + 2


def test_undo_redo_and_split(drafter):
    gid, version = new_draft(drafter)
    state = get(drafter, f"/api/drafts/{gid}")
    feature = next(f for f in state["areas"]["features"] if f["id"] == "A050")
    ring = feature["geometry"]["coordinates"][0]
    xs = [x for x, _ in ring]
    ys = [y for _, y in ring]
    midx = (min(xs) + max(xs)) / 2
    line = [[midx, min(ys) - 0.01], [midx + 1e-6, max(ys) + 0.01]]
    state = post(
        drafter,
        f"/api/drafts/{gid}/edits",
        {"version": version, "op": {"type": "split", "area_id": "A050", "line": line}},
    )
    assert state["changed"][0] == "A050" and len(state["changed"]) >= 2
    new_id = state["changed"][1]
    count = len(state["areas"]["features"])
    state = post(drafter, f"/api/drafts/{gid}/undo", {"version": state["generation"]["version"]})
    assert len(state["areas"]["features"]) == count - 1
    assert state["can_redo"] and not state["can_undo"]
    assert get(drafter, f"/api/drafts/{gid}/preview")["changed_areas"] == []
    state = post(drafter, f"/api/drafts/{gid}/redo", {"version": state["generation"]["version"]})
    assert new_id in {f["id"] for f in state["areas"]["features"]}
    post(drafter, f"/api/drafts/{gid}/redo", {"version": state["generation"]["version"]}, 400)
    # a new edit after an undo drops the redo stack
    state = post(drafter, f"/api/drafts/{gid}/undo", {"version": state["generation"]["version"]})
    state = post(
        drafter,
        f"/api/drafts/{gid}/edits",
        {
            "version": state["generation"]["version"],
            "op": {"type": "reassign", "area_id": "A001", "name": "x"},
        },
    )
    assert state["can_undo"] and not state["can_redo"]


def test_errors_block_publishing_and_warnings_need_a_note(drafter):
    gid, version = new_draft(drafter)
    state = get(drafter, f"/api/drafts/{gid}")
    src, owners = shared_vertex(state)
    # drag the shared vertex far away: the two areas now overlap others / self-intersect
    far = [src[0] + 0.05, src[1] + 0.05]
    state = post(
        drafter,
        f"/api/drafts/{gid}/edits",
        {"version": version, "op": {"type": "move_vertex", "from": src, "to": far}},
    )
    report = get(drafter, f"/api/drafts/{gid}/validation")
    assert report["errors"] > 0
    v = state["generation"]["version"]
    refused = post(drafter, f"/api/drafts/{gid}/publish", {"version": v, "message": "m"}, 400)
    assert "error" in refused["message"]
    state = post(drafter, f"/api/drafts/{gid}/undo", {"version": v})
    v = state["generation"]["version"]
    assert (
        "message"
        in post(drafter, f"/api/drafts/{gid}/publish", {"version": v, "message": ""}, 400)[
            "message"
        ]
    )


@pytest.mark.parametrize(
    "op, message",
    [
        ({"type": "teleport"}, "unknown edit type"),
        ({"type": "reassign", "area_id": "A001", "responsible_unit_id": "NOPE"}, "unknown unit"),
        ({"type": "split", "area_id": "A001", "line": [[0, 0]]}, "line"),
        ({"type": "merge", "area_id": "A001", "other_id": "A001"}, "two different"),
        ({"type": "move_vertex", "from": "x", "to": [1, 2]}, "lon, lat"),
        ({"type": "delete", "area_id": "ZZZ", "neighbour_id": "A001"}, "no area"),
        ({"type": "delete", "area_id": "A001", "neighbour_id": "A250"}, "do not share a border"),
        ({"type": "add", "polygon": [[114.9, 28.2], [114.9, 28.2], [114.9, 28.2]]}, "three"),
        ({"type": "add", "polygon": [[1, 2], [3]]}, "polygon"),
        ("not an object", "JSON object"),
    ],
)
def test_bad_edits_are_400_and_change_nothing(drafter, op, message):
    gid, version = new_draft(drafter)
    answer = post(drafter, f"/api/drafts/{gid}/edits", {"version": version, "op": op}, 400)
    assert message in answer["message"]
    assert get(drafter, f"/api/drafts/{gid}")["generation"]["version"] == version


def test_a_drawn_area_takes_only_uncovered_ground(drafter):
    gid, version = new_draft(drafter)
    state = get(drafter, f"/api/drafts/{gid}")
    feature = next(f for f in state["areas"]["features"] if f["id"] == "A060")
    ring = feature["geometry"]["coordinates"][0]
    # a polygon drawn inside A060 finds no uncovered ground: refused
    xs, ys = [x for x, _ in ring], [y for _, y in ring]
    square = [[min(xs), min(ys)], [max(xs), min(ys)], [max(xs), max(ys)], [min(xs), max(ys)]]
    inside = [
        [sum(xs) / len(xs) - 1e-5, sum(ys) / len(ys) - 1e-5],
        [sum(xs) / len(xs) + 1e-5, sum(ys) / len(ys) - 1e-5],
        [sum(xs) / len(xs), sum(ys) / len(ys) + 1e-5],
    ]
    refused = post(
        drafter,
        f"/api/drafts/{gid}/edits",
        {"version": version, "op": {"type": "add", "polygon": inside}},
        400,
    )
    assert "no gap" in refused["message"]
    # outside the county there is room: the new area is added and flagged as outside
    far = [[x + 0.5, y] for x, y in square]
    state = post(
        drafter,
        f"/api/drafts/{gid}/edits",
        {
            "version": version,
            "op": {"type": "add", "polygon": far, "name": "新区", "responsible_unit_id": "U01"},
        },
    )
    new_id = state["changed"][0]
    report = get(drafter, f"/api/drafts/{gid}/validation")
    assert any(f["code"] == "outside" and new_id in f["area_ids"] for f in report["findings"])


def test_bad_draft_requests(drafter):
    assert "parent_id" in post(drafter, "/api/drafts", {"parent_id": "x"}, 400)["message"]
    post(drafter, "/api/drafts", {"parent_id": 999}, 404)
    gid, version = new_draft(drafter)
    assert (
        "version"
        in post(drafter, f"/api/drafts/{gid}/edits", {"op": {"type": "reassign"}}, 400)["message"]
    )
    assert (
        "nothing to undo"
        in post(drafter, f"/api/drafts/{gid}/undo", {"version": version}, 400)["message"]
    )
    assert drafter.delete(f"/api/drafts/{gid}").status_code == 200
    get(drafter, f"/api/drafts/{gid}", 404)
    assert drafter.delete("/api/drafts/1").status_code == 409
    get(drafter, "/api/generations/1/areas.shp", 404)


def test_published_generations_cannot_be_edited(drafter):
    answer = post(
        drafter,
        "/api/drafts/1/edits",
        {"version": 1, "op": {"type": "reassign", "area_id": "A001", "name": "x"}},
        409,
    )
    assert "published" in answer["message"]
    get(drafter, "/api/drafts/999", 404)


def test_publish_rollback_compare_round_trip(app, client):
    store = app.extensions["geoapp.store"]
    area, unit = busy_area(store)
    before = {p["id"]: p["responsible_unit_id"] for p in store.problems({"area_id": area})}
    gid, version = new_draft(client)
    state = post(
        client,
        f"/api/drafts/{gid}/edits",
        {
            "version": version,
            "op": {"type": "reassign", "area_id": area, "responsible_unit_id": unit},
        },
    )
    post(
        client,
        f"/api/drafts/{gid}/publish",
        {"version": state["generation"]["version"], "message": "new unit"},
    )
    comparison = get(client, f"/api/generations/compare?a=1&b={gid}")
    assert [c["area_id"] for c in comparison["changes"]] == [area]
    assert comparison["changes"][0]["after"]["responsible_unit_id"] == unit
    assert comparison["features"]["features"][0]["properties"]["change"] == "attributes"
    rolled = post(client, "/api/generations/1/rollback", {"message": "back to the start"})
    assert rolled["is_current"] and rolled["from"] == 1 and rolled["id"] > gid
    assert get(client, f"/api/generations/compare?a=1&b={rolled['id']}")["changes"] == []
    for pk, unit_before in before.items():
        p = store.get_problem(pk)
        if p["status"] in OPEN_STATUSES and p["rule_id"] is None:
            assert p["responsible_unit_id"] == unit_before
    history = get(client, "/api/generations")["generations"]
    assert [g["id"] for g in history][-1] == rolled["id"]
    get(client, "/api/generations/compare?a=1", 400)


def test_export_geojson_and_geopackage(drafter, tmp_path):
    response = drafter.get("/api/generations/1/areas.geojson")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    doc = json.loads(response.data)
    assert len(doc["features"]) == 253
    response = drafter.get("/api/generations/1/areas.gpkg")
    assert response.status_code == 200
    path = tmp_path / "areas.gpkg"
    path.write_bytes(response.data)
    frame = gpd.read_file(path)
    assert len(frame) == 253 and frame.crs.to_epsg() == 4326
    assert {"area_id", "responsible_unit_id", "district_id"} <= set(frame.columns)


def upload(client, data: bytes, name: str):
    # encoded in memory: the test client would spool a large body to an unclosed temp file
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), name)})
    return client.post(
        "/api/drafts/upload",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_upload_a_boundary_set_as_a_draft(client):
    data = client.get("/api/generations/1/areas.geojson").data
    doc = json.loads(data)
    doc["features"][0]["properties"]["responsible_unit_id"] = doc["features"][1]["properties"][
        "responsible_unit_id"
    ]
    frame = gpd.GeoDataFrame.from_features(doc["features"], crs=4326).to_crs(32650)
    buffer = io.BytesIO()
    frame.to_file(buffer, driver="GeoJSON")
    response = upload(client, buffer.getvalue(), "areas-utm.geojson")
    assert response.status_code == 201, response.get_json()
    state = response.get_json()
    assert state["generation"]["status"] == "draft"
    preview = get(client, f"/api/drafts/{state['generation']['id']}/preview")
    assert doc["features"][0]["properties"]["area_id"] in {
        c["area_id"] for c in preview["changed_areas"]
    }
    doc["features"][0]["properties"]["responsible_unit_id"] = "NOBODY"
    response = upload(client, json.dumps(doc).encode(), "bad.geojson")
    assert response.status_code == 400
    assert "NOBODY" in response.get_json()["message"]
    response = client.post("/api/drafts/upload", data={}, content_type="multipart/form-data")
    assert response.status_code == 400


def test_warnings_can_be_accepted_with_a_note(app, client):
    store = app.extensions["geoapp.store"]
    areas = store.areas(1)
    a001 = areas[areas["area_id"] == "A001"].geometry.iloc[0]
    others = areas[
        areas["district_id"] != areas.loc[areas["area_id"] == "A001", "district_id"].iloc[0]
    ]
    far = others.iloc[
        others.to_crs(32650)
        .distance(gpd.GeoSeries([a001], crs=4326).to_crs(32650).iloc[0])
        .argmax()
    ]["district_id"]
    gid, version = new_draft(client)
    state = post(
        client,
        f"/api/drafts/{gid}/edits",
        {"version": version, "op": {"type": "reassign", "area_id": "A001", "district_id": far}},
    )
    report = get(client, f"/api/drafts/{gid}/validation")
    assert report["errors"] == 0
    split = [f for f in report["findings"] if f["code"] == "district_split"]
    assert split and split[0]["level"] == "warning" and "A001" in split[0]["area_ids"]
    v = state["generation"]["version"]
    refused = post(client, f"/api/drafts/{gid}/publish", {"version": v, "message": "m"}, 400)
    assert "warning" in refused["message"]
    post(
        client,
        f"/api/drafts/{gid}/publish",
        {"version": v, "message": "m", "accept_warnings": True, "note": ""},
        400,
    )
    done = post(
        client,
        f"/api/drafts/{gid}/publish",
        {"version": v, "message": "m", "accept_warnings": True, "note": "temporary"},
    )
    assert "temporary" in done["publish_message"]


def edit(client, gid, state, op, status=200):
    """One edit on the draft at the version ``state`` shows; the new state (or the error)."""
    body = {"version": state["generation"]["version"], "op": op}
    return post(client, f"/api/drafts/{gid}/edits", body, status)


def feature_geometry(state, area_id):
    return shapely.geometry.shape(
        next(f for f in state["areas"]["features"] if f["id"] == area_id)["geometry"]
    )


def split_across(client, gid, state, area_id):
    """Split an area with a north-south line through its middle."""
    minx, miny, maxx, maxy = feature_geometry(state, area_id).bounds
    mid = (minx + maxx) / 2
    line = [[mid, miny - 0.001], [mid + 1e-6, maxy + 0.001]]
    return edit(client, gid, state, {"type": "split", "area_id": area_id, "line": line})


@pytest.mark.parametrize("reverse", [False, True])
def test_merging_a_split_piece_back_keeps_the_original_id(drafter, reverse):
    gid, _ = new_draft(drafter)
    state = get(drafter, f"/api/drafts/{gid}")
    name = next(f for f in state["areas"]["features"] if f["id"] == "A024")["properties"]["name"]
    before = feature_geometry(state, "A024")
    state = split_across(drafter, gid, state, "A024")
    assert state["changed"][:2] == ["A024", "A024-2"]
    state = split_across(drafter, gid, state, "A024-2")  # a piece of a piece
    assert state["changed"][:2] == ["A024-2", "A024-2-2"]
    pairs = [("A024-2-2", "A024-2"), ("A024-2", "A024")]
    for first, second in pairs:
        op = {"type": "merge", "area_id": first, "other_id": second}
        if reverse:
            op = {"type": "merge", "area_id": second, "other_id": first}
        state = edit(drafter, gid, state, op)
        assert state["kept"] == second and state["changed"][:2] == sorted([first, second])
    ids = {f["id"] for f in state["areas"]["features"]}
    assert "A024" in ids and not ids & {"A024-2", "A024-2-2"}
    after = next(f for f in state["areas"]["features"] if f["id"] == "A024")
    assert after["properties"]["name"] == name
    assert feature_geometry(state, "A024").symmetric_difference(before).area < 1e-14


def _edge_area(state):
    """An area on the county's outline and a square drawn half outside the county on it."""
    geoms = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in state["areas"]["features"]}
    outline = shapely.union_all(list(geoms.values()))
    aid = sorted(a for a, g in geoms.items() if g.boundary.intersection(outline.boundary).length)[0]
    edge = geoms[aid].boundary.intersection(outline.boundary)
    p = shapely.line_interpolate_point(shapely.line_merge(edge), 0.5, normalized=True)
    square = shapely.box(p.x - 2e-4, p.y - 2e-4, p.x + 2e-4, p.y + 2e-4)
    return aid, [list(xy) for xy in square.exterior.coords[:-1]]


def test_merging_a_drawn_area_keeps_the_older_id(client):
    gid, _ = new_draft(client)
    state = get(client, f"/api/drafts/{gid}")
    aid, square = _edge_area(state)
    props = next(f for f in state["areas"]["features"] if f["id"] == aid)["properties"]
    keys = ("responsible_unit_id", "district_id")
    add = {"type": "add", "polygon": square, "area_id": "Z9"} | {k: props[k] for k in keys}
    state = edit(client, gid, state, add)
    merge = {"type": "merge", "area_id": "Z9", "other_id": aid}
    assert edit(client, gid, state, merge)["kept"] == aid  # the demo's area is older
    # drawn in a published generation, "Z9" is older than a "Y1" drawn in this draft
    state = post(client, f"/api/drafts/{gid}/undo", {"version": version_of(client, gid)})
    body = {"version": state["generation"]["version"], "message": "Z9", "accept_warnings": True}
    post(client, f"/api/drafts/{gid}/publish", body | {"note": "outside on purpose"})
    gid, _ = new_draft(client)
    state = get(client, f"/api/drafts/{gid}")
    zx0, zy0, zx1, zy1 = feature_geometry(state, "Z9").bounds
    beside = [[zx1, zy0], [zx1 + 2e-4, zy0], [zx1 + 2e-4, zy1], [zx1, zy1]]
    state = edit(client, gid, state, add | {"polygon": beside, "area_id": "Y1"})
    for pair in (("Y1", "Z9"), ("Z9", "Y1")):
        op = {"type": "merge", "area_id": pair[0], "other_id": pair[1]}
        merged = edit(client, gid, state, op)
        assert merged["kept"] == "Z9"
        state = post(client, f"/api/drafts/{gid}/undo", {"version": version_of(client, gid)})


def version_of(client, gid):
    return get(client, f"/api/drafts/{gid}")["generation"]["version"]


def assert_no_gap(client, gid):
    report = get(client, f"/api/drafts/{gid}/validation")
    bad = [f for f in report["findings"] if f["code"] in ("gap", "overlap", "outside")]
    assert bad == []


def test_the_demo_county_has_no_false_gap_after_ordinary_edits(drafter):
    assert_no_gap(drafter, 1)  # the current generation itself
    gid, _ = new_draft(drafter)
    assert_no_gap(drafter, gid)
    state = get(drafter, f"/api/drafts/{gid}")
    outline = shapely.union_all(
        [shapely.geometry.shape(f["geometry"]) for f in state["areas"]["features"]]
    ).boundary
    # a corner drag of a shared inner vertex
    src, _owners = shared_vertex(state)
    move = {"type": "move_vertex", "from": src, "to": [src[0] + 2e-5, src[1] - 1e-5]}
    state = edit(drafter, gid, state, move)
    assert_no_gap(drafter, gid)
    # a split, then a drag of each neighbour's corner next to a point the cut made
    before = set(feature_geometry(state, "A050").exterior.coords)
    state = split_across(drafter, gid, state, "A050")
    pieces, told = state["changed"][:2], state["changed"][2:]
    cuts = {xy for a in pieces for xy in feature_geometry(state, a).exterior.coords} - before
    neighbours = sorted(
        f["id"]
        for f in state["areas"]["features"]
        if f["id"] not in pieces
        and any(
            shapely.geometry.shape(f["geometry"]).boundary.distance(shapely.Point(xy)) < 1e-9
            for xy in cuts
        )
    )
    dragged = 0
    for aid in neighbours:
        # the neighbour's corners nearest to the cut points (the ends of the cut edge)
        inner = [
            xy
            for xy in feature_geometry(state, aid).exterior.coords
            if xy not in cuts and outline.distance(shapely.Point(xy)) > 1e-9
        ]
        for cut in sorted(cuts):
            if feature_geometry(state, aid).boundary.distance(shapely.Point(cut)) > 1e-9:
                continue
            corner = min(inner, key=lambda xy: (xy[0] - cut[0]) ** 2 + (xy[1] - cut[1]) ** 2)
            to = [corner[0] + 2e-5, corner[1] + 2e-5]
            state = edit(drafter, gid, state, {"type": "move_vertex", "from": corner, "to": to})
            assert_no_gap(drafter, gid)
            dragged += 1
    assert dragged
    assert told == neighbours  # they changed too: the answer names them, undo restores them


def test_an_edit_that_changes_nothing_is_refused_and_not_saved(drafter):
    gid, version = new_draft(drafter)
    state = get(drafter, f"/api/drafts/{gid}")
    src, _owners = shared_vertex(state)
    props = next(f for f in state["areas"]["features"] if f["id"] == "A002")["properties"]
    mid = [
        (a + b) / 2
        for a, b in zip(*feature_geometry(state, "A002").exterior.coords[:2], strict=True)
    ]
    nothing = [
        {"type": "move_vertex", "from": src, "to": src},  # dropped where it was
        {"type": "move_vertex", "from": mid, "to": mid},  # a point on an edge, not moved
        {
            "type": "reassign",
            "area_id": "A002",
            "responsible_unit_id": props["responsible_unit_id"],
        },
        {"type": "reassign", "area_id": "A002", "district_id": props["district_id"]},
        {"type": "reassign", "area_id": "A002", "name": props["name"]},
    ]
    for op in nothing:
        answer = edit(drafter, gid, state, op, 400)
        assert answer["error"] == "unchanged" and "nothing was saved" in answer["message"]
        now = get(drafter, f"/api/drafts/{gid}")
        assert now["generation"]["version"] == version and now["can_undo"] is False


def test_a_draft_whose_shapes_geos_cannot_union_is_still_drawn(drafter):
    """A corner moved across a neighbour's edge leaves a draft with shapes GEOS refuses to
    union ("side location conflict"): the draft's districts and areas are still answered
    (their outlines taken over the repaired shapes), never a 500, and validation names the
    fault."""
    from geoapp.services import editor_areas

    gid, version = new_draft(drafter)
    state = get(drafter, f"/api/drafts/{gid}")
    corner = shared_corners(state)[0][0]
    moved = [corner[0] + 0.0002, corner[1] + 0.0001]
    op = {"type": "move_vertex", "from": list(corner), "to": moved}
    post(drafter, f"/api/drafts/{gid}/edits", {"version": version, "op": op})
    areas = editor_areas.generation_areas(drafter.application.extensions["geoapp.store"], gid)
    geoms = [r["geometry"] for r in areas.values()]
    with pytest.raises(shapely.errors.GEOSException):  # the case this test is about
        shapely.union_all(geoms)
    districts = get(drafter, f"/api/districts?generation={gid}")
    assert len(districts["features"]) == len({r["district_id"] for r in areas.values()})
    for f in districts["features"]:
        assert shapely.geometry.shape(f["geometry"]).is_valid
    assert len(get(drafter, f"/api/areas?generation={gid}")["features"]) == len(areas)
    findings = get(drafter, f"/api/drafts/{gid}/validation")
    assert findings["errors"], findings
