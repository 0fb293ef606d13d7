"""Who is making the current request, for problem histories and the audit log.

One place to ask, so that accounts (issue 7) only need to change this module.
"""

from __future__ import annotations


def current_actor() -> str | None:
    """The name recorded as ``actor`` on events written by this request (None: anonymous)."""
    return None
