"""The basemap from a local tile package in a real Chromium: tiles drawn, each the one the
package holds for its address, also zoomed past the package's deepest zoom, and not one
request leaving the server (the page fixture aborts and fails on any)."""

import re
import shutil

import geopandas as gpd
import pytest
from tilepack import colour_of, covering, make_package

from geoapp.services.county import DEMO_DIR

pytestmark = pytest.mark.browser
READY = "body[data-map-ready]"
TILE = re.compile(r"/tiles/(\d+)/(\d+)/(\d+)\.png$")

# the basemap tiles on screen: address, size and the colour of their centre pixel
DRAWN = """() => Array.from(document.querySelectorAll('img.leaflet-tile-loaded')).map(img => {
  const c = document.createElement('canvas'); c.width = c.height = 1;
  const g = c.getContext('2d'); g.drawImage(img, 128, 128, 1, 1, 0, 0, 1, 1);
  return {src: img.src, w: img.naturalWidth, rgba: Array.from(g.getImageData(0, 0, 1, 1).data)};
})"""


@pytest.fixture(scope="module")
def with_basemap(shared_server, demo_sqlite_template, tmp_path_factory):
    """The demo county served with a tile package covering it (zooms 10 to 15), once per
    module: the tests only read."""
    folder = tmp_path_factory.mktemp("basemap")
    bounds = gpd.read_file(DEMO_DIR / "areas.geojson").total_bounds
    pad = 0.05
    box = (bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    package = make_package(folder / "county.mbtiles", covering(box, range(10, 16)))
    shutil.copyfile(demo_sqlite_template, folder / "demo.sqlite")
    return shared_server(f"sqlite:///{folder / 'demo.sqlite'}", TILES_PACKAGE=str(package))


@pytest.mark.parametrize("width,height", [(1400, 900), (360, 740)])
def test_tiles_from_the_package_and_nothing_from_outside(
    page, page_log, with_basemap, width, height, keep_screenshot
):
    base = with_basemap.sign_in(page, "coordinator")
    page.set_viewport_size({"width": width, "height": height})
    page.goto(base + "/")
    page.wait_for_selector(READY, timeout=30000)
    for zoom, native in ((None, None), (15, 15), (18, 15)):  # opened, deepest, beyond
        if zoom is not None:
            page.evaluate("(z) => { window.geoappMap.map.setZoom(z, {animate: false}); }", zoom)
        page.wait_for_function(
            "() => document.querySelectorAll('img.leaflet-tile-loaded').length > 0"
            " && !document.querySelector('.leaflet-tile-container img:not(.leaflet-tile-loaded)')",
            timeout=15000,
        )
        drawn = page.evaluate(DRAWN)
        assert drawn
        for tile in drawn:
            z, x, y = map(int, TILE.search(tile["src"]).groups())
            assert tile["src"].startswith(base) and tile["w"] == 256
            assert tuple(tile["rgba"]) == colour_of(z, x, y), tile["src"]
            if native is not None:
                assert z == native  # past the deepest zoom: its tiles, enlarged
    keep_screenshot(page, f"basemap-{width}.png")
    assert any(TILE.search(u) for u in page_log.requests)
    assert page_log.requests and all(
        u.startswith(base) or u.startswith("data:") for u in page_log.requests
    )
    assert not page_log.blocked
