"""Who is making the current request, for problem histories and the audit log.

One place to ask, so that accounts (issue 7) only need to change this module.
"""

from __future__ import annotations


def current_actor() -> str | None:
    """The name recorded as ``actor`` on events written by this request: the signed-in
    user's name, or the API token's name (None: anonymous, or outside a request)."""
    from flask import has_request_context

    if not has_request_context():
        return None
    from geoapp.web.permissions import principal

    p = principal()
    return p.name if p is not None else None


def current_role() -> str | None:
    """The role of the signed-in user or token (admin, coordinator, planner, inspector,
    unit); None outside a request or when anonymous."""
    from flask import has_request_context

    if not has_request_context():
        return None
    from geoapp.web.permissions import principal

    p = principal()
    return p.role if p is not None else None


def current_unit_id() -> str | None:
    """The unit a ``unit`` account speaks for (None for other roles)."""
    from flask import has_request_context

    if not has_request_context():
        return None
    from geoapp.web.permissions import principal

    p = principal()
    return p.unit_id if p is not None and p.role == "unit" else None
