"""Import a boundary set (the contracted areas) from a file: read and validate it and compare
it with the current generation (:func:`plan_area_import`, an :class:`AreaPlan`), then
publish it as a new generation and re-assign the open problems it moves
(:func:`commit_area_import`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from geoapp.core.assignment import Zoning
from geoapp.core.messages import N_
from geoapp.core.zoning import Finding, check_areas, diff_areas
from geoapp.io.boundaries import read_areas
from geoapp.services import coverage
from geoapp.services.audit import audit
from geoapp.services.errors import ServiceError
from geoapp.services.mapping import remember_zoning

if TYPE_CHECKING:  # geopandas is slow to import; only types need it here
    import geopandas as gpd


@dataclass
class AreaPlan:
    source: str
    areas: gpd.GeoDataFrame
    findings: list[Finding]
    changes: pd.DataFrame
    reassigned: int
    base_generation: int | None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    def summary(self) -> dict:
        counts = Counter(self.changes["change"]) if len(self.changes) else Counter()
        return {
            "source": self.source,
            "areas": len(self.areas),
            "base_generation": self.base_generation,
            "changes": dict(sorted(counts.items())),
            "errors": len(self.errors),
            "warnings": len(self.findings) - len(self.errors),
            "open_problems_reassigned": self.reassigned,
        }


def plan_area_import(store, path, data: bytes | None = None) -> AreaPlan:
    """Read and validate a boundary set; compare it with the current generation."""
    areas = read_areas(path, data=data)
    units = [u["unit_id"] for u in store.list_units()]
    districts = [d["district_id"] for d in store.list_districts()]
    findings = check_areas(areas, units, districts)
    current = store.current_generation()
    reassigned = 0
    if current is not None:
        old = store.areas(current["id"])
        if len(old) and _far_apart(old, areas):
            findings.append(
                Finding(
                    "error",
                    "elsewhere",
                    "the new boundaries do not even overlap the current county: is the file's CRS "
                    "right (coordinates in one CRS declared as another)?",
                )
            )
        changes = diff_areas(old, areas)
        if not any(f.level == "error" for f in findings):
            reassigned = len(
                _reassignments(
                    store, Zoning.build(areas, store.list_districts(), store.list_rules())
                )
            )
    else:
        changes = pd.DataFrame({"area_id": sorted(areas["area_id"]), "change": "added"})
    return AreaPlan(
        str(path), areas, findings, changes, reassigned, current["id"] if current else None
    )


def _far_apart(old, new) -> bool:
    """True when two boundary sets' bounding boxes do not even overlap."""
    a = old.total_bounds
    b = new.total_bounds
    return bool(a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def _reassignments(store, zoning: Zoning, statuses=("reported", "assigned", "rectifying")):
    """Open problems whose assignment would change under ``zoning``: (problem, new)."""
    problems = [p for p in store.problems({"status": list(statuses)})]
    if not problems:
        return []
    new = zoning.assign(
        [p["lon"] for p in problems],
        [p["lat"] for p in problems],
        [p["category"] for p in problems],
    )
    out = []
    for p, a in zip(problems, new.itertuples(index=False), strict=True):
        after = {
            "district_id": a.district_id,
            "area_id": a.area_id,
            "responsible_unit_id": a.responsible_unit_id,
            "lead_unit_id": a.lead_unit_id,
            "rule_id": a.rule,
        }
        if any(p.get(k) != v for k, v in after.items()):
            out.append((p, after))
    return out


def commit_area_import(store, plan: AreaPlan, author: str, message: str) -> dict:
    """Publish the boundary set as a new generation and re-assign open problems to it."""
    if plan.errors:
        raise ServiceError(
            N_("%(count)s error(s) in the boundary set; nothing was changed"),
            count=len(plan.errors),
        )
    zoning = Zoning.build(plan.areas, store.list_districts(), store.list_rules())
    moves = _reassignments(store, zoning)
    with store.transaction() as tx:
        gen = tx.create_generation(author, message)
        tx.put_area_versions(gen, plan.areas.drop(columns=["_where"], errors="ignore"))
        published = tx.publish_generation(gen, author, message)
        audit(
            tx,
            author,
            "areas.import",
            plan.source,
            {"generation": plan.base_generation},
            {"generation": gen, "areas": len(plan.areas), "reassigned": len(moves)},
        )
        if moves:
            tx.update_assignments(
                {problem["id"]: after | {"generation_id": gen} for problem, after in moves},
                author,
                f"boundary generation {gen} published: {message}",
            )
        zoning.generation = gen
        points = coverage.reassign_points(
            tx, zoning, author, f"boundary generation {gen} published: {message}"
        )
    remember_zoning(store, gen, zoning)
    return published | {"reassigned": len(moves), "points_reassigned": points}
