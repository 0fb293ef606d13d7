"""The boundary editor and the generations page in a real headless Chromium: drag a shared
vertex, split an area, see the preview, publish, compare and roll back."""

from __future__ import annotations

import re

import pytest
import shapely

from geoapp.core import editing
from geoapp.core.model import OPEN_STATUSES
from geoapp.services import editor, editor_areas, editor_edits, editor_review

pytestmark = pytest.mark.browser
READY = "body[data-editor-ready]"


@pytest.fixture
def served(live_server, make_app_for_browser, demo_sqlite_url, page, sign_in_as):
    """The app served, and ``page`` signed in as the demo planner (on no page yet: the
    tests open the one they need)."""
    app = make_app_for_browser(demo_sqlite_url)
    base = live_server(app)
    sign_in_as(page, base, "planner")
    yield base, app.extensions["geoapp.store"]
    app.extensions["geoapp.store"].close()


def screen_point(page, lon, lat):
    x, y = page.evaluate(
        "([lat, lon]) => { var p = window.geoappEditor.map.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [lat, lon],
    )
    box = page.locator(".leaflet-container").bounding_box()
    return box["x"] + x, box["y"] + y


def lonlat(page, x, y):
    box = page.locator(".leaflet-container").bounding_box()
    return page.evaluate(
        "([x, y]) => { var ll = window.geoappEditor.map.containerPointToLatLng([x, y]);"
        " return [ll.lng, ll.lat]; }",
        [x - box["x"], y - box["y"]],
    )


def wait_version(page, version):
    page.wait_for_selector(f'body[data-draft-version="{version}"]', timeout=20000)
    page.wait_for_selector(f'body[data-preview-ready="{version}"]', timeout=20000)


def shared_vertex(areas, away_from=None):
    """A vertex held by exactly two areas (both Polygons), far from other vertices."""
    owners: dict[tuple, set] = {}
    for aid, rec in areas.items():
        if rec["geometry"].geom_type != "Polygon":
            continue
        for xy in rec["geometry"].exterior.coords:
            owners.setdefault(xy, set()).add(aid)
    pairs = sorted((xy, sorted(ids)) for xy, ids in owners.items() if len(ids) == 2)
    points = shapely.points([xy for xy, _ in owners.items()])
    tree = shapely.STRtree(points)
    for xy, ids in pairs[len(pairs) // 3 :]:
        near = tree.query(shapely.Point(xy).buffer(0.0001))
        if len(near) == 1:
            return xy, ids
    raise AssertionError("no isolated shared vertex")


DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 393, "height": 851}


def open_editor(page, base, viewport=DESKTOP, store=None):
    """A new draft open in the editor: started with the start page's button, or (given the
    ``store``) started as that button starts it and opened directly (one page load less)."""
    page.set_viewport_size(viewport)
    if store is None:
        page.goto(base + "/editor")
        page.click("#btn-new-draft")
    else:
        gid = editor.start_draft(store, "planner")["generation"]["id"]
        page.goto(f"{base}/editor?draft={gid}")
    page.wait_for_selector(READY, timeout=30000)
    wait_version(page, 1)
    return int(page.url.rsplit("=", 1)[1])


