"""Checking an edited boundary set before it is published (:func:`validate`): invalid
geometry, areas whose size or place shows a wrong CRS (:func:`misplaced`), overlaps, unknown
units or districts, gaps, parts outside the county and slivers; each finding is a
:class:`Problem` with where it is on the map, areas measured in metres on an equal-area
projection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon, mapping

from geoapp.core.editing.vertices import _polygonal
from geoapp.core.shapes import rfc7946

#: areas and overlaps smaller than this (m²) are noise from floating point, not findings
NOISE_M2 = 1.0


# --- validation ----------------------------------------------------------------------------------
@dataclass
class Problem:
    """One finding of :func:`validate`, with where it is on the map."""

    level: str  # 'error' blocks publishing; 'warning' may be accepted with a note
    code: str
    message: str
    area_ids: list[str] = field(default_factory=list)
    area_m2: float | None = None
    geometry: dict | None = None  # GeoJSON in EPSG:4326

    def to_dict(self) -> dict:
        return {
            "level": self.level,
            "code": self.code,
            "message": self.message,
            "area_ids": self.area_ids,
            "area_m2": None if self.area_m2 is None else round(self.area_m2, 1),
            "geometry": self.geometry,
        }


class _Metric:
    """Lon/lat geometries in metres, in a Lambert azimuthal equal-area projection centred
    on the data: areas come out as on the ellipsoid (a UTM zone is conformal, not
    equal-area, and overstates areas by up to about 0.2 % at the edge of a zone)."""

    def __init__(self, bounds):
        from pyproj import CRS, Transformer

        if np.isfinite(bounds).all():
            lon, lat = (bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0
        else:
            lon, lat = 117.0, 30.0
        laea = CRS.from_proj4(f"+proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +datum=WGS84 +units=m")
        self._t = Transformer.from_crs("EPSG:4326", laea, always_xy=True)

    def __call__(self, geom):
        return shapely.transform(geom, lambda xy: np.column_stack(self._t.transform(*xy.T)))


def _geojson(geom) -> dict | None:
    return None if geom is None or geom.is_empty else mapping(rfc7946(geom))


#: An area narrower and shorter than this (metres) cannot be a responsibility zone: such
#: sizes come from coordinates in degrees read as metres (a file declared EPSG:3857, a
#: CGCS2000 zone or UTM whose numbers are really longitudes and latitudes).
MIN_AREA_EXTENT_M = 1.0
#: An area farther from the county than this many times the county's size (and at least
#: :data:`FAR_MIN_KM`) is in the wrong place: coordinates read in the wrong CRS.
FAR_FACTOR = 1.0
FAR_MIN_KM = 20.0
_KM_PER_DEGREE = 111.32


def _extent_m(bounds) -> float:
    """The larger side, in metres, of a lon/lat bounding box (small boxes)."""
    minx, miny, maxx, maxy = bounds
    lat = np.radians((miny + maxy) / 2.0)
    return 1000.0 * _KM_PER_DEGREE * max((maxx - minx) * np.cos(lat), maxy - miny)


def misplaced(aid: str, geom, county) -> Problem | None:
    """An error when an area's size or position shows its coordinates were read in the
    wrong CRS (checked before validity: such shapes are often also invalid)."""
    bounds = geom.bounds
    if not all(np.isfinite(bounds)):
        return None
    where = shapely.Point((bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0)
    at = f"at {where.x:.6f}, {where.y:.6f}"
    size = _extent_m(bounds)
    if size < MIN_AREA_EXTENT_M:
        return Problem(
            "error",
            "implausible_crs",
            f"area {aid} is only {size:.3f} m across ({at}): were its coordinates "
            "longitudes and latitudes declared as a projected CRS (EPSG:3857, a CGCS2000 "
            "or UTM zone)?",
            [aid],
            geometry=_geojson(where),
        )
    if county is None or county.is_empty:
        return None
    c = county.bounds
    county_km = _KM_PER_DEGREE * max(c[2] - c[0], c[3] - c[1])
    far_km = _KM_PER_DEGREE * shapely.distance(shapely.box(*bounds), shapely.box(*c))
    if far_km > max(FAR_FACTOR * county_km, FAR_MIN_KM):
        return Problem(
            "error",
            "far_away",
            f"area {aid} lies about {far_km:.0f} km from the county ({at}): were its "
            "coordinates read in the wrong CRS?",
            [aid],
            geometry=_geojson(where),
        )
    return None


def validate(
    areas: Mapping[str, dict],
    county=None,
    unit_ids: Iterable[str] | None = None,
    district_ids: Iterable[str] | None = None,
    sliver_m2: float = 50.0,
) -> list[Problem]:
    """Everything wrong with a boundary set.

    Errors: invalid geometry (self-intersections, holes outside their shell, spikes ...),
    areas whose size or place shows a wrong CRS (:func:`misplaced`: under
    :data:`MIN_AREA_EXTENT_M` across, or far from ``county``), overlaps, areas with no (or
    an unknown) responsible unit or an unknown district.  Warnings: gaps inside ``county`` (the outline the set should
    cover, lon/lat; None: only holes in the set), parts outside ``county``, districts that
    fall apart into pieces, slivers (areas or parts under ``sliver_m2`` m²).
    """
    found: list[Problem] = []
    ids = sorted(areas)
    geoms = [areas[a]["geometry"] for a in ids]
    units = None if unit_ids is None else set(unit_ids)
    districts = None if district_ids is None else set(district_ids)
    for aid, g in zip(ids, geoms, strict=True):
        rec = areas[aid]
        if g is None or g.is_empty:
            found.append(Problem("error", "empty", f"area {aid} has no shape", [aid]))
            continue
        wrong_crs = misplaced(aid, g, county)
        if wrong_crs is not None:
            found.append(wrong_crs)  # the CRS is wrong: its shape says nothing more
        elif not g.is_valid:
            reason = shapely.is_valid_reason(g)
            found.append(
                Problem(
                    "error",
                    "invalid_geometry",
                    f"area {aid}: invalid geometry ({reason})",
                    [aid],
                    geometry=_geojson(g.envelope),
                )
            )
        unit = rec.get("responsible_unit_id")
        if not unit:
            found.append(Problem("error", "no_unit", f"area {aid} has no responsible unit", [aid]))
        elif units is not None and unit not in units:
            found.append(
                Problem("error", "unknown_unit", f"area {aid}: unknown unit {unit}", [aid])
            )
        district = rec.get("district_id")
        if districts is not None and district not in districts:
            found.append(
                Problem(
                    "error", "unknown_district", f"area {aid}: unknown district {district}", [aid]
                )
            )
    usable = [(a, g) for a, g in zip(ids, geoms, strict=True) if g is not None and g.is_valid]
    if not usable:
        return found
    u_ids = [a for a, _ in usable]
    u_geoms = np.array([g for _, g in usable], dtype=object)
    bounds = shapely.total_bounds(u_geoms)
    metric = _Metric(bounds)
    m_geoms = np.array([metric(g) for g in u_geoms], dtype=object)
    tree = shapely.STRtree(m_geoms)
    left, right = tree.query(m_geoms, predicate="intersects")
    for a, b in zip(left, right, strict=True):
        if a >= b:
            continue
        overlap = shapely.intersection(m_geoms[a], m_geoms[b])
        if overlap.area > NOISE_M2:
            where = shapely.intersection(u_geoms[a], u_geoms[b])
            found.append(
                Problem(
                    "error",
                    "overlap",
                    f"areas {u_ids[a]} and {u_ids[b]} overlap by {overlap.area:.1f} m²",
                    [u_ids[a], u_ids[b]],
                    float(overlap.area),
                    _geojson(_polygonal(where)),
                )
            )
    for aid, g, mg in zip(u_ids, u_geoms, m_geoms, strict=True):
        for part, mpart in zip(getattr(g, "geoms", [g]), getattr(mg, "geoms", [mg]), strict=True):
            if mpart.area < sliver_m2:
                found.append(
                    Problem(
                        "warning",
                        "sliver",
                        f"area {aid} has a sliver of {mpart.area:.1f} m²",
                        [aid],
                        float(mpart.area),
                        _geojson(part),
                    )
                )
    union = shapely.union_all(u_geoms)
    if county is not None and not county.is_empty:
        gaps = _polygonal(shapely.difference(county, union))
        outside = _polygonal(shapely.difference(union, county))
    else:
        # the holes of the set, less the areas lying inside them (an island in a hole)
        filled = shapely.union_all([Polygon(p.exterior) for p in getattr(union, "geoms", [union])])
        gaps = _polygonal(shapely.difference(filled, union))
        outside = None
    for code, geom, text in (
        ("gap", gaps, "a gap of {:.1f} m² inside the county"),
        ("outside", outside, "{:.1f} m² lie outside the county"),
    ):
        for part in getattr(geom, "geoms", [geom]) if geom is not None else []:
            m2 = metric(part).area
            if m2 > NOISE_M2:
                touching = [u_ids[i] for i in shapely.STRtree(u_geoms).query(part.buffer(1e-7))]
                found.append(
                    Problem("warning", code, text.format(m2), sorted(touching), m2, _geojson(part))
                )
    by_district: dict[str, list] = {}
    for aid, g in usable:
        by_district.setdefault(str(areas[aid].get("district_id")), []).append((aid, g))
    for district, members in sorted(by_district.items()):
        merged = shapely.union_all([g for _, g in members])
        pieces = [p for p in getattr(merged, "geoms", [merged]) if metric(p).area > NOISE_M2]
        if len(pieces) > 1:
            found.append(
                Problem(
                    "warning",
                    "district_split",
                    f"district {district} falls apart into {len(pieces)} pieces",
                    sorted(a for a, _ in members),
                    geometry=_geojson(merged),
                )
            )
    return found


def errors(found: Iterable[Problem]) -> list[Problem]:
    return [f for f in found if f.level == "error"]
