"""Cross-origin reads of the JSON API and the OGC API, opt-in by the ``CORS_ORIGINS``
setting (comma-separated origins such as ``http://gis.intranet:8080``; empty, the default:
no cross-origin headers at all).

Only reading crosses origins: ``GET``/``HEAD`` of ``/api/...`` and ``/ogc/...`` from a listed
origin get ``Access-Control-Allow-Origin`` naming it.  A preflight (``OPTIONS`` with
``Access-Control-Request-Method``) carries no credentials, so it is answered here, before
authentication, allowing ``GET``/``HEAD`` and the headers a reader sends (``Authorization``
for a token, ``If-None-Match``).  No cookies cross (no ``Allow-Credentials``): a page on
another host reads with an API token, never with a signed-in session.
"""

from __future__ import annotations

from flask import Response, current_app, request

from geoapp.web.negotiate import is_ogc

READ_METHODS = ("GET", "HEAD")
ALLOWED_HEADERS = "Authorization, Accept, Accept-Language, If-None-Match"
EXPOSED_HEADERS = "ETag, Content-Crs, Link"
MAX_AGE_S = 600


def allowed_origins(value) -> frozenset[str]:
    """The setting as a set of origins (a list, or a comma-separated string)."""
    if isinstance(value, str):
        value = value.split(",")
    return frozenset(v.strip().rstrip("/") for v in value or () if v.strip())


def _listed_origin() -> str | None:
    origin = request.headers.get("Origin")
    if not origin or not (is_ogc() or request.path.startswith("/api/")):
        return None
    return origin if origin in current_app.extensions["geoapp.cors"] else None


def preflight():
    """``before_request``: answer a read preflight from a listed origin (204)."""
    if request.method != "OPTIONS":
        return None
    origin = _listed_origin()
    asked = request.headers.get("Access-Control-Request-Method")
    if origin is None or asked is None:
        return None
    response = Response(status=204)
    if asked.upper() in READ_METHODS:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = ", ".join(READ_METHODS)
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = str(MAX_AGE_S)
    response.vary.add("Origin")
    return response


def allow_reads(response):
    """``after_request``: a read answer (errors too) to a listed origin may be read there."""
    if request.method in READ_METHODS and (origin := _listed_origin()) is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if current_app.extensions["geoapp.cors"]:
        response.vary.add("Origin")
    return response


def init_app(app) -> None:
    """Register the hooks (before the permission check: a preflight has no credentials)."""
    app.extensions["geoapp.cors"] = allowed_origins(app.config.get("CORS_ORIGINS"))
    app.before_request(preflight)
    app.after_request(allow_reads)
