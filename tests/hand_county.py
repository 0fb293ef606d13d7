"""A tiny county whose ledger and map figures the tests count by hand.

The county (written to files and loaded through the real importer, ``load_county``):

* six units U1..U6, each responsible for one square area A1..A6 in a row;
  district D1 = A1, A2, A3 (lead U1), district D2 = A4, A5, A6 (lead U4);
* categories: litter (24 h deadline), parking (48 h);
* ten problems, times in Beijing time as an inspector's spreadsheet gives them (no offset),
  ``NOW`` = 2025-01-03 12:00 Beijing::

    id   area  round cat      pts  reported          status      rectified (file)   → ledger
    P1   A1    R1    litter   2.0  2024-12-30 10:00  已核查销号  2024-12-30 20:00   on time (10 h)
    P2   A1    R1    litter   1.0  2024-12-31 09:00  rectified   2025-01-01 12:00   late (27 h)
    P3   A1    R1    parking  0.5  2025-01-02 10:00  reported    -                  open, due 01-04
    P4   A2    R1    litter   3.0  2024-12-31 10:00  assigned    -                  open, overdue
    P5   A2    R1    parking  1.0  2025-01-01 00:30  verified    (none)             closed, unknown
    P6   A3    R2    litter   0.5  2025-01-01 08:00  rectified   2025-01-01 09:00   on time
    P7   out   R2    litter   0.5  2025-01-02 08:00  rectifying  -                  open, overdue
    P8   A4    R2    parking  0.5  2025-01-01 10:00  verified    2025-01-02 10:00   on time (24/48)
    P9   A4    R2    litter   0.5  2025-01-01 11:00  verified    2025-01-02 11:00   on time (= 24 h)
    P10  A5    R2    litter   0.5  2025-01-02 09:00  rectifying  -                  open, overdue

  U6 (A6) has no problem.  P5 is reported at 00:30 Beijing = 16:30 UTC the day before:
  it belongs to Beijing's 2025-01-01.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

from geoapp.services.county import load_county
from geoapp.store import open_store

NOW = datetime(2025, 1, 3, 4, 0, tzinfo=UTC)  # 12:00 Beijing
LON0, LAT0, SIDE = 114.90, 28.20, 0.01

PROBLEMS = [
    # id, area index (None: outside), round, category, points, reported, status, rectified
    ("P1", 1, "R1", "litter", 2.0, "2024-12-30 10:00", "已核查销号", "2024-12-30 20:00"),
    ("P2", 1, "R1", "litter", 1.0, "2024-12-31 09:00", "rectified", "2025-01-01 12:00"),
    ("P3", 1, "R1", "parking", 0.5, "2025-01-02 10:00", "reported", ""),
    ("P4", 2, "R1", "litter", 3.0, "2024-12-31 10:00", "assigned", ""),
    ("P5", 2, "R1", "parking", 1.0, "2025-01-01 00:30", "verified", ""),
    ("P6", 3, "R2", "litter", 0.5, "2025-01-01 08:00", "rectified", "2025-01-01 09:00"),
    ("P7", None, "R2", "litter", 0.5, "2025-01-02 08:00", "rectifying", ""),
    ("P8", 4, "R2", "parking", 0.5, "2025-01-01 10:00", "verified", "2025-01-02 10:00"),
    ("P9", 4, "R2", "litter", 0.5, "2025-01-01 11:00", "verified", "2025-01-02 11:00"),
    ("P10", 5, "R2", "litter", 0.5, "2025-01-02 09:00", "rectifying", ""),
]


def _square(k: int) -> dict:
    x0, x1 = LON0 + (k - 1) * SIDE, LON0 + k * SIDE
    ring = [[x0, LAT0], [x1, LAT0], [x1, LAT0 + SIDE], [x0, LAT0 + SIDE], [x0, LAT0]]
    return {"type": "Polygon", "coordinates": [ring]}


def write_collection(path: Path, features: list[tuple[dict, dict]]) -> None:
    body = [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": body}), "utf-8")


def _csv(path: Path, rows: list[list]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def write_county(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_collection(
        folder / "units.geojson",
        [
            (
                {"unit_id": f"U{k}", "name": f"单位{k}", "kind": "responsible"},
                {"type": "Point", "coordinates": [LON0 + (k - 0.5) * SIDE, LAT0 - SIDE]},
            )
            for k in range(1, 7)
        ],
    )
    _csv(
        folder / "districts.csv",
        [["district_id", "name", "lead_unit_id"], ["D1", "一片区", "U1"], ["D2", "二片区", "U4"]],
    )
    _csv(
        folder / "categories.csv",
        [
            ["category", "name_zh", "name_en", "deadline_hours"],
            ["litter", "垃圾落地", "Litter", 24],
            ["parking", "乱停放", "Parking", 48],
        ],
    )
    _csv(
        folder / "rules.csv", [["rule_id", "priority", "category", "area_kind", "unit_id", "note"]]
    )
    write_collection(
        folder / "areas.geojson",
        [
            (
                {
                    "area_id": f"A{k}",
                    "name": f"包干区{k}",
                    "kind": "main_road",
                    "district_id": "D1" if k <= 3 else "D2",
                    "responsible_unit_id": f"U{k}",
                },
                _square(k),
            )
            for k in range(1, 7)
        ],
    )
    features = []
    for pid, area, rnd, cat, pts, reported, status, rectified in PROBLEMS:
        lon = LON0 + (area - 0.5) * SIDE if area else LON0 - 0.05
        props = {
            "编号": pid,
            "检查轮次": rnd,
            "问题类别": cat,
            "扣分": pts,
            "上报时间": reported,
            "状态": status,
            "整改完成时间": rectified,
        }
        features.append((props, {"type": "Point", "coordinates": [lon, LAT0 + SIDE / 2]}))
    write_collection(folder / "problems.geojson", features)
    return folder


def open_county(store_url: str, folder: Path):
    """A new store at ``store_url`` holding the tiny county (written to ``folder``)."""
    store = open_store(store_url)
    store.upgrade()
    load_county(store, write_county(folder))
    return store
