"""Real OGC API clients against a live server: GDAL's OAPIF driver (bundled with pyogrio)
and OWSLib list the collections, count features, push a filter to the server and read a
bbox, on both backends; the server's own request log shows what they sent."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pyogrio
import pytest
from owslib.ogcapi.features import Features

from geoapp.services.accounts import create_token

COLLECTIONS = ("districts", "areas", "units", "problems")


@pytest.fixture
def token(app):
    return create_token(app.extensions["geoapp.store"], "client", "coordinator")


@pytest.fixture
def served(app, live_server):
    """``(base_url, requests)``: the app on a live server, and the list of the paths with
    query strings it was asked for."""
    requests: list[str] = []

    def logged(environ, start_response):
        query = environ.get("QUERY_STRING", "")
        requests.append(environ["PATH_INFO"] + (f"?{query}" if query else ""))
        return app(environ, start_response)

    return live_server(logged), requests


@pytest.fixture
def gdal_bearer(token):
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": token})
    yield token
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})


def _matched(client, path: str) -> int:
    r = client.get(path)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.get_json()["numberMatched"]


def test_gdal_pushes_a_where_filter_to_the_server(app, client, served, gdal_bearer):
    """``ogr2ogr -where "status = 'verified'"`` on the OAPIF layer: GDAL sends it as a CQL2
    filter (the server's log has it) and gets as many features as the API counts."""
    base, requests = served
    source = f"OAPIF:{base}/ogc/"
    assert {name for name, _ in pyogrio.list_layers(source)} == set(COLLECTIONS)
    for cid in COLLECTIONS:
        info = pyogrio.read_info(source, layer=cid, force_feature_count=True)
        assert info["features"] == _matched(client, f"/ogc/collections/{cid}/items?limit=1")

    expected = _matched(client, "/ogc/collections/problems/items?limit=1&filter=status='verified'")
    assert 0 < expected < _matched(client, "/ogc/collections/problems/items?limit=1")
    del requests[:]
    frame = pyogrio.read_dataframe(
        source, layer="problems", where="status = 'verified'", use_arrow=True
    )
    assert len(frame) == expected and set(frame["status"]) == {"verified"}
    sent = [
        parse_qs(urlsplit(r).query)
        for r in requests
        if r.startswith("/ogc/collections/problems/items")
    ]
    filters = {q["filter"][0] for q in sent if "filter" in q}
    assert filters and all("status" in f and "verified" in f for f in filters), requests


def test_owslib_lists_counts_and_reads_a_bbox(app, client, served, token):
    base, requests = served
    api = Features(f"{base}/ogc/", headers={"Authorization": f"Bearer {token}"})
    assert [c["id"] for c in api.collections()["collections"]] == list(COLLECTIONS)
    assert "status" in api.collection_queryables("problems")["properties"]
    box = [114.91, 28.22, 114.93, 28.235]
    page = api.collection_items("problems", bbox=box, limit=10000)
    q = ",".join(map(str, box))
    assert page["numberMatched"] == _matched(client, f"/ogc/collections/problems/items?bbox={q}")
    assert 0 < page["numberReturned"] == page["numberMatched"]
    for f in page["features"]:
        x, y = f["geometry"]["coordinates"]
        assert box[0] <= x <= box[2] and box[1] <= y <= box[3]
    verified = api.collection_items("problems", filter="status='verified'", limit=1)
    assert verified["numberMatched"] == _matched(
        client, "/ogc/collections/problems/items?limit=1&filter=status='verified'"
    )
    assert any("bbox=" in r for r in requests)
