"""The areas of a generation: reading them as a GeoDataFrame, validating area input.

Which areas cover a point is a backend difference (:mod:`geoapp.store.backends`); this module
gives both backends the rows and the point they work on.  A mixin of
:class:`geoapp.store.Transaction`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import StoreError

if TYPE_CHECKING:  # imported where a frame is made: `geoapp init-db`, `db upgrade` never do
    import geopandas as gpd
from geoapp.store.plumbing import _CONV, TransactionBase

#: Columns of an area collection, in order (plus ``geometry``).
AREA_COLUMNS = ("area_id", "name", "kind", "district_id", "responsible_unit_id")


class Areas(TransactionBase):
    """Reading a generation's areas."""

    # ------------------------------------------------------------------ areas

    def areas(self, generation_id: int | None = None) -> gpd.GeoDataFrame:
        """The areas of a generation (None: the current one) as a GeoDataFrame in EPSG:4326
        with columns area_id, name, kind, district_id, responsible_unit_id, geometry, sorted
        by area_id.  Empty (same columns) when there is no current generation."""
        gid = self._generation_for_read(generation_id)
        if gid is None:
            return _area_frame([], [])
        av = S.area_versions
        rows = self._x(
            sa.select(*(av.c[c] for c in AREA_COLUMNS), av.c.geom_wkb)
            .where(av.c.generation_id == gid)
            .order_by(av.c.area_id)
        ).all()
        return _area_frame([r[:-1] for r in rows], [r[-1] for r in rows])

    def first_generations(self, area_ids: Iterable[str]) -> dict[str, int]:
        """``area_id → the lowest generation id holding a version of it`` (drafts count, a
        discarded draft's versions are gone); ids never stored are left out."""
        ids = sorted({str(a) for a in area_ids})
        if not ids:
            return {}
        av = S.area_versions
        rows = self._x(
            sa.select(av.c.area_id, sa.func.min(av.c.generation_id))
            .where(av.c.area_id.in_(ids))
            .group_by(av.c.area_id)
        ).all()
        return {str(a): int(g) for a, g in rows}

    def _area_tree_data(self, gid: int) -> tuple[list[str], shapely.STRtree]:
        av = S.area_versions
        rows = self._x(
            sa.select(av.c.area_id, av.c.geom_wkb)
            .where(av.c.generation_id == gid)
            .order_by(av.c.area_id)
        ).all()
        geoms = shapely.from_wkb([r[1] for r in rows]) if rows else []
        return [r[0] for r in rows], shapely.STRtree(geoms)


def _point(lon: Any, lat: Any) -> shapely.Point:
    x = V.convert(lon, V.to_float, "point", "lon")
    y = V.convert(lat, V.to_float, "point", "lat")
    if x is None or y is None or not (np.isfinite(x) and np.isfinite(y)):
        raise StoreError(
            N_("a point needs finite lon and lat, got (%(lon)r, %(lat)r)"), lon=lon, lat=lat
        )
    return shapely.Point(x, y)


def _area_frame(rows: Sequence[Sequence[Any]], wkbs: Sequence[bytes]) -> gpd.GeoDataFrame:
    import geopandas as gpd

    data = {
        col: pd.Series([r[i] for r in rows], dtype=object) for i, col in enumerate(AREA_COLUMNS)
    }
    geometry = gpd.GeoSeries(
        shapely.from_wkb(list(wkbs)) if wkbs else np.array([], dtype=object), crs="EPSG:4326"
    )
    return gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")


def _area_rows(areas: Any) -> list[dict[str, Any]]:
    """Validate and convert area input (GeoDataFrame or dict rows) to area_versions rows."""
    import geopandas as gpd

    if isinstance(areas, gpd.GeoDataFrame):
        frame = areas
        if "area_id" not in frame.columns and frame.index.name == "area_id":
            frame = frame.reset_index()
        if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
            frame = frame.to_crs("EPSG:4326")
        geometry_name = frame.geometry.name
        missing = [c for c in ("area_id", "name") if c not in frame.columns]
        if missing:
            raise StoreError(N_("areas: missing column(s) %(names)s"), names=", ".join(missing))
        records = []
        columns = {c: frame[c].tolist() for c in AREA_COLUMNS if c in frame.columns}
        geoms = frame[geometry_name].tolist()
        for i in range(len(frame)):
            rec = {c: values[i] for c, values in columns.items()}
            rec["geometry"] = geoms[i]
            records.append(rec)
    elif isinstance(areas, (Mapping, str | bytes)):
        raise StoreError(
            N_("areas: expected a GeoDataFrame or a list of rows, got %(name)s"),
            name=type(areas).__name__,
        )
    else:
        records = list(areas)
    convs = _CONV["area_versions"]
    allowed = set(AREA_COLUMNS)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    geoms = []
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, Mapping):
            raise StoreError(
                N_("area row %(i)s: expected a mapping, got %(name)s"), i=i, name=type(rec).__name__
            )
        label = rec.get("area_id")
        where = (
            f"area {label!r}" if label is not None and not V.is_missing(label) else f"area row {i}"
        )
        fields = {k: rec[k] for k in AREA_COLUMNS if k in rec}
        row = V.coerce_row(
            fields, convs, where=where, allowed=allowed, required=("area_id", "name")
        )
        if row["area_id"] in seen:
            raise StoreError(
                N_("area %(area_id)r appears more than once in the input"), area_id=row["area_id"]
            )
        seen.add(row["area_id"])
        geom = rec.get("geometry")
        if geom is None or not isinstance(geom, shapely.Geometry):
            raise StoreError(
                N_("%(where)s: geometry must be a shapely geometry, got %(geom)r"),
                where=where,
                geom=geom,
            )
        if geom.is_empty:
            raise StoreError(N_("%(where)s: geometry is empty"), where=where)
        geoms.append(geom)
        out.append({c: row.get(c) for c in AREA_COLUMNS})
    if out:
        wkbs = shapely.to_wkb(np.array(geoms, dtype=object), output_dimension=2)
        for row, wkb in zip(out, wkbs, strict=True):
            row["geom_wkb"] = bytes(wkb)
    return out
