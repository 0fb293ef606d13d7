"""Pages of intake and workflow: the report form, the import preview, a problem's page, and
its photos.  Thin: read the request, call a service, render; the forms post with fetch()
from static/js/report.js, import.js and problem.js.  Blueprint ``intake`` (endpoint names
``intake.<name>``).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, url_for
from flask_babel import gettext as _

from geoapp.core.workflow import may_act
from geoapp.services import intake, map_features, photos
from geoapp.store import NotFound
from geoapp.web import maps, permissions
from geoapp.web.actor import current_role, current_unit_id
from geoapp.web.answers import private_photo
from geoapp.web.api.intake import upload_dir
from geoapp.web.context import get_store
from geoapp.web.views.common import basemap_options, is_zh, status_labels

bp = Blueprint("intake", __name__)


def crs_options() -> list[tuple[str, str]]:
    return [
        ("wgs84", _("WGS84 (GPS, Tianditu)")),
        ("gcj02", _("GCJ-02 (AMap, Tencent)")),
        ("bd09", _("BD-09 (Baidu)")),
        ("cgcs2000", _("CGCS2000")),
    ]


def _display_crs() -> str | None:
    return "gcj02" if str(current_app.config.get("TILES_CRS", "wgs84")).lower() == "gcj02" else None


def _small_map(function: str, config: dict, bounds):
    m = maps.page_map(
        bounds,
        function,
        config,
        **basemap_options(),
    )
    return maps.map_parts(m)


def _county_bounds(store):
    current = store.current_generation()
    if current is None:
        return None
    extent, _count = map_features.generation_extent(store, current["id"])
    return [float(v) for v in extent]


def _categories(store) -> list[tuple[str, str]]:
    zh = is_zh()
    return [
        (c["category"], (c["name_zh"] if zh else c["name_en"]) or c["category"])
        for c in store.list_categories()
    ]


def _common_labels() -> dict:
    return {
        "area": _("Contracted area"),
        "district": _("District"),
        "responsible": _("Responsible unit"),
        "lead": _("Lead unit"),
        "rule": _("Rule applied"),
        "no_rule": _("none (the area's unit)"),
        "generation": _("Boundary generation"),
        "outside": _(
            "Outside the county: no unit is responsible here; the problem is kept unassigned"
        ),
        "saving": _("Saving…"),
        "saved": _("Saved"),
        "failed": _("Failed"),
        "failed_because": _("Failed: %(error)s"),
        "area_colon": _("Contracted area: "),
        "responsible_colon": _("Responsible unit: "),
        "distance_m": _("%(distance)s m"),
        "duplicate_hint": _("Likely duplicate of an open problem of the same category within 30 m"),
        "metres": _("m"),
        "link": _("Link as duplicate"),
        "open_problem": _("Open the problem page"),
        "click_map": _("Click the map to place the point, or type its coordinates"),
        "photos_uploaded": _("photos attached"),
    }


@bp.route("/report")
def report_page():
    """The report form: place the point on the map (or type it), describe, attach photos."""
    store = get_store()
    bounds = _county_bounds(store)
    if bounds is None:
        return render_template("empty.html")
    config = {
        "urls": {
            "create": url_for("api.create_problem"),
            "lookup": url_for("api.lookup"),
            "areas": url_for("api.areas"),
            "photos": url_for("api.add_problem_photo", problem_pk=0).replace("/0/", "/__ID__/"),
            "duplicate": url_for("api.link_duplicate", problem_pk=0).replace("/0/", "/__ID__/"),
            "page": url_for("intake.problem_page", problem_pk=0).replace("/0", "/__ID__"),
        },
        "labels": _common_labels(),
        "display_crs": _display_crs(),
        "max_photo_mb": int(current_app.config["MAX_PHOTO_MB"]),
    }
    return render_template(
        "report.html",
        map=_small_map("ReportPage", config, bounds),
        categories=_categories(store),
        rounds=[r for r, _label in map_features.problem_rounds(store)],
        crs_options=crs_options(),
    )


@bp.route("/import")
def import_page():
    """Upload an inspection sheet, see every row's assignment and every bad row, confirm."""
    labels = _common_labels() | {
        "line": _("Line"),
        "reason": _("Reason"),
        "problem_id": _("Id"),
        "category": _("Category"),
        "round": _("Inspection round"),
        "deduction": _("Deduction"),
        "position": _("Position"),
        "duplicates": _("Likely duplicates"),
        "unassigned": _("Unassigned (outside the county)"),
        "problem_n": _("problem %(id)s"),
        "duplicate_at": _("%(place)s (%(distance)s m)"),
        "imported_n": _("Imported: %(count)s"),
        "nothing_yet": _("Nothing has been imported yet: check the rows, then confirm."),
        "bad_rows_block": _("Bad rows must be fixed, or skipped explicitly, before importing."),
        "summary": _(
            "%(new)s new rows (%(assigned)s assigned, %(unassigned)s outside the county), %(bad)s bad rows, %(stored)s already stored."
        ),
    }
    config = {
        "urls": {"preview": url_for("api.import_preview")},
        "labels": labels,
        "max_upload_mb": int(current_app.config["MAX_UPLOAD_MB"]),
    }
    return render_template("import.html", cfg=config, crs_options=crs_options())


