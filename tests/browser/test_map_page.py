"""The responsibility map, unit and district pages in a real headless Chromium."""

import re

import geopandas as gpd
import pytest

from geoapp import create_app
from geoapp.services.county import DEMO_DIR
from geoapp.store import open_store

pytestmark = pytest.mark.browser
READY = "body[data-map-ready]"


@pytest.fixture
def served(shared_demo, page):
    """The demo county served for the module's readers, ``page`` signed in as admin (on no
    page yet)."""
    return shared_demo.sign_in(page, "admin")


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
    """Features of one of the page's canvas layers ("areas", "districts") that the last
    full draw put on screen."""
    return page.evaluate("(name) => window.geoappMap.shapes[name].drawnCount()", layer)


def dots(page):
    """The problem dots on the map: clusters (count > 1) and single problems, each with
    where it is drawn in page pixels."""
    box = page.locator(".leaflet-container").bounding_box()
    found = page.evaluate(
        "() => { var d = window.geoappMap.shapes.problems; return d.dots().map(function (x) {"
        " var p = d.containerPoint(x); return {count: x.count, id: x.id || null, x: p.x, y: p.y,"
        " radius: x.radius}; }); }"
    )
    for dot in found:
        dot["x"] += box["x"]
        dot["y"] += box["y"]
    return found


def on_screen(page, found, margin=40):
    """Dots well inside the map (not under its controls), largest first."""
    box = page.locator(".leaflet-container").bounding_box()
    inside = [
        d
        for d in found
        if box["x"] + margin < d["x"] < box["x"] + box["width"] - 4 * margin
        and box["y"] + 3 * margin < d["y"] < box["y"] + box["height"] - margin
    ]
    return sorted(inside, key=lambda d: -d["count"])


def test_map_draws_layers_and_answers_a_click(page, served, page_log, tmp_path, keep_screenshot):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(served + "/")
    page.wait_for_selector(READY, timeout=30000)
    # districts and areas are drawn on canvases; problems are clusters and single points
    assert count_polygons(page, "areas") == 253
    assert count_polygons(page, "districts") == 7
    assert page.locator(".district-label").count() == 7
    # clusters carry their count, and all the problems in view are in them
    found = dots(page)
    assert [d for d in found if d["count"] > 1]
    assert sum(d["count"] for d in found) == int(page.get_attribute("body", "data-problems-shown"))
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
    keep_screenshot(page, "map-lookup.png")
    assert not [u for u in page_log.requests if not u.startswith(served) and ":" in u[:6]]


def test_search_box_and_problem_popup(page, served):
    page.goto(served + "/")
    page.wait_for_selector(READY, timeout=30000)
    page.fill("#map-search", "城关市场")
    item = page.wait_for_selector("#map-search-results li", timeout=10000)
    assert "城关市场" in item.inner_text()
    item.click()
    page.wait_for_function("() => window.geoappMap.map.getZoom() >= 16", timeout=10000)
    # zoomed in, single problems are drawn; a popup shows a problem's details
    page.evaluate("() => { window.geoappMap.map.setZoom(19); }")
    page.wait_for_function(
        "() => window.geoappMap.shapes.problems.dots().some(d => d.count === 1)", timeout=10000
    )
    # the zoom animates (slower on a busy machine): read the dots again until a single
    # problem is drawn well inside the map, instead of once after a fixed pause
    single = []
    for _ in range(50):
        page.wait_for_timeout(200)
        single = [d for d in on_screen(page, dots(page)) if d["count"] == 1]
        if single:
            break
    assert single
    page.mouse.click(single[0]["x"], single[0]["y"])
    popup = page.wait_for_selector(".problem-popup", timeout=10000)
    text = popup.inner_text()
    assert "扣分" in text and "责任单位" in text and "边界版本" in text


def test_filtered_link_survives_reload(page, served, shared_demo):
    with open_store(shared_demo.url) as store:
        expected = store.count_problems({"status": ["verified"], "district_id": ["D2"]})
    url = served + "/?status=verified&district=D2"
    page.goto(url)
    page.wait_for_selector(READY, timeout=30000)
    assert page.input_value("select[name=status]") == "verified"
    assert page.input_value("select[name=district]") == "D2"
    assert int(page.get_attribute("body", "data-problems-shown")) == expected
    # change a filter in the form: the URL follows, and a reload keeps it
    page.select_option("select[name=status]", "rectified")
    page.wait_for_function("() => location.search.includes('status=rectified')")
    page.reload()
    page.wait_for_selector(READY, timeout=30000)
    assert page.input_value("select[name=status]") == "rectified"
    with open_store(shared_demo.url) as store:
        expected = store.count_problems({"status": ["rectified"], "district_id": ["D2"]})
    assert int(page.get_attribute("body", "data-problems-shown")) == expected


