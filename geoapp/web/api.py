"""The JSON API. Thin: parse, call one service or query, serialise.

Every GET here except ``/lookup``, ``/ledger`` and ``/openapi.json`` answers conditional
requests (:func:`conditional`): a strong ETag from :func:`geoapp.services.etags.etag`,
``If-None-Match`` → 304 without a body, ``Cache-Control: no-cache, private``, and answers built once
per tag (:class:`AnswerCache`, one per app).  The endpoints are described by the models of
:mod:`geoapp.web.schemas`, from which :mod:`geoapp.web.openapi` makes the document.

The tag, and so the cache key, holds everything that decides an answer: the endpoint, its
URL parts and normalised query (with the unit filter a unit account is forced to), the
reader's visibility (role and unit, :func:`geoapp.web.permissions.visibility_key`), the
generation, the data version, the locale, the host (absolute links), and the clock's part
(:func:`geoapp.services.etags.deadlines_passed` at :func:`answer_time`: the answer's ``overdue``
flags are computed at that same moment).  Layers run in one order: authenticate and the
permission table (``before_request``), then the view's own scope check (``guard``, e.g. a
unit account's own problems), then the cache, then the view.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from flask_babel import get_locale

from geoapp.core.crs import CRSError
from geoapp.core.messages import N_
from geoapp.core.model import AREA_KINDS
from geoapp.services import etags, geojson, map_features, mapping, problem_reads
from geoapp.services import ledger as services_ledger
from geoapp.web import openapi, permissions
from geoapp.web.context import clock_now, get_store

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
    return _json(data, geojson.GEOJSON)


def answer_time() -> datetime:
    """The moment this request's answer is made as of, the same for its ETag and its body:
    the app's ``CLOCK`` (a callable returning an aware datetime; tests set it), else now."""
    if "answer_now" not in g:
        g.answer_now = clock_now()
    return g.answer_now


class AnswerCache:
    """Answers already built, by ETag (one per app): the tag covers everything that decides
    an answer (see the module's docstring), so an equal tag means an equal body and the view
    need not run again."""

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


def _answers() -> AnswerCache:
    return current_app.extensions["geoapp.answers"]


def conditional(view=None, *, guard: Callable[..., None] | None = None):
    """ETag / If-None-Match for a GET view (the tag is computed before the view runs), and
    answers built once per tag.  ``guard(**view_args)`` runs first: the view's own scope
    check (it aborts with 403 / raises NotFound), so that neither a cached body nor a 304
    reaches a reader the view itself would refuse."""
    if view is None:
        return functools.partial(conditional, guard=guard)

    @functools.wraps(view)
    def wrapper(**view_args):
        if guard is not None:
            guard(**view_args)
        store = get_store()
        # the store's URL too: two stores in one process (tests) may share a data version;
        # the host: OGC answers carry absolute links; the reader: what they may see
        tag_args = {
            **view_args,
            "_store": repr(store),
            "_host": request.host_url + (request.script_root or ""),
            "_reader": permissions.visibility_key(),
        }
        endpoint = request.endpoint or view.__name__
        tag = etags.etag(store, endpoint, _args(), _locale(), tag_args, now=answer_time())
        answers = _answers()
        if request.if_none_match.contains_weak(tag):
            response = Response(status=304)
        elif (cached := answers.get(tag)) is not None:
            response = Response(cached[0], mimetype=cached[1])
        else:
            response = view(**view_args)
            if response.status_code == 200 and not response.is_streamed:
                answers.put(tag, response.get_data(), response.mimetype)
        response.set_etag(tag)
        response.cache_control.no_cache = True
        response.cache_control.private = True  # the reader's own: no shared cache keeps it
        response.vary.update(("Accept-Language", "Cookie", "Authorization"))
        return response

    wrapper.conditional = True  # type: ignore[attr-defined]
    return wrapper


def _own_problem(problem_pk: int) -> None:
    """A unit account's scope check for one problem, before any cache (see conditional)."""
    if permissions.own_unit() is not None:
        permissions.require_own_unit(problem_reads.problem_unit(get_store(), problem_pk))


@bp.get("/lookup")
def lookup():
    """Who is responsible at ``lon``/``lat`` (optional ``crs``, ``generation``)."""
    lon, lat = _float_arg("lon"), _float_arg("lat")
    generation = request.args.get("generation", type=int)
    result = mapping.lookup(get_store(), lon, lat, request.args.get("crs"), generation)
    if result["area"]:
        result["area"]["kind_label"] = AREA_KINDS.get(result["area"]["kind"])
    return jsonify(result)


@bp.get("/districts")
@conditional
def districts():
    """The districts, each the union of its areas."""
    return _geojson(map_features.districts(get_store(), _args(), _locale()))


@bp.get("/areas")
@conditional
def areas():
    """The contracted areas."""
    return _geojson(map_features.areas(get_store(), _args(), _locale()))


@bp.get("/units")
@conditional
def units():
    """The units at their offices."""
    return _geojson(map_features.units(get_store(), _args(), _locale()))


@bp.get("/problems")
@conditional
def problems():
    """Problem points, filtered and paged."""
    return _geojson(
        problem_reads.problems(
            get_store(), _args(), _locale(), url=request.base_url, now=answer_time()
        )
    )


@bp.get("/problems.geojson")
@conditional
def problems_geojson():
    """All problem points matching the filters, unpaged (kept for the old map page)."""
    return _geojson(
        problem_reads.problems(get_store(), _args(), _locale(), paged=False, now=answer_time())
    )


@bp.get("/problems/<int:problem_pk>")
@conditional(guard=_own_problem)
def problem(problem_pk: int):
    """One problem with its photos and history."""
    feature = problem_reads.problem(get_store(), problem_pk, _args(), _locale(), answer_time())
    permissions.require_own_problem(feature)
    for photo in feature["properties"]["photos"]:
        photo["url"] = url_for("intake.photo", photo_id=photo["id"])
    return _geojson(feature)


@bp.get("/problems/clusters")
@conditional
def problem_clusters():
    """Problems clustered for the map at ``zoom``."""
    return _geojson(
        problem_reads.problem_clusters(get_store(), _args(), _locale(), now=answer_time())
    )


@bp.get("/search")
@conditional
def search():
    """Districts, areas and units by name or id."""
    return _json(map_features.search(get_store(), _args(), _locale()))


@bp.get("/summary")
@conditional
def summary():
    """Totals of the filtered problems."""
    return _json(problem_reads.summary(get_store(), _args(), _locale()))


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
