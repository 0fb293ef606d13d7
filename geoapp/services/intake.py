"""Use cases of intake and workflow: report a problem, attach photos, link duplicates, move a
problem through its statuses, edit it (re-assigning it), change a category's deadline, import
an inspection sheet through a preview.

The assignment is the one of :mod:`geoapp.services.mapping` (``zoning_for`` and the same row
assignment the importer uses); the rules of the workflow are in :mod:`geoapp.core.workflow` and
the checks of a report in :mod:`geoapp.core.intake`.  No Flask here: the web layer passes the
actor, its role and unit, and folders under ``instance/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from geoapp.core.crs import parse_crs, to_wgs84
from geoapp.core.deadlines import parse_duration_hours
from geoapp.core.intake import (
    Candidate,
    ReportError,
    bbox_around,
    check_position,
    likely_duplicates,
    parse_report,
    sniff_image,
)
from geoapp.core.messages import N_
from geoapp.core.model import OPEN_STATUSES
from geoapp.core.workflow import allowed_transitions, check_action, check_transition, is_open
from geoapp.io.files import display_name
from geoapp.io.photos import strip_metadata
from geoapp.services import problem_reads
from geoapp.services.audit import audit
from geoapp.services.errors import ServiceError
from geoapp.services.mapping import zoning_for
from geoapp.services.problem_import import (
    FIRST_YEAR,
    LAST_YEAR,
    _attach_assignment,
    commit_problem_import,
    parse_time,
    plan_problem_import,
)
from geoapp.services.times import local_time
from geoapp.store import DEFAULT_STATUS, StoreUnavailable

#: Statuses a candidate for "likely duplicate" may have (the store's default counts as open).
_OPEN = [*OPEN_STATUSES, DEFAULT_STATUS]
IMPORT_SUFFIXES = (".csv", ".xlsx", ".geojson", ".json")
IMPORT_TTL_S = 24 * 3600
_FUTURE_SLACK = timedelta(minutes=10)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class TooLarge(ServiceError):
    status = 413


class UnsupportedType(ServiceError):
    status = 415


class Conflict(ServiceError):
    status = 409


def _now() -> datetime:
    return datetime.now(UTC)


def category_spellings(categories: list[dict]) -> dict[str, str]:
    """Every accepted way to name a category (code, Chinese name, English name) → code."""
    out: dict[str, str] = {}
    for c in categories:
        for name in (c.get("name_en"), c.get("name_zh"), c["category"]):
            if name:
                out[str(name)] = c["category"]
    return out


def _convert(lon: float, lat: float, crs_name: str | None) -> tuple[float, float, str]:
    crs = parse_crs(crs_name)
    x, y = to_wgs84([lon], [lat], crs)
    return float(x[0]), float(y[0]), crs.code


def _reported_at(text: str | None, now: datetime) -> datetime:
    if text is None:
        return now
    iso = parse_time(text)
    if iso is None:
        raise ReportError(
            "reported_at",
            N_("%(text)r is not a date and time from %(first)s to %(last)s"),
            text=text,
            first=FIRST_YEAR,
            last=LAST_YEAR,
        )
    when = datetime.fromisoformat(iso)
    if when > now.astimezone(when.tzinfo) + _FUTURE_SLACK:
        raise ReportError("reported_at", N_("%(text)r is in the future"), text=text)
    return when


# --- likely duplicates ----------------------------------------------------------------------
def _candidates(tx, category: str, lon: float, lat: float, exclude: int | None = None):
    """Open problems of ``category`` near (lon, lat), not themselves linked duplicates; the
    SQL bbox prefilter uses the (lon, lat) index."""
    rows = tx.problems({"category": category, "status": _OPEN, "bbox": bbox_around(lon, lat)})
    return [
        Candidate(r["id"], r["category"], r["lon"], r["lat"])
        for r in rows
        if r["id"] != exclude and r["duplicate_of"] is None and r["lon"] is not None
    ]


def duplicates_of_point(
    tx, category: str, lon: float, lat: float, exclude: int | None = None
) -> list[dict]:
    """The open problems a problem at (lon, lat) of ``category`` likely duplicates."""
    cands = _candidates(tx, category, lon, lat, exclude)
    found = likely_duplicates([lon], [lat], [category], cands)[0]
    if not found:
        return []
    out = []
    for pk, dist in found:
        p = tx.get_problem(pk)
        out.append(
            {
                "id": pk,
                "problem_id": p["problem_id"],
                "distance_m": dist,
                "status": p["status"],
                "reported_at": local_time(p["reported_at"]),
                "description": p["description"],
            }
        )
    return out


# --- views of a problem ---------------------------------------------------------------------
def assignment_of(store, problem: dict, locale: str = "zh") -> dict:
    """The assignment of a stored problem, with names: area, district, units, rule."""
    props = problem
    rule = None
    if props.get("rule_id"):
        rules = {r["rule_id"]: r for r in store.list_rules()}
        r = rules.get(props["rule_id"])
        rule = {"id": props["rule_id"], "note": r.get("note") if r else None}
    assigned = props.get("area_id") is not None

    def unit(uid, name):
        return {"id": uid, "name": name} if uid else None

    return {
        "assigned": assigned,
        "area": {"id": props["area_id"], "name": props.get("area_name")} if assigned else None,
        "district": {"id": props["district_id"], "name": props.get("district_name")}
        if props.get("district_id")
        else None,
        "responsible_unit": unit(
            props.get("responsible_unit_id"), props.get("responsible_unit_name")
        ),
        "lead_unit": unit(props.get("lead_unit_id"), props.get("lead_unit_name")),
        "rule": rule,
        "generation": props.get("generation"),
    }


def problem_detail(
    store,
    problem_pk: int,
    locale: str = "zh",
    *,
    role: str | None = None,
    actor_unit_id: str | None = None,
) -> dict:
    """Everything the problem page shows: the problem (as the API's feature properties, with
    deadline and overdue flag), its assignment, photos, history, likely duplicates and the
    transitions this actor may make."""
    feature = problem_reads.problem(store, problem_pk, {}, locale)
    props = dict(feature["properties"])
    lon, lat = (feature["geometry"] or {}).get("coordinates", (None, None))
    with store.transaction() as tx:
        row = tx.get_problem(problem_pk)
        dups = (
            duplicates_of_point(tx, row["category"], row["lon"], row["lat"], exclude=row["id"])
            if row["duplicate_of"] is None
            and is_open(row["status"])
            and row["lon"] is not None
            and row["category"]
            else []
        )
        original = tx.get_problem(row["duplicate_of"]) if row["duplicate_of"] else None
        linked = tx.problems_duplicating(row["id"])
    transitions = [
        {"to": t.target, "action": t.action, "note_required": t.note_required}
        for t in allowed_transitions(row["status"], role, actor_unit_id, row["responsible_unit_id"])
    ]
    return {
        "problem": props | {"lon": lon, "lat": lat},
        "assignment": assignment_of(store, props, locale),
        "photos": props.pop("photos", []),
        "likely_duplicates": dups,
        "duplicate_of": {"id": original["id"], "problem_id": original["problem_id"]}
        if original
        else None,
        "duplicated_by": linked,
        "transitions": transitions,
        "events": props.pop("events", []),
    }


# --- report ---------------------------------------------------------------------------------
def create_problem(
    store,
    payload,
    actor: str | None,
    *,
    role: str | None = None,
    locale: str = "zh",
    now: datetime | None = None,
    client_id: str | None = None,
    location_accuracy_m: float | None = None,
) -> dict:
    """Report one problem: check it, convert its position once to WGS84, assign it with the
    current generation, flag likely duplicates, store it.  Returns :func:`problem_detail`
    (points outside the county are kept, with ``assignment.assigned`` false).
    ``client_id`` and ``location_accuracy_m`` (checked by the caller,
    :mod:`geoapp.services.field`) are stored with it."""
    check_action("report", role)
    now = now or _now()
    report = parse_report(payload, category_spellings(store.list_categories()))
    lon, lat, crs_code = _convert(report["lon"], report["lat"], report["crs"])
    check_position(lon, lat)
    row = {
        "problem_id": report["problem_id"],
        "round": report["round"],
        "category": report["category"],
        "description": report["description"],
        "deduction": report["deduction"],
        "reported_at": _reported_at(report["reported_at"], now),
        "status": "reported",
        "reporter": report["reporter"] or actor,
        "lon": lon,
        "lat": lat,
        "source_crs": crs_code,
        "source_x": report["lon"],
        "source_y": report["lat"],
        "client_id": client_id,
        "location_accuracy_m": location_accuracy_m,
    }
    _attach_assignment([row], zoning_for(store))
    original = None
    with store.transaction() as tx:
        if row["problem_id"] and tx.existing_problem_ids([row["problem_id"]]):
            raise Conflict(
                N_("problem_id %(problem_id)r is already stored"), problem_id=row["problem_id"]
            )
        if report["duplicate_of"] is not None:
            original = tx.get_problem(report["duplicate_of"])
            if original["duplicate_of"] is not None:
                raise Conflict(
                    N_(
                        "problem %(id)s is itself a duplicate of %(duplicate_of)s; link to that one"
                    ),
                    id=original["id"],
                    duplicate_of=original["duplicate_of"],
                )
            row["duplicate_of"] = original["id"]
        (pk,) = tx.add_problems([row], actor=actor if actor is not None else row["reporter"])
    try:
        return problem_detail(store, pk, locale, role=role)
    except StoreUnavailable:
        # Committed: the report is stored.  The database went away while the answer was
        # being read back; a 503 now would tell the client its write failed, so
        # acknowledge it with what is known without the database.
        return _stored_report(row, pk, original, role)


def _stored_report(row: dict, pk: int, original: dict | None, role: str | None) -> dict:
    """A report's detail built from the stored row alone (no names, no history), flagged
    ``partial``: the answer to a committed report when the database cannot be read."""

    def ref(key):
        return {"id": row[key], "name": None} if row.get(key) else None

    return {
        "problem": {
            "id": pk,
            **{
                k: row.get(k)
                for k in ("problem_id", "round", "category", "description", "deduction")
            },
            "status": row["status"],
            "reported_at": local_time(row["reported_at"]),
            "lon": row["lon"],
            "lat": row["lat"],
        },
        "assignment": {
            "assigned": row.get("area_id") is not None,
            "area": ref("area_id"),
            "district": ref("district_id"),
            "responsible_unit": ref("responsible_unit_id"),
            "lead_unit": ref("lead_unit_id"),
            "rule": {"id": row["rule_id"], "note": None} if row.get("rule_id") else None,
            "generation": row.get("generation_id"),
        },
        "photos": [],
        "likely_duplicates": [],
        "duplicate_of": {"id": original["id"], "problem_id": original["problem_id"]}
        if original
        else None,
        "duplicated_by": [],
        "transitions": [
            {"to": t.target, "action": t.action, "note_required": t.note_required}
            for t in allowed_transitions(row["status"], role, None, row["responsible_unit_id"])
        ],
        "events": [],
        "partial": True,
    }


# --- workflow -------------------------------------------------------------------------------
def transition(
    store,
    problem_pk: int,
    target: str,
    note: str | None,
    actor: str | None,
    *,
    role: str | None = None,
    actor_unit_id: str | None = None,
) -> dict:
    """Move a problem to ``target`` if the workflow allows this actor to; records who, when
    and the note."""
    if not isinstance(target, str) or not target:
        raise ReportError("to", N_("is required (the new status)"))
    if note is not None and not isinstance(note, str):
        raise ReportError("note", N_("must be text"))
    with store.transaction() as tx:
        p = tx.get_problem(problem_pk, for_update=True)
        check_transition(p["status"], target, role, actor_unit_id, p["responsible_unit_id"], note)
        tx.set_problem_status(p["id"], target, actor, (note or "").strip() or None)
    return problem_detail(store, problem_pk, role=role, actor_unit_id=actor_unit_id)


EDITABLE = ("lon", "lat", "crs", "category", "round", "deduction", "description", "note")


def patch_problem(
    store,
    problem_pk: int,
    payload,
    actor: str | None,
    *,
    role: str | None = None,
    actor_unit_id: str | None = None,
    locale: str = "zh",
) -> dict:
    """Change a problem's position, category, round, deduction or description.  A new
    position or category re-runs the assignment; every change lands in the history with its
    before and after, in one transaction."""
    if not isinstance(payload, dict):
        raise ReportError("body", N_("expected a JSON object"))
    unknown = sorted(set(payload) - set(EDITABLE))
    if unknown:
        raise ReportError(
            unknown[0],
            N_("cannot be changed here (editable: %(names)s)"),
            names=", ".join(EDITABLE),
        )
    if not payload or set(payload) <= {"note", "crs"}:
        raise ReportError("body", N_("nothing to change"))
    check_action("edit", role, actor_unit_id)
    current = store.get_problem(problem_pk)
    fields: dict = {}
    merged = {
        "lon": current["source_x"] if current["source_x"] is not None else current["lon"],
        "lat": current["source_y"] if current["source_y"] is not None else current["lat"],
        "category": current["category"] or "",
        "round": current["round"] or "",
        "deduction": current["deduction"],
        "description": current["description"],
        "crs": "wgs84",
    }
    if ("lon" in payload) != ("lat" in payload):
        raise ReportError("lon" if "lat" in payload else "lat", N_("give lon and lat together"))
    moved = "lon" in payload
    if moved:
        merged.update(lon=payload["lon"], lat=payload["lat"], crs=payload.get("crs") or "wgs84")
    for key in ("category", "round", "deduction", "description"):
        if key in payload:
            merged[key] = payload[key]
    clean = parse_report(
        {k: v for k, v in merged.items() if v is not None},
        category_spellings(store.list_categories()),
    )
    if moved:
        lon, lat, code = _convert(clean["lon"], clean["lat"], clean["crs"])
        check_position(lon, lat)
        fields |= {
            "lon": lon,
            "lat": lat,
            "source_crs": code,
            "source_x": clean["lon"],
            "source_y": clean["lat"],
        }
    for key in ("category", "round", "deduction", "description"):
        if key in payload:
            fields[key] = clean[key]
    note = payload.get("note")
    if note is not None and not isinstance(note, str):
        raise ReportError("note", N_("must be text"))
    new_row = {
        "lon": fields.get("lon", current["lon"]),
        "lat": fields.get("lat", current["lat"]),
        "category": fields.get("category", current["category"]),
    }
    reassign = moved or new_row["category"] != current["category"]
    if reassign:
        _attach_assignment([new_row], zoning_for(store))
    with store.transaction() as tx:
        p = tx.get_problem(problem_pk, for_update=True)
        if p["updated_at"] != current["updated_at"]:
            raise Conflict(N_("the problem changed meanwhile; reload it and try again"))
        tx.update_problem(p["id"], fields, actor, note)
        if reassign:
            tx.update_assignment(
                p["id"],
                {k: new_row[k] for k in _ASSIGNMENT},
                actor,
                note,
            )
    return problem_detail(store, problem_pk, locale, role=role, actor_unit_id=actor_unit_id)


_ASSIGNMENT = (
    "generation_id",
    "district_id",
    "area_id",
    "responsible_unit_id",
    "lead_unit_id",
    "rule_id",
)


def link_duplicate(
    store,
    problem_pk: int,
    original_pk: int | None,
    actor: str | None,
    note: str | None = None,
    *,
    role: str | None = None,
) -> dict:
    """Mark a problem as a duplicate of an earlier one (``original_pk``), so its points are
    not deducted twice; ``None`` removes the link."""
    check_action("link_duplicate", role)
    if original_pk is not None and (
        isinstance(original_pk, bool) or not isinstance(original_pk, int)
    ):
        raise ReportError(
            "duplicate_of",
            N_("must be a problem id or null, got %(original_pk)r"),
            original_pk=original_pk,
        )
    with store.transaction() as tx:
        p = tx.get_problem(problem_pk, for_update=True)
        if original_pk is None:
            if p["duplicate_of"] is None:
                raise Conflict(N_("the problem is not linked to another"))
            tx.update_problem(
                p["id"], {"duplicate_of": None}, actor, note, kind="duplicate_unlinked"
            )
        else:
            if original_pk == p["id"]:
                raise Conflict(N_("a problem cannot duplicate itself"))
            original = tx.get_problem(original_pk)
            if original["duplicate_of"] is not None:
                raise Conflict(
                    N_(
                        "problem %(id)s is itself a duplicate of %(duplicate_of)s; link to that one"
                    ),
                    id=original["id"],
                    duplicate_of=original["duplicate_of"],
                )
            if tx.problems_duplicating(p["id"]):
                raise Conflict(N_("other problems are linked to this one as their original"))
            tx.update_problem(
                p["id"], {"duplicate_of": original["id"]}, actor, note, kind="duplicate_linked"
            )
    return problem_detail(store, problem_pk, role=role)


def set_deadline(
    store, category: str, text, *, role: str | None = None, actor: str | None = None
) -> dict:
    """Change a category's rectification deadline ("48h", "3d", "3天"; null: none), at most
    a year; the change is audited (before/after) in the same transaction."""
    check_action("set_deadline", role)
    if text is None:
        hours = None
    else:
        try:
            value = parse_duration_hours(text)
        except ValueError as exc:
            raise ReportError("deadline", N_("%(error)s"), error=exc) from None
        hours = round(value)
        if hours < 1 or abs(value - hours) > 1e-9:
            raise ReportError("deadline", N_("%(text)r: give whole hours (at least 1)"), text=text)
    code = category_spellings(store.list_categories()).get(str(category), category)
    with store.transaction() as tx:
        was = {c["category"]: c for c in tx.list_categories()}.get(code)
        row = tx.set_category_deadline(code, hours)
        if was is None or was["deadline_hours"] != row["deadline_hours"]:
            audit(
                tx,
                actor,
                "category.deadline",
                f"category:{row['category']}",
                {"deadline_hours": was["deadline_hours"] if was else None},
                {"deadline_hours": row["deadline_hours"]},
            )
    return row


# --- photos ---------------------------------------------------------------------------------
def add_photo(
    store,
    problem_pk: int,
    data: bytes,
    filename: str | None,
    photo_dir: Path,
    max_bytes: int,
    actor: str | None,
    *,
    role: str | None = None,
    actor_unit_id: str | None = None,
    stage: str | None = None,
    once: bool = False,
) -> dict:
    """Keep a JPEG or PNG photo of a problem under ``photo_dir`` with a random name; the
    type is sniffed from the bytes, never taken from the file's name, and the metadata (EXIF
    with the GPS position, camera, comments) is taken out (:func:`strip_metadata`).
    ``stage="after"`` marks a photo of the rectified place; ``once``: the same bytes sent
    again for the same problem (a retry) answer the photo already stored."""
    problem = store.get_problem(problem_pk)
    check_action("add_photo", role, actor_unit_id, problem["responsible_unit_id"])
    if not data:
        raise ReportError("photo", N_("the file is empty"))
    if len(data) > max_bytes:
        raise TooLarge(N_("the photo is larger than %(value)s MiB"), value=max_bytes // 2**20)
    kind = sniff_image(data)
    if kind is None:
        raise UnsupportedType(N_("the file is not a JPEG or PNG image"))
    content_type, ext = kind
    data = strip_metadata(data)
    digest = hashlib.sha256(data).hexdigest()
    if once and (kept := store.photo_by_content(problem["id"], digest)) is not None:
        return {"id": kept["id"], "content_type": kept["content_type"], "bytes": kept["size_bytes"]}
    photo_dir = Path(photo_dir)
    photo_dir.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{ext}"
    target = photo_dir / name
    tmp = photo_dir / f".{name}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, target)
    original = (filename or "")[:200] or None
    try:
        with store.transaction() as tx:
            photo_id = tx.add_photo(
                problem["id"],
                {
                    "stored_name": name,
                    "content_type": content_type,
                    "size_bytes": len(data),
                    "sha256": digest,
                    "original_name": original,
                },
                actor,
            )
            if stage is not None:
                tx.set_photo_stage(photo_id, stage)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return {"id": photo_id, "content_type": content_type, "bytes": len(data)}


def photo_file(store, photo_id: int, photo_dir: Path) -> tuple[Path, str]:
    """The file and content type of a stored photo."""
    photo = store.get_photo(photo_id)
    name = photo["stored_name"]
    if "/" in name or "\\" in name or name.startswith("."):
        raise ServiceError(N_("bad stored photo name"))
    return Path(photo_dir) / name, photo["content_type"]


# --- imports through a preview ----------------------------------------------------------------
def _clean_old_uploads(folder: Path) -> None:
    cutoff = time.time() - IMPORT_TTL_S
    for child in folder.iterdir() if folder.is_dir() else ():
        try:
            if child.is_dir() and child.stat().st_mtime < cutoff:
                shutil.rmtree(child, ignore_errors=True)
        except OSError:
            pass


def save_import_upload(
    folder: Path, data: bytes, filename: str | None, max_bytes: int, crs: str | None = None
) -> str:
    """Keep an uploaded inspection sheet (and the CRS its coordinates are in) under
    ``folder`` until it is confirmed; returns the random token naming it."""
    if crs is not None and not isinstance(crs, str):
        raise ReportError("crs", N_("must be text"))
    parse_crs(crs)  # a bad CRS is refused before anything is kept
    if not data:
        raise ReportError("file", N_("the file is empty"))
    if len(data) > max_bytes:
        raise TooLarge(N_("the file is larger than %(value)s MiB"), value=max_bytes // 2**20)
    suffix = Path(filename or "").suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise UnsupportedType(
            N_("%(filename)r: send a CSV (UTF-8 or GBK), XLSX or GeoJSON file"), filename=filename
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _clean_old_uploads(folder)
    token = secrets.token_urlsafe(18)
    place = folder / token
    place.mkdir()
    (place / f"upload{suffix}").write_bytes(data)
    (place / "meta.json").write_text(
        json.dumps({"filename": (filename or "")[:200], "crs": crs or None}, ensure_ascii=False),
        encoding="utf-8",
    )
    return token


def preview_upload(
    store,
    folder: Path,
    data: bytes,
    filename: str | None,
    max_bytes: int,
    crs: str | None = None,
    locale: str = "zh",
) -> dict:
    """Keep an uploaded sheet and preview it (:func:`save_import_upload`,
    :func:`preview_import`).  An upload whose preview fails (unreadable, too large
    unpacked, bad CRS ...) is removed at once: only a previewed one waits for confirmation."""
    token = save_import_upload(folder, data, filename, max_bytes, crs)
    try:
        return preview_import(store, folder, token, locale)
    except BaseException:
        shutil.rmtree(Path(folder) / token, ignore_errors=True)
        raise


def _upload(folder: Path, token: str) -> tuple[Path, dict]:
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise ReportError("token", N_("is not an upload token"))
    place = Path(folder) / token
    files = sorted(place.glob("upload.*")) if place.is_dir() else []
    if not files:
        raise Conflict(N_("this upload has expired or was already imported; upload the file again"))
    meta = json.loads((place / "meta.json").read_text(encoding="utf-8"))
    return files[0], meta


def _plan(store, folder: Path, token: str):
    path, meta = _upload(folder, token)
    # messages name the user's file; the bytes come from the kept copy
    shown = display_name(meta.get("filename"), path.name)
    if shown.suffix.lower() != path.suffix:
        shown = path
    plan = plan_problem_import(store, shown, meta.get("crs") or None, data=path.read_bytes())
    plan.source = shown.name
    return plan


def preview_import(store, folder: Path, token: str, locale: str = "zh") -> dict:
    """What importing the upload would do: every new row with its assignment and likely
    duplicates, every bad row with its line and reason, rows already stored.  Writes
    nothing."""
    plan = _plan(store, folder, token)
    ref_units = {u["unit_id"]: u["name"] for u in store.list_units()}
    ref_districts = {d["district_id"]: d["name"] for d in store.list_districts()}
    current = store.current_generation()
    areas = store.areas(current["id"]) if current else None
    area_names = (
        dict(zip(areas["area_id"], areas["name"], strict=True)) if areas is not None else {}
    )
    categories = {c["category"]: c for c in store.list_categories()}
    zh = str(locale).startswith("zh")
    # likely duplicates: open problems in the store, and earlier rows of the same file
    dups: list[list] = [[] for _ in plan.rows]
    if plan.rows:
        lons = [r["lon"] for r in plan.rows]
        lats = [r["lat"] for r in plan.rows]
        box = (min(lons) - 0.001, min(lats) - 0.001, max(lons) + 0.001, max(lats) + 0.001)
        cats = sorted({r["category"] for r in plan.rows})
        stored = store.problems({"category": cats, "status": _OPEN, "bbox": box})
        cands = [
            Candidate(("problem", p["id"], p["problem_id"]), p["category"], p["lon"], p["lat"])
            for p in stored
            if p["duplicate_of"] is None and p["lon"] is not None
        ]
        found = likely_duplicates(lons, lats, [r["category"] for r in plan.rows], cands)
        in_file = likely_duplicates(
            lons,
            lats,
            [r["category"] for r in plan.rows],
            [
                Candidate(("row", i, r["_where"]), r["category"], r["lon"], r["lat"])
                for i, r in enumerate(plan.rows)
            ],
        )
        for i in range(len(plan.rows)):
            same_file = [(k, d) for k, d in in_file[i] if k[1] < i]
            dups[i] = [
                {
                    "kind": k[0],
                    "id": k[1] if k[0] == "problem" else None,
                    "label": k[2],
                    "distance_m": d,
                }
                for k, d in (found[i] + same_file)
            ]
    rows = []
    for r, dup in zip(plan.rows, dups, strict=True):
        cat = categories.get(r["category"], {})
        rows.append(
            {
                "line": r["_where"],
                "problem_id": r["problem_id"],
                "round": r["round"],
                "category": r["category"],
                "category_label": (cat.get("name_zh") if zh else cat.get("name_en"))
                or r["category"],
                "deduction": r["deduction"],
                "lon": round(r["lon"], 7),
                "lat": round(r["lat"], 7),
                "source_crs": r["source_crs"],
                "assigned": r["area_id"] is not None,
                "area_id": r["area_id"],
                "area_name": area_names.get(r["area_id"]),
                "district_name": ref_districts.get(r["district_id"]),
                "responsible_unit_name": ref_units.get(r["responsible_unit_id"]),
                "lead_unit_name": ref_units.get(r["lead_unit_id"]),
                "rule_id": r["rule_id"],
                "likely_duplicates": dup,
            }
        )
    return {
        "token": token,
        "filename": plan.source,
        "summary": plan.summary(),
        "rows": rows,
        # messages: the reason's (template, values) pairs, for the web layer to translate
        "bad": [{"line": b.where, "reason": b.reason, "messages": b.messages} for b in plan.bad],
        "already_stored": plan.skipped_existing,
    }


def confirm_import(
    store,
    folder: Path,
    token: str,
    actor: str | None,
    *,
    skip_bad: bool = False,
    role: str | None = None,
) -> dict:
    """Import the upload in one transaction (the same plan the preview showed, made again
    from the kept file); refuses while there are bad rows unless ``skip_bad``."""
    check_action("import", role)
    plan = _plan(store, folder, token)
    ids = commit_problem_import(store, plan, actor or "import", allow_bad=skip_bad)
    shutil.rmtree(Path(folder) / token, ignore_errors=True)
    return {"imported": len(ids), "skipped_bad": len(plan.bad), "summary": plan.summary()}
