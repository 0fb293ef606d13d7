"""``geoapp import-points``: a register of inspection points from CSV (GBK), XLSX and GeoJSON
(points and polygons), dry run first, on the tiny county (tests/hand_county.py)."""

import json

import pytest
from click.testing import CliRunner
from hand_county import LAT0, LON0, SIDE

from geoapp.cli import main
from geoapp.io.errors import InputError
from geoapp.services import point_import


def url_of(store) -> str:
    return store.url.render_as_string(hide_password=False)


def run(store, *args):
    return CliRunner().invoke(main, ["--database-url", url_of(store), *map(str, args)])


def centre(k: int) -> tuple[float, float]:
    return LON0 + (k - 0.5) * SIDE, LAT0 + 0.5 * SIDE


def summary_of(output: str) -> dict:
    return json.loads(next(line for line in output.splitlines() if line.startswith("{")))


def test_csv_in_gbk_dry_run_then_commit(tiny_county, tmp_path):
    (x1, y1), (x4, y4) = centre(1), centre(4)
    rows = [
        "受检点编号,受检点名称,类型,经度,纬度,备注",
        f"K1,城关市场,农贸市场,{x1},{y1},",
        f"K2,幸福小区,无物业小区,{x4},{y4},楼道杂物",
        f"K3,一中,school,{x1},{y1},",
        f"K4,城堡,castle,{x1},{y1},",
        "K5,县外车站,车站,115.5,28.2,",
        f"K1,重复,market,{x1},{y1},",
    ]
    src = tmp_path / "register.csv"
    src.write_bytes(("\n".join(rows) + "\n").encode("gbk"))
    r = run(tiny_county, "import-points", src)
    assert r.exit_code == 0, r.output
    assert "line 5: kind 'castle' is not one of market" in r.output
    assert "line 7: point K1 appears twice in the file" in r.output
    summary = summary_of(r.output)
    assert (summary["new"], summary["bad_rows"], summary["unassigned_outside_county"]) == (4, 2, 1)
    assert summary["by_kind"] == {
        "compound_unmanaged": 1,
        "market": 1,
        "school": 1,
        "station": 1,
    }
    assert summary["by_district"] == {"D1": 2, "D2": 1, "未分配": 1}
    assert tiny_county.inspection_points() == []
    r = run(tiny_county, "import-points", src, "--commit")
    assert r.exit_code == 2 and "nothing was imported" in r.output
    assert tiny_county.inspection_points() == []
    r = run(tiny_county, "import-points", src, "--commit", "--skip-bad")
    assert r.exit_code == 0 and "registered 4 inspection point(s)" in r.output
    points = {p["point_id"]: p for p in tiny_county.inspection_points()}
    assert (points["K2"]["responsible_unit_id"], points["K2"]["lead_unit_id"]) == ("U4", "U4")
    assert points["K2"]["note"] == "楼道杂物" and points["K5"]["area_id"] is None
    r = run(tiny_county, "import-points", src, "--commit", "--skip-bad")
    assert "registered 0 inspection point(s)" in r.output
    assert summary_of(r.output)["already_in_store"] == 4


def test_geojson_polygons_and_points(tiny_county, tmp_path):
    x0, y0 = LON0 + 2 * SIDE, LAT0
    square = [[x0 + 0.001, y0 + 0.001], [x0 + 0.004, y0 + 0.001], [x0 + 0.004, y0 + 0.004]]
    square.append(square[0])
    bowtie = [[x0, y0], [x0 + 0.002, y0 + 0.002], [x0 + 0.002, y0], [x0, y0 + 0.002], [x0, y0]]
    features = [
        (
            {"编号": "G1", "名称": "菜市场", "类型": "市场"},
            {"type": "Polygon", "coordinates": [square]},
        ),
        (
            {"编号": "G2", "名称": "路", "类型": "主次干道"},
            {"type": "Point", "coordinates": centre(5)},
        ),
        (
            {"编号": "G3", "名称": "线", "类型": "背街小巷"},
            {"type": "LineString", "coordinates": [centre(1), centre(2)]},
        ),
        (
            {"编号": "G4", "名称": "坏", "类型": "学校"},
            {"type": "Polygon", "coordinates": [bowtie]},
        ),
    ]
    doc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
    }
    src = tmp_path / "register.geojson"
    src.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    plan = point_import.plan_point_import(tiny_county, src)
    assert [str(b).split(":")[0] for b in plan.bad] == ["feature 3", "feature 4"]
    assert "Point, Polygon or MultiPolygon, got LineString" in str(plan.bad[0])
    ids = point_import.commit_point_import(tiny_county, plan, "planner", allow_bad=True)
    assert len(ids) == 2
    g1 = tiny_county.inspection_point_by_code("G1")
    assert g1["geometry"].geom_type == "Polygon" and g1["area_id"] == "A3"
    assert tiny_county.inspection_point_by_code("G2")["area_id"] == "A5"


def test_xlsx_register_and_a_file_without_a_kind_column(tiny_county, tmp_path):
    import pandas as pd

    x, y = centre(6)
    src = tmp_path / "register.xlsx"
    pd.DataFrame([{"编号": "X1", "名称": "医院", "类型": "医院", "经度": x, "纬度": y}]).to_excel(
        src, index=False
    )
    plan = point_import.plan_point_import(tiny_county, src)
    assert [(r["point_id"], r["kind"], r["area_id"]) for r in plan.rows] == [
        ("X1", "hospital", "A6")
    ]
    bare = tmp_path / "bare.csv"
    bare.write_text(f"编号,名称,经度,纬度\nX2,无类型,{x},{y}\n", "utf-8")
    with pytest.raises(InputError, match="no kind column"):
        point_import.plan_point_import(tiny_county, bare)
