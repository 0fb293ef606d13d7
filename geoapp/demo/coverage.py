"""The demo county's register of inspection points (受检点) and a few days of inspection visits
and patrol check-ins, drawn from one seeded RNG (the same county gives the same register and
the same activity, dated back from the day it is loaded).

Register: a point per contracted area of the kinds an assessment visits (markets, compounds
with and without property management, open compounds counted as without, urban villages,
main-road segments, back alleys), bus stations on main roads and public spaces, schools and
hospitals in unit yards: markets, compounds and villages as polygons (the area shrunk by a few
metres), the others as points.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import shapely

SEED = 19
#: area kind → point kind (None: no point)
AREA_TO_POINT = {
    "market": "market",
    "compound_managed": "compound_managed",
    "compound_unmanaged": "compound_unmanaged",
    "open_compound": "compound_unmanaged",
    "urban_village": "urban_village",
    "main_road": "main_street",
    "back_alley": "back_lane",
    "public_space": "station",
}
NAMES = {
    "market": "农贸市场",
    "compound_managed": "小区",
    "compound_unmanaged": "无物业小区",
    "urban_village": "城中村",
    "main_street": "主干道",
    "back_lane": "背街小巷",
    "station": "公交站台",
    "school": "学校",
    "hospital": "医院",
}
POLYGON_KINDS = {"market", "compound_managed", "compound_unmanaged", "urban_village"}
ROUND = "省级评估"


def register(areas) -> list[dict]:
    """The register: rows with point_id, name, kind, geometry (WGS84)."""
    rng = np.random.default_rng(SEED)
    rows: list[dict] = []

    def add(kind: str, area_name: str, geometry) -> None:
        rows.append(
            {
                "point_id": f"JD{len(rows) + 1:04d}",
                "name": f"{area_name}{NAMES[kind]}",
                "kind": kind,
                "geometry": geometry,
            }
        )

    for a in areas.itertuples(index=False):
        geom = a.geometry
        inner = geom.representative_point()
        kind = AREA_TO_POINT.get(a.kind)
        if a.kind == "unit_yard":
            kind = "school" if rng.random() < 0.5 else "hospital"
        if kind is None:
            continue
        shape = inner
        if kind in POLYGON_KINDS:
            shrunk = geom.buffer(-0.00004)
            if not shrunk.is_empty and shrunk.is_valid and shrunk.geom_type == "Polygon":
                shape = shapely.set_precision(shrunk, 1e-7)
        add(kind, a.name, shape)
        if a.kind == "main_road" and rng.random() < 0.6:
            add("station", a.name, inner)
    return rows


def activity(points: list[dict], areas, categories: list[str]) -> tuple[list, list]:
    """Visits (point, days ago, result, problem category and deduction) and check-ins (area,
    unit, days ago) of the last ten days: units differ in how much of their register was
    inspected and how often they patrol.  ``points`` carry their responsible unit."""
    rng = np.random.default_rng(SEED + 1)
    units = sorted({p["responsible_unit_id"] for p in points if p["responsible_unit_id"]})
    inspect_rate = {u: float(rng.choice([0.3, 0.6, 0.85, 0.95, 1.0])) for u in units}
    clean_rate = {u: float(rng.uniform(0.55, 0.95)) for u in units}
    visits = []
    for p in points:
        unit = p["responsible_unit_id"]
        if unit is None or rng.random() > inspect_rate[unit]:
            continue
        for _ in range(1 if rng.random() < 0.85 else 2):
            days = int(rng.integers(0, 10))
            clean = bool(rng.random() < clean_rate[unit])
            visits.append(
                {
                    "point_id": p["point_id"],
                    "days_ago": days,
                    "hour": int(rng.integers(8, 18)),
                    "result": "clean" if clean else "problems",
                    "category": "" if clean else str(rng.choice(categories)),
                    "deduction": "" if clean else float(rng.choice([0.5, 1.0, 1.5, 2.0])),
                }
            )
    patrol_rate = {u: float(rng.choice([0.0, 0.2, 0.5, 0.8, 1.0])) for u in units}
    checkins = []
    for a in areas.itertuples(index=False):
        unit = a.responsible_unit_id
        for days in range(7):
            if rng.random() < patrol_rate.get(unit, 0.0) * (
                1.3 if a.kind == "compound_unmanaged" else 1
            ):
                spot = a.geometry.representative_point()
                checkins.append(
                    {
                        "unit_id": unit,
                        "area_id": a.area_id,
                        "days_ago": days,
                        "hour": int(rng.integers(7, 19)),
                        "lon": round(spot.x, 7),
                        "lat": round(spot.y, 7),
                        "accuracy_m": float(rng.integers(4, 40)),
                    }
                )
    return visits, checkins


def write_files(data_dir: Path) -> dict[str, int]:
    """Write the register and the activity beside the county's other files."""
    import geopandas as gpd
    import pandas as pd

    from geoapp.core.assignment import Zoning

    areas = gpd.read_file(data_dir / "areas.geojson")
    districts = pd.read_csv(data_dir / "districts.csv").to_dict("records")
    rows = register(areas)
    zoning = Zoning.build(areas, districts, [])
    found = zoning.assign(*zip(*[_anchor(r["geometry"]) for r in rows], strict=True))
    for r, unit in zip(rows, found["responsible_unit_id"], strict=True):
        r["responsible_unit_id"] = unit
    categories = [c for c in pd.read_csv(data_dir / "categories.csv")["category"]]
    visits, checkins = activity(rows, areas, categories)
    features = [
        {
            "type": "Feature",
            "properties": {"编号": r["point_id"], "名称": r["name"], "类型": r["kind"]},
            "geometry": shapely.geometry.mapping(r["geometry"]),
        }
        for r in rows
    ]
    with open(data_dir / "inspection_points.geojson", "w", encoding="utf-8") as fh:
        json.dump({"type": "FeatureCollection", "features": features}, fh, ensure_ascii=False)
        fh.write("\n")
    for name, table in (("inspection_visits.csv", visits), ("patrol_checkins.csv", checkins)):
        with open(data_dir / name, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(table[0]))
            writer.writeheader()
            writer.writerows(table)
    return {"points": len(rows), "visits": len(visits), "checkins": len(checkins)}


def _anchor(geometry) -> tuple[float, float]:
    pt = geometry if geometry.geom_type == "Point" else geometry.representative_point()
    return pt.x, pt.y
