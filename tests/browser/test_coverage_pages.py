"""Inspection coverage in a real headless Chromium: an inspector's phone records a clean visit
and a visit with a problem at the nearest inspection point; a unit's phone checks in inside
its area (accepted) and in another area (refused, naming it); the coordinator's coverage
ledger and map show them.  Screenshots: /tmp/coverage-*.png, and the coverage map for the
README in docs/coverage-map.png."""

from __future__ import annotations

import json
import os

import pytest
from field_helpers import camera_jpeg

from geoapp.services.accounts import demo_unit

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 780}


@pytest.fixture
def served(live_server, make_app_for_browser, demo_sqlite_url, tmp_path):
    app = make_app_for_browser(demo_sqlite_url, UPLOAD_DIR=str(tmp_path / "up"))
    yield live_server(app), app.extensions["geoapp.store"]
    app.extensions["geoapp.store"].close()


@pytest.fixture
def context_for(browser, served, sign_in_as):
    base = served[0]
    contexts = []

    def open_page(role, path, lon=None, lat=None, viewport=PHONE):
        options = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", "viewport": viewport}
        if lon is not None:
            options |= {
                "permissions": ["geolocation"],
                "geolocation": {"longitude": lon, "latitude": lat, "accuracy": 12},
                "is_mobile": True,
                "has_touch": True,
            }
        context = browser.new_context(**options)
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in_as(page, base, role, next_path=path)
        return page, errors

    yield open_page
    for context in contexts:
        context.close()


