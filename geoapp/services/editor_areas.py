"""The areas of a boundary generation as plain records, the form the editor works on.

:func:`generation_areas` reads a generation's areas from the store into records (one dict per
area: its attributes and a shapely geometry) and caches them by (generation, version): a
published generation never changes and a draft's records are keyed by its version.  Also here:
the way back to a GeoDataFrame, the rows the store saves, the GeoJSON the editor page draws,
the county outline a draft should cover, and the current generation the editor starts from.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import shapely

from geoapp.core import editing
from geoapp.core.messages import N_
from geoapp.core.shapes import rfc7946, union_of
from geoapp.services.errors import NothingPublished

# --- boundary sets as records, cached by (generation, version) -------------------------------
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def frame_to_records(gdf) -> editing.Areas:
    out = {}
    cols = {c: gdf[c].tolist() for c in editing.ATTRIBUTES}
    for i, (aid, geom) in enumerate(
        zip(gdf["area_id"].tolist(), gdf.geometry.tolist(), strict=True)
    ):
        out[str(aid)] = {c: _clean(cols[c][i]) for c in editing.ATTRIBUTES} | {"geometry": geom}
    return out


def _clean(value):
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)


def records_to_frame(areas: editing.Areas):
    import geopandas as gpd

    ids = sorted(areas)
    data = {"area_id": ids}
    for c in editing.ATTRIBUTES:
        data[c] = [areas[a].get(c) for a in ids]
    return gpd.GeoDataFrame(
        data, geometry=[areas[a]["geometry"] for a in ids], crs="EPSG:4326"
    ).astype({c: object for c in editing.ATTRIBUTES})


def area_rows(areas: editing.Areas) -> list[dict]:
    return [
        {"area_id": a, **{c: r.get(c) for c in editing.ATTRIBUTES}, "geometry": r["geometry"]}
        | {"name": r.get("name") or a}
        for a, r in sorted(areas.items())
    ]


def generation_areas(store, generation_id: int, version: int | None = None) -> editing.Areas:
    """The areas of a generation as records (cached: published generations never change,
    a draft's records are keyed by its version)."""
    if version is None:
        version = store.get_generation(generation_id)["version"]
    key = (int(generation_id), int(version))
    with _cache_lock:
        hit = _cache.get(store, {}).get(key)
    if hit is not None:
        return hit
    areas = frame_to_records(store.areas(generation_id))
    with _cache_lock:
        per = _cache.setdefault(store, OrderedDict())
        per[key] = areas
        while len(per) > 16:
            per.popitem(last=False)
    return areas


_outline: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def county_outline(store, generation_id: int):
    """The union of a published generation's areas: what a draft should cover."""
    with _cache_lock:
        hit = _outline.get(store, {}).get(int(generation_id))
    if hit is not None:
        return hit
    areas = generation_areas(store, generation_id)
    geoms = [r["geometry"] for r in areas.values() if r["geometry"] is not None]
    outline = union_of(geoms) if geoms else None
    with _cache_lock:
        per = _outline.setdefault(store, {})
        if len(per) > 4:
            per.clear()
        per[int(generation_id)] = outline
    return outline


def features(areas: editing.Areas, changes: dict | None = None) -> dict:
    out = []
    for aid, rec in sorted(areas.items()):
        props = {"area_id": aid, **{c: rec.get(c) for c in editing.ATTRIBUTES}}
        if changes is not None:
            props["change"] = changes.get(aid)
        geom = rec["geometry"]
        out.append(
            {
                "type": "Feature",
                "id": aid,
                "geometry": None if geom is None else shapely.geometry.mapping(rfc7946(geom)),
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": out}


def current_generation(store) -> dict:
    """The published generation in force (refused when none is published yet)."""
    current = store.current_generation()
    if current is None:
        raise NothingPublished(N_("no boundary generation is published yet"))
    return current
