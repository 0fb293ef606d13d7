"""One log line per request, and the request id that ties a user's error page to it.

Each request gets an id: the ``X-Request-Id`` a proxy sent when it is a short, safe token
(letters, digits, ``-``, ``_``, ``.``; up to 64), else a new random one.  The id goes back in
the ``X-Request-Id`` header, on the error page ("错误编号") and on every log record written
while the request is served (:mod:`geoapp.logging_setup`).

The line names the request id, user, role, method, the route's rule (never the path with its
query string: a query may carry values nobody should log), status and duration; it never
holds a header, a cookie, a body or a parameter.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from flask import g, request

from geoapp.web import actor

log = logging.getLogger("geoapp.request")

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
HEADER = "X-Request-Id"
#: routes whose successful answers are logged at DEBUG only
QUIET_RULES = frozenset({"/healthz", "/readyz"})


def request_id() -> str:
    """The current request's id (made on first use)."""
    rid = g.get("request_id")
    if rid is None:
        sent = request.headers.get(HEADER, "")
        rid = sent if SAFE_ID.fullmatch(sent) else secrets.token_hex(8)
        g.request_id = rid
    return rid


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finish(response):
    rid = request_id()
    response.headers[HEADER] = rid
    started = g.get("request_started")
    duration = round((time.perf_counter() - started) * 1000, 1) if started else None
    p = actor.principal()
    user = "-" if p is None else (f"token:{p.name}" if p.kind == "token" else p.name)
    rule = request.url_rule.rule if request.url_rule is not None else "-"
    fields = {
        "request_id": rid,
        "user": user,
        "role": actor.role(),
        "method": request.method,
        "rule": rule,
        "status": response.status_code,
        "duration_ms": duration,
    }
    level = logging.WARNING if response.status_code >= 500 else logging.INFO
    if rule in QUIET_RULES and response.status_code == 200:
        level = logging.DEBUG  # a monitor's probe every few seconds would drown the log
    log.log(
        level,
        "%(method)s %(rule)s %(status)s %(duration_ms)sms user=%(user)s role=%(role)s",
        fields,
        extra=fields,
    )
    return response


def init_app(app) -> None:
    # first of the before_request hooks: every later hook (authentication, CSRF) may refuse
    # the request, and its answer still gets the id and the line
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
