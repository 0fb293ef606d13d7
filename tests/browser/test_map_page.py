"""The responsibility map in a real headless Chromium."""

import os
from pathlib import Path

import geopandas as gpd
import pytest

from geoapp import create_app
from geoapp.services import DEMO_DIR

pytestmark = pytest.mark.browser


@pytest.fixture
def served(live_server, demo_sqlite_url):
    app = create_app({"DATABASE_URL": demo_sqlite_url, "TESTING": True})
    yield live_server(app)
    app.extensions["geoapp.store"].close()


def test_map_draws_layers_and_answers_a_click(page, served, page_log, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto(served + "/")
    page.wait_for_selector(".leaflet-container")
    page.wait_for_selector("body[data-problems-loaded]", timeout=20000)
    loaded = int(page.get_attribute("body", "data-problems-loaded"))
    assert loaded >= 3000
    # district and area polygons are SVG paths; problems are drawn on a canvas
    assert page.locator("path.leaflet-interactive").count() > 150
    assert page.locator("canvas").count() >= 1
    assert page.locator(".district-label").count() == 7
    # click the map over a known area: the lookup popup names its responsible unit
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    units = gpd.read_file(DEMO_DIR / "units.geojson").set_index("unit_id")
    row = areas.iloc[40]
    p = row.geometry.representative_point()
    point = page.evaluate(
        "([lat, lon]) => { var m = Object.values(window).find(v => v instanceof L.Map);"
        " var pt = m.latLngToContainerPoint([lat, lon]); return [pt.x, pt.y]; }",
        [p.y, p.x],
    )
    box = page.locator(".leaflet-container").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    cell = page.wait_for_selector(".lookup-popup .responsible-unit", timeout=10000)
    assert units.loc[row["responsible_unit_id"], "name"] in cell.inner_text()
    shot = Path(os.environ.get("GEOAPP_SCREENSHOT_DIR", tmp_path)) / "map.png"
    page.screenshot(path=str(shot))
    assert all(u.startswith(served) or u.startswith("data:") for u in page_log.requests)
