"""The basemap from a tile package (GEOAPP_TILES_PACKAGE): tiles served at /tiles/ with
caching headers, the map pages use them as their base layer, and a bad package stops the
start with its reason."""

import json

import pytest
from tilepack import make_package
from webclient import make_app, sign_in

from geoapp.io.errors import InputError
from geoapp.io.mbtiles import BLANK_PNG, TilePackage

TILES = [(0, 0, 0), (1, 1, 0), (3, 6, 3), (4, 13, 6)]


@pytest.fixture
def package(tmp_path):
    return make_package(tmp_path / "base.mbtiles", TILES)


@pytest.fixture
def packaged(demo_sqlite_url, package):
    app = make_app(demo_sqlite_url, TILES_PACKAGE=str(package))
    yield sign_in(app.test_client(), "coordinator")
    app.extensions["geoapp.store"].close()


def test_tiles_come_from_the_package_with_caching_headers(packaged, package):
    reader = TilePackage(package)
    for z, x, y in TILES:
        r = packaged.get(f"/tiles/{z}/{x}/{y}.png")
        assert r.status_code == 200 and r.mimetype == "image/png"
        assert r.data == reader.tile(z, x, y)
        cache = set(r.headers["Cache-Control"].split(", "))
        assert {"private", "max-age=86400"} <= cache and "public" not in cache
        again = packaged.get(
            f"/tiles/{z}/{x}/{y}.png", headers={"If-None-Match": r.headers["ETag"]}
        )
        assert again.status_code == 304 and not again.data
    # a tile the package does not hold is blank, not an error the browser would log
    blank = packaged.get("/tiles/4/13/7.png")
    assert blank.status_code == 200 and blank.data == BLANK_PNG
    # an address no zoom level has is not found
    for bad in ("/tiles/1/2/0.png", "/tiles/1/0/2.png", "/tiles/31/0/0.png", "/tiles/0/0/0.gif"):
        assert packaged.get(bad).status_code == 404, bad


def test_map_pages_use_the_package_as_their_base_layer(packaged):
    for path in ("/", "/districts/D1", "/units/U01", "/report"):
        html = packaged.get(path).get_data(as_text=True)
        assert '"/tiles/{z}/{x}/{y}.png"' in html, path
        assert '"maxNativeZoom": 4' in html, path  # deeper, the package's tiles are enlarged
        # the package's attribution (as written, or escaped in the map's script)
        assert "测试底图" in html or json.dumps("测试底图")[1:-1] in html, path


def test_without_a_package_no_basemap_and_no_tiles(client):
    assert client.get("/tiles/0/0/0.png").status_code == 404
    assert "/tiles/" not in client.get("/").get_data(as_text=True)


def test_a_configured_url_wins_over_the_package(demo_sqlite_url, package):
    url = "https://t0.tianditu.gov.cn/vec_w/wmts?tk=KEY&x={x}&y={y}&l={z}"
    app = make_app(demo_sqlite_url, TILES_PACKAGE=str(package), TILES_URL=url)
    html = sign_in(app.test_client(), "coordinator").get("/").get_data(as_text=True)
    app.extensions["geoapp.store"].close()
    assert "t0.tianditu.gov.cn" in html and '"maxNativeZoom": 19' in html


def test_a_bad_package_stops_the_start_saying_why(demo_sqlite_url, tmp_path):
    (tmp_path / "notes.mbtiles").write_text("hello" * 200)
    with pytest.raises(InputError, match="not an MBTiles file"):
        make_app(demo_sqlite_url, TILES_PACKAGE=str(tmp_path / "notes.mbtiles"))
    with pytest.raises(InputError, match="no such file"):
        make_app(demo_sqlite_url, TILES_PACKAGE=str(tmp_path / "missing.mbtiles"))
