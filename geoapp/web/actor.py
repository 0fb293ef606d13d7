"""Who is making the current request, for problem histories and the audit log.

One place to ask, so that accounts (issue 7) only need to change this module.
"""

from __future__ import annotations


def current_actor() -> str | None:
    """The name recorded as ``actor`` on events written by this request (None: anonymous)."""
    return None


def current_role() -> str | None:
    """The role of the current user (admin, coordinator, planner, inspector, unit); None:
    not checked (no accounts yet), every change the workflow's graph allows is allowed."""
    return None


def current_unit_id() -> str | None:
    """The unit a ``unit`` user belongs to (None for other roles)."""
    return None
