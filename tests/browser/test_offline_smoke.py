"""A folium page with the vendored libraries works in Chromium with no internet at all."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import folium
import pytest
from flask import Flask

from geoapp.web import maps
from geoapp.web.assets import external_urls, make_folium_offline

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]

ZONE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "城关镇第一责任区", "leader": "张三"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [119.60, 29.88],
                        [119.68, 29.88],
                        [119.68, 29.94],
                        [119.60, 29.94],
                        [119.60, 29.88],
                    ]
                ],
            },
        }
    ],
}


def map_html() -> str:
    """geoapp's boundary-editor map (LeanMap, Fullscreen, GeoMan: every vendored folium
    resource) with a zone in GeoMan's feature group, no basemap."""
    make_folium_offline()
    m = maps.editor_map((119.58, 29.86, 119.70, 29.96), {})
    group = next(c for c in m._children.values() if isinstance(c, folium.FeatureGroup))
    folium.GeoJson(
        ZONE,
        name="责任区",
        style_function=lambda _f: {"color": "#c0392b", "fillColor": "#e74c3c", "weight": 2},
        tooltip=folium.GeoJsonTooltip(["name", "leader"], aliases=["责任区", "负责人"]),
        popup=folium.GeoJsonPopup(["name"], aliases=["责任区"]),
    ).add_to(group)
    m.get_root().script.add_child(  # the page's editor.js is not loaded here
        folium.Element("window.GeoappEditor = function () { return {}; };"), index=0
    )
    parts = maps.map_parts(m)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"{parts['header']}</head><body>{parts['body']}<script>{parts['script']}</script>"
        "</body></html>"
    )


@pytest.fixture
def map_url(live_server) -> str:
    html = map_html()
    assert external_urls(html) == []
    app = Flask(__name__, static_folder=str(REPO / "static"), static_url_path="/static")
    app.add_url_rule("/map", "map", lambda: html)
    # the tab's icon, which Chromium asks for on its own (a 404 would be a console error)
    app.add_url_rule("/favicon.ico", "favicon", lambda: ("", 204))
    return live_server(app) + "/map"


def test_folium_map_works_offline(page, page_log, map_url, tmp_path):
    page.goto(map_url, wait_until="load")

    page.wait_for_selector(".leaflet-container")
    assert page.evaluate("typeof L === 'object' && L.version") == "1.9.4"
    assert page.evaluate("typeof L.PM === 'object'")  # Leaflet-Geoman, the editor's tools
    # the polygon is an SVG path
    page.wait_for_selector("svg path.leaflet-interactive")
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1

    # Chinese text in a tooltip and a popup
    page.hover("svg path.leaflet-interactive", position={"x": 40, "y": 40})
    tooltip = page.wait_for_selector(".leaflet-tooltip")
    assert "城关镇第一责任区" in tooltip.inner_text()
    page.click("svg path.leaflet-interactive", position={"x": 60, "y": 60})
    popup = page.wait_for_selector(".leaflet-popup-content")
    assert "城关镇第一责任区" in popup.inner_text()
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
    )
    shot = tmp_path / "offline_smoke.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
    if os.environ.get("GEOAPP_SCREENSHOT_DIR"):  # keep it for a human to look at
        target = Path(os.environ["GEOAPP_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / shot.name)

    assert page_log.requests, "no request recorded"
    base = map_url.rsplit("/", 1)[0] + "/"
    assert all(u.startswith(base) for u in page_log.requests if u.startswith("http"))
    for rel in ("leaflet/dist/leaflet.js", "leaflet.fullscreen/", "@geoman-io/"):
        assert any(f"/static/vendor/{rel}" in u for u in page_log.requests), rel


# Two different characters drawn with the same pixels are both the "missing glyph" box.
SAME_GLYPH_JS = """
(chars) => {
  const draw = (ch) => {
    const c = document.createElement("canvas");
    c.width = c.height = 48;
    const ctx = c.getContext("2d");
    ctx.font = "32px sans-serif";
    ctx.fillText(ch, 4, 38);
    return Array.from(ctx.getImageData(0, 0, 48, 48).data).join(",");
  };
  return draw(chars[0]) === draw(chars[1]);
}
"""


def test_chinese_text_has_a_font(page):
    """Chinese labels need a CJK font on the machine (Debian: fonts-noto-cjk or
    fonts-wqy-microhei); without one every character is drawn as the same empty box."""
    page.set_content("<html><body>责任区</body></html>")
    if page.evaluate(SAME_GLYPH_JS, ["公", "厕"]):
        message = (
            "no CJK font: Chinese text renders as boxes; install Debian's fonts-noto-cjk "
            "(or fonts-wqy-microhei)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    assert not page.evaluate(SAME_GLYPH_JS, ["A", "B"])
