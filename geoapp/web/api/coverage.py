"""Inspection coverage as JSON: the register of inspection points, visits, patrol check-ins,
the coverage figures with the ranking, and the coverage map (the pages are
:mod:`geoapp.web.views.coverage`; the phone pages post through
:mod:`geoapp.web.views.field_coverage`).  Bodies and answers: :mod:`geoapp.web.schemas.coverage`.
"""

from __future__ import annotations

import json
import math

from flask import abort, current_app, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError

from geoapp.core.intake import ReportError
from geoapp.core.messages import N_
from geoapp.services import coverage as coverage_service
from geoapp.services import coverage_figures
from geoapp.services import photos as photo_files
from geoapp.services.times import local_time
from geoapp.store import NotFound
from geoapp.web.actor import current_actor, current_role, current_unit_id
from geoapp.web.answers import _json, _locale, private_photo
from geoapp.web.api import bp
from geoapp.web.api.intake import upload_dir
from geoapp.web.context import clock_now, get_store
from geoapp.web.schemas import body
from geoapp.web.schemas.base import BadBody
from geoapp.web.schemas.coverage import Checkin, PointChange, Visit


def min_coverage() -> float:
    return float(current_app.config.get("COVERAGE_MIN_PERCENT", 80)) / 100.0


def checkin_distance() -> float:
    return float(current_app.config.get("CHECKIN_DISTANCE_M", 50))


def ranking_rule(threshold: float) -> str:
    """The ranking rule in words, as the page and the answer state it."""
    return _(
        "A unit is commended only when at least %(percent)s%% of its inspection points were "
        "inspected in the round, and among those units it has the best clean rate and then the "
        "fewest deduction points per inspected point (ties are all commended). A unit below "
        "that coverage is shown as “insufficient inspection” and never commended, whatever its "
        "results. Criticism ranks units by deduction points per inspected point, then by "
        "overdue rectifications.",
        percent=round(threshold * 100),
    )


def held_to() -> dict[str, list[str]]:
    """The scope of the account asking (unit accounts: their unit or led districts)."""
    return coverage_figures.scope(get_store(), current_role(), current_unit_id())


def _timed(row: dict, photo: tuple[str, str] | None = None) -> dict:
    out = dict(row)
    for key in ("visited_at", "created_at", "checked_at"):
        if out.get(key) is not None:
            out[key] = local_time(out[key])
    if photo is not None:  # (endpoint, its id argument)
        endpoint, key = photo
        out["photo_url"] = url_for(endpoint, **{key: out["id"]}) if out.get("photo_name") else None
    return out


def sent_report() -> dict:
    """The JSON text of a multipart field ``report`` (as the phones' queue sends it)."""
    text = request.form.get("report")
    if text is None:
        raise ReportError(
            "report", N_("send the report as multipart/form-data field %(field)r"), field="report"
        )
    try:
        return json.loads(text)
    except ValueError:
        raise ReportError("report", N_("is not JSON text")) from None


def sent_photo() -> coverage_service.Photo | None:
    """The one photo of a multipart request (field ``photo``), or None."""
    uploads = request.files.getlist("photo")
    if len(uploads) > 1:
        raise ReportError("photo", N_("at most %(count)s photos at a time"), count=1)
    if not uploads:
        return None
    try:
        return uploads[0].read(), uploads[0].filename
    finally:
        uploads[0].close()


def _payload(model) -> dict:
    """The body: JSON, or multipart ``report`` (JSON text) with an optional ``photo``."""
    if request.mimetype != "multipart/form-data":
        return body(model).model_dump(exclude_unset=True)
    data = sent_report()
    try:
        return model.model_validate(data).model_dump(exclude_unset=True)
    except ValidationError as exc:
        raise BadBody(exc, model) from None


def _max_photo() -> int:
    return int(current_app.config["MAX_PHOTO_MB"]) * 2**20


def _number(name: str) -> float | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ReportError(name, N_("must be a number, got %(value)r"), value=raw) from None
    if not math.isfinite(value):
        raise ReportError(name, N_("must be a finite number, got %(value)r"), value=raw)
    low, high = _RANGES.get(name, (-math.inf, math.inf))
    if not low <= value <= high:
        raise ReportError(
            name,
            N_("must lie between %(low)s and %(high)s, got %(value)r"),
            low=low,
            high=high,
            value=raw,
        )
    return value


#: the values a query's coordinates may take
_RANGES = {"lon": (-180.0, 180.0), "lat": (-90.0, 90.0)}


