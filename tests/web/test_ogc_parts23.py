"""OGC API – Features Part 2 (CRS) and Part 3 (queryables, filter) and sorting at /ogc/:
one test per requirement claimed, named by its id, on the demo county on both backends.
The hand counts of every CQL2 operator are in tests/services/test_ogc_filter_hand_count.py;
GDAL and OWSLib against a live server in tests/web/test_ogc_clients.py."""

from __future__ import annotations

import json
from urllib.parse import quote

import pyproj
import pytest
import shapely

from geoapp.services.ogc import CONFORMANCE, CRS84

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
OFFERED = [CRS84, f"{EPSG}4326", f"{EPSG}4490", f"{EPSG}4549"]
ITEMS = "/ogc/collections/problems/items"
BOX = (114.91, 28.22, 114.93, 28.235)
COLLECTIONS = ("districts", "areas", "units", "problems")


@pytest.fixture
def app(shared_app):
    """One app per module and backend (tests/web/conftest.py): these tests only read.  The
    clients (``client``, ``client_as``, ``anon_client``) are of this app."""
    return shared_app


def get(client, path, status=200):
    r = client.get(path)
    assert r.status_code == status, (path, r.status_code, r.get_data(as_text=True)[:300])
    return r


def _all(query: str) -> str:
    return query if "limit=" in query else f"limit=10000&{query}"


def page(client, query: str) -> dict:
    return get(client, f"{ITEMS}?{_all(query)}").get_json()


def ids(client, query: str, path: str = ITEMS) -> list:
    return [f["id"] for f in get(client, f"{path}?{_all(query)}").get_json()["features"]]


def q(text: str) -> str:
    return quote(text, safe="")


# --- Part 2: coordinate reference systems --------------------------------------------------
def test_req_crs_fc_md_crs_list(client):
    """/req/crs/fc-md-crs-list: every collection lists the CRSs it can answer in."""
    for c in get(client, "/ogc/collections").get_json()["collections"]:
        assert c["crs"] == OFFERED
        assert get(client, f"/ogc/collections/{c['id']}").get_json()["crs"] == OFFERED


def test_req_crs_fc_md_storagecrs(client):
    """/req/crs/fc-md-storageCrs: the storage CRS is CRS84, one of the listed ones."""
    for c in get(client, "/ogc/collections").get_json()["collections"]:
        assert c["storageCrs"] == CRS84 and c["storageCrs"] in c["crs"]


def test_req_crs_fc_crs_valid_value(client):
    """/req/crs/fc-crs-valid-value: a crs not listed is a 400 naming it."""
    for bad in ("EPSG:3857", f"{EPSG}4547", "nonsense"):
        r = get(client, f"{ITEMS}?limit=1&crs={q(bad)}", 400)
        assert "crs" in r.get_json()["message"] and bad in r.get_json()["message"]
    get(client, f"/ogc/collections/areas/items/A001?crs={q('EPSG:3857')}", 400)


def test_req_crs_crs_action(client):
    """/req/crs/crs-action: coordinates in the asked CRS, in its axis order (EPSG:4326 and
    EPSG:4490 latitude first; EPSG:4549 northing first)."""
    plain = page(client, "limit=20")["features"][:20]
    lonlat = [f["geometry"]["coordinates"] for f in plain]
    for uri in OFFERED[1:]:
        got = page(client, f"limit=20&crs={q(uri)}")["features"][:20]
        assert [f["id"] for f in got] == [f["id"] for f in plain]
        to = pyproj.Transformer.from_crs("OGC:CRS84", uri.replace(EPSG, "EPSG:"))
        for f, (lon, lat) in zip(got, lonlat, strict=True):
            a, b = to.transform(lon, lat)
            assert f["geometry"]["coordinates"] == pytest.approx([a, b], abs=1e-3)
        if uri.endswith("4326"):
            assert got[0]["geometry"]["coordinates"] == pytest.approx(lonlat[0][::-1])
    area = get(client, f"/ogc/collections/areas/items?limit=1&crs={q(OFFERED[3])}").get_json()
    geometry = area["features"][0]["geometry"]
    assert geometry["type"] == "MultiPolygon"
    ring = geometry["coordinates"][0][0]
    assert 3.0e6 < ring[0][0] < 3.2e6  # northing in metres first


