"""Shared vertices, the editor's topology: neighbouring areas hold the same coordinates along
their common edge, so a vertex is moved in every area that has it, and a vertex lying on a
neighbour's edge is first added to that edge (no gap, no overlap). Also the tolerance under
which two coordinates are one vertex, and the ``Areas`` type (``area_id → record``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon

#: two coordinates closer than this (degrees, about 1 mm) are the same vertex
VERTEX_TOLERANCE = 1e-8


Areas = dict[str, dict]


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