def test_drag_a_shared_vertex_then_split_preview_and_publish(page, served):
    base, store = served
    gid = open_editor(page, base)
    areas = editor_areas.generation_areas(store, gid)
    (x0, y0), owners = shared_vertex(areas)
    # zoom in on the vertex, select one of its areas by clicking inside it
    page.evaluate(
        "([lat, lon]) => { window.geoappEditor.map.setView([lat, lon], 18, {animate: false}); }",
        [y0, x0],
    )
    inside = areas[owners[0]]["geometry"].intersection(shapely.Point(x0, y0).buffer(0.0004))
    rp = inside.representative_point()
    page.mouse.click(*screen_point(page, rp.x, rp.y))
    page.wait_for_selector("#area-panel:not([hidden])")
    assert page.text_content("#area-id").startswith(owners[0])
    # drag the corner 40 px right and 25 px down
    sx, sy = screen_point(page, x0, y0)
    page.mouse.move(sx, sy)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(sx + 4 * step, sy + 2.5 * step)
    page.mouse.up()
    wait_version(page, 2)
    after = editor_areas.generation_areas(store, gid)
    assert editing.changed_areas(areas, after).keys() == set(owners)
    moved = [
        {xy for xy in after[a]["geometry"].exterior.coords}
        - set(areas[a]["geometry"].exterior.coords)
        for a in owners
    ]
    assert moved[0] == moved[1] and len(moved[0]) == 1  # the same new corner in both
    assert (
        shapely.intersection(after[owners[0]]["geometry"], after[owners[1]]["geometry"]).area
        < 1e-14
    )
    assert "0" in page.text_content("#findings-summary")
    preview_text = page.text_content("#preview-summary")
    assert preview_text.startswith("变更的包干区：2 · 受影响的问题点：")

    # split the selected area with a line drawn across it
    target = after[owners[0]]["geometry"]
    minx, miny, maxx, maxy = target.bounds
    page.evaluate(
        "(b) => { window.geoappEditor.map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {animate: false}); }",
        [minx, miny, maxx, maxy],
    )
    page.wait_for_selector("#area-panel:not([hidden])")
    page.click("#btn-split")
    midx = (minx + maxx) / 2
    pad = (maxy - miny) * 0.15
    p1 = screen_point(page, midx, maxy + pad)
    p2 = screen_point(page, midx + (maxx - minx) * 0.05, miny - pad)
    page.mouse.click(*p1)
    page.mouse.click(*p2)
    page.mouse.click(*p2)  # clicking the last point again finishes the line
    wait_version(page, 3)
    split = editor_areas.generation_areas(store, gid)
    assert len(split) == len(after) + 1
    assert f"{owners[0]}-2" in split
    assert page.text_content("#btn-undo") and page.is_enabled("#btn-undo")

    # reassign it to another unit: the preview lists the problems that move
    unit = page.eval_on_selector("#area-unit", "s => s.value")
    other = page.eval_on_selector(
        "#area-unit", "(s, u) => [...s.options].map(o => o.value).find(v => v && v !== u)", unit
    )
    page.select_option("#area-unit", other)
    page.click("#btn-reassign")
    wait_version(page, 4)
    rows = page.locator("#preview-problems tr").count()
    preview = editor_review.preview(store, gid)
    assert rows == len(preview["problems"]) > 0
    assert page.locator("#preview-units tr").count() == len(preview["units"]) >= 2

    # publish with a message
    page.click("#btn-publish")
    page.fill("#publish-message", "浏览器测试：移动共用顶点、拆分、改派")
    page.click("#publish-confirm")
    page.wait_for_selector("body[data-published]", timeout=20000)
    current = store.current_generation()
    assert current["id"] == gid
    assert current["publish_message"].startswith("浏览器测试")
    # one translated sentence with its numbers in place (not "个问题点已重新分配 10")
    moved = sum(1 for q in preview["problems"] if q["status"] in OPEN_STATUSES)
    assert (
        page.text_content("#editor-status")
        == f"已发布边界版本 #{gid}；{moved} 个未办结问题点已重新分配"
    )


@pytest.mark.allow_console_errors  # the browser logs the expected 409 as a failed load
def test_a_stale_tab_gets_the_409_and_can_apply_again(page, served, page_log):
    base, store = served
    gid = open_editor(page, base, store=store)
    # another planner saves first
    editor_edits.apply_edit(
        store, gid, {"type": "reassign", "area_id": "A001", "name": "elsewhere"}, 1, "b"
    )
    page.evaluate("() => window.geoappEditor.select('A002')")
    page.select_option("#area-district", index=2)
    page.click("#btn-reassign")
    page.wait_for_selector("#btn-reapply:not([hidden])")
    assert "2" in page.text_content("#editor-status")
    wait_version(page, 2)
    page.click("#btn-reapply")
    wait_version(page, 3)
    names = editor_areas.generation_areas(store, gid)
    assert names["A001"]["name"] == "elsewhere"
    assert (
        names["A002"]["district_id"]
        != editor_areas.generation_areas(store, 1)["A002"]["district_id"]
    )
    assert page_log.failed_responses == [f"409 {base}/api/drafts/{gid}/edits"]
    assert all("409" in e for e in page_log.console_errors)