@bp.get("/points")
def inspection_points():
    """The register, or with ``lon``/``lat`` the ``limit`` points nearest that position."""
    store = get_store()
    lon, lat = _number("lon"), _number("lat")
    limit = int(_number("limit") or 5)
    if not 1 <= limit <= 50:
        raise ReportError("limit", N_("must be between 1 and 50"))
    if (lon is None) != (lat is None):
        raise ReportError("lat" if lat is None else "lon", N_("give both lon and lat"))
    if lon is not None:
        return _json({"points": coverage_service.nearest_points(store, lon, lat, limit)})
    return _json({"points": [coverage_service.point_summary(p) for p in store.inspection_points()]})


@bp.patch("/points/<int:point_pk>")
def patch_inspection_point(point_pk: int):
    """Change a point's name, kind or note."""
    changes = body(PointChange).model_dump(exclude_unset=True)
    point = coverage_service.edit_point(get_store(), point_pk, changes, current_actor())
    return _json(coverage_service.point_summary(point))


@bp.post("/visits")
def create_visit():
    """Record a visit (clean, or with the problems found), once per ``client_id``."""
    payload = _payload(Visit)
    if "problems" in payload and payload["problems"] is not None:
        payload["problems"] = [
            {k: v for k, v in p.items() if v is not None} for p in payload["problems"]
        ]
    return visit_answer(payload)


def visit_answer(payload: dict):
    """Record a visit (from the API or a phone's queue) and answer 201, or 200 for a retry."""
    visit, created = coverage_service.record_visit(
        get_store(),
        payload,
        current_actor(),
        role=current_role(),
        locale=_locale(),
        now=clock_now(),
        photo=sent_photo(),
        photo_dir=upload_dir("photos"),
        max_photo_bytes=_max_photo(),
    )
    response = _json({"visit": _timed(visit, ("api.visit_photo", "visit_id")), "created": created})
    response.status_code = 201 if created else 200
    return response


@bp.post("/checkins")
def create_checkin():
    """A unit's patrol check-in in one of its own areas, once per ``client_id``."""
    return checkin_answer(_payload(Checkin))


def checkin_answer(payload: dict):
    row, created = coverage_service.check_in(
        get_store(),
        payload,
        current_actor(),
        role=current_role(),
        unit_id=current_unit_id(),
        max_distance_m=checkin_distance(),
        now=clock_now(),
        photo=sent_photo(),
        photo_dir=upload_dir("photos"),
        max_photo_bytes=_max_photo(),
    )
    response = _json(
        {"checkin": _timed(row, ("api.checkin_photo", "checkin_id")), "created": created}
    )
    response.status_code = 201 if created else 200
    return response


@bp.get("/coverage")
def coverage():
    """Coverage per unit and district in a round, the ranking and what was not covered."""
    threshold = min_coverage()
    cov = coverage_figures.build(
        get_store(),
        request.args.to_dict(),
        held_to=held_to(),
        min_coverage=threshold,
        now=clock_now(),
    )
    return _json(
        {
            "round": cov.round,
            "rounds": cov.rounds,
            "date_from": cov.date_from,
            "date_to": cov.date_to,
            "min_coverage": cov.min_coverage,
            "rule": ranking_rule(threshold),
            "totals": cov.totals,
            "units": cov.by_unit,
            "districts": cov.by_district,
            "not_inspected": cov.not_inspected,
            "not_patrolled": cov.not_patrolled,
        }
    )


@bp.get("/coverage/map")
def coverage_map():
    """Areas and points with the days since their last inspection or patrol (GeoJSON)."""
    data = coverage_figures.map_features(
        get_store(), request.args.to_dict(), held_to=held_to(), now=clock_now()
    )
    return _json(data, "application/geo+json")


def _send_photo(name: str | None):
    """A visit's or check-in's photo file, as a problem's photo is served (private, never
    sniffed)."""
    if not name:
        abort(404)
    path = photo_files.stored_file(upload_dir("photos"), name)
    return private_photo(path, "image/png" if name.endswith(".png") else "image/jpeg")


@bp.get("/visits/<int:visit_id>/photo")
def visit_photo(visit_id: int):
    """The photo of a visit, for those who see the visit (a unit account: its own points,
    or the districts it leads)."""
    try:
        visit = get_store().get_visit(visit_id)
    except NotFound:
        abort(404)
    if not coverage_figures.in_scope(visit, held_to()):
        abort(404)
    return _send_photo(visit.get("photo_name"))


@bp.get("/checkins/<int:checkin_id>/photo")
def checkin_photo(checkin_id: int):
    """The photo of a patrol check-in, for those who see it (a unit account: its own
    check-ins, or those in the districts it leads)."""
    store = get_store()
    row = store.checkin_by_id(checkin_id)
    if row is None or not coverage_figures.checkin_in_scope(store, row, held_to()):
        abort(404)
    return _send_photo(row.get("photo_name"))