@bp.route("/problems/<int:problem_pk>")
def problem_page(problem_pk: int):
    """One problem: details, photos, assignment, deadline, history, workflow buttons."""
    store = get_store()
    try:
        detail = intake.problem_detail(
            store,
            problem_pk,
            "zh" if is_zh() else "en",
            role=current_role(),
            actor_unit_id=current_unit_id(),
        )
    except NotFound:
        abort(404, description=_("No problem with id %(id)s", id=problem_pk))
    p = detail["problem"]
    permissions.require_own_problem(p)
    readable_changes(store, detail["events"])
    if p["lon"] is not None:
        d = 0.002
        bounds = [p["lon"] - d, p["lat"] - d, p["lon"] + d, p["lat"] + d]
    else:
        bounds = _county_bounds(store) or [0, 0, 1, 1]
    config = {
        "urls": {
            "problem": url_for("api.problem", problem_pk=problem_pk),
            "transitions": url_for("api.problem_transition", problem_pk=problem_pk),
            "photos": url_for("api.add_problem_photo", problem_pk=problem_pk),
            "duplicate": url_for("api.link_duplicate", problem_pk=problem_pk),
            "patch": url_for("api.patch_problem", problem_pk=problem_pk),
            "areas": url_for("api.areas"),
        },
        "point": [p["lon"], p["lat"]] if p["lon"] is not None else None,
        "display_crs": _display_crs(),
        "labels": _common_labels()
        | {
            "note_required": _("Write a note saying why"),
            "confirm_unlink": _("Remove the duplicate link?"),
        },
    }
    if not permissions.may("api.problem_transition", "POST"):
        detail["transitions"] = []
    return render_template(
        "problem.html",
        can=problem_controls(p),
        d=detail,
        p=p,
        map=_small_map("ProblemPage", config, bounds),
        statuses=status_labels(),
        transition_labels=transition_labels(),
        event_labels=event_labels(),
        categories=_categories(store),
        crs_options=crs_options(),
    )


#: the problem page's controls: the endpoint and method each one calls, and the workflow
#: action the service checks for it
PROBLEM_CONTROLS = {
    "edit": ("api.patch_problem", "PATCH", "edit"),
    "link_duplicate": ("api.link_duplicate", "PUT", "link_duplicate"),
    "unlink_duplicate": ("api.unlink_duplicate", "DELETE", "link_duplicate"),
    "add_photo": ("api.add_problem_photo", "POST", "add_photo"),
}


def problem_controls(problem: dict) -> dict[str, bool]:
    """Which of the problem page's controls this account may use: the permission table and
    the workflow rule, the two checks its request meets (a unit account is not shown the
    correction form it may not save)."""
    role, unit = current_role(), current_unit_id()
    return {
        name: permissions.may(endpoint, method)
        and may_act(action, role, unit, problem["responsible_unit_id"])
        for name, (endpoint, method, action) in PROBLEM_CONTROLS.items()
    }


def field_labels() -> dict:
    return {
        "category": _("Problem category"),
        "round": _("Inspection round"),
        "deduction": _("Deduction"),
        "description": _("Description"),
        "lon": _("Longitude"),
        "lat": _("Latitude"),
        "source_crs": _("Coordinate system"),
        "duplicate_of": _("Duplicate of"),
        "area_id": _("Contracted area"),
        "district_id": _("District"),
        "responsible_unit_id": _("Responsible unit"),
        "lead_unit_id": _("Lead unit"),
        "rule_id": _("Rule applied"),
        "generation_id": _("Boundary generation"),
    }


def readable_changes(store, events: list[dict]) -> None:
    """Give each edit or re-assignment event ``changes``: (field, before, after) in words
    (category and unit names instead of codes)."""
    labels = field_labels()
    units = {u["unit_id"]: u["name"] for u in store.list_units()}
    districts = {d["district_id"]: d["name"] for d in store.list_districts()}
    categories = dict(_categories(store))
    current = store.current_generation()
    areas = store.areas(current["id"]) if current else None
    area_names = (
        dict(zip(areas["area_id"], areas["name"], strict=True)) if areas is not None else {}
    )
    names = {
        "category": categories,
        "responsible_unit_id": units,
        "lead_unit_id": units,
        "district_id": districts,
        "area_id": area_names,
    }

    def text(field, value):
        if value is None:
            return "—"
        if isinstance(value, float):
            return f"{value:.6f}".rstrip("0").rstrip(".")
        return str(names.get(field, {}).get(value, value))

    for e in events:
        detail = e.get("detail") or {}
        if e["kind"] not in ("edited", "reassigned") or "after" not in detail:
            continue
        before = detail.get("before") or {}
        e["changes"] = [
            (labels[f], text(f, before.get(f)), text(f, v))
            for f, v in detail["after"].items()
            if f in labels and before.get(f) != v
        ]


def transition_labels() -> dict:
    return {
        "assign": _("Assign to the unit"),
        "start": _("Start rectifying"),
        "rectify": _("Report rectified"),
        "verify": _("Verify and close"),
        "reopen": _("Reopen"),
    }


def event_labels() -> dict:
    return {
        "created": _("Problem reported"),
        "assigned": _("Assigned by location"),
        "reassigned": _("Re-assigned"),
        "status": _("Status changed"),
        "edited": _("Edited"),
        "photo_added": _("Photo added"),
        "duplicate_linked": _("Linked as duplicate"),
        "duplicate_unlinked": _("Duplicate link removed"),
    }


@bp.route("/photos/<int:photo_id>")
def photo(photo_id: int):
    """A problem's photo, with the type sniffed when it was uploaded."""
    try:
        store = get_store()
        if permissions.own_unit() is not None:
            owner = store.get_problem(store.get_photo(photo_id)["problem_pk"])
            permissions.require_own_problem(owner)
        path, content_type = photos.photo_file(store, photo_id, upload_dir("photos"))
    except NotFound:
        abort(404)
    return private_photo(path, content_type)
