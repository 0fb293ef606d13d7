"""Use cases of the boundary editor around a draft's life: start a draft (from a generation or
from a file), show it, discard it, publish it, roll back to an old generation, export a
generation and list the history.

Editing a draft is in :mod:`geoapp.services.editor_edits`, validating, previewing and
comparing in :mod:`geoapp.services.editor_review`, the records the editor works on in
:mod:`geoapp.services.editor_areas`; the geometry is in :mod:`geoapp.core.editing` (pure).
Every save carries the draft's ``version``: a save against another version is refused with
:class:`DraftConflict` (HTTP 409), naming the current version, and changes nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import shapely

from geoapp.core import editing
from geoapp.core.messages import N_
from geoapp.core.model import OPEN_STATUSES
from geoapp.core.shapes import as_multipolygons
from geoapp.io.boundaries import read_areas
from geoapp.io.files import display_name
from geoapp.services import coverage
from geoapp.services.audit import audit
from geoapp.services.editor_areas import (
    area_rows,
    current_generation,
    features,
    frame_to_records,
    generation_areas,
    records_to_frame,
)
from geoapp.services.editor_review import UPLOAD_ACTION, problem_moves, validate_generation
from geoapp.services.errors import ServiceError
from geoapp.services.mapping import forget_zonings
from geoapp.store import StaleVersion


class DraftConflict(ServiceError):
    """The draft changed since the client read it."""

    status = 409

    def __init__(self, message: str, current_version: int | None, /, op=None, **values):
        super().__init__(message, **values)
        self.payload = {"current_version": current_version}
        if op is not None:
            self.payload["op"] = op


class NotADraft(ServiceError):
    status = 409


def get_draft(store, generation_id: int) -> dict:
    """The generation ``generation_id``, refused with :class:`NotADraft` if it is published."""
    gen = store.get_generation(generation_id)
    if gen["status"] != "draft":
        raise NotADraft(
            N_("generation %(id)s is published and cannot change; start a draft from it"),
            id=gen["id"],
        )
    return gen


def check_version(gen: dict, expected_version, op=None) -> None:
    """Refuse a save made against another version of the draft than its current one."""
    if expected_version is None:
        raise ServiceError(N_("the draft's version is required (send the version you edited)"))
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise ServiceError(
            N_("version %(expected_version)r is not a number"), expected_version=expected_version
        ) from None
    if expected != gen["version"]:
        raise DraftConflict(
            N_(
                "draft %(id)s was changed by someone else (now version %(version)s, you edited version %(expected)s); reload it, your change was not saved and can be applied again"
            ),
            gen["version"],
            op,
            id=gen["id"],
            version=gen["version"],
            expected=expected,
        )


def start_draft(store, actor: str | None, parent_id: int | None = None, message=None) -> dict:
    """A new draft holding a copy of ``parent_id`` (default: the current generation)."""
    if parent_id is None:
        parent = current_generation(store)["id"]
    else:
        try:
            parent = int(parent_id)
        except (TypeError, ValueError):
            raise ServiceError(
                N_("parent_id %(parent_id)r is not a generation id"), parent_id=parent_id
            ) from None
    with store.transaction() as tx:
        gid = tx.create_generation(actor, message or f"draft from generation {parent}", parent)
    return draft_state(store, gid)


def list_drafts(store) -> list[dict]:
    return [g for g in store.list_generations() if g["status"] == "draft"]


def draft_state(store, generation_id: int) -> dict:
    """Everything the editor shows: the generation, its areas and its undo/redo state."""
    gen = store.get_generation(generation_id)
    areas = generation_areas(store, gen["id"], gen["version"])
    edits = store.draft_edits(gen["id"]) if gen["status"] == "draft" else []
    return {
        "generation": gen,
        "areas": features(areas),
        "can_undo": any(not e["undone"] for e in edits),
        "can_redo": any(e["undone"] for e in edits),
        "edits": sum(1 for e in edits if not e["undone"]),
    }


def upload_draft(store, filename: str, data: bytes, actor, message=None) -> dict:
    """A whole boundary set from a file (GeoJSON, GPKG, zipped Shapefile; any CRS) as a
    new draft started from the current generation.

    ``filename`` is the client's name for the file: only its suffix (the format) and its
    last part (for messages) are used; the draft is read from ``data``."""
    shown = display_name(filename, "upload.geojson")
    frame = read_areas(shown, data=data)
    current = current_generation(store)
    units = {u["unit_id"] for u in store.list_units()}
    districts = {d["district_id"] for d in store.list_districts()}
    bad = sorted(
        {f"unit {u}" for u in frame.get("responsible_unit_id", []) if u and str(u) not in units}
        | {f"district {d}" for d in frame.get("district_id", []) if d and str(d) not in districts}
    )
    if bad:
        raise ServiceError(
            N_("the file names unknown %(names)s; nothing was saved"), names=", ".join(bad[:10])
        )
    if frame["area_id"].astype(str).duplicated().any():
        dup = frame["area_id"].astype(str)[frame["area_id"].astype(str).duplicated()].iloc[0]
        raise ServiceError(N_("area_id %(dup)s appears more than once; nothing was saved"), dup=dup)
    records = frame_to_records(frame)
    open_rings = frame.attrs.get("open_rings") or {}
    with store.transaction() as tx:
        gid = tx.create_generation(actor, message or f"uploaded {shown.name}", current["id"])
        tx.put_area_versions(gid, area_rows(records))
        audit(
            tx,
            actor,
            UPLOAD_ACTION,
            f"generation:{gid}",
            None,
            {
                "file": shown.name,
                "areas": len(records),
                # rings the file left open: validation reports them while the shape
                # is still the one read from the file
                "open_rings": [
                    {
                        "area_id": str(aid),
                        "where": where,
                        "problem": open_rings[where],
                        "wkb": shapely.to_wkb(records[str(aid)]["geometry"], hex=True),
                    }
                    for aid, where in zip(frame["area_id"], frame["_where"], strict=True)
                    if where in open_rings
                ],
            },
        )
    return draft_state(store, gid)


def discard_draft(store, generation_id: int) -> None:
    gen = get_draft(store, generation_id)
    with store.transaction() as tx:
        tx.delete_generation(gen["id"])


# --- publish, rollback, compare, export ------------------------------------------------------
def publish(
    store,
    generation_id: int,
    expected_version,
    actor,
    message: str | None,
    *,
    accept_warnings: bool = False,
    note: str | None = None,
    sliver_m2: float = 50.0,
    reassign_closed: bool = False,
) -> dict:
    """Publish a draft: refused with errors, or with warnings not accepted with a note.

    Open problems whose assignment changes are re-assigned; closed ones keep theirs (unless
    ``reassign_closed``) and get a history event saying so.
    """
    message = (message or "").strip()
    if not message:
        raise ServiceError(N_("publishing needs a message saying what changed"))
    gen = get_draft(store, generation_id)
    check_version(gen, expected_version)
    report = validate_generation(store, gen["id"], sliver_m2)
    if report["errors"]:
        raise ServiceError(
            N_("the draft has %(errors)s error(s); fix them before publishing"),
            errors=report["errors"],
        )
    note = (note or "").strip()
    if report["warnings"] and not (accept_warnings and note):
        raise ServiceError(
            N_("the draft has %(warnings)s warning(s): accept them with a note to publish"),
            warnings=report["warnings"],
        )
    full_message = message if not report["warnings"] else f"{message} [warnings accepted: {note}]"
    areas = generation_areas(store, gen["id"], gen["version"])
    current = current_generation(store)
    base = generation_areas(store, current["id"], current["version"])
    _, moves = problem_moves(store, areas, base)
    reassign = {}
    kept = []
    for p, a in moves:
        if reassign_closed or p["status"] in OPEN_STATUSES:
            reassign[p["id"]] = a | {"generation_id": gen["id"]}
        else:
            kept.append((p, a))
    why = f"boundary generation {gen['id']} published: {message}"
    point_zoning = coverage.draft_zoning(store, gen["id"])
    try:
        with store.transaction() as tx:
            published = tx.publish_generation(
                gen["id"], actor, full_message, expected_version=gen["version"]
            )
            if reassign:
                tx.update_assignments(reassign, actor, why)
            points = coverage.reassign_points(tx, point_zoning, actor, why)
            for p, a in kept:
                tx.add_event(
                    p["id"],
                    "assignment_kept",
                    actor,
                    {
                        "generation": gen["id"],
                        "kept": {k: p.get(k) for k in editing.ASSIGNMENT},
                        "new_boundaries": {k: a.get(k) for k in editing.ASSIGNMENT},
                    },
                    f"{why} (closed as {p['status']}: keeps the assignment it was scored under)",
                )
    except StaleVersion as exc:
        now = store.get_generation(gen["id"])
        raise DraftConflict(N_("%(error)s"), now["version"], error=exc) from None
    forget_zonings(store)
    return published | {"reassigned": len(reassign), "kept": len(kept), "points_reassigned": points}


def rollback(store, generation_id: int, actor, message: str | None, **options) -> dict:
    """Publish an old generation's boundaries again, as a new generation."""
    old = store.get_generation(generation_id)
    if old["status"] != "published":
        raise ServiceError(
            N_("generation %(id)s was never published; nothing to roll back to"), id=old["id"]
        )
    message = (message or "").strip() or f"roll back to generation {old['id']}"
    with store.transaction() as tx:
        gid = tx.create_generation(actor, message, old["id"])
    version = store.get_generation(gid)["version"]
    try:
        return publish(store, gid, version, actor, message, **options) | {"from": old["id"]}
    except ServiceError:
        discard_draft(store, gid)
        raise


EXPORT_FORMATS = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3"}


def export(store, generation_id: int, fmt: str) -> tuple[bytes, str, str]:
    """A generation's areas as a file for QGIS: (bytes, media type, file name)."""
    if fmt not in EXPORT_FORMATS:
        raise ServiceError(N_("unknown export format %(fmt)r (geojson or gpkg)"), fmt=fmt)
    gen = store.get_generation(generation_id)
    frame = records_to_frame(generation_areas(store, gen["id"], gen["version"]))
    # one geometry type for the layer (GDAL declares a GPKG layer by it), RFC 7946 rings
    frame = frame.set_geometry(as_multipolygons(frame.geometry.values), crs=frame.crs)
    name = f"areas-generation-{gen['id']}.{fmt}"
    if fmt == "geojson":
        return frame.to_json(ensure_ascii=False).encode("utf-8"), EXPORT_FORMATS[fmt], name
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        frame.to_file(path, driver="GPKG", layer="areas")
        return path.read_bytes(), EXPORT_FORMATS[fmt], name


def history(store) -> list[dict]:
    return store.list_generations()
