"""The responsibility map, unit and district pages in a real headless Chromium."""

import os
from pathlib import Path

import geopandas as gpd
import pytest

from geoapp import create_app
from geoapp.services import DEMO_DIR
from geoapp.store import open_store

pytestmark = pytest.mark.browser
READY = "body[data-map-ready]"


@pytest.fixture
def served(live_server, demo_sqlite_url, page, login):
    """The demo app served, and ``page`` signed in as admin (landing on a blank page)."""
    app = create_app({"DATABASE_URL": demo_sqlite_url, "TESTING": True})
    base = live_server(app)
    login(page, base, "admin", next_path="/favicon.ico")
    yield base
    app.extensions["geoapp.store"].close()


def leaflet_point(page, lon, lat):
    """Page coordinates of a map position."""
    x, y = page.evaluate(
        "([lat, lon]) => { var pt = window.geoappMap.map.latLngToContainerPoint([lat, lon]);"
        " return [pt.x, pt.y]; }",
        [lat, lon],
    )
    box = page.locator(".leaflet-container").bounding_box()
    return box["x"] + x, box["y"] + y


def count_polygons(page, layer):
    """Polygons drawn in one of the page's layers (a group of GeoJSON layers)."""
    return page.evaluate(
        "(name) => { var n = 0; window.geoappMap.layers[name].eachLayer(g => "
        "{ n += g.getLayers ? g.getLayers().filter(l => l._map && l._parts && l._parts.length)"
        ".length : 0; }); return n; }",
        layer,
    )


def test_map_draws_layers_and_answers_a_click(page, served, page_log, tmp_path):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(served + "/")
    page.wait_for_selector(READY, timeout=30000)
    # districts and areas are drawn on canvases; problems are clusters and single points
    assert count_polygons(page, "areas") == 253
    assert count_polygons(page, "districts") == 7
    assert page.locator(".district-label").count() == 7
    clusters = page.evaluate(
        "() => window.geoappMap.layers.problems.getLayers().filter(l => l.options.label).length"
    )
    assert clusters > 0
    assert page.locator(".unit-flag").count() >= 7
    shown = int(page.get_attribute("body", "data-problems-shown"))
    assert shown > 3000
    # click over a known area: the lookup popup names its responsible unit
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    units = gpd.read_file(DEMO_DIR / "units.geojson").set_index("unit_id")
    row = areas[areas["kind"] == "compound_managed"].iloc[3]
    p = row.geometry.representative_point()
    page.evaluate("([lat, lon]) => { window.geoappMap.map.setView([lat, lon], 18); }", [p.y, p.x])
    page.wait_for_timeout(500)
    page.mouse.click(*leaflet_point(page, p.x, p.y))
    cell = page.wait_for_selector(".lookup-popup .responsible-unit", timeout=10000)
    assert units.loc[row["responsible_unit_id"], "name"] in cell.inner_text()
    page.wait_for_timeout(400)
    shot = Path(os.environ.get("GEOAPP_SCREENSHOT_DIR", tmp_path)) / "map-lookup.png"
    page.screenshot(path=str(shot))
    assert not [u for u in page_log.requests if not u.startswith(served) and ":" in u[:6]]


def test_search_box_and_problem_popup(page, served):
    page.goto(served + "/")
    page.wait_for_selector(READY, timeout=30000)
    page.fill("#map-search", "城关市场")
    item = page.wait_for_selector("#map-search-results li", timeout=10000)
    assert "城关市场" in item.inner_text()
    item.click()
    page.wait_for_function("window.geoappMap.map.getZoom() >= 16", timeout=10000)
    # zoomed in, single problems are drawn; a popup shows a problem's details
    page.evaluate("() => { window.geoappMap.map.setZoom(19); }")
    page.wait_for_function(
        "() => Object.values(window.geoappMap.map._layers).some(l => l instanceof L.CircleMarker)",
        timeout=10000,
    )
    page.evaluate(
        "() => { Object.values(window.geoappMap.map._layers).find(l => l instanceof L.CircleMarker)"
        ".fire('click', {latlng: null, originalEvent: new MouseEvent('click')}); }"
    )
    popup = page.wait_for_selector(".problem-popup", timeout=10000)
    text = popup.inner_text()
    assert "扣分" in text and "责任单位" in text and "边界版本" in text


def test_filtered_link_survives_reload(page, served, demo_sqlite_url):
    with open_store(demo_sqlite_url) as store:
        expected = store.count_problems({"status": ["verified"], "district_id": ["D2"]})
    url = served + "/?status=verified&district=D2"
    page.goto(url)
    page.wait_for_selector(READY, timeout=30000)
    assert page.input_value("select[name=status]") == "verified"
    assert page.input_value("select[name=district]") == "D2"
    assert int(page.get_attribute("body", "data-problems-shown")) == expected
    # change a filter in the form: the URL follows, and a reload keeps it
    page.select_option("select[name=status]", "rectified")
    page.wait_for_function("location.search.includes('status=rectified')")
    page.reload()
    page.wait_for_selector(READY, timeout=30000)
    assert page.input_value("select[name=status]") == "rectified"
    with open_store(demo_sqlite_url) as store:
        expected = store.count_problems({"status": ["rectified"], "district_id": ["D2"]})
    assert int(page.get_attribute("body", "data-problems-shown")) == expected


def test_unit_page_shows_its_areas_and_totals(page, served, demo_sqlite_url):
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    unit_id = areas["responsible_unit_id"].value_counts().index[0]
    own = int((areas["responsible_unit_id"] == unit_id).sum())
    with open_store(demo_sqlite_url) as store:
        total = store.count_problems({"responsible_unit_id": [unit_id]})
        name = store.get_unit(unit_id)["name"]
    page.goto(f"{served}/units/{unit_id}")
    page.wait_for_selector(READY, timeout=30000)
    assert page.locator("h1.entity").inner_text() == name
    assert count_polygons(page, "areas") == own
    assert page.locator("#total-problems").inner_text() == str(total)
    assert int(page.get_attribute("body", "data-problems-shown")) == total


def test_district_page(page, served):
    page.goto(f"{served}/districts/D3")
    page.wait_for_selector(READY, timeout=30000)
    assert page.locator(".by-unit tr").count() > 2
    page.click(".by-unit a >> nth=0")
    page.wait_for_selector(READY, timeout=30000)
    assert "/units/" in page.url


def test_data_is_shown_as_text_never_run(page, live_server, demo_sqlite_url, login):
    evil = "<script>alert(1)</script>"
    with open_store(demo_sqlite_url) as store, store.transaction() as tx:
        unit = tx.get_unit("U01")
        tx.upsert_units([unit | {"name": evil, "contact": "<img src=x onerror=alert(2)>"}])
    app = create_app({"DATABASE_URL": demo_sqlite_url, "TESTING": True})
    base = live_server(app)
    login(page, base, "admin", next_path="/favicon.ico")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(base + "/units/U01")
    page.wait_for_selector(READY, timeout=30000)
    assert page.locator("h1.entity").inner_text() == evil
    page.goto(base + "/")
    page.wait_for_selector(READY, timeout=30000)
    labels = page.locator(".district-label").all_inner_texts()
    assert any(evil in text for text in labels)
    page.goto(base + "/units")
    assert evil in page.locator("table.list").inner_text()
    assert dialogs == []
    app.extensions["geoapp.store"].close()
