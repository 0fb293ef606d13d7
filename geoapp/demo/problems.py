"""The demo's problem points in two inspection rounds: inside areas by kind, on shared
vertices and edges and outside the county, with their categories, deductions, descriptions,
statuses and rectification times.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon

from geoapp.demo.areas import Area, _rings
from geoapp.demo.catalogue import (
    BORDER_CATEGORIES,
    CATEGORIES,
    CATEGORY_WEIGHTS,
    DEDUCTIONS,
    DESCRIPTIONS,
    KIND_PROBLEM_WEIGHT,
    LATE_SHARE,
    N_EDGE,
    N_OUTSIDE,
    N_VERTEX,
    OUTSIDE_CATEGORIES,
    PLACES,
    ROUNDS,
    STATUS_WEIGHTS,
    TZ,
)
from geoapp.demo.county import SCALE
from geoapp.demo.lonlat import _random_points_in, _round_ll
from geoapp.demo.units import _weighted_choice


def _make_problems(
    areas: list[Area],
    adj: list[dict[int, float]],
    county: Polygon,
    rng: np.random.Generator,
    tr: Transformer,
) -> list[dict[str, Any]]:
    n_areas = len(areas)
    near_market = {j for i, a in enumerate(areas) if a.kind == "market" for j in adj[i]}
    weights = np.array(
        [KIND_PROBLEM_WEIGHT[a.kind] * math.sqrt(a.geom.area / 1e4) for a in areas], dtype=float
    )
    weights /= weights.sum()
    lls = [a.ll for a in areas]
    tree = shapely.STRtree(np.array(lls, dtype=object))

    raw: list[dict[str, Any]] = []  # (round index, lon, lat, category, placement, kind)

    # ---- interior points, per round ----
    for r, (_name, _day, _ndays, n_int, _insp) in enumerate(ROUNDS):
        picks = rng.choice(n_areas, size=n_int, p=weights)
        counts = np.bincount(picks, minlength=n_areas)
        for i in range(n_areas):
            if counts[i] == 0:
                continue
            a = areas[i]
            xy = _random_points_in(a.geom, int(counts[i]), rng, margin=1.5)
            ll = _round_ll(xy, tr)
            cw = dict(CATEGORY_WEIGHTS[a.kind])
            if a.kind in ("main_road", "back_alley") and i in near_market:
                cw["market_tricycle_parking"] = 30
            for lon, lat in ll.tolist():
                raw.append(
                    {
                        "round": r,
                        "xy": (lon, lat),
                        "category": _weighted_choice(rng, cw),
                        "placement": "interior",
                        "place": a.kind,
                    }
                )

    # ---- points exactly on shared vertices ----
    vert_areas: dict[tuple[float, float], list[int]] = {}
    for i, g in enumerate(lls):
        for ring in _rings(g):
            for pt in set(map(tuple, ring[:-1].tolist())):
                vert_areas.setdefault(pt, []).append(i)
    shared = sorted(p for p, ids in vert_areas.items() if len(ids) >= 2)
    junctions = [p for p in shared if len(vert_areas[p]) >= 3]
    twos = [p for p in shared if len(vert_areas[p]) == 2]
    chosen_v = [junctions[k] for k in rng.choice(len(junctions), N_VERTEX // 2, replace=False)]
    chosen_v += [twos[k] for k in rng.choice(len(twos), N_VERTEX - len(chosen_v), replace=False)]
    for pt in sorted(chosen_v):
        raw.append({"xy": pt, "placement": "vertex"})

    # ---- points exactly on shared edges (integer lattice points of the 1e-7 grid) ----
    seg_areas: dict[tuple[tuple[int, int], tuple[int, int]], list[int]] = {}
    for i, g in enumerate(lls):
        for ring in _rings(g):
            ints = np.rint(ring * SCALE).astype(np.int64).tolist()
            for p, q in zip(ints[:-1], ints[1:], strict=True):
                key = (tuple(p), tuple(q)) if tuple(p) < tuple(q) else (tuple(q), tuple(p))
                seg_areas.setdefault(key, []).append(i)
    segs = sorted(k for k, ids in seg_areas.items() if len(ids) == 2)
    edge_pts: list[tuple[float, float]] = []
    used_pairs: set[tuple[int, int]] = set()
    for k in rng.permutation(len(segs)).tolist():
        (ax, ay), (bx, by) = segs[k]
        dx, dy = bx - ax, by - ay
        g = math.gcd(abs(dx), abs(dy))
        if g < 2:
            continue
        pair = tuple(sorted(seg_areas[segs[k]]))
        if pair in used_pairs:
            continue
        m = int(rng.integers(1, g))
        pt = ((ax + m * dx // g) / SCALE, (ay + m * dy // g) / SCALE)
        p = Point(pt)
        if all(lls[i].covers(p) for i in pair):
            edge_pts.append(pt)
            used_pairs.add(pair)
            if len(edge_pts) == N_EDGE:
                break
    if len(edge_pts) < N_EDGE:
        raise RuntimeError(f"only {len(edge_pts)} exact edge points found")
    for pt in sorted(edge_pts):
        raw.append({"xy": pt, "placement": "edge"})

    # ---- points a few hundred metres outside the county ----
    county_utm = shapely.union_all([a.geom for a in areas])
    x0, y0, x1, y1 = county_utm.bounds
    outside: list[tuple[float, float]] = []
    while len(outside) < N_OUTSIDE:
        xs = rng.uniform(x0 - 700, x1 + 700, 256)
        ys = rng.uniform(y0 - 700, y1 + 700, 256)
        d = shapely.distance(county_utm, shapely.points(xs, ys))
        ok = (d > 80) & (d < 600)
        for lon, lat in _round_ll(np.column_stack([xs[ok], ys[ok]]), tr).tolist():
            if not county.covers(Point(lon, lat)) and len(outside) < N_OUTSIDE:
                outside.append((lon, lat))
    for pt in outside:
        raw.append({"xy": pt, "placement": "outside"})

    # ---- attributes ----
    problems: list[dict[str, Any]] = []
    for seq, item in enumerate(raw):
        placement = item["placement"]
        if placement == "interior":
            r, cat, place = item["round"], item["category"], item["place"]
        else:
            r = 0 if rng.random() < 0.55 else 1
            if placement == "outside":
                cat, place = _weighted_choice(rng, OUTSIDE_CATEGORIES), "outside"
            else:
                cat, place = _weighted_choice(rng, BORDER_CATEGORIES), "border"
        rname, (yy, mm, dd), ndays, _n, inspectors = ROUNDS[r]
        start = datetime(yy, mm, dd, 8, 30, tzinfo=TZ)
        when = start + timedelta(days=int(rng.integers(ndays)), minutes=int(rng.integers(9 * 60)))
        values, probs = DEDUCTIONS.get(cat, DEDUCTIONS["default"])
        deduction = float(values[int(rng.choice(len(values), p=probs))])
        text = DESCRIPTIONS[cat][int(rng.integers(len(DESCRIPTIONS[cat])))]
        if rng.random() < 0.6:
            places = PLACES[place]
            text = places[int(rng.integers(len(places)))] + text
        problems.append(
            {
                "seq": seq,
                "xy": item["xy"],
                "round": rname,
                "category": cat,
                "description": text,
                "deduction": deduction,
                "reported_at": when,
                "status": _weighted_choice(rng, STATUS_WEIGHTS[rname]),
                "reporter": inspectors[int(rng.integers(len(inspectors)))],
                "placement": placement,
            }
        )
    problems.sort(key=lambda p: (p["reported_at"], p["seq"]))

    # sanity: interior points in exactly one area, border points in >= 2, outside in none
    pts = shapely.points([p["xy"] for p in problems])
    hit_pt, _hit_area = tree.query(pts, predicate="covered_by")
    hits = np.bincount(hit_pt, minlength=len(problems))
    for p, h in zip(problems, hits.tolist(), strict=True):
        want_ok = {
            "interior": h == 1,
            "vertex": h >= 2,
            "edge": h >= 2,
            "outside": h == 0,
        }[p["placement"]]
        if not want_ok:
            raise RuntimeError(f"{p['placement']} point {p['xy']} covered by {h} areas")
    return problems


def _add_rectification_times(problems: list[dict[str, Any]], rng: np.random.Generator) -> None:
    """When each closed (rectified or verified) problem was rectified: most within their
    category's deadline, :data:`LATE_SHARE` of them after it; None for open problems.

    Its own random stream, so adding it left every other demo value as it was."""
    hours = {c[0]: c[3] for c in CATEGORIES}
    for p in problems:
        p["rectified_at"] = None
        if p["status"] not in ("rectified", "verified"):
            continue
        limit = hours.get(p["category"]) or 72
        share = rng.uniform(1.05, 2.5) if rng.random() < LATE_SHARE else rng.uniform(0.1, 0.95)
        p["rectified_at"] = p["reported_at"] + timedelta(minutes=round(limit * 60 * share))
