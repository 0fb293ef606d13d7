"""The field pages, for phones: report a problem (with the offline queue), a unit's work
list with rectification, and the web app's manifest and service worker.

Everything is under ``/field/``: the service worker is served from ``/field/sw.js`` so that
its scope, ``/field/``, holds exactly these pages.  Thin: parse, call one use case of
:mod:`geoapp.services.field`, answer; the pages' scripts are ``static/js/field*.js``.

JSON routes (multipart, for photos):

``POST /field/api/reports``
    ``report``: the report as JSON text (the fields of ``POST /api/problems`` plus
    ``client_id``, required, and ``accuracy_m``); ``photo``: zero or more JPEG/PNG files.
    201 with the problem's detail when stored now, 200 with the same detail when this
    ``client_id`` was stored before (a retry), 409 when it was used for another report.
``POST /field/api/problems/<id>/rectify``
    ``photo``: one or more photos of the rectified place, ``note``: optional text.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _

from geoapp.core.intake import ReportError
from geoapp.core.messages import N_
from geoapp.core.model import STATUSES
from geoapp.services import field as field_service
from geoapp.services import map_features
from geoapp.store import NotFound
from geoapp.version import __version__
from geoapp.web import permissions
from geoapp.web.actor import current_actor, current_role, current_unit_id
from geoapp.web.answers import _json, _locale
from geoapp.web.api.intake import _with_links, upload_dir
from geoapp.web.context import clock_now, get_store
from geoapp.web.views.common import is_zh, tiles_url
from geoapp.web.views.intake import _categories

bp = Blueprint("field", __name__, url_prefix="/field")

#: Files the service worker keeps for the pages to open with no network (under static/).
OFFLINE_FILES = (
    "vendor/leaflet/dist/leaflet.js",
    "vendor/leaflet/dist/leaflet.css",
    "vendor/leaflet/dist/images/marker-icon.png",
    "vendor/leaflet/dist/images/marker-icon-2x.png",
    "vendor/leaflet/dist/images/marker-shadow.png",
    "css/field.css",
    "js/field-photo.js",
    "js/field-queue.js",
    "js/field-report.js",
    "js/field-unit.js",
    "js/field-coverage.js",
    "favicon.svg",
)


def _photos(field: str = "photo") -> list[tuple[bytes, str | None]]:
    out = []
    for upload in request.files.getlist(field):
        try:
            out.append((upload.read(), upload.filename))
        finally:
            upload.close()
    return out


def _max_photo() -> int:
    return int(current_app.config["MAX_PHOTO_MB"]) * 2**20


def _common_urls() -> dict:
    return {
        "sw": url_for("field.service_worker"),
        "scope": url_for("field.report_page"),
        "lookup": url_for("api.lookup"),
        "areas": url_for("api.areas"),
        "tiles": tiles_url(),
    }


def report_labels() -> dict:
    return {
        "locating": _("Finding your position…"),
        "accuracy": _("±%(metres)s m"),
        "no_location": _("The phone did not give a position: %(error)s"),
        "tap_map": _("Tap the map or use your location to place the point"),
        "looking_up": _("Looking up the responsible unit…"),
        "area": _("Contracted area: %(name)s"),
        "unit": _("Responsible unit: %(name)s"),
        "outside": _("Outside the county: no unit is responsible here"),
        "lookup_offline": _("No network: the unit is looked up when the report is sent"),
        "photo_gps": _("Use the photo's position"),
        "shrunk": _("%(before)s → %(after)s"),
        "photo_failed": _("This photo could not be read: %(error)s"),
        "need_point": _("Place the point first"),
        "need_category": _("Choose a category"),
        "need_round": _("Fill in the inspection round"),
        "queued": _("Waiting to be sent"),
        "sending": _("Sending…"),
        "sent": _("Sent: problem %(id)s, %(unit)s"),
        "waiting": _("No network: will be sent when it returns"),
        "sign_in": _("Sign in again to send"),
        "refused": _("Refused: %(error)s"),
        "retry": _("Try again"),
        "remove": _("Remove"),
        "queue_empty": _("Nothing waiting to be sent."),
        "photos_n": _("%(count)s photos"),
        "no_unit": _("unassigned"),
        "open_problem": _("Open the problem page"),
        "saved_offline": _("Saved on the phone; it will be sent when there is a network"),
        "saved": _("Saved and queued for sending"),
    }


@bp.get("/")
def report_page():
    """The phone's report page: a map filling the screen, the form in a bottom sheet, the
    queue of reports waiting to be sent."""
    store = get_store()
    rounds = [r for r, _label in map_features.problem_rounds(store)]
    current = store.current_generation()
    bounds = None
    if current is not None:
        extent, _count = map_features.generation_extent(store, current["id"])
        bounds = [float(v) for v in extent]
    config = {
        "urls": _common_urls() | {"submit": url_for("field.submit_report")},
        # the queue on the phone is per account: another person signing in on the same
        # phone neither sees nor sends the reports the first one left there
        "queue": f"geoapp-field-{permissions.principal().name}",
        "labels": report_labels(),
        "bounds": bounds,
        "max_photos": field_service.MAX_PHOTOS,
    }
    return render_template(
        "field/report.html",
        cfg=config,
        categories=_categories(store),
        rounds=rounds,
        unit_link=permissions.may("field.unit_page"),
    )


@bp.post("/api/reports")
def submit_report():
    """Store a report sent from a phone, once per ``client_id`` (see the module)."""
    text = request.form.get("report")
    if text is None:
        raise ReportError(
            "report", N_("send the report as multipart/form-data field %(field)r"), field="report"
        )
    try:
        payload = json.loads(text)
    except ValueError:
        raise ReportError("report", N_("is not JSON text")) from None
    detail, created = field_service.submit_report(
        get_store(),
        payload,
        _photos(),
        current_actor(),
        role=current_role(),
        locale=_locale(),
        photo_dir=upload_dir("photos"),
        max_bytes=_max_photo(),
    )
    response = _json(_with_links(detail))
    response.status_code = 201 if created else 200
    response.headers["Location"] = detail["links"]["self"]
    return response


def _worklist_unit() -> str:
    """The unit whose list is shown: a unit account's own; staff name one with ``?unit=``."""
    own = current_unit_id()
    if own is not None:
        return own
    if permissions.own_unit() is not None:  # a unit account bound to no unit
        abort(403, description=_("This belongs to another unit."))
    asked = request.args.get("unit", "").strip()
    if not asked:
        abort(400, description=_("Name the unit: ?unit=<unit id>"))
    return asked


