"""Read-side use cases: what the JSON API and the pages show.

Framework-neutral, as in pygeoapi: every function takes the store, the query parameters as
a mapping of name → list of strings (``request.args.to_dict(flat=False)``; a plain string
is accepted too) and the locale, and returns JSON-ready data (GeoJSON dicts).  Bad
parameters raise :class:`BadParameter`, whose message names the parameter; the web layer
turns it into a 400 answer.  No Flask here.

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

Caches (in memory, per store): reference tables per data version; area frames, district
unions and simplified outlines per generation (and its version); the problem columns used by
clustering and summaries per filter set, dropped when the store's data version changes.
Every entry is checked against the data version read from the database in the same
transaction, so writes made by other processes or servers are seen on the next request.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping
from shapely.ops import polylabel

from geoapp.core import clustering, workflow
from geoapp.core.crs import from_wgs84, to_wgs84
from geoapp.core.deadlines import deadline, is_overdue
from geoapp.core.messages import N_, Explained
from geoapp.core.model import (
    AREA_KINDS,
    DB_INT_MAX,
    OPEN_STATUSES,
    STATUSES,
    UNIT_KINDS,
    URGENCY,
    urgency_class,
)
from geoapp.core.palette import DISTRICT_COLOURS
from geoapp.store import AREA_COLUMNS, DEFAULT_STATUS, NotFound

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
GEOJSON = "application/geo+json"

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
SEARCH_LIMIT = 20
MAX_ID = DB_INT_MAX  # the largest id a table holds on both backends
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(9998, 12, 31)
#: Statuses a filter may name: the domain's, plus the store's default for new problems.
KNOWN_STATUSES = (*STATUSES, DEFAULT_STATUS)
CLOSED_STATUSES = frozenset(STATUSES) - frozenset(OPEN_STATUSES)
SUMMARY_COLUMNS = ("category", "district_id", "responsible_unit_id", "duplicate_of")
TYPE_LABELS = {
    "zh": {"district": "片区", "area": "包干区", "unit": "单位"},
    "en": {"district": "district", "area": "area", "unit": "unit"},
}
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
    if not FIRST_DATE <= day <= LAST_DATE:
        raise BadParameter(
            name,
            N_("%(name)s=%(raw)r is out of range (%(first_date)s to %(last_date)s)"),
            name=name,
            raw=raw,
            first_date=FIRST_DATE,
            last_date=LAST_DATE,
        )
    return day


# --- reference data -----------------------------------------------------------------------
@dataclass
class Reference:
    """Units, districts and categories, by id (districts in id order)."""

    units: dict[str, dict]
    districts: dict[str, dict]
    categories: dict[str, dict]

    def colour(self, district_id: str | None) -> str | None:
        ids = list(self.districts)
        if district_id not in self.districts:
            return None
        return DISTRICT_COLOURS[ids.index(district_id) % len(DISTRICT_COLOURS)]

    def unit_name(self, unit_id: str | None) -> str | None:
        return self.units.get(unit_id, {}).get("name") if unit_id else None

    def district_name(self, district_id: str | None) -> str | None:
        return self.districts.get(district_id, {}).get("name") if district_id else None

    def category_label(self, category: str | None, locale: str) -> str | None:
        c = self.categories.get(category) if category else None
        if c is None:
            return category
        label = c.get("name_zh") if _zh(locale) else c.get("name_en")
        return label or category

    def known(self, param: str) -> Sequence[str] | None:
        """The values a list filter may take (None: any)."""
        return {
            "status": KNOWN_STATUSES,
            "category": list(self.categories),
            "district": list(self.districts),
            "unit": list(self.units),
        }.get(param)


def _zh(locale: str | None) -> bool:
    return str(locale or "zh").lower().startswith("zh")


def _label(code: str | None, labels: Mapping[str, str], locale: str) -> str | None:
    if code is None:
        return None
    if _zh(locale):
        return labels.get(code, code)
    return code.replace("_", " ")


def status_label(status: str | None, locale: str) -> str | None:
    return _label(status, STATUSES, locale)


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


# --- caches ---------------------------------------------------------------------------------
class _StoreCache:
    SIZES = {
        "reference": 2,
        "areas": 8,
        "districts": 8,
        "geometries": 16,
        "points": 12,
        "values": 8,
        "deadlines": 2,
    }

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tables: dict[str, OrderedDict] = {name: OrderedDict() for name in self.SIZES}

    def get(
        self,
        table: str,
        key: Any,
        version: Any,
        make: Callable[[], Any],
        update: Callable[[Any, Any], Any] | None = None,
    ) -> Any:
        """The cached value for ``key`` if it was made at ``version``; else
        ``update(old_version, old_value)`` when given and it returns a value, else ``make()``.
        """
        entries = self.tables[table]
        with self.lock:
            hit = entries.get(key)
            if hit is not None and hit[0] == version:
                entries.move_to_end(key)
                return hit[1]
        value = None
        if hit is not None and update is not None:
            value = update(hit[0], hit[1])
        if value is None:
            value = make()
        with self.lock:
            entries[key] = (version, value)
            entries.move_to_end(key)
            while len(entries) > self.SIZES[table]:
                entries.popitem(last=False)
        return value


_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache(store) -> _StoreCache:
    with _caches_lock:
        cache = _caches.get(store)
        if cache is None:
            cache = _caches[store] = _StoreCache()
        return cache


def forget(store=None) -> None:
    """Drop the cached data of one store (or of all)."""
    with _caches_lock:
        if store is None:
            _caches.clear()
        else:
            _caches.pop(store, None)


@dataclass
class _Read:
    """One consistent read: the transaction, the data version and the reference data."""

    store: Any
    tx: Any
    version: dict[str, str]
    ref: Reference
    cache: _StoreCache


@contextmanager
def _reading(store) -> Iterator[_Read]:
    cache = _cache(store)
    with store.transaction() as tx:
        version = tx.data_version()

        def load() -> Reference:
            return Reference(
                units={u["unit_id"]: u for u in tx.list_units()},
                districts={d["district_id"]: d for d in tx.list_districts()},
                categories={c["category"]: c for c in tx.list_categories()},
            )

        ref = cache.get("reference", "ref", version["reference"], load)
        yield _Read(store, tx, version, ref, cache)


def _generation(read: _Read, args: Args) -> dict | None:
    """The generation asked for (``generation``) or the current one (None if none)."""
    raw = _one(args, "generation")
    if raw is None:
        return read.tx.current_generation()
    try:
        gid = int(raw)
        if not 0 < gid <= MAX_ID:
            raise ValueError
    except ValueError:
        raise BadParameter(
            "generation", N_("generation=%(raw)r is not a generation number"), raw=raw
        ) from None
    try:
        return read.tx.get_generation(gid)
    except NotFound:
        raise BadParameter(
            "generation", N_("generation=%(gid)s: unknown generation"), gid=gid
        ) from None


def _gen_key(gen: dict) -> tuple:
    return (gen["id"], gen["version"], gen["status"])


def _areas(read: _Read, gen: dict | None) -> gpd.GeoDataFrame:
    """The generation's areas (an empty frame for None), cached per generation version."""
    if gen is None:
        return gpd.GeoDataFrame(
            {c: pd.Series([], dtype=object) for c in AREA_COLUMNS},
            geometry=gpd.GeoSeries([], crs="EPSG:4326"),
            crs="EPSG:4326",
        )
    return read.cache.get("areas", gen["id"], _gen_key(gen), lambda: read.tx.areas(gen["id"]))


