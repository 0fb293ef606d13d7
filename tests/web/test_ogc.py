"""OGC API – Features at /ogc/: the documents, paging and bbox, and GDAL's OAPIF driver
reading every collection from a live server (both backends)."""

from __future__ import annotations

import numpy as np
import pyogrio
import pytest
import shapely

from geoapp.core.shapes import as_multipolygons
from geoapp.services.accounts import create_token
from geoapp.services.ogc import CONFORMANCE, CRS84

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


def rels(doc) -> dict[str, dict]:
    return {link["rel"]: link for link in doc["links"]}


def test_landing_conformance_and_collections(client):
    r = get(client, "/ogc/")
    assert r.mimetype == "application/json"
    links = rels(r.get_json())
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    assert links["data"]["href"] == "http://localhost/ogc/collections"
    assert client.get("/ogc").status_code == 308  # no trailing slash: redirected
    assert get(client, "/ogc/conformance").get_json()["conformsTo"] == CONFORMANCE
    api = get(client, "/ogc/api")
    assert api.mimetype == "application/vnd.oai.openapi+json"
    assert api.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert "/collections/{collectionId}/items" in api.get_json()["paths"]

    doc = get(client, "/ogc/collections").get_json()
    assert [c["id"] for c in doc["collections"]] == list(COLLECTIONS)
    for c in doc["collections"]:
        assert c["itemType"] == "feature" and c["crs"][0] == CRS84 and c["storageCrs"] == CRS84
        bbox = c["extent"]["spatial"]["bbox"][0]
        assert bbox[0] < bbox[2] and bbox[1] < bbox[3]
        items = rels(c)["items"]
        assert items["type"] == "application/geo+json"
        assert items["href"].endswith(f"/ogc/collections/{c['id']}/items")
        one = get(client, f"/ogc/collections/{c['id']}").get_json()
        assert one["id"] == c["id"] and rels(one)["self"]["href"].endswith(c["id"])


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_items_page_through_every_collection(client, cid):
    """limit/offset pages with next/prev links cover the collection once, in order."""
    everything = get(client, f"/ogc/collections/{cid}/items?limit=10000").get_json()
    total = everything["numberMatched"]
    assert everything["numberReturned"] == total == len(everything["features"])
    assert everything["timeStamp"].endswith("Z")
    seen = []
    url = f"/ogc/collections/{cid}/items?limit={max(1, total // 4)}"
    pages = 0
    while url:
        r = get(client, url.replace("http://localhost", ""))
        assert r.mimetype == "application/geo+json"
        page = r.get_json()
        assert page["type"] == "FeatureCollection"
        assert page["numberReturned"] == len(page["features"])
        assert page["numberMatched"] == total
        links = rels(page)
        assert links["self"]["type"] == "application/geo+json"
        assert links["collection"]["href"].endswith(f"/ogc/collections/{cid}")
        if pages:
            assert "prev" in links
        seen += [f["id"] for f in page["features"]]
        url = links.get("next", {}).get("href")
        pages += 1
    assert pages >= 4
    assert seen == [f["id"] for f in everything["features"]]


def test_single_items_bbox_and_errors(client):
    areas = get(client, "/ogc/collections/areas/items?limit=1000").get_json()["features"]
    first = areas[0]
    one = get(client, f"/ogc/collections/areas/items/{first['id']}")
    assert one.mimetype == "application/geo+json"
    doc = one.get_json()
    assert doc["type"] == "Feature" and doc["id"] == first["id"]
    assert doc["geometry"] == first["geometry"]
    assert rels(doc)["collection"]["href"].endswith("/ogc/collections/areas")
    problem = get(client, "/ogc/collections/problems/items?limit=1").get_json()["features"][0]
    again = get(client, f"/ogc/collections/problems/items/{problem['id']}").get_json()
    assert again["id"] == problem["id"]

    # bbox: exactly the features whose geometry meets the box, on every collection
    box = (114.91, 28.22, 114.93, 28.235)
    q = ",".join(map(str, box))
    for cid in COLLECTIONS:
        everything = get(client, f"/ogc/collections/{cid}/items?limit=10000").get_json()
        inside = get(client, f"/ogc/collections/{cid}/items?limit=10000&bbox={q}").get_json()
        geoms = [shapely.geometry.shape(f["geometry"]) for f in everything["features"]]
        expected = [
            f["id"]
            for f, g in zip(everything["features"], geoms, strict=True)
            if g.intersects(shapely.box(*box))
        ]
        assert [f["id"] for f in inside["features"]] == expected
        assert 0 < inside["numberMatched"] == len(expected) <= everything["numberMatched"]
        if cid != "districts":  # the box lies where all seven districts meet
            assert len(expected) < everything["numberMatched"]
        q6 = f"{box[0]},{box[1]},0,{box[2]},{box[3]},100"  # 3-D box: heights are ignored
        six = get(client, f"/ogc/collections/{cid}/items?limit=10000&bbox={q6}").get_json()
        assert six["numberMatched"] == len(expected)
        paged = get(client, f"/ogc/collections/{cid}/items?limit=1&bbox={q}").get_json()
        if len(expected) > 1:
            assert f"bbox={q.replace(',', '%2C')}" in rels(paged)["next"]["href"]

    # a limit above the maximum means the maximum (OGC), not an error
    big = get(client, "/ogc/collections/units/items?limit=99999999").get_json()
    assert big["numberReturned"] == big["numberMatched"]
    for path, status in [
        ("/ogc/collections/nope", 404),
        ("/ogc/collections/nope/items", 404),
        ("/ogc/collections/areas/items/NOPE", 404),
        ("/ogc/collections/problems/items/abc", 404),
        ("/ogc/collections/problems/items/999999", 404),
        ("/ogc/collections/areas/items?limit=0", 400),
        ("/ogc/collections/areas/items?limit=x", 400),
        ("/ogc/collections/areas/items?offset=-1", 400),
        ("/ogc/collections/areas/items?bbox=1,2,3", 400),
        ("/ogc/collections/areas/items?bbox=1,2,3,4&bbox-crs=EPSG:3857", 400),
    ]:
        r = get(client, path, status)
        assert r.mimetype == "application/json" and r.get_json()["error"]


