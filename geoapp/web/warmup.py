"""Warm an app before it serves (``geoapp serve``, :mod:`geoapp.wsgi`): the store's read
caches (:func:`geoapp.services.warmup.warm`) and the map page's folium parts, so the first
map load after a start is as quick as the next ones.  A failure here is logged, never
fatal: the caches then fill on the first request, as without warming."""

from __future__ import annotations

import logging
import time

from geoapp.services.warmup import warm

log = logging.getLogger(__name__)


def warm_app(app) -> dict[str, float]:
    """Warm ``app``'s caches; the seconds each part took (empty if it failed)."""
    try:
        took = warm(app.extensions["geoapp.store"])
        start = time.perf_counter()
        with app.test_request_context("/"):
            from geoapp.web.views.map import render_map_page

            render_map_page("map.html")
        took["map page"] = round(time.perf_counter() - start, 3)
    except Exception:  # a cold start is slower, not broken
        log.exception("warming the map's caches failed; they fill on the first request")
        return {}
    log.info("map caches warmed: %s", took)
    return took