def _area_names(read: _Read, generation_ids) -> dict[tuple[int, str], str]:
    """(generation id, area id) → area name, for the generations problems were assigned in."""
    names: dict[tuple[int, str], str] = {}
    for gid in sorted({g for g in generation_ids if g is not None}):
        try:
            gen = read.tx.get_generation(gid)
        except NotFound:  # pragma: no cover - problems reference generations by foreign key
            continue
        frame = _areas(read, gen)
        names.update(zip(((gid, a) for a in frame["area_id"]), frame["name"], strict=True))
    return names


def _district_shapes(read: _Read, gen: dict | None) -> dict[str, dict]:
    """district id → {"geometry": union of its areas, "area_count", "label_point"}."""
    if gen is None:
        return {}

    def make() -> dict[str, dict]:
        frame = _areas(read, gen)
        out = {}
        for did, group in frame.groupby("district_id", sort=True):
            union = shapely.orient_polygons(shapely.union_all(group.geometry.values))
            largest = max(getattr(union, "geoms", [union]), key=lambda g: g.area)
            try:
                label = polylabel(largest, tolerance=1e-5)
            except Exception:  # pragma: no cover - polylabel needs a polygon
                label = union.representative_point()
            out[did] = {"geometry": union, "area_count": len(group), "label_point": label}
        return out

    return read.cache.get("districts", gen["id"], _gen_key(gen), make)


def _simplified(read: _Read, gen: dict, metres: float) -> np.ndarray:
    """The generation's area outlines simplified to ``metres`` as one coverage (shared edges
    stay shared), in the order of :func:`_areas`."""

    def make() -> np.ndarray:
        geoms = np.asarray(_areas(read, gen).geometry.values, dtype=object)
        if not len(geoms):
            return geoms
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        k = np.array([111_320.0 * np.cos(np.radians((miny + maxy) / 2)), 110_574.0])
        local = shapely.transform(geoms, lambda c: c * k)
        try:
            simple = shapely.coverage_simplify(local, metres)
        except shapely.errors.GEOSException:  # pragma: no cover - not a valid coverage
            simple = shapely.simplify(local, metres, preserve_topology=True)
        return shapely.transform(simple, lambda c: c / k)

    return read.cache.get("geometries", (gen["id"], "simplify", metres), _gen_key(gen), make)