def test_req_crs_ogc_crs_header(client):
    """/req/crs/ogc-crs-header: every feature answer says its CRS in Content-Crs, also
    when it comes from the answer cache or as a 304."""
    for uri in (None, *OFFERED):
        query = "" if uri is None else f"&crs={q(uri)}"
        first = get(client, f"{ITEMS}?limit=2{query}")
        want = f"<{uri or CRS84}>"
        assert first.headers["Content-Crs"] == want
        again = get(client, f"{ITEMS}?limit=2{query}")
        assert again.headers["Content-Crs"] == want
        fid = first.get_json()["features"][0]["id"]
        one = get(client, f"{ITEMS}/{fid}" + (f"?{query[1:]}" if query else ""))
        assert one.headers["Content-Crs"] == want
        cached = client.get(
            f"{ITEMS}?limit=2{query}", headers={"If-None-Match": first.headers["ETag"]}
        )
        assert cached.status_code == 304 and cached.headers["Content-Crs"] == want


def test_req_crs_fc_bbox_crs_action(client):
    """/req/crs/fc-bbox-crs-action: a bbox in EPSG:4326 (latitude first), EPSG:4490 or the
    projected zone selects what the same box selects in CRS84 (the projected box is the
    envelope of the CRS84 box, so it selects those and a few around them)."""
    x0, y0, x1, y1 = BOX
    want = ids(client, f"bbox={x0},{y0},{x1},{y1}")
    assert 0 < len(want) < page(client, "limit=1")["numberMatched"]
    for uri in OFFERED[1:3]:
        assert ids(client, f"bbox={y0},{x0},{y1},{x1}&bbox-crs={q(uri)}") == want
    to = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:4549")
    corners = [to.transform(x, y) for x in (x0, x1) for y in (y0, y1)]
    a, b = zip(*corners, strict=True)
    got = ids(client, f"bbox={min(a)},{min(b)},{max(a)},{max(b)}&bbox-crs={q(OFFERED[3])}")
    assert set(want) <= set(got)
    # the answer links keep the box, in CRS84
    paged = page(client, f"limit=1&bbox={y0},{x0},{y1},{x1}&bbox-crs={q(OFFERED[1])}")
    nxt = [link for link in paged["links"] if link["rel"] == "next"][0]["href"]
    assert "bbox-crs" not in nxt
    assert page(client, nxt.split("?", 1)[1])["numberMatched"] == len(want)


def test_req_crs_fc_bbox_crs_valid_value(client):
    """/req/crs/fc-bbox-crs-valid-value: a bbox-crs not listed is a 400."""
    r = get(client, f"{ITEMS}?bbox=1,2,3,4&bbox-crs={q('EPSG:3857')}", 400)
    assert "bbox-crs" in r.get_json()["message"]


# --- Part 3: queryables and filter ---------------------------------------------------------
PROBLEM_QUERYABLES = {
    "category", "status", "round", "district_id", "area_id", "responsible_unit_id",
    "lead_unit_id", "deduction", "reported_at", "due_at", "overdue",
}  # fmt: skip


def test_req_queryables_get_queryables_response(client):
    """/req/queryables/get-queryables-op and -response: each collection links its
    queryables, a JSON Schema of objects, application/schema+json."""
    for cid in COLLECTIONS:
        links = get(client, f"/ogc/collections/{cid}").get_json()["links"]
        href = [x for x in links if x["rel"].endswith("/queryables")][0]["href"]
        r = get(client, href.replace("http://localhost", ""))
        assert r.mimetype == "application/schema+json"
        doc = r.get_json()
        assert doc["type"] == "object" and doc["$schema"].startswith("https://json-schema.org")
        assert "geometry" in doc["properties"]
    props = get(client, "/ogc/collections/problems/queryables").get_json()["properties"]
    assert set(props) >= PROBLEM_QUERYABLES
    assert props["reported_at"]["format"] == "date-time" and props["overdue"]["type"] == "boolean"
    get(client, "/ogc/collections/nope/queryables", 404)


def test_req_filter_filter_param(client, app):
    """/req/filter/filter-param and /req/filter/response: the answer holds exactly the
    features the filter selects, counted against the store's own count."""
    store = app.extensions["geoapp.store"]
    doc = page(client, f"filter={q(chr(39).join(['status = ', 'verified', '']))}")
    assert doc["numberMatched"] == store.count_problems({"status": "verified"}) > 0
    assert {f["properties"]["status"] for f in doc["features"]} == {"verified"}


def test_req_filter_filter_lang_param(client):
    """/req/filter/filter-lang-param: cql2-text (default), cql2-json; others are a 400."""
    text = "status = 'verified' AND deduction >= 1"
    tree = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "status"}, "verified"]},
            {"op": ">=", "args": [{"property": "deduction"}, 1]},
        ],
    }
    want = ids(client, f"filter={q(text)}")
    assert want and ids(client, f"filter={q(text)}&filter-lang=cql2-text") == want
    assert ids(client, f"filter={q(json.dumps(tree))}&filter-lang=cql2-json") == want
    r = get(client, f"{ITEMS}?filter={q(text)}&filter-lang=ecql", 400)
    assert "filter-lang" in r.get_json()["message"]


