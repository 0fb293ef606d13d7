"""The map's first draw: the first answers of the four layers (districts, areas, units,
problem clusters) are applied together once all have come, so the canvas is drawn and the
names placed once for all of them, never with some layers and not the others; a layer
whose request fails leaves the others drawn and says why."""

import time

import pytest

pytestmark = pytest.mark.browser
READY = "body[data-map-ready]"
# every animation frame from the start: what the layers hold, each time it changes
WATCH = """(() => {
    window.__layerStates = [];
    const look = () => {
        const m = window.geoappMap;
        if (m) {
            const s = [m.shapes.districts.featureCount(), m.shapes.areas.featureCount(),
                m.layers.units.getLayers().length, m.shapes.problems.dots().length];
            const last = window.__layerStates[window.__layerStates.length - 1];
            if (!last || last.join() !== s.join()) window.__layerStates.push(s);
        }
        if (!document.body || !document.body.hasAttribute('data-map-ready')) requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
})();"""


@pytest.fixture
def served(shared_demo, page):
    return shared_demo.sign_in(page, "admin")


@pytest.mark.parametrize("late", ["areas", "districts", "problems/clusters"])
def test_a_late_layer_holds_back_the_others_first_draw(page, served, late):
    def slow(route):
        time.sleep(0.8)  # the other three answers come meanwhile
        route.continue_()

    page.route(f"**/api/{late}*", slow)
    page.add_init_script(WATCH)
    page.goto(served + "/")
    page.wait_for_selector(READY, timeout=30000)
    states = page.evaluate("window.__layerStates")
    drawn = [s for s in states if any(s)]
    # nothing drawn until everything is, then all four layers at once
    assert drawn and all(all(s) for s in drawn), states
    assert states[0] == drawn[0] or not any(states[0]), states
    assert page.evaluate("window.geoappMap.names.shown().length") > 0


@pytest.mark.allow_console_errors
def test_a_failed_layer_leaves_the_others_drawn_and_says_why(page, served):
    page.route(
        "**/api/areas*",
        lambda route: route.fulfill(
            status=500, content_type="application/json", body='{"message": "areas went wrong"}'
        ),
    )
    page.goto(served + "/")
    page.wait_for_selector(READY, timeout=30000)
    counts = page.evaluate(
        "() => { const s = window.geoappMap.shapes; return [s.districts.featureCount(),"
        " s.areas.featureCount(), s.problems.dots().length,"
        " window.geoappMap.layers.units.getLayers().length]; }"
    )
    assert counts[1] == 0 and counts[0] > 0 and counts[2] > 0 and counts[3] > 0, counts
    status = page.locator("#map-status")
    assert "error" in (status.get_attribute("class") or "")
    assert "areas went wrong" in status.inner_text()
