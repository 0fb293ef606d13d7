"""What every page uses: the reader's language, the filters of the map and the ledger, the
basemap's tile URL, and the template helpers (the ``when`` filter, ``lang_url``,
``inline_script``, ``inline_style``, the status labels and colours) that :func:`init_app`
gives every template.
"""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import urlencode

from flask import current_app, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from geoapp.core.model import STATUSES
from geoapp.services import map_features, times
from geoapp.web import inlining, maps

FILTER_KEYS = ("round", "category", "status", "district", "unit", "date_from", "date_to")


def is_zh() -> bool:
    return str(get_locale()) == "zh"


def status_labels() -> dict:
    return {k: (v if is_zh() else k) for k, v in STATUSES.items()}


def current_filters() -> dict:
    out = {}
    for key in FILTER_KEYS:
        values = [v for v in request.args.getlist(key) if v.strip()]
        if values:
            out[key] = values
    return out


def filter_options(store, facts: dict | None = None) -> dict:
    facts = facts or map_features.page_facts(store)
    zh = is_zh()
    return {
        "rounds": facts["rounds"],
        "categories": [
            (c["category"], c["name_zh"] if zh else c["name_en"]) for c in facts["categories"]
        ],
        "statuses": list(status_labels().items()),
        "districts": [(d["district_id"], d["name"]) for d in facts["districts"]],
        "units": [(u["unit_id"], u["name"]) for u in facts["units"]],
    }


def tiles_url() -> str:
    cfg = current_app.config
    if cfg.get("TILES_URL"):
        return cfg["TILES_URL"]
    package = current_app.extensions.get("geoapp.tiles")
    if package is not None:
        return url_for("map.tile", z=0, x=0, y=0, ext=package.format).replace(
            f"/0/0/0.{package.format}", "/{z}/{x}/{y}." + package.format
        )
    if cfg.get("TILES_DIR"):
        return url_for("map.tile", z=0, x=0, y=0, ext="png").replace(
            "/0/0/0.png", "/{z}/{x}/{y}.png"
        )
    return ""


def basemap_options() -> dict:
    """The basemap of every folium map page: its tile URL, attribution, name in the layer
    control and, for a tile package, the deepest zoom it holds (deeper, tiles are enlarged)."""
    package = current_app.extensions.get("geoapp.tiles")
    own = package is not None and not current_app.config.get("TILES_URL")
    attribution = current_app.config.get("TILES_ATTRIBUTION") or ""
    return {
        "tiles_url": tiles_url(),
        "tiles_attribution": attribution or (package.attribution if own else ""),
        "basemap_label": _("Basemap"),
        "native_zoom": package.maxzoom if own else None,
    }


def lang_url(code: str) -> str:
    """This page in another language, keeping its filters."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return request.path + "?" + urlencode(args, doseq=True)


@functools.cache
def static_text(name: str) -> str:
    path = Path(current_app.static_folder or "static") / name
    return path.read_text(encoding="utf-8")


def inline_script(*names: str) -> Markup:
    """Files of static/ as the body of one inline <script> (each read once), in order: the
    few lines a page must run before any script file could arrive, and the map pages' own
    scripts (one request each otherwise).  Made safe by
    :func:`geoapp.web.inlining.script_text` (ValueError for a file that cannot be)."""
    return Markup("\n".join(inlining.script_text(n, static_text(n)) for n in names))


def inline_style(*names: str) -> Markup:
    """Stylesheets of static/ as the body of one inline <style>, their relative ``url()``s
    rebased (:func:`geoapp.web.inlining.style_text`)."""
    return Markup("\n".join(inlining.style_text(n, static_text(n)) for n in names))


def when(value, date_only: bool = False) -> Markup:
    """Any stored time (datetime or ISO text) as every page shows it: Beijing time,
    ``2026-11-29 12:13`` (or the Beijing date with ``date_only``), in a ``<time
    class="when">`` that a narrow table column does not break at its hyphens and space
    ("" for no time, so ``value|when or _("none")`` still works)."""
    shown = times.display_time(value, times.DISPLAY_DATE if date_only else times.DISPLAY_TIME)
    if not shown:
        return Markup("")
    return Markup('<time class="when">{}</time>').format(shown)


def inject_common():
    return {
        "locale": str(get_locale()),
        "status_colours": maps.STATUS_COLOURS,
        "lang_url": lang_url,
        "status_labels": status_labels(),
        "inline_script": inline_script,
        "inline_style": inline_style,
    }


def init_app(app) -> None:
    app.add_template_filter(when, "when")
    app.context_processor(inject_common)
