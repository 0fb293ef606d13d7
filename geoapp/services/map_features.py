"""The map's layers and look-ups: districts (the union of their areas), contracted areas
(optionally simplified as one coverage), units at their offices, the search box, a
generation's extent and what a map page needs besides the map (:func:`page_facts`).

Each function takes the store, the query parameters (see
:mod:`geoapp.services.query_params`) and the locale, and returns JSON-ready data (GeoJSON
dicts).  No Flask here.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geoapp.core.labels import label_point, label_points
from geoapp.core.messages import N_
from geoapp.core.model import AREA_KINDS, UNIT_KINDS
from geoapp.core.shapes import rfc7946, union_of
from geoapp.services.geojson import _collection, _display_bbox, _geometry, _point, _to_display
from geoapp.services.query_params import (
    Args,
    BadParameter,
    _checked_ids,
    _one,
    _parse_simplify,
    parse_bbox,
    parse_display_crs,
)
from geoapp.services.reading import (
    _areas,
    _current_generation,
    _gen_key,
    _generation,
    _Read,
    _reading,
)
from geoapp.services.reference import _label, _zh

SEARCH_LIMIT = 20
TYPE_LABELS = {
    "zh": {"district": "片区", "area": "包干区", "unit": "单位"},
    "en": {"district": "district", "area": "area", "unit": "unit"},
}


def _district_shapes(read: _Read, gen: dict | None) -> dict[str, dict]:
    """district id → {"geometry": union of its areas, "area_count", "label_point"}."""
    if gen is None:
        return {}

    def make() -> dict[str, dict]:
        frame = _areas(read, gen)
        out = {}
        for did, group in frame.groupby("district_id", sort=True):
            union = rfc7946(union_of(group.geometry.values))
            label = label_point(union)
            out[did] = {"geometry": union, "area_count": len(group), "label_point": label}
        return out

    return read.cache.get("districts", gen["id"], _gen_key(gen), make)


def _area_labels(read: _Read, gen: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(label lon, label lat, area in m²) of a generation's areas, in the order of
    :func:`_areas`; cached.  The map names an area at its label point and, where two names
    would overlap, keeps the larger area's."""

    def make():
        geoms = _areas(read, gen).geometry.values
        points = label_points(geoms)
        lon = np.array([p.x for p in points], dtype=np.float64)
        lat = np.array([p.y for p in points], dtype=np.float64)
        geod = pyproj.Geod(ellps="WGS84")
        size = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in geoms])
        return lon, lat, size

    return read.cache.get("geometries", (gen["id"], "labels"), _gen_key(gen), make)


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
        label_lon, label_lat, size = _area_labels(read, gen) if gen else ([], [], [])
        ref = read.ref
    label_x, label_y = _to_display(label_lon, label_lat, display)
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
                    "label_point": [float(label_x[i]), float(label_y[i])],
                    "area_m2": round(float(size[i]), 1),
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
        gen = _current_generation(read)
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
