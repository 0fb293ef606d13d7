"""Is a set of contracted areas a valid partition, and what does a redraw change?

Pure functions: GeoDataFrames in (EPSG:4326), plain findings out. Areas are measured in
the UTM zone of the data (EPSG:32650 for the demo county).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from geoapp.core.editing.validation import misplaced

if TYPE_CHECKING:  # geopandas is slow to import; only types need it here
    import geopandas as gpd

TOLERANCE_M2 = 1.0


@dataclass
class Finding:
    """One thing wrong with a boundary set."""

    level: str  # 'error' blocks an import or a publish; 'warning' may be accepted
    code: str
    message: str
    area_ids: list[str] = field(default_factory=list)
    where: str | None = None
    area_m2: float | None = None

    def __str__(self) -> str:
        loc = f"{self.where}: " if self.where else ""
        return f"{self.level}: {loc}{self.message}"


def metric_crs(gdf: gpd.GeoDataFrame) -> str:
    """The northern UTM zone containing the data's centre, as an EPSG code."""
    minx, miny, maxx, maxy = gdf.total_bounds
    lon = (minx + maxx) / 2.0 if np.isfinite(minx) else 117.0
    zone = int((lon + 180.0) // 6.0) + 1
    return f"EPSG:{32600 + min(max(zone, 1), 60)}"


def check_areas(
    areas: gpd.GeoDataFrame,
    unit_ids: Iterable[str] | None = None,
    district_ids: Iterable[str] | None = None,
    tolerance_m2: float = TOLERANCE_M2,
) -> list[Finding]:
    """Validate a boundary set: geometry, references, overlaps, gaps, split districts."""
    findings: list[Finding] = []
    where = areas["_where"] if "_where" in areas.columns else areas["area_id"]
    ids = areas["area_id"].astype(str)
    for dup in sorted(set(ids[ids.duplicated()])):
        findings.append(
            Finding("error", "duplicate_id", f"area_id {dup} appears more than once", [dup])
        )
    geoms = areas.geometry.values
    valid = shapely.is_valid(geoms)
    for i, geom in enumerate(geoms):
        # coordinates read in the wrong CRS: its validity says nothing more
        wrong = None if geom is None or geom.is_empty else misplaced(ids.iloc[i], geom, None)
        if wrong is not None:
            findings.append(
                Finding("error", wrong.code, wrong.message, wrong.area_ids, where.iloc[i])
            )
        elif not valid[i]:
            reason = shapely.is_valid_reason(geoms[i])
            findings.append(
                Finding(
                    "error",
                    "invalid_geometry",
                    f"invalid geometry: {reason}",
                    [ids.iloc[i]],
                    where.iloc[i],
                )
            )
        if wrong is not None:
            valid[i] = False  # overlaps and gaps are meaningless on it
    open_rings = areas.attrs.get("open_rings") or {}
    for i, w in enumerate(where):
        if w in open_rings:
            findings.append(Finding("error", "open_ring", open_rings[w], [ids.iloc[i]], w))
    references = (
        ("responsible_unit_id", unit_ids, "unknown_unit", "responsible unit {} does not exist"),
        ("district_id", district_ids, "unknown_district", "district {} does not exist"),
    )
    for column, known_ids, code, message in references:
        if known_ids is None:
            continue
        known = set(known_ids)
        for i, value in enumerate(areas[column].astype(str)):
            if value not in known:
                findings.append(
                    Finding("error", code, message.format(value), [ids.iloc[i]], where.iloc[i])
                )
    if not valid.all():
        return findings  # overlaps and gaps are meaningless on invalid shapes
    metric = areas.to_crs(metric_crs(areas))
    mg = metric.geometry.values
    tree = STRtree(mg)
    left, right = tree.query(mg, predicate="intersects")
    pairs = left < right
    for a, b in zip(left[pairs], right[pairs], strict=True):
        overlap = shapely.intersection(mg[a], mg[b])
        if overlap.area > tolerance_m2:
            findings.append(
                Finding(
                    "error",
                    "overlap",
                    f"areas {ids.iloc[a]} and {ids.iloc[b]} overlap by {overlap.area:.1f} m²",
                    [ids.iloc[a], ids.iloc[b]],
                    where.iloc[a],
                    float(overlap.area),
                )
            )
    union = shapely.union_all(mg)
    for poly in getattr(union, "geoms", [union]):
        for ring in poly.interiors:
            hole = shapely.Polygon(ring).difference(union)  # less an area lying inside it
            if hole.area > tolerance_m2:
                findings.append(
                    Finding(
                        "warning",
                        "gap",
                        f"a gap of {hole.area:.1f} m² inside the county",
                        area_m2=float(hole.area),
                    )
                )
    for district, group in metric.groupby(metric["district_id"].astype(str)):
        merged = shapely.union_all(group.geometry.values)
        parts = len(getattr(merged, "geoms", [merged]))
        if parts > 1:
            findings.append(
                Finding(
                    "warning",
                    "district_split",
                    f"district {district} falls apart into {parts} pieces",
                    sorted(group["area_id"].astype(str)),
                )
            )
    return findings


def diff_areas(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per area_id: 'added', 'removed', 'geometry', 'attributes', 'geometry+attributes'.

    Unchanged areas are left out.  Attributes are compared as text; an area_id repeated in
    a set (an error :func:`check_areas` reports) is compared by its first row.
    """
    cols = ["name", "kind", "district_id", "responsible_unit_id"]
    o = old.drop_duplicates("area_id").set_index("area_id")
    n = new.drop_duplicates("area_id").set_index("area_id")
    kept = o.index.intersection(n.index)  # both sides aligned on the areas kept
    geo = ~shapely.equals(
        np.asarray(o.geometry.reindex(kept).values, dtype=object),
        np.asarray(n.geometry.reindex(kept).values, dtype=object),
    )
    attrs = np.zeros(len(kept), dtype=bool)
    for c in cols:
        before = [str(v) for v in o[c].reindex(kept)]
        after = [str(v) for v in n[c].reindex(kept)]
        attrs |= np.array(before, dtype=object) != np.array(after, dtype=object)
    changed = {
        aid: "+".join(k for k, f in (("geometry", g), ("attributes", a)) if f)
        for aid, g, a in zip(kept, geo, attrs, strict=True)
        if g or a
    }
    rows = []
    for aid in sorted(set(o.index) | set(n.index)):
        if aid not in n.index:
            rows.append((aid, "removed"))
        elif aid not in o.index:
            rows.append((aid, "added"))
        elif aid in changed:
            rows.append((aid, changed[aid]))
    return pd.DataFrame(rows, columns=["area_id", "change"])