def _with_status_codes(pts: dict[str, Any]) -> dict[str, Any]:
    codes, vocab = pd.factorize(pts["status"])
    pts["status_code"] = codes.astype(np.int64)
    pts["status_vocab"] = [str(v) for v in vocab]
    return pts


def _area_geometries(read: _Read, gen: dict | None, metres: float, display: str) -> list:
    """The GeoJSON geometries of a generation's areas (simplified to ``metres`` if > 0, in
    the display CRS), in the order of :func:`_areas`; cached."""
    if gen is None:
        return []

    def make() -> list:
        exact = metres <= 0
        geoms = _areas(read, gen).geometry.values if exact else _simplified(read, gen, metres)
        return [_geometry(g, display) for g in geoms]

    key = (gen["id"], "geojson", metres, display)
    return read.cache.get("geometries", key, _gen_key(gen), make)


def _points(read: _Read, flt: ProblemFilter, extra: Sequence[str] = ()) -> dict[str, Any]:
    """The filtered problems' columns (no bbox applied), cached per filter and data version.

    After a write, only the problems added or changed since the cached version are read
    again and merged in (a full reload when the store cannot tell which changed).
    """

    def make() -> dict[str, Any]:
        return _with_status_codes(read.tx.problem_points(flt.store, extra=extra))

    def update(old_version: str, old: dict[str, Any]) -> dict[str, Any] | None:
        changed = read.tx.problem_changes(old_version)
        if changed is None:
            return None
        fresh = read.tx.problem_points(flt.store, extra=extra, ids=changed)
        keep = ~np.isin(old["id"], np.asarray(changed, dtype=np.int64))
        merged = {k: np.concatenate([old[k][keep], fresh[k]]) for k in fresh}
        order = np.argsort(merged["id"], kind="stable")
        return _with_status_codes({k: v[order] for k, v in merged.items()})

    key = (flt.key, tuple(extra))
    return read.cache.get("points", key, read.version["problems"], make, update)


def _in_bbox(lon: np.ndarray, lat: np.ndarray, bbox) -> np.ndarray:
    minx, miny, maxx, maxy = bbox
    return (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)


# --- GeoJSON --------------------------------------------------------------------------------
def _to_display(lon, lat, display: str) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    if display != "wgs84":
        ok = np.isfinite(lon) & np.isfinite(lat)
        x, y = lon.copy(), lat.copy()
        if ok.any():
            x[ok], y[ok] = from_wgs84(lon[ok], lat[ok], display)
        lon, lat = x, y
    return np.round(lon, 7), np.round(lat, 7)


def _geometry(geom, display: str) -> dict | None:
    if geom is None or geom.is_empty:
        return None

    def convert(coords: np.ndarray) -> np.ndarray:
        x, y = _to_display(coords[:, 0], coords[:, 1], display)
        return np.column_stack([x, y])

    # RFC 7946: exterior rings counter-clockwise, holes clockwise
    return mapping(shapely.orient_polygons(shapely.transform(geom, convert)))


def _point(lon, lat) -> dict | None:
    if lon is None or lat is None or not (np.isfinite(lon) and np.isfinite(lat)):
        return None
    return {"type": "Point", "coordinates": [float(lon), float(lat)]}


def _collection(features: list[dict], **members) -> dict:
    return {"type": "FeatureCollection", "features": features, **members}


def _bounds(geom) -> list[float] | None:
    if geom is None or geom.is_empty:
        return None
    return [round(float(v), 7) for v in geom.bounds]


def _display_bbox(bbox, display: str) -> list[float] | None:
    if bbox is None:
        return None
    minx, miny, maxx, maxy = bbox
    x, y = _to_display([minx, maxx, minx, maxx], [miny, miny, maxy, maxy], display)
    return [float(x.min()), float(y.min()), float(x.max()), float(y.max())]


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


# --- districts, areas, units ----------------------------------------------------------------
def districts(store, args: Args, locale: str = "zh") -> dict:
    """The seven districts as the union of their areas (``generation``, ``district``)."""
    display = parse_display_crs(args)
    with _reading(store) as read:
        gen = _generation(read, args)
        wanted = _checked_ids(args, "district", read.ref)
        shapes = _district_shapes(read, gen)
        ref = read.ref
    features = []
    for did, d in ref.districts.items():
        shape = shapes.get(did)
        if shape is None or (wanted and did not in wanted):
            continue
        lead = ref.units.get(d.get("lead_unit_id"), {})
        label = shape["label_point"]
        lx, ly = _to_display([label.x], [label.y], display)
        features.append(
            {
                "type": "Feature",
                "id": did,
                "geometry": _geometry(shape["geometry"], display),
                "properties": {
                    "id": did,
                    "name": d["name"],
                    "lead_unit_id": d.get("lead_unit_id"),
                    "lead_unit_name": lead.get("name"),
                    "lead_unit_contact": lead.get("contact"),
                    "lead_unit_phone": lead.get("phone"),
                    "colour": ref.colour(did),
                    "area_count": shape["area_count"],
                    "label_point": [float(lx[0]), float(ly[0])],
                },
            }
        )
    return _collection(features, generation=gen["id"] if gen else None)


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


