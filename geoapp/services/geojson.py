"""GeoJSON pieces of the read side's answers, in the display CRS.

Stored coordinates are WGS84; an answer may ask for GCJ-02 or BD-09 (``display_crs``).  Here
live the conversion of coordinates (:func:`_to_display`), geometries, points, bounding boxes
and the FeatureCollection wrapper, and the GeoJSON media type.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import mapping

from geoapp.core.crs import from_wgs84
from geoapp.core.shapes import rfc7946

GEOJSON = "application/geo+json"


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

    return mapping(rfc7946(shapely.transform(geom, convert)))


def _point(lon, lat) -> dict | None:
    if lon is None or lat is None or not (np.isfinite(lon) and np.isfinite(lat)):
        return None
    return {"type": "Point", "coordinates": [float(lon), float(lat)]}


def _collection(features: list[dict], **members) -> dict:
    return {"type": "FeatureCollection", "features": features, **members}


def _display_bbox(bbox, display: str) -> list[float] | None:
    if bbox is None:
        return None
    minx, miny, maxx, maxy = bbox
    x, y = _to_display([minx, maxx, minx, maxx], [miny, miny, maxy, maxy], display)
    return [float(x.min()), float(y.min()), float(x.max()), float(y.max())]
