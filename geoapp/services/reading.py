"""One consistent read of the store, and the caches behind it.

:func:`_reading` opens a transaction, reads the store's data version and the reference data
(:class:`~geoapp.services.reference.Reference`) and hands them out as one :class:`_Read`;
:func:`_generation` finds the boundary generation a request asks for.  The cached tables
every read side shares live here too: a generation's areas (:func:`_area_names` names them)
and the filtered problems' columns (:func:`_points`).

Caches (in memory, per store): reference tables per data version; the current generation
per ``generations`` token; area frames, district
unions and simplified outlines per generation (and its version); the problem columns used by
clustering and summaries per filter set, dropped when the store's data version changes.
Every entry is checked against the data version read from the database in the same
transaction, so writes made by other processes or servers are seen on the next request.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp.core.messages import N_
from geoapp.services.query_params import MAX_ID, Args, BadParameter, ProblemFilter, _one
from geoapp.services.reference import Reference
from geoapp.store import AREA_COLUMNS, NotFound


class _StoreCache:
    SIZES = {
        "reference": 2,
        "areas": 8,
        "districts": 8,
        "geometries": 16,
        "points": 12,
        "values": 8,
        "deadlines": 2,
        "generations": 64,
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


#: The read every :func:`_reading` of a store joins inside :func:`one_read` (per request:
#: each request runs in its own context).
_joined: ContextVar[_Read | None] = ContextVar("geoapp_joined_read", default=None)


@contextmanager
def _reading(store) -> Iterator[_Read]:
    joined = _joined.get()
    if joined is not None and joined.store is store:
        yield joined
        return
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


def _current_generation(read: _Read) -> dict | None:
    """The current generation (None before the first publish): :func:`_generation_row`."""
    return _generation_row(read, None)


@contextmanager
def one_read(store) -> Iterator[_Read]:
    """One transaction for every read of ``store`` inside the block (:func:`_reading` joins
    it): an answer's ETag and its body are read from one snapshot, and the data version,
    the reference data and the generation are read once per request instead of once for
    the tag and again for the body.  Only for reading (a GET's tag and view)."""
    with _reading(store) as read:
        token = _joined.set(read)
        try:
            yield read
        finally:
            _joined.reset(token)


def _generation(read: _Read, args: Args) -> dict | None:
    """The generation asked for (``generation``) or the current one (None if none)."""
    raw = _one(args, "generation")
    if raw is None:
        return _generation_row(read, None)
    try:
        gid = int(raw)
        if not 0 < gid <= MAX_ID:
            raise ValueError
    except ValueError:
        raise BadParameter(
            "generation", N_("generation=%(raw)r is not a generation number"), raw=raw
        ) from None
    gen = _generation_row(read, gid)
    if gen is None:
        raise BadParameter("generation", N_("generation=%(gid)s: unknown generation"), gid=gid)
    return gen


_UNKNOWN = object()


def _generation_row(read: _Read, gid: int | None) -> dict | None:
    """Generation ``gid`` (None: the current one) as the store has it, or None when there is
    none; kept per generations token of the data version (it changes whenever a generation
    is created, deleted, edited or published), so a request reads it only once the token
    moved.  Each caller gets its own copy of the row."""

    def make():
        if gid is None:
            return read.tx.current_generation() or _UNKNOWN
        try:
            return read.tx.get_generation(gid)
        except NotFound:
            return _UNKNOWN

    key = "current" if gid is None else gid
    row = read.cache.get("generations", key, read.version["generations"], make)
    return None if row is _UNKNOWN else dict(row)


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
        gen = _generation_row(read, gid)
        if gen is None:  # pragma: no cover - problems reference generations by foreign key
            continue
        frame = _areas(read, gen)
        names.update(zip(((gid, a) for a in frame["area_id"]), frame["name"], strict=True))
    return names


def _with_status_codes(pts: dict[str, Any]) -> dict[str, Any]:
    codes, vocab = pd.factorize(pts["status"])
    pts["status_code"] = codes.astype(np.int64)
    pts["status_vocab"] = [str(v) for v in vocab]
    return pts


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
