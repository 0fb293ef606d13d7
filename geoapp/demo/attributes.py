"""What each area is and who answers for it: its kind and name (roads by segment, alleys,
compounds, markets, urban villages ...), the adjacency of areas, districts grown over that
adjacency, and the responsible unit of each area.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from geoapp.demo.areas import Area, _shared_lengths, _to_utm_line
from geoapp.demo.county import (
    ALLEY_NAMES,
    DISTRICTS,
    H_ROAD_NAMES,
    HOLE_INNER,
    HOLE_OUTER,
    MALL,
    MANAGED_SUFFIXES,
    MARKETS,
    MULTI_YARD,
    NAME_PREFIXES,
    OLD_ORGS,
    PARK,
    PROPERTY_COMPANIES,
    PUBLIC_SPACES,
    RESPONSIBLE_UNITS,
    RIVER_OWNER,
    RIVER_PARK,
    SPECIAL_ROLE,
    TOWN_GOVERNMENT,
    UNIT_YARDS,
    UV_BY_DIRECTION,
    UV_EXTRA,
    V_ROAD_NAMES,
)
from geoapp.demo.layout import Layout, Warp


def _seg_name_v(s: int) -> str:
    if s == 0:
        return f"{H_ROAD_NAMES[0]}以南段"
    if s == len(H_ROAD_NAMES):
        return f"{H_ROAD_NAMES[-1]}以北段"
    return f"{H_ROAD_NAMES[s - 1]}—{H_ROAD_NAMES[s]}段"


def _seg_name_h(s: int) -> str:
    if s == 0:
        return f"{V_ROAD_NAMES[0]}以西段"
    if s == len(V_ROAD_NAMES):
        return f"{V_ROAD_NAMES[-1]}以东段"
    return f"{V_ROAD_NAMES[s - 1]}—{V_ROAD_NAMES[s]}段"


def _part_suffixes(areas: list[Area], vertical: bool) -> list[str]:
    n = len(areas)
    if n == 1:
        return [""]
    if vertical:
        named = {2: ("北段", "南段"), 3: ("北段", "中段", "南段")}
    else:
        named = {2: ("西段", "东段"), 3: ("西段", "中段", "东段")}
    nums = "一二三四五六七八九"
    return list(named.get(n, tuple(f"{nums[k]}段" for k in range(n))))


class _Namer:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.prefixes = [NAME_PREFIXES[i] for i in rng.permutation(len(NAME_PREFIXES))]
        self.orgs = [OLD_ORGS[i] for i in rng.permutation(len(OLD_ORGS))]
        self.alleys = [ALLEY_NAMES[i] for i in rng.permutation(len(ALLEY_NAMES))]

    def take(self, name: str) -> str:
        if name in self.used:
            raise RuntimeError(f"duplicate name {name}")
        self.used.add(name)
        return name

    def alley(self) -> str:
        return self.alleys.pop(0)

    def _prefix(self) -> str:
        p = self.prefixes.pop(0)
        self.prefixes.append(p)
        return p

    def compound(self, kind: str) -> str:
        for _ in range(500):
            if kind == "compound_managed":
                suffix = MANAGED_SUFFIXES[int(self.rng.integers(len(MANAGED_SUFFIXES)))]
                name = f"{self._prefix()}{suffix}"
            elif kind == "compound_unmanaged":
                if self.orgs and self.rng.random() < 0.45:
                    name = f"县{self.orgs.pop(0)}宿舍(无物业)"
                else:
                    name = f"{self._prefix()}小区(无物业)"
            else:
                suffix = ("新村", "里", "坊")[int(self.rng.integers(3))]
                name = f"{self._prefix()}{suffix}(开放式小区)"
            if name not in self.used:
                return self.take(name)
        raise RuntimeError("ran out of compound names")


def _param_centroids(areas: list[Area], warp: Warp) -> np.ndarray:
    cents = shapely.centroid([a.geom for a in areas])
    return warp.inverse(np.column_stack([shapely.get_x(cents), shapely.get_y(cents)]))


def _compass(ang: float) -> str:
    """E/N/S/W for an angle in degrees (counter-clockwise from east)."""
    if -45 <= ang < 45:
        return "E"
    if 45 <= ang < 135:
        return "N"
    if -135 <= ang < -45:
        return "S"
    return "W"


def assign_kinds(areas: list[Area], lay: Layout, warp: Warp, rng: np.random.Generator) -> None:
    namer = _Namer(rng)
    pc = _param_centroids(areas, warp)
    outline_ring = _to_utm_line(lay.lines[0], warp)

    # --- roads, park segments, alleys (named per group, parts get a positional suffix) ---
    by_group: dict[tuple, list[int]] = {}
    for i, a in enumerate(areas):
        by_group.setdefault(a.group, []).append(i)
    for group, idx in by_group.items():
        fam = group[0]
        if fam not in ("vroad", "hroad", "river", "valley", "halley"):
            continue
        vertical = fam in ("vroad", "valley")
        order = sorted(idx, key=lambda i: -pc[i, 1] if vertical else pc[i, 0])
        suffixes = _part_suffixes([areas[i] for i in order], vertical)
        if fam == "vroad":
            base = f"{V_ROAD_NAMES[group[1]]}({_seg_name_v(group[2])})"
            kind, owner = "main_road", ""
        elif fam == "hroad":
            base = f"{H_ROAD_NAMES[group[1]]}({_seg_name_h(group[2])})"
            kind, owner = "main_road", ""
        elif fam == "river":
            base = f"{RIVER_PARK}({_seg_name_h(group[1])})"
            kind, owner = "public_space", RIVER_OWNER
        else:
            base = namer.alley()
            kind, owner = "back_alley", ""
        for i, suf in zip(order, suffixes, strict=True):
            areas[i].kind, areas[i].owner = kind, owner
            areas[i].name = namer.take(base + suf)

    # --- fixed specials ---
    uv_named: list[int] = []
    for i, a in enumerate(areas):
        if a.family == "multi":
            a.kind, a.owner, a.name = "unit_yard", MULTI_YARD[1], namer.take(MULTI_YARD[0])
        elif a.family == "square":
            a.kind, a.owner, a.name = "public_space", HOLE_INNER[1], namer.take(HOLE_INNER[0])
        elif a.special == "hole":
            a.kind, a.name = "compound_unmanaged", namer.take(HOLE_OUTER)
        elif a.special == "park":
            a.kind, a.owner, a.name = "public_space", PARK[1], namer.take(PARK[0])
        elif a.special == "uv":
            a.kind, a.owner = "urban_village", TOWN_GOVERNMENT
            uv_named.append(i)
    for i in sorted(uv_named, key=lambda k: (math.atan2(pc[k, 1], pc[k, 0]), k)):
        ang = math.degrees(math.atan2(pc[i, 1], pc[i, 0]))
        name = UV_BY_DIRECTION[_compass(ang)]
        if name in namer.used:
            name = next(n for n in UV_EXTRA if n not in namer.used)
        areas[i].name = namer.take(name)

    # --- plain parcels: named yards, markets, squares, then compounds ---
    plain = [i for i, a in enumerate(areas) if a.family == "parcel" and a.special is None]
    touches = {i for i in plain if areas[i].geom.intersection(outline_ring).length > 1.0}

    def eligible(i: int, lo: float = 8000.0, hi: float = 120000.0) -> bool:
        return not areas[i].kind and i not in touches and lo <= areas[i].geom.area <= hi

    def nearest(target: tuple[float, float], hi: float = 120000.0) -> int:
        cands = [i for i in plain if eligible(i, hi=hi)]
        return min(cands, key=lambda i: (math.dist(pc[i], target), i))

    for name, owner, target in UNIT_YARDS:
        if target is not None:
            i = nearest(target)
            areas[i].kind, areas[i].owner, areas[i].name = "unit_yard", owner, namer.take(name)
    i = nearest(MALL[2], hi=260000.0)
    areas[i].kind, areas[i].owner, areas[i].name = "market", MALL[1], namer.take(MALL[0])
    for name, owner, target in (*MARKETS, *PUBLIC_SPACES):
        i = nearest(target)
        kind = "market" if (name, owner, target) in MARKETS else "public_space"
        areas[i].kind, areas[i].owner, areas[i].name = kind, owner, namer.take(name)
    for name, owner, target in UNIT_YARDS:
        if target is None:
            cands = [i for i in plain if eligible(i, 8000.0, 90000.0)]
            i = cands[int(rng.integers(len(cands)))]
            areas[i].kind, areas[i].owner, areas[i].name = "unit_yard", owner, namer.take(name)

    for i in plain:
        a = areas[i]
        if a.kind:
            continue
        d = math.hypot(pc[i, 0] / 2450.0, pc[i, 1] / 1950.0)
        if d < 0.4:
            probs = {"compound_unmanaged": 0.45, "open_compound": 0.3, "compound_managed": 0.25}
        elif d < 0.75:
            probs = {"compound_managed": 0.45, "compound_unmanaged": 0.25, "open_compound": 0.3}
        else:
            probs = {"compound_managed": 0.5, "open_compound": 0.3, "compound_unmanaged": 0.2}
        kinds = list(probs)
        a.kind = kinds[int(rng.choice(len(kinds), p=list(probs.values())))]
        a.name = namer.compound(a.kind)


def adjacency(areas: list[Area]) -> list[dict[int, float]]:
    geoms = np.array([a.geom for a in areas], dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    adj: list[dict[int, float]] = [{} for _ in areas]
    mask = left < right
    left, right = left[mask], right[mask]
    lengths = shapely.length(
        shapely.intersection(shapely.boundary(geoms[left]), shapely.boundary(geoms[right]))
    )
    for i, j, ln in zip(left.tolist(), right.tolist(), lengths.tolist(), strict=True):
        if ln > 0.5:
            adj[i][j] = ln
            adj[j][i] = ln
    return adj


def assign_districts(areas: list[Area], adj: list[dict[int, float]], pc: np.ndarray) -> None:
    n = len(areas)
    # tie the two-part yard to the alley between its parts so the district stays contiguous
    group_of = list(range(n))
    multi = [i for i, a in enumerate(areas) if a.family == "multi"]
    for m in multi:
        parts = list(shapely.get_parts(areas[m].geom))
        for j in sorted(adj[m]):
            ok = all(_shared_lengths(p, [areas[j].geom])[0] > 0.5 for p in parts)
            if ok:
                group_of[j] = group_of[m]
                break
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(group_of[i], []).append(i)

    non_linear = [
        i
        for i, a in enumerate(areas)
        if a.kind not in ("main_road", "back_alley") and a.family != "river"
    ]
    seeds: list[int] = []
    for did, _name, _lead, target in DISTRICTS:
        if did == "D1":
            s = next(i for i, a in enumerate(areas) if a.name == UNIT_YARDS[0][0])
        elif did == "D7":
            s = next(i for i, a in enumerate(areas) if a.name == MALL[0])
        else:
            s = min(non_linear, key=lambda i, t=target: (math.dist(pc[i], t), i))
        seeds.append(group_of[s])
    if len(set(seeds)) != len(seeds):
        raise RuntimeError("district seeds collide")
    assign = [-1] * n
    totals = [0.0] * len(DISTRICTS)
    targets = [d[3] for d in DISTRICTS]
    for d, g in enumerate(seeds):
        for m in members[g]:
            assign[m] = d
            totals[d] += areas[m].geom.area
    while min(assign) < 0:
        for d in sorted(range(len(DISTRICTS)), key=lambda k: (totals[k], k)):
            frontier = {
                group_of[j] for i in range(n) if assign[i] == d for j in adj[i] if assign[j] < 0
            }
            if not frontier:
                continue
            g = min(
                frontier,
                key=lambda g: (min(math.dist(pc[m], targets[d]) for m in members[g]), g),
            )
            for m in members[g]:
                assign[m] = d
                totals[d] += areas[m].geom.area
            break
        else:
            raise RuntimeError("district growth stalled")
    for i, a in enumerate(areas):
        a.district = assign[i]
    for d in range(len(DISTRICTS)):
        union = shapely.union_all([a.geom for a in areas if a.district == d])
        if union.geom_type != "Polygon":
            raise RuntimeError(f"district {DISTRICTS[d][0]} is not contiguous")


def assign_owners(areas: list[Area], rng: np.random.Generator) -> dict[int, list[str]]:
    """Responsible units for roads, alleys and compounds; returns each district's unit pool."""
    pool = [u for u in RESPONSIBLE_UNITS if u not in SPECIAL_ROLE]
    pool = [pool[i] for i in rng.permutation(len(pool))]
    nd = len(DISTRICTS)
    pools: dict[int, list[str]] = {d: pool[d::nd] for d in range(nd)}
    for a in areas:
        if a.kind == "compound_managed" and not a.owner and rng.random() < 0.75:
            comps = [PROPERTY_COMPANIES[a.district % 4], PROPERTY_COMPANIES[(a.district + 1) % 4]]
            a.owner = comps[int(rng.integers(2))]
    for d in range(nd):
        idx = [i for i, a in enumerate(areas) if a.district == d and not areas[i].owner]
        if not idx:
            continue
        cents = shapely.centroid([areas[i].geom for i in idx])
        cx, cy = shapely.get_x(cents), shapely.get_y(cents)
        mx, my = float(np.mean(cx)), float(np.mean(cy))
        ang = np.arctan2(cy - my, cx - mx)
        order = [idx[k] for k in np.lexsort((np.array(idx), ang))]
        for k, chunk in enumerate(np.array_split(np.array(order), len(pools[d]))):
            for i in chunk.tolist():
                areas[i].owner = pools[d][k]
    return pools
