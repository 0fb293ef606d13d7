"""From lines to contracted areas (steps 3-4 of :mod:`geoapp.demo.generate`): the layout's
lines are noded and polygonized into faces, each face is classified, faces are grouped into
areas, slivers are merged into a neighbour and T-junctions repaired so that neighbours share
the same vertices along their border.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geoapp.demo.county import ALLEY_HALF, DENSIFY, MIN_EDGE, RIVER_HALF, ROAD_HALF
from geoapp.demo.layout import Layout, Warp


@dataclass
class Area:
    geom: BaseGeometry  # UTM; replaced by the T-junction-repaired version
    family: str  # vroad, hroad, river, valley, halley, parcel, square, multi
    key: tuple
    special: str | None = None
    comp: int = 0
    kind: str = ""
    name: str = ""
    owner: str = ""
    district: int = -1
    ll: BaseGeometry | None = None  # EPSG:4326, rounded
    area_id: str = ""

    @property
    def group(self) -> tuple:
        return (self.family, *self.key)


def _to_utm_line(pts: np.ndarray, warp: Warp) -> LineString:
    dense = shapely.segmentize(LineString(pts), DENSIFY)
    return LineString(warp.forward(shapely.get_coordinates(dense)))


def _clean_edge(coords: np.ndarray) -> np.ndarray:
    """Drop interior (non-node) vertices closer than 0.5 m to a kept neighbour."""
    n = len(coords)
    if n <= 2:
        return coords
    keep = [0]
    end = coords[-1]
    for i in range(1, n - 1):
        p = coords[i]
        q = coords[keep[-1]]
        if (
            math.hypot(p[0] - q[0], p[1] - q[1]) >= 0.5
            and math.hypot(p[0] - end[0], p[1] - end[1]) >= 0.5
        ):
            keep.append(i)
    keep.append(n - 1)
    return coords[keep]


def build_faces(lay: Layout, warp: Warp) -> tuple[list[Polygon], Polygon]:
    utm_lines = [_to_utm_line(p, warp) for p in lay.lines]
    noded = shapely.union_all(utm_lines)
    edges = []
    for e in shapely.get_parts(noded):
        coords = _clean_edge(shapely.get_coordinates(e))
        edge = LineString(coords)
        if edge.length < MIN_EDGE:
            raise RuntimeError(f"degenerate edge of {edge.length:.4f} m at {coords[0]}")
        edges.append(edge)
    faces = list(shapely.get_parts(shapely.polygonize(edges)))
    outline_utm = Polygon(shapely.get_coordinates(_to_utm_line(lay.lines[0], warp)))
    return faces, outline_utm


def classify(lay: Layout, u: float, v: float) -> tuple:
    for i, x in enumerate(lay.us):
        if abs(u - x) < ROAD_HALF:
            return ("vroad", i, bisect_right(lay.vs, v))
    for j, y in enumerate(lay.vs):
        if abs(v - y) < ROAD_HALF:
            return ("hroad", j, bisect_right(lay.us, u))
    if abs(v - float(lay.river(u))) < RIVER_HALF:
        return ("river", bisect_right(lay.us, u))
    if lay.square is not None:
        a0, b0, a1, b1 = lay.square
        if a0 < u < a1 and b0 < v < b1:
            return ("square",)
    c, r = lay.block_of(u, v)
    blk = lay.blocks[(c, r)]
    for k, a in enumerate(blk.valleys):
        if abs(u - a) < ALLEY_HALF:
            return ("valley", c, r, k)
    col = blk.column(u)
    for k, (b, k0, k1) in enumerate(blk.halleys):
        if abs(v - b) < ALLEY_HALF and k0 <= col <= k1:
            return ("halley", c, r, k)
    return ("parcel", c, r, col, bisect_right(blk.hcuts(col), v))


def build_areas(lay: Layout, warp: Warp) -> list[Area]:
    faces, outline_utm = build_faces(lay, warp)
    reps = shapely.point_on_surface(faces)
    rx, ry = shapely.get_x(reps), shapely.get_y(reps)
    inside = shapely.contains_xy(outline_utm, rx, ry)
    uv = warp.inverse(np.column_stack([rx, ry]))

    groups: dict[tuple, list[int]] = {}
    specials: dict[tuple, str | None] = {}
    for i in range(len(faces)):
        if not inside[i]:
            continue
        key = classify(lay, float(uv[i, 0]), float(uv[i, 1]))
        special = None
        if key[0] == "parcel":
            sb = lay.subblocks.get(key[1:])
            special = sb.special if sb is not None else None
            if special is None:
                key = (*key, i)  # every plain parcel face is its own compound
        elif key[0] == "square":
            special = "square"
        groups.setdefault(key, []).append(i)
        specials[key] = special

    areas: list[Area] = []
    for key, idx in groups.items():
        geom = faces[idx[0]] if len(idx) == 1 else shapely.union_all([faces[i] for i in idx])
        # a group cut in two (an alley crossed by the river) becomes one area per piece
        for comp, part in enumerate(shapely.get_parts(geom)):
            areas.append(Area(part, key[0], key[1:], specials[key], comp))
    areas = _merge_slivers(areas)
    _make_multi(areas, warp)
    _repair_tjunctions(areas)
    return areas


def _make_multi(
    areas: list[Area], warp: Warp, target: tuple[float, float] = (350.0, 800.0)
) -> None:
    """Join two compounds that face each other across a back alley into one MultiPolygon area."""
    alleys = [a for a in areas if a.family == "valley"]
    best: tuple[float, int, int] | None = None
    plain = [
        i
        for i, a in enumerate(areas)
        if a.family == "parcel" and a.special is None and 20000.0 <= a.geom.area <= 110000.0
    ]
    for alley in alleys:
        c, r, k = alley.key
        sides: dict[int, list[tuple[int, BaseGeometry]]] = {k: [], k + 1: []}
        for i in plain:
            a = areas[i]
            if a.key[0] == c and a.key[1] == r and a.key[2] in sides:
                shared = a.geom.boundary.intersection(alley.geom.boundary)
                if shared.length > 60.0:
                    sides[a.key[2]].append((i, shared))
        for i, si in sides[k]:
            for j, sj in sides[k + 1]:
                facing = si.buffer(ALLEY_HALF * 2.5).intersection(sj).length
                if facing < 50.0:
                    continue
                mid = shapely.centroid(MultiPolygon([areas[i].geom, areas[j].geom]))
                uv = warp.inverse(np.array([[mid.x, mid.y]]))[0]
                score = math.dist((float(uv[0]), float(uv[1])), target)
                if best is None or (score, i, j) < best:
                    best = (score, i, j)
    if best is None:
        raise RuntimeError("no pair of compounds for the two-part unit yard")
    _, i, j = best
    areas[i] = Area(MultiPolygon([areas[i].geom, areas[j].geom]), "multi", ())
    del areas[j]


def _shared_lengths(a: BaseGeometry, others: list[BaseGeometry]) -> np.ndarray:
    if not others:
        return np.zeros(0)
    inter = shapely.intersection(a.boundary, shapely.boundary(np.array(others, dtype=object)))
    return shapely.length(inter)


def _merge_slivers(areas: list[Area]) -> list[Area]:
    def too_small(a: Area) -> bool:
        if a.family in ("multi", "square") or a.special == "uv":
            return False
        if a.family == "parcel":  # small, or a thin strip (mean width under ~16 m)
            return a.geom.area < 2500.0 or a.geom.area < 8.0 * a.geom.length
        return a.geom.area < 900.0

    while True:
        small = [i for i, a in enumerate(areas) if too_small(a)]
        if not small:
            return areas
        i = min(small, key=lambda k: (areas[k].geom.area, k))
        a = areas[i]
        others = [j for j in range(len(areas)) if j != i]
        geoms = np.array([areas[j].geom for j in others], dtype=object)
        touching = [others[k] for k in np.nonzero(shapely.intersects(a.geom, geoms))[0]]
        lengths = _shared_lengths(a.geom, [areas[j].geom for j in touching])
        cands = [(float(lengths[k]), j) for k, j in enumerate(touching) if lengths[k] > 0.01]
        cands = [c for c in cands if areas[c[1]].family != "square"]
        if not cands:
            raise RuntimeError("sliver without neighbour")
        same = [c for c in cands if areas[c[1]].group == a.group]
        if a.family == "parcel":
            same = [c for c in cands if areas[c[1]].family == "parcel"]
        pool = same or cands
        _, target = max(pool, key=lambda c: (c[0], -c[1]))
        areas[target].geom = shapely.union_all([areas[target].geom, a.geom])
        del areas[i]


def _rings(geom: BaseGeometry) -> list[np.ndarray]:
    out = []
    for poly in shapely.get_parts(geom):
        out.append(shapely.get_coordinates(poly.exterior))
        out.extend(shapely.get_coordinates(r) for r in poly.interiors)
    return out


def _repair_tjunctions(areas: list[Area]) -> int:
    """Insert into every ring the vertices of other areas that lie on its segments."""
    all_pts = np.unique(np.concatenate([np.concatenate(_rings(a.geom)) for a in areas]), axis=0)
    tree = shapely.STRtree(shapely.points(all_pts))
    inserted = 0
    for a in areas:
        polys = []
        changed = False
        for poly in shapely.get_parts(a.geom):
            rings = [shapely.get_coordinates(poly.exterior)]
            rings += [shapely.get_coordinates(r) for r in poly.interiors]
            new_rings = []
            for ring in rings:
                segs = shapely.linestrings(np.stack([ring[:-1], ring[1:]], axis=1))
                seg_idx, pt_idx = tree.query(segs, predicate="dwithin", distance=1e-6)
                extra: dict[int, list[tuple[float, tuple[float, float]]]] = {}
                for s, p in zip(seg_idx.tolist(), pt_idx.tolist(), strict=True):
                    pt = all_pts[p]
                    if (pt == ring[s]).all() or (pt == ring[s + 1]).all():
                        continue
                    d = ring[s + 1] - ring[s]
                    t = float(np.dot(pt - ring[s], d) / np.dot(d, d))
                    extra.setdefault(s, []).append((t, (float(pt[0]), float(pt[1]))))
                if extra:
                    changed = True
                    out = []
                    for s in range(len(ring) - 1):
                        out.append(tuple(ring[s]))
                        for _t, pt in sorted(extra.get(s, [])):
                            out.append(pt)
                            inserted += 1
                    out.append(tuple(ring[-1]))
                    new_rings.append(np.array(out))
                else:
                    new_rings.append(ring)
            polys.append(Polygon(new_rings[0], new_rings[1:]))
        if changed:
            a.geom = polys[0] if len(polys) == 1 else MultiPolygon(polys)
    return inserted
