"""Coordinates out (step 5 of :mod:`geoapp.demo.generate`): UTM to EPSG:4326 rounded to 7
decimals (equal vertices stay equal), geometries as GeoJSON, and random points inside an area.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from geoapp.core.shapes import rfc7946
from geoapp.demo.county import DECIMALS


def _round_ll(xy: np.ndarray, tr: Transformer) -> np.ndarray:
    lon, lat = tr.transform(xy[:, 0], xy[:, 1])
    return np.round(np.column_stack([lon, lat]), DECIMALS)


def to_lonlat(geom: BaseGeometry, tr: Transformer) -> BaseGeometry:
    g = shapely.transform(geom, lambda xy: _round_ll(xy, tr))
    g = shapely.remove_repeated_points(g, tolerance=0.0)
    return rfc7946(g)


def _geojson_geometry(geom: BaseGeometry) -> dict[str, Any]:
    def ring(r: Any) -> list[list[float]]:
        return shapely.get_coordinates(r).tolist()

    def poly(p: Polygon) -> list[list[list[float]]]:
        return [ring(p.exterior)] + [ring(r) for r in p.interiors]

    if geom.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": poly(geom)}
    if geom.geom_type == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [poly(p) for p in geom.geoms]}
    if geom.geom_type == "Point":
        return {"type": "Point", "coordinates": [geom.x, geom.y]}
    raise TypeError(geom.geom_type)


def _random_points_in(
    geom: BaseGeometry, n: int, rng: np.random.Generator, margin: float
) -> np.ndarray:
    """``n`` random points at least ``margin`` metres inside ``geom`` (UTM)."""
    inner = geom.buffer(-margin)
    if inner.is_empty:
        inner = geom
    shapely.prepare(inner)
    x0, y0, x1, y1 = inner.bounds
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        k = max(64, 4 * (n - got))
        xs = rng.uniform(x0, x1, k)
        ys = rng.uniform(y0, y1, k)
        ok = shapely.contains_xy(inner, xs, ys)
        pts = np.column_stack([xs[ok], ys[ok]])
        out.append(pts)
        got += len(pts)
    return np.concatenate(out)[:n]
