"""Problems one at a time: adding them, their assignment, status and fields, events, photos.

Every write to a problem records an event in its history (``problem_events``); status changes
are audited too.  Reading many problems at once (filters, frames, points, change tokens) is in
:mod:`geoapp.store.problem_queries`.  A mixin of :class:`geoapp.store.Transaction`.
"""

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import NotFound, StoreError
from geoapp.store.plumbing import (
    _CHUNK,
    _CONV,
    _INSERT_BATCH,
    TransactionBase,
    _chunks,
    _json,
    _now,
    _short,
)

#: The fields of a problem's assignment.  All None means unassigned.
ASSIGNMENT_FIELDS = (
    "generation_id",
    "district_id",
    "area_id",
    "responsible_unit_id",
    "lead_unit_id",
    "rule_id",
)
#: Problem fields a caller may give to :meth:`Transaction.add_problems`.
PROBLEM_INPUT_FIELDS = frozenset(
    c.name for c in S.problems.columns if c.name not in {"id", "created_at", "updated_at"}
)
#: Problem fields :meth:`Transaction.update_problem` may change.
PROBLEM_EDIT_FIELDS = frozenset(
    {
        "round",
        "category",
        "description",
        "deduction",
        "reporter",
        "lon",
        "lat",
        "source_crs",
        "source_x",
        "source_y",
        "duplicate_of",
    }
)
DEFAULT_STATUS = "open"
_PROBLEM_INPUT_CONV = {
    **{k: v for k, v in _CONV["problems"].items() if k in PROBLEM_INPUT_FIELDS},
    "rectified_at": V.to_datetime,  # not a column: recorded as a "status" event
}
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _plain_texts(values: list) -> bool:
    """Whether every value is text a database can store (no NUL, no lone surrogate): one
    pass in C over them all (joining fails on anything but text)."""
    try:
        return _BAD_TEXT.search("\x01".join(values)) is None
    except TypeError:
        return False


#: Statuses of a closed problem (rectified, possibly verified since).
CLOSED_STATUSES = frozenset({"rectified", "verified"})


def _check_rectified_at(where: str, row: Mapping[str, Any], rectified_at: datetime | None):
    """A rectification time belongs to a closed problem and cannot precede its report."""
    if rectified_at is None:
        return
    if row.get("status") not in CLOSED_STATUSES:
        raise StoreError(
            N_(
                "%(where)s: rectified_at is given but the status is %(status)r (only a rectified or verified problem has a rectification time)"
            ),
            where=where,
            status=row.get("status"),
        )
    reported = row.get("reported_at")
    if isinstance(reported, datetime) and rectified_at < reported:
        raise StoreError(
            N_("%(where)s: rectified_at %(rectified_at)s is before reported_at %(reported_at)s"),
            where=where,
            rectified_at=rectified_at.isoformat(),
            reported_at=reported.isoformat(),
        )