def test_visits_checkins_and_the_coordinators_view(context_for, served, keep_screenshot):
    _base, store = served
    point = next(p for p in store.inspection_points() if p["kind"] == "market")
    before = {v["id"] for v in store.visits()}

    page, errors = context_for("inspector", "/field/visit", point["lon"], point["lat"])
    page.wait_for_selector("#position[data-ready]")
    assert page.input_value("#point-select") == point["point_id"]  # the nearest point
    page.fill('input[name="round"]', "复查")
    page.click('button[type="submit"]')
    page.wait_for_selector('#form-status[data-state="sent"]')
    page.check('input[value="problems"]')
    page.select_option('select[name="category"]', "litter")
    page.fill('input[name="deduction"]', "1.5")
    page.click('button[type="submit"]')
    page.locator("#queue .state-sent").nth(1).wait_for()
    keep_screenshot(page, "coverage-visit-phone.png", full_page=True)
    assert errors == []
    new = [v for v in store.visits("复查") if v["id"] not in before]
    assert sorted(v["result"] for v in new) == ["clean", "problems"]
    assert all(v["point_id"] == point["point_id"] for v in new)
    (problem_pk,) = next(v for v in new if v["result"] == "problems")["problem_pks"]
    assert store.get_problem(problem_pk)["deduction"] == 1.5

    areas = store.areas()
    own = areas[areas.responsible_unit_id == demo_unit(store)].iloc[0]
    spot = own.geometry.representative_point()
    page, errors = context_for("unit", "/field/patrol", spot.x, spot.y)
    page.wait_for_selector("#position[data-ready]")
    page.click('button[type="submit"]')
    page.wait_for_selector('#form-status[data-state="sent"]')
    assert "已签到" in page.inner_text("#form-status")
    keep_screenshot(page, "coverage-patrol-phone.png", full_page=True)
    other = areas[areas.responsible_unit_id != demo_unit(store)].iloc[0]
    away = other.geometry.representative_point()
    page, errors = context_for("unit", "/field/patrol", away.x, away.y)
    page.wait_for_selector("#position[data-ready]")
    page.click('button[type="submit"]')
    page.wait_for_selector('#form-status[data-state="failed"]')
    refused = page.inner_text("#form-status")
    assert "签到被拒绝" in refused and other["name"] in refused
    assert errors == []
    assert [c["area_id"] for c in store.checkins(demo_unit(store))][-1] == own.area_id

    desk = {"width": 1280, "height": 900}
    page, errors = context_for("coordinator", "/ledger/coverage?round=复查", viewport=desk)
    totals = page.inner_text("#coverage-totals")
    assert "1" in totals  # one point inspected in the round 复查
    row = page.locator(f'#coverage-units tr[data-id="{point["responsible_unit_id"]}"]')
    assert row.count() == 1 and "检查不足" in row.inner_text()
    assert "评定规则" in page.inner_text("#coverage-rule")
    keep_screenshot(page, "coverage-ledger.png", full_page=True)
    page.goto(page.url.replace("/ledger/coverage?", "/ledger/coverage/map?"))
    page.wait_for_selector("#coverage-map[data-features]")
    assert page.locator("#coverage-legend li").count() == 5
    page.goto(page.url.split("?")[0] + "?round=省级评估")  # the demo's own round, for the README
    page.wait_for_selector("#coverage-map[data-features]")
    if os.environ.get("GEOAPP_SCREENSHOT_DIR"):  # docs/coverage-map.png in the README
        page.wait_for_timeout(500)
        keep_screenshot(page, "coverage-map.png")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    keep_screenshot(page, "coverage-map-360.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1
    assert errors == []


def test_a_checkin_made_offline_is_sent_once_when_the_network_returns(context_for, served):
    base, store = served
    areas = store.areas()
    own = areas[areas.responsible_unit_id == demo_unit(store)].iloc[0]
    spot = own.geometry.representative_point()
    page, errors = context_for("unit", "/field/patrol", spot.x, spot.y)
    page.wait_for_selector("body[data-offline-ready]")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    before = len(store.checkins())
    page.context.set_offline(True)
    reloaded = page.reload()
    assert reloaded.from_service_worker  # the page opens with no network
    page.wait_for_selector("#position[data-ready]")
    page.click('button[type="submit"]')
    page.wait_for_selector('#form-status[data-state="waiting"]')
    assert len(store.checkins()) == before
    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_selector('#form-status[data-state="sent"]', timeout=60_000)
    items = page.evaluate("GeoappField.queue.all()")
    assert len(items) == 1 and len(store.checkins()) == before + 1
    page.evaluate(
        "() => GeoappField.queue.retry(arguments[0])".replace(
            "arguments[0]", repr(items[0]["client_id"])
        )
    )
    page.evaluate(f"() => GeoappField.queue.flush({json.dumps(base + '/field/api/checkins')})")
    page.wait_for_selector('#form-status[data-state="sent"]')
    assert len(store.checkins()) == before + 1  # sent twice, stored once
    assert store.checkin_by_client_id(items[0]["client_id"])["area_id"] == own.area_id
    assert errors == []


def test_photos_ride_the_phone_queue(context_for, served, tmp_path):
    """A check-in made offline with a photo keeps the photo in the queue and sends it with
    the check-in when the network returns (once); a phone visit carries its photo too; the
    files are kept without the camera's metadata."""
    _base, store = served
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(camera_jpeg())
    kept = tmp_path / "up" / "photos"
    areas = store.areas()
    own = areas[areas.responsible_unit_id == demo_unit(store)].iloc[0]
    spot = own.geometry.representative_point()
    page, errors = context_for("unit", "/field/patrol", spot.x, spot.y)
    page.wait_for_selector("body[data-offline-ready]")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    before = len(store.checkins())
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("#position[data-ready]")
    page.set_input_files('#patrol-form input[name="photo"]', str(photo))
    page.click('button[type="submit"]')
    page.wait_for_selector('#form-status[data-state="waiting"]')
    (item,) = page.evaluate("GeoappField.queue.all()")
    assert len(item["photos"]) == 1 and len(store.checkins()) == before
    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_selector('#form-status[data-state="sent"]', timeout=60_000)
    checkin = store.checkin_by_client_id(item["client_id"])
    assert len(store.checkins()) == before + 1 and checkin["photo_name"]
    assert errors == []

    point = next(p for p in store.inspection_points() if p["kind"] == "school")
    page, errors = context_for("inspector", "/field/visit", point["lon"], point["lat"])
    page.wait_for_selector("#position[data-ready]")
    page.fill('input[name="round"]', "照片轮")
    page.set_input_files('#visit-form input[name="photo"]', str(photo))
    page.click('button[type="submit"]')
    page.wait_for_selector('#form-status[data-state="sent"]')
    visits = store.visits("照片轮")
    assert len(visits) == 1 and all(v["photo_name"] for v in visits)
    names = sorted([checkin["photo_name"], *(v["photo_name"] for v in visits)])
    assert sorted(f.name for f in kept.iterdir()) == names
    for f in kept.iterdir():
        assert b"HUAWEI" not in f.read_bytes() and b"Zhang San" not in f.read_bytes()
    assert errors == []


def test_the_desktop_visit_form_sends_its_photo(context_for, served, tmp_path):
    """/coverage/visit posts the visit with the photo chosen (multipart)."""
    _base, store = served
    photo = tmp_path / "IMG_0002.jpg"
    photo.write_bytes(camera_jpeg())
    page, errors = context_for(
        "inspector", "/coverage/visit", viewport={"width": 1280, "height": 900}
    )
    page.fill('input[name="round"]', "桌面轮")
    page.set_input_files('#visit-form input[name="photo"]', str(photo))
    page.click('#visit-form button[type="submit"]')
    page.wait_for_selector("#visit-status[data-visit]", state="attached")
    (visit,) = store.visits("桌面轮")
    assert visit["photo_name"] and (tmp_path / "up" / "photos" / visit["photo_name"]).is_file()
    assert errors == []
