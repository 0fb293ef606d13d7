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
  responsible unit, and the category rules (:mod:`geoapp.core.routing`) may override the
  responsible unit; the rule that applied is recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from geoapp.core.grid import BORDER, CellGrid
from geoapp.core.messages import N_, Explained
from geoapp.core.routing import Rule, as_rules, rule_matrix

if TYPE_CHECKING:  # geopandas is slow to import; only types need it here
    import geopandas as gpd

#: Points a zoning tests exactly (about a microsecond each) before it builds its raster index
#: (a few tenths of a second for a county of a few hundred areas, measured): a one-off
#: batch of a few thousand points is answered long before the raster would be ready, and a
#: zoning that keeps answering (the app's, a large file) builds it once this many points
#: have gone through it.
EXACT_POINTS_BEFORE_GRID = 200_000

ASSIGNMENT_COLUMNS = ("district_id", "area_id", "responsible_unit_id", "lead_unit_id", "rule")
AREA_COLUMNS = ("area_id", "name", "kind", "district_id", "responsible_unit_id")


class ZoningError(Explained, ValueError):
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
    max_cells: int | None = None
    tree: STRtree = field(init=False, repr=False)
    _grid: CellGrid | None = field(init=False, repr=False, default=None)
    _located_exactly: int = field(init=False, repr=False, default=0)

    def __post_init__(self) -> None:
        shapely.prepare(self.geoms)
        self.tree = STRtree(self.geoms)
        self._grid_lock = threading.Lock()
        self._kind_codes, self._kind_vocab = pd.factorize(self.kinds)
        # every column of the answer as codes per area into a vocabulary
        self._district_codes, self.district_vocab = pd.factorize(self.district_ids)
        leads = np.array([self.lead_units.get(d) for d in self.district_ids], dtype=object)
        self._lead_codes, self.lead_vocab = pd.factorize(leads)
        rule_units = np.array([r.unit_id for r in self.rules], dtype=object)
        unit_codes, self.unit_vocab = pd.factorize(np.concatenate([self.unit_ids, rule_units]))
        self._unit_codes = unit_codes[: len(self.unit_ids)]
        self._rule_unit_codes = unit_codes[len(self.unit_ids) :]
        self.rule_vocab = pd.Index([r.rule_id for r in self.rules], dtype=object)

    @property
    def grid(self) -> CellGrid:
        """The raster index, built on first use (about a second for 2,000 areas)."""
        if self._grid is None:
            with self._grid_lock:
                if self._grid is None:
                    cells = self.max_cells or min(4_000_000, max(65_536, 16_000 * len(self)))
                    self._grid = CellGrid(self.geoms, max_cells=cells)
        return self._grid

    @classmethod
    def build(
        cls,
        areas: gpd.GeoDataFrame,
        districts: Iterable[Mapping] = (),
        rules: Iterable[Mapping | Rule] = (),
        generation: int | None = None,
        max_cells: int | None = None,
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
            raise ZoningError(N_("areas lack the column(s) %(names)s"), names=", ".join(missing))
        if areas.crs is not None and not areas.crs.equals("EPSG:4326"):
            areas = areas.to_crs(4326)
        ordered = areas.sort_values("area_id", kind="stable")
        ids = ordered["area_id"].astype(str).to_numpy(dtype=object)
        if len(set(ids)) != len(ids):
            dup = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
            raise ZoningError(N_("area_id %(dup)r appears more than once"), dup=dup)
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
            max_cells=max_cells,
        )

    def __len__(self) -> int:
        return len(self.area_ids)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for unpicklable in ("tree", "_grid_lock"):
            state.pop(unpicklable, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        shapely.prepare(self.geoms)  # also the grid's: the same geometry objects
        self.tree = STRtree(self.geoms)
        self._grid_lock = threading.Lock()

    def locate(self, lon, lat, use_grid: bool | None = None) -> np.ndarray:
        """Index (into this zoning's sorted areas) of the area covering each point, or -1.

        The raster index answers most points; points near a boundary are tested exactly,
        so the result equals :meth:`locate_exact`'s.  ``use_grid=None``: the raster once it
        is built, or once :data:`EXACT_POINTS_BEFORE_GRID` points (these ones included)
        have asked this zoning; until then every point is tested exactly.
        """
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        if use_grid is None and self._grid is None:
            self._located_exactly += len(lon)
            use_grid = self._located_exactly >= EXACT_POINTS_BEFORE_GRID
        if use_grid is False:
            return self.locate_exact(lon, lat)
        grid = self.grid
        result = grid.lookup(lon, lat)
        border = np.flatnonzero(result <= BORDER)
        if len(border):
            result[border] = grid.resolve(lon[border], lat[border], result[border])
        return result

    def locate_exact(self, lon, lat) -> np.ndarray:
        """:meth:`locate` by a plain ``covers`` test of every point (the reference)."""
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        result = np.full(len(lon), -1, dtype=np.int64)
        if len(lon) == 0 or len(self.area_ids) == 0:
            return result
        # bounding-box candidates from the tree, then an exact test against the (prepared)
        # areas: for a point, intersects is covers (the boundary counts as inside)
        inp, hit = self.tree.query(shapely.points(lon, lat))
        if len(inp):
            keep = shapely.intersects_xy(self.geoms[hit], lon[inp], lat[inp])
            inp, hit = inp[keep], hit[keep]
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

    def assign(self, lon, lat, categories=None, use_grid: bool | None = None) -> pd.DataFrame:
        """Assign points; returns a DataFrame with :data:`ASSIGNMENT_COLUMNS`.

        Columns hold strings, and ``None`` for an unassigned point. For millions of points
        use :meth:`assign_codes` (no per-row Python objects).
        """
        return self.assign_codes(lon, lat, categories, use_grid).to_frame()

    def assign_one(self, lon: float, lat: float, category: str | None = None) -> dict:
        """One point (a click on the map): the same answer as :meth:`assign`, as a dict,
        without building arrays or frames."""
        hit = self.tree.query(shapely.Point(lon, lat))
        covering = [int(i) for i in hit if shapely.intersects_xy(self.geoms[i], lon, lat)]
        if not covering:
            return dict.fromkeys(ASSIGNMENT_COLUMNS)
        i = min(covering)
        unit, rule_id = self.unit_ids[i], None
        for rule in self.rules:
            if (
                category is not None
                and rule.category == category
                and (rule.area_kind is None or rule.area_kind == self.kinds[i])
            ):
                unit, rule_id = rule.unit_id, rule.rule_id
                break
        return {
            "district_id": self.district_ids[i],
            "area_id": self.area_ids[i],
            "responsible_unit_id": unit,
            "lead_unit_id": self.lead_units.get(self.district_ids[i]),
            "rule": rule_id,
        }

    def assign_codes(self, lon, lat, categories=None, use_grid: bool | None = None) -> Assignment:
        """Assign points, keeping the answer as integer codes (see :class:`Assignment`)."""
        area_pos = self.locate(lon, lat, use_grid)
        rule_pos = np.full(len(area_pos), -1, dtype=np.int64)
        if categories is not None and self.rules and len(area_pos):
            if isinstance(categories, pd.Series):
                categories = categories.array
            if isinstance(categories, pd.Categorical):
                cat_codes, cat_vocab = categories.codes, categories.categories
            else:
                cat_codes, cat_vocab = pd.factorize(np.asarray(categories, dtype=object))
            # one extra row (no category) and column (no area) of -1: code -1 lands there
            table = rule_matrix(self.rules, list(cat_vocab), list(self._kind_vocab))
            table = np.pad(table, ((0, 0), (0, 1)), constant_values=-1)
            kinds = np.append(self._kind_codes, -1)[area_pos]
            rule_pos = table[cat_codes, kinds]
        return Assignment(self, area_pos, rule_pos)

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


def _code_dtype(size: int):
    """The integer type pandas uses for Categorical codes over ``size`` categories."""
    if size < 127:
        return np.int8
    if size < 32_767:
        return np.int16
    return np.int32


@dataclass
class Assignment:
    """The answer for many points as integer codes; -1 means none.

    ``area_pos`` indexes the zoning's sorted areas, ``rule_pos`` its sorted rules. Columns
    come out as pandas Categoricals (cheap for millions of rows) or, with
    :meth:`to_frame`, as plain strings with ``None``.
    """

    zoning: Zoning
    area_pos: np.ndarray
    rule_pos: np.ndarray

    def __len__(self) -> int:
        return len(self.area_pos)

    def _take(self, codes_per_area: np.ndarray, size: int) -> np.ndarray:
        codes = np.append(codes_per_area, -1).astype(_code_dtype(size))
        return codes[self.area_pos]  # area_pos -1 picks the trailing -1

    def codes(self, column: str) -> tuple[np.ndarray, pd.Index]:
        z = self.zoning
        if column == "area_id":
            return self.area_pos.astype(_code_dtype(len(z))), pd.Index(z.area_ids, dtype=object)
        if column == "district_id":
            return self._take(z._district_codes, len(z.district_vocab)), z.district_vocab
        if column == "lead_unit_id":
            return self._take(z._lead_codes, len(z.lead_vocab)), z.lead_vocab
        if column == "rule":
            return self.rule_pos.astype(_code_dtype(len(z.rule_vocab))), z.rule_vocab
        if column == "responsible_unit_id":
            dtype = _code_dtype(len(z.unit_vocab))
            from_area = self._take(z._unit_codes, len(z.unit_vocab))
            from_rule = np.append(z._rule_unit_codes, -1).astype(dtype)[self.rule_pos]
            return np.where(self.rule_pos >= 0, from_rule, from_area), z.unit_vocab
        raise KeyError(column)

    def categorical(self, column: str) -> pd.Categorical:
        codes, vocab = self.codes(column)
        return pd.Categorical.from_codes(
            codes, categories=pd.Index(vocab, dtype=object), validate=False
        )

    def to_frame(self, categorical: bool = False) -> pd.DataFrame:
        """:data:`ASSIGNMENT_COLUMNS` as Categoricals, or as strings with ``None``."""
        out = {}
        for column in ASSIGNMENT_COLUMNS:
            if categorical:
                out[column] = self.categorical(column)
                continue
            codes, vocab = self.codes(column)
            values = np.empty(len(vocab) + 1, dtype=object)
            values[: len(vocab)] = np.asarray(vocab, dtype=object)
            values[len(vocab)] = None
            # object dtype keeps None for "unassigned" (pandas 3 would turn it into NaN)
            out[column] = pd.Series(values[codes], dtype=object)
        return pd.DataFrame(out)


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
