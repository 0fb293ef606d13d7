"""Reviewing a boundary set: its validation findings, the impact preview of publishing it
(which areas change, which problems would move to another unit, the units' new totals), and
the areas that differ between two generations.

The checks and the comparison are in :mod:`geoapp.core.editing` (pure); this module reads the
generations and the problems they concern from the store and writes nothing.
"""

from __future__ import annotations

import time

import numpy as np
import shapely
from shapely.geometry import mapping

from geoapp.core import editing
from geoapp.core.assignment import Zoning
from geoapp.core.model import OPEN_STATUSES
from geoapp.core.routing import as_rules
from geoapp.core.shapes import rfc7946
from geoapp.services.editor_areas import (
    county_outline,
    current_generation,
    features,
    generation_areas,
)

UPLOAD_ACTION = "draft.upload"


def _upload_findings(store, generation_id: int, areas: editing.Areas) -> list[editing.Problem]:
    """Errors the upload that made this draft left: rings the file did not close, for as
    long as the area keeps the shape read from the file (any edit of it confirms it)."""
    found = []
    for entry in store.audit_entries(1, action=UPLOAD_ACTION, target=f"generation:{generation_id}"):
        after = entry.get("after") or {}
        for ring in after.get("open_rings") or []:
            rec = areas.get(ring["area_id"])
            if rec is None or rec["geometry"] is None:
                continue
            read = shapely.from_wkb(ring["wkb"])
            if not shapely.equals_exact(rec["geometry"], read, 0.0):
                continue
            found.append(
                editing.Problem(
                    "error",
                    "open_ring",
                    f"area {ring['area_id']} ({ring['where']} of {after.get('file')}): "
                    f"{ring['problem']}; check that edge and edit the area to confirm its shape",
                    [ring["area_id"]],
                    geometry=mapping(rfc7946(rec["geometry"].envelope)),
                )
            )
    return found


# --- validation and impact --------------------------------------------------------------------
def validate_generation(store, generation_id: int, sliver_m2: float) -> dict:
    gen = store.get_generation(generation_id)
    areas = generation_areas(store, gen["id"], gen["version"])
    current = store.current_generation()
    county = None
    if current is not None and current["id"] != gen["id"]:
        county = county_outline(store, current["id"])
    found = editing.validate(
        areas,
        county,
        [u["unit_id"] for u in store.list_units()],
        [d["district_id"] for d in store.list_districts()],
        float(sliver_m2),
    )
    if gen["status"] == "draft":
        found = _upload_findings(store, gen["id"], areas) + found
    errors = sum(1 for f in found if f.level == "error")
    return {
        "generation": gen["id"],
        "version": gen["version"],
        "errors": errors,
        "warnings": len(found) - errors,
        "findings": [f.to_dict() for f in found],
    }


CANDIDATE_COLUMNS = (
    "problem_id",
    "category",
    "district_id",
    "area_id",
    "responsible_unit_id",
    "lead_unit_id",
    "rule_id",
)


def problem_moves(store, areas: editing.Areas, base: editing.Areas):
    """(area changes, [(problem, new assignment)] for the problems that would change).

    Only problems inside the old or new shape of a changed area can change: they are read
    (bounding box first, in the database; then the exact shapes) and re-assigned with an
    index of just the draft's areas around them, which gives the same answer as the whole
    draft's index since every area covering them is among those."""
    changes = editing.changed_areas(base, areas)
    bbox = editing.changed_bounds(base, areas, changes)
    if bbox is None:
        return changes, []
    pts = store.problem_points({"bbox": bbox}, extra=CANDIDATE_COLUMNS)
    if not len(pts["id"]):
        return changes, []
    touched = [side[a]["geometry"] for a in changes for side in (base, areas) if a in side]
    inside = np.zeros(len(pts["id"]), dtype=bool)
    for geom in touched:  # one by one: an invalid shape in a draft cannot be unioned
        if geom is not None:
            inside |= shapely.intersects_xy(geom, pts["lon"], pts["lat"])
    if not inside.any():
        return changes, []
    idx = np.flatnonzero(inside)
    lon, lat = pts["lon"][idx], pts["lat"][idx]
    box = shapely.box(*bbox)
    nearby = {
        a: r
        for a, r in areas.items()
        if r["geometry"] is not None and r["geometry"].intersects(box)
    }
    if nearby:
        zoning = _zoning(nearby, store.list_districts(), store.list_rules())
        result = zoning.assign(lon, lat, pts["category"][idx], use_grid=False)
        new = {k: result[k].to_numpy(dtype=object) for k in editing.ASSIGNMENT}
        new["rule_id"] = result["rule"].to_numpy(dtype=object)
    else:
        new = {k: np.full(len(idx), None, dtype=object) for k in (*editing.ASSIGNMENT, "rule_id")}
    differs = np.zeros(len(idx), dtype=bool)
    for k in editing.ASSIGNMENT:
        differs |= pts[k][idx] != new[k]
    keys = ("id", "lon", "lat", "status", "deduction", *CANDIDATE_COLUMNS)
    moves = []
    for j in np.flatnonzero(differs):
        i = idx[j]
        problem = {k: pts[k][i].item() if hasattr(pts[k][i], "item") else pts[k][i] for k in keys}
        moves.append((problem, {k: new[k][j] for k in new}))
    return changes, moves


