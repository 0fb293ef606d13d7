"""The map pages (blueprint ``map``): the county map at ``/``, the district and unit lists
and pages with their maps, and the basemap tiles served from a local folder.  Thin: read the
request, call the services, render; static/js/geoapp-map.js fetches the layers from the JSON
API.
"""

from __future__ import annotations

import functools
import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from geoapp.core.model import AREA_KINDS, UNIT_KINDS
from geoapp.io.mbtiles import BLANK_PNG
from geoapp.services import map_features, problem_reads
from geoapp.store import NotFound
from geoapp.web import inlining, maps, permissions
from geoapp.web.assets import LEAFLET_JS
from geoapp.web.context import get_store
from geoapp.web.views.common import (
    basemap_options,
    current_filters,
    filter_options,
    is_zh,
    static_text,
    status_labels,
)

bp = Blueprint("map", __name__)

SIDEBAR_PX, TOPBAR_PX = 300, 44  # as in static/css/geoapp.css (.sidebar, .topbar)


def map_labels() -> dict:
    return {
        "basemap": _("Basemap"),
        "districts": _("Districts"),
        "district_labels": _("District labels"),
        "area_labels": _("Area names"),
        "areas": _("Contracted areas"),
        "units_layer": _("Lead units"),
        "problems_layer": _("Problem points"),
        "area": _("Contracted area"),
        "kind": _("Kind"),
        "district": _("District"),
        "responsible": _("Responsible unit"),
        "lead": _("Lead unit"),
        "contact": _("Contact"),
        "generation": _("Boundary generation"),
        "outside": _("Outside the county: no unit is responsible here"),
        "deduction": _("Deduction"),
        "round": _("Inspection round"),
        "reported_at": _("Reported"),
        "due_at": _("Deadline"),
        "no_deadline": _("none"),
        "rule": _("Rule applied"),
        "no_rule": _("none (the area's unit)"),
        "unassigned": _("Unassigned"),
        "problems": _("problems"),
        "unit_page": _("Unit page"),
        "no_match": _("Nothing found"),
        "load_failed_because": _("Could not load the map data: %(error)s"),
        "lead_colon": _("Lead unit: "),
        "problem_page": _("Open the problem page"),
        "overdue": _("overdue"),
        "other": _("other status"),
    }


def map_config(scope: dict | None = None, **extra) -> dict:
    cfg = current_app.config
    display = "gcj02" if str(cfg.get("TILES_CRS", "wgs84")).lower() == "gcj02" else None
    return {
        "urls": {
            "districts": url_for("api.districts"),
            "areas": url_for("api.areas"),
            "units": url_for("api.units"),
            "clusters": url_for("api.problem_clusters"),
            "problem": url_for("api.problem", problem_pk=0).replace("/0", "/__ID__"),
            "lookup": url_for("api.lookup"),
            "search": url_for("api.search"),
            "unit_page": url_for("map.unit_page", unit_id="__ID__"),
            "problem_page": url_for("intake.problem_page", problem_pk=0).replace("/0", "/__ID__"),
            # the page's cluster worker runs this file (inlined in the page itself)
            "clusters_worker": url_for("static", filename="js/geoapp-clusters.js"),
        },
        "labels": map_labels(),
        "filters": current_filters(),
        "status_colours": maps.URGENCY_COLOURS,
        "status_labels": status_labels(),
        "display_crs": display,
        "scope": scope or {},
        **extra,
    }


@functools.lru_cache(maxsize=64)
def _map_parts(key: str) -> dict:
    """The rendered folium parts of a map page, by everything they are made of (``key``,
    JSON of the map config, its bounds, the tiles and labels): folium takes longer to render
    the same map than the rest of the page takes to build."""
    config, basemap = json.loads(key)
    m = maps.responsibility_map(config["bounds"], config, **basemap)
    parts = maps.map_parts(m)
    # the header's small files (the fullscreen control, the stylesheets) inline: Leaflet is
    # the only file a cold page waits for before it can draw
    parts["header"] = inlining.inline_header(parts["header"], static_text, keep={LEAFLET_JS})
    return parts


def render_map_page(template: str, scope: dict | None = None, bounds=None, **context):
    store = get_store()
    facts = map_features.page_facts(store)
    current = facts["generation"]
    if current is None:
        return render_template("empty.html")
    if bounds is None:
        bounds = facts["extent"]
    config = map_config(scope, **context.pop("map_extra", {}))
    # for GeoappData.prefetch: the data extent and the space the layout leaves the map
    config.update(
        bounds=[float(v) for v in bounds], map_size=[SIDEBAR_PX, TOPBAR_PX], max_zoom=maps.MAX_ZOOM
    )
    key = json.dumps([config, basemap_options()], sort_keys=True, default=str)
    parts = _map_parts(key)
    return render_template(
        template,
        map=parts,
        map_cfg=config,
        generation=current,
        area_count=facts["area_count"],
        legend=maps.urgency_legend(),
        options=filter_options(store, facts),
        filters=current_filters(),
        **context,
    )