def test_unit_page_shows_its_areas_and_totals(page, served, shared_demo):
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    unit_id = areas["responsible_unit_id"].value_counts().index[0]
    own = int((areas["responsible_unit_id"] == unit_id).sum())
    with open_store(shared_demo.url) as store:
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


def test_data_is_shown_as_text_never_run(page, live_server, demo_sqlite_url, sign_in_as):
    evil = "<script>alert(1)</script>"
    with open_store(demo_sqlite_url) as store, store.transaction() as tx:
        unit = tx.get_unit("U01")
        tx.upsert_units([unit | {"name": evil, "contact": "<img src=x onerror=alert(2)>"}])
    app = create_app({"DATABASE_URL": demo_sqlite_url, "TESTING": True})
    base = live_server(app)
    sign_in_as(page, base, "admin")
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


def drawing_order(page):
    """The canvas's layers from the bottom up."""
    return page.evaluate(
        "() => { var s = window.geoappMap.shapes, names = new Map(Object.entries(s).map(e => "
        "[e[1], e[0]])), out = []; for (var o = s.areas._renderer._drawFirst; o; o = o.next) "
        "out.push(names.get(o.layer) || 'other'); return out; }"
    )


def test_hovering_an_area_names_it_and_the_layer_control_restacks(page, served):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(served + "/")
    page.wait_for_selector(READY, timeout=30000)
    assert drawing_order(page) == ["districts", "areas", "problems"]
    # problems off (the layer control's own checkbox): the areas underneath answer the mouse
    control = page.locator(".leaflet-control-layers-overlays label")
    control.filter(has_text="问题点").locator("input").uncheck()
    assert page.evaluate("() => !window.geoappMap.shapes.problems._map")
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    units = gpd.read_file(DEMO_DIR / "units.geojson").set_index("unit_id")
    row = areas[areas["kind"] == "urban_village"].iloc[0]
    p = row.geometry.representative_point()
    page.evaluate("([lat, lon]) => { window.geoappMap.map.setView([lat, lon], 17); }", [p.y, p.x])
    page.wait_for_timeout(400)
    x, y = leaflet_point(page, p.x, p.y)
    page.mouse.move(x - 3, y - 3)
    page.mouse.move(x, y)
    tip = page.wait_for_selector(".leaflet-tooltip .area-tip", timeout=10000)
    text = tip.inner_text()
    assert row["name"] in text and units.loc[row["responsible_unit_id"], "name"] in text
    hovered = page.evaluate(
        "() => { var a = window.geoappMap.shapes.areas; return a._feats[a._hover].feature"
        ".properties.id; }"
    )
    assert hovered == row["area_id"]
    # off and on again: the areas go back under the problems, above the districts
    control.filter(has_text=re.compile(r"^\s*包干区\s*$")).locator("input").uncheck()
    assert count_polygons(page, "areas") >= 1  # the last full draw's count is kept
    assert drawing_order(page) == ["districts"]
    control.filter(has_text="问题点").locator("input").check()
    control.filter(has_text=re.compile(r"^\s*包干区\s*$")).locator("input").check()
    assert drawing_order(page) == ["districts", "areas", "problems"]


def test_a_cluster_names_its_count_and_zooms_in_when_clicked(page, served):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(served + "/")
    page.wait_for_selector(READY, timeout=30000)
    zoom = page.evaluate("() => window.geoappMap.map.getZoom()")
    cluster = [d for d in on_screen(page, dots(page)) if d["count"] > 1][0]
    page.mouse.move(cluster["x"] - 2, cluster["y"] - 2)
    page.mouse.move(cluster["x"], cluster["y"])
    tip = page.wait_for_selector(".leaflet-tooltip", timeout=10000)
    assert tip.inner_text().startswith(str(cluster["count"]))
    page.mouse.click(cluster["x"], cluster["y"])
    page.wait_for_function(f"() => window.geoappMap.map.getZoom() === {zoom + 2}", timeout=10000)
    # a cluster click is not a "who is responsible here?" click
    assert page.locator(".lookup-popup").count() == 0


@pytest.fixture
def tiny_served(shared_tiny, page):
    """The tiny county of tests/hand_county.py served for the module (read only), ``page``
    signed in as admin."""
    return shared_tiny.sign_in(page, "admin")


def canvas_rgb(page, x, y):
    """The colour the problems' canvas holds at page position (x, y)."""
    return page.evaluate(
        "([x, y]) => { var c = window.geoappMap.shapes.problems._renderer._container;"
        " var r = c.getBoundingClientRect(), s = c.width / r.width;"
        " var px = c.getContext('2d').getImageData(Math.round((x - r.left) * s),"
        " Math.round((y - r.top) * s), 1, 1).data; return [px[0], px[1], px[2]]; }",
        [x, y],
    )


