"""OGC API – Features at ``/ogc/``: thin views over :mod:`geoapp.services.ogc`.

QGIS ("WFS / OGC API – Features" connection) and GDAL (``OAPIF:http://host/ogc/``) read
these as JSON; a browser (or ``f=html``) gets the same documents as HTML pages
(:mod:`geoapp.web.negotiate` decides, and every answer links its other format as
``alternate``).  Items answer conditional requests like the JSON API (ETag, 304), keyed by
the format too; their ``timeStamp`` is the time of each answer.
"""

from __future__ import annotations

import functools
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, make_response, render_template, request
from flask_babel import gettext as _

from geoapp.core import ogc_crs
from geoapp.services import geojson, ogc
from geoapp.web.answers import _args, _json, _locale, answer_time, conditional
from geoapp.web.context import get_store
from geoapp.web.negotiate import HTML, ogc_format

bp = Blueprint("ogc", __name__)
HTML_TYPE = "text/html"
#: The properties an items page shows in its table, per collection.
COLUMNS = {
    "districts": ("name", "lead_unit_name", "area_count"),
    "areas": ("name", "kind_label", "district_name", "responsible_unit_name"),
    "units": ("name", "kind_label", "contact", "phone", "area_count"),
    "problems": (
        "problem_id",
        "category_label",
        "status_label",
        "reported_at",
        "district_name",
        "responsible_unit_name",
        "overdue",
    ),
}


def _titles() -> dict[str, str]:
    return {
        "districts": _("Districts"),
        "areas": _("Contracted areas"),
        "units": _("Units"),
        "problems": _("Problem points"),
    }


@bp.after_request
def _varies_by_accept(response):
    response.vary.add("Accept")  # JSON or HTML by content negotiation
    return response


def _projected() -> str:
    """The county's projected CRS offered besides CRS84, EPSG:4326 and EPSG:4490."""
    return current_app.config.get("OGC_PROJECTED_CRS") or ogc_crs.DEFAULT_PROJECTED


def _in_crs(view):
    """Adds the ``Content-Crs`` header (OGC API – Features Part 2) to every answer of a
    feature view, cached and 304 ones too."""

    @functools.wraps(view)
    def wrapper(**view_args):
        crs = ogc.content_crs(_args(), _projected())
        response = make_response(view(**view_args))
        response.headers["Content-Crs"] = f"<{crs}>"
        return response

    return wrapper


def _base() -> str:
    """The absolute URL of /ogc (links in OGC answers are absolute; behind a trusted proxy
    its scheme and host are the client's, see the PROXY_COUNT setting)."""
    return request.host_url.rstrip("/") + (request.script_root or "") + "/ogc"


def with_format(href: str, fmt: str | None) -> str:
    """``href`` with ``f=fmt`` in its query (``None``: without ``f``)."""
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "f"]
    if fmt is not None:
        query.append(("f", fmt))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _answer(doc: dict, template: str, mimetype: str = "application/json", **context):
    """The document as JSON (with an ``alternate`` link to its HTML page) or as that page."""
    fmt = ogc_format()
    links = doc.get("links", [])
    self_link = next((link for link in links if link["rel"] == "self"), None)
    if fmt == HTML:
        return render_template(
            f"ogc/{template}.html",
            doc=doc,
            html=lambda href: with_format(href, HTML),
            titles=_titles(),
            columns=COLUMNS.get(context.get("cid", ""), ()),
            **context,
        )
    if self_link is not None:
        alternate = {"href": with_format(self_link["href"], HTML), "rel": "alternate"}
        links.append(alternate | {"type": HTML_TYPE, "title": "This document as HTML"})
    return _json(doc, mimetype)


def _page() -> bool:
    """An HTML page: made for its session (CSRF token, CSP nonce), never cached."""
    return ogc_format() == HTML


@bp.get("/")
def landing():
    """The landing page: links to the API definition, conformance and collections."""
    ogc.check_params(_args())
    return _answer(ogc.landing(_base()), "landing")


@bp.get("/api")
def api_definition():
    """The OpenAPI 3.0 definition of the OGC endpoints, as the media type its link names."""
    ogc.check_params(_args())
    response = _json(ogc.openapi(_base()))
    response.headers["Content-Type"] = ogc.OPENAPI_JSON
    return response


@bp.get("/conformance")
def conformance():
    """The conformance classes implemented."""
    ogc.check_params(_args())
    doc = ogc.conformance()
    doc["links"] = [{"href": f"{_base()}/conformance", "rel": "self", "type": "application/json"}]
    return _answer(doc, "conformance")


@bp.get("/collections")
def collections():
    """The four feature collections."""
    ogc.check_params(_args())
    return _answer(ogc.collections(get_store(), _base(), _projected()), "collections")


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    """One collection's description."""
    ogc.check_params(_args())
    return _answer(ogc.collection(get_store(), _base(), collection_id, _projected()), "collection")


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str):
    """The properties ``filter`` and ``sortby`` may name (JSON Schema): served as
    ``application/schema+json``, or as ``application/json`` to a client that accepts only
    that (GDAL)."""
    ogc.check_params(_args())
    offered = [ogc.SCHEMA_JSON, ogc.JSON]
    accepted = request.accept_mimetypes
    kind = ogc.SCHEMA_JSON
    if accepted and accepted[ogc.SCHEMA_JSON] < accepted[ogc.JSON]:
        kind = accepted.best_match(offered, ogc.SCHEMA_JSON)
    return _json(ogc.queryables(_base(), collection_id), kind)


@bp.get("/collections/<collection_id>/items")
@_in_crs
@conditional(vary=ogc_format, keep=False, skip=_page)
def items(collection_id: str):
    """A page of features: ``limit``, ``offset``, ``bbox``, ``datetime``, ``filter``,
    ``sortby``, ``crs`` (and problem filters)."""
    data = ogc.items(
        get_store(), _base(), collection_id, _args(), _locale(), answer_time(), _projected()
    )
    return _answer(data, "items", geojson.GEOJSON, cid=collection_id)


@bp.get("/collections/<collection_id>/items/<feature_id>")
@_in_crs
@conditional(vary=ogc_format, skip=_page)
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
    return _answer(data, "item", geojson.GEOJSON, cid=collection_id)
