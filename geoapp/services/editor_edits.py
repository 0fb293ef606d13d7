"""Applying the editor's operations to a draft: move a corner, reassign, split, merge, delete,
add an area; and undo/redo.

The geometry of each operation is in :mod:`geoapp.core.editing` (pure); this module checks the
request, runs the operation on the draft's records, and saves the new areas with the undo
record in one transaction, against the draft's ``version`` (a stale one is refused with
:class:`geoapp.services.editor.DraftConflict`).  An edit that changes nothing is refused with
:class:`Unchanged` and saves nothing.
"""

from __future__ import annotations

import binascii

import shapely

from geoapp.core import editing
from geoapp.core.messages import N_
from geoapp.services.editor import DraftConflict, check_version, draft_state, get_draft
from geoapp.services.editor_areas import area_rows, generation_areas
from geoapp.services.errors import ServiceError
from geoapp.store import StaleVersion

EDIT_TYPES = ("move_vertex", "reassign", "split", "merge", "delete", "add")


class Unchanged(ServiceError):
    """The edit would leave every area as it was: nothing is saved (no new version, no
    undo step), so the client can say so instead of "saved"."""

    status = 400


def _row_json(rec: dict | None) -> dict | None:
    if rec is None:
        return None
    return {c: rec.get(c) for c in editing.ATTRIBUTES} | {
        "wkb": shapely.to_wkb(rec["geometry"], hex=True)
    }


def _row_from_json(row: dict | None) -> dict | None:
    if row is None:
        return None
    rec = {c: row.get(c) for c in editing.ATTRIBUTES}
    rec["geometry"] = shapely.from_wkb(binascii.unhexlify(row["wkb"]))
    return rec


def _point(value, what: str):
    try:
        x, y = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ServiceError(N_("%(what)s must be [lon, lat]"), what=what) from None
    return (x, y)


def _run_op(store, areas: editing.Areas, op: dict) -> editing.Edit:
    kind = op.get("type")
    units = {u["unit_id"] for u in store.list_units()}
    districts = {d["district_id"] for d in store.list_districts()}

    def known(value, ids, what):
        if value is not None and value not in ids:
            raise ServiceError(N_("unknown %(what)s %(value)r"), what=what, value=value)
        return value

    if kind == "move_vertex":
        return editing.move_vertex(
            areas, _point(op.get("from"), "from"), _point(op.get("to"), "to")
        )
    if kind == "reassign":
        return editing.reassign(
            areas,
            str(op.get("area_id")),
            known(op.get("responsible_unit_id") or None, units, "unit"),
            known(op.get("district_id") or None, districts, "district"),
            op.get("name") or None,
        )
    if kind == "split":
        line = op.get("line")
        if not isinstance(line, list) or len(line) < 2:
            raise ServiceError(N_("split needs a line: a list of at least two [lon, lat]"))
        points = [_point(p, "a line point") for p in line]
        return editing.split(areas, str(op.get("area_id")), points)
    if kind == "merge":
        pair = (str(op.get("area_id")), str(op.get("other_id")))
        return editing.merge(areas, *pair, first_seen=store.first_generations(pair))
    if kind == "delete":
        return editing.delete(areas, str(op.get("area_id")), str(op.get("neighbour_id")))
    if kind == "add":
        ring = op.get("polygon")
        if not isinstance(ring, list) or len(ring) < 3:
            raise ServiceError(N_("add needs a polygon: a list of at least three [lon, lat]"))
        points = [_point(p, "a polygon point") for p in ring]
        area_id = str(op.get("area_id") or "").strip()
        if not area_id:
            n = len(areas) + 1
            while f"N{n:03d}" in areas:
                n += 1
            area_id = f"N{n:03d}"
        attrs = {
            "name": op.get("name") or area_id,
            "kind": op.get("kind") or None,
            "district_id": known(op.get("district_id") or None, districts, "district"),
            "responsible_unit_id": known(op.get("responsible_unit_id") or None, units, "unit"),
        }
        try:
            drawn = shapely.Polygon(points)
        except (ValueError, shapely.errors.GEOSException):
            raise ServiceError(N_("the polygon needs at least three different points")) from None
        if drawn.area == 0:
            raise ServiceError(N_("the polygon needs at least three different points"))
        return editing.add_area(areas, area_id, drawn, attrs)
    raise ServiceError(
        N_("unknown edit type %(kind)r (one of %(names)s)"), kind=kind, names=", ".join(EDIT_TYPES)
    )


