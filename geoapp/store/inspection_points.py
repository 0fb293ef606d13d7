"""The register of inspection points (受检点): add, edit, read, re-assign, with history.

A point's assignment (generation, district, area, responsible and lead unit) is computed by
the caller with the same spatial assignment as problems (the services do it), stored on the
point, and changed by :meth:`InspectionPoints.reassign_inspection_points` when boundaries
are published; every registration, edit and re-assignment is a row of
``inspection_point_history`` (``{"before": ..., "after": ...}``).  A mixin of
:class:`geoapp.store.Transaction`.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import shapely
import sqlalchemy as sa

from geoapp.core.coverage import POINT_KINDS, is_point_kind
from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import NotFound, StoreError
from geoapp.store.plumbing import _CONV, TransactionBase, _json, _now

#: The assignment fields of a point (as of problems, without the rule).
POINT_ASSIGNMENT = (
    "generation_id",
    "district_id",
    "area_id",
    "responsible_unit_id",
    "lead_unit_id",
)
#: Fields a caller may set on a point.
POINT_FIELDS = ("point_id", "name", "kind", "lon", "lat", "source_crs", "note", *POINT_ASSIGNMENT)
#: Equality filters of :meth:`InspectionPoints.inspection_points`.
POINT_FILTERS = frozenset(
    {"kind", "district_id", "area_id", "responsible_unit_id", "lead_unit_id", "point_id"}
)


def _point_row(row: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Coerce a caller's point row; ``geometry`` (shapely) becomes ``geom_wkb``."""
    geometry = row.get("geometry")
    data = {k: v for k, v in row.items() if k != "geometry"}
    out = V.coerce_row(
        data, _CONV["inspection_points"], where=where, allowed=frozenset(POINT_FIELDS)
    )
    if "kind" in out and not is_point_kind(out["kind"]):
        raise StoreError(
            N_("%(where)s: kind %(kind)r is not one of %(names)s"),
            where=where,
            kind=out["kind"],
            names=", ".join(POINT_KINDS),
        )
    if geometry is not None:
        if not isinstance(geometry, shapely.Geometry) or geometry.is_empty:
            raise StoreError(N_("%(where)s: the geometry is empty or not a shape"), where=where)
        out["geom_wkb"] = shapely.to_wkb(geometry, output_dimension=2)
    return out


