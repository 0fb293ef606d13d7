"""Who answers for a place: the assignment index of a boundary generation, cached per store
(:func:`zoning_for`, :func:`remember_zoning`, :func:`forget_zonings`), and the lookup of one
point (:func:`lookup`).

Services glue the pure core (:mod:`geoapp.core.assignment`, :mod:`geoapp.core.zoning`,
:mod:`geoapp.core.routing`) to the store. The CLI and the web views call these and nothing
below them.
"""

from __future__ import annotations

import threading
import weakref

from geoapp.core.assignment import Zoning
from geoapp.core.crs import parse_crs, to_wgs84
from geoapp.core.messages import N_
from geoapp.services.errors import NothingPublished

# --- the assignment index, built once per generation -----------------------------------
# store → {generation id → (reference token, Zoning)}.  A published generation's areas never
# change, but its index also holds the districts' lead units and the rules: the entry is
# used only while the store's reference data (units, districts, categories, rules) is the
# one it was built with.  The token is read from the database on every call, so an index
# built in one process is dropped when any other process (another app server, the CLI)
# changes the rules or districts, and a generation another process publishes is picked up
# on the next call.
_zoning_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_zoning_lock = threading.Lock()


def _reference_token(store) -> str:
    return store.data_version()["reference"]


def zoning_for(store, generation_id: int | None = None) -> Zoning:
    """The assignment index for a generation (default: the current one), cached while the
    generation and the reference data stay as they are (checked in the database)."""
    if generation_id is None:
        current = store.current_generation()
        if current is None:
            raise NothingPublished(
                N_(
                    "no boundary generation is published yet; run `geoapp load-demo` or `geoapp import-areas FILE --commit`"
                )
            )
        generation_id = current["id"]
    generation_id = int(generation_id)
    token = _reference_token(store)
    with _zoning_lock:
        cached = _zoning_cache.get(store, {}).get(generation_id)
    if cached is not None and cached[0] == token:
        return cached[1]
    gen = store.get_generation(generation_id)
    zoning = Zoning.build(
        store.areas(generation_id),
        store.list_districts(),
        store.list_rules(),
        generation=generation_id,
    )
    if gen.get("status") == "published":
        remember_zoning(store, generation_id, zoning, token)
    return zoning


def remember_zoning(store, generation_id: int, zoning: Zoning, token: str | None = None) -> None:
    """Cache the index of a published generation (publishing builds it anyway); ``token``:
    the reference data version it was built with (default: the store's now)."""
    zoning.generation = int(generation_id)
    token = token if token is not None else _reference_token(store)
    with _zoning_lock:
        per_store = _zoning_cache.setdefault(store, {})
        if len(per_store) > 8:
            per_store.clear()
        per_store[int(generation_id)] = (token, zoning)


def forget_zonings(store=None) -> None:
    """Drop cached indexes (not needed for correctness: entries check the data version)."""
    with _zoning_lock:
        if store is None:
            _zoning_cache.clear()
        else:
            _zoning_cache.pop(store, None)


# --- lookup ---------------------------------------------------------------------------
def lookup(
    store, lon: float, lat: float, crs: str | None = None, generation_id: int | None = None
) -> dict:
    """Who is responsible for one point."""
    x, y = to_wgs84([lon], [lat], parse_crs(crs))
    zoning = zoning_for(store, generation_id)
    row = zoning.assign_one(float(x[0]), float(y[0]))
    result = {
        "lon": float(x[0]),
        "lat": float(y[0]),
        "generation": zoning.generation,
        "area": None,
        "district": None,
        "responsible_unit": None,
        "lead_unit": None,
    }
    if row["area_id"] is None:
        return result
    area = zoning.area_record(row["area_id"])
    districts = {d["district_id"]: d for d in store.list_districts()}
    units = {u["unit_id"]: u for u in store.list_units()}
    d = districts.get(row["district_id"], {})
    result["area"] = {"id": area["area_id"], "name": area["name"], "kind": area["kind"]}
    result["district"] = {"id": row["district_id"], "name": d.get("name")}
    result["responsible_unit"] = _unit_summary(units.get(area["responsible_unit_id"]))
    result["lead_unit"] = _unit_summary(units.get(row["lead_unit_id"]))
    result["covering_areas"] = zoning.covering(float(x[0]), float(y[0]))
    return result


def _unit_summary(unit: dict | None) -> dict | None:
    if unit is None:
        return None
    return {
        "id": unit["unit_id"],
        "name": unit["name"],
        "contact": unit.get("contact"),
        "phone": unit.get("phone"),
    }
