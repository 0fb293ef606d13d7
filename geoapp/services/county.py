"""Load a whole county from a folder laid out like ``data/geojson`` (the demo county:
units, districts, categories, rules, areas and problems) in one transaction
(:func:`load_county`), and the small readers of its CSV and GeoJSON tables.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

from geoapp.core.assignment import Zoning
from geoapp.core.messages import N_
from geoapp.core.zoning import check_areas
from geoapp.io.boundaries import read_areas
from geoapp.io.points import read_points
from geoapp.services.audit import audit
from geoapp.services.county_coverage import load_coverage
from geoapp.services.errors import ServiceError
from geoapp.services.mapping import forget_zonings
from geoapp.services.problem_import import _attach_assignment, problem_rows

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "geojson"


def read_csv_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(fh)]


def read_units(path: Path) -> list[dict]:
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = []
    for f in doc["features"]:
        p = dict(f["properties"])
        lon, lat = f["geometry"]["coordinates"][:2]
        rows.append(p | {"lon": lon, "lat": lat})
    return rows


def load_county(
    store,
    data_dir: Path = DEMO_DIR,
    author: str = "demo",
    message: str = "演示县城初始边界（合成数据）",
) -> dict:
    """Load a county folder laid out like ``data/geojson`` in one transaction."""
    data_dir = Path(data_dir)
    units = read_units(data_dir / "units.geojson")
    districts = read_csv_rows(data_dir / "districts.csv")
    categories = read_csv_rows(data_dir / "categories.csv")
    for c in categories:
        c["deadline_hours"] = int(c["deadline_hours"]) if c.get("deadline_hours") else None
    rules = read_csv_rows(data_dir / "rules.csv")
    for r in rules:
        r["priority"] = int(r["priority"])
    areas = read_areas(data_dir / "areas.geojson")
    findings = check_areas(
        areas, [u["unit_id"] for u in units], [d["district_id"] for d in districts]
    )
    errors = [f for f in findings if f.level == "error"]
    if errors:
        raise ServiceError(
            N_("%(data_dir)s: the areas are not a valid partition: %(value)s"),
            data_dir=data_dir,
            value=errors[0],
        )
    table = read_points(data_dir / "problems.geojson")
    rows, bad = problem_rows(table, categories)
    if bad:
        raise ServiceError(
            N_("%(data_dir)s/problems.geojson: %(value)s"), data_dir=data_dir, value=bad[0]
        )
    zoning = Zoning.build(areas, districts, rules)
    with store.transaction() as tx:
        tx.upsert_units(units)
        tx.upsert_districts(districts)
        tx.replace_categories(categories)
        tx.replace_rules(rules)
        gen = tx.create_generation(author, message)
        tx.put_area_versions(gen, areas.drop(columns=["_where"]))
        tx.publish_generation(gen, author, message)
        zoning.generation = gen
        _attach_assignment(rows, zoning)
        clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
        tx.add_problems(clean, actor=author)
        covered = load_coverage(tx, data_dir, zoning, read_csv_rows, author, datetime.now(UTC))
        audit(
            tx,
            author,
            "demo.load",
            str(data_dir),
            None,
            {"units": len(units), "areas": len(areas), "problems": len(rows), "generation": gen},
        )
    forget_zonings(store)
    return {
        "units": len(units),
        "districts": len(districts),
        "areas": len(areas),
        "rules": len(rules),
        "problems": len(rows),
        "generation": gen,
        "unassigned": sum(1 for r in rows if r["area_id"] is None),
        **covered,
    }
