"""The edits of a boundary set: move a vertex, reassign an area's attributes, split an area
along a line, merge two areas (or delete one into its neighbour), draw a new area in a gap,
and replace records (undo/redo). Each returns an :class:`Edit`: a new dict and the ids of the
areas it touched; the input is not changed. A refused edit raises :class:`EditError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape
from shapely.ops import split as shapely_split

from geoapp.core.editing.vertices import (
    VERTEX_TOLERANCE,
    Areas,
    _move_in_polygon,
    _polygonal,
    _share_vertices,
)
from geoapp.core.messages import N_, Explained

ATTRIBUTES = ("name", "kind", "district_id", "responsible_unit_id")


class EditError(Explained, ValueError):
    """An edit cannot be done as asked; the message says why."""


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


def _require(areas: Mapping[str, dict], area_id: str) -> dict:
    if area_id not in areas:
        raise EditError(N_("there is no area %(area_id)r in this draft"), area_id=area_id)
    return areas[area_id]


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