@bp.route("/tiles/<int:z>/<int:x>/<int:y>.<any(png, jpg, jpeg, webp):ext>")
def tile(z: int, x: int, y: int, ext: str):
    """Basemap tiles from a local package (GEOAPP_TILES_PACKAGE, MBTiles) or folder
    (GEOAPP_TILES_DIR), for networks with no internet."""
    package = current_app.extensions.get("geoapp.tiles")
    folder = current_app.config.get("TILES_DIR")
    if package is not None:
        if z > 30 or x >= 1 << z or y >= 1 << z:
            abort(404)
        data = package.tile(z, x, y)
        if data is None:  # outside the package: nothing to draw there
            response = Response(BLANK_PNG, mimetype="image/png")
        else:
            response = Response(data, mimetype=package.media_type)
        response.add_etag()
        response.cache_control.max_age = 86400
        response = response.make_conditional(request)
    elif folder:
        response = send_from_directory(folder, f"{z}/{x}/{y}.{ext}", max_age=86400)
    else:
        abort(404)
    # the same for every reader, so the browser may keep it; but only signed-in readers may
    # fetch it, so no shared cache (proxy) may hand it on
    response.cache_control.public = False
    response.cache_control.private = True
    return response


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for it whatever the page says; answer with the page's icon."""
    return current_app.send_static_file("favicon.svg")


@bp.route("/districts")
def districts_index():
    store = get_store()
    units = {u["unit_id"]: u for u in store.list_units()}
    summary = problem_reads.summary(store, current_filters(), locale=str(get_locale()))
    per = {d["id"]: d for d in summary["by_district"]}
    return render_template("districts.html", districts=store.list_districts(), units=units, per=per)


@bp.route("/units")
def units_index():
    store = get_store()
    summary = problem_reads.summary(store, current_filters(), locale=str(get_locale()))
    per = {u["id"]: u for u in summary["by_unit"]}
    kinds = UNIT_KINDS if is_zh() else {}
    return render_template("units.html", units=store.list_units(), per=per, kinds=kinds)


@bp.route("/")
def index():
    return render_map_page("map.html")


@bp.route("/units/<unit_id>")
def unit_page(unit_id: str):
    permissions.require_own_unit(unit_id)
    store = get_store()
    try:
        unit = store.get_unit(unit_id)
    except NotFound:
        abort(404, description=_("No unit with id %(id)s", id=unit_id))
    current = store.current_generation()
    areas = store.areas(current["id"]) if current else None
    own = areas[areas["responsible_unit_id"] == unit_id] if areas is not None else None
    bounds = own.total_bounds if own is not None and len(own) else None
    if bounds is None and unit.get("lon") is not None:
        d = 0.004
        bounds = (unit["lon"] - d, unit["lat"] - d, unit["lon"] + d, unit["lat"] + d)
    led = [d for d in store.list_districts() if d.get("lead_unit_id") == unit_id]
    summary = problem_reads.summary(
        store, {"unit": [unit_id]} | current_filters(), locale=str(get_locale())
    )
    return render_map_page(
        "unit.html",
        scope={"unit": unit_id},
        bounds=bounds,
        unit=unit,
        unit_kind=UNIT_KINDS.get(unit.get("kind"), unit.get("kind"))
        if is_zh()
        else unit.get("kind"),
        own_areas=[] if own is None else own.drop(columns="geometry").to_dict(orient="records"),
        led_districts=led,
        summary=summary,
        kind_labels=AREA_KINDS if is_zh() else {},
        map_extra={
            "unit_ids": [unit_id],
            "show_districts": False,
            "fit_areas": False,
            "area_style": {"color": "#c0392b", "weight": 2, "fillOpacity": 0.12},
        },
    )


@bp.route("/districts/<district_id>")
def district_page(district_id: str):
    store = get_store()
    districts = {d["district_id"]: d for d in store.list_districts()}
    district = districts.get(district_id)
    if district is None:
        abort(404, description=_("No district with id %(id)s", id=district_id))
    current = store.current_generation()
    areas = store.areas(current["id"]) if current else None
    own = areas[areas["district_id"] == district_id] if areas is not None else None
    bounds = own.total_bounds if own is not None and len(own) else None
    units = {u["unit_id"]: u for u in store.list_units()}
    summary = problem_reads.summary(
        store, {"district": [district_id]} | current_filters(), locale=str(get_locale())
    )
    return render_map_page(
        "district.html",
        scope={"district": district_id},
        bounds=bounds,
        district=district,
        lead=units.get(district.get("lead_unit_id")),
        own_areas=[] if own is None else own.drop(columns="geometry").to_dict(orient="records"),
        units=units,
        summary=summary,
        kind_labels=AREA_KINDS if is_zh() else {},
        map_extra={"unit_ids": [district.get("lead_unit_id")], "fit_areas": False},
    )
