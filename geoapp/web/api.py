"""The JSON API. Thin: parse, call one service or query, serialise.

Every GET here except ``/lookup`` and ``/openapi.json`` answers conditional requests: a
strong ETag from :func:`geoapp.queries.etag`, ``If-None-Match`` → 304 without a body,
``Cache-Control: no-cache``.  The endpoints are described in :mod:`geoapp.web.openapi`.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_babel import get_locale

from .. import queries, services, services_ledger
from ..crs import CRSError
from ..domain import AREA_KINDS
from ..messages import N_
from . import get_store, openapi, permissions

bp = Blueprint("api", __name__)


def _float_arg(name: str) -> float:
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        raise CRSError(N_("the query parameter %(name)r is required"), name=name)
    try:
        value = float(raw)
    except ValueError:
        raise CRSError(N_("%(name)s=%(raw)r is not a number"), name=name, raw=raw) from None
    return value


def _args() -> dict[str, list[str]]:
    """The query arguments, with the unit filter forced for unit accounts (row scope)."""
    return permissions.scoped_args(request.args.to_dict(flat=False))


def _locale() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


def _json(data, mimetype: str = "application/json") -> Response:
    response = current_app.json.response(data)
    response.mimetype = mimetype
    return response


def _geojson(data) -> Response:
    return _json(data, queries.GEOJSON)


class _Bodies:
    """Answers already built, by ETag: the tag covers the data version, the query and the
    locale, so an equal tag means an equal body and the view need not run again."""

    def __init__(self, max_bytes: int = 64 * 2**20):
        self.max_bytes = max_bytes
        self.items: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, tag: str):
        with self.lock:
            item = self.items.get(tag)
            if item is not None:
                self.items.move_to_end(tag)
            return item

    def put(self, tag: str, body: bytes, mimetype: str) -> None:
        if len(body) > self.max_bytes // 8:
            return
        with self.lock:
            if tag in self.items:
                return
            self.items[tag] = (body, mimetype)
            self.size += len(body)
            while self.size > self.max_bytes:
                _, (old, _) = self.items.popitem(last=False)
                self.size -= len(old)


_bodies = _Bodies()
#: Answers carrying ``overdue`` flags, which change with the time, not only with the data.
TIMED_ENDPOINTS = frozenset({"api.problem", "api.problems", "api.problems_geojson"})


def conditional(view):
    """ETag / If-None-Match for a GET view (the tag is computed before the view runs), and
    answers built once per tag."""

    @functools.wraps(view)
    def wrapper(**view_args):
        # the store's URL too: two stores in one process (tests) may share a data version;
        # and the host: OGC answers carry absolute links
        tag_args = {
            **view_args,
            "_store": repr(get_store()),
            "_host": request.host_url + (request.script_root or ""),
        }
        if request.endpoint in TIMED_ENDPOINTS:  # overdue flags change with the clock
            tag_args["_minute"] = int(time.time() // 60)
        tag = queries.etag(
            get_store(), request.endpoint or view.__name__, _args(), _locale(), tag_args
        )
        cached = None
        if request.if_none_match.contains_weak(tag):
            response = Response(status=304)
        elif (cached := _bodies.get(tag)) is not None:
            response = Response(cached[0], mimetype=cached[1])
        else:
            response = view(**view_args)
            if response.status_code == 200 and not response.is_streamed:
                _bodies.put(tag, response.get_data(), response.mimetype)
        response.set_etag(tag)
        response.cache_control.no_cache = True
        response.vary.update(("Accept-Language", "Cookie"))
        return response

    return wrapper


@bp.get("/lookup")
def lookup():
    """Who is responsible at ``lon``/``lat`` (optional ``crs``, ``generation``)."""
    lon, lat = _float_arg("lon"), _float_arg("lat")
    generation = request.args.get("generation", type=int)
    result = services.lookup(get_store(), lon, lat, request.args.get("crs"), generation)
    if result["area"]:
        result["area"]["kind_label"] = AREA_KINDS.get(result["area"]["kind"])
    return jsonify(result)


@bp.get("/districts")
@conditional
def districts():
    """The districts, each the union of its areas."""
    return _geojson(queries.districts(get_store(), _args(), _locale()))


@bp.get("/areas")
@conditional
def areas():
    """The contracted areas."""
    return _geojson(queries.areas(get_store(), _args(), _locale()))


@bp.get("/units")
@conditional
def units():
    """The units at their offices."""
    return _geojson(queries.units(get_store(), _args(), _locale()))


@bp.get("/problems")
@conditional
def problems():
    """Problem points, filtered and paged."""
    return _geojson(queries.problems(get_store(), _args(), _locale(), url=request.base_url))


@bp.get("/problems.geojson")
@conditional
def problems_geojson():
    """All problem points matching the filters, unpaged (kept for the old map page)."""
    return _geojson(queries.problems(get_store(), _args(), _locale(), paged=False))


@bp.get("/problems/<int:problem_pk>")
@conditional
def problem(problem_pk: int):
    """One problem with its photos and history."""
    feature = queries.problem(get_store(), problem_pk, _args(), _locale())
    permissions.require_own_problem(feature)
    for photo in feature["properties"]["photos"]:
        photo["url"] = url_for("pages.photo", photo_id=photo["id"])
    return _geojson(feature)


@bp.get("/problems/clusters")
@conditional
def problem_clusters():
    """Problems clustered for the map at ``zoom``."""
    return _geojson(queries.problem_clusters(get_store(), _args(), _locale()))


@bp.get("/search")
@conditional
def search():
    """Districts, areas and units by name or id."""
    return _json(queries.search(get_store(), _args(), _locale()))


@bp.get("/summary")
@conditional
def summary():
    """Totals of the filtered problems."""
    return _json(queries.summary(get_store(), _args(), _locale()))


@bp.get("/ledger")
def ledger():
    """The deduction ledger of the filtered problems, grouped by unit, district or category.

    Not conditional: "overdue" depends on the time of the request, not only on the data."""
    args = _args()
    group = services_ledger.parse_group(args)
    led = services_ledger.build(get_store(), args, _locale())
    return _json(services_ledger.as_json(led, group))


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API."""
    return _json(openapi.document(request.script_root or ""))
