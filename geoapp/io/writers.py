"""Writing points back out: a :class:`~geoapp.io.points.PointTable` with extra columns as
CSV or XLSX (formula-safe cells), GeoJSON or GeoParquet, chosen by the output's suffix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geoapp.core.crs import InputCRS
from geoapp.io.files import _kind
from geoapp.io.points import POINT_SUFFIXES, PointTable
from geoapp.io.sheets import csv_safe_frame
from geoapp.io.xlsx_stream import write_frame


def write_points(table: PointTable, extra: pd.DataFrame, out: Path) -> None:
    """Write the input rows with ``extra`` columns added, in the format of ``out``'s suffix.

    Geometry keeps the input's coordinates and CRS.
    """
    out = Path(out)
    fmt = _kind(out, POINT_SUFFIXES, "points")
    tmp = out.with_name(f".{out.name}.partial")
    try:
        if fmt == "parquet" and table.arrow is not None:
            _write_arrow(table, extra, tmp)
            os.replace(tmp, out)
            return
        frame = table.frame.reset_index(drop=True).copy()
        for col in extra.columns:
            frame[col] = extra[col].to_numpy()
        if fmt == "parquet":
            import geopandas as gpd

            geometry = shapely.points(table.src_x, table.src_y)
            gdf = gpd.GeoDataFrame(frame, geometry=geometry, crs=_output_crs(table.crs))
            gdf.to_parquet(tmp, index=False)
        elif fmt == "geojson":
            _write_geojson(frame, table, tmp)
        elif fmt == "csv":
            if table.fmt not in ("csv", "xlsx"):
                frame["lon"] = table.src_x
                frame["lat"] = table.src_y
            csv_safe_frame(frame).to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            if table.fmt not in ("csv", "xlsx"):
                frame["lon"] = table.src_x
                frame["lat"] = table.src_y
            write_frame(frame, str(tmp))  # text as text, never a formula
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_arrow(table: PointTable, extra: pd.DataFrame, out: Path) -> None:
    """Append columns to the Arrow table read from GeoParquet; geometry bytes untouched."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = table.arrow
    for col in extra.columns:
        values = extra[col]
        array = pa.array(
            values.array
            if isinstance(values.dtype, pd.CategoricalDtype)
            else values.to_numpy(dtype=object),
            from_pandas=True,
        )
        if col in arrow.column_names:
            arrow = arrow.set_column(arrow.column_names.index(col), col, array)
        else:
            arrow = arrow.append_column(col, array)
    pq.write_table(arrow, out)


def _output_crs(crs: InputCRS) -> str | None:
    return crs.code if crs.kind in ("wgs84", "proj") else None


def _json_value(v):
    if v is None:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _write_geojson(frame: pd.DataFrame, table: PointTable, out: Path) -> None:
    cols = list(frame.columns)
    records = frame.to_dict(orient="records")
    with open(out, "w", encoding="utf-8") as fh:
        fh.write('{"type": "FeatureCollection",')
        if table.crs.kind != "wgs84":
            fh.write(' "crs_note": ' + json.dumps(f"coordinates are {table.crs.code}") + ",")
        fh.write(' "features": [\n')
        for i, rec in enumerate(records):
            x, y = table.src_x[i], table.src_y[i]
            geom = (
                None
                if not (np.isfinite(x) and np.isfinite(y))
                else {"type": "Point", "coordinates": [float(x), float(y)]}
            )
            feat = {
                "type": "Feature",
                "geometry": geom,
                "properties": {c: _json_value(rec[c]) for c in cols},
            }
            fh.write(json.dumps(feat, ensure_ascii=False))
            fh.write(",\n" if i + 1 < len(records) else "\n")
        fh.write("]}\n")
