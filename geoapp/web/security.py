"""CSRF protection, the Content-Security-Policy and the other security headers.

CSRF (synchronizer token)
    Each session holds a random token (:func:`csrf_token`), written into every page as
    ``<meta name="csrf-token">`` by ``templates/base.html``.  ``static/js/csrf.js`` (inlined
    by base.html) wraps ``fetch()`` so that every same-origin request whose method is not
    GET/HEAD/OPTIONS carries it as ``X-CSRFToken``; HTML forms carry it as a hidden
    ``csrf_token`` field.  :func:`check_csrf` (called by the permission hook after the role
    check) refuses a state-changing request without the right token with 400
    ``csrf_failed``.  Requests authenticated by ``Authorization: Bearer`` are exempt: they
    carry no ambient credential a third-party page could borrow.

Content-Security-Policy
    No external origin anywhere (``'self'`` only), except the basemap's own origin in
    ``img-src`` when ``GEOAPP_TILES_URL`` names one.  Scripts need ``'self'`` or the
    per-response nonce (:func:`csp_nonce`, ``nonce="{{ csp_nonce() }}"`` in templates);
    inline event handlers and ``eval`` are refused.  Styles allow ``'unsafe-inline'``:
    Leaflet and the pages set ``style`` attributes.  ``frame-ancestors 'none'``.
"""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import urlsplit

from flask import current_app, g, jsonify, request, session

from geoapp.web import actor

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_SESSION_KEY = "_csrf"
CSRF_HEADER = "X-CSRFToken"
CSRF_FIELD = "csrf_token"


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    token = session.get(CSRF_SESSION_KEY)
    if not token:
        token = session[CSRF_SESSION_KEY] = secrets.token_urlsafe(32)
    return token


def check_csrf():
    """None when the request may go on; a 400 answer when it changes state without the token."""
    if request.method in SAFE_METHODS or actor.via_token():
        return None
    expected = session.get(CSRF_SESSION_KEY)
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        given = request.form.get(CSRF_FIELD)
    if expected and given and hmac.compare_digest(str(expected), str(given)):
        return None
    from flask_babel import gettext as _

    message = _("The form has expired or did not come from this site; reload the page.")
    response = jsonify({"error": "csrf_failed", "message": message})
    response.status_code = 400
    if not actor.wants_json():
        from flask import render_template

        response = current_app.make_response(
            (
                render_template(
                    "error.html",
                    status=400,
                    message=message,
                    details=None,
                    request_id=g.get("request_id"),
                ),
                400,
            )
        )
    return response


def csp_nonce() -> str:
    """The nonce of this response's inline scripts."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def _tile_origin() -> str:
    url = current_app.config.get("TILES_URL") or ""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname:
        host = parts.netloc.replace("{s}", "*").split("@")[-1]
        return f" {parts.scheme}://{host}"
    return ""


def content_security_policy() -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{csp_nonce()}'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob:{_tile_origin()}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def set_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if actor.principal() is not None and "Cache-Control" not in headers:
        headers["Cache-Control"] = "private, no-cache"
    return response


def with_nonce(html: str, nonce: str) -> str:
    """Give every ``<script>`` tag of trusted markup (folium's generated header) the nonce.

    Only for HTML the app generates itself, never for anything holding data."""
    return _SCRIPT_TAG.sub(f'<script nonce="{nonce}"', str(html))


_SCRIPT_TAG = re.compile(r"<script\b(?![^>]*\bnonce=)", re.IGNORECASE)


def init_app(app) -> None:
    app.after_request(set_headers)
    app.jinja_env.globals.update(csrf_token=csrf_token, csp_nonce=csp_nonce)
    app.jinja_env.filters["with_nonce"] = with_nonce
