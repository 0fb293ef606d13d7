"""Use cases of the boundary editor: drafts, edits with undo/redo, validation, the impact
preview, publishing, history, comparing, rolling back and exporting generations.

The geometry is in :mod:`geoapp.core.editing` (pure); this module reads and writes the store.
Every save carries the draft's ``version``: a save against another version is refused with
:class:`DraftConflict` (HTTP 409), naming the current version, and changes nothing.
"""

from __future__ import annotations

import binascii
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping

from geoapp.core import editing
from geoapp.core.assignment import Zoning
from geoapp.core.messages import N_
from geoapp.core.model import OPEN_STATUSES
from geoapp.core.routing import as_rules
from geoapp.io.boundaries import read_areas
from geoapp.io.files import display_name
from geoapp.services.audit import audit
from geoapp.services.errors import NothingPublished, ServiceError
from geoapp.services.mapping import forget_zonings
from geoapp.store import StaleVersion

EDIT_TYPES = ("move_vertex", "reassign", "split", "merge", "delete", "add")


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


class Unchanged(ServiceError):
    """The edit would leave every area as it was: nothing is saved (no new version, no
    undo step), so the client can say so instead of "saved"."""

    status = 400


# --- boundary sets as records, cached by (generation, version) -------------------------------
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _frame_to_records(gdf) -> editing.Areas:
    out = {}
    cols = {c: gdf[c].tolist() for c in editing.ATTRIBUTES}
    for i, (aid, geom) in enumerate(
        zip(gdf["area_id"].tolist(), gdf.geometry.tolist(), strict=True)
    ):
        out[str(aid)] = {c: _clean(cols[c][i]) for c in editing.ATTRIBUTES} | {"geometry": geom}
    return out


def _clean(value):
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)


def records_to_frame(areas: editing.Areas):
    import geopandas as gpd

    ids = sorted(areas)
    data = {"area_id": ids}
    for c in editing.ATTRIBUTES:
        data[c] = [areas[a].get(c) for a in ids]
    return gpd.GeoDataFrame(
        data, geometry=[areas[a]["geometry"] for a in ids], crs="EPSG:4326"
    ).astype({c: object for c in editing.ATTRIBUTES})


def _rows(areas: editing.Areas) -> list[dict]:
    return [
        {"area_id": a, **{c: r.get(c) for c in editing.ATTRIBUTES}, "geometry": r["geometry"]}
        | {"name": r.get("name") or a}
        for a, r in sorted(areas.items())
    ]


def generation_areas(store, generation_id: int, version: int | None = None) -> editing.Areas:
    """The areas of a generation as records (cached: published generations never change,
    a draft's records are keyed by its version)."""
    if version is None:
        version = store.get_generation(generation_id)["version"]
    key = (int(generation_id), int(version))
    with _cache_lock:
        hit = _cache.get(store, {}).get(key)
    if hit is not None:
        return hit
    areas = _frame_to_records(store.areas(generation_id))
    with _cache_lock:
        per = _cache.setdefault(store, OrderedDict())
        per[key] = areas
        while len(per) > 16:
            per.popitem(last=False)
    return areas


_outline: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def county_outline(store, generation_id: int):
    """The union of a published generation's areas: what a draft should cover."""
    with _cache_lock:
        hit = _outline.get(store, {}).get(int(generation_id))
    if hit is not None:
        return hit
    areas = generation_areas(store, generation_id)
    geoms = [r["geometry"] for r in areas.values() if r["geometry"] is not None]
    outline = shapely.union_all(geoms) if geoms else None
    with _cache_lock:
        per = _outline.setdefault(store, {})
        if len(per) > 4:
            per.clear()
        per[int(generation_id)] = outline
    return outline


# --- drafts ----------------------------------------------------------------------------------
def _current(store) -> dict:
    current = store.current_generation()
    if current is None:
        raise NothingPublished(N_("no boundary generation is published yet"))
    return current


