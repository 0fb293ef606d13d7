"""The phone pages of inspection coverage (blueprint ``field_coverage``, under ``/field/`` so
the field pages' service worker covers them):

``GET /field/visit``
    An inspector picks the inspection point nearest the phone (or any point), records it
    clean (达标) or reports the problems found; queued on the phone and sent once
    (``static/js/field-coverage.js`` on ``field-queue.js``).
``GET /field/patrol``
    A unit account checks in on patrol (巡查签到) in one of its areas, with the GPS accuracy;
    refused away from the area with the name of the area the phone is in.

Both post multipart ``report`` (JSON text, as the report queue sends it) and an optional
``photo`` to
``/field/api/visits`` and ``/field/api/checkins``, answered as ``POST /api/visits`` and
``POST /api/checkins`` are.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _

from geoapp.services import coverage as coverage_service
from geoapp.web import permissions
from geoapp.web.actor import current_unit_id
from geoapp.web.api.coverage import checkin_answer, checkin_distance, sent_report, visit_answer
from geoapp.web.context import get_store
from geoapp.web.views.coverage import kind_labels
from geoapp.web.views.intake import _categories

bp = Blueprint("field_coverage", __name__, url_prefix="/field")


def _urls(submit: str) -> dict:
    return {
        "submit": url_for(submit),
        "page": request.path,
        "sw": url_for("field.service_worker"),
        "scope": url_for("field.report_page"),
    }


def _labels() -> dict:
    return {
        "locating": _("Finding your position…"),
        "accuracy": _("±%(metres)s m"),
        "no_location": _("The phone did not give a position: %(error)s"),
        "distance": _("%(metres)s m from you"),
        "queued": _("Waiting to be sent"),
        "sending": _("Sending…"),
        "sent_visit": _("Sent: visit recorded"),
        "sent_checkin": _("Checked in: %(distance)s m from the area, GPS ±%(accuracy)s m"),
        "waiting": _("No network: will be sent when it returns"),
        "sign_in": _("Sign in again to send"),
        "refused": _("Refused: %(error)s"),
        "need_point": _("Choose the inspection point"),
        "need_round": _("Fill in the inspection round"),
        "need_problem": _("Choose the category of the problem found"),
        "need_position": _("Wait for the phone's position"),
        "clean": _("clean"),
        "problems": _("problems found"),
    }


@bp.get("/visit")
def visit_page():
    """The inspector's phone page: nearest points, clean or problems, the queue."""
    store = get_store()
    points = [
        coverage_service.point_summary(p) | {"kind_label": kind_labels().get(p["kind"], p["kind"])}
        for p in store.inspection_points()
    ]
    config = {
        "mode": "visit",
        "urls": _urls("field_coverage.submit_visit"),
        "queue": f"geoapp-visits-{permissions.principal().name}",
        "labels": _labels(),
        "points": points,
    }
    return render_template(
        "field/visit.html",
        cfg=config,
        categories=_categories(store),
        rounds=store.visit_rounds(),
    )


@bp.post("/api/visits")
def submit_visit():
    return visit_answer(sent_report())


@bp.get("/patrol")
def patrol_page():
    """A unit's phone page for patrol check-ins in its own areas."""
    store = get_store()
    unit_id = current_unit_id() or ""
    config = {
        "mode": "patrol",
        "urls": _urls("field_coverage.submit_checkin"),
        "queue": f"geoapp-patrols-{permissions.principal().name}",
        "labels": _labels(),
        "distance_m": checkin_distance(),
    }
    return render_template(
        "field/patrol.html",
        cfg=config,
        areas=coverage_service.unit_areas(store, unit_id),
        recent=store.checkins(unit_id)[-10:][::-1],
        distance_m=int(checkin_distance()),
    )


@bp.post("/api/checkins")
def submit_checkin():
    return checkin_answer(sent_report())
