"""bench_map's folium baseline runs offline: every file its page loads comes from the
baseline's own app (node_modules, package.json devDependencies), none from the internet,
and none from geoapp's static/vendor (which holds only what geoapp's pages load)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from geoapp.web import assets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import map_baseline  # noqa: E402


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("baseline")
    points = [[39.90 + i / 1000, 116.40 + i / 1000] for i in range(5)]
    path, facts = map_baseline.render_page(points, (116.4, 39.9, 116.41, 39.91), folder)
    return path, facts


def test_page_loads_nothing_from_the_internet(page):
    path, facts = page
    html = path.read_text(encoding="utf-8")
    assert assets.external_urls(html) == []
    assert facts["points"] == 5
    # the two CDN-only icon stylesheets are the only ones left out, and said so
    assert len(facts["left_out_cdn_only_css"]) == 2
    assert "FastMarkerCluster" in html or "L.markerClusterGroup" in html


def test_every_file_the_page_loads_is_served(page):
    path, _ = page
    client = map_baseline.make_app(path).test_client()
    answer = client.get("/")
    html = answer.get_data(as_text=True)
    answer.close()
    urls = assets.resource_urls(html)
    wanted = [u for u in urls if u.startswith(map_baseline.PREFIX + "/")]
    assert any("leaflet.markercluster.js" in u for u in wanted)
    assert any("MarkerCluster.Default.css" in u for u in wanted)
    assert not [u for u in urls if u.startswith("/static/")]  # never geoapp's vendor folder
    for url in wanted:
        answer = client.get(url)
        assert answer.status_code == 200, url
        answer.close()
        # fonts and images the stylesheets refer to are there too
        if url.endswith(".css"):
            css = map_baseline.NODE_MODULES / url[len(map_baseline.PREFIX) + 1 :]
            for ref in assets._css_refs(css):
                rel = (Path(url).parent / ref.split("?")[0]).as_posix()
                answer = client.get(rel)
                assert answer.status_code == 200, (url, ref)
                answer.close()


def test_only_the_baseline_packages_are_served(page):
    path, _ = page
    client = map_baseline.make_app(path).test_client()
    for rel, status in [
        ("/leaflet/dist/leaflet.js", 200),
        ("/lodash/package.json", 404),  # in node_modules, not a baseline package
        ("/../package.json", 404),
        ("/leaflet/../../package.json", 404),
    ]:
        answer = client.get(map_baseline.PREFIX + rel)
        assert answer.status_code == status, rel
        answer.close()


def test_page_stays_the_baselines_after_geoapp_pointed_folium_at_its_vendor(tmp_path):
    # geoapp's app factory rewrites folium's Leaflet links to static/vendor in the process
    assets.make_folium_offline()
    path, _ = map_baseline.render_page([[39.9, 116.4]], (116.4, 39.9, 116.41, 39.91), tmp_path)
    urls = assets.resource_urls(path.read_text(encoding="utf-8"))
    assert not [u for u in urls if u.startswith("/static/")]
    assert assets.external_urls(path.read_text(encoding="utf-8")) == []
    assert f"{map_baseline.PREFIX}/leaflet/dist/leaflet.js" in urls
