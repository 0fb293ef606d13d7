"""The map's problem clusters after the first load come from a Web Worker
(static/js/geoapp-clusters.js): the page's main thread never fetches or parses them, and
what it draws is exactly the API's answer for the view, under any filter."""

import json
from urllib.parse import urlencode

import pytest

from geoapp.store import open_store

pytestmark = pytest.mark.browser
READY = "body[data-map-ready]"
PAGE_CLUSTER_REQUESTS = (
    "() => performance.getEntriesByType('resource')"
    ".filter(e => e.name.includes('/api/problems/clusters')).length"
)


@pytest.fixture
def served(shared_demo, page):
    """The demo county served for the module (read only), ``page`` signed in as admin."""
    return shared_demo.sign_in(page, "admin")


def view_params(page) -> dict:
    """The cluster request's view parameters as the page builds them."""
    return page.evaluate(
        "() => { var m = window.geoappMap.map, b = m.getBounds().pad(0.25);"
        " return {zoom: m.getZoom(), bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]"
        ".map(v => v.toFixed(6)).join(',')}; }"
    )


def drawn(page) -> list[tuple]:
    found = page.evaluate(
        "() => window.geoappMap.shapes.problems.dots().map(d =>"
        " [d.lon, d.lat, d.count, d.id || null, d.worst])"
    )
    return sorted((tuple(d) for d in found), key=repr)


def api_dots(page, base: str, params: dict) -> tuple[list[tuple], dict]:
    answer = page.request.get(base + "/api/problems/clusters?" + urlencode(params, doseq=True))
    assert answer.ok, answer.text()
    fc = answer.json()
    found = [
        (
            f["geometry"]["coordinates"][0],
            f["geometry"]["coordinates"][1],
            f["properties"]["count"],
            f["properties"].get("id") if f["properties"]["count"] == 1 else None,
            f["properties"].get("worst") or f["properties"].get("status"),
        )
        for f in fc["features"]
    ]
    return sorted(found, key=repr), fc


@pytest.mark.parametrize(
    "filters",
    [
        {"status": ["verified"], "district": ["D2"]},
        {"status": ["assigned", "rectified"]},
    ],
)
def test_worker_clusters_are_the_apis_under_a_filter(page, served, shared_demo, filters):
    page.set_viewport_size({"width": 1200, "height": 800})
    page.goto(served + "/?" + urlencode(filters, doseq=True))
    page.wait_for_selector(READY, timeout=30000)
    first = page.evaluate(PAGE_CLUSTER_REQUESTS)
    # each move: the worker's answer is drawn, the page itself asks for nothing
    for step in ("m => m.setZoom(m.getZoom() + 2)", "m => m.panBy([200, 120])"):
        shown = page.get_attribute("body", "data-problems-shown")
        before = drawn(page)
        page.evaluate(f"() => ({step})(window.geoappMap.map)")
        page.wait_for_function(
            "(old) => { var d = window.geoappMap.shapes.problems.dots();"
            " return JSON.stringify(d.map(x => [x.lon, x.lat, x.count])) !== old; }",
            arg=json.dumps([[d[0], d[1], d[2]] for d in before]),
            timeout=15000,
        )
        page.wait_for_timeout(300)
        params = {**filters, **view_params(page)}
        want, fc = api_dots(page, served, params)
        assert drawn(page) == want
        total = sum(d[2] for d in want)
        assert int(page.get_attribute("body", "data-problems-shown")) == total
        assert total > 0 or shown == "0"
    assert page.evaluate(PAGE_CLUSTER_REQUESTS) == first  # none on the main thread
    # the count the sidebar shows is the store's for the filter, wherever the map is
    store_filter = {("district_id" if k == "district" else k): v for k, v in filters.items()}
    with open_store(shared_demo.url) as store:
        expected = store.count_problems(store_filter)
    assert fc["numberFiltered"] == expected
    assert page.inner_text("#problem-count").strip() == str(expected)


def test_a_changed_filter_goes_through_the_worker_too(page, served, shared_demo):
    page.goto(served + "/")
    page.wait_for_selector(READY, timeout=30000)
    first = page.evaluate(PAGE_CLUSTER_REQUESTS)
    with open_store(shared_demo.url) as store:
        expected = store.count_problems({"status": ["rectified"]})
    page.select_option("select[name=status]", "rectified")
    page.wait_for_function(
        "(n) => document.getElementById('problem-count').textContent === String(n)",
        arg=expected,
        timeout=15000,
    )
    want, _ = api_dots(page, served, {"status": ["rectified"], **view_params(page)})
    assert drawn(page) == want
    assert page.evaluate(PAGE_CLUSTER_REQUESTS) == first
