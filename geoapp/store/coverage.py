"""Inspection visits, patrol check-ins and the coverage counts, all counted in SQL.

A visit is one inspection of a point in a round (clean or with problems, the problems linked
by ``inspection_visit_problems``); a check-in is a unit's patrol of one of its areas.  Both
carry the phone's ``client_id`` (unique: a retry gets the stored row back).  The counts per
point, unit or district follow :mod:`geoapp.core.coverage`: the latest visit of a point in
the round decides whether it is clean; deductions are those of the problems the round's
visits found (a duplicate counts 0, as in the ledger).  A mixin of
:class:`geoapp.store.Transaction`.
"""

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from geoapp.core.coverage import VISIT_RESULTS
from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import NotFound, StoreError
from geoapp.store.plumbing import _CONV, TransactionBase, _now

VISIT_FIELDS = frozenset(
    {
        "point_pk",
        "round",
        "visited_at",
        "local_date",
        "inspector",
        "result",
        "note",
        "lon",
        "lat",
        "location_accuracy_m",
        "client_id",
        "photo_name",
    }
)
CHECKIN_FIELDS = frozenset(
    {
        "client_id",
        "unit_id",
        "area_id",
        "account",
        "checked_at",
        "local_date",
        "lon",
        "lat",
        "accuracy_m",
        "distance_m",
        "photo_name",
        "note",
    }
)
#: The filters of the coverage counts: on the points' assignment and kind.
COVERAGE_FILTERS = frozenset({"district_id", "responsible_unit_id", "lead_unit_id", "kind"})
COVERAGE_GROUPS = {"unit": "responsible_unit_id", "district": "district_id"}


