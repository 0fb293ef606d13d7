"""Invariants of the synthetic demo county in ``data/geojson`` (see its README.md)."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from geoapp.demo.generate import generate

DATA = Path(__file__).resolve().parents[2] / "data" / "geojson"
GENERATED = (
    "areas.geojson",
    "categories.csv",
    "county.geojson",
    "districts.csv",
    "inspection_points.geojson",
    "inspection_visits.csv",
    "patrol_checkins.csv",
    "problems.geojson",
    "rules.csv",
    "units.geojson",
)
AREA_KINDS = {
    "main_road",
    "back_alley",
    "compound_managed",
    "compound_unmanaged",
    "open_compound",
    "urban_village",
    "market",
    "public_space",
    "unit_yard",
}
UNIT_KINDS = {"lead", "responsible", "special_group", "company"}
STATUSES = {"reported", "assigned", "rectifying", "rectified", "verified"}
PLACEMENTS = {"interior", "vertex", "edge", "outside"}
TO_UTM = Transformer.from_crs(4326, 32650, always_xy=True)


def _features(name: str) -> list[dict[str, Any]]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))["features"]


def _csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _utm(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.column_stack(TO_UTM.transform(xy[:, 0], xy[:, 1])))


@pytest.fixture(scope="module")
def areas() -> list[tuple[dict[str, Any], BaseGeometry]]:
    return [(f["properties"], shape(f["geometry"])) for f in _features("areas.geojson")]


@pytest.fixture(scope="module")
def area_geoms(areas: list[tuple[dict[str, Any], BaseGeometry]]) -> np.ndarray:
    return np.array([g for _, g in areas], dtype=object)


@pytest.fixture(scope="module")
def area_tree(area_geoms: np.ndarray) -> shapely.STRtree:
    return shapely.STRtree(area_geoms)


@pytest.fixture(scope="module")
def units() -> list[tuple[dict[str, Any], BaseGeometry]]:
    return [(f["properties"], shape(f["geometry"])) for f in _features("units.geojson")]


@pytest.fixture(scope="module")
def problems() -> list[tuple[dict[str, Any], BaseGeometry]]:
    return [(f["properties"], shape(f["geometry"])) for f in _features("problems.geojson")]


@pytest.fixture(scope="module")
def county() -> BaseGeometry:
    feats = _features("county.geojson")
    assert len(feats) == 1
    assert feats[0]["properties"] == {"name": "X县城创卫范围"}
    return shape(feats[0]["geometry"])


def _covering(tree: shapely.STRtree, pts: list[BaseGeometry]) -> np.ndarray:
    hit_pt, _ = tree.query(np.array(pts, dtype=object), predicate="covered_by")
    return np.bincount(hit_pt, minlength=len(pts))


# ---- reproducibility ----------------------------------------------------------------------
def test_regenerates_byte_for_byte(tmp_path: Path) -> None:
    generate(tmp_path)
    produced = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in DATA.iterdir() if p.name != "README.md")
    assert produced == committed == sorted(GENERATED)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_files_are_utf8_with_trailing_newline() -> None:
    assert (DATA / "README.md").is_file()
    for name in GENERATED:
        raw = (DATA / name).read_bytes()
        raw.decode("utf-8")
        assert raw.endswith(b"\n") and not raw.startswith(b"\xef\xbb\xbf"), name


def test_coordinates_have_at_most_7_decimals() -> None:
    for name in ("areas.geojson", "county.geojson", "units.geojson", "problems.geojson"):
        geoms = [shape(f["geometry"]) for f in _features(name)]
        xy = shapely.get_coordinates(geoms)
        assert np.array_equal(np.round(xy, 7), xy), name
        # lon/lat order, around the fictional county town
        assert (xy[:, 0] > 114.8).all() and (xy[:, 0] < 115.05).all(), name
        assert (xy[:, 1] > 28.15).all() and (xy[:, 1] < 28.31).all(), name


# ---- areas and tiling ---------------------------------------------------------------------
def test_areas_schema(areas: list[tuple[dict[str, Any], BaseGeometry]]) -> None:
    assert len(areas) >= 150
    ids = [p["area_id"] for p, _ in areas]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"A\d{3}", i) for i in ids)
    assert ids == sorted(ids)
    names = [p["name"] for p, _ in areas]
    assert len(set(names)) == len(names)
    for p, _ in areas:
        assert set(p) == {"area_id", "name", "kind", "district_id", "responsible_unit_id"}
        assert p["kind"] in AREA_KINDS
    assert {p["kind"] for p, _ in areas} == AREA_KINDS


def test_area_geometries_valid(areas: list[tuple[dict[str, Any], BaseGeometry]]) -> None:
    for p, g in areas:
        assert g.geom_type in ("Polygon", "MultiPolygon"), p["area_id"]
        assert shapely.is_valid(g), (p["area_id"], shapely.is_valid_reason(g))
        for poly in shapely.get_parts(g):  # RFC 7946 winding
            assert poly.exterior.is_ccw, p["area_id"]
            assert all(not r.is_ccw for r in poly.interiors), p["area_id"]
    types = Counter(g.geom_type for _, g in areas)
    assert types["MultiPolygon"] >= 1
    assert any(len(poly.interiors) for _, g in areas for poly in shapely.get_parts(g))


def test_tiling_has_no_overlap(area_geoms: np.ndarray) -> None:
    utm = np.array([_utm(g) for g in area_geoms], dtype=object)
    left, right = shapely.STRtree(utm).query(utm, predicate="intersects")
    mask = left < right
    overlap = shapely.area(shapely.intersection(utm[left[mask]], utm[right[mask]]))
    assert mask.sum() > len(utm)  # plenty of neighbour pairs were checked
    assert overlap.max() < 1e-6


def test_county_is_union_of_areas(area_geoms: np.ndarray, county: BaseGeometry) -> None:
    assert county.geom_type == "Polygon" and shapely.is_valid(county)
    union = _utm(shapely.union_all(area_geoms))
    c = _utm(county)
    assert c.difference(union).area < 1.0  # no gap
    assert union.difference(c).area < 1.0  # nothing outside
    assert 12e6 < c.area < 25e6  # roughly 5 km x 4 km
    x0, y0, x1, y1 = c.bounds
    assert 4000 < x1 - x0 < 6000 and 3000 < y1 - y0 < 5000


def test_districts(areas: list[tuple[dict[str, Any], BaseGeometry]]) -> None:
    rows = _csv("districts.csv")
    assert list(rows[0]) == ["district_id", "name", "lead_unit_id"]
    assert [r["district_id"] for r in rows] == [f"D{k}" for k in range(1, 8)]
    for r in rows:
        assert r["name"].startswith("第") and "片区" in r["name"]
        members = [g for p, g in areas if p["district_id"] == r["district_id"]]
        assert members, r["district_id"]
        union = shapely.union_all(members)
        assert union.geom_type == "Polygon", f"{r['district_id']} is not contiguous"
    assert {p["district_id"] for p, _ in areas} == {r["district_id"] for r in rows}


# ---- units, categories, rules -------------------------------------------------------------
def test_units(
    units: list[tuple[dict[str, Any], BaseGeometry]],
    areas: list[tuple[dict[str, Any], BaseGeometry]],
    county: BaseGeometry,
) -> None:
    assert len(units) >= 30
    ids = [p["unit_id"] for p, _ in units]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"U\d{2}", i) for i in ids)
    assert len({p["name"] for p, _ in units}) == len(units)
    for p, g in units:
        assert set(p) == {"unit_id", "name", "kind", "contact", "phone", "lead_district_id"}
        assert p["kind"] in UNIT_KINDS
        assert g.geom_type == "Point" and county.contains(g), p["name"]
        assert re.fullmatch(r"0795-25\d{5}|1380795\d{4}", p["phone"]), p["phone"]
        assert (p["kind"] == "lead") == (p["lead_district_id"] is not None)
    unit_ids = set(ids)
    for p, _ in areas:
        assert p["responsible_unit_id"] in unit_ids, p["area_id"]
    by_name = {p["name"]: p["unit_id"] for p, _ in units}
    for name in ("县城管局", "县城管大队", "县房管局", "县交警大队", "敦厚镇政府", "县市场监管局"):
        assert name in by_name
    town = by_name["敦厚镇政府"]
    villages = [p for p, _ in areas if p["kind"] == "urban_village"]
    assert villages and all(p["responsible_unit_id"] == town for p in villages)


def test_one_lead_unit_per_district(
    units: list[tuple[dict[str, Any], BaseGeometry]],
    areas: list[tuple[dict[str, Any], BaseGeometry]],
) -> None:
    leads = {p["lead_district_id"]: (p, g) for p, g in units if p["kind"] == "lead"}
    assert len([p for p, _ in units if p["kind"] == "lead"]) == 7 == len(leads)
    for row in _csv("districts.csv"):
        p, g = leads[row["district_id"]]
        assert p["unit_id"] == row["lead_unit_id"]
        district = shapely.union_all(
            [a for ap, a in areas if ap["district_id"] == row["district_id"]]
        )
        assert district.contains(g), f"lead unit office outside {row['district_id']}"


def test_categories_and_rules(units: list[tuple[dict[str, Any], BaseGeometry]]) -> None:
    cats = _csv("categories.csv")
    assert list(cats[0]) == ["category", "name_zh", "name_en", "deadline_hours"]
    codes = [c["category"] for c in cats]
    assert len(codes) >= 10 and len(set(codes)) == len(codes)
    assert all(int(c["deadline_hours"]) > 0 for c in cats)
    rules = _csv("rules.csv")
    assert list(rules[0]) == ["rule_id", "priority", "category", "area_kind", "unit_id", "note"]
    unit_ids = {p["unit_id"] for p, _ in units}
    assert len({r["rule_id"] for r in rules}) == len(rules)
    priorities = [int(r["priority"]) for r in rules]
    assert len(set(priorities)) == len(priorities)
    for r in rules:
        assert r["category"] in codes
        assert r["area_kind"] == "" or r["area_kind"] in AREA_KINDS
        assert r["unit_id"] in unit_ids
    by_name = {p["name"]: p["unit_id"] for p, _ in units}
    first = {}
    for r in sorted(rules, key=lambda r: int(r["priority"])):
        first.setdefault((r["category"], r["area_kind"]), r["unit_id"])
    assert first[("red_light", "")] == by_name["县交警大队"]
    assert first[("food_safety", "")] == by_name["县市场监管局"]
    assert first[("urban_village_disorder", "urban_village")] == by_name["敦厚镇政府"]


# ---- problems -----------------------------------------------------------------------------
def test_problems_schema(problems: list[tuple[dict[str, Any], BaseGeometry]]) -> None:
    assert len(problems) >= 3000
    cats = {c["category"] for c in _csv("categories.csv")}
    ids = [p["problem_id"] for p, _ in problems]
    assert ids == [f"P{k:05d}" for k in range(1, len(problems) + 1)]
    rounds: dict[str, list[datetime]] = {}
    for p, g in problems:
        assert set(p) == {
            "problem_id",
            "round",
            "category",
            "description",
            "deduction",
            "reported_at",
            "status",
            "rectified_at",
            "reporter",
            "placement",
        }
        assert g.geom_type == "Point"
        assert p["category"] in cats and p["status"] in STATUSES and p["placement"] in PLACEMENTS
        assert p["deduction"] > 0 and p["description"] and p["reporter"]
        when = datetime.fromisoformat(p["reported_at"])
        assert when.utcoffset() == timedelta(hours=8)
        rounds.setdefault(p["round"], []).append(when)
        closed = p["status"] in ("rectified", "verified")
        assert (p["rectified_at"] is not None) == closed, p["problem_id"]
        if closed:
            done = datetime.fromisoformat(p["rectified_at"])
            assert done.utcoffset() == timedelta(hours=8) and done > when
    assert set(rounds) == {"市级评估", "省级评估"}
    assert max(rounds["市级评估"]) < min(rounds["省级评估"])
    older = [p["status"] for p, _ in problems if p["round"] == "市级评估"]
    assert older.count("verified") / len(older) > 0.7
    placements = Counter(p["placement"] for p, _ in problems)
    assert placements["vertex"] >= 30 and placements["edge"] >= 30 and placements["outside"] >= 20


def test_problem_categories_fit_their_places(
    problems: list[tuple[dict[str, Any], BaseGeometry]],
    areas: list[tuple[dict[str, Any], BaseGeometry]],
    area_tree: shapely.STRtree,
) -> None:
    interior = [(p, g) for p, g in problems if p["placement"] == "interior"]
    pt_idx, area_idx = area_tree.query(np.array([g for _, g in interior]), predicate="within")
    kind_of = {int(i): areas[int(a)][0]["kind"] for i, a in zip(pt_idx, area_idx, strict=True)}
    by_cat: dict[str, Counter[str]] = {}
    for i, (p, _) in enumerate(interior):
        by_cat.setdefault(p["category"], Counter())[kind_of[i]] += 1
    assert set(by_cat["urban_village_disorder"]) <= {"urban_village"}
    assert set(by_cat["red_light"]) <= {"main_road"}
    assert set(by_cat["tricycle_uturn"]) <= {"main_road"}
    assert set(by_cat["market_tricycle_parking"]) <= {"market", "main_road", "back_alley"}


def test_problem_placements(
    problems: list[tuple[dict[str, Any], BaseGeometry]],
    area_geoms: np.ndarray,
    area_tree: shapely.STRtree,
    county: BaseGeometry,
) -> None:
    pts = [g for _, g in problems]
    hits = _covering(area_tree, pts)
    vertices = {tuple(xy) for xy in shapely.get_coordinates(area_geoms.tolist()).tolist()}
    for (p, g), h in zip(problems, hits.tolist(), strict=True):
        where = p["placement"]
        if where == "interior":
            assert h == 1, p["problem_id"]
        elif where == "vertex":
            assert h >= 2 and (g.x, g.y) in vertices, p["problem_id"]
        elif where == "edge":
            assert h >= 2 and (g.x, g.y) not in vertices, p["problem_id"]
        else:
            assert h == 0 and not county.covers(g), p["problem_id"]
            assert 50 < _utm(g).distance(_utm(county)) < 1000, p["problem_id"]


def test_vertex_points_include_junctions(
    problems: list[tuple[dict[str, Any], BaseGeometry]], area_tree: shapely.STRtree
) -> None:
    pts = [g for p, g in problems if p["placement"] == "vertex"]
    assert (_covering(area_tree, pts) >= 3).sum() >= 10


def test_geopandas_reads_the_files() -> None:
    gpd = pytest.importorskip("geopandas")
    for name in ("areas.geojson", "units.geojson", "county.geojson"):
        df = gpd.read_file(DATA / name)
        assert df.crs is not None and df.crs.to_epsg() == 4326, name
        assert len(df) == len(_features(name))
    assert Point(0, 0).is_valid
