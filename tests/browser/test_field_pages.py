"""The phone pages (/field/) in a real headless Chromium at 393 x 851: the layout, the
phone's position, a 12 MP camera photo shrunk on the phone with its orientation honoured,
the offline queue sent exactly once when the network returns, and a unit rectifying from
the phone.  Screenshots go to /tmp/field-*.png.

These tests make their own browser context (the ``page`` fixture blocks service workers):
service workers allowed, the geolocation permission given, a phone's viewport and touch.
External requests are recorded and must be none (no tiles are configured)."""

from __future__ import annotations

import base64
import json

import pytest
from field_helpers import CANVAS_PHOTO_JS, exif_block, jpeg_size, segment
from intake_helpers import inside_point

LOCAL = ("http://127.0.0.1", "http://localhost")


def is_local(url: str) -> bool:
    return not url.startswith(("http:", "https:")) or url.startswith(LOCAL)


pytestmark = pytest.mark.browser
PHONE = {"width": 393, "height": 851}
SHRUNK_LIMIT = 500 * 1024


@pytest.fixture
def served(live_server, make_app_for_browser, demo_sqlite_url, tmp_path):
    app = make_app_for_browser(demo_sqlite_url, UPLOAD_DIR=str(tmp_path / "up"))
    base = live_server(app)
    yield base, app.extensions["geoapp.store"], tmp_path / "up" / "photos"
    app.extensions["geoapp.store"].close()


@pytest.fixture
def phone(browser, served, sign_in_as):
    """``open(role, path, lon, lat)``: a phone page signed in as ``role`` with the phone's
    position at (lon, lat); returns (page, log) where log lists console errors and external
    requests."""
    base = served[0]
    contexts = []

    def open_page(role, path, lon, lat, accuracy=8):
        context = browser.new_context(
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            service_workers="allow",
            permissions=["geolocation"],
            geolocation={"longitude": lon, "latitude": lat, "accuracy": accuracy},
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        log = {"errors": [], "external": []}
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and log["errors"].append(m.text))
        page.on("pageerror", lambda e: log["errors"].append(str(e)))
        context.on("request", lambda r: None if is_local(r.url) else log["external"].append(r.url))
        sign_in_as(page, base, role, next_path=path)
        return page, log

    yield open_page
    for context in contexts:
        context.close()


_PHOTOS: dict = {}


def camera_photo(page, width=4000, height=3000, orientation=6, gps=None, quality=0.92) -> bytes:
    """A JPEG as a phone camera writes it: drawn and encoded by Chromium (12 MP by
    default), with EXIF orientation, camera, time and GPS put in front."""
    key = (width, height, quality)
    if key not in _PHOTOS:
        _PHOTOS[key] = base64.b64decode(page.evaluate(CANVAS_PHOTO_JS, [width, height, quality]))
    jpeg = _PHOTOS[key]
    return jpeg[:2] + segment(0xE1, exif_block(orientation, gps)) + jpeg[2:]