def _zoning(areas: editing.Areas, districts, rules) -> Zoning:
    """An index of some areas, straight from records (no GeoDataFrame on the way)."""
    ids = sorted(areas)

    def column(name):
        return np.array([str(areas[a].get(name)) for a in ids], dtype=object)

    return Zoning(
        area_ids=np.array(ids, dtype=object),
        names=column("name"),
        kinds=column("kind"),
        district_ids=column("district_id"),
        unit_ids=column("responsible_unit_id"),
        geoms=np.array([areas[a]["geometry"] for a in ids], dtype=object),
        lead_units={str(d["district_id"]): d.get("lead_unit_id") for d in districts},
        rules=as_rules(rules),
    )


def preview(store, generation_id: int, reassign_closed: bool = False) -> dict:
    """What publishing this generation would change: areas, problems, unit totals."""
    start = time.perf_counter()
    gen = store.get_generation(generation_id)
    current = current_generation(store)
    areas = generation_areas(store, gen["id"], gen["version"])
    base = generation_areas(store, current["id"], current["version"])
    changes, moves = problem_moves(store, areas, base)
    applied = [(p, a) for p, a in moves if reassign_closed or p["status"] in OPEN_STATUSES]
    units = sorted(
        {p.get("responsible_unit_id") for p, a in applied}
        | {a.get("responsible_unit_id") for p, a in applied} - {None}
    )
    totals = store.problem_totals_by_unit(units) if units else {}
    names = {u["unit_id"]: u["name"] for u in store.list_units()}
    per_unit = editing.unit_totals(totals, applied)
    problems = [
        {
            "id": p["id"],
            "problem_id": p["problem_id"],
            "status": p["status"],
            "deduction": p["deduction"],
            "lon": p["lon"],
            "lat": p["lat"],
            "applies": reassign_closed or p["status"] in OPEN_STATUSES,
            "before": {k: p.get(k) for k in editing.ASSIGNMENT},
            "after": {k: a.get(k) for k in editing.ASSIGNMENT},
        }
        for p, a in moves
    ]
    return {
        "generation": gen["id"],
        "version": gen["version"],
        "against": current["id"],
        "changed_areas": [{"area_id": a, "change": c} for a, c in changes.items()],
        "problems": problems,
        "units": [{"unit_id": u, "name": names.get(u)} | row for u, row in per_unit.items()],
        "server_ms": round((time.perf_counter() - start) * 1000, 1),
    }


def compare(store, a: int, b: int) -> dict:
    """Areas that differ between generations ``a`` (before) and ``b`` (after)."""
    ga, gb = store.get_generation(a), store.get_generation(b)
    old = generation_areas(store, ga["id"], ga["version"])
    new = generation_areas(store, gb["id"], gb["version"])
    changes = editing.changed_areas(old, new)
    rows = []
    for aid, change in changes.items():
        before, after = old.get(aid), new.get(aid)
        rows.append(
            {
                "area_id": aid,
                "change": change,
                "before": None
                if before is None
                else {c: before.get(c) for c in editing.ATTRIBUTES},
                "after": None if after is None else {c: after.get(c) for c in editing.ATTRIBUTES},
            }
        )
    shown = {aid: (new.get(aid) or old[aid]) for aid in changes}
    return {
        "a": ga["id"],
        "b": gb["id"],
        "changes": rows,
        "features": features(shown, changes),
    }
