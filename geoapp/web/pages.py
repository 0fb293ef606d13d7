"""HTML pages. Thin: read the request, call a service, render."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import maps, services
from ..domain import STATUSES
from . import get_store

bp = Blueprint("pages", __name__)


def map_labels() -> dict:
    zh = str(get_locale()) == "zh"
    return {
        "zh": zh,
        "basemap": _("Basemap"),
        "districts": _("Districts"),
        "areas": _("Contracted areas"),
        "lead_units": _("Lead units"),
        "area": _("Contracted area"),
        "kind": _("Kind"),
        "district": _("District"),
        "responsible": _("Responsible unit"),
        "lead": _("Lead unit"),
        "contact": _("Contact"),
        "generation": _("Boundary generation"),
        "outside": _("Outside the county: no unit is responsible here"),
        "deduction": _("Deduction"),
        "unassigned": _("Unassigned"),
        "statuses": {k: (v if zh else k) for k, v in STATUSES.items()},
    }


@bp.route("/")
def index():
    store = get_store()
    current = store.current_generation()
    if current is None:
        return render_template("empty.html"), 200
    zoning_areas = store.areas(current["id"])
    m = maps.responsibility_map(
        zoning_areas,
        store.list_districts(),
        store.list_units(),
        map_labels(),
        problems_url=url_for("api.problems_geojson"),
        lookup_url=url_for("api.lookup"),
        tiles_url=current_app.config.get("TILES_URL") or "",
        tiles_attribution=current_app.config.get("TILES_ATTRIBUTION") or "",
    )
    summary = {
        "generation": current,
        "areas": len(zoning_areas),
        "problems": store.count_problems(),
    }
    return render_template(
        "map.html", map=maps.map_parts(m), summary=summary, legend=maps.status_legend()
    )


@bp.app_context_processor
def inject_common():
    return {"locale": str(get_locale()), "services": services}
