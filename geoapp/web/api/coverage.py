"""Inspection coverage as JSON: the register of inspection points, visits, patrol check-ins,
the coverage figures with the ranking, and the coverage map (the pages are
:mod:`geoapp.web.views.coverage`; the phone pages post through
:mod:`geoapp.web.views.field_coverage`).  Bodies and answers: :mod:`geoapp.web.schemas.coverage`.
"""

from __future__ import annotations

import math

from flask import current_app, request
from flask_babel import gettext as _

from geoapp.core.intake import ReportError
from geoapp.core.messages import N_
from geoapp.services import coverage as coverage_service
from geoapp.services import coverage_figures
from geoapp.services.times import local_time
from geoapp.web.actor import current_actor, current_role, current_unit_id
from geoapp.web.answers import _json, _locale
from geoapp.web.api import bp
from geoapp.web.context import clock_now, get_store
from geoapp.web.schemas import body
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


def _timed(row: dict) -> dict:
    out = dict(row)
    for key in ("visited_at", "created_at", "checked_at"):
        if out.get(key) is not None:
            out[key] = local_time(out[key])
    return out


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
    payload = body(Visit).model_dump(exclude_unset=True)
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
    )
    response = _json({"visit": _timed(visit), "created": created})
    response.status_code = 201 if created else 200
    return response


@bp.post("/checkins")
def create_checkin():
    """A unit's patrol check-in in one of its own areas, once per ``client_id``."""
    payload = body(Checkin).model_dump(exclude_unset=True)
    return checkin_answer(payload)


def checkin_answer(payload: dict):
    row, created = coverage_service.check_in(
        get_store(),
        payload,
        current_actor(),
        role=current_role(),
        unit_id=current_unit_id(),
        max_distance_m=checkin_distance(),
        now=clock_now(),
    )
    response = _json({"checkin": _timed(row), "created": created})
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