def test_generations_page_views_compares_and_rolls_back(page, served):
    base, store = served
    state = editor.start_draft(store, "planner")
    gid = state["generation"]["id"]
    editor_edits.apply_edit(
        store, gid, {"type": "reassign", "area_id": "A010", "responsible_unit_id": "U01"}, 1, "p"
    )
    editor.publish(store, gid, 2, "planner", "A010 to U01")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(base + "/generations")
    page.wait_for_selector(f'body[data-viewed="{gid}"]')
    page.select_option("#compare-a", "1")
    page.select_option("#compare-b", str(gid))
    page.click("#compare-form button")
    page.wait_for_selector(f'body[data-compared="1-{gid}"]')
    assert page.locator("#compare-rows tr").count() == 1
    assert "A010" in page.text_content("#compare-rows")
    page.locator("button.view[data-id='1']").click()
    page.wait_for_selector('body[data-viewed="1"]')
    page.once("dialog", lambda d: d.accept())
    page.locator("button.rollback[data-id='1']").click()
    page.wait_for_function(
        "() => /^已回滚：/.test(document.getElementById('gen-status').textContent)"
    )
    status = page.text_content("#gen-status")
    assert re.fullmatch(
        r"已回滚：新边界版本 #\d+ 采用 #1 的边界；\d+ 个未办结问题点已重新分配", status
    )
    page.wait_for_function(f"() => document.querySelectorAll('tr[data-generation]').length > {gid}")
    current = store.current_generation()
    assert current["id"] > gid
    assert editor_review.compare(store, 1, current["id"])["changes"] == []
    assert current["publish_message"] == "回滚到边界版本 1"  # kept and shown to everyone


def drag(page, start, path):
    """Press on ``start`` (screen x, y), move through ``path`` (offsets in px), release."""
    page.mouse.move(*start)
    page.mouse.down()
    for dx, dy in path:
        page.mouse.move(start[0] + dx, start[1] + dy, steps=3)
        page.wait_for_timeout(60)  # a hand, not a teleport: the map draws each step
    page.mouse.up()


def corner_owners(areas, xy):
    return sorted(
        a for a, r in areas.items() if xy in set(map(tuple, shapely.get_coordinates(r["geometry"])))
    )


def on_a_shared_corner(page, store, gid):
    """Zoom in on a corner two areas share and select one of them: (areas, corner, owners)."""
    areas = editor_areas.generation_areas(store, gid)
    (x0, y0), owners = shared_vertex(areas)
    page.evaluate(
        "([lat, lon]) => { window.geoappEditor.map.setView([lat, lon], 18, {animate: false}); }",
        [y0, x0],
    )
    page.evaluate("(id) => window.geoappEditor.select(id)", owners[0])
    page.wait_for_selector("#area-panel:not([hidden])")
    return areas, (x0, y0), owners