def areas(store, args: Args, locale: str = "zh") -> dict:
    """Contracted areas (``generation``, ``district``, ``unit``, ``bbox``, ``simplify``)."""
    display = parse_display_crs(args)
    metres = _parse_simplify(args)
    bbox = parse_bbox(args, display)
    with _reading(store) as read:
        gen = _generation(read, args)
        district_ids = set(_checked_ids(args, "district", read.ref))
        unit_ids = set(_checked_ids(args, "unit", read.ref))
        frame = _areas(read, gen)
        geometries = _area_geometries(read, gen, metres, display)
        ref = read.ref
    keep = np.ones(len(frame), dtype=bool)
    if district_ids:
        keep &= frame["district_id"].isin(district_ids).to_numpy()
    if unit_ids:
        keep &= frame["responsible_unit_id"].isin(unit_ids).to_numpy()
    if bbox is not None:
        keep &= shapely.intersects(frame.geometry.values, shapely.box(*bbox))
    features = []
    for i in np.flatnonzero(keep):
        row = frame.iloc[i]
        unit = ref.units.get(row["responsible_unit_id"], {})
        features.append(
            {
                "type": "Feature",
                "id": row["area_id"],
                "geometry": geometries[i],
                "properties": {
                    "id": row["area_id"],
                    "name": row["name"],
                    "kind": row["kind"],
                    "kind_label": _label(row["kind"], AREA_KINDS, locale),
                    "district_id": row["district_id"],
                    "district_name": ref.district_name(row["district_id"]),
                    "responsible_unit_id": row["responsible_unit_id"],
                    "responsible_unit_name": unit.get("name"),
                    "contact": unit.get("contact"),
                    "phone": unit.get("phone"),
                },
            }
        )
    return _collection(features, generation=gen["id"] if gen else None)


def units(store, args: Args, locale: str = "zh") -> dict:
    """Units at their offices, with how many areas they answer for (``generation``)."""
    display = parse_display_crs(args)
    with _reading(store) as read:
        gen = _generation(read, args)
        frame = _areas(read, gen)
        ref = read.ref
    counts = frame["responsible_unit_id"].value_counts().to_dict()
    rows = list(ref.units.values())
    lon, lat = _to_display(
        [np.nan if u.get("lon") is None else u["lon"] for u in rows],
        [np.nan if u.get("lat") is None else u["lat"] for u in rows],
        display,
    )
    features = []
    for u, x, y in zip(rows, lon, lat, strict=True):
        features.append(
            {
                "type": "Feature",
                "id": u["unit_id"],
                "geometry": _point(x, y),
                "properties": {
                    "id": u["unit_id"],
                    "name": u["name"],
                    "kind": u.get("kind"),
                    "kind_label": _label(u.get("kind"), UNIT_KINDS, locale),
                    "contact": u.get("contact"),
                    "phone": u.get("phone"),
                    "lead_district_id": u.get("lead_district_id"),
                    "area_count": int(counts.get(u["unit_id"], 0)),
                },
            }
        )
    return _collection(features, generation=gen["id"] if gen else None)


# --- problems -------------------------------------------------------------------------------
def _problem_features(
    rows: list[dict], read: _Read, locale: str, display: str, now: datetime | None = None
) -> list[dict]:
    """GeoJSON features of problem rows; ``overdue`` as at ``now`` (default: the present)."""
    ref = read.ref
    names = _area_names(read, (r["generation_id"] for r in rows))
    lon, lat = _to_display(
        [np.nan if r["lon"] is None else r["lon"] for r in rows],
        [np.nan if r["lat"] is None else r["lat"] for r in rows],
        display,
    )
    features = []
    now = now or datetime.now(UTC)
    for r, x, y in zip(rows, lon, lat, strict=True):
        cat = ref.categories.get(r["category"]) if r["category"] else None
        due = deadline(r["reported_at"], (cat or {}).get("deadline_hours"))
        features.append(
            {
                "type": "Feature",
                "id": r["id"],
                "geometry": _point(x, y),
                "properties": {
                    "id": r["id"],
                    "problem_id": r["problem_id"],
                    "round": r["round"],
                    "category": r["category"],
                    "category_label": ref.category_label(r["category"], locale),
                    "description": r["description"],
                    "deduction": r["deduction"],
                    "reported_at": local_time(r["reported_at"]),
                    "status": r["status"],
                    "status_label": status_label(r["status"], locale),
                    "area_id": r["area_id"],
                    "area_name": names.get((r["generation_id"], r["area_id"])),
                    "district_id": r["district_id"],
                    "district_name": ref.district_name(r["district_id"]),
                    "responsible_unit_id": r["responsible_unit_id"],
                    "responsible_unit_name": ref.unit_name(r["responsible_unit_id"]),
                    "lead_unit_id": r["lead_unit_id"],
                    "lead_unit_name": ref.unit_name(r["lead_unit_id"]),
                    "rule_id": r["rule_id"],
                    "generation": r["generation_id"],
                    "due_at": local_time(due),
                    "overdue": _overdue(r["status"], due, now),
                    "duplicate_of": r["duplicate_of"],
                },
            }
        )
    return features