def _save(store, gen: dict, new: editing.Areas, expected: int, write_history, op=None) -> None:
    try:
        with store.transaction() as tx:
            tx.put_area_versions(gen["id"], area_rows(new), expected_version=expected)
            write_history(tx)
    except StaleVersion:
        now = store.get_generation(gen["id"])
        raise DraftConflict(
            N_(
                "draft %(id)s was changed by someone else (now version %(version)s); reload it, your change was not saved and can be applied again"
            ),
            now["version"],
            op,
            id=gen["id"],
            version=now["version"],
        ) from None


def apply_edit(store, generation_id: int, op: dict, expected_version, actor) -> dict:
    """Apply one edit to a draft (saved with its undo record); returns the draft state."""
    if not isinstance(op, dict):
        raise ServiceError(N_("the edit must be a JSON object with a type"))
    gen = get_draft(store, generation_id)
    check_version(gen, expected_version, op)
    areas = generation_areas(store, gen["id"], gen["version"])
    try:
        edit = _run_op(store, areas, op)
    except editing.EditError as exc:
        raise ServiceError(N_("%(error)s"), error=exc) from None
    except (shapely.errors.GEOSException, ValueError) as exc:
        raise ServiceError(
            N_(
                "this edit cannot be done on these shapes (%(exc)s); fix the invalid geometry the validation shows first"
            ),
            exc=exc,
        ) from None
    if editing.changes_nothing(areas, edit):
        raise Unchanged(
            N_(
                "nothing changed: the %(operation)s edit leaves every area as it was (a corner dropped where it was, the unit or district it already has …); nothing was saved"
            ),
            operation=op.get("type"),
        )
    before = [{"area_id": a, "row": _row_json(areas.get(a))} for a in edit.changed]
    after = [{"area_id": a, "row": _row_json(edit.areas.get(a))} for a in edit.changed]
    _save(
        store,
        gen,
        edit.areas,
        gen["version"],
        lambda tx: tx.add_draft_edit(gen["id"], op, before, after, actor),
        op,
    )
    state = draft_state(store, gen["id"]) | {"changed": edit.changed}
    if edit.kept is not None:
        state["kept"] = edit.kept
    return state


def undo_redo(store, generation_id: int, expected_version, actor, redo: bool = False) -> dict:
    """Undo the last edit of a draft (or redo the last undone one)."""
    gen = get_draft(store, generation_id)
    check_version(gen, expected_version)
    edits = store.draft_edits(gen["id"])
    if redo:
        candidates = [e for e in edits if e["undone"]]
        edit = candidates[0] if candidates else None
    else:
        candidates = [e for e in edits if not e["undone"]]
        edit = candidates[-1] if candidates else None
    if edit is None:
        raise ServiceError(N_("nothing to redo") if redo else N_("nothing to undo"))
    side = edit["after"] if redo else edit["before"]
    areas = generation_areas(store, gen["id"], gen["version"])
    new = editing.replace(areas, {r["area_id"]: _row_from_json(r["row"]) for r in side}).areas
    _save(
        store,
        gen,
        new,
        gen["version"],
        lambda tx: tx.set_draft_edit_undone(edit["id"], not redo),
    )
    return draft_state(store, gen["id"]) | {"changed": [r["area_id"] for r in side]}
