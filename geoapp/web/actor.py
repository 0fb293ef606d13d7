"""Who is making the current request: the principal (a signed-in user or an API token, found
by :func:`identify`), its role, how it authenticated, and the name recorded as the actor in
problem histories and the audit log.

The permission table (:mod:`geoapp.web.permissions`) and CSRF (:mod:`geoapp.web.security`)
both ask here; this module imports neither.
"""

from __future__ import annotations

import hmac

from flask import g, request

from geoapp.core.accounts import Principal
from geoapp.web import negotiate

ANONYMOUS = "anonymous"


def principal() -> Principal | None:
    """The principal of the current request (set by
    :func:`geoapp.web.permissions.enforce`), or None."""
    return g.get("principal")


def role() -> str:
    p = principal()
    return p.role if p else ANONYMOUS


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    return None


#: Methods HTTP Basic authentication is accepted for (reading only).
BASIC_METHODS = frozenset({"GET", "HEAD"})


def _basic() -> tuple[str, str] | None:
    """``(user, password)`` of an ``Authorization: Basic`` header, or None."""
    scheme = request.headers.get("Authorization", "").partition(" ")[0]
    if scheme.lower() != "basic":
        return None
    auth = request.authorization  # None when malformed: no user, no password
    return (auth.username or "", auth.password or "") if auth is not None else ("", "")


def basic_allowed() -> bool:
    """Basic authentication is for reading the OGC API and the JSON API (QGIS before 3.24
    cannot send a bearer token; its Basic method can)."""
    return request.method in BASIC_METHODS and (
        negotiate.is_ogc() or request.path.startswith("/api/")
    )


def identify() -> Principal | None:
    from flask_login import current_user

    from geoapp.services import accounts as services_accounts
    from geoapp.web.context import get_store

    basic = _basic()
    if basic is not None:  # user = the API token's name, password = the token
        g.auth_via = "token"
        g.auth_basic = True
        name, secret = basic
        p = services_accounts.token_principal(get_store(), secret) if basic_allowed() else None
        if p is None or not hmac.compare_digest(p.name.encode(), name.encode()):
            g.bad_token = True
            return None
        return p
    token = _bearer()
    if token is not None:
        g.auth_via = "token"
        p = services_accounts.token_principal(get_store(), token)
        if p is None:
            g.bad_token = True
        return p
    g.auth_via = "session"
    user = current_user._get_current_object() if current_user else None
    return user if isinstance(user, Principal) else None


def via_token() -> bool:
    """True when the request authenticated with ``Authorization: Bearer`` (exempt from CSRF)."""
    return g.get("auth_via") == "token" and principal() is not None


def wants_json() -> bool:
    """Whether refusals should answer in JSON: the API, token callers, a JSON ``Accept``,
    and the OGC API unless HTML is asked for (:func:`geoapp.web.negotiate.ogc_format`)."""
    if g.get("auth_via") == "token":
        return True
    if negotiate.is_ogc():
        return negotiate.ogc_format(strict=False) == negotiate.JSON
    return (
        request.path.startswith(("/api/", "/field/api/"))
        or request.accept_mimetypes.best == "application/json"
    )


def current_actor() -> str | None:
    """The name recorded as ``actor`` on events written by this request: the signed-in
    user's name, or the API token's name (None: anonymous, or outside a request)."""
    from flask import has_request_context

    if not has_request_context():
        return None
    p = principal()
    return p.name if p is not None else None


def current_role() -> str | None:
    """The role of the signed-in user or token (admin, coordinator, planner, inspector,
    unit); None outside a request or when anonymous."""
    from flask import has_request_context

    if not has_request_context():
        return None
    p = principal()
    return p.role if p is not None else None


def current_unit_id() -> str | None:
    """The unit a ``unit`` account speaks for (None for other roles)."""
    from flask import has_request_context

    if not has_request_context():
        return None
    p = principal()
    return p.unit_id if p is not None and p.role == "unit" else None
