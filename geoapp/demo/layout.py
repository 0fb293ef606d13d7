"""The town's plan (steps 1-2 of :mod:`geoapp.demo.generate`): the warp from the flat
parameter plane into UTM, and the layout in that plane: outline, main roads, river band,
blocks, back alleys, the divider lines that cut sub-blocks into compounds, and the sub-blocks
set aside for special places.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon, box
from shapely.ops import split

from geoapp.demo.county import (
    ALLEY_HALF,
    FAR_U,
    FAR_V,
    N_URBAN_VILLAGES,
    OVERSHOOT,
    RIVER_HALF,
    RIVER_ROW,
    ROAD_HALF,
    U_BASE,
    V_BASE,
)


# =============================================================================================
# warp: parameter plane -> UTM
# =============================================================================================
class Warp:
    """Smooth, invertible map from the parameter plane to UTM 50N."""

    def __init__(self, x0: float, y0: float, theta_deg: float = 9.0) -> None:
        self.x0, self.y0 = x0, y0
        t = math.radians(theta_deg)
        self.c, self.s = math.cos(t), math.sin(t)

    @staticmethod
    def _disp(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tau = 2.0 * np.pi
        du = 48.0 * np.sin(tau * v / 3100.0 + 0.6) + 22.0 * np.sin(tau * (u + v) / 1900.0 + 1.9)
        dv = 42.0 * np.sin(tau * u / 2700.0 + 2.3) + 18.0 * np.sin(tau * (u - v) / 1700.0 + 0.4)
        return du, dv

    def forward(self, uv: np.ndarray) -> np.ndarray:
        u, v = uv[:, 0], uv[:, 1]
        du, dv = self._disp(u, v)
        up, vp = u + du, v + dv
        x = self.x0 + self.c * up - self.s * vp
        y = self.y0 + self.s * up + self.c * vp
        return np.column_stack([x, y])

    def inverse(self, xy: np.ndarray) -> np.ndarray:
        dx, dy = xy[:, 0] - self.x0, xy[:, 1] - self.y0
        up = self.c * dx + self.s * dy
        vp = -self.s * dx + self.c * dy
        u, v = up.copy(), vp.copy()
        for _ in range(80):  # contraction (|grad disp| < 0.2): converges to machine precision
            du, dv = self._disp(u, v)
            u, v = up - du, vp - dv
        return np.column_stack([u, v])


# =============================================================================================
# layout in the parameter plane
# =============================================================================================
@dataclass
class SubBlock:
    c: int
    r: int
    si: int
    sj: int
    u0: float
    u1: float
    v0: float
    v1: float
    inside_area: float
    inside_bounds: tuple[float, float, float, float]
    fully_inside: bool
    special: str | None = None

    @property
    def key(self) -> tuple[int, int, int, int]:
        return (self.c, self.r, self.si, self.sj)

    @property
    def center(self) -> tuple[float, float]:
        b = self.inside_bounds
        return ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)


@dataclass
class Block:
    c: int
    r: int
    u0: float
    u1: float
    v0: float
    v1: float
    valleys: list[float] = field(default_factory=list)
    # horizontal alleys: (v, first sub-column, last sub-column); they may stop at a vertical alley
    halleys: list[tuple[float, int, int]] = field(default_factory=list)

    def column(self, u: float) -> int:
        return bisect_right(self.valleys, u)

    def hcuts(self, col: int) -> list[float]:
        return sorted(b for b, k0, k1 in self.halleys if k0 <= col <= k1)

    def column_span(self, k0: int, k1: int) -> tuple[float, float]:
        lo = self.u0 if k0 == 0 else self.valleys[k0 - 1] + ALLEY_HALF
        hi = self.u1 if k1 == len(self.valleys) else self.valleys[k1] - ALLEY_HALF
        return lo, hi


@dataclass
class Layout:
    us: list[float]
    vs: list[float]
    outline: np.ndarray
    river_phase: tuple[float, float]
    blocks: dict[tuple[int, int], Block]
    subblocks: dict[tuple[int, int, int, int], SubBlock]
    square: tuple[float, float, float, float] | None
    lines: list[np.ndarray]

    def river(self, u: np.ndarray | float) -> np.ndarray | float:
        mid = (self.vs[0] + self.vs[1]) / 2.0
        p0, p1 = self.river_phase
        return (
            mid
            + 110.0 * np.sin(2 * np.pi * u / 2300.0 + p0)
            + 38.0 * np.sin(2 * np.pi * u / 870.0 + p1)
        )

    def block_of(self, u: float, v: float) -> tuple[int, int]:
        return bisect_right(self.us, u), bisect_right(self.vs, v)


def _make_outline(rng: np.random.Generator) -> np.ndarray:
    n = 120
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    ph = rng.uniform(0.0, 2.0 * np.pi, 4)
    a, b, p = 2450.0, 1950.0, 3.0
    base = 1.0 / ((np.abs(np.cos(t)) / a) ** p + (np.abs(np.sin(t)) / b) ** p) ** (1.0 / p)
    mod = (
        1.0
        + 0.06 * np.sin(2 * t + ph[0])
        + 0.045 * np.sin(3 * t + ph[1])
        + 0.03 * np.sin(5 * t + ph[2])
        + 0.015 * np.sin(11 * t + ph[3])
        + rng.uniform(-0.01, 0.01, n)
    )
    r = base * mod
    return np.column_stack([r * np.cos(t), r * np.sin(t)])


def _intervals(lo: float, hi: float, cuts: list[float], half: float) -> list[tuple[float, float]]:
    edges = [lo]
    for c in cuts:
        edges += [c - half, c + half]
    edges.append(hi)
    return [(edges[2 * i], edges[2 * i + 1]) for i in range(len(cuts) + 1)]


def _extend(seg: np.ndarray, by: float) -> np.ndarray:
    """Lengthen a polyline at both ends along its end segments."""
    seg = seg.copy()
    d0 = seg[0] - seg[1]
    d1 = seg[-1] - seg[-2]
    seg[0] = seg[0] + by * d0 / np.hypot(*d0)
    seg[-1] = seg[-1] + by * d1 / np.hypot(*d1)
    return seg


def _split_region(
    region: Polygon, rng: np.random.Generator, out: list[np.ndarray], depth: int
) -> None:
    """Recursively cut ``region`` into compounds with zero-width divider lines.

    Each divider is clipped to the region and lengthened by ``OVERSHOOT`` at both ends, so it
    crosses the region's border (an alley or road edge, the outline, or an earlier divider) and
    is noded there; the 2 m overshoot is a dangle that ``polygonize`` drops.
    """
    target = float(rng.uniform(100000.0, 230000.0))
    x0, y0, x1, y1 = region.bounds
    w, h = x1 - x0, y1 - y0
    if region.area <= target or depth >= 5:
        rect = region.area / (w * h) > 0.999
        if rect and region.area > 50000.0 and rng.random() < 0.3:
            o = OVERSHOOT
            x = x0 + float(rng.uniform(0.4, 0.6)) * w
            y = y0 + float(rng.uniform(0.4, 0.6)) * h
            ex, ey = (x0 - o, x1 + o)[int(rng.integers(2))], (y0 - o, y1 + o)[int(rng.integers(2))]
            out.append(np.array([[x, ey], [x, y], [ex, y]]))  # carves an L out of the block
        return
    t = float(rng.uniform(0.38, 0.62))
    slant = 0.08 if depth == 0 else 0.03
    if w >= h:
        s = float(rng.uniform(-slant, slant)) * w
        x = x0 + t * w
        line = LineString([(x - s, y0 - 60.0), (x + s, y1 + 60.0)])
    else:
        s = float(rng.uniform(-slant, slant)) * h
        y = y0 + t * h
        line = LineString([(x0 - 60.0, y - s), (x1 + 60.0, y + s)])
    for piece in shapely.get_parts(line.intersection(region)):
        if piece.geom_type == "LineString" and piece.length > 1.0:
            out.append(_extend(shapely.get_coordinates(piece), OVERSHOOT))
    children = [g for g in shapely.get_parts(split(region, line)) if g.area > 1.0]
    for child in sorted(children, key=lambda g: (g.bounds[0], g.bounds[1])):
        _split_region(child, rng, out, depth + 1)


def _dividers(sb: SubBlock, outline_poly: Polygon, rng: np.random.Generator) -> list[np.ndarray]:
    """Zero-width lines that split one sub-block into compounds."""
    if sb.special is not None or sb.inside_area < 30000.0:
        return []
    region = box(sb.u0, sb.v0, sb.u1, sb.v1).intersection(outline_poly)
    out: list[np.ndarray] = []
    for part in shapely.get_parts(region):
        if part.geom_type == "Polygon" and part.area > 30000.0:
            _split_region(part, rng, out, 0)
    return out


def _pick_nearest(cands: list[SubBlock], target: tuple[float, float]) -> SubBlock:
    return min(cands, key=lambda s: (math.dist(s.center, target), s.key))


def build_layout(rng: np.random.Generator) -> Layout:
    us = [round(u + float(rng.uniform(-40.0, 40.0)), 1) for u in U_BASE]
    vs = [round(v + float(rng.uniform(-40.0, 40.0)), 1) for v in V_BASE]
    outline = _make_outline(rng)
    outline_poly = Polygon(outline)
    river_phase = (float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0, 2 * np.pi)))
    lay = Layout(us, vs, outline, river_phase, {}, {}, None, [])

    ncol, nrow = len(us) + 1, len(vs) + 1
    for c in range(ncol):
        ulo = -FAR_U if c == 0 else us[c - 1] + ROAD_HALF
        uhi = FAR_U if c == ncol - 1 else us[c] - ROAD_HALF
        for r in range(nrow):
            vlo = -FAR_V if r == 0 else vs[r - 1] + ROAD_HALF
            vhi = FAR_V if r == nrow - 1 else vs[r] - ROAD_HALF
            inter = box(ulo, vlo, uhi, vhi).intersection(outline_poly)
            blk = Block(c, r, ulo, uhi, vlo, vhi)
            lay.blocks[(c, r)] = blk
            if inter.area < 1.0:
                continue
            eb = inter.bounds
            w, h = eb[2] - eb[0], eb[3] - eb[1]
            n_va = 0 if w < 380 else (1 if w < 1000 else 2)
            for k in range(n_va):
                step = w / (n_va + 1)
                blk.valleys.append(eb[0] + step * (k + 1) + float(rng.uniform(-0.1, 0.1)) * step)
            if r != RIVER_ROW and h >= 420 and rng.random() < 0.5:
                b = eb[1] + h / 2.0 + float(rng.uniform(-0.1, 0.1)) * h / 2.0
                if n_va and rng.random() < 0.7:  # T-junction: the alley serves one sub-column
                    k = int(rng.integers(n_va + 1))
                    blk.halleys.append((b, k, k))
                else:
                    blk.halleys.append((b, 0, n_va))
            for si, (a0, a1) in enumerate(_intervals(ulo, uhi, blk.valleys, ALLEY_HALF)):
                for sj, (b0, b1) in enumerate(_intervals(vlo, vhi, blk.hcuts(si), ALLEY_HALF)):
                    rect = box(a0, b0, a1, b1)
                    part = rect.intersection(outline_poly)
                    if part.area < 1.0:
                        continue
                    sb = SubBlock(
                        c,
                        r,
                        si,
                        sj,
                        a0,
                        a1,
                        b0,
                        b1,
                        part.area,
                        part.bounds,
                        rect.buffer(25.0).within(outline_poly),
                    )
                    lay.subblocks[sb.key] = sb

    _choose_specials(lay, rng)

    # ---- lines ----
    lines = lay.lines
    lines.append(np.vstack([outline, outline[:1]]))
    for u in us:
        for d in (-ROAD_HALF, ROAD_HALF):
            lines.append(np.array([[u + d, -FAR_V], [u + d, FAR_V]]))
        for v in vs:  # split each N-S corridor at the E-W road centre lines
            lines.append(np.array([[u - ROAD_HALF - OVERSHOOT, v], [u + ROAD_HALF + OVERSHOOT, v]]))
    for v in vs:
        for d in (-ROAD_HALF, ROAD_HALF):
            lines.append(np.array([[-FAR_U, v + d], [FAR_U, v + d]]))
    uu = np.arange(-FAR_U, FAR_U + 1e-9, 10.0)
    rv = lay.river(uu)
    lines.append(np.column_stack([uu, rv - RIVER_HALF]))
    lines.append(np.column_stack([uu, rv + RIVER_HALF]))
    for (_c, _r), blk in sorted(lay.blocks.items()):
        for a in blk.valleys:
            for d in (-ALLEY_HALF, ALLEY_HALF):
                lines.append(np.array([[a + d, blk.v0 - OVERSHOOT], [a + d, blk.v1 + OVERSHOOT]]))
        for b, k0, k1 in blk.halleys:
            lo, hi = blk.column_span(k0, k1)
            for d in (-ALLEY_HALF, ALLEY_HALF):
                lines.append(np.array([[lo - OVERSHOOT, b + d], [hi + OVERSHOOT, b + d]]))
    for _key, sb in sorted(lay.subblocks.items()):
        lines.extend(_dividers(sb, outline_poly, rng))
    if lay.square is not None:
        a0, b0, a1, b1 = lay.square
        lines.append(np.array([[a0, b0], [a1, b0], [a1, b1], [a0, b1], [a0, b0]]))
    return lay


def _choose_specials(lay: Layout, rng: np.random.Generator) -> None:
    sbs = [lay.subblocks[k] for k in sorted(lay.subblocks)]

    def free_inside() -> list[SubBlock]:
        return [s for s in sbs if s.fully_inside and s.special is None and s.r != RIVER_ROW]

    _pick_nearest(free_inside(), (-300.0, -100.0)).special = "park"
    hole = _pick_nearest([s for s in free_inside() if s.inside_area < 160000.0], (-750.0, 650.0))
    hole.special = "hole"
    cu, cv = hole.center
    lay.square = (cu - 30.0, cv - 22.0, cu + 30.0, cv + 22.0)

    # urban villages: on the outskirts, spread around the compass
    cands = [
        s
        for s in sbs
        if s.special is None
        and not s.fully_inside
        and s.r != RIVER_ROW
        and 45000.0 <= s.inside_area <= 260000.0
    ]
    offset = float(rng.uniform(0, 2 * np.pi))
    for k in range(N_URBAN_VILLAGES):
        target = offset + 2 * np.pi * k / N_URBAN_VILLAGES
        free = [s for s in cands if s.special is None]

        def angdist(s: SubBlock, target: float = target) -> tuple[float, tuple[int, ...]]:
            ang = math.atan2(s.center[1], s.center[0])
            d = abs((ang - target + np.pi) % (2 * np.pi) - np.pi)
            return (d, s.key)

        min(free, key=angdist).special = "uv"
