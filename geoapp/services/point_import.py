"""Import a register of inspection points (受检点) from a file, as the problem import does:
read and check the rows, work out what the import would do without writing
(:func:`plan_point_import`, a :class:`PointPlan` the CLI prints and the page previews), then
write it in one transaction (:func:`commit_point_import`).  Points already registered (by
their code) are skipped and counted; bad rows are listed and refuse the import unless told to
skip them.  Every point is assigned with the current generation (as a problem with no
category is).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from geoapp.core.coverage import POINT_KINDS, REGISTER_COLUMNS, point_kind
from geoapp.core.messages import N_
from geoapp.core.textcheck import text_fault
from geoapp.io.errors import BadRow, InputError
from geoapp.io.register import read_register
from geoapp.io.tables import find_column
from geoapp.services.audit import audit
from geoapp.services.coverage import anchor, assign_points
from geoapp.services.errors import ServiceError
from geoapp.services.mapping import zoning_for


@dataclass
class PointPlan:
    """What an import of inspection points would do."""

    source: str
    rows: list[dict]
    bad: list[BadRow]
    skipped_existing: list[str] = field(default_factory=list)
    generation: int | None = None

    def summary(self) -> dict:
        return {
            "source": self.source,
            "new": len(self.rows),
            "assigned": sum(1 for r in self.rows if r["area_id"] is not None),
            "unassigned_outside_county": sum(1 for r in self.rows if r["area_id"] is None),
            "bad_rows": len(self.bad),
            "already_in_store": len(self.skipped_existing),
            "generation": self.generation,
            "by_kind": dict(sorted(Counter(r["kind"] for r in self.rows).items())),
            "by_district": dict(
                sorted(Counter(r["district_id"] or "未分配" for r in self.rows).items())
            ),
        }


def _cell(frame, column, i) -> str | None:
    if column is None:
        return None
    value = frame[column].iloc[i]
    if value is None or value != value:  # None or NaN
        return None
    text = str(value).strip()
    return text or None


def register_rows(table) -> tuple[list[dict], list[BadRow]]:
    """Check the attribute columns of a register; return clean rows and bad ones."""
    frame = table.frame
    cols = {f: find_column(frame.columns, names) for f, names in REGISTER_COLUMNS.items()}
    for required in ("point_id", "name", "kind"):
        if cols[required] is None:
            raise InputError(
                N_("the file has no %(required)s column (named %(names)s)"),
                required=required,
                names="/".join(REGISTER_COLUMNS[required]),
            )
    bad_where = {b.where for b in table.bad}
    bad = list(table.bad)
    rows, seen = [], set()
    for i in range(len(frame)):
        where = table.where[i]
        if where in bad_where:
            continue
        values = {f: _cell(frame, c, i) for f, c in cols.items()}
        problems = []
        for f in ("point_id", "name"):
            if values[f] is None:
                problems.append((N_("%(field)s is empty"), {"field": f}))
        for f, text in values.items():
            fault = None if text is None else text_fault(text)
            if fault is not None:
                problems.append((N_("%(field)s: %(fault)s"), {"field": f, "fault": fault}))
        kind = point_kind(values["kind"])
        if kind is None:
            problems.append(
                (
                    N_("kind %(kind)r is not one of %(names)s"),
                    {"kind": values["kind"], "names": ", ".join(POINT_KINDS)},
                )
            )
        if values["point_id"] in seen:
            problems.append(
                (N_("point %(id)s appears twice in the file"), {"id": values["point_id"]})
            )
        if problems:
            bad.append(BadRow.of(where, *problems))
            continue
        seen.add(values["point_id"])
        shape = table.shapes[i]
        lon, lat = anchor(shape)
        rows.append(
            {
                "point_id": values["point_id"],
                "name": values["name"],
                "kind": kind,
                "note": values["note"],
                "geometry": shape,
                "lon": lon,
                "lat": lat,
                "source_crs": table.crs,
                "_where": where,
            }
        )
    return rows, bad


def plan_point_import(store, path, crs: str | None = None, data: bytes | None = None) -> PointPlan:
    """Read a register file and work out what importing it would do; writes nothing."""
    table = read_register(path, crs, data=data)
    rows, bad = register_rows(table)
    zoning = zoning_for(store)
    existing = {p["point_id"] for p in store.inspection_points()}
    fresh = [r for r in rows if r["point_id"] not in existing]
    skipped = [r["point_id"] for r in rows if r["point_id"] in existing]
    assign_points(zoning, fresh)
    return PointPlan(str(path), fresh, bad, skipped, zoning.generation)


def commit_point_import(store, plan: PointPlan, actor: str, allow_bad: bool = False) -> list[int]:
    """Register every row of a plan in one transaction; refuse if it has bad rows."""
    if plan.bad and not allow_bad:
        raise ServiceError(
            N_("%(count)s bad row(s): fix them, or skip them explicitly; nothing was imported"),
            count=len(plan.bad),
        )
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in plan.rows]
    with store.transaction() as tx:
        ids = tx.add_inspection_points(rows, actor)
        audit(
            tx,
            actor,
            "points.import",
            plan.source,
            None,
            {
                "added": len(ids),
                "skipped_bad": len(plan.bad),
                "skipped_existing": len(plan.skipped_existing),
            },
        )
        return ids
