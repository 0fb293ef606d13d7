"""Test data shared by the store tests (a module with a unique name, so it can be imported
from the test files without clashing with other conftest modules)."""

from datetime import UTC, datetime

from shapely.geometry import box

#: The 2×2 tiling used by the spatial tests: 0.5° squares, exact in binary floating point.
X0, Y0, STEP = 110.0, 30.0, 0.5
TILES = {
    "A-SW": (0, 0),
    "B-SE": (1, 0),
    "C-NW": (0, 1),
    "D-NE": (1, 1),
}
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def tile_box(area_id: str):
    i, j = TILES[area_id]
    return box(X0 + i * STEP, Y0 + j * STEP, X0 + (i + 1) * STEP, Y0 + (j + 1) * STEP)


UNITS = [
    {
        "unit_id": "U-CGJ",
        "name": "县城管局",
        "kind": "bureau",
        "contact": "张三",
        "phone": "0917-1234567",
        "lon": 110.31,
        "lat": 30.72,
        "lead_district_id": "D1",
    },
    {"unit_id": "U-JJ", "name": "县交警大队", "kind": "police"},
    {"unit_id": "U-TOWN", "name": "敦厚镇政府", "kind": "town"},
    {"unit_id": "U-FG", "name": "县房管局"},
]
DISTRICTS = [
    {"district_id": "D1", "name": "第一片区", "lead_unit_id": "U-CGJ"},
    {"district_id": "D2", "name": "第二片区", "lead_unit_id": "U-FG"},
]
CATEGORIES = [
    {
        "category": "bins",
        "name_zh": "垃圾桶满溢",
        "name_en": "Overflowing bins",
        "deadline_hours": 24,
    },
    {
        "category": "traffic",
        "name_zh": "闯红灯",
        "name_en": "Red-light running",
        "deadline_hours": 72,
    },
    {"category": "food", "name_zh": "食品安全", "name_en": "Food safety", "deadline_hours": None},
]
RULES = [
    {"rule_id": "R-traffic", "priority": 10, "category": "traffic", "unit_id": "U-JJ"},
    {
        "rule_id": "R-village",
        "priority": 20,
        "category": None,
        "area_kind": "urban_village",
        "unit_id": "U-TOWN",
        "note": "城中村",
    },
    {"rule_id": "R-a", "priority": 10, "category": "bins", "unit_id": "U-CGJ"},
]


def tiling_rows() -> list[dict]:
    return [
        {
            "area_id": area_id,
            "name": f"包干区 {area_id}",
            "kind": "urban_village" if area_id == "D-NE" else "street",
            "district_id": "D1" if area_id < "C" else "D2",
            "responsible_unit_id": "U-CGJ" if area_id < "C" else "U-FG",
            "geometry": tile_box(area_id),
        }
        for area_id in sorted(TILES)
    ]
