"""Validation of a boundary set on import (geoapp.core.zoning.check_areas): the gap rule."""

from __future__ import annotations

import geopandas as gpd
import pytest
from pyproj import Geod
from shapely.geometry import box

from geoapp.core.zoning import check_areas

X0, Y0, STEP = 115.0, 28.0, 0.001


def frame(boxes: dict) -> gpd.GeoDataFrame:
    ids = sorted(boxes)
    return gpd.GeoDataFrame(
        {
            "area_id": ids,
            "name": ids,
            "district_id": ["D1"] * len(ids),
            "responsible_unit_id": ["U1"] * len(ids),
        },
        geometry=[boxes[a] for a in ids],
        crs="EPSG:4326",
    )


def cell(i, j, x0=0.0, y0=0.0, size=1.0):
    x, y = X0 + (i + x0) * STEP, Y0 + (j + y0) * STEP
    return box(x, y, x + size * STEP, y + size * STEP)


def test_an_area_inside_a_hole_is_not_counted_as_gap():
    boxes = {f"A{i}{j}": cell(i, j) for i in range(3) for j in range(3) if (i, j) != (1, 1)}
    plain = [f for f in check_areas(frame(boxes)) if f.code == "gap"]
    boxes["I"] = cell(1, 1, 0.4, 0.4, 0.2)  # an island in the hole
    gaps = [f for f in check_areas(frame(boxes)) if f.code == "gap"]
    assert len(plain) == len(gaps) == 1
    ring = cell(1, 1).difference(boxes["I"])
    geod = Geod(ellps="WGS84")
    expected = abs(geod.geometry_area_perimeter(ring)[0])
    # 96 % of a 0.001° cell at 28°N (about 98 m × 111 m); UTM measures within 0.1 %
    assert gaps[0].area_m2 == pytest.approx(expected, rel=1e-3)
    assert plain[0].area_m2 - gaps[0].area_m2 == pytest.approx(expected / 24, rel=1e-3)


def test_diff_areas_names_each_kind_of_change_by_area():
    """Added, removed, geometry, attributes (compared as text: a missing value is one
    change, not a crash), both; unchanged areas left out; an id repeated in the new set
    (an error check_areas names) is compared by its first row."""
    import pandas as pd

    from geoapp.core.zoning import diff_areas

    old = frame({a: cell(i, 0) for i, a in enumerate(["A", "B", "C", "D", "E", "F"])})
    old["kind"] = "market"
    new = old[old["area_id"] != "A"].copy()
    new.loc[new["area_id"] == "B", "geometry"] = cell(1, 0, size=0.5)
    new.loc[new["area_id"] == "C", "name"] = "renamed"
    new.loc[new["area_id"] == "D", ["geometry", "kind"]] = [cell(3, 1), None]
    repeat = new[new["area_id"] == "E"].assign(geometry=[cell(9, 9)])
    added = old[old["area_id"] == "F"].assign(area_id="G")
    new = pd.concat([added, new, repeat])  # in no particular order
    got = diff_areas(old, new)
    assert got.to_dict("records") == [
        {"area_id": "A", "change": "removed"},
        {"area_id": "B", "change": "geometry"},
        {"area_id": "C", "change": "attributes"},
        {"area_id": "D", "change": "geometry+attributes"},
        {"area_id": "G", "change": "added"},
    ]
