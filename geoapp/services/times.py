"""Times as answers and pages show them: stored times are UTC, people read Beijing time.

:func:`local_time` gives ISO 8601 with the +08:00 offset (JSON answers), :func:`display_time`
the minute (or the date) as every page, popup, export and printout shows it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_time(value: datetime | None) -> str | None:
    """A stored (UTC) timestamp as ISO 8601 in Beijing time, e.g. 2024-04-15T08:30:00+08:00."""
    if value is None:
        return None
    return value.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


#: How every page, popup, export and printout shows a time: Beijing time, to the minute.
DISPLAY_TIME = "%Y-%m-%d %H:%M"
DISPLAY_DATE = "%Y-%m-%d"


def display_time(value: datetime | str | None, fmt: str = DISPLAY_TIME) -> str:
    """A stored time (an aware datetime, or ISO 8601 text with an offset) as people read it,
    in Beijing time: ``2024-04-15 08:30`` ("" for None).  A naive value is taken as UTC,
    as the store keeps it.  ``fmt`` :data:`DISPLAY_DATE` gives the Beijing date alone."""
    if value is None or value == "":
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(LOCAL_TZ).strftime(fmt)
