"""Pages of the boundary editor (blueprint ``editor``): ``/editor`` (drafts) and
``/generations`` (history).

Thin: the pages carry no data beyond the lists of units and districts; static/js/editor.js
and static/js/generations.js fetch everything from the JSON API.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _

from geoapp.services import editor as editing_service
from geoapp.services import map_features
from geoapp.web import maps
from geoapp.web.context import get_store
from geoapp.web.views.common import basemap_options, status_labels

bp = Blueprint("editor", __name__)


def _urls() -> dict:
    def tpl(endpoint: str) -> str:
        return url_for(endpoint, generation_id=0).replace("/0", "/__ID__", 1)

    return {
        "editor": url_for("editor.editor"),
        "generations": url_for("editor.generations_page"),
        "drafts": url_for("api.draft_create"),
        "upload": url_for("api.draft_upload"),
        "draft": tpl("api.draft"),
        "edits": tpl("api.draft_edit"),
        "undo": tpl("api.draft_undo"),
        "redo": tpl("api.draft_redo"),
        "validation": tpl("api.draft_validation"),
        "preview": tpl("api.draft_preview"),
        "publish": tpl("api.draft_publish"),
        "list": url_for("api.generations"),
        "compare": url_for("api.generations_compare"),
        "rollback": tpl("api.generation_rollback"),
        "geojson": tpl("api.generation_export_geojson"),
        "gpkg": tpl("api.generation_export_gpkg"),
    }


def _labels() -> dict:
    return {
        "draft": _("Draft"),
        "generation": _("Generation"),
        "version": _("version"),
        "no_unit": _("no unit"),
        "choose": _("(choose)"),
        "saving": _("Saving…"),
        "saved": _("Saved"),
        "unchanged": _("No change: this edit leaves every area as it was; nothing was saved."),
        "drag_back": _(
            "No change: the corner was dropped where it was; nothing was saved. "
            "Drag it further to move it."
        ),
        "not_saved": _(
            "Not saved: the server gave no usable answer (HTTP %(status)s). "
            "The map shows the saved draft.",
            status="__S__",
        ),
        "merge_kept": _("the merged area keeps the older id %(area_id)s", area_id="__ID__"),
        "current_version": _("current version"),
        "conflict": _(
            "Someone else changed this draft (now version %(version)s): your change was not "
            "saved. The map shows the current draft; apply your change again if it still fits.",
            version="__V__",
        ),
        "errors": _("Errors"),
        "warnings": _("Warnings"),
        "changed_areas": _("Changed areas"),
        "problems_moving": _("Problems that change"),
        "kept": _("closed: keeps its assignment"),
        "select_first": _("Click an area first"),
        "draw_split": _("Draw a line across the selected area; double-click to finish"),
        "draw_area": _("Draw the new area into the gap; click the first point to finish"),
        "confirm_discard": _("Throw this draft away?"),
        "published_summary": _("Published generation #%(id)s; %(count)s open problems re-assigned"),
        "rolled_back_to": _(
            "Rolled back: new generation #%(id)s with the boundaries of #%(from)s; "
            "%(count)s open problems re-assigned"
        ),
        "draft_title": _("Draft #%(id)s · version %(version)s"),
        "saved_areas": _("Saved: %(areas)s"),
        "findings_summary": _("Errors: %(errors)s · Warnings: %(warnings)s"),
        "preview_summary": _(
            "Changed areas: %(areas)s · Problems that change: %(problems)s · %(ms)s ms"
        ),
        "generation_n": _("Generation #%(id)s"),
        "compared": _("#%(a)s → #%(b)s: %(count)s changed areas"),
        "confirm_rollback": _("Publish this generation's boundaries again as a new generation?"),
        "view": _("View"),
        "current": _("current"),
        "codes": {
            "empty": _("Area without a shape"),
            "invalid_geometry": _("Invalid geometry"),
            "implausible_crs": _("Too small: coordinates in degrees read as metres?"),
            "far_away": _("Far from the county: wrong coordinate system?"),
            "open_ring": _("Ring not closed in the uploaded file"),
            "overlap": _("Overlap"),
            "gap": _("Gap inside the county"),
            "outside": _("Outside the county"),
            "district_split": _("District falls apart"),
            "sliver": _("Sliver"),
            "no_unit": _("Area without a responsible unit"),
            "unknown_unit": _("Unknown unit"),
            "unknown_district": _("Unknown district"),
        },
        "changes": {
            "added": _("added"),
            "removed": _("removed"),
            "geometry": _("shape"),
            "attributes": _("unit or district"),
            "geometry+attributes": _("shape, unit or district"),
        },
    }


def _config(**extra) -> dict:
    store = get_store()
    return {
        "urls": _urls(),
        "labels": _labels(),
        "units": [[u["unit_id"], u["name"]] for u in store.list_units()],
        "districts": [[d["district_id"], d["name"]] for d in store.list_districts()],
        "status_labels": status_labels(),
        "sliver_m2": current_app.config["SLIVER_M2"],
        **extra,
    }


def _map(config: dict, build=maps.editor_map):
    store = get_store()
    current = store.current_generation()
    bounds, _count = map_features.generation_extent(store, current["id"])
    return maps.map_parts(
        build(
            bounds,
            config,
            **basemap_options(),
        )
    )


@bp.route("/editor")
def editor():
    """The boundary editor: a draft on the map, or the list of drafts to start from."""
    store = get_store()
    if store.current_generation() is None:
        return render_template("empty.html")
    draft_id = request.args.get("draft", type=int)
    if draft_id is None:
        return render_template(
            "editor_start.html", drafts=editing_service.list_drafts(store), cfg=_config()
        )
    gen = store.get_generation(draft_id)  # NotFound → 404
    if gen["status"] != "draft":
        return render_template(
            "editor_start.html",
            drafts=editing_service.list_drafts(store),
            cfg=_config(),
            notice=_("Generation %(id)s is published; start a draft to change it.", id=gen["id"]),
        )
    cfg = _config(draft=gen["id"])
    return render_template("editor.html", map=_map(cfg), cfg=cfg, draft=gen)


@bp.route("/generations")
def generations_page():
    """Every boundary generation: view on the map, compare two, roll back, export."""
    store = get_store()
    if store.current_generation() is None:
        return render_template("empty.html")
    cfg = _config()
    return render_template(
        "generations.html",
        generations=list(reversed(editing_service.history(store))),
        map=_map(cfg, maps.generations_map),
        cfg=cfg,
    )
