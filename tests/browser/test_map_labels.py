"""Names on the map in a real Chromium: district names at every zoom, area names from street
zoom on, and never two names over each other (greedy placement by priority: districts,
then larger areas), recomputed after every zoom and pan, at desktop and phone width."""

import re
from itertools import combinations

import geopandas as gpd
import pytest

from geoapp.services.county import DEMO_DIR

pytestmark = pytest.mark.browser


@pytest.fixture
def served(shared_demo, page):
    """The demo county served for the module (read only), ``page`` signed in as admin."""
    return shared_demo.sign_in(page, "admin")


READY = "body[data-map-ready]"
AREA_LABEL_ZOOM = 16  # the map's default (cfg.area_label_zoom)
HAN = re.compile(r"[\u4e00-\u9fff]")

# the names shown, each with its box as drawn (the inner label's client rectangle)
SHOWN = """() => Array.from(document.querySelectorAll('.map-name'))
  .filter(el => el.style.display !== 'none' && el.style.visibility !== 'hidden')
  .map(el => { const r = el.firstChild.getBoundingClientRect();
    return {key: el.dataset.key, text: el.firstChild.innerText, box: [r.left, r.top, r.right, r.bottom]}; })"""


def overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def view(page, lon, lat, zoom):
    """Jump (no animation) and return the names shown and the last pass's candidates."""
    page.evaluate(
        "([lat, lon, z]) => { window.geoappMap.map.setView([lat, lon], z, {animate: false}); }",
        [lat, lon, zoom],
    )
    return page.evaluate(SHOWN), page.evaluate("() => window.geoappMap.names.candidates()")


def check_view(page, names, lon, lat, zoom):
    shown, candidates = view(page, lon, lat, zoom)
    where = f"at zoom {zoom} around ({lon:.4f}, {lat:.4f})"
    # no two names drawn over each other, as the browser laid them out
    for a, b in combinations(shown, 2):
        assert not overlaps(a["box"], b["box"]), f"{a['key']} over {b['key']} {where}"
    keys = {s["key"] for s in shown}
    assert keys == {c["key"] for c in candidates if c["shown"]}
    # the placement is greedy: a name left out is cut by the map's edge or meets a name of
    # at least its priority that was shown
    size = page.evaluate("() => { const s = window.geoappMap.map.getSize(); return [s.x, s.y]; }")
    shown_boxes = [c for c in candidates if c["shown"]]
    for c in candidates:
        if c["shown"]:
            continue
        b = c["box"]
        cut = b[0] < 0 or b[1] < 0 or b[2] > size[0] or b[3] > size[1]
        blocked = [
            s for s in shown_boxes if overlaps(b, s["box"]) and s["priority"] >= c["priority"]
        ]
        assert cut or blocked, f"{c['key']} left out for nothing {where}"
    areas_shown = [s for s in shown if s["key"].startswith("area:")]
    in_view = [c for c in candidates if c["key"].startswith("area:")]
    if zoom < AREA_LABEL_ZOOM:
        assert not in_view and not areas_shown, f"area names before street zoom {where}"
    else:
        # every area whose name point is in view is a candidate (the greedy check above
        # names the largest that fits on screen clear of the district names)
        bounds = page.evaluate(
            "() => { const b = window.geoappMap.map.getBounds();"
            " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"
        )
        expected = {
            f"area:{aid}"
            for aid, (x, y) in names["points"].items()
            if bounds[0] < x < bounds[2] and bounds[1] < y < bounds[3]
        }
        assert {c["key"] for c in in_view} == expected, where
        for s in areas_shown:  # in Chinese: the area's own name
            assert s["text"] == names["names"][s["key"][5:]]
            assert HAN.search(s["text"])
    return shown


def area_names(page, base):
    """The areas' names and label points, as the map's API gives them."""
    # only the names and points cross over to Python (the shapes would make a message of MBs)
    features = page.evaluate(
        "(url) => fetch(url).then(r => r.json()).then(fc => fc.features.map("
        "f => [f.id, f.properties.name, f.properties.label_point]))",
        base + "/api/areas",
    )
    return {
        "names": {fid: name for fid, name, _ in features},
        "points": {fid: point for fid, _, point in features},
    }