#: The statuses whose problems can be overdue: the open ones and a new, unassigned problem.
OVERDUE_STATUSES = (*OPEN_STATUSES, DEFAULT_STATUS)


def _overdue(status: str, due: datetime | None, now: datetime) -> bool:
    return is_overdue(status, due, now) or (
        status == DEFAULT_STATUS and due is not None and now > due
    )


def page_links(url: str, args: Args, limit: int, offset: int, returned: int, matched: int):
    """``self``, ``next`` and ``prev`` links of a page, keeping the other query parameters."""
    keep = [(k, v) for k in sorted(args) if k not in ("limit", "offset") for v in _raw(args, k)]

    def link(rel: str, start: int) -> dict:
        query = urlencode([*keep, ("limit", limit), ("offset", start)])
        return {"rel": rel, "type": GEOJSON, "href": f"{url}?{query}"}

    links = [link("self", offset)]
    if offset + returned < matched:
        links.append(link("next", offset + limit))
    if offset > 0:
        links.append(link("prev", max(0, offset - limit)))
    return links


def problems(
    store,
    args: Args,
    locale: str = "zh",
    url: str = "/api/problems",
    paged: bool = True,
    now: datetime | None = None,
) -> dict:
    """Problem points matching the filters, sorted by id, paged with ``limit``/``offset``
    (``paged=False``: all of them, as the old ``/api/problems.geojson``); ``overdue`` as at
    ``now`` (default: the present)."""
    display = parse_display_crs(args)
    limit = _int(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT) if paged else None
    offset = _int(args, "offset", 0, 0, MAX_ID) if paged else 0
    with _reading(store) as read:
        flt = parse_problem_filter(args, read.ref, display)
        where = flt.with_bbox()
        matched = read.tx.count_problems(where)
        rows = read.tx.problems(where, limit=limit, offset=offset)
        features = _problem_features(rows, read, locale, display, now)
    out = _collection(features, numberMatched=matched, numberReturned=len(features))
    if paged:
        out["links"] = page_links(url, args, limit, offset, len(features), matched)
    return out


def problem(
    store, problem_pk: int, args: Args, locale: str = "zh", now: datetime | None = None
) -> dict:
    """One problem with its history (``events``) and the coordinates it was reported in;
    ``overdue`` as at ``now`` (default: the present)."""
    display = parse_display_crs(args)
    if not 0 < problem_pk <= MAX_ID:
        raise NotFound(N_("unknown problem id %(problem_pk)r"), problem_pk=problem_pk)
    with _reading(store) as read:
        row = read.tx.get_problem(problem_pk)
        events = read.tx.problem_events(row["id"])
        photos = read.tx.problem_photos(row["id"])
        feature = _problem_features([row], read, locale, display, now)[0]
    feature["properties"] |= {
        "source_crs": row["source_crs"],
        "source_x": row["source_x"],
        "source_y": row["source_y"],
        "photos": [
            {
                "id": ph["id"],
                "content_type": ph["content_type"],
                "bytes": ph["size_bytes"],
                "uploaded_at": local_time(ph["uploaded_at"]),
                "uploaded_by": ph["uploaded_by"],
                "stage": ph.get("stage"),
            }
            for ph in photos
        ],
        "events": [
            {
                "at": local_time(e["at"]),
                "actor": e["actor"],
                "kind": e["kind"],
                "detail": e["detail"],
                "note": e["note"],
            }
            for e in events
        ],
    }
    return feature


def _due_seconds(read: _Read, pts: dict[str, Any]) -> np.ndarray:
    """Each point's deadline (POSIX seconds; NaN without one), from its ``reported_at`` and
    ``category`` columns and the categories' deadlines."""
    hours = {c: v.get("deadline_hours") for c, v in read.ref.categories.items()}
    limit = pd.to_numeric(pd.Series(pts["category"]).map(hours), errors="coerce")
    return pts["reported_at"] + limit.to_numpy(np.float64) * 3600.0


#: The point columns clustering reads besides id, position, status and deduction.
CLUSTER_COLUMNS = ("category", "reported_at")


def _urgency(pts: dict[str, Any], due: np.ndarray, now: datetime) -> np.ndarray:
    """Each point's place in :data:`URGENCY` (0 = overdue)."""
    vocab = pts["status_vocab"]
    opened = np.array([workflow.is_open(s) for s in vocab] or [False])[pts["status_code"]]
    with np.errstate(invalid="ignore"):
        overdue = opened & (due < now.timestamp())
    rank = np.array([URGENCY.index(urgency_class(s, False)) for s in vocab] or [0])
    return np.where(overdue, 0, rank[pts["status_code"]]).astype(np.int64)


