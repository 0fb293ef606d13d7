"""OGC API – Features at ``/ogc/``: thin views over :mod:`geoapp.services.ogc`.

QGIS ("WFS / OGC API – Features" connection) and GDAL (``OAPIF:http://host/ogc/``) read
these directly.  Items answer conditional requests like the JSON API (ETag, 304).
"""

from __future__ import annotations

import functools

from flask import Blueprint, current_app, request

from geoapp.core import ogc_crs
from geoapp.services import geojson, ogc
from geoapp.web.answers import _args, _json, _locale, answer_time, conditional
from geoapp.web.context import get_store

bp = Blueprint("ogc", __name__)


def _projected() -> str:
    """The county's projected CRS offered besides CRS84, EPSG:4326 and EPSG:4490."""
    return current_app.config.get("OGC_PROJECTED_CRS") or ogc_crs.DEFAULT_PROJECTED


def _in_crs(view):
    """Adds the ``Content-Crs`` header (OGC API – Features Part 2) to every answer of a
    feature view, cached and 304 ones too."""

    @functools.wraps(view)
    def wrapper(**view_args):
        crs = ogc.content_crs(_args(), _projected())
        response = view(**view_args)
        response.headers["Content-Crs"] = f"<{crs}>"
        return response

    return wrapper


def _base() -> str:
    """The absolute URL of /ogc (links in OGC answers are absolute)."""
    return request.host_url.rstrip("/") + (request.script_root or "") + "/ogc"


@bp.get("/")
def landing():
    """The landing page: links to the API definition, conformance and collections."""
    return _json(ogc.landing(_base()))


@bp.get("/api")
def api_definition():
    """The OpenAPI 3.0 definition of the OGC endpoints."""
    response = _json(ogc.openapi(_base()))
    response.content_type = ogc.OPENAPI_JSON  # with its version=3.0, as GDAL checks
    return response


@bp.get("/conformance")
def conformance():
    """The conformance classes implemented (Core, GeoJSON)."""
    return _json(ogc.conformance())


@bp.get("/collections")
def collections():
    """The four feature collections."""
    return _json(ogc.collections(get_store(), _base(), _projected()))


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    """One collection's description."""
    return _json(ogc.collection(get_store(), _base(), collection_id, _projected()))


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str):
    """The properties ``filter`` and ``sortby`` may name (JSON Schema): served as
    ``application/schema+json``, or as ``application/json`` to a client that accepts only
    that (GDAL)."""
    offered = [ogc.SCHEMA_JSON, ogc.JSON]
    accepted = request.accept_mimetypes
    kind = ogc.SCHEMA_JSON
    if accepted and accepted[ogc.SCHEMA_JSON] < accepted[ogc.JSON]:
        kind = accepted.best_match(offered, ogc.SCHEMA_JSON)
    return _json(ogc.queryables(_base(), collection_id), kind)


@bp.get("/collections/<collection_id>/items")
@_in_crs
@conditional
def items(collection_id: str):
    """A page of features: ``limit``, ``offset``, ``bbox`` (and problem filters)."""
    data = ogc.items(
        get_store(), _base(), collection_id, _args(), _locale(), answer_time(), _projected()
    )
    return _json(data, geojson.GEOJSON)


@bp.get("/collections/<collection_id>/items/<feature_id>")
@_in_crs
@conditional
def item(collection_id: str, feature_id: str):
    """One feature by id."""
    data = ogc.item(
        get_store(),
        _base(),
        collection_id,
        feature_id,
        _args(),
        _locale(),
        answer_time(),
        _projected(),
    )
    return _json(data, geojson.GEOJSON)