@pytest.mark.parametrize("width,height", [(1400, 900), (360, 740)])
def test_names_at_every_zoom_never_overlap(page, served, tmp_path, width, height, keep_screenshot):
    base = served
    page.set_viewport_size({"width": width, "height": height})
    page.goto(base + "/")
    page.wait_for_selector(READY, timeout=30000)
    names = area_names(page, base)
    # at the zoom the map opens at: district names with their lead unit, no area names
    opened = page.evaluate("() => window.geoappMap.map.getZoom()")
    assert opened < AREA_LABEL_ZOOM
    shown = page.evaluate(SHOWN)
    assert shown and all(s["key"].startswith("district:") for s in shown)
    # a dense place (the district with the most areas), a middling one and the edge of town
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    busiest = areas["district_id"].value_counts().index[0]
    places = [areas[areas["district_id"] == busiest].geometry.union_all().centroid]
    places += [areas.geometry.iloc[i].representative_point() for i in (40, len(areas) - 1)]
    named = set()
    for p in places:
        for zoom in range(opened, 19):
            for s in check_view(page, names, p.x, p.y, zoom):
                named.add(s["key"])
        # a pan at street zoom places the names again for the new view
        check_view(page, names, p.x + 0.002, p.y + 0.001, 17)
    assert len([k for k in named if k.startswith("area:")]) >= 10
    # an animated zoom ends with the names placed for the new zoom
    p = places[0]
    view(page, p.x, p.y, 15)
    page.evaluate("() => { window.geoappMap.map.zoomIn(1); }")
    page.wait_for_function("() => window.geoappMap.map.getZoom() >= 16", timeout=10000)
    page.wait_for_timeout(600)
    shown = page.evaluate(SHOWN)
    assert any(s["key"].startswith("area:") for s in shown)
    for a, b in combinations(shown, 2):
        assert not overlaps(a["box"], b["box"])
    keep_screenshot(page, f"map-names-{width}.png")


def test_area_names_switch_off_in_the_layer_control(page, served):
    base = served
    page.goto(base + "/")
    page.wait_for_selector(READY, timeout=30000)
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    p = areas.geometry.iloc[40].representative_point()
    view(page, p.x, p.y, 17)
    assert any(s["key"].startswith("area:") for s in page.evaluate(SHOWN))
    page.locator(".leaflet-control-layers label", has_text="包干区名称").locator("input").uncheck()
    shown = page.evaluate(SHOWN)
    assert shown is not None and not any(s["key"].startswith("area:") for s in shown)
    page.locator(".leaflet-control-layers label", has_text="包干区名称").locator("input").check()
    assert any(s["key"].startswith("area:") for s in page.evaluate(SHOWN))


def test_names_are_placed_once_per_move(page, served):
    """A jump, an animated zoom and a pan each place the names once (Leaflet also fires
    'zoomend' and 'viewreset' for the same view: placing on those too did the work twice or
    three times)."""
    base = served
    page.goto(base + "/")
    page.wait_for_selector(READY, timeout=30000)
    page.evaluate(
        "() => { window.__passes = 0;"
        " window.geoappMap.names.on('placed', () => { window.__passes++; }); }"
    )
    moves = [
        "m.setView(m.getCenter(), m.getZoom() + 1, {animate: false})",
        "m.setZoom(m.getZoom() + 1)",
        "m.panBy([120, 80])",
        "m.setView(m.getCenter(), m.getZoom() - 2, {animate: false})",
    ]
    for n, move in enumerate(moves, start=1):
        page.evaluate(
            "() => new Promise((done) => { const m = window.geoappMap.map;"
            f" m.once('moveend', () => setTimeout(done, 400)); {move}; }})"
        )
        assert page.evaluate("() => window.__passes") == n, move
        shown = page.evaluate(SHOWN)
        assert shown
        for a, b in combinations(shown, 2):
            assert not overlaps(a["box"], b["box"])
