"""The OGC API's HTML pages in a real Chromium at phone width: the items map draws the
page's features with no outside request, the table scrolls inside the page instead of
widening it, and the paging links lead from page to page."""

import pytest

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}


@pytest.mark.parametrize("cid", ["problems", "areas"])
def test_items_page_at_phone_width(page, shared_tiny, cid):
    base = shared_tiny.sign_in(page, "admin")  # the tests only read the county
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/ogc/collections/{cid}/items?limit=2")  # a browser's Accept: HTML
    page.wait_for_load_state("load")
    drawn = page.locator("#ogc-map path.leaflet-interactive")
    drawn.first.wait_for()
    shown = page.request.get(f"{base}/ogc/collections/{cid}/items?limit=2&f=json").json()
    assert drawn.count() == shown["numberReturned"] == 2
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # nothing widens the page
    box = page.locator("#ogc-map").bounding_box()
    assert box["width"] >= PHONE["width"] - 40
    with page.expect_navigation():
        page.click("a[rel=next]")
    assert "offset=2" in page.url and "f=html" in page.url
    page.locator("#ogc-map path.leaflet-interactive").first.wait_for()


def test_landing_to_an_item(page, shared_tiny):
    base = shared_tiny.sign_in(page, "admin")
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/ogc/")
    with page.expect_navigation():
        page.click("ul.ogc-links a >> nth=0")
    assert "/ogc/collections" in page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with page.expect_navigation():
        page.click("a[href*='/items?f=html'] >> nth=0")
    with page.expect_navigation():
        page.click("table.list td a >> nth=0")
    assert "/items/" in page.url
    page.locator("#ogc-map path.leaflet-interactive").first.wait_for()
