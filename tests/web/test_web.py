"""The Flask app: pages, language, the lookup API and error answers."""

import geopandas as gpd
import pytest
from webclient import TEST_HASH_METHOD, make_app, sign_in

from geoapp.core import crs
from geoapp.services.accounts import create_user
from geoapp.services.county import DEMO_DIR


@pytest.fixture(scope="module")
def demo_areas():
    return gpd.read_file(DEMO_DIR / "areas.geojson")


def test_map_page_speaks_chinese_by_default(client):
    r = client.get("/")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "县城创卫责任区地图" in text
    assert "包干区" in text
    assert "https://cdn" not in text and "unpkg.com" not in text
    # the legend's word for overdue is the one the tooltip, popup and ledger use
    legend = text[text.index('id="legend"') :]
    assert "已超期" in legend and "超期未整改" not in legend


def test_english_on_request_and_remembered(client):
    r = client.get("/?lang=en")
    assert "County sanitation responsibility map" in r.get_data(as_text=True)
    assert "lang=en" in r.headers.get("Set-Cookie", "")
    r = client.get("/")
    assert "County sanitation responsibility map" in r.get_data(as_text=True)


def test_browser_language_english(client):
    r = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "County sanitation responsibility map" in r.get_data(as_text=True)


def test_lookup_names_the_responsible_unit(client, demo_areas):
    row = demo_areas.iloc[5]
    p = row.geometry.representative_point()
    r = client.get(f"/api/lookup?lon={p.x}&lat={p.y}")
    assert r.status_code == 200
    d = r.get_json()
    assert d["area"]["id"] == row["area_id"]
    assert d["responsible_unit"]["id"] == row["responsible_unit_id"]
    assert d["district"]["id"] == row["district_id"]
    assert d["lead_unit"]["id"]
    assert d["generation"] == 1


def test_lookup_in_gcj02(client, demo_areas):
    row = demo_areas.iloc[7]
    p = row.geometry.representative_point()
    x, y = crs.from_wgs84([p.x], [p.y], "gcj02")
    d = client.get(f"/api/lookup?lon={x[0]}&lat={y[0]}&crs=gcj02").get_json()
    assert d["area"]["id"] == row["area_id"]


def test_lookup_outside_county(client):
    d = client.get("/api/lookup?lon=100&lat=20").get_json()
    assert d["area"] is None and d["responsible_unit"] is None and d["lead_unit"] is None


@pytest.mark.parametrize(
    "query,code",
    [
        ("lon=abc&lat=1", "bad_crs"),
        ("lat=1", "bad_crs"),
        ("lon=114.9&lat=28.2&crs=mars", "bad_crs"),
        ("lon=1000&lat=28.2", "bad_crs"),
    ],
)
def test_lookup_bad_input_is_400(client, query, code):
    r = client.get(f"/api/lookup?{query}")
    assert r.status_code == 400
    assert r.get_json()["error"] == code
    assert r.get_json()["message"]


def test_problems_layer(client):
    r = client.get("/api/problems.geojson")
    assert r.status_code == 200
    fc = r.get_json()
    assert len(fc["features"]) >= 3000
    assert r.mimetype == "application/geo+json"


def test_unknown_page_is_a_404_page(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404
    r = client.get("/api/no-such")
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"


def test_empty_store_explains_what_to_do(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'e.sqlite'}")
    store = app.extensions["geoapp.store"]
    create_user(store, "admin", "admin-password", "admin", method=TEST_HASH_METHOD)
    client = sign_in(app.test_client(), "admin")
    r = client.get("/")
    assert r.status_code == 200
    assert "geoapp load-demo" in r.get_data(as_text=True)
    r = client.get("/api/lookup?lon=114.9&lat=28.2")
    assert r.status_code == 409
    app.extensions["geoapp.store"].close()


def test_map_page_filters_follow_the_data(client, app):
    """The page's facts are cached; a new inspection round shows up at the next load."""
    assert "复查轮次" not in client.get("/").get_data(as_text=True)
    store = app.extensions["geoapp.store"]
    with store.transaction() as tx:
        tx.add_problems(
            [{"round": "复查轮次", "category": "litter", "lon": 114.9, "lat": 28.2, "deduction": 1}]
        )
    assert '<option value="复查轮次"' in client.get("/").get_data(as_text=True)
