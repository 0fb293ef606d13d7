"""Rectification deadlines: pure functions shared by the workflow and the ledger.

A category's deadline is a duration counted from the moment a problem is reported
(``categories.deadline_hours``).  Planners may write it as hours or days: ``"48"``,
``"48h"``, ``"2d"``, ``"2天"``, ``"36小时"``.

A deadline is at most :data:`MAX_DEADLINE_HOURS` (a year).  A stored value outside
(0, MAX_DEADLINE_HOURS] (written before the limit, or straight into the database) counts as
no deadline (:func:`usable_hours`), so that deadline arithmetic never leaves the range of a
date.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from geoapp.core.messages import N_, Explained
from geoapp.core.model import OPEN_STATUSES

#: The longest deadline a category may have: 365 days.
MAX_DEADLINE_HOURS = 365 * 24

_DURATION = re.compile(
    r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>h|hr|hrs|hours?|小时|d|days?|天|日)?\s*$", re.I
)


class DurationError(Explained, ValueError):
    """A text that is not a positive duration (a ValueError, as before)."""


def parse_duration_hours(text: object) -> float:
    """``"48h"`` → 48.0, ``"3d"`` / ``"3天"`` → 72.0, ``24`` → 24.0.

    Raises ValueError naming the text when it is not a positive duration of at most
    :data:`MAX_DEADLINE_HOURS`.
    """
    if isinstance(text, bool):
        raise DurationError(N_("not a duration: %(text)r"), text=text)
    if isinstance(text, (int, float)):
        hours = float(min(text, 10 * MAX_DEADLINE_HOURS))  # no OverflowError for 10**400
    else:
        m = _DURATION.match(str(text))
        if not m:
            raise DurationError(
                N_("not a duration (write hours or days, e.g. 48h or 3d): %(text)s"),
                text=_shown(text),
            )
        hours = float(m["n"])  # a long run of digits gives inf, refused below
        unit = (m["unit"] or "h").lower()
        if unit in ("d", "day", "days", "天", "日"):
            hours *= 24
    if not hours > 0 or hours != hours:
        raise DurationError(
            N_("a deadline must be a positive duration: %(text)s"), text=_shown(text)
        )
    if hours > MAX_DEADLINE_HOURS:
        raise DurationError(
            N_("a deadline is at most %(limit)s hours (365 days): %(text)s"),
            limit=MAX_DEADLINE_HOURS,
            text=_shown(text),
        )
    return hours


def _shown(text: object) -> str:
    """The input as quoted in a message, cut short."""
    shown = repr(text)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def usable_hours(hours: object) -> float | None:
    """A stored deadline in hours as a float, or None when there is none or it is outside
    (0, MAX_DEADLINE_HOURS] (or not a number)."""
    if hours is None or isinstance(hours, bool):
        return None
    try:
        value = float(hours)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return value if 0 < value <= MAX_DEADLINE_HOURS else None


def deadline(reported_at: datetime | None, hours: float | None) -> datetime | None:
    """When a problem reported at ``reported_at`` must be rectified; None without a limit."""
    usable = usable_hours(hours)
    if reported_at is None or usable is None:
        return None
    try:
        return reported_at + timedelta(hours=usable)
    except OverflowError:  # reported near the end of datetime's range
        return None


def is_overdue(status: str, due: datetime | None, now: datetime) -> bool:
    """An open problem past its deadline."""
    return due is not None and status in OPEN_STATUSES and now > due


def rectified_on_time(rectified_at: datetime | None, due: datetime | None) -> bool | None:
    """True/False once rectified (at or before the deadline counts as on time); None while
    not rectified or when the category has no deadline."""
    if rectified_at is None or due is None:
        return None
    return rectified_at <= due
