"""Coordinate reference systems accepted on input, converted once to WGS84.

Pure functions over NumPy arrays: no Flask, no database.

Accepted names (case-insensitive):

==============================  ============================================
name                            meaning
==============================  ============================================
``wgs84``, ``EPSG:4326``        GPS / WGS84 longitude, latitude (stored as is)
``cgcs2000``, ``EPSG:4490``     China Geodetic CS 2000 (Tianditu); within a metre
                                of WGS84, converted with PROJ all the same
``gcj02``                       "Mars" coordinates of AMap / Tencent pickers
``bd09``                        Baidu's coordinates (GCJ-02 plus a second offset)
``EPSG:<code>`` or ``<code>``   any CRS PROJ knows, projected or geographic
==============================  ============================================

GCJ-02 and BD-09 have no EPSG code: they are obfuscations defined by formulas.
The forward formulas below are the published ones; the inverses are computed by
fixed-point iteration on the forward formula, so ``to_wgs84(from_wgs84(p)) == p``
to better than a millimetre (the closed-form "inverse" often quoted is off by metres).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from geoapp.core.messages import N_, Explained

WGS84 = "EPSG:4326"


class CRSError(Explained, ValueError):
    """An input CRS that is unknown or cannot be used for points."""


@dataclass(frozen=True)
class InputCRS:
    """A parsed input CRS: ``kind`` is 'wgs84', 'gcj02', 'bd09' or 'proj'."""

    kind: str
    code: str  # canonical name stored with every point, e.g. 'EPSG:4326', 'GCJ-02'

    def __str__(self) -> str:
        return self.code


_ALIASES = {
    "wgs84": InputCRS("wgs84", "EPSG:4326"),
    "wgs-84": InputCRS("wgs84", "EPSG:4326"),
    "epsg:4326": InputCRS("wgs84", "EPSG:4326"),
    "4326": InputCRS("wgs84", "EPSG:4326"),
    "gps": InputCRS("wgs84", "EPSG:4326"),
    "cgcs2000": InputCRS("proj", "EPSG:4490"),
    "gcj02": InputCRS("gcj02", "GCJ-02"),
    "gcj-02": InputCRS("gcj02", "GCJ-02"),
    "amap": InputCRS("gcj02", "GCJ-02"),
    "tencent": InputCRS("gcj02", "GCJ-02"),
    "bd09": InputCRS("bd09", "BD-09"),
    "bd-09": InputCRS("bd09", "BD-09"),
    "baidu": InputCRS("bd09", "BD-09"),
}


def parse_crs(name: str | int | None) -> InputCRS:
    """Parse a user-supplied CRS name; ``None`` or empty means WGS84.

    >>> parse_crs("gcj02").code
    'GCJ-02'
    >>> parse_crs(32650).code
    'EPSG:32650'
    """
    if name is None or (isinstance(name, str) and not name.strip()):
        return _ALIASES["wgs84"]
    text = str(name).strip()
    key = text.lower().replace("_", "").replace(" ", "")
    if key in _ALIASES:
        return _ALIASES[key]
    code = text.upper()
    if code.isdigit():
        code = f"EPSG:{code}"
    from pyproj import CRS  # slow to import: only for EPSG codes
    from pyproj.exceptions import CRSError as _PyprojCRSError

    if not code.startswith("EPSG:") or not code[5:].isdigit():
        raise CRSError(
            N_(
                "unknown CRS %(text)r: use wgs84, cgcs2000, gcj02, bd09 or an EPSG code such as EPSG:4490"
            ),
            text=text,
        )
    try:
        crs = CRS.from_user_input(code)
    except _PyprojCRSError:
        raise CRSError(N_("unknown CRS %(text)r: PROJ has no such EPSG code"), text=text) from None
    if not (crs.is_geographic or crs.is_projected):
        raise CRSError(
            N_("CRS %(code)s (%(name)s) is neither geographic nor projected"),
            code=code,
            name=crs.name,
        )
    if crs.equals(CRS.from_epsg(4326)):
        return _ALIASES["wgs84"]
    return InputCRS("proj", code)


@lru_cache(maxsize=32)
def _transformer(code: str):
    from pyproj import Transformer

    return Transformer.from_crs(code, WGS84, always_xy=True)


# --- GCJ-02 -----------------------------------------------------------------
_A = 6378245.0
_EE = 0.00669342162296594323


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon, lat):
    """WGS84 → GCJ-02 (the published forward formula)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _invert(forward, x, y, iterations: int = 30, tol: float = 1e-12):
    """Solve forward(p) == (x, y) for p by fixed-point iteration."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    px, py = x.copy(), y.copy()
    for _ in range(iterations):
        fx, fy = forward(px, py)
        ex, ey = fx - x, fy - y
        px, py = px - ex, py - ey
        if np.all(np.abs(ex) < tol) and np.all(np.abs(ey) < tol):
            break
    return px, py


def gcj02_to_wgs84(lon, lat):
    """GCJ-02 → WGS84, exact to ~1e-9 degrees by iterating the forward formula."""
    return _invert(wgs84_to_gcj02, lon, lat)


_X_PI = math.pi * 3000.0 / 180.0


def gcj02_to_bd09(lon, lat):
    """GCJ-02 → BD-09 (Baidu's published forward formula)."""
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat):
    """BD-09 → GCJ-02 by iterating the forward formula."""
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon, lat):
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


@lru_cache(maxsize=32)
def _is_geographic(code: str) -> bool:
    from pyproj import CRS

    return CRS.from_user_input(code).is_geographic


def to_wgs84(x, y, crs: InputCRS | str | None) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinates in ``crs`` to WGS84 longitude/latitude arrays.

    Raises :class:`CRSError` when a coordinate is not finite or, for geographic
    systems, outside the valid longitude/latitude range, naming the first bad index.
    """
    if not isinstance(crs, InputCRS):
        crs = parse_crs(crs)
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if crs.kind != "proj" or _is_geographic(crs.code):
        bad |= (np.abs(x) > 180) | (np.abs(y) > 90)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CRSError(
            N_("coordinate #%(number)s (%(x)s, %(y)s) is not a valid position in %(code)s"),
            number=i + 1,
            x=x[i],
            y=y[i],
            code=crs.code,
        )
    if crs.kind == "wgs84":
        return x.copy(), y.copy()
    if crs.kind == "gcj02":
        return gcj02_to_wgs84(x, y)
    if crs.kind == "bd09":
        return bd09_to_wgs84(x, y)
    lon, lat = _transformer(crs.code).transform(x, y)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CRSError(
            N_("coordinate #%(number)s (%(x)s, %(y)s) cannot be converted from %(code)s"),
            number=i + 1,
            x=x[i],
            y=y[i],
            code=crs.code,
        )
    return lon, lat


def from_wgs84(lon, lat, crs: InputCRS | str | None) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → ``crs`` (for display on GCJ-02 basemaps and for tests)."""
    if not isinstance(crs, InputCRS):
        crs = parse_crs(crs)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if crs.kind == "wgs84":
        return lon.copy(), lat.copy()
    if crs.kind == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if crs.kind == "bd09":
        return wgs84_to_bd09(lon, lat)
    from pyproj import Transformer

    t = Transformer.from_crs(WGS84, crs.code, always_xy=True)
    x, y = t.transform(lon, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
