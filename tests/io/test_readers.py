"""Reading what people bring: encodings, formats, bad rows with their line numbers."""

import json
import zipfile

import geopandas as gpd
import numpy as np
import pytest
from shapely import box

from geoapp.core import crs
from geoapp.io.boundaries import read_areas
from geoapp.io.errors import InputError
from geoapp.io.points import read_points
from geoapp.io.tables import read_table


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


def test_csv_utf8_and_gbk_give_the_same_rows(tmp_path):
    text = "编号,经度,纬度,问题类别\nP1,114.92,28.23,垃圾桶满溢\nP2,114.93,28.24,闯红灯\n"
    a = read_points(write(tmp_path, "a.csv", text.encode("utf-8")))
    b = read_points(write(tmp_path, "b.csv", text.encode("gbk")))
    c = read_points(write(tmp_path, "c.csv", text.encode("utf-8-sig")))
    for t in (a, b, c):
        assert t.frame["问题类别"].tolist() == ["垃圾桶满溢", "闯红灯"]
        assert t.lon.tolist() == [114.92, 114.93]
        assert not t.bad


def test_csv_bad_rows_are_named_by_line(tmp_path):
    text = "lon,lat,category\n114.92,28.23,litter\nabc,28.2,litter\n\n114.9,,litter\n500,28.2,x\n"
    t = read_points(write(tmp_path, "p.csv", text))
    assert [b.where for b in t.bad] == ["line 3", "line 5", "line 6"]
    assert "not a pair of numbers" in t.bad[0].reason
    assert "not a valid position" in t.bad[2].reason
    assert np.isfinite(t.lon[0]) and np.isnan(t.lon[1])


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_csv_rows_are_named_by_the_line_they_start_on_after_cells_with_line_breaks(
    tmp_path, newline
):
    """A quoted cell may hold line breaks (a description typed in Excel with Alt+Enter):
    each row is still named by the line of the file it starts on."""
    lines = [
        "lon,lat,note",  # 1
        '114.92,28.23,"two',  # 2
        'lines"',  # 3
        "abc,28.2,bad one",  # 4
        "",  # 5: blank
        '114.9,28.2,"three',  # 6
        "",  # 7: an empty line inside the quotes
        'lines"',  # 8
        '500,28.2,"bad ',  # 9
        'two"',  # 10
        "114.9,,bad three",  # 11
    ]
    t = read_points(write(tmp_path, "p.csv", newline.join(lines) + newline))
    assert [b.where for b in t.bad] == ["line 4", "line 9", "line 11"]
    assert t.frame["note"].tolist()[0] == f"two{newline}lines"
    with pytest.raises(InputError, match="line 4 has 2 fields"):
        read_table(write(tmp_path, "q.csv", newline.join([*lines[:3], "1,2", ""])))


def test_csv_without_coordinates_columns(tmp_path):
    with pytest.raises(InputError, match="longitude and a latitude column"):
        read_points(write(tmp_path, "p.csv", "a,b\n1,2\n"))


def test_neither_utf8_nor_gbk(tmp_path):
    with pytest.raises(InputError, match="neither UTF-8 nor GBK"):
        read_points(write(tmp_path, "p.csv", b"lon,lat\n\xff\xfe\xfd\xfc,1\n"))


def test_wrong_number_of_fields(tmp_path):
    with pytest.raises(InputError, match="line 3 has 3 fields"):
        read_table(write(tmp_path, "p.csv", "lon,lat\n1,2\n1,2,3\n"))


def test_geojson_crs_argument_converts_once(tmp_path):
    glon, glat = crs.from_wgs84([114.92], [28.23], "gcj02")
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"category": "litter"},
                "geometry": {"type": "Point", "coordinates": [float(glon[0]), float(glat[0])]},
            }
        ],
    }
    t = read_points(write(tmp_path, "p.geojson", json.dumps(doc)), crs="gcj02")
    assert t.lon[0] == pytest.approx(114.92, abs=1e-9)
    assert t.lat[0] == pytest.approx(28.23, abs=1e-9)
    assert t.crs.code == "GCJ-02"
    assert t.src_x[0] == glon[0]


def test_geojson_declared_crs(tmp_path):
    x, y = crs.from_wgs84([114.92], [28.23], "EPSG:32650")
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32650"}},
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [x[0], y[0]]},
            }
        ],
    }
    t = read_points(write(tmp_path, "p.geojson", json.dumps(doc)))
    assert t.lon[0] == pytest.approx(114.92, abs=1e-7)


