"""Boundary files: GeoJSON, GeoPackage or zipped Shapefile read into areas (a GeoDataFrame in
WGS84 with ``area_id`` and ``name``), every bad feature reported with where it is; the
usual column names for the id and the name are recognised (:data:`AREA_ALIASES`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from geoapp.core.messages import N_

if TYPE_CHECKING:  # geopandas and pyproj are slow to import: done where they are used
    import geopandas as gpd

from geoapp.io.errors import BadRow, InputError
from geoapp.io.files import _kind, _read_bytes, check_content, local_file, safe_zip
from geoapp.io.geojson import _declared_geojson_crs, load_geojson

AREA_SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".zip": "shpzip"}
GRID_DEGREES = 1e-7


def _open_ring(geometry: dict) -> str | None:
    """What is wrong when a GeoJSON (Multi)Polygon has a ring whose last position is not
    its first (RFC 7946 3.1.6): shapely closes it with a straight edge the file does not
    have, so the boundary checks must report it."""
    kind = geometry.get("type")
    polygons = (
        [geometry["coordinates"]]
        if kind == "Polygon"
        else geometry["coordinates"]
        if kind == "MultiPolygon"
        else []
    )
    for p, rings in enumerate(polygons, start=1):
        for r, ring in enumerate(rings, start=1):
            if len(ring) >= 2 and list(ring[0][:2]) != list(ring[-1][:2]):
                which = f"ring {r}" + (f" of polygon {p}" if kind == "MultiPolygon" else "")
                return (
                    f"{which} is not closed: it starts at {ring[0][0]}, {ring[0][1]} and ends "
                    f"at {ring[-1][0]}, {ring[-1][1]}; it was closed with a straight edge "
                    "(a ring must end where it starts)"
                )
    return None


def read_areas(path, data: bytes | None = None) -> gpd.GeoDataFrame:
    """Read a boundary set (GeoJSON, GeoPackage, zipped Shapefile; any CRS) into EPSG:4326.

    With ``data`` (an upload) ``path`` is only the client's file name, for the format and
    the messages: the bytes are read, never a file of that name (:func:`local_file`).

    Checks the columns and geometry types; geometry *validity* and the partition are
    checked by :func:`geoapp.core.zoning.check_areas`.
    """
    import geopandas as gpd

    path = Path(path)
    fmt = _kind(path, AREA_SUFFIXES, "areas")
    if fmt == "geojson":
        if data is None:
            data = _read_bytes(path)
        check_content(path, fmt, data)
        doc = load_geojson(data, path.name)
        declared = _declared_geojson_crs(doc, path.name) or "EPSG:4326"
        rows, geoms, bad, open_rings = [], [], [], {}
        for number, feature in enumerate(doc["features"], start=1):
            loc = f"feature {number}"
            try:
                open_ring = _open_ring(feature["geometry"])
                geom = shapely.geometry.shape(feature["geometry"])
            except Exception:
                bad.append(BadRow.of(loc, (N_("geometry is missing or malformed"), {})))
                continue
            if open_ring:
                open_rings[loc] = open_ring
            props = feature.get("properties") or {}
            if not isinstance(props, dict):
                bad.append(BadRow(loc, "properties must be a JSON object"))
                continue
            rows.append({**props, "_where": loc})
            geoms.append(geom)
        if bad:
            raise InputError(
                N_("%(name)s: %(count)s feature(s) cannot be read"),
                bad,
                name=path.name,
                count=len(bad),
            )
        gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=declared)
    else:
        open_rings = {}
        with local_file(path, data) as local:
            check_content(path, fmt, data)
            source = safe_zip(local, path.name) if fmt == "shpzip" else str(local)
            try:
                with warnings.catch_warnings():
                    # GDAL's remarks on odd files (raised as warnings by pyogrio) are not
                    # the user's business; a file it cannot read raises
                    warnings.simplefilter("ignore", RuntimeWarning)
                    gdf = gpd.read_file(source, engine="pyogrio")
            except Exception as exc:
                detail = str(exc).replace(str(local.resolve()), path.name)
                detail = detail.replace(str(local), path.name)
                raise InputError(
                    N_("%(name)s: cannot be read as %(fmt)s (%(detail)s)"),
                    name=path.name,
                    fmt=fmt,
                    detail=detail,
                ) from None
        if gdf.crs is None:
            raise InputError(
                N_("%(name)s: has no CRS; the layer's CRS must be set"), name=path.name
            )
        gdf["_where"] = [f"feature {i + 1}" for i in range(len(gdf))]
    if gdf.empty:
        raise InputError(N_("%(name)s: holds no features"), name=path.name)
    areas = normalise_areas(gdf, path.name)
    # where -> what: rings the file left open (shapely closed them with a straight edge);
    # the boundary checks report them as errors
    areas.attrs["open_rings"] = open_rings
    return areas


# Shapefiles cut column names to 10 characters; people also write Chinese headers.
AREA_ALIASES = {
    "area_id": ("id", "area", "编号", "包干区编号"),
    "name": ("名称", "包干区"),
    "kind": ("type", "类型"),
    "district_id": ("district_i", "district", "片区", "片区编号"),
    "responsible_unit_id": ("responsibl", "unit_id", "unit", "责任单位", "责任单位编号"),
}


def _area_aliases(columns) -> dict[str, str]:
    present = set(columns)
    renames = {}
    for field_name, aliases in AREA_ALIASES.items():
        if field_name in present:
            continue
        for alias in aliases:
            if alias in present and alias not in renames:
                renames[alias] = field_name
                break
    return renames


def normalise_areas(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """Check columns and geometry types, reproject to EPSG:4326, coerce to strings."""
    from geoapp.core.assignment import AREA_COLUMNS

    gdf = gdf.rename(columns=_area_aliases(gdf.columns))
    missing = [c for c in AREA_COLUMNS if c not in gdf.columns]
    if missing:
        raise InputError(
            N_("%(name)s: missing attribute(s) %(names)s; each area needs %(names2)s"),
            name=name,
            names=", ".join(missing),
            names2=", ".join(AREA_COLUMNS),
        )
    if "_where" not in gdf.columns:
        gdf = gdf.assign(_where=[f"feature {i + 1}" for i in range(len(gdf))])
    bad = []
    for where, geom, row in zip(gdf["_where"], gdf.geometry, gdf.itertuples(), strict=True):
        if geom is None or geom.is_empty:
            bad.append(BadRow.of(where, (N_("empty geometry"), {})))
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            bad.append(
                BadRow.of(
                    where,
                    (
                        N_("geometry must be a Polygon or MultiPolygon, got %(kind)s"),
                        {"kind": geom.geom_type},
                    ),
                )
            )
        for col in AREA_COLUMNS:
            v = getattr(row, col)
            if v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip():
                bad.append(BadRow.of(where, (N_("%(column)s is empty"), {"column": col})))
    if bad:
        raise InputError(
            N_("%(name)s: %(count)s problem(s) in the areas"), bad, name=name, count=len(bad)
        )
    import geopandas as gpd
    from pyproj import CRS

    if not gdf.crs.equals(CRS.from_epsg(4326)):
        try:
            gdf = gdf.to_crs(4326)
        except Exception as exc:
            raise InputError(
                N_("%(name)s: cannot convert from %(crs)s to EPSG:4326 (%(exc)s)"),
                name=name,
                crs=gdf.crs,
                exc=exc,
            ) from None
    for col in AREA_COLUMNS:
        gdf[col] = gdf[col].astype(str).str.strip()
    minx, miny, maxx, maxy = gdf.total_bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InputError(
            N_(
                "%(name)s: coordinates (%(minx).1f, %(miny).1f) to (%(maxx).1f, %(maxy).1f) are "
                "not longitudes and latitudes: the file's CRS is wrong or missing (projected "
                "coordinates declared as EPSG:4326?)"
            ),
            name=name,
            minx=minx,
            miny=miny,
            maxx=maxx,
            maxy=maxy,
        )
    # snap to 1e-7° (about 1 cm): a set exported to a projected CRS and imported again gets
    # back exactly the coordinates it had, and both sides of a shared edge stay identical
    gdf["geometry"] = shapely.set_precision(gdf.geometry.values, GRID_DEGREES, mode="pointwise")
    keep = [*AREA_COLUMNS, "_where", "geometry"]
    return gpd.GeoDataFrame(gdf[keep].reset_index(drop=True), geometry="geometry", crs=4326)
