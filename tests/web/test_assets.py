"""Every file a folium page loads must come from the app itself (geoapp.web.assets)."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import branca.colormap
import folium
import folium.plugins as plugins
import pytest

from geoapp.web import assets

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "static"
INSTALL_HINT = "run scripts/install-assets (copies the npm packages into static/vendor/)"


@pytest.fixture(autouse=True)
def offline():
    assets.make_folium_offline()
    yield
    assets.make_folium_offline()  # undo any other prefix a test used


def full_map() -> folium.Map:
    """A map using folium's base resources and every plugin we vendor."""
    m = folium.Map(location=[29.9, 119.6], zoom_start=11, tiles=None)
    zone = folium.GeoJson(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": "城关镇责任区"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [[119.6, 29.9], [119.7, 29.9], [119.7, 30.0], [119.6, 29.9]]
                        ],
                    },
                }
            ],
        },
        name="责任区",
        tooltip=folium.GeoJsonTooltip(["name"]),
    ).add_to(m)
    cluster = plugins.MarkerCluster().add_to(m)
    for i, angle in enumerate((0, 45, 90)):
        folium.Marker(
            [29.9 + i / 100, 119.6],
            popup=folium.Popup("<b>问题点</b>", max_width=200),
            icon=folium.Icon(color="red", icon="trash", prefix="fa", angle=angle),
        ).add_to(cluster)
    folium.Marker([29.95, 119.65], icon=folium.Icon()).add_to(m)  # glyphicon prefix
    plugins.FastMarkerCluster([[29.91, 119.61], [29.92, 119.62]]).add_to(m)
    plugins.Fullscreen().add_to(m)
    plugins.MousePosition().add_to(m)
    plugins.Search(layer=zone, search_label="name").add_to(m)
    plugins.Draw().add_to(m)
    plugins.GeoMan().add_to(m)
    plugins.LocateControl().add_to(m)
    plugins.HeatMap([[29.9, 119.6, 0.5], [29.91, 119.61, 1.0]]).add_to(m)
    plugins.MeasureControl().add_to(m)
    branca.colormap.LinearColormap(["green", "red"], vmin=0, vmax=10, caption="扣分").add_to(m)
    folium.LayerControl().add_to(m)
    return m


def test_vendor_files_installed():
    missing = assets.missing_vendor_files(STATIC)
    assert missing == [], f"missing under static/: {missing}; {INSTALL_HINT}"


def test_full_map_loads_nothing_from_outside():
    html = full_map().get_root().render()
    assert assets.external_urls(html) == []


def test_full_map_local_files_exist():
    html = full_map().get_root().render()
    local = [u for u in assets.resource_urls(html) if u.startswith("/static/")]
    assert len(local) >= 29, local
    assert any(u.startswith(assets.VENDOR_PREFIX + "/") for u in local)
    missing = [u for u in local if not (REPO / u.lstrip("/")).is_file()]
    assert missing == [], f"{missing}; {INSTALL_HINT}"


def test_supported_classes_exist_and_are_local():
    classes = {assets._class_key(c): c for c in assets._jscss_classes()}
    assert classes.keys() >= assets.SUPPORTED_CLASSES
    for key in assets.SUPPORTED_CLASSES:
        cls = classes[key]
        urls = [url for _, url in [*cls.default_js, *cls.default_css]]
        assert urls, key
        assert all(url.startswith("/static/") for url in urls), (key, urls)


def test_every_mapped_url_is_used_by_folium():
    """Stale entries would hide a folium upgrade that changed a URL."""
    assets.make_folium_offline()
    originals = {
        url
        for lists in assets._ORIGINALS.values()
        for entries in lists.values()
        for _, url in entries
    }
    unused = set(assets.FOLIUM_ASSETS) - originals - {assets._D3_V3_CDN}
    assert unused == set()


def test_make_folium_offline_is_idempotent_and_retargets():
    first = assets.make_folium_offline()
    js = list(folium.Map.default_js)
    assert assets.make_folium_offline() == first
    assert folium.Map.default_js == js
    assets.make_folium_offline("/geo/static/vendor/")
    assert dict(folium.Map.default_js)["leaflet"] == "/geo/static/vendor/leaflet/dist/leaflet.js"
    rotate = dict(folium.Map.default_css)["awesome_rotate_css"]
    assert rotate == "/geo/static/css/leaflet.awesome.rotate.css"
    html = full_map().get_root().render()
    assert '<script src="/geo/static/vendor/d3v3/d3.min.js">' in html
    assets.make_folium_offline()
    assert folium.Map.default_js == js