class CoverageRecords(TransactionBase):
    """Visits, check-ins and coverage counts (mixed into ``Transaction``)."""

    # ------------------------------------------------------------------ visits

    def add_visit(self, row: Mapping[str, Any], problem_pks: Iterable[int] = ()) -> int:
        """Record a visit and link the problems it found; returns the visit id."""
        r = V.coerce_row(
            row,
            _CONV["inspection_visits"],
            where="visit",
            allowed=VISIT_FIELDS,
            required=("point_pk", "round", "visited_at", "local_date", "result"),
        )
        if r["result"] not in VISIT_RESULTS:
            raise StoreError(
                N_("a visit's result is clean or problems, not %(value)r"), value=r["result"]
            )
        self.get_inspection_point(r["point_pk"])  # type: ignore[attr-defined]
        vid = self._x(
            sa.insert(S.inspection_visits)
            .values(created_at=_now(), **r)
            .returning(S.inspection_visits.c.id)
        ).scalar_one()
        self.link_visit_problems(vid, problem_pks)
        return vid

    def link_visit_problems(self, visit_id: int, problem_pks: Iterable[int]) -> None:
        rows = [{"visit_id": int(visit_id), "problem_pk": int(pk)} for pk in problem_pks]
        if rows:
            self._insert_many(S.inspection_visit_problems, rows)

    def get_visit(self, visit_id: int) -> dict[str, Any]:
        rows = self._visit_rows(S.inspection_visits.c.id == int(visit_id))
        if not rows:
            raise NotFound(N_("unknown visit %(visit)r"), visit=visit_id)
        return rows[0]

    def visit_by_client_id(self, client_id: str) -> dict[str, Any] | None:
        key = V.convert(client_id, V.to_text, "visit", "client_id")
        rows = self._visit_rows(S.inspection_visits.c.client_id == key)
        return rows[0] if rows else None

    def visits(
        self, round_: str | None = None, filters: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Visits (of the points matching ``filters``) in a round, oldest first, each with
        the point's code, name, kind and assignment and its ``problem_pks``."""
        v = S.inspection_visits
        clauses = [*self._coverage_where(filters)]
        if round_ is not None:
            clauses.append(v.c.round == round_)
        return self._visit_rows(*clauses)

    def _visit_rows(self, *clauses: Any) -> list[dict[str, Any]]:
        v, ip, link = S.inspection_visits, S.inspection_points, S.inspection_visit_problems
        stmt = (
            sa.select(
                v,
                ip.c.point_id,
                ip.c.name.label("point_name"),
                ip.c.kind,
                ip.c.district_id,
                ip.c.area_id,
                ip.c.responsible_unit_id,
                ip.c.lead_unit_id,
            )
            .join(ip, ip.c.id == v.c.point_pk)
            .where(*clauses)
            .order_by(v.c.visited_at, v.c.id)
        )
        rows = self._dicts(stmt)
        ids = [r["id"] for r in rows]
        linked: dict[int, list[int]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for vid, pk in self._x(
                sa.select(link.c.visit_id, link.c.problem_pk)
                .where(link.c.visit_id.in_(chunk))
                .order_by(link.c.problem_pk)
            ):
                linked.setdefault(vid, []).append(pk)
        for r in rows:
            r["problem_pks"] = linked.get(r["id"], [])
        return rows

    def visit_rounds(self) -> list[str]:
        """The rounds visits were recorded in, the round of the latest visit first."""
        v = S.inspection_visits
        stmt = (
            sa.select(v.c.round, sa.func.max(v.c.visited_at).label("last"))
            .group_by(v.c.round)
            .order_by(sa.desc("last"), v.c.round)
        )
        return [r[0] for r in self._x(stmt)]

    # ------------------------------------------------------------------ check-ins

    def _checkin_values(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return V.coerce_row(
            row,
            _CONV["patrol_checkins"],
            where="check-in",
            allowed=CHECKIN_FIELDS,
            required=(
                "client_id",
                "unit_id",
                "area_id",
                "checked_at",
                "local_date",
                "lon",
                "lat",
                "distance_m",
            ),
        )

    def _check_checkin_refs(self, rows: list[dict[str, Any]]) -> None:
        def where(_: Mapping[str, Any]) -> str:
            return "check-in"

        self._check_refs(S.units.c.unit_id, rows, "unit_id", "unit", where)
        self._check_refs(S.areas.c.area_id, rows, "area_id", "area", where)

    def add_checkin(self, row: Mapping[str, Any]) -> int:
        """Record a patrol check-in (already accepted by the caller); returns its id."""
        r = self._checkin_values(row)
        self._check_checkin_refs([r])
        return self._x(
            sa.insert(S.patrol_checkins)
            .values(created_at=_now(), **r)
            .returning(S.patrol_checkins.c.id)
        ).scalar_one()

    def add_checkins(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Record many check-ins (a county's history, loaded at once) with the checks of
        :meth:`add_checkin` on every row: the units and areas they name are looked up once
        for all of them, and they are inserted together.  Returns how many were added."""
        values = [self._checkin_values(row) for row in rows]
        self._check_checkin_refs(values)
        now = _now()
        by_fields: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for r in values:
            by_fields.setdefault(tuple(sorted(r)), []).append({**r, "created_at": now})
        for group in by_fields.values():
            self._insert_many(S.patrol_checkins, group)
        return len(values)

    def checkin_by_client_id(self, client_id: str) -> dict[str, Any] | None:
        c = S.patrol_checkins
        key = V.convert(client_id, V.to_text, "check-in", "client_id")
        rows = self._dicts(sa.select(c).where(c.c.client_id == key))
        return rows[0] if rows else None

    def checkin_by_id(self, checkin_id: int) -> dict[str, Any] | None:
        c = S.patrol_checkins
        rows = self._dicts(sa.select(c).where(c.c.id == int(checkin_id)))
        return rows[0] if rows else None

    def checkins(
        self,
        unit_id: str | list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[dict[str, Any]]:
        """Check-ins, oldest first; dates are Beijing dates (YYYY-MM-DD), both inclusive."""
        c = S.patrol_checkins
        stmt = sa.select(c).where(*self._checkin_where(unit_id, date_from, date_to))
        return self._dicts(stmt.order_by(c.c.checked_at, c.c.id))

    def _checkin_where(self, unit_id: Any, date_from: Any, date_to: Any) -> list[Any]:
        c = S.patrol_checkins
        clauses: list[Any] = []
        if isinstance(unit_id, list | tuple | set):
            clauses.append(c.c.unit_id.in_([str(u) for u in unit_id]))
        elif unit_id is not None:
            clauses.append(c.c.unit_id == str(unit_id))
        if date_from is not None:
            clauses.append(c.c.local_date >= str(date_from))
        if date_to is not None:
            clauses.append(c.c.local_date <= str(date_to))
        return clauses

    def patrol_days(
        self,
        unit_id: str | list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[dict[str, Any]]:
        """Per (unit, area) checked in: ``days`` (distinct Beijing dates with a check-in),
        ``checkins`` and ``last_date``, counted in SQL."""
        c = S.patrol_checkins
        stmt = (
            sa.select(
                c.c.unit_id,
                c.c.area_id,
                sa.func.count(sa.distinct(c.c.local_date)).label("days"),
                sa.func.count().label("checkins"),
                sa.func.max(c.c.local_date).label("last_date"),
            )
            .where(*self._checkin_where(unit_id, date_from, date_to))
            .group_by(c.c.unit_id, c.c.area_id)
            .order_by(c.c.unit_id, c.c.area_id)
        )
        return self._dicts(stmt)

    # ------------------------------------------------------------------ coverage counts

    def _coverage_where(self, filters: Mapping[str, Any] | None) -> list[Any]:
        ip = S.inspection_points
        clauses: list[Any] = []
        for key, value in (filters or {}).items():
            if key not in COVERAGE_FILTERS:
                raise StoreError(N_("unknown coverage filter %(value)r"), value=key)
            if value is None:
                continue
            if isinstance(value, list | tuple | set | frozenset):
                clauses.append(ip.c[key].in_([str(x) for x in value]))
            else:
                clauses.append(ip.c[key] == str(value))
        return clauses

    def _point_counts(self, round_: str | None, filters: Mapping[str, Any] | None) -> Any:
        """A subquery: one row per point matching ``filters`` with its round figures."""
        ip, v = S.inspection_points, S.inspection_visits
        link, p = S.inspection_visit_problems, S.problems
        visit_clauses = [] if round_ is None else [v.c.round == round_]
        ordered = (
            sa.select(
                v.c.point_pk,
                v.c.result,
                v.c.local_date,
                sa.func.row_number()
                .over(partition_by=v.c.point_pk, order_by=(v.c.visited_at.desc(), v.c.id.desc()))
                .label("nth"),
                sa.func.count().over(partition_by=v.c.point_pk).label("visits"),
            )
            .where(*visit_clauses)
            .subquery("ordered")
        )
        latest = sa.select(ordered).where(ordered.c.nth == 1).subquery("latest")
        found = (
            sa.select(
                v.c.point_pk,
                sa.func.count(p.c.id).label("problems"),
                sa.func.sum(sa.case((p.c.duplicate_of.is_(None), p.c.deduction), else_=0.0)).label(
                    "deduction"
                ),
            )
            .join(link, link.c.visit_id == v.c.id)
            .join(p, p.c.id == link.c.problem_pk)
            .where(*visit_clauses)
            .group_by(v.c.point_pk)
            .subquery("found")
        )
        return (
            sa.select(
                ip.c.id.label("point_pk"),
                ip.c.point_id,
                ip.c.name,
                ip.c.kind,
                ip.c.lon,
                ip.c.lat,
                ip.c.district_id,
                ip.c.area_id,
                ip.c.responsible_unit_id,
                ip.c.lead_unit_id,
                sa.case((latest.c.point_pk.is_(None), 0), else_=1).label("inspected"),
                sa.case((latest.c.result == "clean", 1), else_=0).label("clean"),
                sa.func.coalesce(latest.c.visits, 0).label("visits"),
                latest.c.result.label("result"),
                latest.c.local_date.label("last_visit_date"),
                sa.func.coalesce(found.c.problems, 0).label("problems"),
                sa.func.coalesce(found.c.deduction, 0.0).label("deduction"),
            )
            .select_from(ip)
            .outerjoin(latest, latest.c.point_pk == ip.c.id)
            .outerjoin(found, found.c.point_pk == ip.c.id)
            .where(*self._coverage_where(filters))
        ).subquery("points")

    def coverage_points(
        self, round_: str | None, filters: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Per point: inspected (0/1), clean (0/1: its latest visit in the round was
        clean), visits, result, last_visit_date, problems and deduction found in the round."""
        sub = self._point_counts(round_, filters)
        return self._dicts(sa.select(sub).order_by(sub.c.point_id))

    def coverage_counts(
        self, round_: str | None, filters: Mapping[str, Any] | None = None, group: str = "unit"
    ) -> list[dict[str, Any]]:
        """Per unit (responsible) or district: ``id``, registered, inspected, clean,
        problems, deduction, counted in SQL (points outside every area under id None)."""
        if group not in COVERAGE_GROUPS:
            raise StoreError(N_("unknown coverage group %(value)r"), value=group)
        sub = self._point_counts(round_, filters)
        key = sub.c[COVERAGE_GROUPS[group]]
        stmt = (
            sa.select(
                key.label("id"),
                sa.func.count().label("registered"),
                sa.func.sum(sub.c.inspected).label("inspected"),
                sa.func.sum(sub.c.clean).label("clean"),
                sa.func.sum(sub.c.problems).label("problems"),
                sa.func.sum(sub.c.deduction).label("deduction"),
            )
            .group_by(key)
            .order_by(key)
        )
        rows = self._dicts(stmt)
        for r in rows:
            for k in ("registered", "inspected", "clean", "problems"):
                r[k] = int(r[k] or 0)
            r["deduction"] = float(r["deduction"] or 0.0)
        return rows