def near(rgb, hex_colour, tolerance=12):
    want = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, want, strict=True))


def dots_at(page, url, lon, zoom, count):
    """Open ``url``, centre the map on (lon, 28.205) at ``zoom`` and return the dots of
    ``count`` problems once drawn."""
    page.goto(url)
    page.wait_for_selector(READY, timeout=30000)
    page.evaluate("([lon, z]) => { window.geoappMap.map.setView([28.205, lon], z); }", [lon, zoom])
    page.wait_for_function(
        "(n) => window.geoappMap.shapes.problems.dots().some(d => d.count === n)",
        arg=count,
        timeout=10000,
    )
    page.wait_for_timeout(300)
    return [d for d in dots(page) if d["count"] == count]


def test_a_mostly_closed_cluster_with_one_overdue_problem_is_drawn_overdue(page, tiny_served):
    from geoapp.web.maps import OVERDUE_COLOUR, STATUS_COLOURS

    # four verified problems (P1 P5 P8 P9) and one assigned past its deadline (P4)
    page.set_viewport_size({"width": 1200, "height": 800})
    (dot,) = dots_at(page, tiny_served + "/?status=verified&status=assigned", 114.925, 11, 5)
    x, y, r = dot["x"], dot["y"], dot["radius"]
    # the fill, beside the count: the overdue colour, not the commonest status's
    assert near(canvas_rgb(page, x + 0.55 * r, y + 0.55 * r), OVERDUE_COLOUR)
    # the ring: the overdue fifth first, clockwise from 12 o'clock, then verified
    assert near(canvas_rgb(page, x + r * 0.5, y - r * 0.866), OVERDUE_COLOUR)  # 1 o'clock
    assert near(canvas_rgb(page, x - r, y), STATUS_COLOURS["verified"])  # 9 o'clock
    # the tooltip counts each class
    page.mouse.move(x, y)
    tip = page.wait_for_selector(".leaflet-tooltip", timeout=5000).inner_text()
    assert "5" in tip and "已超期 1" in tip and "已核查销号 4" in tip


def test_popup_times_are_beijing_and_readable(page, tiny_served):
    (single,) = dots_at(page, tiny_served + "/?status=assigned", 114.915, 18, 1)
    page.mouse.click(single["x"], single["y"])
    text = page.wait_for_selector(".problem-popup", timeout=10000).inner_text()
    # P4 was reported at 2024-12-31 10:00 Beijing time (02:00 UTC)
    assert "2024-12-31 10:00" in text
    assert "T10:00" not in text and "+08:00" not in text


def test_popup_of_an_overdue_problem_says_overdue_and_gives_its_deadline(page, tiny_served):
    from geoapp.web.maps import OVERDUE_COLOUR

    # P4: litter (24 h), reported 2024-12-31 10:00 Beijing, still assigned: due 2025-01-01
    # 10:00 and past it today; its dot is drawn overdue, so its popup says so too
    (single,) = dots_at(page, tiny_served + "/?status=assigned", 114.915, 18, 1)
    page.mouse.click(single["x"], single["y"])
    popup = page.wait_for_selector(".problem-popup", timeout=10000)
    chips = page.locator(".problem-popup .status-chip")
    assert chips.all_inner_texts() == ["已交办", "已超期"]
    colour = chips.nth(1).evaluate("c => getComputedStyle(c).backgroundColor")
    assert colour == "rgb({}, {}, {})".format(
        *(int(OVERDUE_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    )
    rows = dict(line.split("\t", 1) for line in popup.inner_text().splitlines() if "\t" in line)
    assert rows["整改时限"] == "2025-01-01 10:00"
    assert rows["适用规则"] == "无（由包干区责任单位负责）"  # in an area, no category rule


def test_popup_of_an_unassigned_problem_names_no_rule_of_an_area(page, tiny_served):
    # P7 lies outside every area: no area, no unit, and no "area's unit" to answer for it
    (single,) = dots_at(page, tiny_served + "/?status=rectifying", 114.85, 18, 1)
    page.mouse.click(single["x"], single["y"])
    popup = page.wait_for_selector(".problem-popup", timeout=10000)
    rows = dict(line.split("\t", 1) for line in popup.inner_text().splitlines() if "\t" in line)
    assert rows["包干区"] == "未分配" and rows["责任单位"] == "—"
    assert rows["适用规则"] == "—"
    assert rows["整改时限"] == "2025-01-03 08:00"  # reported 2025-01-02 08:00, litter: 24 h
