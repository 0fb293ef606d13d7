"""What an edit changes: which areas changed and how, whether an edit changes nothing, the
bounding box of the changes, which problems move to another area or unit, and the totals per
unit before and after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

import numpy as np
import shapely

from geoapp.core.editing.operations import ATTRIBUTES, Edit
from geoapp.core.editing.vertices import VERTEX_TOLERANCE


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
