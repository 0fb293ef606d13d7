"""A folium page with the vendored libraries works in Chromium with no internet at all."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import folium
import folium.plugins as plugins
import pytest
from flask import Flask

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
    make_folium_offline()
    m = folium.Map(location=[29.91, 119.64], zoom_start=12, tiles=None)
    # Without a tile layer Leaflet has no maxZoom, and MarkerCluster throws "Map has no
    # maxZoom specified"; folium's max_zoom= only goes to the tile layer, so set it here.
    m.options["max_zoom"] = 18
    folium.GeoJson(
        ZONE,
        name="责任区",
        style_function=lambda _f: {"color": "#c0392b", "fillColor": "#e74c3c", "weight": 2},
        tooltip=folium.GeoJsonTooltip(["name", "leader"], aliases=["责任区", "负责人"]),
    ).add_to(m)
    cluster = plugins.MarkerCluster(name="问题点").add_to(m)
    for i in range(4):  # close together: drawn as one cluster
        folium.Marker(
            [29.905 + i * 0.0004, 119.625 + i * 0.0004],
            popup=f"问题点 {i + 1}：垃圾堆放",
            icon=folium.Icon(color="red", icon="trash", prefix="fa"),
        ).add_to(cluster)
    folium.Marker(  # alone: drawn as a marker (default glyphicon icon, rotated)
        [29.925, 119.665],
        popup=folium.Popup("<b>公厕</b> 卫生达标", max_width=200),
        icon=folium.Icon(color="green", angle=30),
    ).add_to(cluster)
    plugins.Fullscreen(title="全屏", title_cancel="退出全屏").add_to(m)
    plugins.MousePosition(prefix="坐标").add_to(m)
    return m.get_root().render()


@pytest.fixture
def map_url(live_server) -> str:
    html = map_html()
    assert external_urls(html) == []
    app = Flask(__name__, static_folder=str(REPO / "static"), static_url_path="/static")
    app.add_url_rule("/map", "map", lambda: html)
    return live_server(app) + "/map"


def test_folium_map_works_offline(page, page_log, map_url, tmp_path):
    page.goto(map_url, wait_until="load")

    page.wait_for_selector(".leaflet-container")
    assert page.evaluate("typeof L === 'object' && L.version") == "1.9.4"
    # the polygon is an SVG path
    page.wait_for_selector("svg path.leaflet-interactive")
    # the four close markers are one cluster showing "4"; the fifth is an awesome marker
    cluster = page.wait_for_selector(".marker-cluster")
    assert cluster.inner_text().strip() == "4"
    page.wait_for_selector(".awesome-marker i.glyphicon-info-sign.fa-rotate-30")
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
    assert page.locator(".leaflet-control-mouseposition").count() == 1

    # local icon fonts actually load (served by the app, not a CDN)
    page.evaluate("document.fonts.ready.then(() => true)")
    families = page.evaluate(
        "[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
    )
    assert any("Glyphicons Halflings" in f for f in families), families

    # Chinese text in a tooltip and a popup
    page.hover("svg path.leaflet-interactive", position={"x": 40, "y": 40})
    tooltip = page.wait_for_selector(".leaflet-tooltip")
    assert "城关镇第一责任区" in tooltip.inner_text()
    page.click(".awesome-marker-icon-green")
    popup = page.wait_for_selector(".leaflet-popup-content")
    assert "公厕" in popup.inner_text()
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
    )
    shot = tmp_path / "offline_smoke.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("GEOAPP_SCREENSHOT_DIR"):  # keep it for a human to look at
        target = Path(os.environ["GEOAPP_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / shot.name)

    cluster.click()  # zooms in: the clustered markers are drawn one by one
    page.wait_for_function(
        "() => document.querySelectorAll('.awesome-marker-icon-red').length >= 4"
    )

    assert page_log.requests, "no request recorded"
    base = map_url.rsplit("/", 1)[0] + "/"
    assert all(u.startswith(base) for u in page_log.requests if u.startswith("http"))
    assert any("/static/vendor/leaflet/dist/leaflet.js" in u for u in page_log.requests)


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
