"""The report form, the problem page and the import page in a real headless Chromium."""

from __future__ import annotations

import pytest
from intake_helpers import inside_point, png_bytes

pytestmark = pytest.mark.browser


@pytest.fixture
def served(live_server, make_app_for_browser, demo_sqlite_url, tmp_path, page, sign_in_as):
    """The app served, and ``page`` signed in as the demo inspector (on no page yet: the
    tests open the one they need)."""
    app = make_app_for_browser(demo_sqlite_url, UPLOAD_DIR=str(tmp_path / "up"))
    base = live_server(app)
    sign_in_as(page, base, "inspector")
    yield base, app.extensions["geoapp.store"]
    app.extensions["geoapp.store"].close()


def map_point(page, lon, lat):
    """Page coordinates of a map position on a page's small map (window.pageMap)."""
    page.evaluate("([lat, lon]) => { window.pageMap.map.setView([lat, lon], 17, {animate: false}); }",
                  [lat, lon])  # fmt: skip
    x, y = page.evaluate(
        "([lat, lon]) => { var pt = window.pageMap.map.latLngToContainerPoint([lat, lon]);"
        " return [pt.x, pt.y]; }",
        [lat, lon],
    )
    box = page.locator(".leaflet-container").bounding_box()
    return box["x"] + x, box["y"] + y


def test_report_a_problem_by_clicking_the_map(page, served, tmp_path, sign_in_as):
    base, store = served
    area, lon, lat = inside_point(store, kind="back_alley")
    unit = {u["unit_id"]: u["name"] for u in store.list_units()}[area["responsible_unit_id"]]
    before = store.count_problems()
    photo = tmp_path / "现场.png"
    photo.write_bytes(png_bytes(32, 24))

    page.goto(base + "/report")
    assert page.title().startswith("上报问题点")
    page.wait_for_selector("body[data-areas-ready]")
    x, y = map_point(page, lon, lat)
    page.mouse.click(x, y)
    page.wait_for_selector("body[data-point-placed]")
    # the click filled the coordinates and the lookup already names the area
    assert abs(float(page.input_value("#lon")) - lon) < 1e-4
    assert area["name"] in page.inner_text("#where")
    page.select_option("#category", "litter")
    page.fill("#round", "第三轮复查")
    page.fill("#deduction", "1.5")
    page.fill("#description", "路边垃圾散落")
    page.fill("#reporter", "李四")
    page.set_input_files("#photos", str(photo))
    page.click("#save")
    page.wait_for_selector("body[data-saved]")
    assert page.inner_text("#result .responsible-unit") == unit
    assert page.inner_text("#result .area-name") == area["name"]
    assert page.inner_text("#result .rule").startswith("无")
    assert store.count_problems() == before + 1
    pk = int(page.get_attribute("body", "data-saved"))
    problem = store.get_problem(pk)
    assert problem["area_id"] == area["area_id"] and problem["deduction"] == 1.5
    assert problem["reporter"] == "李四" and problem["round"] == "第三轮复查"
    assert len(store.problem_photos(pk)) == 1

    # the problem page: assignment, photo; an inspector may not assign it
    page.click("#result-link")
    page.wait_for_selector("body[data-map-ready]")
    assert page.inner_text(".responsible-unit") == unit
    assert page.locator(".photos img").count() == 1
    assert page.locator("button.transition[data-to='assigned']").count() == 0
    # the coordinator assigns it, with a note
    sign_in_as(page, base, "coordinator", next_path=f"/problems/{pk}")
    page.wait_for_selector("body[data-map-ready]")
    page.fill("#note", "请尽快清理")
    page.click("button.transition[data-to='assigned']")
    page.wait_for_selector("h1 .status-chip:has-text('已交办')")
    assert "请尽快清理" in page.inner_text(".history")
    assert store.get_problem(pk)["status"] == "assigned"


@pytest.mark.allow_console_errors  # the refused save is a 400, as it should be
def test_typed_gcj02_coordinates_are_placed_where_they_belong(page, served, page_log):
    from geoapp.core.crs import from_wgs84

    base, store = served
    area, lon, lat = inside_point(store, kind="compound_managed")
    gx, gy = (float(v[0]) for v in from_wgs84([lon], [lat], "gcj02"))
    page.goto(base + "/report")
    page.wait_for_selector("body[data-areas-ready]")
    page.fill("#lon", f"{gx:.7f}")
    page.fill("#lat", f"{gy:.7f}")
    page.select_option("#crs", "gcj02")
    page.click("#place")
    page.wait_for_selector("body[data-point-placed]")
    assert area["name"] in page.inner_text("#where")
    marker = page.evaluate(
        "() => { var m = null; window.pageMap.map.eachLayer(l => { if (l.getLatLng) m = l.getLatLng(); });"
        " return [m.lng, m.lat]; }"
    )
    assert abs(marker[0] - lon) < 1e-5 and abs(marker[1] - lat) < 1e-5
    # a missing category is refused by the server, with its message, and nothing is stored
    before = store.count_problems()
    page.click("#save")
    page.wait_for_selector("#form-status.error")
    assert "category" in page.inner_text("#form-status")
    assert store.count_problems() == before
    assert [r for r in page_log.failed_responses if "400" in r] and not [
        e for e in page_log.console_errors if "pageerror" in e
    ]


def test_import_page_preview_then_confirm(page, served, tmp_path):
    base, store = served
    _, x, y = inside_point(store, kind="back_alley")
    src = tmp_path / "检查表.csv"
    src.write_bytes(
        (
            "编号,检查轮次,问题类别,问题描述,扣分,上报时间,经度,纬度\n"
            f"B1,第四轮,垃圾落地,a,1,2026-11-01 09:30,{x},{y}\n"
            "B2,第四轮,乱搭建,b,1,2026-11-01 09:30,114.9,28.2\n"
        ).encode("gbk")
    )
    before = store.count_problems()
    page.goto(base + "/import")
    page.set_input_files("#file", str(src))
    page.click("#preview-button")
    page.wait_for_selector("body[data-preview]")
    assert page.locator("#new-rows tr").count() == 1
    assert "第 3 行" in page.inner_text("#bad-rows")
    assert "未知的问题类别 '乱搭建'" in page.inner_text("#bad-rows")  # the reason in Chinese
    assert store.count_problems() == before
    page.click("#confirm-button")
    page.wait_for_selector("#import-status.error")  # bad rows must be skipped explicitly
    page.check("#skip-bad")
    page.click("#confirm-button")
    page.wait_for_selector("body[data-imported]")
    assert store.count_problems() == before + 1
