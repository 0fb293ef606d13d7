"""Boundary generations: drafts, their edit history, publishing.

A generation is a set of area versions; a draft can be edited (its area versions replaced,
each edit recorded for undo/redo) and published, after which it is read-only and the newest
published one is current.  The areas themselves are read in :mod:`geoapp.store.areas`.  A mixin
of :class:`geoapp.store.Transaction`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.areas import _area_rows
from geoapp.store.errors import NotFound, StaleVersion, StoreError
from geoapp.store.plumbing import TransactionBase, _json, _now

if TYPE_CHECKING:
    import geopandas as gpd


class Generations(TransactionBase):
    """Generations, drafts and their edit history."""

    # ------------------------------------------------------------------ generations

    def _generation_id(self, generation_id: Any) -> int:
        gid = V.convert(generation_id, V.to_int, "generation", "id")
        if gid is None:
            raise StoreError(N_("a generation id is required"))
        return int(gid)

    def _generation(self, generation_id: Any, *, for_update: bool = False) -> dict[str, Any]:
        gid = self._generation_id(generation_id)
        stmt = sa.select(S.generations).where(S.generations.c.id == gid)
        if for_update:
            stmt = stmt.with_for_update()
        rows = self._dicts(stmt)
        if not rows:
            raise NotFound(N_("unknown generation %(gid)s"), gid=gid)
        return rows[0]

    def _current_id(self) -> int | None:
        return self._x(sa.select(_current_id_query())).scalar_one()

    def _generation_for_read(self, generation_id: Any) -> int | None:
        """The generation to read: the given one (must exist) or the current one (or None)."""
        if generation_id is None:
            return self._current_id()
        return self._generation(generation_id)["id"]

    def _require_draft(self, generation_id: Any, expected_version: int | None) -> dict[str, Any]:
        gen = self._generation(generation_id, for_update=True)
        if gen["status"] != "draft":
            raise StoreError(
                N_(
                    "generation %(id)s is published and read-only; create a new draft from it (parent_id=%(id)s) to change boundaries"
                ),
                id=gen["id"],
            )
        if expected_version is not None and gen["version"] != expected_version:
            raise StaleVersion(
                N_(
                    "generation %(id)s is at version %(version)s, not %(expected_version)s: someone else changed it; reload and try again"
                ),
                id=gen["id"],
                version=gen["version"],
                expected_version=expected_version,
            )
        return gen

    def create_generation(
        self, author: str | None, message: str | None, parent_id: int | None = None
    ) -> int:
        """Start a draft generation, copying the area versions of ``parent_id`` if given.

        Returns the new generation id.
        """
        parent = None if parent_id is None else self._generation(parent_id)["id"]
        gid = self._x(
            sa.insert(S.generations)
            .values(
                status="draft",
                author=V.convert(author, V.to_text, "generation", "author"),
                message=V.convert(message, V.to_text, "generation", "message"),
                created_at=_now(),
                parent_id=parent,
                version=1,
            )
            .returning(S.generations.c.id)
        ).scalar_one()
        if parent is not None:
            av = S.area_versions
            cols = [c.name for c in av.columns if c.name != "generation_id"]
            self._x(
                sa.insert(av).from_select(
                    ["generation_id", *cols],
                    sa.select(sa.literal(gid, sa.Integer), *(av.c[c] for c in cols)).where(
                        av.c.generation_id == parent
                    ),
                )
            )
        return gid

    def put_area_versions(
        self,
        generation_id: int,
        areas: gpd.GeoDataFrame | Iterable[Mapping[str, Any]],
        *,
        expected_version: int | None = None,
    ) -> int:
        """Replace all area versions of a draft generation.

        ``areas`` is a GeoDataFrame (reprojected to EPSG:4326 if it has another CRS; no CRS
        means EPSG:4326) or rows of dicts, with area_id and name (required), kind,
        district_id, responsible_unit_id and geometry (a shapely geometry, stored in 2-D).
        Other columns are ignored.  Districts and units must exist.  New area_ids get a stable
        ``areas`` row.  Returns the number of areas stored.
        """
        gen = self._require_draft(generation_id, expected_version)
        gid = gen["id"]
        rows = _area_rows(areas)

        def area(r: Mapping[str, Any]) -> str:
            return f"area {r['area_id']!r}"

        self._check_refs(S.districts.c.district_id, rows, "district_id", "district", area)
        self._check_refs(S.units.c.unit_id, rows, "responsible_unit_id", "responsible unit", area)
        ids = [r["area_id"] for r in rows]
        known = self._existing(S.areas.c.area_id, ids)
        now = _now()
        new = [{"area_id": a, "created_at": now} for a in ids if a not in known]
        if new:
            self._insert_many(S.areas, new)
        self._x(sa.delete(S.area_versions).where(S.area_versions.c.generation_id == gid))
        if rows:
            self._insert_many(S.area_versions, [{"generation_id": gid, **r} for r in rows])
        self._x(
            sa.update(S.generations)
            .where(S.generations.c.id == gid)
            .values(version=S.generations.c.version + 1)
        )
        return len(rows)

    def publish_generation(
        self,
        generation_id: int,
        author: str | None,
        message: str | None,
        *,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Publish a draft; it becomes the current generation.  Returns the generation.

        Refused (StaleVersion) when another generation was published after this draft was
        created, so that a publish never silently undoes a redraw the draft did not see:
        create a new draft from this one (or from the current generation) and publish that.
        """
        self._lock_publishing()
        gen = self._require_draft(generation_id, expected_version)
        gid = gen["id"]
        g = S.generations
        later = self._x(
            sa.select(g.c.id)
            .where(g.c.status == "published")
            .where(sa.or_(g.c.published_at >= gen["created_at"], g.c.id > gid))
            .order_by(g.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if later is not None:
            raise StaleVersion(
                N_(
                    "generation %(later)s was published after draft %(gid)s was started; create a new draft (parent_id=%(gid)s to keep these boundaries) and publish that"
                ),
                later=later,
                gid=gid,
            )
        count = self._x(
            sa.select(sa.func.count())
            .select_from(S.area_versions)
            .where(S.area_versions.c.generation_id == gid)
        ).scalar_one()
        if not count:
            raise StoreError(
                N_("generation %(gid)s has no areas; put area versions before publishing"), gid=gid
            )
        previous = self._current_id()
        self._x(
            sa.update(g)
            .where(g.c.id == gid)
            .values(
                status="published",
                published_at=_now(),
                published_by=V.convert(author, V.to_text, "generation", "author"),
                publish_message=V.convert(message, V.to_text, "generation", "message"),
                version=g.c.version + 1,
            )
        )
        # every publish is audited here, whichever use case publishes
        self.add_audit(
            author,
            "generation.publish",
            f"generation:{gid}",
            {"current_generation": previous},
            {"current_generation": gid, "areas": count, "message": message},
        )
        return self.get_generation(gid)

    def delete_generation(self, generation_id: int) -> None:
        """Delete a draft generation and its area versions (published ones stay forever)."""
        gen = self._require_draft(generation_id, None)
        gid = gen["id"]
        used = self._x(
            sa.select(sa.func.count())
            .select_from(S.problems)
            .where(S.problems.c.generation_id == gid)
        ).scalar_one()
        if used:
            raise StoreError(
                N_("generation %(gid)s cannot be deleted: %(used)s problem(s) refer to it"),
                gid=gid,
                used=used,
            )
        # Drafts started from this one now descend from its parent.
        self._x(
            sa.update(S.generations)
            .where(S.generations.c.parent_id == gid)
            .values(parent_id=gen["parent_id"])
        )
        self._x(sa.delete(S.draft_edits).where(S.draft_edits.c.generation_id == gid))
        self._x(sa.delete(S.area_versions).where(S.area_versions.c.generation_id == gid))
        self._x(sa.delete(S.generations).where(S.generations.c.id == gid))

    # ------------------------------------------------------------------ draft edit history

    def add_draft_edit(
        self,
        generation_id: int,
        op: Mapping[str, Any],
        before: Sequence[Mapping[str, Any]],
        after: Sequence[Mapping[str, Any]],
        actor: str | None,
    ) -> int:
        """Record one edit of a draft (JSON-able ``op``, area rows before and after) on top
        of its undo stack, dropping the redo stack.  Returns the edit's id."""
        gid = self._generation(generation_id)["id"]
        e = S.draft_edits
        self._x(sa.delete(e).where(e.c.generation_id == gid).where(e.c.undone == 1))
        return self._x(
            sa.insert(e)
            .values(
                generation_id=gid,
                at=_now(),
                actor=V.convert(actor, V.to_text, "edit", "actor"),
                op=_json(dict(op)),
                before=_json(list(before)),
                after=_json(list(after)),
                undone=0,
            )
            .returning(e.c.id)
        ).scalar_one()

    def draft_edits(self, generation_id: int) -> list[dict[str, Any]]:
        """A draft's edits, oldest first: id, at, actor, op, before, after (parsed), undone."""
        gid = self._generation(generation_id)["id"]
        e = S.draft_edits
        rows = self._dicts(sa.select(e).where(e.c.generation_id == gid).order_by(e.c.id))
        for row in rows:
            for key in ("op", "before", "after"):
                row[key] = json.loads(row[key])
            row["undone"] = bool(row["undone"])
        return rows

    def set_draft_edit_undone(self, edit_id: int, undone: bool) -> None:
        """Move an edit between the undo stack (False) and the redo stack (True)."""
        e = S.draft_edits
        done = self._x(sa.update(e).where(e.c.id == int(edit_id)).values(undone=int(bool(undone))))
        if not done.rowcount:
            raise NotFound(N_("unknown draft edit %(edit_id)s"), edit_id=edit_id)

    def _generations(self, where: Any = None) -> list[dict[str, Any]]:
        """Generations (with ``where``) sorted by id, each with its area count and whether
        it is the current one, in one statement."""
        g, av = S.generations, S.area_versions
        count = (
            sa.select(sa.func.count())
            .select_from(av)
            .where(av.c.generation_id == g.c.id)
            .scalar_subquery()
            .label("area_count")
        )
        current = sa.func.coalesce(g.c.id == _current_id_query(), False).label("is_current")
        stmt = sa.select(g, count, current).order_by(g.c.id)
        rows = self._dicts(stmt if where is None else stmt.where(where))
        for row in rows:
            row["is_current"] = bool(row["is_current"])
        return rows

    def current_generation(self) -> dict[str, Any] | None:
        """The published generation with the highest id, or None before the first publish."""
        rows = self._generations(S.generations.c.id == _current_id_query())
        return rows[0] if rows else None

    def get_generation(self, generation_id: int) -> dict[str, Any]:
        """One generation: id, status, author, message, created_at, published_at,
        published_by, publish_message, parent_id, version, area_count, is_current.
        Raises NotFound."""
        gid = self._generation_id(generation_id)
        rows = self._generations(S.generations.c.id == gid)
        if not rows:
            raise NotFound(N_("unknown generation %(gid)s"), gid=gid)
        return rows[0]

    def list_generations(self) -> list[dict[str, Any]]:
        """All generations (drafts too), sorted by id."""
        return self._generations()


def _current_id_query() -> Any:
    """The id of the current generation (the published one with the highest id), as a
    scalar subquery (NULL before the first publish)."""
    g = S.generations
    return sa.select(sa.func.max(g.c.id)).where(g.c.status == "published").scalar_subquery()