@bp.get("/unit")
def unit_page():
    """A unit's open problems on the phone, the overdue first then by deadline, each with
    its way on the map and the rectification form."""
    unit_id = _worklist_unit()
    store = get_store()
    try:
        unit = store.get_unit(unit_id)
    except NotFound:
        abort(404, description=_("No unit with id %(id)s", id=unit_id))
    rows = field_service.unit_worklist(store, unit_id, _locale(), clock_now())
    categories = dict(_categories(store))
    statuses = {k: (v if is_zh() else k) for k, v in STATUSES.items()}
    config = {
        "urls": _common_urls()
        | {
            "rectify": url_for("field.rectify", problem_pk=0).replace("/0/", "/__ID__/"),
        },
        "labels": {
            "locating": _("Finding your position…"),
            "distance": _("%(metres)s m from you"),
            "no_location": _("The phone did not give a position: %(error)s"),
            "need_photo": _("Take a photo of the rectified place"),
            "sending": _("Sending…"),
            "done": _("Reported rectified"),
            "refused": _("Refused: %(error)s"),
            "offline": _("No network: try again when it returns"),
            "shrunk": _("%(before)s → %(after)s"),
            "photo_failed": _("This photo could not be read: %(error)s"),
        },
        "points": [
            {"id": r["id"], "lon": r["lon"], "lat": r["lat"], "overdue": bool(r.get("overdue"))}
            for r in rows
            if r.get("lon") is not None
        ],
    }
    return render_template(
        "field/unit.html",
        cfg=config,
        unit=unit,
        rows=rows,
        categories=categories,
        statuses=statuses,
    )


@bp.post("/api/problems/<int:problem_pk>/rectify")
def rectify(problem_pk: int):
    """Report a problem rectified with photos of the place (multipart ``photo``, ``note``)."""
    store = get_store()
    if permissions.own_unit() is not None:
        permissions.require_own_problem(store.get_problem(problem_pk))
    detail = field_service.rectify(
        store,
        problem_pk,
        request.form.get("note"),
        _photos(),
        current_actor(),
        role=current_role(),
        actor_unit_id=current_unit_id(),
        locale=_locale(),
        photo_dir=upload_dir("photos"),
        max_bytes=_max_photo(),
    )
    return _json(_with_links(detail))


@cache
def _offline_version(static_folder: str) -> str:
    """A digest of the files the service worker keeps: a new one replaces its cache."""
    digest = hashlib.sha256(__version__.encode())
    for name in OFFLINE_FILES:
        path = Path(static_folder) / name
        digest.update(path.read_bytes() if path.is_file() else b"")
    digest.update((Path(static_folder) / "js/field-sw.js").read_bytes())
    return digest.hexdigest()[:16]


@bp.get("/sw.js")
def service_worker():
    """The service worker (``static/js/field-sw.js``) with the list of what it keeps, served
    here so that its scope is ``/field/``."""
    static = current_app.static_folder or "static"
    settings = {
        "version": _offline_version(static),
        # the report page, and the coverage pages (a page the account may not open is not
        # kept: the worker keeps only answers that are ok)
        "pages": [
            url_for("field.report_page"),
            url_for("field_coverage.visit_page"),
            url_for("field_coverage.patrol_page"),
        ],
        "files": [url_for("static", filename=name) for name in OFFLINE_FILES],
        "keep": [url_for("api.areas")],
    }
    text = (Path(static) / "js/field-sw.js").read_text(encoding="utf-8")
    body = f"self.FIELD_SW = {json.dumps(settings)};\n{text}"
    response = Response(body, mimetype="text/javascript")
    response.cache_control.no_cache = True  # the browser checks for a new one every time
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app's manifest: installed, it opens the report page full screen."""
    body = {
        "name": _("Field reports"),
        "short_name": _("Field reports"),
        "description": _("Report sanitation problems from the street, with or without network"),
        "start_url": url_for("field.report_page"),
        "scope": url_for("field.report_page"),
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#1f6f43",
        "lang": "zh-CN" if is_zh() else "en",
        "icons": [
            {
                "src": url_for("static", filename="favicon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
                "purpose": "any",
            }
        ],
    }
    return _json(body, "application/manifest+json")
