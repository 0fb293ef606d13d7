"""Reading with an API token as QGIS 3.22 and other GIS clients can send it (HTTP Basic,
user = the token's name, password = the token), bearer tokens as before, and the opt-in CORS
of the read API (tests/web/test_ogc.py has the bearer GDAL test)."""

from __future__ import annotations

import base64
import json

import pyogrio
import pytest
from webclient import make_app

from geoapp.services.accounts import create_token, set_active

READS = ("/ogc/", "/ogc/collections", "/ogc/collections/areas/items?limit=2",
         "/api/districts", "/api/problems?limit=2", "/api/summary")  # fmt: skip


def basic(user: str, password: str) -> dict:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@pytest.fixture
def qgis_token(app):
    return "qgis-office", create_token(app.extensions["geoapp.store"], "qgis-office", "planner")


def test_basic_auth_with_an_api_token_reads(app, qgis_token):
    """GET and HEAD of the OGC API and the JSON API with Basic (token name, token): the
    same answers as with the bearer token."""
    client = app.test_client()
    name, token = qgis_token
    for path in READS:
        with_basic = client.get(path, headers=basic(name, token))
        assert with_basic.status_code == 200, path
        bearer = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert bearer.status_code == 200, path
        one, other = with_basic.get_json(), bearer.get_json()
        one.pop("timeStamp", None), other.pop("timeStamp", None)
        assert one == other, path
        assert client.head(path, headers=basic(name, token)).status_code == 200, path


def test_basic_auth_refusals(app, qgis_token):
    """A wrong password, a wrong or empty user name, a revoked token: 401 JSON with a Basic
    and a Bearer challenge; writes are never accepted with Basic (bearer only)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    name, token = qgis_token
    for headers in (basic(name, token + "x"), basic("other", token), basic("", token),
                    basic(name, ""), {"Authorization": "Basic !!!"}):  # fmt: skip
        for path in ("/ogc/collections", "/api/districts"):
            r = client.get(path, headers=headers)
            assert r.status_code == 401, (path, headers)
            assert r.get_json()["error"] == "unauthorized"
            challenges = r.headers.getlist("WWW-Authenticate")
            assert any(c.startswith("Basic ") for c in challenges), challenges
            assert any(c.startswith("Bearer ") for c in challenges), challenges
    admin = create_token(app.extensions["geoapp.store"], "writer", "admin")
    r = client.post("/api/problems", json={}, headers=basic("writer", admin))
    assert r.status_code == 401 and "GET" in r.get_json()["message"]
    # bearer tokens keep working for writes (a 400 for the empty body, not a 401)
    r = client.post("/api/problems", json={}, headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 400
    set_active(app.extensions["geoapp.store"], "token", name, False)
    assert client.get("/ogc/collections", headers=basic(name, token)).status_code == 401
    # a page is not read with Basic (sessions only)
    assert client.get("/ledger", headers=basic(name, token)).status_code in (302, 401)


def test_gdal_reads_the_ogc_api_with_basic_auth(app, live_server, qgis_token):
    """GDAL's OAPIF driver with GDAL_HTTP_AUTH=BASIC and the token as the password (what
    QGIS's Basic authentication sends) lists and reads the collections."""
    base = live_server(app)
    name, token = qgis_token
    pyogrio.set_gdal_config_options(
        {"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"{name}:{token}"}
    )
    try:
        layers = {layer for layer, _ in pyogrio.list_layers(f"OAPIF:{base}/ogc/")}
        assert layers == {"districts", "areas", "units", "problems"}
        units = pyogrio.read_dataframe(f"OAPIF:{base}/ogc/", layer="units", use_arrow=True)
        assert len(units) == len(app.extensions["geoapp.store"].list_units())
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_USERPWD": None})


ORIGIN = "http://gis.intranet:8080"


def test_cors_is_off_by_default(app, qgis_token):
    client = app.test_client()
    _, token = qgis_token
    r = client.get("/api/districts", headers={"Origin": ORIGIN, "Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    pre = client.options("/api/districts", headers={"Origin": ORIGIN,
                                                     "Access-Control-Request-Method": "GET"})  # fmt: skip
    assert "Access-Control-Allow-Origin" not in pre.headers


def test_cors_lets_listed_origins_read(demo_url):
    """CORS_ORIGINS: a listed origin's preflight for GET is answered before authentication
    (204, methods and headers); its reads carry the allow header (errors too); other
    origins and writes get none."""
    app = make_app(demo_url, CORS_ORIGINS=f"{ORIGIN}, http://other.intranet")
    client = app.test_client()
    token = create_token(app.extensions["geoapp.store"], "web", "coordinator")
    for path in ("/api/districts", "/ogc/collections/areas/items"):
        pre = client.options(path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
                                            "Access-Control-Request-Headers": "authorization"})  # fmt: skip
        assert pre.status_code == 204, path
        assert pre.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "GET" in pre.headers["Access-Control-Allow-Methods"]
        assert "authorization" in pre.headers["Access-Control-Allow-Headers"].lower()
        assert "Access-Control-Allow-Credentials" not in pre.headers
        r = client.get(path, headers={"Origin": ORIGIN, "Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "Origin" in r.headers["Vary"]
        anonymous = client.get(path, headers={"Origin": ORIGIN})
        assert anonymous.status_code == 401
        assert anonymous.headers["Access-Control-Allow-Origin"] == ORIGIN
        stranger = client.get(path, headers={"Origin": "http://evil.example",
                                             "Authorization": f"Bearer {token}"})  # fmt: skip
        assert "Access-Control-Allow-Origin" not in stranger.headers
        evil = client.options(path, headers={"Origin": "http://evil.example",
                                             "Access-Control-Request-Method": "GET"})  # fmt: skip
        assert "Access-Control-Allow-Origin" not in evil.headers
    write = client.options("/api/problems", headers={"Origin": ORIGIN,
                                                      "Access-Control-Request-Method": "POST"})  # fmt: skip
    assert "Access-Control-Allow-Origin" not in write.headers
    app.extensions["geoapp.store"].close()


def test_owslib_reads_with_basic_auth_and_is_told_401_without(app, live_server, qgis_token):
    """OWSLib 0.35 with its Basic ``Authentication`` pages through a collection; without
    credentials it gets a 401 it can report (JSON), not the sign-in page."""
    import requests
    from owslib.ogcapi.features import Features
    from owslib.util import Authentication

    base = live_server(app)
    name, token = qgis_token
    api = Features(f"{base}/ogc/", auth=Authentication(name, token))
    assert {c["id"] for c in api.collections()["collections"]} >= {"areas", "problems"}
    page = api.collection_items("problems", limit=5, datetime="2024-05-01/..")
    assert page["numberReturned"] == 5 and page["type"] == "FeatureCollection"
    with pytest.raises(RuntimeError) as refused:  # OWSLib's report of an HTTP error
        Features(f"{base}/ogc/").collections()
    assert json.loads(str(refused.value))["error"] == "unauthorized"
    assert requests.get(f"{base}/ogc/collections", timeout=30).status_code == 401
