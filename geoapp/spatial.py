"""The pure spatial core: which contracted area covers a point, and who answers for it.

No Flask, no SQL: GeoDataFrames and arrays in, plain results out.

Assignment rule
---------------
* "Inside" means *covered*: a point on an area's edge or vertex is inside it.
* A point covered by several areas (on a shared edge or vertex) goes to the one whose
  ``area_id`` sorts first (Python string order). The rule is deterministic and does not
  depend on the order of points or areas in the input.
* A point covered by no area is kept and reported unassigned: every output field empty.
* Then the district (the area's ``district_id``) gives the lead unit, the area gives the
  responsible unit, and the category rules (:mod:`geoapp.routing`) may override the
  responsible unit; the rule that applied is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from .routing import Rule, apply_rules, as_rules

ASSIGNMENT_COLUMNS = ("district_id", "area_id", "responsible_unit_id", "lead_unit_id", "rule")
AREA_COLUMNS = ("area_id", "name", "kind", "district_id", "responsible_unit_id")


class ZoningError(ValueError):
    """The areas given cannot be used for assignment."""


@dataclass
class Zoning:
    """One generation's contracted areas, indexed for point lookups.

    Build it with :meth:`Zoning.build`; it is immutable afterwards and safe to share
    between threads.
    """

    area_ids: np.ndarray
    names: np.ndarray
    kinds: np.ndarray
    district_ids: np.ndarray
    unit_ids: np.ndarray
    geoms: np.ndarray
    lead_units: dict[str, str]
    rules: list[Rule]
    generation: int | None = None
    tree: STRtree = field(init=False, repr=False)

    def __post_init__(self) -> None:
        shapely.prepare(self.geoms)
        self.tree = STRtree(self.geoms)

    @classmethod
    def build(
        cls,
        areas: gpd.GeoDataFrame,
        districts: Iterable[Mapping] = (),
        rules: Iterable[Mapping | Rule] = (),
        generation: int | None = None,
    ) -> Zoning:
        """Index ``areas`` (EPSG:4326) with the districts' lead units and the rules.

        >>> import geopandas as gpd
        >>> from shapely import box
        >>> areas = gpd.GeoDataFrame({"area_id": ["B", "A"], "name": ["b", "a"],
        ...     "kind": ["market", "main_road"], "district_id": ["D1", "D1"],
        ...     "responsible_unit_id": ["U2", "U1"]},
        ...     geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1)], crs=4326)
        >>> z = Zoning.build(areas, [{"district_id": "D1", "lead_unit_id": "U0"}])
        >>> z.assign([0.5, 1.0, 5.0], [0.5, 0.5, 5.0])["area_id"].tolist()
        ['A', 'A', None]
        """
        missing = [c for c in AREA_COLUMNS if c not in areas.columns]
        if missing:
            raise ZoningError(f"areas lack the column(s) {', '.join(missing)}")
        if areas.crs is not None and not areas.crs.equals("EPSG:4326"):
            areas = areas.to_crs(4326)
        ordered = areas.sort_values("area_id", kind="stable")
        ids = ordered["area_id"].astype(str).to_numpy(dtype=object)
        if len(set(ids)) != len(ids):
            dup = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
            raise ZoningError(f"area_id {dup!r} appears more than once")
        geoms = np.asarray(ordered.geometry.values, dtype=object)
        return cls(
            area_ids=ids,
            names=ordered["name"].astype(str).to_numpy(dtype=object),
            kinds=ordered["kind"].astype(str).to_numpy(dtype=object),
            district_ids=ordered["district_id"].astype(str).to_numpy(dtype=object),
            unit_ids=ordered["responsible_unit_id"].astype(str).to_numpy(dtype=object),
            geoms=geoms,
            lead_units={str(d["district_id"]): d.get("lead_unit_id") for d in districts},
            rules=as_rules(rules),
            generation=generation,
        )

    def __len__(self) -> int:
        return len(self.area_ids)

    def locate(self, lon, lat) -> np.ndarray:
        """Index (into this zoning's sorted areas) of the area covering each point, or -1."""
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        result = np.full(len(lon), -1, dtype=np.int64)
        if len(lon) == 0 or len(self.area_ids) == 0:
            return result
        points = shapely.points(lon, lat)
        inp, hit = self.tree.query(points, predicate="covered_by")
        if len(inp):
            # the lowest area index (= lowest area_id) wins for each point
            order = np.lexsort((hit, inp))
            inp, hit = inp[order], hit[order]
            first = np.empty(len(inp), dtype=bool)
            first[0] = True
            first[1:] = inp[1:] != inp[:-1]
            result[inp[first]] = hit[first]
        return result

    def covering(self, lon: float, lat: float) -> list[str]:
        """Every area_id covering one point (for showing ties), sorted."""
        hit = self.tree.query(shapely.Point(lon, lat), predicate="covered_by")
        return sorted(self.area_ids[hit].tolist())

    def assign(self, lon, lat, categories=None) -> pd.DataFrame:
        """Assign points; returns a DataFrame with :data:`ASSIGNMENT_COLUMNS`.

        Unassigned points get ``None`` in every column.
        """
        idx = self.locate(lon, lat)
        n = len(idx)
        ok = idx >= 0
        safe = np.where(ok, idx, 0)

        def pick(values: np.ndarray) -> np.ndarray:
            out = np.full(n, None, dtype=object)
            if len(values):
                out[ok] = values[safe[ok]]
            return out

        area_id = pick(self.area_ids)
        district = pick(self.district_ids)
        unit = pick(self.unit_ids)
        kinds = pick(self.kinds)
        lead = np.array([self.lead_units.get(d) if d else None for d in district], dtype=object)
        if categories is None:
            categories = np.full(n, None, dtype=object)
        rule_ids, rule_units = apply_rules(
            np.asarray(categories, dtype=object), kinds, ok, self.rules
        )
        has_rule = rule_ids != None  # noqa: E711 (element-wise)
        unit = np.where(has_rule, rule_units, unit)
        columns = {
            "district_id": district,
            "area_id": area_id,
            "responsible_unit_id": unit,
            "lead_unit_id": lead,
            "rule": rule_ids,
        }
        # object dtype keeps None for "unassigned" (pandas 3 would turn it into NaN)
        return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})

    def area_record(self, area_id: str) -> dict | None:
        """The attributes of one area, or None."""
        pos = np.searchsorted(self.area_ids, area_id)
        if pos >= len(self.area_ids) or self.area_ids[pos] != area_id:
            return None
        return {
            "area_id": area_id,
            "name": self.names[pos],
            "kind": self.kinds[pos],
            "district_id": self.district_ids[pos],
            "responsible_unit_id": self.unit_ids[pos],
        }


def assign_points(
    areas: gpd.GeoDataFrame,
    lon,
    lat,
    categories=None,
    districts: Iterable[Mapping] = (),
    rules: Iterable[Mapping | Rule] = (),
) -> pd.DataFrame:
    """One-shot convenience: build a :class:`Zoning` and assign points with it."""
    return Zoning.build(areas, districts, rules).assign(lon, lat, categories)
