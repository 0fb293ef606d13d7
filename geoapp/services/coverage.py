"""Use cases of inspection coverage: the register of inspection points (受检点), visits and
patrol check-ins (巡查签到).  No Flask here.

* A point is assigned like a problem with no category (:func:`assign_points`): the area
  covering its point (a polygon's representative point), that area's district, responsible
  unit and the district's lead unit, under the current generation.  Publishing boundaries
  re-assigns every point whose answer changes (:func:`reassign_points`, called by both
  publishing paths inside their transaction), each change kept in the point's history.
* A visit (:func:`record_visit`) is recorded by an inspector (or staff): clean (达标) or with
  the problems found, each an ordinary problem (reported at the point, in the visit's round,
  linked to the visit), so the deduction ledger counts them as any other.  A phone's
  ``client_id`` makes it exactly-once: a retry answers the stored visit.
* A check-in (:func:`check_in`) by a unit account is accepted in one of the unit's own areas,
  or within the distance setting of it; a check-in elsewhere is refused naming the area the
  phone is in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely

from geoapp.core import coverage as rules
from geoapp.core.assignment import Zoning
from geoapp.core.intake import ReportError, check_position, parse_report
from geoapp.core.messages import N_
from geoapp.core.workflow import NotPermitted, check_action
from geoapp.services import intake
from geoapp.services import photos as photo_files
from geoapp.services.errors import ServiceError
from geoapp.services.field import parse_accuracy, parse_client_id
from geoapp.services.intake import Conflict
from geoapp.services.mapping import zoning_for
from geoapp.services.times import LOCAL_TZ
from geoapp.store import NotFound, StoreError

#: Visit fields a phone or the desktop page sends.
VISIT_FIELDS = {
    "point_id",
    "round",
    "result",
    "note",
    "lon",
    "lat",
    "accuracy_m",
    "client_id",
    "problems",
    "visited_at",
}
CHECKIN_FIELDS = {"area_id", "lon", "lat", "accuracy_m", "client_id", "note"}
#: Most problems one visit may report.
MAX_VISIT_PROBLEMS = 20
#: A photo sent with a visit or a check-in: (its bytes, the file name the phone gave).
Photo = tuple[bytes, str | None]
#: Largest photo by default (the app passes its MAX_PHOTO_MB setting).
DEFAULT_MAX_PHOTO = 10 * 2**20


def _now() -> datetime:
    return datetime.now(UTC)


def local_date(when: datetime) -> str:
    """The Beijing date of an aware time, as ``YYYY-MM-DD``."""
    return when.astimezone(LOCAL_TZ).date().isoformat()


# --- the register ------------------------------------------------------------------------
def assign_points(zoning, rows: list[dict[str, Any]]) -> None:
    """Set the assignment of point rows (with lon/lat) under ``zoning``, in place."""
    if not rows:
        return
    found = zoning.assign([r["lon"] for r in rows], [r["lat"] for r in rows])
    for row, a in zip(rows, found.itertuples(index=False), strict=True):
        row.update(
            generation_id=zoning.generation if a.area_id is not None else None,
            district_id=a.district_id,
            area_id=a.area_id,
            responsible_unit_id=a.responsible_unit_id,
            lead_unit_id=a.lead_unit_id,
        )


def anchor(geometry) -> tuple[float, float]:
    """The point a shape is assigned by: itself, or a point surely inside a polygon."""
    pt = geometry if geometry.geom_type == "Point" else geometry.representative_point()
    return float(pt.x), float(pt.y)


def register_points(store, rows: list[dict[str, Any]], actor: str | None) -> list[int]:
    """Assign and store new points (rows with point_id, name, kind, geometry, note)."""
    zoning = zoning_for(store)
    prepared = []
    for row in rows:
        lon, lat = anchor(row["geometry"])
        prepared.append({**row, "lon": lon, "lat": lat})
    assign_points(zoning, prepared)
    with store.transaction() as tx:
        return tx.add_inspection_points(prepared, actor)


def edit_point(store, point_pk: int, changes: dict[str, Any], actor: str | None) -> dict:
    """Change a point's name, kind, note or shape (a new shape is assigned again)."""
    allowed = {"name", "kind", "note", "geometry"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ServiceError(N_("unknown field %(value)r"), value=unknown[0])
    changes = dict(changes)
    if changes.get("geometry") is not None:
        lon, lat = anchor(changes["geometry"])
        changes.update(lon=lon, lat=lat)
        assign_points(zoning_for(store), [changes])
    with store.transaction() as tx:
        return tx.update_inspection_point(point_pk, changes, actor)


def draft_zoning(store, generation_id: int):
    """The assignment index of a generation about to be published (for :func:`reassign_points`)."""
    return Zoning.build(
        store.areas(generation_id),
        store.list_districts(),
        store.list_rules(),
        generation=int(generation_id),
    )


def reassign_points(tx, zoning, actor: str | None, note: str | None) -> int:
    """Inside a publishing transaction: give every point its assignment under ``zoning``
    (the generation being published); returns how many changed."""
    points = tx.inspection_points()
    rows = [{"lon": p["lon"], "lat": p["lat"]} for p in points]
    assign_points(zoning, rows)
    changes = {}
    for p, new in zip(points, rows, strict=True):
        new.pop("lon"), new.pop("lat")
        # as for problems: a point whose answer is unchanged keeps the generation it has
        if any(p[k] != v for k, v in new.items() if k != "generation_id"):
            changes[p["id"]] = new
    return tx.reassign_inspection_points(changes, actor, note)


# --- visits ------------------------------------------------------------------------------
def _visit_time(value: Any, now: datetime) -> datetime:
    if value is None:
        return now
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        raise ReportError(
            "visited_at", N_("not a time (ISO 8601 with an offset), got %(value)r"), value=value
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=LOCAL_TZ)
    if when > now:
        raise ReportError("visited_at", N_("a visit cannot be in the future"))
    return when


def _check_fields(payload: object, known: set[str]) -> None:
    if not isinstance(payload, dict):
        raise ReportError("body", N_("expected a JSON object"))
    unknown = sorted(set(payload) - known)
    if unknown:
        raise ReportError(
            unknown[0], N_("unknown field (known: %(names)s)"), names=", ".join(sorted(known))
        )


def _text(payload: dict, key: str, required: bool = False, limit: int = 500) -> str | None:
    value = payload.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ReportError(key, N_("is required"))
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ReportError(key, N_("must be text of at most %(limit)s characters"), limit=limit)
    return value.strip()


def _position(payload: dict) -> tuple[float | None, float | None]:
    lon, lat = payload.get("lon"), payload.get("lat")
    if lon is None and lat is None:
        return None, None
    for key, value in (("lon", lon), ("lat", lat)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ReportError(key, N_("must be a number, got %(value)r"), value=value)
    check_position(float(lon), float(lat))
    return float(lon), float(lat)


def _checked_photo(photo: Photo | None, max_bytes: int) -> tuple[bytes, str] | None:
    """(bytes without metadata, extension) of the photo sent, refused before anything is
    stored when it is empty, too large or not a JPEG or PNG."""
    if photo is None:
        return None
    data, _kind, ext = photo_files.checked_image(photo[0], max_bytes)
    return data, ext


def _insert_with_photo(store, row: dict, checked, photo_dir: Path | None, insert) -> int:
    """Write the photo's file (if any), then ``insert(tx, row)`` naming it; the file is
    removed again when the row is not stored."""
    target = None
    if checked is not None:
        if photo_dir is None:
            raise ServiceError(N_("no folder to keep photos in"))
        target = photo_files.write_photo(photo_dir, *checked)
        row["photo_name"] = target.name
    try:
        with store.transaction() as tx:
            return insert(tx, row)
    except BaseException:
        if target is not None:
            target.unlink(missing_ok=True)
        raise


def record_visit(
    store,
    payload: object,
    actor: str | None,
    *,
    role: str | None,
    locale: str = "zh",
    now: datetime | None = None,
    photo: Photo | None = None,
    photo_dir: Path | None = None,
    max_photo_bytes: int = DEFAULT_MAX_PHOTO,
) -> tuple[dict, bool]:
    """Record a visit, once per client id, with an optional photo (kept under
    ``photo_dir`` without its metadata, its file name in ``photo_name``).  Returns (the
    visit, whether this call stored it)."""
    check_action("report", role)
    now = now or _now()
    _check_fields(payload, VISIT_FIELDS)
    client_id = payload.get("client_id")
    client_id = None if client_id is None else parse_client_id(client_id)
    if client_id is not None:
        stored = store.visit_by_client_id(client_id)
        if stored is not None:
            if stored["point_id"] != payload.get("point_id"):
                raise Conflict(
                    N_("the client id %(client_id)r was already used for another visit"),
                    client_id=client_id,
                )
            return stored, False
    code = _text(payload, "point_id", required=True)
    point = store.inspection_point_by_code(code)
    if point is None:
        raise ReportError("point_id", N_("unknown inspection point %(point)r"), point=code)
    round_ = _text(payload, "round", required=True, limit=100)
    result = payload.get("result")
    if result not in rules.VISIT_RESULTS:
        raise ReportError("result", N_("must be clean or problems, got %(value)r"), value=result)
    problems = payload.get("problems") or []
    if not isinstance(problems, list) or len(problems) > MAX_VISIT_PROBLEMS:
        raise ReportError(
            "problems", N_("must be a list of at most %(count)s problems"), count=MAX_VISIT_PROBLEMS
        )
    if result == "clean" and problems:
        raise ReportError("problems", N_("a clean visit reports no problem"))
    if result == "problems" and not problems:
        raise ReportError("problems", N_("a visit with problems reports at least one"))
    lon, lat = _position(payload)
    accuracy = parse_accuracy(payload.get("accuracy_m"))
    when = _visit_time(payload.get("visited_at"), now)
    checked = _checked_photo(photo, max_photo_bytes)
    reports = []
    spellings = intake.category_spellings(store.list_categories())
    for i, found in enumerate(problems):
        if not isinstance(found, dict):
            raise ReportError(f"problems[{i}]", N_("expected a JSON object"))
        report = {"lon": point["lon"], "lat": point["lat"], **found, "round": round_}
        report.setdefault("reported_at", when.isoformat())
        try:  # every problem is checked before any is stored
            parse_report(report, spellings)
        except ReportError as exc:
            raise ReportError(f"problems[{i}]", N_("%(error)s"), error=exc) from None
        reports.append(report)
    problem_pks = []
    for i, report in enumerate(reports):
        key = None if client_id is None else f"{client_id}:{i}"
        again = None if key is None else store.problem_by_client_id(key)
        if again is not None:
            problem_pks.append(again["id"])
            continue
        detail = intake.create_problem(
            store, report, actor, role=role, locale=locale, now=now, client_id=key
        )
        problem_pks.append(detail["problem"]["id"])
    row = {
        "point_pk": point["id"],
        "round": round_,
        "visited_at": when,
        "local_date": local_date(when),
        "inspector": actor,
        "result": result,
        "note": _text(payload, "note"),
        "lon": lon,
        "lat": lat,
        "location_accuracy_m": accuracy,
        "client_id": client_id,
    }
    try:
        vid = _insert_with_photo(
            store, row, checked, photo_dir, lambda tx, r: tx.add_visit(r, problem_pks)
        )
    except StoreError:
        stored = None if client_id is None else store.visit_by_client_id(client_id)
        if stored is None:
            raise
        return stored, False
    return store.get_visit(vid), True


def nearest_points(store, lon: float, lat: float, limit: int = 5) -> list[dict]:
    """The registered points nearest a position, nearest first, with ``distance_m``."""
    out = []
    for p in store.inspection_points():
        out.append((rules.distance_m(p["geometry"], lon, lat), p))
    out.sort(key=lambda pair: (pair[0], pair[1]["point_id"]))
    return [point_summary(p) | {"distance_m": round(d, 1)} for d, p in out[:limit]]


def point_summary(p: dict) -> dict:
    return {
        k: p[k]
        for k in (
            "id",
            "point_id",
            "name",
            "kind",
            "lon",
            "lat",
            "district_id",
            "area_id",
            "responsible_unit_id",
            "lead_unit_id",
        )
    }


# --- check-ins ---------------------------------------------------------------------------
class OutsideArea(ServiceError):
    """A check-in outside the chosen area: refused (422), naming where the phone is."""

    status = 422


def check_in(
    store,
    payload: object,
    actor: str | None,
    *,
    role: str | None,
    unit_id: str | None,
    max_distance_m: float = rules.DEFAULT_CHECKIN_DISTANCE_M,
    now: datetime | None = None,
    photo: Photo | None = None,
    photo_dir: Path | None = None,
    max_photo_bytes: int = DEFAULT_MAX_PHOTO,
) -> tuple[dict, bool]:
    """Record a unit's patrol check-in in one of its areas, once per client id.  Returns
    (the check-in, whether this call stored it).  Refused (:class:`OutsideArea`) away from
    the area, with the name of the area the phone is in.  An optional photo is kept as a
    visit's is."""
    if role != "unit" or not unit_id:
        raise NotPermitted(N_("only unit accounts check in on patrol"))
    now = now or _now()
    _check_fields(payload, CHECKIN_FIELDS)
    client_id = parse_client_id(payload.get("client_id"))
    stored = store.checkin_by_client_id(client_id)
    if stored is not None:
        if stored["area_id"] != payload.get("area_id") or stored["unit_id"] != unit_id:
            raise Conflict(
                N_("the client id %(client_id)r was already used for another check-in"),
                client_id=client_id,
            )
        return stored, False
    lon, lat = _position(payload)
    if lon is None:
        raise ReportError("lon", N_("is required"))
    accuracy = parse_accuracy(payload.get("accuracy_m"))
    area_id = _text(payload, "area_id", required=True, limit=200)
    checked = _checked_photo(photo, max_photo_bytes)
    zoning = zoning_for(store)
    area = zoning.area_record(area_id)
    if area is None:
        raise ReportError("area_id", N_("unknown area %(area)r"), area=area_id)
    if area["responsible_unit_id"] != unit_id:
        raise NotPermitted(N_("%(area)s is not one of your unit's areas"), area=area["name"])
    geometry = _area_geometry(store, area_id)
    decision = rules.checkin_decision(geometry, lon, lat, max_distance_m)
    if not decision.accepted:
        here = zoning.assign_one(lon, lat)
        if here["area_id"] is None:
            raise OutsideArea(
                N_("refused: the phone is %(distance)s m from %(area)s and outside every area"),
                distance=round(decision.distance_m),
                area=area["name"],
            )
        raise OutsideArea(
            N_("refused: the phone is in %(here)s, %(distance)s m from %(area)s"),
            here=zoning.area_record(here["area_id"])["name"],
            distance=round(decision.distance_m),
            area=area["name"],
        )
    row = {
        "client_id": client_id,
        "unit_id": unit_id,
        "area_id": area_id,
        "account": actor,
        "checked_at": now,
        "local_date": local_date(now),
        "lon": lon,
        "lat": lat,
        "accuracy_m": accuracy,
        "distance_m": decision.distance_m,
        "note": _text(payload, "note"),
    }
    try:
        cid = _insert_with_photo(store, row, checked, photo_dir, lambda tx, r: tx.add_checkin(r))
    except StoreError:
        stored = store.checkin_by_client_id(client_id)
        if stored is None:
            raise
        return stored, False
    return {"id": cid, **row}, True


def _area_geometry(store, area_id: str):
    areas = store.areas()
    match = areas[areas["area_id"] == area_id]
    if not len(match):
        raise NotFound(N_("unknown area %(area)r"), area=area_id)
    return shapely.make_valid(match.geometry.iloc[0])


def unit_areas(store, unit_id: str) -> list[dict]:
    """The current areas of a unit: area_id, name, kind (for the check-in page)."""
    areas = store.areas()
    mine = areas[areas["responsible_unit_id"] == unit_id].sort_values("area_id")
    return [
        {"area_id": r.area_id, "name": r.name, "kind": r.kind} for r in mine.itertuples(index=False)
    ]