def problem_clusters(store, args: Args, locale: str = "zh", now: datetime | None = None) -> dict:
    """Problems clustered on a grid of about 60 screen pixels at ``zoom`` (required).

    Each feature is a single problem ``{"count": 1, "id", "status", "overdue", "worst",
    "deduction"}`` or a cluster ``{"count": n, "statuses": {status: n}, "overdue": n,
    "ring": [[class, n], ...], "worst": class, "deduction": total}`` at the mean position.
    ``ring`` counts the problems per class of :data:`geoapp.core.model.URGENCY` (an overdue
    problem only as "overdue"), most urgent first; ``worst`` is its first class, the colour
    the map draws the dot in, so open and overdue problems show through closed ones.
    ``numberMatched`` counts the problems drawn (filters and bbox), ``numberFiltered``
    those matching the filters anywhere.
    """
    zoom = parse_zoom(args)
    display = parse_display_crs(args)
    now = now or datetime.now(UTC)
    with _reading(store) as read:
        flt = parse_problem_filter(args, read.ref, display)
        pts = _points(read, flt, CLUSTER_COLUMNS)
        due = _due_seconds(read, pts)
    urgency = _urgency(pts, due, now)
    lon, lat = pts["lon"], pts["lat"]
    mask = np.isfinite(lon) & np.isfinite(lat)
    filtered = int(mask.sum())
    if flt.bbox is not None:
        mask &= _in_bbox(lon, lat, flt.bbox)
    sel = np.flatnonzero(mask)
    clusters = clustering.grid_clusters(lon[sel], lat[sel], zoom)
    deduction = clustering.cluster_sums(clusters, pts["deduction"][sel])
    vocab = pts["status_vocab"]
    tallies = clustering.cluster_tallies(clusters, pts["status_code"][sel], max(len(vocab), 1))
    classes = clustering.cluster_tallies(clusters, urgency[sel], len(URGENCY))
    x, y = _to_display(clusters.lon, clusters.lat, display)
    ids, statuses = pts["id"], pts["status"]
    features = []
    for i, n in enumerate(clusters.count.tolist()):
        ring = [[URGENCY[c], int(classes[i, c])] for c in np.flatnonzero(classes[i])]
        if n == 1:
            j = sel[clusters.first[i]]
            props = {
                "count": 1,
                "id": int(ids[j]),
                "status": statuses[j],
                "overdue": bool(urgency[j] == 0),
                "worst": ring[0][0],
                "deduction": round(float(deduction[i]), 2),
            }
        else:
            row = tallies[i]
            props = {
                "count": n,
                "statuses": {vocab[s]: int(row[s]) for s in np.flatnonzero(row)},
                "overdue": int(classes[i, 0]),
                "ring": ring,
                "worst": ring[0][0],
                "deduction": round(float(deduction[i]), 2),
            }
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(x[i]), float(y[i])]},
                "properties": props,
            }
        )
    return _collection(
        features,
        numberMatched=len(sel),
        numberFiltered=filtered,
        zoom=zoom,
        cellPixels=clustering.CELL_PX,
    )


