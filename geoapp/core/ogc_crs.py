"""The coordinate reference systems of the OGC API (Part 2: ``crs``, ``bbox-crs``,
``filter-crs``), named by their OGC URIs, and coordinates converted between them.

Pure functions: no Flask, no database.  Every geometry is stored in CRS84 (longitude,
latitude on WGS84); the others are:

- ``EPSG:4326``: the same datum, but its axis order is **latitude, longitude**;
- ``EPSG:4490``: CGCS2000, the national datum (within a metre of WGS84), latitude first;
- the county's projected CGCS2000 zone (a setting, ``EPSG:4549`` for the demo county:
  3-degree Gauss-Krüger, central meridian 120°E), in metres, **northing, easting** as EPSG
  defines it.

Each CRS is used in the axis order its authority defines, as OGC API – Features Part 2
requires; PROJ's transformations from CRS84 follow exactly those orders.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pyproj
import shapely
import shapely.geometry

from geoapp.core.crs import CRSError
from geoapp.core.messages import N_

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"
#: The projected CGCS2000 zone of the demo county (a setting for other counties).
DEFAULT_PROJECTED = "EPSG:4549"
_URI = re.compile(
    r"^(?:https?://www\.opengis\.net/def/crs/(?P<auth>EPSG|OGC)/[^/]+/(?P<code>[^/]+)"
    r"|\[?(?P<auth2>EPSG|OGC):(?P<code2>[^\]]+)\]?)$",
    re.IGNORECASE,
)


class UnsupportedCRS(CRSError):
    """A CRS the OGC API does not offer (HTTP 400)."""


def epsg_uri(code: int | str) -> str:
    return f"{EPSG_URI}{code}"


def _code(name: str) -> str | None:
    """``EPSG:4549``, ``4549`` or an EPSG URI → ``"4549"``; None for anything else."""
    text = str(name).strip()
    if text.isdigit():
        return text
    match = _URI.match(text)
    if not match:
        return None
    auth = (match.group("auth") or match.group("auth2")).upper()
    code = match.group("code") or match.group("code2")
    return code if auth == "EPSG" else None


def supported(projected: str = DEFAULT_PROJECTED) -> list[str]:
    """The URIs of the offered CRSs, CRS84 first (the default)."""
    zone = _code(projected) or _code(DEFAULT_PROJECTED)
    return [CRS84, epsg_uri(4326), epsg_uri(4490), epsg_uri(zone)]


def canonical(name: str, offered: list[str], param: str) -> str:
    """The URI among ``offered`` that ``name`` means (a URI, ``[EPSG:n]``, ``EPSG:n`` or
    ``CRS84``); :class:`UnsupportedCRS` naming ``param`` otherwise."""
    text = str(name).strip()
    if text.upper() in ("CRS84", "OGC:CRS84", "[OGC:CRS84]") or text.rstrip("/") == CRS84:
        return CRS84
    code = _code(text)
    if code is not None and epsg_uri(code) in offered:
        return epsg_uri(code)
    raise UnsupportedCRS(
        N_("%(param)s=%(value)r is not offered; use one of %(offered)s"),
        param=param,
        value=text,
        offered=", ".join(offered),
    )


def _pyproj(uri: str) -> pyproj.CRS:
    return pyproj.CRS("OGC:CRS84") if uri == CRS84 else pyproj.CRS.from_epsg(int(_code(uri)))


@lru_cache(maxsize=16)
def _transformer(source: str, target: str) -> pyproj.Transformer:
    # authority axis order on both sides (no always_xy): EPSG:4326 is lat, lon
    return pyproj.Transformer.from_crs(_pyproj(source), _pyproj(target))


def transform_xy(xs, ys, source: str, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates from ``source`` to ``target`` (URIs), each in its authority's axis order."""
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    if source == target or not xs.size:
        return xs, ys
    out_x, out_y = _transformer(source, target).transform(xs, ys)
    return np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64)


def transform_geometry(geometry, source: str, target: str):
    """A shapely geometry (or array of them) from ``source`` to ``target``."""
    if source == target:
        return geometry

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transform_xy(coords[:, 0], coords[:, 1], source, target)
        return np.column_stack([x, y])

    return shapely.transform(geometry, move)


def box_to_crs84(box: tuple[float, float, float, float], source: str) -> tuple[float, ...]:
    """A box given as ``minx, miny, maxx, maxy`` in ``source``'s axis order → the CRS84
    envelope of its outline (densified: a projected box is not a lon/lat box)."""
    if source == CRS84:
        return tuple(float(v) for v in box)
    a0, b0, a1, b1 = box
    t = np.linspace(0.0, 1.0, 21)
    xs = np.concatenate([a0 + (a1 - a0) * t, np.full(21, a1), a1 - (a1 - a0) * t, np.full(21, a0)])
    ys = np.concatenate([np.full(21, b0), b0 + (b1 - b0) * t, np.full(21, b1), b1 - (b1 - b0) * t])
    lon, lat = transform_xy(xs, ys, source, CRS84)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise UnsupportedCRS(
            N_("bbox %(box)s lies outside the area where %(crs)s is defined"),
            box=",".join(repr(float(v)) for v in box),
            crs=source,
        )
    return (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))


def reproject_features(features: list[dict], target: str) -> list[dict]:
    """GeoJSON features (CRS84) with their geometries in ``target`` (in place, returned)."""
    if target == CRS84:
        return features
    with_geometry = [f for f in features if f.get("geometry")]
    geometries = [shapely.geometry.shape(f["geometry"]) for f in with_geometry]
    moved = transform_geometry(np.array(geometries, dtype=object), CRS84, target)
    for feature, geometry in zip(with_geometry, moved, strict=True):
        feature["geometry"] = shapely.geometry.mapping(geometry)
    return features