@pytest.mark.parametrize(
    "text,match",
    [
        ("{not json", "not valid JSON at line 1"),
        ('{"type": "Feature"}', "expected a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection"}', "no 'features' list"),
    ],
)
def test_malformed_geojson(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        read_points(write(tmp_path, "p.geojson", text))


def test_geojson_bad_features_named(tmp_path):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [114.9, 28.2]},
            },
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "LineString", "coordinates": []},
            },
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": ["a", 1]},
            },
            {"type": "Feature", "properties": {}, "geometry": None},
        ],
    }
    t = read_points(write(tmp_path, "p.geojson", json.dumps(doc)))
    assert [b.where for b in t.bad] == ["feature 2", "feature 3", "feature 4"]


def test_unknown_crs_names_the_file(tmp_path):
    with pytest.raises(InputError, match="p.csv: unknown CRS"):
        read_points(write(tmp_path, "p.csv", "lon,lat\n1,2\n"), crs="mars")


def test_unsupported_suffix(tmp_path):
    with pytest.raises(InputError, match="cannot read points from a '.kml' file"):
        read_points(write(tmp_path, "p.kml", "<kml/>"))


def test_xlsx_points(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["经度", "纬度", "问题类别"])
    ws.append([114.92, 28.23, "litter"])
    ws.append(["x", 28.23, "litter"])
    path = tmp_path / "p.xlsx"
    wb.save(path)
    t = read_points(path)
    assert t.lon[0] == 114.92
    assert [b.where for b in t.bad] == ["row 3"]


def test_not_an_xlsx(tmp_path):
    with pytest.raises(InputError, match="not a readable XLSX"):
        read_points(write(tmp_path, "p.xlsx", b"PK\x03\x04garbage"))


def areas_frame(crs_code="EPSG:4326"):
    gdf = gpd.GeoDataFrame(
        {
            "area_id": ["A1", "A2"],
            "name": ["甲", "乙"],
            "kind": ["market", "main_road"],
            "district_id": ["D1", "D1"],
            "responsible_unit_id": ["U1", "U2"],
        },
        geometry=[box(114.9, 28.2, 114.91, 28.21), box(114.91, 28.2, 114.92, 28.21)],
        crs=4326,
    )
    return gdf.to_crs(crs_code)


@pytest.mark.parametrize("suffix,driver", [(".geojson", "GeoJSON"), (".gpkg", "GPKG")])
def test_read_areas_any_crs(tmp_path, suffix, driver):
    path = tmp_path / f"a{suffix}"
    areas_frame("EPSG:32650").to_file(path, driver=driver)
    got = read_areas(path)
    assert got.crs.to_epsg() == 4326
    assert got["area_id"].tolist() == ["A1", "A2"]
    assert got.geometry.iloc[0].bounds[0] == pytest.approx(114.9, abs=1e-7)


def test_read_zipped_shapefile(tmp_path):
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    short = areas_frame("EPSG:4490").rename(
        columns={"responsible_unit_id": "unit_id", "district_id": "district"}
    )
    short.to_file(shp_dir / "areas.shp")
    zpath = tmp_path / "areas.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f.name)
    got = read_areas(zpath)
    assert got["responsible_unit_id"].tolist() == ["U1", "U2"]
    assert got["district_id"].tolist() == ["D1", "D1"]


def test_zip_with_traversal_or_without_prj(tmp_path):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../x.shp", b"")
    with pytest.raises(InputError, match="unsafe path"):
        read_areas(evil)
    noprj = tmp_path / "noprj.zip"
    with zipfile.ZipFile(noprj, "w") as zf:
        for ext in ("shp", "shx", "dbf"):
            zf.writestr(f"a.{ext}", b"")
    with pytest.raises(InputError, match="a.prj is missing"):
        read_areas(noprj)


def test_areas_missing_attribute_and_wrong_type(tmp_path):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "area_id": "A1",
                    "name": "x",
                    "kind": "market",
                    "district_id": "D1",
                    "responsible_unit_id": "",
                },
                "geometry": {"type": "Point", "coordinates": [114.9, 28.2]},
            }
        ],
    }
    with pytest.raises(InputError) as info:
        read_areas(write(tmp_path, "a.geojson", json.dumps(doc)))
    reasons = [str(b) for b in info.value.bad]
    assert "feature 1: geometry must be a Polygon or MultiPolygon, got Point" in reasons
    assert "feature 1: responsible_unit_id is empty" in reasons
    doc["features"][0]["properties"].pop("kind")
    with pytest.raises(InputError, match="missing attribute"):
        read_areas(write(tmp_path, "b.geojson", json.dumps(doc)))