def bar_items_on_one_line(page):
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.field-bar > *')).filter(a => {
             const line = parseFloat(getComputedStyle(a).lineHeight) ||
                          1.5 * parseFloat(getComputedStyle(a).fontSize);
             return a.getBoundingClientRect().height > 1.6 * line + 20;
           }).map(a => a.textContent.trim())"""
    )


def marker_position(page):
    return page.evaluate(
        """() => { let p = null; window.fieldMap.eachLayer(l => {
             if (l.options && l.options.title === 'report') p = l.getLatLng(); });
             return p && [p.lng, p.lat]; }"""
    )


def test_report_from_the_phone_with_its_position_and_a_camera_photo(
    phone, served, tmp_path, keep_screenshot
):
    base, store, photo_dir = served
    area, lon, lat = inside_point(store, kind="back_alley")
    units = {u["unit_id"]: u["name"] for u in store.list_units()}
    other = store.areas()
    other = other[other["responsible_unit_id"] != area["responsible_unit_id"]]
    photo_area, plon, plat = inside_point(store, area_id=other.iloc[0]["area_id"])
    page, log = phone("inspector", "/field/", lon, lat, accuracy=8)
    page.wait_for_selector("body[data-map-ready]")
    assert page.title().startswith("现场上报")

    # the layout: one bar, a map of most of the screen, a sheet, large touch targets
    assert bar_items_on_one_line(page) == []
    assert page.locator(".field-bar").bounding_box()["height"] <= 56
    screen = PHONE["height"]
    map_box = page.locator("#field-map").bounding_box()
    sheet = page.locator("#sheet").bounding_box()
    assert map_box["width"] >= PHONE["width"] - 1
    assert map_box["height"] >= 0.6 * screen
    assert sheet["y"] - map_box["y"] >= 0.6 * screen  # the part of the map the sheet leaves
    for target in ("#locate", "#sheet-handle", "#send", "#category", ".photo-button"):
        box = page.locator(target).bounding_box()
        assert box["height"] >= 44, (target, box)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

    # the phone's position, its accuracy, and who is responsible there, before sending
    page.click("#locate")
    page.wait_for_selector("body[data-located][data-lookup=done]")
    mlon, mlat = marker_position(page)
    assert abs(mlon - lon) < 1e-6 and abs(mlat - lat) < 1e-6
    assert page.inner_text("#accuracy") == "精度 ±8 米"
    where = page.inner_text("#where")
    assert units[area["responsible_unit_id"]] in where and area["name"] in where
    keep_screenshot(page, "field-report-located.png")

    # a 12 MP camera photo, turned (EXIF orientation 6) and with a GPS position elsewhere
    original = camera_photo(page, gps=(plon, plat))
    assert jpeg_size(original) == (4000, 3000) and len(original) > 2_500_000
    source = tmp_path / "IMG_20261207_093000.jpg"
    source.write_bytes(original)
    page.click("#sheet-handle")
    page.set_input_files("#photos", str(source))
    page.wait_for_selector("body[data-photos='1']")
    shrunk = page.evaluate(
        """async () => { const img = document.querySelector('#photo-list img');
             await img.decode();
             const c = document.createElement('canvas'); c.width = img.naturalWidth;
             c.height = img.naturalHeight; const x = c.getContext('2d'); x.drawImage(img, 0, 0);
             const at = (fx, fy) => Array.from(x.getImageData(Math.floor(fx * c.width),
                                                Math.floor(fy * c.height), 1, 1).data).slice(0, 3);
             const bytes = Number(img.closest('li').dataset.bytes);
             return {w: img.naturalWidth, h: img.naturalHeight, bytes: bytes,
                     post: at(0.7, 0.1), away: at(0.3, 0.9)}; }"""
    )
    assert shrunk["bytes"] < SHRUNK_LIMIT, shrunk
    # upright: the stored picture is 4000 x 3000 with a white post on its left; turned a
    # quarter clockwise it is portrait and the post runs along the top right
    assert shrunk["h"] > shrunk["w"] and max(shrunk["w"], shrunk["h"]) <= 1600, shrunk
    assert min(shrunk["post"]) > 200 and min(shrunk["away"]) < 200, shrunk
    assert "MB →" in page.inner_text("#photo-list")
    # the photo's own GPS position is offered; taken, it moves the point and the lookup
    page.click("#photo-list .use-gps")
    page.wait_for_function(
        "([lon, lat]) => { let ok = false; window.fieldMap.eachLayer(l => { if (l.options &&"
        " l.options.title === 'report') { const p = l.getLatLng();"
        " ok = Math.abs(p.lng - lon) < 1e-4 && Math.abs(p.lat - lat) < 1e-4; } }); return ok; }",
        arg=[plon, plat],
    )
    page.wait_for_function("() => document.querySelector('#where .area')")
    assert photo_area["name"] in page.inner_text("#where")
    assert page.inner_text("#accuracy") == ""  # not the phone's fix any more
    # back to the phone's position, then dragged a little by hand, then back again
    page.click("#locate")
    page.wait_for_function("() => document.querySelector('#accuracy').textContent !== ''")
    page.wait_for_function(
        f"() => document.querySelector('#where').textContent.includes({json.dumps(area['name'])})"
    )
    page.select_option("#category", "litter")
    page.fill("#description", "路边垃圾散落")
    keep_screenshot(page, "field-report-form.png")
    before = store.count_problems()
    page.click("#send")
    page.wait_for_selector("body[data-queue='0'] #queue-list li[data-state=sent]", state="attached")
    assert store.count_problems() == before + 1
    sent = page.evaluate("GeoappField.queue.all()")
    assert len(sent) == 1 and sent[0]["state"] == "sent"
    problem = store.problem_by_client_id(sent[0]["client_id"])
    assert problem["area_id"] == area["area_id"] and problem["location_accuracy_m"] == 8
    assert abs(problem["lon"] - lon) < 1e-6 and problem["category"] == "litter"
    (photo,) = store.problem_photos(problem["id"])
    stored = (photo_dir / photo["stored_name"]).read_bytes()
    assert len(stored) < SHRUNK_LIMIT and photo["size_bytes"] == len(stored)
    width, height = jpeg_size(stored)
    assert height > width  # stored upright, with no orientation left to apply
    assert b"Exif" not in stored and b"HUAWEI" not in stored
    page.click("#queue-toggle")
    keep_screenshot(page, "field-report-queue.png")
    assert log["errors"] == [] and log["external"] == []


def add_offline_report(page, context_geo, lon, lat, photo_path, description):
    context_geo(lon, lat)
    page.click("#locate")
    page.wait_for_function(
        "([lon, lat]) => { let ok = false; window.fieldMap.eachLayer(l => { if (l.options &&"
        " l.options.title === 'report') { const p = l.getLatLng();"
        " ok = Math.abs(p.lng - lon) < 1e-6 && Math.abs(p.lat - lat) < 1e-6; } }); return ok; }",
        arg=[lon, lat],
    )
    page.wait_for_selector("body[data-lookup=offline]")
    page.click("#sheet-handle")
    page.set_input_files("#photos", str(photo_path))
    page.wait_for_selector("body[data-photos='1']")
    page.select_option("#category", "overflowing_bin")
    page.fill("#description", description)
    page.click("#send")
    page.wait_for_selector("body[data-photos='0']")


@pytest.mark.allow_console_errors
def test_reports_made_offline_are_stored_exactly_once_when_the_network_returns(
    phone, served, tmp_path, keep_screenshot
):
    base, store, photo_dir = served
    areas = store.areas()
    points = [inside_point(store, area_id=a)[1:] for a in areas["area_id"].iloc[:3]]
    page, log = phone("inspector", "/field/", *points[0])
    page.wait_for_selector("body[data-offline-ready][data-map-ready]")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    before = store.count_problems()
    photo = tmp_path / "IMG_1.jpg"
    photo.write_bytes(camera_photo(page, 2000, 1500, orientation=1))

    page.context.set_offline(True)
    for i, (lon, lat) in enumerate(points):
        add_offline_report(
            page,
            lambda x, y: page.context.set_geolocation(
                {"longitude": x, "latitude": y, "accuracy": 5}
            ),
            lon,
            lat,
            photo,
            f"离线上报 {i + 1}",
        )
    page.wait_for_selector("body[data-queue='3']")
    assert store.count_problems() == before

    # the page opens again with no network (the service worker), the queue still there
    reloaded = page.reload()
    assert reloaded.from_service_worker
    page.wait_for_selector("body[data-queue='3']")
    assert page.title().startswith("现场上报")
    page.click("#queue-toggle")
    states = page.locator("#queue-list li").evaluate_all("els => els.map(e => e.dataset.state)")
    assert states == ["queued"] * 3, states  # never tried: the phone knew it was offline
    assert page.locator("#queue-list li").first.inner_text().count("1 张照片") == 1
    keep_screenshot(page, "field-queue-offline.png")
    assert store.count_problems() == before

    page.context.set_offline(False)
    page.wait_for_selector("body[data-queue='0']", timeout=60_000)
    page.wait_for_function(
        "() => document.querySelectorAll('#queue-list li[data-state=sent]').length === 3"
    )
    keep_screenshot(page, "field-queue-sent.png")
    items = page.evaluate("GeoappField.queue.all()")
    assert store.count_problems() == before + 3
    stored = [store.problem_by_client_id(i["client_id"]) for i in items]
    assert sorted(p["description"] for p in stored) == ["离线上报 1", "离线上报 2", "离线上报 3"]
    for problem, (lon, lat) in zip(
        sorted(stored, key=lambda p: p["description"]), points, strict=True
    ):
        assert abs(problem["lon"] - lon) < 1e-6 and abs(problem["lat"] - lat) < 1e-6
        assert problem["location_accuracy_m"] == 5
        assert len(store.problem_photos(problem["id"])) == 1
    # sent again (a second tab, a retry after a lost answer): nothing more is stored
    page.evaluate(
        "() => GeoappField.queue.all().then(items => Promise.all(items.map(i => GeoappField.queue.retry(i.client_id))))"
    )
    page.evaluate(f"() => GeoappField.queue.flush({json.dumps(base + '/field/api/reports')})")
    page.wait_for_selector("body[data-queue='0']")
    assert store.count_problems() == before + 3
    assert all(len(store.problem_photos(p["id"])) == 1 for p in stored)
    assert log["external"] == []
    # the only console errors are the browser's own, for requests made with no network
    assert all("ERR_INTERNET_DISCONNECTED" in e or "Failed to load" in e for e in log["errors"]), (
        log
    )


def test_a_unit_rectifies_from_the_phone_and_the_coordinator_sees_before_and_after(
    phone, served, tmp_path, keep_screenshot
):
    base, store, photo_dir = served
    unit_id = store.get_user("unit")["unit_id"]
    own = [
        p
        for p in store.problems({"responsible_unit_id": unit_id})
        if p["status"] in ("reported", "assigned", "rectifying", "open")
    ]
    first = own[0]
    # the inspector's photo of the problem, when it was reported
    seen, _log = phone("inspector", "/field/", first["lon"], first["lat"])
    token = seen.get_attribute("meta[name=csrf-token]", "content")
    posted = seen.request.post(
        f"{base}/api/problems/{first['id']}/photos",
        headers={"X-CSRFToken": token},
        multipart={
            "photo": {
                "name": "before.jpg",
                "mimeType": "image/jpeg",
                "buffer": camera_photo(seen, orientation=1),
            }
        },
    )
    assert posted.status == 201
    page, log = phone("unit", "/field/unit", first["lon"] + 0.001, first["lat"])
    page.wait_for_selector("body[data-map-ready]")
    cards = page.locator("#worklist li.card")
    assert cards.count() == len(own)
    assert bar_items_on_one_line(page) == []
    map_box = page.locator("#field-map").bounding_box()
    assert map_box["height"] >= 0.3 * PHONE["height"]
    page.click("#locate")
    page.wait_for_selector("body[data-located]")
    card = page.locator(f"#worklist li.card[data-id='{first['id']}']")
    pk = first["id"]
    assert card.locator(".distance").inner_text().startswith("距您")
    card.locator("button.show").click()
    assert "active" in card.get_attribute("class")
    card.locator("button.open-rectify").click()
    after = tmp_path / "after.jpg"
    after.write_bytes(camera_photo(page, orientation=1))
    card.locator("input.after-photo").set_input_files(str(after))
    page.wait_for_selector(f"body[data-after-photo='{pk}']")
    assert "MB →" in card.locator(".photo-info").inner_text()
    card.locator("input.note").fill("已清理完毕")
    keep_screenshot(page, "field-unit.png")
    card.locator("form.rectify button[type=submit]").click()
    page.wait_for_selector(f"body[data-rectified='{pk}']")
    assert store.get_problem(pk)["status"] == "rectified"
    photos = store.problem_photos(pk)
    assert photos[-1]["stage"] == "after" and photos[-1]["size_bytes"] < SHRUNK_LIMIT
    assert log["errors"] == [] and log["external"] == []

    # the coordinator's problem page: before and after side by side
    desk, desk_log = phone("coordinator", f"/problems/{pk}", first["lon"], first["lat"])
    desk.set_viewport_size({"width": 1280, "height": 900})
    desk.goto(f"{base}/problems/{pk}")
    desk.wait_for_selector(".photo-pair .photos-after img")
    before_box = desk.locator(".photo-pair .photos-before").bounding_box()
    after_box = desk.locator(".photo-pair .photos-after").bounding_box()
    assert abs(before_box["y"] - after_box["y"]) < 2 and after_box["x"] > before_box["x"]
    loaded = desk.locator(".photo-pair img").evaluate_all(
        "imgs => Promise.all(imgs.map(i => i.decode().then(() => i.naturalWidth)))"
    )
    assert len(loaded) == 2 and all(w > 0 for w in loaded)  # one before, one after
    keep_screenshot(desk, "field-before-after.png")
