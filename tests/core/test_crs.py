import numpy as np
import pytest

from geoapp.core import crs


def test_names_parse():
    assert crs.parse_crs(None).code == "EPSG:4326"
    assert crs.parse_crs("WGS84").code == "EPSG:4326"
    assert crs.parse_crs("gcj-02").kind == "gcj02"
    assert crs.parse_crs("BD09").kind == "bd09"
    assert crs.parse_crs("cgcs2000").code == "EPSG:4490"
    assert crs.parse_crs("32650").code == "EPSG:32650"
    assert crs.parse_crs("epsg:4326").kind == "wgs84"


@pytest.mark.parametrize("bad", ["EPSG:999999", "mars", "EPSG:abc", "+proj=longlat"])
def test_unknown_crs_is_a_clear_error(bad):
    with pytest.raises(crs.CRSError, match="unknown CRS"):
        crs.parse_crs(bad)


def test_gcj02_offset_is_hundreds_of_metres_in_china():
    lon, lat = crs.wgs84_to_gcj02([114.92], [28.23])
    # GCJ-02 moves points in Jiangxi by roughly 0.005° east and -0.003° north
    assert 0.003 < lon[0] - 114.92 < 0.008
    assert -0.005 < lat[0] - 28.23 < 0.0


def test_known_reference_point():
    # Tiananmen, WGS84 → GCJ-02, as given by the published formula
    lon, lat = crs.wgs84_to_gcj02([116.391275], [39.906217])
    assert lon[0] == pytest.approx(116.397517, abs=2e-5)
    assert lat[0] == pytest.approx(39.907620, abs=2e-5)


def test_outside_china_unchanged():
    lon, lat = crs.wgs84_to_gcj02([2.35], [48.85])
    assert (lon[0], lat[0]) == (2.35, 48.85)


@pytest.mark.parametrize("name", ["gcj02", "bd09", "EPSG:32650", "EPSG:4490", "EPSG:3857"])
def test_round_trip_is_exact_to_a_millimetre(name):
    rng = np.random.default_rng(1)
    lon = 114.9 + rng.random(200) * 0.05
    lat = 28.2 + rng.random(200) * 0.05
    x, y = crs.from_wgs84(lon, lat, name)
    back_lon, back_lat = crs.to_wgs84(x, y, name)
    assert np.max(np.abs(back_lon - lon)) < 1e-8
    assert np.max(np.abs(back_lat - lat)) < 1e-8


def test_bd09_differs_from_gcj02():
    g = crs.from_wgs84([114.92], [28.23], "gcj02")
    b = crs.from_wgs84([114.92], [28.23], "bd09")
    assert abs(b[0][0] - g[0][0]) > 0.005


def test_invalid_coordinates_named():
    with pytest.raises(crs.CRSError, match="coordinate #2"):
        crs.to_wgs84([114.9, 200.0], [28.2, 28.2], "wgs84")
    with pytest.raises(crs.CRSError, match="coordinate #1"):
        crs.to_wgs84([float("nan")], [28.2], "gcj02")