def _draft(store, generation_id: int) -> dict:
    gen = store.get_generation(generation_id)
    if gen["status"] != "draft":
        raise NotADraft(
            N_("generation %(id)s is published and cannot change; start a draft from it"),
            id=gen["id"],
        )
    return gen


def _check_version(gen: dict, expected_version, op=None) -> None:
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
        parent = _current(store)["id"]
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


def features(areas: editing.Areas, changes: dict | None = None) -> dict:
    out = []
    for aid, rec in sorted(areas.items()):
        props = {"area_id": aid, **{c: rec.get(c) for c in editing.ATTRIBUTES}}
        if changes is not None:
            props["change"] = changes.get(aid)
        geom = rec["geometry"]
        out.append(
            {
                "type": "Feature",
                "id": aid,
                "geometry": None if geom is None else shapely.geometry.mapping(geom),
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": out}


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
            tx.put_area_versions(gen["id"], _rows(new), expected_version=expected)
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
    gen = _draft(store, generation_id)
    _check_version(gen, expected_version, op)
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
    gen = _draft(store, generation_id)
    _check_version(gen, expected_version)
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


def upload_draft(store, filename: str, data: bytes, actor, message=None) -> dict:
    """A whole boundary set from a file (GeoJSON, GPKG, zipped Shapefile; any CRS) as a
    new draft started from the current generation.

    ``filename`` is the client's name for the file: only its suffix (the format) and its
    last part (for messages) are used; the draft is read from ``data``."""
    shown = display_name(filename, "upload.geojson")
    frame = read_areas(shown, data=data)
    current = _current(store)
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
    records = _frame_to_records(frame)
    open_rings = frame.attrs.get("open_rings") or {}
    with store.transaction() as tx:
        gid = tx.create_generation(actor, message or f"uploaded {shown.name}", current["id"])
        tx.put_area_versions(gid, _rows(records))
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
                    geometry=mapping(rec["geometry"].envelope),
                )
            )
    return found


def discard_draft(store, generation_id: int) -> None:
    gen = _draft(store, generation_id)
    with store.transaction() as tx:
        tx.delete_generation(gen["id"])


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


def _moves(store, areas: editing.Areas, base: editing.Areas):
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
    current = _current(store)
    areas = generation_areas(store, gen["id"], gen["version"])
    base = generation_areas(store, current["id"], current["version"])
    changes, moves = _moves(store, areas, base)
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
    gen = _draft(store, generation_id)
    _check_version(gen, expected_version)
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
    current = _current(store)
    base = generation_areas(store, current["id"], current["version"])
    _, moves = _moves(store, areas, base)
    reassign = {}
    kept = []
    for p, a in moves:
        if reassign_closed or p["status"] in OPEN_STATUSES:
            reassign[p["id"]] = a | {"generation_id": gen["id"]}
        else:
            kept.append((p, a))
    why = f"boundary generation {gen['id']} published: {message}"
    try:
        with store.transaction() as tx:
            published = tx.publish_generation(
                gen["id"], actor, full_message, expected_version=gen["version"]
            )
            if reassign:
                tx.update_assignments(reassign, actor, why)
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
    return published | {"reassigned": len(reassign), "kept": len(kept)}


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


EXPORT_FORMATS = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3"}


def export(store, generation_id: int, fmt: str) -> tuple[bytes, str, str]:
    """A generation's areas as a file for QGIS: (bytes, media type, file name)."""
    if fmt not in EXPORT_FORMATS:
        raise ServiceError(N_("unknown export format %(fmt)r (geojson or gpkg)"), fmt=fmt)
    gen = store.get_generation(generation_id)
    frame = records_to_frame(generation_areas(store, gen["id"], gen["version"]))
    name = f"areas-generation-{gen['id']}.{fmt}"
    if fmt == "geojson":
        return frame.to_json(ensure_ascii=False).encode("utf-8"), EXPORT_FORMATS[fmt], name
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        frame.to_file(path, driver="GPKG", layer="areas")
        return path.read_bytes(), EXPORT_FORMATS[fmt], name


def history(store) -> list[dict]:
    return store.list_generations()
