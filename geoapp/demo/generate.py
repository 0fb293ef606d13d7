"""Generate the synthetic demo county ("X县城", fictional) used by geoapp's demos and tests.

Pipeline (all geometry is built in UTM zone 50N, EPSG:32650):

1. Lay out the town in a flat *parameter plane* (``u`` east, ``v`` north, metres from the town
   centre): an irregular outline, five N-S and four E-W main roads as 30 m corridors, a river
   band (a riverside park), 8 m back alleys inside each block and divider lines that split the
   sub-blocks into compounds.
2. Densify every line and push it through a smooth warp (gentle curvature plus a rotation) into
   UTM.
3. Node all lines with ``shapely.union_all`` and ``shapely.polygonize`` them into faces. Every
   face is classified by unwarping a point inside it back into the parameter plane.
4. Group faces into contracted areas (road segments, alley pieces, park segments, compounds),
   merge slivers into a neighbour and repair T-junctions, so that two neighbouring areas always
   share the *same* run of vertices along their common border.
5. Transform every vertex to EPSG:4326 and round it to 7 decimals. Equal vertices round to equal
   values, so shared edges stay exactly shared: the tiling is exact by construction. The county
   outline is the union of the rounded areas.
6. Districts are grown over the adjacency graph (so each is contiguous), then units, rules and
   problem points are drawn. Everything comes from one seeded RNG and is written in a fixed
   order, so the output is byte-for-byte reproducible.

This module runs the pipeline (:func:`build`) and writes the files (:func:`generate`); the
steps live in :mod:`~geoapp.demo.layout` (1-2), :mod:`~geoapp.demo.areas` (3-4),
:mod:`~geoapp.demo.lonlat` (5), :mod:`~geoapp.demo.attributes`, :mod:`~geoapp.demo.units`
and :mod:`~geoapp.demo.problems` (6); the fixed facts in :mod:`~geoapp.demo.county` and
:mod:`~geoapp.demo.catalogue`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

from geoapp.core.shapes import rfc7946
from geoapp.demo import coverage
from geoapp.demo.areas import Area, build_areas
from geoapp.demo.attributes import (
    _param_centroids,
    adjacency,
    assign_districts,
    assign_kinds,
    assign_owners,
)
from geoapp.demo.catalogue import CATEGORIES, RECTIFY_SEED_OFFSET, RULES
from geoapp.demo.county import CENTER_LONLAT, DISTRICTS, KINDS, UTM_EPSG
from geoapp.demo.layout import Warp, build_layout
from geoapp.demo.lonlat import _geojson_geometry, to_lonlat
from geoapp.demo.problems import _add_rectification_times, _make_problems
from geoapp.demo.units import Unit, _make_units, _place_units

SEED = 20240415
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "data" / "geojson"


def build(seed: int = SEED) -> dict[str, Any]:
    """Build the whole demo data set in memory."""
    rng = np.random.default_rng(seed)
    to_utm = Transformer.from_crs(4326, UTM_EPSG, always_xy=True)
    to_ll = Transformer.from_crs(UTM_EPSG, 4326, always_xy=True)
    x0, y0 = (round(v) for v in to_utm.transform(*CENTER_LONLAT))
    warp = Warp(float(x0), float(y0))

    lay = build_layout(rng)
    areas = build_areas(lay, warp)
    assign_kinds(areas, lay, warp, rng)
    adj = adjacency(areas)
    pc = _param_centroids(areas, warp)
    assign_districts(areas, adj, pc)
    assign_owners(areas, rng)

    # stable order and ids
    kind_rank = {k: i for i, k in enumerate(KINDS)}
    cents = shapely.centroid([a.geom for a in areas])
    cx, cy = shapely.get_x(cents), shapely.get_y(cents)
    order = sorted(
        range(len(areas)),
        key=lambda i: (areas[i].district, kind_rank[areas[i].kind], -round(cy[i]), round(cx[i]), i),
    )
    areas = [areas[i] for i in order]
    adj_old = adj
    remap = {old: new for new, old in enumerate(order)}
    adj = [{remap[j]: ln for j, ln in adj_old[old].items()} for old in order]
    for k, a in enumerate(areas, start=1):
        a.area_id = f"A{k:03d}"
        a.ll = to_lonlat(a.geom, to_ll)
    bad = [a.area_id for a in areas if not shapely.is_valid(a.ll)]
    if bad:
        raise RuntimeError(f"invalid geometry after rounding: {bad}")
    county = rfc7946(shapely.union_all([a.ll for a in areas]))
    if county.geom_type != "Polygon":
        raise RuntimeError("county is not a single polygon")

    units = _make_units(rng)
    by_name = {u.name: u for u in units}
    for a in areas:
        if a.owner not in by_name:
            raise RuntimeError(f"unknown owner {a.owner}")
    _place_units(units, areas, rng, to_ll)

    problems = _make_problems(areas, adj, county, rng, to_ll)
    _add_rectification_times(problems, np.random.default_rng(seed + RECTIFY_SEED_OFFSET))
    return {
        "areas": areas,
        "county": county,
        "units": units,
        "problems": problems,
        "by_name": by_name,
    }


# =============================================================================================
# writing
# =============================================================================================
def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _write_collection(path: Path, features: list[dict[str, Any]]) -> None:
    body = ",\n".join(_dump(f) for f in features)
    _write_text(path, '{"type":"FeatureCollection","features":[\n' + body + "\n]}\n")


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _feature(props: dict[str, Any], geom: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geom}


def generate(out_dir: Path | str = DEFAULT_OUT, seed: int = SEED) -> dict[str, int]:
    """Build the demo county and write it to ``out_dir``; returns a few counts."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = build(seed)
    areas: list[Area] = data["areas"]
    units: list[Unit] = data["units"]
    by_name: dict[str, Unit] = data["by_name"]
    problems: list[dict[str, Any]] = data["problems"]

    _write_collection(
        out / "county.geojson",
        [_feature({"name": "X县城创卫范围"}, _geojson_geometry(data["county"]))],
    )
    _write_collection(
        out / "areas.geojson",
        [
            _feature(
                {
                    "area_id": a.area_id,
                    "name": a.name,
                    "kind": a.kind,
                    "district_id": DISTRICTS[a.district][0],
                    "responsible_unit_id": by_name[a.owner].unit_id,
                },
                _geojson_geometry(a.ll),
            )
            for a in areas
        ],
    )
    _write_collection(
        out / "units.geojson",
        [
            _feature(
                {
                    "unit_id": u.unit_id,
                    "name": u.name,
                    "kind": u.kind,
                    "contact": u.contact,
                    "phone": u.phone,
                    "lead_district_id": u.lead_district,
                },
                {"type": "Point", "coordinates": list(u.point or ())},
            )
            for u in units
        ],
    )
    _write_collection(
        out / "problems.geojson",
        [
            _feature(
                {
                    "problem_id": f"P{k:05d}",
                    "round": p["round"],
                    "category": p["category"],
                    "description": p["description"],
                    "deduction": p["deduction"],
                    "reported_at": p["reported_at"].isoformat(),
                    "status": p["status"],
                    "rectified_at": (
                        p["rectified_at"].isoformat() if p["rectified_at"] is not None else None
                    ),
                    "reporter": p["reporter"],
                    "placement": p["placement"],
                },
                {"type": "Point", "coordinates": list(p["xy"])},
            )
            for k, p in enumerate(problems, start=1)
        ],
    )
    _write_csv(
        out / "districts.csv",
        ["district_id", "name", "lead_unit_id"],
        [[did, name, by_name[lead].unit_id] for did, name, lead, _t in DISTRICTS],
    )
    _write_csv(
        out / "categories.csv",
        ["category", "name_zh", "name_en", "deadline_hours"],
        [list(c) for c in CATEGORIES],
    )
    _write_csv(
        out / "rules.csv",
        ["rule_id", "priority", "category", "area_kind", "unit_id", "note"],
        [
            [rid, prio, cat, kind, by_name[u].unit_id, note]
            for rid, prio, cat, kind, u, note in RULES
        ],
    )
    counts = {"areas": len(areas), "units": len(units), "problems": len(problems)}
    # the register of inspection points and a few days of visits and patrols (coverage)
    counts |= coverage.write_files(out)
    for placement in ("interior", "vertex", "edge", "outside"):
        counts[placement] = sum(p["placement"] == placement for p in problems)
    return counts
