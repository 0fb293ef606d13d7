"""What the JSON API and the OGC API share: argument helpers, JSON answers, and conditional
GETs with their answer cache.

Every GET of the API except ``/lookup``, ``/ledger`` and ``/openapi.json`` answers conditional
requests (:func:`conditional`): a strong ETag from :func:`geoapp.services.etags.etag`,
``If-None-Match`` → 304 without a body, ``Cache-Control: no-cache, private``, and answers built once
per tag (:class:`AnswerCache`, one per app).  The endpoints are described by the models of
:mod:`geoapp.web.schemas`, from which :mod:`geoapp.web.openapi` makes the document.

The tag, and so the cache key, holds everything that decides an answer: the endpoint, its
URL parts and normalised query (with the unit filter a unit account is forced to), the
reader's visibility (role and unit, :func:`geoapp.web.permissions.visibility_key`), the
generation, the data version, the locale, the host (absolute links), and the clock's part
(:func:`geoapp.services.etags.deadlines_passed` at :func:`answer_time`: the answer's ``overdue``
flags are computed at that same moment), and for the OGC views the format content
negotiation chose (JSON or HTML).  An answer stamped with the time it was made (OGC items'
``timeStamp``) is never served from the cache (``keep=False``, a weak tag), and an HTML page
(its session's CSRF token and CSP nonce) is neither cached nor tagged.  Layers run in one order: authenticate and the
permission table (``before_request``), then the view's own scope check (``guard``, e.g. a
unit account's own problems), then the cache, then the view.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from flask import Response, abort, current_app, g, request, send_file
from flask_babel import get_locale

from geoapp.core.crs import CRSError
from geoapp.core.messages import N_
from geoapp.services import etags, geojson, reading
from geoapp.web import permissions
from geoapp.web.context import clock_now, get_store


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


def conditional(
    view=None,
    *,
    guard: Callable[..., None] | None = None,
    vary: Callable[[], str] | None = None,
    keep: bool = True,
    skip: Callable[[], bool] | None = None,
):
    """ETag / If-None-Match for a GET view (the tag is computed before the view runs), and
    answers built once per tag.  ``guard(**view_args)`` runs first: the view's own scope
    check (it aborts with 403 / raises NotFound), so that neither a cached body nor a 304
    reaches a reader the view itself would refuse.  ``vary()``: what else the answer
    depends on (the format content negotiation chose: it goes into the tag, and ``Accept``
    into ``Vary``).  ``keep=False``: the body carries the time it was made (OGC
    ``timeStamp``), so it is made anew each time (never served from the cache) and its tag
    is weak (the same data, not the same bytes).  ``skip()`` true: no tag, no cache for
    this request (a page carrying its session's CSRF token and CSP nonce)."""
    if view is None:
        return functools.partial(conditional, guard=guard, vary=vary, keep=keep, skip=skip)

    @functools.wraps(view)
    def wrapper(**view_args):
        if guard is not None:
            guard(**view_args)
        if skip is not None and skip():
            return view(**view_args)
        store = get_store()
        # the store's URL too: two stores in one process (tests) may share a data version;
        # the host: OGC answers carry absolute links; the reader: what they may see
        tag_args = {
            **view_args,
            "_store": repr(store),
            "_host": request.host_url + (request.script_root or ""),
            "_reader": permissions.visibility_key(),
        }
        if vary is not None:
            tag_args["_vary"] = vary()
        endpoint = request.endpoint or view.__name__
        # the tag and the body from one read of the store (services/reading.py one_read)
        with reading.one_read(store):
            tag = etags.etag(store, endpoint, _args(), _locale(), tag_args, now=answer_time())
            answers = _answers()
            if request.if_none_match.contains_weak(tag):
                response = Response(status=304)
            elif keep and (cached := answers.get(tag)) is not None:
                response = Response(cached[0], mimetype=cached[1])
            else:
                response = view(**view_args)
                if keep and response.status_code == 200 and not response.is_streamed:
                    answers.put(tag, response.get_data(), response.mimetype)
        response.set_etag(tag, weak=not keep)
        response.cache_control.no_cache = True
        response.cache_control.private = True  # the reader's own: no shared cache keeps it
        response.vary.update(("Accept-Language", "Cookie", "Authorization"))
        if vary is not None:
            response.vary.add("Accept")
        return response

    wrapper.conditional = True  # type: ignore[attr-defined]
    return wrapper


def private_photo(path, content_type: str):
    """A stored photo as a signed-in reader's own copy: never kept by a shared cache (a
    proxy would hand it to readers of other units), nor reused after the reader's session
    ended; never sniffed as another type (404 when the file is gone)."""
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=content_type, max_age=86400)
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.max_age = None
    response.cache_control.no_cache = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