# --- summary, search ------------------------------------------------------------------------
def _totals(values: np.ndarray, deduction: np.ndarray) -> list[tuple[Any, int, float]]:
    """(value, problems, deduction) per distinct value; None for empty values."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    n = len(uniques)
    codes = np.where(codes < 0, n, codes)
    counts = np.bincount(codes, minlength=n + 1)
    sums = np.bincount(codes, weights=deduction, minlength=n + 1)
    out = [(uniques[i], int(counts[i]), float(sums[i])) for i in range(n)]
    if counts[n]:
        out.append((None, int(counts[n]), float(sums[n])))
    return out


def _ranked(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (-r["deduction"], -r["problems"], r["id"] is None, r["id"]))


def summary(store, args: Args, locale: str = "zh") -> dict:
    """Totals of the problems matching the filters (and ``bbox``): count, deduction, open,
    by status, category, responsible unit and district.  A problem linked as a duplicate
    (``duplicate_of``) is counted but adds no deduction: the earlier one carries it."""
    display = parse_display_crs(args)
    with _reading(store) as read:
        flt = parse_problem_filter(args, read.ref, display)
        pts = _points(read, flt, SUMMARY_COLUMNS)
        ref = read.ref
    mask = np.ones(len(pts["id"]), dtype=bool)
    if flt.bbox is not None:
        mask &= _in_bbox(pts["lon"], pts["lat"], flt.bbox)
    # a problem linked as a duplicate of another counts, but its points are the other's
    duplicate = np.array([d is not None for d in pts["duplicate_of"]], dtype=bool)
    ded = np.where(duplicate, 0.0, pts["deduction"])[mask]
    status = pts["status"][mask]
    by_status = dict.fromkeys(STATUSES, 0)
    for s, n, _ in _totals(status, ded):
        by_status[s] = n
    open_count = int(sum(n for s, n in by_status.items() if s not in CLOSED_STATUSES))

    def groups(column: str, name: Callable[[Any], str | None]) -> list[dict]:
        return _ranked(
            [
                {"id": v, "name": name(v), "problems": n, "deduction": round(d, 2)}
                for v, n, d in _totals(pts[column][mask], ded)
            ]
        )

    return {
        "problems": int(mask.sum()),
        "deduction": round(float(ded.sum()), 2),
        "open": open_count,
        "by_status": by_status,
        "by_category": groups("category", lambda c: ref.category_label(c, locale)),
        "by_unit": groups("responsible_unit_id", ref.unit_name),
        "by_district": groups("district_id", ref.district_name),
    }


def generation_extent(store, generation_id: int | None = None):
    """(bounds, number of areas) of a generation (default current), from the cached areas."""
    with _reading(store) as read:
        gen = _generation(
            read, {} if generation_id is None else {"generation": [str(generation_id)]}
        )
        return _extent(_areas(read, gen))


def _extent(areas: gpd.GeoDataFrame):
    if not len(areas):
        return None, 0
    return tuple(float(v) for v in areas.total_bounds), len(areas)


def _rounds(read: _Read) -> list[tuple[str, str]]:
    def make() -> list[tuple[str, str]]:
        return [(r, r) for r in read.tx.distinct_problem_values("round")]

    return read.cache.get("values", "round", read.version["problems"], make)


def problem_rounds(store) -> list[tuple[str, str]]:
    """The inspection rounds problems were reported in, sorted, as (value, label) pairs like
    the page's other filter options (a round's label is its name)."""
    with _reading(store) as read:
        return _rounds(read)


def page_facts(store) -> dict:
    """What a map page needs besides the map, in one read and from the caches: the current
    ``generation`` (None before any is published), its ``extent`` and ``area_count``, and
    the filter choices: ``rounds`` as (value, label) pairs, ``categories``, ``districts``
    and ``units`` as their rows, in the store's order."""
    with _reading(store) as read:
        gen = read.tx.current_generation()
        extent, count = _extent(_areas(read, gen))
        return {
            "generation": gen,
            "extent": extent,
            "area_count": count,
            "rounds": _rounds(read),
            "categories": list(read.ref.categories.values()),
            "districts": list(read.ref.districts.values()),
            "units": list(read.ref.units.values()),
        }


def search(store, args: Args, locale: str = "zh") -> list[dict]:
    """Districts, areas and units whose name or id contains ``q`` (case-insensitive), at most
    20, areas and units both represented; each with the bbox to zoom to."""
    q = _one(args, "q")
    if q is None:
        raise BadParameter("q", N_("q is required: part of a name or an id to look for"))
    display = parse_display_crs(args)
    needle = q.casefold()
    with _reading(store) as read:
        gen = _generation(read, args)
        frame = _areas(read, gen)
        shapes = _district_shapes(read, gen)
        ref = read.ref
    labels = TYPE_LABELS["zh" if _zh(locale) else "en"]

    def score(ident: str, name: str) -> tuple | None:
        texts = (ident.casefold(), (name or "").casefold())
        if needle in texts:
            rank = 0
        elif any(t.startswith(needle) for t in texts):
            rank = 1
        elif any(needle in t for t in texts):
            rank = 2
        else:
            return None
        return (rank, len(name or ""), ident)

    found: dict[str, list[tuple[tuple, dict]]] = {"district": [], "area": [], "unit": []}
    for did, d in ref.districts.items():
        s = score(did, d["name"])
        if s is not None:
            geom = shapes.get(did, {}).get("geometry")
            item = {"id": did, "name": d["name"], "label": labels["district"], "bbox": geom}
            found["district"].append((s, item))
    bounds = shapely.bounds(frame.geometry.values) if len(frame) else np.empty((0, 4))
    for i, (aid, name, kind) in enumerate(
        zip(frame["area_id"], frame["name"], frame["kind"], strict=True)
    ):
        s = score(aid, name)
        if s is not None:
            kind_label = _label(kind, AREA_KINDS, locale)
            label = f"{labels['area']} · {kind_label}" if kind_label else labels["area"]
            found["area"].append(
                (s, {"id": aid, "name": name, "label": label, "bbox": tuple(bounds[i])})
            )
    for uid, u in ref.units.items():
        s = score(uid, u["name"])
        if s is None:
            continue
        if u.get("lon") is not None and u.get("lat") is not None:
            box = (u["lon"], u["lat"], u["lon"], u["lat"])
        else:  # no office on record: the unit's areas
            mine = frame.geometry.values[(frame["responsible_unit_id"] == uid).to_numpy()]
            box = tuple(shapely.total_bounds(mine)) if len(mine) else None
        kind_label = _label(u.get("kind"), UNIT_KINDS, locale)
        label = f"{labels['unit']} · {kind_label}" if kind_label else labels["unit"]
        found["unit"].append((s, {"id": uid, "name": u["name"], "label": label, "bbox": box}))
    queues = [sorted(found[t], key=lambda p: p[0]) for t in ("district", "area", "unit")]
    chosen: list[tuple[tuple, int, str, dict]] = []
    while len(chosen) < SEARCH_LIMIT and any(queues):
        for t, queue in zip(("district", "area", "unit"), queues, strict=True):
            if queue and len(chosen) < SEARCH_LIMIT:
                s, item = queue.pop(0)
                chosen.append((s[:2], ("district", "area", "unit").index(t), t, item))
    chosen.sort(key=lambda c: (c[0], c[1]))
    out = []
    for _, _, t, item in chosen:
        box = item["bbox"]
        if isinstance(box, shapely.Geometry):
            box = box.bounds
        out.append(
            {
                "type": t,
                "id": item["id"],
                "name": item["name"],
                "label": item["label"],
                "bbox": _display_bbox(box, display) if box is not None else None,
            }
        )
    return out


