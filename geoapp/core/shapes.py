"""Geometry as every GeoJSON and GeoPackage reader expects it.

RFC 7946 section 3.1.6 (the right-hand rule): an exterior ring runs counter-clockwise, a
hole clockwise.  Every GeoJSON the app writes (the API, OGC API, drafts, exports) passes its
geometries through :func:`rfc7946` — the one place the orientation is decided — whatever
orientation the boundary file came with.

A layer holds one geometry type: GDAL declares a GeoPackage layer by its first feature, so a
set mixing Polygons and MultiPolygons is written as MultiPolygons throughout
(:func:`as_multipolygons`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely


def rfc7946(geoms):
    """A geometry (or an array of them) with its rings in RFC 7946 order: exteriors
    counter-clockwise, holes clockwise; points and lines unchanged, None stays None."""
    return shapely.orient_polygons(geoms, exterior_cw=False)


def as_multipolygons(geoms):
    """Each Polygon of ``geoms`` (a geometry or an array) as a one-part MultiPolygon, in
    RFC 7946 order; other geometries (MultiPolygons, None) unchanged apart from the order."""
    single = not isinstance(geoms, np.ndarray | list | tuple)
    values = np.asarray([geoms] if single else geoms, dtype=object)
    out = values.copy()
    types = shapely.get_type_id(values)
    polygons = types == shapely.GeometryType.POLYGON
    if polygons.any():
        out[polygons] = [shapely.MultiPolygon([g]) for g in values[polygons]]
    out = rfc7946(out)
    return out[0] if single else out


def union_of(geoms: Any) -> Any:
    """The union of ``geoms``, also when some are invalid: a draft may hold a self-crossing
    or overlapping area (the editor allows it and validation names it), and GEOS refuses to
    union such shapes ("TopologyException: side location conflict").  Only then are the
    shapes repaired (:func:`shapely.make_valid`) and the union taken of what they cover."""
    try:
        return shapely.union_all(geoms)
    except shapely.errors.GEOSException:
        return shapely.union_all(shapely.make_valid(np.asarray(geoms, dtype=object)))
