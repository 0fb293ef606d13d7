"""Which format an OGC API answer takes: ``f=json`` / ``f=html`` in the query, else the
``Accept`` header (content negotiation, as pygeoapi and ldproxy do).

HTML only when asked for: ``f=html``, or an ``Accept`` that prefers ``text/html`` to JSON
(what browsers send).  ``*/*``, no ``Accept`` at all, ``application/geo+json`` and every
GIS client get JSON.  The refusal of an anonymous request (:mod:`geoapp.web.permissions`)
asks here too: JSON clients get a 401 they can read, browsers the sign-in page.
"""

from __future__ import annotations

from flask import request

from geoapp.core.messages import N_
from geoapp.services.query_params import BadParameter

HTML = "html"
JSON = "json"
#: ``f`` values: what each names.
FORMATS = {"json": JSON, "geojson": JSON, "html": HTML}
_JSON_TYPES = ("application/json", "application/geo+json", "application/vnd.oai.openapi+json")


def ogc_format(strict: bool = True) -> str:
    """``"html"`` or ``"json"`` for the current request; an unknown ``f`` raises
    BadParameter (or, not ``strict``, counts as JSON)."""
    asked = request.args.get("f")
    if asked is not None:
        fmt = FORMATS.get(asked.strip().lower())
        if fmt is None:
            if not strict:
                return JSON
            raise BadParameter(
                "f",
                N_("f=%(raw)r is not a format offered here (%(names)s)"),
                raw=asked,
                names=", ".join(FORMATS),
            )
        return fmt
    # only what is named counts: "*/*" (or no Accept) means JSON, the API's own format
    listed = [(value.lower(), quality) for value, quality in request.accept_mimetypes]
    html = max((q for v, q in listed if v == "text/html"), default=0)
    json_quality = max((q for v, q in listed if v in _JSON_TYPES), default=0)
    if html > json_quality:
        return HTML
    if html and html == json_quality:  # equal: the one listed first
        first = next(v for v, q in listed if v == "text/html" or v in _JSON_TYPES)
        return HTML if first == "text/html" else JSON
    return JSON


def is_ogc() -> bool:
    return request.path == "/ogc" or request.path.startswith("/ogc/")