def test_req_filter_filter_crs_param(client):
    """/req/filter/filter-crs-param: geometries of the filter in filter-crs (EPSG:4326:
    latitude first); an unlisted one is a 400."""
    x0, y0, x1, y1 = BOX
    poly = f"POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y0}))"
    swapped = f"POLYGON(({y0} {x0}, {y0} {x1}, {y1} {x1}, {y0} {x0}))"
    want = ids(client, f"filter={q(f'S_INTERSECTS(geometry, {poly})')}")
    tri = shapely.Polygon([(x0, y0), (x1, y0), (x1, y1)])
    every = page(client, "")["features"]
    assert sorted(want) == sorted(
        f["id"] for f in every if tri.intersects(shapely.geometry.shape(f["geometry"]))
    )
    got = ids(
        client, f"filter={q(f'S_INTERSECTS(geometry, {swapped})')}&filter-crs={q(OFFERED[1])}"
    )
    assert got == want
    get(client, f"{ITEMS}?filter={q(f'S_INTERSECTS(geometry, {poly})')}&filter-crs=EPSG:3857", 400)


def test_req_filter_mixing_expressions(client):
    """/req/filter/mixing-expressions: filter, bbox and the other parameters all hold."""
    x0, y0, x1, y1 = BOX
    inside = set(ids(client, f"bbox={x0},{y0},{x1},{y1}"))
    verified = set(ids(client, f"filter={q(chr(39).join(['status = ', 'verified', '']))}"))
    both = ids(
        client, f"bbox={x0},{y0},{x1},{y1}&filter={q(chr(39).join(['status = ', 'verified', '']))}"
    )
    assert set(both) == inside & verified and 0 < len(both) < len(inside)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("filter=" + q("colour = 'red'"), "colour"),
        ("filter=" + q("status = "), "filter"),
        ("filter=" + q("deduction = 'lots'"), "deduction"),
        ("filter=" + q("{bad") + "&filter-lang=cql2-json", "cql2-json"),
        ("sortby=-colour", "colour"),
    ],
)
def test_req_filter_invalid_filter_is_a_400_naming_it(client, query, named):
    """/req/filter/filter-param (and /req/sorting): an invalid filter or sortby is a 400
    whose message says what is wrong, never a 500, never an unfiltered answer."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    r = get(client, f"{ITEMS}?{query}", 400)
    assert named in r.get_json()["message"]


def test_a_filter_never_widens_the_unit_scope(client_as):
    """A unit account's answers stay its unit's, whatever the filter says (the view passes
    the scoped arguments; today unit accounts are refused /ogc/ altogether, and a filter does
    not change that)."""
    unit = client_as("unit")
    anything = "status = 'x' OR status <> 'x' OR area_id IS NULL"
    r = unit.get(f"{ITEMS}?limit=10000&filter={q(anything)}")
    if r.status_code == 403:
        assert unit.get(f"{ITEMS}?limit=1").status_code == 403
        return
    assert r.status_code == 200
    owners = {f["properties"]["responsible_unit_id"] for f in r.get_json()["features"]}
    assert owners == {unit.unit_id}


def test_req_sorting_sortby(client):
    """Sorting: sortby=-deduction,+reported_at orders the whole answer (paged too)."""
    doc = page(client, "sortby=-deduction,%2Breported_at")
    keys = [
        (-f["properties"]["deduction"], f["properties"]["reported_at"]) for f in doc["features"]
    ]
    assert keys == sorted(keys)
    first = page(client, "limit=5&sortby=-deduction")["features"][:5]
    assert [f["id"] for f in first] == [f["id"] for f in doc["features"]][:5] or len(
        {f["properties"]["deduction"] for f in first}
    ) == 1
    names = [
        f["properties"]["name"]
        for f in get(client, "/ogc/collections/units/items?limit=1000&sortby=-name").get_json()[
            "features"
        ]
    ]
    assert names == sorted(names, reverse=True)


def test_conformance_lists_the_classes_passed_here(client):
    classes = set(get(client, "/ogc/conformance").get_json()["conformsTo"])
    assert classes == set(CONFORMANCE)
    for part in ("ogcapi-features-2/1.0/conf/crs", "ogcapi-features-3/1.0/conf/queryables",
                 "ogcapi-features-3/1.0/conf/filter", "ogcapi-features-3/1.0/conf/features-filter",
                 "cql2/1.0/conf/cql2-text", "cql2/1.0/conf/cql2-json", "conf/sorting"):  # fmt: skip
        assert any(c.endswith(part) for c in classes), part
    # what is not implemented is not claimed
    assert not any(
        c.endswith(("temporal-functions", "queryables-query-parameters")) for c in classes
    )