def test_items_answer_conditional_requests(client):
    r = get(client, "/ogc/collections/areas/items?limit=5")
    assert r.headers["ETag"]
    again = client.get(
        "/ogc/collections/areas/items?limit=5", headers={"If-None-Match": r.headers["ETag"]}
    )
    assert again.status_code == 304


def _same_geometries(a, b) -> bool:
    return bool(np.all(shapely.equals_exact(np.asarray(a), np.asarray(b), tolerance=2e-7)))


@pytest.fixture
def gdal_token(app):
    """GDAL sends an API token, as QGIS would (GDAL_HTTP_AUTH=BEARER), for the test's duration."""
    token = create_token(app.extensions["geoapp.store"], "gdal", "coordinator")
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": token})
    yield token
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})


def test_gdal_reads_every_collection(app, live_server, gdal_token):
    """GDAL's OAPIF driver (bundled with pyogrio) reads all four collections: the same ids,
    counts and geometries as the store holds."""
    base = live_server(app)
    source = f"OAPIF:{base}/ogc/"
    layers = {name for name, _ in pyogrio.list_layers(source)}
    assert layers == set(COLLECTIONS)
    store = app.extensions["geoapp.store"]
    gen = store.current_generation()["id"]

    def read(layer):
        # use_arrow: GDAL reads without holding the GIL, so this thread's server can answer
        frame = pyogrio.read_dataframe(source, layer=layer, use_arrow=True)
        return frame.sort_values("id", kind="stable").reset_index(drop=True)

    areas = store.areas(gen).sort_values("area_id").reset_index(drop=True)
    got = read("areas")
    assert got["id"].tolist() == areas["area_id"].tolist()
    assert got["responsible_unit_id"].tolist() == areas["responsible_unit_id"].tolist()
    # one geometry type per layer: every area a MultiPolygon (GDAL declares the layer by it)
    assert set(got.geometry.geom_type) == {"MultiPolygon"}
    assert _same_geometries(got.geometry.values, as_multipolygons(areas.geometry.values))

    districts = read("districts")
    assert districts["id"].tolist() == sorted(d["district_id"] for d in store.list_districts())
    for did, geom in zip(districts["id"], districts.geometry, strict=True):
        union = shapely.union_all(areas.geometry[areas["district_id"] == did].values)
        assert shapely.equals_exact(geom.normalize(), union.normalize(), tolerance=2e-7) or (
            geom.symmetric_difference(union).area < 1e-12
        )

    units = read("units")
    expected = sorted(store.list_units(), key=lambda u: u["unit_id"])
    assert units["id"].tolist() == [u["unit_id"] for u in expected]
    assert _same_geometries(
        units.geometry.values, shapely.points([[u["lon"], u["lat"]] for u in expected])
    )

    rows = sorted(store.problems(), key=lambda p: p["id"])
    problems = read("problems")
    assert len(problems) == len(rows) == store.count_problems()
    assert problems["id"].tolist() == [p["id"] for p in rows]
    assert problems["problem_id"].tolist() == [p["problem_id"] for p in rows]
    assert _same_geometries(
        problems.geometry.values, shapely.points([[p["lon"], p["lat"]] for p in rows])
    )