def test_unvendored_plugins_are_reported():
    left = assets.make_folium_offline()
    assert "https://unpkg.com/leaflet.boatmarker/leaflet.boatmarker.min.js" in left
    with pytest.raises(assets.UnvendoredAssetError, match="BoatMarker"):
        assets.make_folium_offline("/other/vendor", strict=True)
    assert dict(folium.Map.default_js)["leaflet"].startswith("/static/vendor/")  # untouched
    m = folium.Map(tiles=None)
    plugins.MiniMap().add_to(m)
    assert any("leaflet-minimap" in u for u in assets.external_urls(m.get_root().render()))


def test_page_assets_urls():
    assert assets.vendor_url("echarts") == "/static/vendor/echarts/dist/echarts.min.js"
    assert assets.vendor_url("bootstrap_css", "/x/vendor") == (
        "/x/vendor/bootstrap/dist/css/bootstrap.min.css"
    )


def test_rotate_css_covers_every_angle():
    text = (STATIC / "css" / "leaflet.awesome.rotate.css").read_text(encoding="utf-8")
    angles = {int(a) for a in re.findall(r"\.fa-rotate-(\d+)\{transform:rotate\(\1deg\)\}", text)}
    assert angles == set(range(1, 360))


def test_package_json_pins_exact_versions():
    package = json.loads((REPO / "package.json").read_text(encoding="utf-8"))
    assert package["private"] is True
    for name, spec in package["dependencies"].items():
        version = spec.rsplit("@", 1)[-1]
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), (name, spec)
    assert package["dependencies"]["leaflet"] == "1.9.4"
    assert (REPO / "package-lock.json").is_file()
    assert os.access(REPO / "scripts" / "install-assets", os.X_OK)


# ---------------------------------------------------------------- external_urls itself
@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<script src="https://cdn.example.com/a.js"></script>', ["https://cdn.example.com/a.js"]),
        ("<link rel=stylesheet href='//cdn.example.com/a.css'>", ["//cdn.example.com/a.css"]),
        ('<img src="http://img.example.com/x.png" alt="">', ["http://img.example.com/x.png"]),
        (
            '<style>.x{background:url("https://e.com/b.png")} @import "https://e.com/c.css";</style>',
            ["https://e.com/b.png", "https://e.com/c.css"],
        ),
        (
            '<script>L.tileLayer("https://{s}.tile.osm.org/{z}/{x}/{y}.png", {}).addTo(m);</script>',
            ["https://{s}.tile.osm.org/{z}/{x}/{y}.png"],
        ),
        (
            "<script>L.tileLayer.wms('http://wms.example.com/ows', {layers: 'a'});</script>",
            ["http://wms.example.com/ows"],
        ),
        (
            '<script>$.ajax({url: "https://api.example.com/z.json"});</script>',
            ["https://api.example.com/z.json"],
        ),
        ('<script>fetch("//api.example.com/z.json")</script>', ["//api.example.com/z.json"]),
        # not requests: local hosts, relative paths, namespaces, comments, links, data values
        ('<script src="http://127.0.0.1:5000/static/a.js"></script>', []),
        ('<script src="http://localhost/a.js"></script><link href="/static/b.css">', []),
        ('<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0"/></svg>', []),
        (
            """<style>.i{background:url("data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>")}</style>""",
            [],
        ),
        ("<script>// see https://github.com/x/y/issues/1\nvar a = 1;</script>", []),
        ('<a href="https://example.com/">home</a>', []),
        ('<script>var d = {"url": "https://example.com/photo"};</script>', []),
    ],
)
def test_external_urls(html, expected):
    assert assets.external_urls(html) == expected


def test_external_urls_looks_inside_base64_iframes():
    inner = '<html><script src="https://cdn.example.com/vega.js"></script></html>'
    payload = base64.b64encode(inner.encode()).decode()
    html = f'<iframe src="data:text/html;charset=utf-8;base64,{payload}"></iframe>'
    assert assets.external_urls(html) == ["https://cdn.example.com/vega.js"]


def test_external_urls_finds_tiles_and_folium_cdn_links():
    m = folium.Map(tiles="OpenStreetMap")
    html = m.get_root().render()
    found = assets.external_urls(html)
    assert any("tile.openstreetmap.org/{z}/{x}/{y}.png" in u for u in found), found
    for original, _local in assets.FOLIUM_ASSETS.items():
        assert assets.external_urls(f'<script src="{original}"></script>') == [original]