class InspectionPoints(TransactionBase):
    """The register of inspection points (mixed into ``Transaction``)."""

    def _check_point_refs(self, rows: Sequence[Mapping[str, Any]]) -> None:
        def point(r: Mapping[str, Any]) -> str:
            return f"inspection point {r.get('point_id')!r}"

        self._check_refs(S.districts.c.district_id, rows, "district_id", "district", point)
        self._check_refs(S.areas.c.area_id, rows, "area_id", "area", point)
        for field in ("responsible_unit_id", "lead_unit_id"):
            self._check_refs(S.units.c.unit_id, rows, field, "unit", point)
        self._check_refs(S.generations.c.id, rows, "generation_id", "generation", point)

    def add_inspection_points(
        self, rows: Iterable[Mapping[str, Any]], actor: str | None
    ) -> list[int]:
        """Register points: rows with point_id, name, kind, lon, lat (the point assignment
        uses), geometry (shapely; default the point), source_crs, note and the assignment.
        Refused when a point_id is already registered.  Returns the new ids in order."""
        prepared = []
        for i, row in enumerate(rows, start=1):
            where = f"inspection point {row.get('point_id', f'row {i}')!r}"
            r = _point_row(row, where)
            for field in ("point_id", "name", "kind", "lon", "lat"):
                if r.get(field) is None:
                    raise StoreError(
                        N_("%(where)s: %(field)s is required"), where=where, field=field
                    )
            r.setdefault("geom_wkb", shapely.to_wkb(shapely.Point(r["lon"], r["lat"])))
            prepared.append(r)
        ids = [r["point_id"] for r in prepared]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise StoreError(
                N_("inspection point %(value)r appears more than once in the input"),
                value=dupes[0],
            )
        taken = self._existing(S.inspection_points.c.point_id, ids)
        if taken:
            raise StoreError(
                N_("inspection point %(value)r is already registered"), value=sorted(taken)[0]
            )
        self._check_point_refs(prepared)
        now = _now()
        out = []
        for r in prepared:
            pk = self._x(
                sa.insert(S.inspection_points)
                .values(created_at=now, updated_at=now, **r)
                .returning(S.inspection_points.c.id)
            ).scalar_one()
            out.append(pk)
        self._insert_many(
            S.inspection_point_history,
            [
                {
                    "point_pk": pk,
                    "at": now,
                    "actor": V.convert(actor, V.to_text, "history", "actor"),
                    "kind": "registered",
                    "detail": _json({"after": _public(r)}),
                    "note": None,
                }
                for pk, r in zip(out, prepared, strict=True)
            ],
        )
        return out

    def update_inspection_point(
        self,
        point_pk: int,
        changes: Mapping[str, Any],
        actor: str | None,
        kind: str = "edited",
        note: str | None = None,
    ) -> dict[str, Any]:
        """Change fields of a point (and its geometry); recorded in its history unless
        nothing changed.  Returns the point."""
        before = self.get_inspection_point(point_pk)
        r = _point_row(changes, f"inspection point {before['point_id']!r}")
        for field in ("point_id", "name", "kind", "lon", "lat"):
            if field in r and r[field] is None:
                raise StoreError(
                    N_("%(where)s: %(field)s is required"),
                    where=f"inspection point {before['point_id']!r}",
                    field=field,
                )
        if r.get("point_id") not in (None, before["point_id"]) and self._existing(
            S.inspection_points.c.point_id, [r["point_id"]]
        ):
            raise StoreError(
                N_("inspection point %(value)r is already registered"), value=r["point_id"]
            )
        self._check_point_refs([{**before, **r}])
        old = {k: before[k] for k in r if k != "geom_wkb"}
        new = {k: r[k] for k in r if k != "geom_wkb"}
        shape = before.get("geometry")
        same_shape = "geom_wkb" not in r or (
            shape is not None and r["geom_wkb"] == shapely.to_wkb(shape, output_dimension=2)
        )
        if old == new and same_shape:  # (an empty change too)
            return before
        ip = S.inspection_points
        self._x(sa.update(ip).where(ip.c.id == before["id"]).values(updated_at=_now(), **r))
        self._add_point_history(before["id"], actor, kind, old, new, note)
        return self.get_inspection_point(before["id"])

    def reassign_inspection_points(
        self, changes: Mapping[int, Mapping[str, Any]], actor: str | None, note: str | None
    ) -> int:
        """Set new assignments ``{point_pk: assignment}`` (fields of :data:`POINT_ASSIGNMENT`),
        each recorded as a "reassigned" history row.  Returns how many changed."""
        done = 0
        for pk, assignment in changes.items():
            unknown = set(assignment) - set(POINT_ASSIGNMENT)
            if unknown:
                raise StoreError(N_("unknown assignment field %(value)r"), value=sorted(unknown)[0])
            before = self.get_inspection_point(pk)
            if all(before[k] == assignment[k] for k in assignment):
                continue
            self.update_inspection_point(pk, assignment, actor, "reassigned", note)
            done += 1
        return done

    def _add_point_history(
        self,
        point_pk: int,
        actor: str | None,
        kind: str,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
        note: str | None,
    ) -> None:
        self._x(
            sa.insert(S.inspection_point_history).values(
                point_pk=point_pk,
                at=_now(),
                actor=V.convert(actor, V.to_text, "history", "actor"),
                kind=kind,
                detail=_json({"before": dict(before), "after": dict(after)}),
                note=V.convert(note, V.to_text, "history", "note"),
            )
        )

    def get_inspection_point(self, point_pk: int) -> dict[str, Any]:
        """One point by its id (with ``geometry``).  Raises NotFound."""
        pk = V.convert(point_pk, V.to_int, "inspection point", "id")
        rows = self._dicts(sa.select(S.inspection_points).where(S.inspection_points.c.id == pk))
        if not rows:
            raise NotFound(N_("unknown inspection point %(point)r"), point=point_pk)
        return _with_geometry(rows[0])

    def inspection_point_by_code(self, point_id: str) -> dict[str, Any] | None:
        """The point registered as ``point_id``, or None."""
        rows = self.inspection_points({"point_id": point_id})
        return rows[0] if rows else None

    def inspection_points(self, filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Points matching equality filters (:data:`POINT_FILTERS`; a list means any of),
        sorted by point_id, with ``geometry``."""
        ip = S.inspection_points
        stmt = sa.select(ip).where(*self._point_where(filters)).order_by(ip.c.point_id)
        return [_with_geometry(r) for r in self._dicts(stmt)]

    def _point_where(self, filters: Mapping[str, Any] | None) -> list[Any]:
        ip = S.inspection_points
        clauses: list[Any] = []
        for key, value in (filters or {}).items():
            if key not in POINT_FILTERS:
                raise StoreError(N_("unknown inspection point filter %(value)r"), value=key)
            if value is None:
                continue
            if isinstance(value, list | tuple | set | frozenset):
                clauses.append(ip.c[key].in_([str(v) for v in value]))
            else:
                clauses.append(ip.c[key] == str(value))
        return clauses

    def inspection_point_history(self, point_pk: int) -> list[dict[str, Any]]:
        """A point's history, oldest first (``detail`` parsed)."""
        h = S.inspection_point_history
        rows = self._dicts(sa.select(h).where(h.c.point_pk == int(point_pk)).order_by(h.c.id))
        for row in rows:
            row["detail"] = json.loads(row["detail"]) if row["detail"] else None
        return rows


def _public(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "geom_wkb"}


def _with_geometry(row: dict[str, Any]) -> dict[str, Any]:
    row["geometry"] = shapely.from_wkb(row.pop("geom_wkb"))
    return row
