"""Reading a register of inspection points (受检点): CSV (UTF-8 or GBK), XLSX, GeoParquet or
GeoJSON, as shapes in WGS84.

Tables give a point per row (columns lon/lat or x/y, 经度/纬度, as for problems: the readers
of :mod:`geoapp.io.points`, with their encodings, CRS column and conversions).  GeoJSON may
also give polygons (a market, a compound): Point, Polygon and MultiPolygon features are
read, converted once from the file's declared CRS (or ``crs``) to WGS84.  Bad rows are listed
with their line or feature number; nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geoapp.core.crs import CRSError, parse_crs, to_wgs84
from geoapp.core.messages import N_
from geoapp.io.errors import BadRow, InputError
from geoapp.io.files import _read_bytes, check_content
from geoapp.io.geojson import _declared_geojson_crs, load_geojson
from geoapp.io.points import read_points

SHAPE_TYPES = ("Point", "Polygon", "MultiPolygon")


@dataclass
class ShapeTable:
    """Rows of attributes with a WGS84 shape each (None for the rows listed in ``bad``)."""

    frame: pd.DataFrame
    shapes: list
    where: list[str]
    crs: str
    bad: list[BadRow] = field(default_factory=list)


def read_register(path, crs: str | None = None, data: bytes | None = None) -> ShapeTable:
    """Read a register file (see the module docstring)."""
    path = Path(path)
    if path.suffix.lower() not in (".geojson", ".json"):
        table = read_points(path, crs, data=data)
        shapes = [
            None if np.isnan(x) or np.isnan(y) else shapely.Point(x, y)
            for x, y in zip(table.lon, table.lat, strict=True)
        ]
        return ShapeTable(table.frame, shapes, list(table.where), table.crs.code, list(table.bad))
    if data is None:
        data = _read_bytes(path)
    check_content(path, "geojson", data)
    doc = load_geojson(data, path.name)
    try:
        in_crs = parse_crs(crs if crs else _declared_geojson_crs(doc, path.name))
    except CRSError as exc:
        raise InputError(N_("%(name)s: %(exc)s"), name=path.name, exc=exc) from None
    props, shapes, where, bad = [], [], [], []
    for number, feature in enumerate(doc["features"], start=1):
        loc = f"feature {number}"
        where.append(loc)
        p = feature.get("properties") if isinstance(feature, dict) else None
        props.append(p if isinstance(p, dict) else {})
        shape, problem = _shape(feature, in_crs)
        if problem is not None:
            bad.append(BadRow.of(loc, problem))
        shapes.append(shape)
    return ShapeTable(pd.DataFrame(props), shapes, where, in_crs.code, bad)


def _shape(feature, in_crs) -> tuple[object | None, tuple[str, dict] | None]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return None, (N_("not a GeoJSON Feature"), {})
    geom = feature.get("geometry")
    kind = geom.get("type") if isinstance(geom, dict) else "no geometry"
    if kind not in SHAPE_TYPES:
        return None, (
            N_("geometry must be a Point, Polygon or MultiPolygon, got %(kind)s"),
            {"kind": kind},
        )
    try:
        shape = shapely.geometry.shape(geom)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return None, (N_("the coordinates of the %(kind)s cannot be read"), {"kind": kind})
    if shape.is_empty:
        return None, (N_("the %(kind)s is empty"), {"kind": kind})
    coords = shapely.get_coordinates(shape)
    try:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], in_crs)
    except CRSError as exc:
        return None, (N_("%(exc)s"), {"exc": str(exc)})
    shape = shapely.set_coordinates(shape, np.column_stack([lon, lat]))
    if not shape.is_valid:
        return None, (
            N_("invalid shape: %(reason)s"),
            {"reason": shapely.is_valid_reason(shape)},
        )
    return shape, None
