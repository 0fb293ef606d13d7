"""Query parameters of the read side, parsed at the edge into typed values.

Every read function takes the query parameters as a mapping of name → list of strings
(``request.args.to_dict(flat=False)``; a plain string is accepted too).  This module reads
them: one value (``_one``), a list (``_list``), a bounded whole number (``_int``), the display
CRS, the zoom, the bbox, the simplification and the problem filters (:class:`ProblemFilter`).
A bad parameter raises :class:`BadParameter`, whose message names the parameter; the web
layer turns it into a 400 answer.  No Flask here.

Parameters shared by every endpoint
-----------------------------------
Problem filters (same names in the API and in the map page's URL; each list filter may be
repeated or comma-separated, meaning "any of"):

``round``, ``category``, ``status``, ``district`` (district id), ``unit`` (responsible unit
id); ``date_from``, ``date_to``: ``YYYY-MM-DD`` Beijing dates, both inclusive.

``bbox=minlon,minlat,maxlon,maxlat`` in the display CRS (edges included; values beyond
±180°/±90° are clamped); ``display_crs``: ``wgs84`` (default), ``gcj02`` (AMap, Tencent
basemaps) or ``bd09`` (Baidu) for the coordinates of the answer; ``generation``: a boundary
generation id (default: the current one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from geoapp.core.crs import to_wgs84
from geoapp.core.messages import N_, Explained
from geoapp.core.model import DB_INT_MAX
from geoapp.services.times import LOCAL_TZ

if TYPE_CHECKING:
    from geoapp.services.reference import Reference

#: List filters: query parameter → problem field.
LIST_FILTERS = {
    "round": "round",
    "category": "category",
    "status": "status",
    "district": "district_id",
    "unit": "responsible_unit_id",
}
DATE_FILTERS = ("date_from", "date_to")
#: Every problem filter parameter, in documentation order.
FILTER_PARAMS = (*LIST_FILTERS, *DATE_FILTERS)
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
MAX_ZOOM = 24
MAX_SIMPLIFY_M = 1000.0
DISPLAY_CRS = ("wgs84", "gcj02", "bd09")
MAX_ID = DB_INT_MAX  # the largest id a table holds on both backends
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(9998, 12, 31)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Args = Mapping[str, "str | Sequence[str]"]


class BadParameter(Explained, ValueError):
    """A query parameter is missing, malformed or names something unknown (HTTP 400).

    ``param`` is the parameter's name; the message names it too.
    """

    message_arg = 1

    def __init__(self, param: str, message: str, /, **values) -> None:
        self.param = param
        super().__init__(message, **values)


# --- reading parameters -------------------------------------------------------------------
def _raw(args: Args, name: str) -> list[str]:
    value = args.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _one(args: Args, name: str) -> str | None:
    values = list(dict.fromkeys(v.strip() for v in _raw(args, name) if v.strip()))
    if not values:
        return None
    if len(values) > 1:
        raise BadParameter(
            name,
            N_("%(name)s is given %(count)s times (%(values)r); give it once"),
            name=name,
            count=len(values),
            values=values,
        )
    return values[0]


def _list(args: Args, name: str) -> list[str]:
    out: list[str] = []
    for value in _raw(args, name):
        for part in value.split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def _int(args: Args, name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = _one(args, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(
            name, N_("%(name)s=%(raw)r is not a whole number"), name=name, raw=raw
        ) from None
    if value < lo or (hi is not None and value > hi):
        upper = f" and {hi}" if hi is not None else ""
        where = f"between {lo}{upper}" if hi is not None else f"at least {lo}"
        raise BadParameter(
            name,
            N_("%(name)s=%(value)s is out of range: it must be %(where)s"),
            name=name,
            value=value,
            where=where,
        )
    return value


def parse_display_crs(args: Args) -> str:
    """``display_crs``: wgs84 (default), gcj02 or bd09."""
    raw = _one(args, "display_crs")
    if raw is None:
        return "wgs84"
    name = raw.lower().replace("-", "")
    if name not in DISPLAY_CRS:
        raise BadParameter(
            "display_crs",
            N_("display_crs=%(raw)r is not one of %(names)s"),
            raw=raw,
            names=", ".join(DISPLAY_CRS),
        )
    return name


def parse_zoom(args: Args) -> float:
    """``zoom``: required, a number from 0 to 24 (fractional zooms are allowed)."""
    raw = _one(args, "zoom")
    if raw is None:
        raise BadParameter("zoom", N_("zoom is required: the map's zoom level, 0 to 24"))
    try:
        zoom = float(raw)
    except ValueError:
        raise BadParameter("zoom", N_("zoom=%(raw)r is not a number"), raw=raw) from None
    if not (np.isfinite(zoom) and 0 <= zoom <= MAX_ZOOM):
        raise BadParameter(
            "zoom",
            N_("zoom=%(raw)r is out of range: it must be 0 to %(max_zoom)s"),
            raw=raw,
            max_zoom=MAX_ZOOM,
        )
    return zoom


def parse_bbox(args: Args, display: str = "wgs84") -> tuple[float, float, float, float] | None:
    """``bbox=minlon,minlat,maxlon,maxlat`` in the display CRS → a WGS84 box (or None)."""
    raw = _one(args, "bbox")
    if raw is None:
        return None
    parts = raw.split(",")
    hint = "expected four numbers minlon,minlat,maxlon,maxlat"
    if len(parts) != 4:
        raise BadParameter("bbox", N_("bbox=%(raw)r: %(hint)s"), raw=raw, hint=hint)
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise BadParameter("bbox", N_("bbox=%(raw)r: %(hint)s"), raw=raw, hint=hint) from None
    if not all(np.isfinite(values)):
        raise BadParameter("bbox", N_("bbox=%(raw)r: every value must be a finite number"), raw=raw)
    minx, miny, maxx, maxy = values
    if minx > maxx or miny > maxy:
        raise BadParameter(
            "bbox", N_("bbox=%(raw)r: a minimum is greater than its maximum"), raw=raw
        )
    minx, maxx = (float(np.clip(v, -180.0, 180.0)) for v in (minx, maxx))
    miny, maxy = (float(np.clip(v, -90.0, 90.0)) for v in (miny, maxy))
    if display == "wgs84":
        return (minx, miny, maxx, maxy)
    # The display CRS differs from WGS84 by a smooth offset: convert the outline and take
    # its envelope.
    xs = np.array([minx, (minx + maxx) / 2, maxx, maxx, maxx, (minx + maxx) / 2, minx, minx])
    ys = np.array([miny, miny, miny, (miny + maxy) / 2, maxy, maxy, maxy, (miny + maxy) / 2])
    lon, lat = to_wgs84(xs, ys, display)
    return (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))


def _parse_date(args: Args, name: str) -> date | None:
    raw = _one(args, name)
    if raw is None:
        return None
    try:
        if not _DATE.match(raw):
            raise ValueError
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(
            name, N_("%(name)s=%(raw)r is not a date written YYYY-MM-DD"), name=name, raw=raw
        ) from None
    _in_range(name, raw, day)
    return day


def _in_range(name: str, raw: str, day: date) -> None:
    """Refuse a day outside FIRST_DATE..LAST_DATE (what both backends store)."""
    if not FIRST_DATE <= day <= LAST_DATE:
        raise BadParameter(
            name,
            N_("%(name)s=%(raw)r is out of range (%(first_date)s to %(last_date)s)"),
            name=name,
            raw=raw,
            first_date=FIRST_DATE,
            last_date=LAST_DATE,
        )


# --- problem filters ------------------------------------------------------------------------
@dataclass(frozen=True)
class ProblemFilter:
    """Parsed problem filters: ``store`` holds the store's filter keys (no bbox), ``key`` a
    hashable normal form of them, ``bbox`` the WGS84 box or None."""

    store: dict = field(hash=False, compare=False)
    key: tuple = ()
    bbox: tuple[float, float, float, float] | None = None

    def with_bbox(self) -> dict:
        return {**self.store, "bbox": self.bbox} if self.bbox else dict(self.store)


def parse_problem_filter(args: Args, ref: Reference, display: str = "wgs84") -> ProblemFilter:
    """The problem filters of a request, checked against the reference data."""
    store: dict[str, Any] = {}
    key: list[tuple[str, Any]] = []
    for param, field_name in LIST_FILTERS.items():
        values = _list(args, param)
        if not values:
            continue
        known = ref.known(param)
        if known is not None:
            unknown = [v for v in values if v not in known]
            if unknown:
                shown = ", ".join(list(known)[:8]) + (", …" if len(known) > 8 else "")
                raise BadParameter(
                    param,
                    N_("%(param)s: unknown value %(value)r (known values: %(shown)s)"),
                    param=param,
                    value=unknown[0],
                    shown=shown,
                )
        store[field_name] = values
        key.append((field_name, tuple(sorted(values))))
    first = _parse_date(args, "date_from")
    last = _parse_date(args, "date_to")
    if first and last and first > last:
        raise BadParameter(
            "date_from", N_("date_from=%(first)s is after date_to=%(last)s"), first=first, last=last
        )
    if first:
        store["date_from"] = datetime.combine(first, time(0), LOCAL_TZ)
        key.append(("date_from", first.isoformat()))
    if last:
        store["date_to"] = datetime.combine(last + timedelta(days=1), time(0), LOCAL_TZ)
        key.append(("date_to", last.isoformat()))
    return ProblemFilter(store, tuple(key), parse_bbox(args, display))


def normalised_query(args: Args) -> list[tuple[str, list[str]]]:
    """The query parameters in a normal form: names sorted, empty values dropped, list
    filters split on commas and sorted."""
    out = []
    for name in sorted(args):
        if name in LIST_FILTERS:
            values = sorted(_list(args, name))
        else:
            values = [v.strip() for v in _raw(args, name) if v.strip()]
        if values:
            out.append((name, values))
    return out


def _checked_ids(args: Args, param: str, ref: Reference) -> list[str]:
    values = _list(args, param)
    known = ref.known(param) or ()
    for v in values:
        if v not in known:
            raise BadParameter(param, N_("%(param)s: unknown value %(v)r"), param=param, v=v)
    return values


def _parse_simplify(args: Args) -> float:
    raw = _one(args, "simplify")
    if raw is None:
        return 0.0
    try:
        metres = float(raw)
    except ValueError:
        raise BadParameter(
            "simplify", N_("simplify=%(raw)r is not a number of metres"), raw=raw
        ) from None
    if not (np.isfinite(metres) and 0 <= metres <= MAX_SIMPLIFY_M):
        raise BadParameter(
            "simplify",
            N_("simplify=%(raw)r is out of range: 0 to %(max_simplify_m)s metres"),
            raw=raw,
            max_simplify_m=format(MAX_SIMPLIFY_M, "g"),
        )
    return metres


# --- OGC datetime ---------------------------------------------------------------------------
_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2}))?$"
)


def _instant(raw: str, name: str) -> tuple[datetime, datetime]:
    """An RFC 3339 date-time (with its offset) or full date as the span it names: a date is
    that UTC day, a date-time the second (or the fraction written) it names."""
    found = _RFC3339.match(raw)
    try:
        if found is None:
            raise ValueError
        day, hour, minute, second, fraction, offset = found.groups()
        first = date.fromisoformat(day)
        if hour is None:
            start = datetime.combine(first, time(0), UTC)
            return start, start + timedelta(days=1)
        digits = (fraction or "")[:6]
        stamp = f"{day}T{hour}:{minute}:{second}" + (f".{digits.ljust(6, '0')}" if digits else "")
        offset = "+00:00" if offset in ("Z", "z") else offset
        start = datetime.fromisoformat(stamp + offset)
    except ValueError:
        raise BadParameter(
            name,
            N_(
                "%(name)s=%(raw)r: expected an RFC 3339 date-time with its offset "
                "(2026-01-01T08:00:00Z), a date (2026-01-01), or an interval of them "
                "(start/end, .. for an open end)"
            ),
            name=name,
            raw=raw,
        ) from None
    _in_range(name, raw, start.astimezone(UTC).date())
    return start, start + timedelta(microseconds=10 ** (6 - len(digits)) if digits else 10**6)


def parse_datetime(args: Args, name: str = "datetime") -> tuple[datetime | None, datetime | None]:
    """OGC API ``datetime`` (OGC 17-069r4 7.15.4): an instant, a closed interval ``a/b`` or
    a half-bounded one (``../b``, ``a/..``; an empty end is open too), as the span
    ``[start, end)`` of the times it covers (None: unbounded; both ends of an interval are
    included).  An instant covers what it names: a date the whole UTC day, a date-time its
    second (or its written fraction).  Anything else raises BadParameter."""
    raw = _one(args, name)
    if raw is None:
        return None, None
    ends = raw.split("/")
    if len(ends) == 1:
        if raw == "..":
            raise BadParameter(
                name, N_("%(name)s=%(raw)r: an instant cannot be open"), name=name, raw=raw
            )
        return _instant(raw, name)
    if len(ends) != 2:
        raise BadParameter(
            name, N_("%(name)s=%(raw)r: an interval has two ends, start/end"), name=name, raw=raw
        )
    start = None if ends[0] in ("", "..") else _instant(ends[0], name)[0]
    end = None if ends[1] in ("", "..") else _instant(ends[1], name)[1]
    if start is None and end is None:
        raise BadParameter(
            name, N_("%(name)s=%(raw)r: an interval needs at least one end"), name=name, raw=raw
        )
    if start is not None and end is not None and start >= end:
        raise BadParameter(
            name, N_("%(name)s=%(raw)r: the interval ends before it starts"), name=name, raw=raw
        )
    return start, end