# --- conditional GET ------------------------------------------------------------------------
def _code_token() -> str:
    """A hash of this package's code and translations: the same in every process and on
    every server running the same release (so any of them answers an ETag another one
    gave), different after an upgrade (so a client never keeps an answer older code made).
    """
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".mo") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


_CODE_TOKEN = _code_token()


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


def problem_unit(store, problem_pk: int) -> str | None:
    """The unit responsible for one problem (for a scope check); raises NotFound."""
    if not 0 < problem_pk <= MAX_ID:
        raise NotFound(N_("unknown problem id %(problem_pk)r"), problem_pk=problem_pk)
    with store.transaction() as tx:
        return tx.get_problem(problem_pk)["responsible_unit_id"]


def deadlines_passed(read: _Read, now: datetime) -> int:
    """How many deadlines of problems that can be overdue lie before ``now``.

    Every ``overdue`` flag in every answer is a function of the data and of this number
    alone (a flag turns on exactly when its deadline passes), so a cache key holding the
    data version and this number changes exactly when a flag may have changed.  The sorted
    deadlines are cached per data version (after a write only the changed problems are read
    again); a lookup is a binary search.
    """

    hours = {c: cat.get("deadline_hours") for c, cat in read.ref.categories.items()}

    def dues_of(rows) -> tuple[np.ndarray, np.ndarray]:
        pairs = [
            (pk, due.timestamp())
            for pk, reported_at, category in rows
            if (due := deadline(reported_at, hours.get(category))) is not None
        ]
        ids = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
        at = np.fromiter((p[1] for p in pairs), dtype=np.float64, count=len(pairs))
        return ids, at

    def ordered(ids: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(at, kind="stable")
        return ids[order], at[order]

    def make() -> tuple[np.ndarray, np.ndarray]:
        return ordered(*dues_of(read.tx.problem_reports(OVERDUE_STATUSES)))

    def update(old_version, old) -> tuple[np.ndarray, np.ndarray] | None:
        """After a write, re-read only the problems changed since (as _points does)."""
        if old_version[1] != read.version["reference"]:
            return None  # a category's deadline changed: every due time may have
        changed = read.tx.problem_changes(old_version[0])
        if changed is None:
            return None
        keep = ~np.isin(old[0], np.asarray(changed, dtype=np.int64))
        fresh = dues_of(read.tx.problem_reports(OVERDUE_STATUSES, ids=changed))
        return ordered(
            np.concatenate([old[0][keep], fresh[0]]), np.concatenate([old[1][keep], fresh[1]])
        )

    version = (read.version["problems"], read.version["reference"])
    _, dues = read.cache.get("deadlines", "open", version, make, update)
    return int(np.searchsorted(dues, now.timestamp(), side="left"))


def etag(
    store,
    endpoint: str,
    args: Args,
    locale: str = "zh",
    view_args: Mapping | None = None,
    now: datetime | None = None,
) -> str:
    """A strong ETag for a GET: a hash of the endpoint, its normalised query, the generation
    it reads, the store's data version, the locale and (given ``now``) the number of
    deadlines passed by then (:func:`deadlines_passed`: the clock's part of every answer
    carrying ``overdue`` flags).  ``view_args`` carries the rest of what decides the
    answer (the reader's scope, the URL's parts).  Raises BadParameter for a bad or unknown
    ``generation``."""
    with _reading(store) as read:
        gen = _generation(read, args)
        version = read.version
        passed = None if now is None else deadlines_passed(read, now)
    payload = [
        _CODE_TOKEN,
        endpoint,
        sorted((k, str(v)) for k, v in (view_args or {}).items()),
        normalised_query(args),
        gen["id"] if gen else None,
        version,
        str(locale),
        passed,
    ]
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