class Problems(TransactionBase):
    """Adding and changing problems, their events and photos."""

    # ------------------------------------------------------------------ problems

    def add_problems(
        self, rows: Iterable[Mapping[str, Any]], *, actor: str | None = None
    ) -> list[int]:
        """Insert problems; returns their new ids (``id``, the internal key), in input order.

        Each row may carry every problem field except id/created_at/updated_at: problem_id
        (external id, unique; generated when missing), round, category, description,
        deduction (default 0), reported_at (aware datetime or ISO text with offset; default
        now), status (default "open"), reporter, lon, lat (WGS84), source_crs, source_x,
        source_y, the assignment (generation_id, district_id, area_id, responsible_unit_id,
        lead_unit_id, rule_id) and duplicate_of.  Records a "created" event per problem and an
        "assigned" event when area_id is set; ``actor`` (default: the reporter) is the events'
        actor.  A problem_id already stored or repeated in ``rows`` is a StoreError naming it.

        ``rectified_at`` (optional, not a column) is when a problem that arrives closed
        (rectified or verified) was rectified, e.g. from an imported spreadsheet: it is
        recorded as a "status" event to ``rectified`` at that time (``{"before": null,
        "after": "rectified", "imported": true}``), which is where :meth:`rectified_times`
        and so the ledger's on-time figures read it.  Given on an open problem, or earlier
        than ``reported_at``, it is a StoreError naming the problem.
        """
        if isinstance(rows, pd.DataFrame):
            rows = rows.to_dict("records")
        now = _now()
        convs = _PROBLEM_INPUT_CONV
        cols = [c.name for c in S.problems.columns if c.name != "id"]
        prepared: list[dict[str, Any]] = []
        rectified: list[datetime | None] = []
        seen: set[str] = set()
        for i, row in enumerate(rows, start=1):
            label = row.get("problem_id") if isinstance(row, Mapping) else None
            where = f"problem {label!r}" if label is not None else f"problem row {i}"
            r = V.coerce_row(row, convs, where=where)
            rectified.append(r.pop("rectified_at", None))
            if r.get("problem_id") is None:
                r["problem_id"] = f"P-{uuid.uuid4().hex[:16]}"
            elif r["problem_id"] in seen:
                raise StoreError(
                    N_("duplicate problem_id %(problem_id)r in the input"),
                    problem_id=r["problem_id"],
                )
            seen.add(r["problem_id"])
            if r.get("deduction") is None:
                r["deduction"] = 0.0
            if r.get("status") is None:
                r["status"] = DEFAULT_STATUS
            if r.get("reported_at") is None:
                r["reported_at"] = now
            r["created_at"] = r["updated_at"] = now
            _check_rectified_at(where, r, rectified[-1])
            prepared.append({c: r.get(c) for c in cols})
        if not prepared:
            return []
        dup = self._existing(S.problems.c.problem_id, seen)
        if dup:
            raise StoreError(N_("problem_id already stored: %(short)s"), short=_short(sorted(dup)))
        self._check_problem_refs(prepared)
        self._insert_many(S.problems, prepared)
        id_of = self._ids_by_key(S.problems.c.problem_id, [r["problem_id"] for r in prepared])
        ids = [id_of[r["problem_id"]] for r in prepared]
        events = []
        for pk, r, done in zip(ids, prepared, rectified, strict=True):
            who = actor if actor is not None else r["reporter"]
            created = _json({"problem_id": r["problem_id"]})
            events.append(
                {"problem_pk": pk, "at": now, "actor": who, "kind": "created", "detail": created}
            )
            if r["area_id"] is not None:
                assigned = _json({f: r[f] for f in ASSIGNMENT_FIELDS})
                events.append(
                    {
                        "problem_pk": pk,
                        "at": now,
                        "actor": who,
                        "kind": "assigned",
                        "detail": assigned,
                    }
                )
            if done is not None:  # after the others: history lists events in this order
                events.append(
                    {
                        "problem_pk": pk,
                        "at": done,
                        "actor": who,
                        "kind": "status",
                        "detail": _json({"before": None, "after": "rectified", "imported": True}),
                    }
                )
        self._insert_many(S.problem_events, events)
        return ids

    def existing_problem_ids(self, problem_ids: Iterable[str]) -> set[str]:
        """Which of these external problem_ids are already stored (e.g. to skip re-imports)."""
        keys = list(problem_ids)
        if not _plain_texts(keys):  # else each as to_text would give it back
            keys = [V.convert(p, V.to_text, "problem", "problem_id") for p in keys]
        return self._existing(S.problems.c.problem_id, keys)

    def _check_problem_refs(self, rows: Sequence[Mapping[str, Any]]) -> None:
        def problem(r: Mapping[str, Any]) -> str:
            return f"problem {r['problem_id']!r}"

        for column, field, what in (
            (S.generations.c.id, "generation_id", "generation"),
            (S.districts.c.district_id, "district_id", "district"),
            (S.areas.c.area_id, "area_id", "area"),
            (S.units.c.unit_id, "responsible_unit_id", "responsible unit"),
            (S.units.c.unit_id, "lead_unit_id", "lead unit"),
            (S.problems.c.id, "duplicate_of", "problem id (duplicate_of)"),
        ):
            self._check_refs(column, rows, field, what, problem)

    def get_problem(self, problem_pk: int, *, for_update: bool = False) -> dict[str, Any]:
        """One problem by its internal id; raises NotFound.  ``for_update`` locks its row
        until the transaction ends (PostgreSQL; SQLite serialises writers anyway), so a
        check-then-change (a status transition) cannot interleave with another."""
        pk = V.convert(problem_pk, V.to_int, "problem", "id")
        stmt = sa.select(S.problems).where(S.problems.c.id == pk)
        if for_update:
            stmt = stmt.with_for_update()
        rows = self._dicts(stmt)
        if not rows:
            raise NotFound(N_("unknown problem id %(problem_pk)r"), problem_pk=problem_pk)
        return rows[0]

    def update_assignment(
        self,
        problem_pk: int,
        assignment: Mapping[str, Any],
        actor: str | None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Change a problem's assignment; returns the updated problem.

        ``assignment`` holds any of generation_id, district_id, area_id, responsible_unit_id,
        lead_unit_id, rule_id; fields not given keep their value, None clears one.  Records a
        "reassigned" event whose detail is ``{"before": {...}, "after": {...}}`` (all six
        fields) unless nothing changes.
        """
        self.update_assignments({problem_pk: assignment}, actor, note)
        return self.get_problem(problem_pk)

    def update_assignments(
        self,
        changes: Mapping[int, Mapping[str, Any]] | Iterable[tuple[int, Mapping[str, Any]]],
        actor: str | None,
        note: str | None = None,
    ) -> int:
        """Bulk :meth:`update_assignment`: ``{problem_pk: assignment}``.  Returns how many
        problems actually changed (and got a "reassigned" event)."""
        allowed = frozenset(ASSIGNMENT_FIELDS)
        convs = _CONV["problems"]
        wanted: dict[int, dict[str, Any]] = {}
        pairs = changes.items() if isinstance(changes, Mapping) else changes
        for pk, assignment in pairs:
            key = V.convert(pk, V.to_int, "problem", "id")
            wanted[key] = V.coerce_row(
                assignment, convs, where=f"assignment of problem {pk!r}", allowed=allowed
            )
        if not wanted:
            return 0
        p = S.problems
        before: dict[int, dict[str, Any]] = {}
        keys = sorted(wanted)
        for chunk in _chunks(keys, _CHUNK):
            for row in self._x(
                sa.select(p.c.id, p.c.problem_id, *(p.c[f] for f in ASSIGNMENT_FIELDS)).where(
                    p.c.id.in_(chunk)
                )
            ):
                before[row.id] = dict(row._mapping)
        missing = [k for k in keys if k not in before]
        if missing:
            raise NotFound(N_("unknown problem id %(short)s"), short=_short(missing))
        now = _now()
        updates, events = [], []
        for pk in keys:
            old = {f: before[pk][f] for f in ASSIGNMENT_FIELDS}
            new = {**old, **wanted[pk]}
            if new == old:
                continue
            updates.append({"_pk": pk, "_now": now, **{f"_{f}": new[f] for f in ASSIGNMENT_FIELDS}})
            events.append(
                {
                    "problem_pk": pk,
                    "at": now,
                    "actor": V.convert(actor, V.to_text, "event", "actor"),
                    "kind": "reassigned",
                    "detail": _json({"before": old, "after": new}),
                    "note": V.convert(note, V.to_text, "event", "note"),
                }
            )
        if not updates:
            return 0
        labels = {pk: before[pk]["problem_id"] for pk in keys}
        refs = [
            {"problem_id": labels[u["_pk"]], **{f: u[f"_{f}"] for f in ASSIGNMENT_FIELDS}}
            for u in updates
        ]
        self._check_problem_refs(refs)
        stmt = (
            sa.update(p)
            .where(p.c.id == sa.bindparam("_pk"))
            .values(
                updated_at=sa.bindparam("_now", type_=S.UTCDateTime()),
                **{f: sa.bindparam(f"_{f}", type_=p.c[f].type) for f in ASSIGNMENT_FIELDS},
            )
        )
        for batch in _chunks(updates, _INSERT_BATCH):
            self._x(stmt, list(batch))
        self._insert_many(S.problem_events, events)
        return len(updates)

    def set_problem_status(
        self, problem_pk: int, status: str, actor: str | None, note: str | None = None
    ) -> dict[str, Any]:
        """Change a problem's status (e.g. to "rectified"), recording a "status" event with
        before/after.  Returns the updated problem."""
        old = self.get_problem(problem_pk)
        status = V.convert(status, V.to_text, "problem", "status")
        if not status:
            raise StoreError(N_("status is required"))
        if status != old["status"]:
            now = _now()
            self._x(
                sa.update(S.problems)
                .where(S.problems.c.id == old["id"])
                .values(status=status, updated_at=now)
            )
            self.add_event(
                old["id"],
                "status",
                actor,
                {"before": old["status"], "after": status},
                note,
                at=now,
            )
            # every status change is audited here, whichever use case makes it
            self.add_audit(
                actor,
                "problem.status",
                f"problem:{old['problem_id']}",
                {"status": old["status"]},
                {"status": status, "note": note},
            )
        return self.get_problem(old["id"])

    def add_event(
        self,
        problem_pk: int,
        kind: str,
        actor: str | None,
        detail: Mapping[str, Any] | None = None,
        note: str | None = None,
        *,
        at: datetime | None = None,
    ) -> int:
        """Append an event to a problem's history (e.g. "rectification_reported"); returns its id."""
        pk = self.get_problem(problem_pk)["id"]
        kind = V.convert(kind, V.to_text, "event", "kind")
        if not kind:
            raise StoreError(N_("event kind is required"))
        return self._x(
            sa.insert(S.problem_events)
            .values(
                problem_pk=pk,
                at=V.convert(at, V.to_datetime, "event", "at") or _now(),
                actor=V.convert(actor, V.to_text, "event", "actor"),
                kind=kind,
                detail=None if detail is None else _json(dict(detail)),
                note=V.convert(note, V.to_text, "event", "note"),
            )
            .returning(S.problem_events.c.id)
        ).scalar_one()

    def problem_events(self, problem_pk: int) -> list[dict[str, Any]]:
        """A problem's history, oldest first: dicts with id, problem_pk, at, actor, kind,
        detail (parsed JSON, or None) and note.  Raises NotFound for an unknown problem."""
        pk = self.get_problem(problem_pk)["id"]
        e = S.problem_events
        rows = self._dicts(sa.select(e).where(e.c.problem_pk == pk).order_by(e.c.id))
        for row in rows:
            if row["detail"] is not None:
                row["detail"] = json.loads(row["detail"])
        return rows

    def update_problem(
        self,
        problem_pk: int,
        fields: Mapping[str, Any],
        actor: str | None,
        note: str | None = None,
        *,
        kind: str = "edited",
    ) -> dict[str, Any]:
        """Change a problem's own fields (not its assignment nor its status); returns the
        updated problem.

        ``fields`` holds any of :data:`PROBLEM_EDIT_FIELDS`.  Records one event of ``kind``
        (default "edited") whose detail is ``{"before": {...}, "after": {...}}`` naming only
        the fields that changed; nothing is written when nothing changes.
        """
        old = self.get_problem(problem_pk)
        row = V.coerce_row(
            fields,
            _CONV["problems"],
            where=f"problem {old['problem_id']!r}",
            allowed=PROBLEM_EDIT_FIELDS,
        )
        changed = {k: v for k, v in row.items() if old[k] != v}
        if not changed:
            return old
        if changed.get("duplicate_of") is not None:
            if changed["duplicate_of"] == old["id"]:
                raise StoreError(
                    N_("problem %(problem_id)r cannot duplicate itself"),
                    problem_id=old["problem_id"],
                )
            self._check_problem_refs([{"problem_id": old["problem_id"], **changed}])
        now = _now()
        self._x(
            sa.update(S.problems)
            .where(S.problems.c.id == old["id"])
            .values(updated_at=now, **changed)
        )
        self.add_event(
            old["id"],
            kind,
            actor,
            {"before": {k: old[k] for k in changed}, "after": changed},
            note,
            at=now,
        )
        return self.get_problem(old["id"])

    def add_photo(self, problem_pk: int, photo: Mapping[str, Any], actor: str | None) -> int:
        """Record a photo file of a problem (stored_name, content_type, size_bytes, sha256,
        original_name); records a "photo_added" event.  Returns the photo's id."""
        pk = self.get_problem(problem_pk)["id"]
        row = V.coerce_row(
            photo,
            _CONV["problem_photos"],
            where="photo",
            allowed=frozenset(
                {"stored_name", "content_type", "size_bytes", "sha256", "original_name"}
            ),
            required=("stored_name", "content_type", "size_bytes", "sha256"),
        )
        now = _now()
        photo_id = self._x(
            sa.insert(S.problem_photos)
            .values(problem_pk=pk, uploaded_at=now, uploaded_by=actor, **row)
            .returning(S.problem_photos.c.id)
        ).scalar_one()
        self.add_event(
            pk,
            "photo_added",
            actor,
            {"photo": photo_id, "content_type": row["content_type"], "bytes": row["size_bytes"]},
            at=now,
        )
        return photo_id

    def problem_photos(self, problem_pk: int) -> list[dict[str, Any]]:
        """A problem's photos, oldest first (every column of problem_photos)."""
        pk = self.get_problem(problem_pk)["id"]
        ph = S.problem_photos
        return self._dicts(sa.select(ph).where(ph.c.problem_pk == pk).order_by(ph.c.id))

    def problems_duplicating(self, problem_pk: int) -> list[dict[str, Any]]:
        """The problems linked to this one as their original (``duplicate_of``): id and
        problem_id, by id."""
        p = S.problems
        pk = V.convert(problem_pk, V.to_int, "problem", "id")
        return self._dicts(
            sa.select(p.c.id, p.c.problem_id).where(p.c.duplicate_of == pk).order_by(p.c.id)
        )

    def get_photo(self, photo_id: int) -> dict[str, Any]:
        """One photo record by id; raises NotFound."""
        pid = V.convert(photo_id, V.to_int, "photo", "id")
        rows = self._dicts(sa.select(S.problem_photos).where(S.problem_photos.c.id == pid))
        if not rows:
            raise NotFound(N_("unknown photo id %(photo_id)r"), photo_id=photo_id)
        return rows[0]
