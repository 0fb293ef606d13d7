"""The boundary editor's geometry: edits of a set of contracted areas, their validation,
and which problems an edit moves.

Pure functions, no Flask and no SQL.  A boundary set is a ``dict`` ``area_id → record``;
a record is a dict with name, kind, district_id, responsible_unit_id and geometry (a
shapely Polygon or MultiPolygon in EPSG:4326, longitude/latitude).  Every edit returns a
new dict (the input is not changed) and the ids of the areas it touched.

Shared borders are shared *vertices*: two neighbouring areas hold the same coordinates
along their common edge, so moving a vertex moves it in every area that has it, and a
vertex lying on a neighbour's edge (without being one of its vertices) is first added to
that edge, which keeps the tiling exact: no gap and no overlap appear.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, mapping, shape
from shapely.ops import split as shapely_split

from geoapp.core.messages import N_, Explained

#: two coordinates closer than this (degrees, about 1 mm) are the same vertex
VERTEX_TOLERANCE = 1e-8
#: areas and overlaps smaller than this (m²) are noise from floating point, not findings
NOISE_M2 = 1.0
ATTRIBUTES = ("name", "kind", "district_id", "responsible_unit_id")


class EditError(Explained, ValueError):
    """An edit cannot be done as asked; the message says why."""


Areas = dict[str, dict]


@dataclass
class Edit:
    """The result of one edit: the new boundary set and the area ids it touched."""

    areas: Areas
    changed: list[str]
    kept: str | None = None  # the id that survives a merge


# --- records ---------------------------------------------------------------------------------
def record(geometry, **attributes) -> dict:
    """An area record; missing attributes are None."""
    return {**dict.fromkeys(ATTRIBUTES), **attributes, "geometry": geometry}


def _polygonal(geom):
    """Only the polygon parts of a geometry (a split or a union may add lines or points)."""
    if geom is None or geom.is_empty:
        return None
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    polys = [p for g in parts for p in getattr(g, "geoms", [g])]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def _require(areas: Mapping[str, dict], area_id: str) -> dict:
    if area_id not in areas:
        raise EditError(N_("there is no area %(area_id)r in this draft"), area_id=area_id)
    return areas[area_id]


# --- moving a shared vertex --------------------------------------------------------------------
def _on_segment(p, a, b, tol: float) -> bool:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return False
    t = ((px - ax) * dx + (py - ay) * dy) / length2
    if t <= 0 or t >= 1:
        return False
    cx, cy = ax + t * dx, ay + t * dy
    return math.hypot(px - cx, py - cy) <= tol


def _move_in_ring(coords: list, src, dst, tol: float) -> tuple[list, bool]:
    out: list = []
    changed = False
    for i, c in enumerate(coords):
        if i and _on_segment(src, coords[i - 1], c, tol):
            out.append(tuple(dst))  # src lies on this edge: it becomes a vertex, then moves
            changed = True
        if math.hypot(c[0] - src[0], c[1] - src[1]) <= tol:
            out.append(tuple(dst))
            changed = True
        else:
            out.append((c[0], c[1]))
    return out, changed


def _move_in_polygon(poly: Polygon, src, dst, tol: float) -> tuple[Polygon, bool]:
    shell, moved = _move_in_ring(list(poly.exterior.coords), src, dst, tol)
    holes = []
    for ring in poly.interiors:
        hole, m = _move_in_ring(list(ring.coords), src, dst, tol)
        holes.append(hole)
        moved = moved or m
    return (Polygon(shell, holes) if moved else poly), moved


def move_vertex(areas: Mapping[str, dict], src, dst, tolerance: float = VERTEX_TOLERANCE) -> Edit:
    """Move the vertex at ``src`` to ``dst`` (lon, lat) in every area that has it or whose
    edge passes through it, so a shared border stays shared."""
    src = (float(src[0]), float(src[1]))
    dst = (float(dst[0]), float(dst[1]))
    if not all(map(math.isfinite, (*src, *dst))):
        raise EditError(N_("a vertex needs finite coordinates"))
    probe = Point(src).buffer(tolerance * 2, 4)
    out = dict(areas)
    changed = []
    for aid, rec in areas.items():
        geom = rec["geometry"]
        if geom is None or not geom.intersects(probe):
            continue
        polys = list(getattr(geom, "geoms", [geom]))
        moved_any = False
        new_polys = []
        for poly in polys:
            new, moved = _move_in_polygon(poly, src, dst, tolerance)
            new_polys.append(new)
            moved_any = moved_any or moved
        if moved_any:
            new_geom = new_polys[0] if isinstance(geom, Polygon) else MultiPolygon(new_polys)
            out[aid] = {**rec, "geometry": new_geom}
            changed.append(aid)
    if not changed:
        raise EditError(N_("no area has a vertex or an edge at that point"))
    return Edit(out, sorted(changed + _share_vertices(out, changed)))


# --- keeping shared borders shared ------------------------------------------------------------
def _ring_with(coords: np.ndarray, points: np.ndarray, tol: float) -> np.ndarray | None:
    """The ring with every point lying on one of its edges (not at a corner) added there,
    in order along the edge; None when no point lies on an edge."""
    start, end = coords[:-1], coords[1:]
    step = end - start
    length2 = (step**2).sum(axis=1)
    rel = points[None, :, :] - start[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (rel * step[:, None, :]).sum(axis=2) / length2[:, None]
    off = rel - t[:, :, None] * step[:, None, :]
    on_edge = (t > 0) & (t < 1) & (np.hypot(off[..., 0], off[..., 1]) <= tol)
    corner = np.hypot(*(coords[:, None, :] - points[None, :, :]).transpose(2, 0, 1)) <= tol
    on_edge &= ~corner.any(axis=0)[None, :]
    if not on_edge.any():
        return None
    out = []
    for i in range(len(start)):
        out.append(start[i])
        hits = np.flatnonzero(on_edge[i])
        out.extend(points[hits[np.argsort(t[i, hits])]])
    out.append(coords[-1])
    return np.array(out)


def _with_vertices(geom, points: np.ndarray, tol: float):
    """``geom`` with the points that lie on its edges added as vertices (None: none did)."""
    polys = list(getattr(geom, "geoms", [geom]))
    changed = False
    new_polys = []
    for poly in polys:
        rings = [np.asarray(poly.exterior.coords)[:, :2]]
        rings += [np.asarray(r.coords)[:, :2] for r in poly.interiors]
        new_rings = []
        for ring in rings:
            near = points[
                (points[:, 0] >= ring[:, 0].min() - tol)
                & (points[:, 0] <= ring[:, 0].max() + tol)
                & (points[:, 1] >= ring[:, 1].min() - tol)
                & (points[:, 1] <= ring[:, 1].max() + tol)
            ]
            if len(near):  # only the points on this ring (keeps the arrays small)
                near = near[shapely.dwithin(shapely.points(near), LineString(ring), tol)]
            new = _ring_with(ring, near, tol) if len(near) else None
            changed = changed or new is not None
            new_rings.append(ring if new is None else new)
        new_polys.append(Polygon(new_rings[0], new_rings[1:]))
    if not changed:
        return None
    return new_polys[0] if isinstance(geom, Polygon) else MultiPolygon(new_polys)


def _share_vertices(areas: Areas, ids: Iterable[str], tol: float = VERTEX_TOLERANCE) -> list[str]:
    """Keep shared borders shared after an edit reshaped ``ids``: a corner of one of them
    lying on a neighbour's edge becomes a vertex of that edge too, and the other way round
    (a split or a drawn area cuts a neighbour's edge at a point the neighbour lacks; without
    it, moving that neighbour's next corner would open a gap or an overlap).  Changes
    ``areas`` in place; returns the ids of the neighbours that got a vertex."""
    ids = [a for a in ids if a in areas and areas[a]["geometry"] is not None]
    if not ids:
        return []
    touched = {a: areas[a]["geometry"] for a in ids}
    region = shapely.union_all([shapely.envelope(g) for g in touched.values()]).buffer(tol * 2)
    others = [
        a
        for a, r in areas.items()
        if a not in touched and r["geometry"] is not None and r["geometry"].intersects(region)
    ]
    if not others:
        return []
    mine = np.unique(np.concatenate([shapely.get_coordinates(g) for g in touched.values()]), axis=0)
    theirs = np.unique(
        np.concatenate([shapely.get_coordinates(areas[a]["geometry"]) for a in others]), axis=0
    )
    extra = []
    for aid in others:
        new = _with_vertices(areas[aid]["geometry"], mine, tol)
        if new is not None:
            areas[aid] = {**areas[aid], "geometry": new}
            extra.append(aid)
    for aid in ids:
        new = _with_vertices(areas[aid]["geometry"], theirs, tol)
        if new is not None:
            areas[aid] = {**areas[aid], "geometry": new}
    return sorted(extra)


# --- attribute, split, merge, add, delete -----------------------------------------------------------
def reassign(
    areas: Mapping[str, dict],
    area_id: str,
    responsible_unit_id: str | None = None,
    district_id: str | None = None,
    name: str | None = None,
) -> Edit:
    """Give an area another responsible unit, district or name (None keeps the value)."""
    rec = _require(areas, area_id)
    changes = {
        k: v
        for k, v in (
            ("responsible_unit_id", responsible_unit_id),
            ("district_id", district_id),
            ("name", name),
        )
        if v is not None
    }
    if not changes:
        raise EditError(N_("say which unit, district or name the area gets"))
    out = dict(areas)
    out[area_id] = {**rec, **changes}
    return Edit(out, [area_id])


def _new_id(base: str, taken: set[str]) -> str:
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def split(
    areas: Mapping[str, dict],
    area_id: str,
    line,
    taken_ids: Iterable[str] = (),
) -> Edit:
    """Cut an area in pieces along a drawn line (lon/lat pairs or a LineString).

    The largest piece keeps the area's id; the others get new ids ``<id>-2``, ``<id>-3`` …
    (not in ``taken_ids`` nor in the set) with the same unit, district and kind.
    """
    rec = _require(areas, area_id)
    blade = line if isinstance(line, LineString) else LineString([tuple(p) for p in line])
    if blade.length == 0:
        raise EditError(N_("the split line needs two different points"))
    pieces = [
        p
        for g in getattr(shapely_split(rec["geometry"], blade), "geoms", [])
        if (p := _polygonal(g)) is not None
    ]
    if len(pieces) < 2:
        raise EditError(
            N_("the line does not cut area %(area_id)s in two: draw it across the area"),
            area_id=area_id,
        )
    pieces.sort(key=lambda g: -g.area)
    taken = set(taken_ids) | set(areas)
    out = dict(areas)
    out[area_id] = {**rec, "geometry": pieces[0]}
    changed = [area_id]
    for k, piece in enumerate(pieces[1:], start=2):
        nid = _new_id(area_id, taken)
        taken.add(nid)
        out[nid] = {**rec, "geometry": piece, "name": f"{rec.get('name') or area_id} ({k})"}
        changed.append(nid)
    return Edit(out, changed + _share_vertices(out, changed))


def _shared_border(a, b) -> float:
    return float(shapely.intersection(a.boundary, b.boundary).length)


#: a split suffix: ``-2``, ``-3`` … ``-10`` … (no ``-0``, ``-1`` nor a leading zero)
_SPLIT_SUFFIX = re.compile(r"-(?:[2-9]|[1-9][0-9]+)$")


def split_depth(area_id: str) -> int:
    """How many split suffixes ``-N`` (N ≥ 2) end the id: ``A024`` 0, ``A024-2`` 1,
    ``A024-2-3`` 2."""
    depth = 0
    while (m := _SPLIT_SUFFIX.search(area_id)) and m.start() > 0:
        area_id = area_id[: m.start()]
        depth += 1
    return depth


def _natural(area_id: str) -> tuple:
    """``A2`` before ``A10``: digit runs compare as numbers."""
    return tuple(
        (0, int(part), part) if part.isdigit() else (1, 0, part)
        for part in re.split(r"([0-9]+)", area_id)
        if part
    )


def age_key(area_id: str, first_seen: Mapping[str, int] | None = None) -> tuple:
    """Sort key of an area id, the oldest first.

    1. the earliest generation the id appears in (``first_seen``; an id missing there, or
       no ``first_seen`` at all, counts as newer than every generation);
    2. then fewer split suffixes (``A024`` before ``A024-2`` before ``A024-2-3``: a split
       derives ``<id>-N`` from the id it cut);
    3. then the natural order of the ids (``A2`` before ``A10``, ``N7`` before ``N12``).
    """
    seen = (first_seen or {}).get(area_id)
    return (math.inf if seen is None else seen, split_depth(area_id), _natural(area_id))


def _join(areas: Mapping[str, dict], keep_id: str, gone_id: str) -> Edit:
    """``gone_id``'s ground goes to ``keep_id``, which keeps its id and attributes."""
    keep, gone = _require(areas, keep_id), _require(areas, gone_id)
    if keep_id == gone_id:
        raise EditError(N_("choose two different areas to merge"))
    if _shared_border(keep["geometry"], gone["geometry"]) <= VERTEX_TOLERANCE:
        raise EditError(
            N_("areas %(keep_id)s and %(gone_id)s do not share a border"),
            keep_id=keep_id,
            gone_id=gone_id,
        )
    joined = _polygonal(shapely.union(keep["geometry"], gone["geometry"]))
    out = dict(areas)
    out[keep_id] = {**keep, "geometry": joined}
    del out[gone_id]
    return Edit(out, sorted([keep_id, gone_id]) + _share_vertices(out, [keep_id]))


def merge(
    areas: Mapping[str, dict],
    area_id: str,
    other_id: str,
    first_seen: Mapping[str, int] | None = None,
) -> Edit:
    """Join two neighbouring areas.  The older id survives with its own attributes,
    whichever of the two is named first (see :func:`age_key` for "older"); the other id
    is gone.  ``Edit.changed`` lists both ids, the survivor in ``Edit.kept``."""
    keep_id, gone_id = sorted((area_id, other_id), key=lambda a: age_key(a, first_seen))
    edit = _join(areas, keep_id, gone_id)
    edit.kept = keep_id
    return edit


def delete(areas: Mapping[str, dict], area_id: str, neighbour_id: str) -> Edit:
    """Remove an area; its ground goes to ``neighbour_id``, which must share a border."""
    return _join(areas, neighbour_id, area_id)


def add_area(
    areas: Mapping[str, dict], area_id: str, polygon, attributes: Mapping | None = None
) -> Edit:
    """Draw a new area into a gap: the drawn polygon minus every existing area."""
    if area_id in areas:
        raise EditError(N_("area %(area_id)s already exists"), area_id=area_id)
    drawn = polygon if isinstance(polygon, Polygon | MultiPolygon) else shape(polygon)
    if not drawn.is_valid:
        drawn = shapely.make_valid(drawn)
    others = [r["geometry"] for r in areas.values() if r["geometry"] is not None]
    rest = drawn.difference(shapely.union_all(others)) if others else drawn
    rest = _polygonal(rest)
    if rest is None or rest.area == 0:
        raise EditError(N_("the drawn shape lies entirely inside existing areas: no gap to fill"))
    out = dict(areas)
    out[area_id] = record(rest, **dict(attributes or {}))
    return Edit(out, [area_id] + _share_vertices(out, [area_id]))


def replace(areas: Mapping[str, dict], records: Mapping[str, dict]) -> Edit:
    """Put back given records (undo/redo): None removes the area."""
    out = dict(areas)
    for aid, rec in records.items():
        if rec is None:
            out.pop(aid, None)
        else:
            out[aid] = rec
    return Edit(out, sorted(records))


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
    return None if geom is None or geom.is_empty else mapping(geom)


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
            geometry=mapping(where),
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
            geometry=mapping(where),
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


# --- comparing and impact ----------------------------------------------------------------------------
def changed_areas(old: Mapping[str, dict], new: Mapping[str, dict]) -> dict[str, str]:
    """``area_id → 'added' | 'removed' | 'geometry' | 'attributes' | 'geometry+attributes'``
    for every area that differs; unchanged areas are left out."""
    out = {}
    for aid in sorted(set(old) | set(new)):
        if aid not in new:
            out[aid] = "removed"
        elif aid not in old:
            out[aid] = "added"
        else:
            a, b = old[aid], new[aid]
            geo = not shapely.equals_exact(a["geometry"], b["geometry"], 0.0)
            if geo:
                # an invalid shape with other coordinates counts as changed
                with contextlib.suppress(shapely.errors.GEOSException):
                    geo = not shapely.equals(a["geometry"], b["geometry"])
            attrs = any(str(a.get(k)) != str(b.get(k)) for k in ATTRIBUTES)
            if geo or attrs:
                out[aid] = "+".join(k for k, f in (("geometry", geo), ("attributes", attrs)) if f)
    return out


def changes_nothing(
    old: Mapping[str, dict], edit: Edit, tolerance: float = VERTEX_TOLERANCE
) -> bool:
    """True when ``edit`` leaves every area it touched as it was: no area added or removed,
    no attribute changed, and no point of a shape moved further than ``tolerance`` (a
    corner dropped where it was, a vertex added on a straight edge)."""
    for aid in edit.changed:
        a, b = old.get(aid), edit.areas.get(aid)
        if (a is None) != (b is None):
            return False
        if a is None:
            continue
        if any(str(a.get(k)) != str(b.get(k)) for k in ATTRIBUTES):
            return False
        ga, gb = a["geometry"], b["geometry"]
        if (ga is None) != (gb is None):
            return False
        if ga is not None and shapely.hausdorff_distance(ga, gb) > tolerance:
            return False
    return True


def changed_bounds(old: Mapping[str, dict], new: Mapping[str, dict], ids: Iterable[str]):
    """(minx, miny, maxx, maxy) around the old and new shapes of ``ids``, or None."""
    geoms = [
        side[a]["geometry"]
        for a in ids
        for side in (old, new)
        if a in side and side[a]["geometry"] is not None
    ]
    if not geoms:
        return None
    return tuple(float(v) for v in shapely.total_bounds(np.array(geoms, dtype=object)))


ASSIGNMENT = ("district_id", "area_id", "responsible_unit_id", "lead_unit_id")


def moved_problems(problems: list[Mapping], after: list[Mapping]) -> list[tuple[Mapping, dict]]:
    """Pairs (problem, new assignment) for the problems whose area, responsible unit, lead
    unit or district differ between the problem's stored assignment and ``after``."""
    return [
        (p, dict(a))
        for p, a in zip(problems, after, strict=True)
        if any(p.get(k) != a.get(k) for k in ASSIGNMENT)
    ]


def unit_totals(
    before: Mapping[str, tuple[int, float]], moves: Iterable[tuple[Mapping, Mapping]]
) -> dict[str, dict]:
    """Per responsible unit: problems and deduction points before → after the moves.

    ``before`` maps unit → (count, deduction) over all problems; units a move touches are
    listed."""
    delta: dict[str, list] = {}
    for p, a in moves:
        old, new = p.get("responsible_unit_id"), a.get("responsible_unit_id")
        if old == new:
            continue
        d = float(p.get("deduction") or 0.0)
        for unit, sign in ((old, -1), (new, 1)):
            if unit is None:
                continue
            row = delta.setdefault(unit, [0, 0.0])
            row[0] += sign
            row[1] += sign * d
    out = {}
    for unit in sorted(delta):
        count, ded = before.get(unit, (0, 0.0))
        out[unit] = {
            "problems_before": int(count),
            "problems_after": int(count + delta[unit][0]),
            "deduction_before": round(float(ded), 2),
            "deduction_after": round(float(ded + delta[unit][1]), 2),
        }
    return out