def saved_where_dropped(page, store, gid, areas, owners, drop):
    """The draft's areas after a corner drag, checked: one new corner, shared by both areas,
    drawn at ``drop`` (screen x, y) and reported as saved.  Returns (areas, new corner)."""
    after = editor_areas.generation_areas(store, gid)
    new = {xy for a in owners for xy in after[a]["geometry"].exterior.coords} - {
        xy for a in owners for xy in areas[a]["geometry"].exterior.coords
    }
    assert len(new) == 1  # one new corner, the same in both areas
    (x1, y1) = new.pop()
    assert corner_owners(after, (x1, y1)) == owners
    px, py = screen_point(page, x1, y1)
    assert abs(px - drop[0]) <= 1.5 and abs(py - drop[1]) <= 1.5  # where it was dropped
    assert page.text_content("#editor-status").startswith("已保存")
    return after, (x1, y1)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_short_corner_drag_is_saved_where_it_was_dropped(page, served, viewport):
    """GeoMan snaps a dragged corner within 20 px back onto the neighbour's copy of it; the
    page used to save that no-op and say "saved".  Now a short drag is a real move, saved
    and drawn where it was dropped, and a drop on the old place says nothing changed."""
    base, store = served
    gid = open_editor(page, base, viewport, store)
    box_ = page.locator(".leaflet-container").bounding_box()
    assert box_["width"] > 300 and box_["height"] > 300  # the map is usable on a phone too
    areas, (x0, y0), owners = on_a_shared_corner(page, store, gid)
    for n, (dx, dy) in enumerate([(6, 4), (-9, 5), (12, -10)], start=2):
        sx, sy = screen_point(page, x0, y0)
        drag(page, (sx, sy), [(dx * k / 3, dy * k / 3) for k in range(1, 4)])
        wait_version(page, n)
        after, (x1, y1) = saved_where_dropped(page, store, gid, areas, owners, (sx + dx, sy + dy))
        report = editor_review.validate_generation(store, gid, 50)
        assert [f for f in report["findings"] if f["code"] in ("gap", "overlap")] == []
        areas, (x0, y0) = after, (x1, y1)
    # dragged away and dropped back on its place: nothing changes and the page says so
    sx, sy = screen_point(page, x0, y0)
    drag(page, (sx, sy), [(10, 0), (25, 10), (10, 5), (0, 0)])
    page.wait_for_function(
        "() => document.getElementById('editor-status').textContent.startsWith('没有改动')"
    )
    assert "已保存" not in page.text_content("#editor-status")
    assert store.get_generation(gid)["version"] == n
    assert len(store.draft_edits(gid)) == n - 1


@pytest.mark.allow_console_errors  # the browser logs the 400 as a failed load
def test_an_edit_that_changes_nothing_does_not_say_saved(page, served, page_log):
    base, store = served
    gid = open_editor(page, base, store=store)
    unit = editor_areas.generation_areas(store, gid)["A002"]["responsible_unit_id"]
    page.evaluate("() => window.geoappEditor.select('A002')")
    page.select_option("#area-unit", unit)  # the unit it already has
    page.click("#btn-reassign")
    page.wait_for_function(
        "() => document.getElementById('editor-status').textContent.startsWith('没有改动')"
    )
    assert page.eval_on_selector("#editor-status", "e => e.className").endswith("error")
    assert store.get_generation(gid)["version"] == 1 and store.draft_edits(gid) == []
    assert page_log.failed_responses == [f"400 {base}/api/drafts/{gid}/edits"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("moves", [1, 2], ids=["one-move", "two-moves"])
def test_a_corner_drag_whose_moves_arrive_coalesced_is_saved_where_it_was_dropped(
    page, served, viewport, moves
):
    """A busy browser coalesces the pointer moves of a drag: the move that starts the drag
    can be the last one before the release.  The corner still goes where it was dropped
    (it used to be reported as dropped back on its place, or saved at a stale point)."""
    base, store = served
    gid = open_editor(page, base, viewport, store)
    areas, (x0, y0), owners = on_a_shared_corner(page, store, gid)
    for n, (dx, dy) in enumerate([(6, 4), (-30, 25)], start=2):
        sx, sy = screen_point(page, x0, y0)
        page.mouse.move(sx, sy)
        page.mouse.down()
        if moves == 2:  # below the 3 px a drag needs to start, then the rest at once
            page.mouse.move(sx + dx / abs(dx), sy + dy / abs(dy))
        page.mouse.move(sx + dx, sy + dy)
        page.mouse.up()
        wait_version(page, n)
        after, (x1, y1) = saved_where_dropped(page, store, gid, areas, owners, (sx + dx, sy + dy))
        areas, (x0, y0) = after, (x1, y1)
