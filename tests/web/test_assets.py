"""Every file a folium page loads must come from the app itself (geoapp.web.assets)."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import branca.colormap
import folium
import folium.plugins as plugins
import pytest

from geoapp.web import assets, maps

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "static"
INSTALL_HINT = "run scripts/install-assets (copies the npm packages into static/vendor/)"


@pytest.fixture(autouse=True)
def offline():
    assets.make_folium_offline()
    yield
    assets.make_folium_offline()  # undo any other prefix a test used


BOUNDS = (119.6, 29.9, 119.7, 30.0)
TILES = "/tiles/{z}/{x}/{y}.png"


def page_maps() -> dict[str, folium.Map]:
    """Every kind of map the pages draw (geoapp.web.maps), with a local basemap."""
    basemap = {"tiles_url": TILES, "native_zoom": 17}
    return {
        "responsibility": maps.responsibility_map(BOUNDS, {}, **basemap),
        "editor": maps.editor_map(BOUNDS, {}, **basemap),
        "generations": maps.generations_map(BOUNDS, {}, **basemap),
        "page": maps.page_map(BOUNDS, "ReportPage", {}, **basemap),
    }


def template_vendor_files() -> set[str]:
    """vendor/... files the templates (and the field pages' service worker list) load."""
    found = set()
    for path in (REPO / "geoapp" / "templates").rglob("*.html"):
        found.update(re.findall(r"filename='(vendor/[^']+)'", path.read_text(encoding="utf-8")))
    return found


def test_vendor_files_installed():
    missing = assets.missing_vendor_files(STATIC)
    assert missing == [], f"missing under static/: {missing}; {INSTALL_HINT}"


@pytest.mark.parametrize("kind", ["responsibility", "editor", "generations", "page"])
def test_page_maps_load_nothing_from_outside(kind):
    html = page_maps()[kind].get_root().render()
    assert assets.external_urls(html) == []
    local = [u for u in assets.resource_urls(html) if u.startswith("/static/")]
    assert assets.vendor_url("leaflet_js") in local
    missing = [u for u in local if not (REPO / u.lstrip("/")).is_file()]
    assert missing == [], f"{missing}; {INSTALL_HINT}"


def test_vendored_files_are_exactly_what_pages_load():
    """Nothing vendored that no page loads, nothing loaded that is not vendored."""
    loaded = set(template_vendor_files())
    for m in page_maps().values():
        parts = maps.map_parts(m)
        for url in assets.resource_urls(parts["header"]):
            assert url.startswith(assets.VENDOR_PREFIX + "/"), url
            loaded.add(url[len("/static/") :])
    assert loaded == set(assets.local_files())
    packages = json.loads((REPO / "package.json").read_text(encoding="utf-8"))["dependencies"]
    used = {rel.split("/")[1] for rel in loaded if not rel.startswith("vendor/@")}
    used |= {"/".join(rel.split("/")[1:3]) for rel in loaded if rel.startswith("vendor/@")}
    assert set(packages) == used


def test_page_classes_are_local():
    classes = {assets._class_key(c): c for c in assets._jscss_classes()}
    assert classes.keys() >= assets.PAGE_RESOURCES.keys()
    for key, names in assets.PAGE_RESOURCES.items():
        cls = classes[key]
        used = [
            url
            for name, url in [*cls.default_js, *cls.default_css]
            if names is None or name in names
        ]
        assert used, key
        assert all(url.startswith("/static/vendor/") for url in used), (key, used)


def test_every_mapped_url_is_used_by_folium():
    """Stale entries would hide a folium upgrade that changed a URL."""
    assets.make_folium_offline()
    originals = {
        url
        for lists in assets._ORIGINALS.values()
        for entries in lists.values()
        for _, url in entries
    }
    assert set(assets.FOLIUM_ASSETS) - originals == set()


def test_make_folium_offline_is_idempotent_and_retargets():
    first = assets.make_folium_offline()
    js = list(folium.Map.default_js)
    assert assets.make_folium_offline() == first
    assert folium.Map.default_js == js
    assets.make_folium_offline("/geo/static/vendor/")
    assert dict(folium.Map.default_js)["leaflet"] == "/geo/static/vendor/leaflet/dist/leaflet.js"
    html = page_maps()["editor"].get_root().render()
    assert '<script src="/geo/static/vendor/leaflet.fullscreen/Control.FullScreen.js">' in html
    assets.make_folium_offline()
    assert folium.Map.default_js == js


def test_unvendored_plugins_are_reported():
    left = assets.make_folium_offline()
    assert "https://unpkg.com/leaflet.boatmarker/leaflet.boatmarker.min.js" in left
    # folium.Map's defaults that no page loads (LeanMap drops them) stay on their CDN
    assert "https://code.jquery.com/jquery-3.7.1.min.js" in left
    with pytest.raises(assets.UnvendoredAssetError, match="BoatMarker"):
        assets.make_folium_offline("/other/vendor", strict=True)
    assert dict(folium.Map.default_js)["leaflet"].startswith("/static/vendor/")  # untouched
    m = folium.Map(tiles=None)
    plugins.MiniMap().add_to(m)
    assert any("leaflet-minimap" in u for u in assets.external_urls(m.get_root().render()))


@pytest.mark.parametrize(
    "add",
    [
        lambda m: plugins.MarkerCluster().add_to(m),
        lambda m: plugins.MeasureControl().add_to(m),
        lambda m: plugins.BoatMarker([29.95, 119.65]).add_to(m),
        lambda m: branca.colormap.LinearColormap(["green", "red"], vmin=0, vmax=1).add_to(m),
    ],
    ids=["markercluster", "measure", "boatmarker", "colormap"],
)
def test_a_page_map_with_an_unvendored_plugin_is_refused(add):
    """A page that starts using a plugin not vendored fails at once, naming the URLs."""
    m = maps.base_map(BOUNDS)
    add(m)
    with pytest.raises(assets.UnvendoredAssetError, match="https://"):
        maps.map_parts(m)


def test_no_warning_at_start():
    """Loading folium plugins no page uses is not news: nothing logged at WARNING."""
    code = (
        "import logging; logging.basicConfig(level=logging.INFO);"
        "from geoapp.web.assets import make_folium_offline; make_folium_offline()"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_page_assets_urls():
    assert assets.vendor_url("leaflet_js") == "/static/vendor/leaflet/dist/leaflet.js"
    assert assets.vendor_url("leaflet_css", "/x/vendor") == "/x/vendor/leaflet/dist/leaflet.css"


def test_package_json_pins_exact_versions():
    package = json.loads((REPO / "package.json").read_text(encoding="utf-8"))
    assert package["private"] is True
    # devDependencies: bench_map's folium baseline only (bench/map_baseline.py)
    pinned = {**package["dependencies"], **package.get("devDependencies", {})}
    for name, spec in pinned.items():
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
