"""Rectification deadlines: pure functions shared by the workflow and the ledger.

A category's deadline is a duration counted from the moment a problem is reported
(``categories.deadline_hours``).  Planners may write it as hours or days: ``"48"``,
``"48h"``, ``"2d"``, ``"2天"``, ``"36小时"``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from geoapp.domain import OPEN_STATUSES
from geoapp.messages import N_, Explained

_DURATION = re.compile(
    r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>h|hr|hrs|hours?|小时|d|days?|天|日)?\s*$", re.I
)


class DurationError(Explained, ValueError):
    """A text that is not a positive duration (a ValueError, as before)."""


def parse_duration_hours(text: object) -> float:
    """``"48h"`` → 48.0, ``"3d"`` / ``"3天"`` → 72.0, ``24`` → 24.0.

    Raises ValueError naming the text when it is not a positive duration.
    """
    if isinstance(text, bool):
        raise DurationError(N_("not a duration: %(text)r"), text=text)
    if isinstance(text, (int, float)):
        hours = float(text)
    else:
        m = _DURATION.match(str(text))
        if not m:
            raise DurationError(
                N_("not a duration (write hours or days, e.g. 48h or 3d): %(text)r"), text=text
            )
        hours = float(m["n"])
        unit = (m["unit"] or "h").lower()
        if unit in ("d", "day", "days", "天", "日"):
            hours *= 24
    if not hours > 0 or hours != hours or hours == float("inf"):
        raise DurationError(N_("a deadline must be a positive duration: %(text)r"), text=text)
    return hours


def deadline(reported_at: datetime | None, hours: float | None) -> datetime | None:
    """When a problem reported at ``reported_at`` must be rectified; None without a limit."""
    if reported_at is None or hours is None or hours != hours:
        return None
    return reported_at + timedelta(hours=float(hours))


def is_overdue(status: str, due: datetime | None, now: datetime) -> bool:
    """An open problem past its deadline."""
    return due is not None and status in OPEN_STATUSES and now > due


def rectified_on_time(rectified_at: datetime | None, due: datetime | None) -> bool | None:
    """True/False once rectified (at or before the deadline counts as on time); None while
    not rectified or when the category has no deadline."""
    if rectified_at is None or due is None:
        return None
    return rectified_at <= due
