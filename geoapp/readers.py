"""Reading and writing the files people bring: GeoJSON, CSV (UTF-8 or GBK), XLSX,
GeoParquet for points; GeoJSON, GeoPackage and zipped Shapefiles for areas.

Every problem is reported with where it is (``line 12``, ``feature 7``) and what is
wrong; nothing here touches the store.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from .crs import CRSError, InputCRS, parse_crs, to_wgs84
from .sheets import csv_safe_frame, write_xlsx_frame
from .textcheck import describe, first_fault, may_hold_bad_text

if TYPE_CHECKING:  # geopandas and pyproj are slow to import: done where they are used
    import geopandas as gpd

POINT_SUFFIXES = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
}
AREA_SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".zip": "shpzip"}
LON_NAMES = ("lon", "lng", "longitude", "long", "x", "经度", "东经")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "北纬")
CRS_NAMES = ("crs", "srs", "坐标系", "坐标系统")
MAX_ZIP_UNCOMPRESSED = 512 * 1024 * 1024
MAX_ZIP_RATIO = 200
GRID_DEGREES = 1e-7


def N_(template: str) -> str:
    """Mark a message template for translation (pybabel's ``N_`` keyword): the web layer
    translates it (``BadRow.messages``); the core stays free of Flask."""
    return template


@dataclass(frozen=True)
class BadRow:
    """One bad input row: where it is and what is wrong.

    ``reason`` is English; ``messages`` holds the (template, values) pairs it was made from,
    so that a page can show it in the reader's language (``BadRow.of``)."""

    where: str
    reason: str
    messages: tuple[tuple[str, dict], ...] = field(default=(), compare=False, hash=False)

    @classmethod
    def of(cls, where: str, *messages: tuple[str, dict]) -> BadRow:
        """A bad row from N_-marked templates with %(name)s fields and their values (kept
        as JSON values: anything but a string or a number is written as text)."""
        plain = tuple((t, {k: _plain(v) for k, v in values.items()}) for t, values in messages)
        return cls(where, "; ".join(fill(t, v) for t, v in plain), plain)

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def fill(template: str, values: dict) -> str:
    """``template % values`` (the template alone when there are no values)."""
    return template % values if values else template


def _plain(value):
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int | float):  # numpy's numbers too
        return value.item() if hasattr(value, "item") else value
    return str(value)


class InputError(ValueError):
    """A file that cannot be read, with the bad rows when there are any."""

    def __init__(self, message: str, bad: list[BadRow] | None = None):
        self.bad = list(bad or [])
        super().__init__(message)

    def describe(self, limit: int = 20) -> str:
        lines = [str(self)]
        lines += [f"  {b}" for b in self.bad[:limit]]
        if len(self.bad) > limit:
            lines.append(f"  ... and {len(self.bad) - limit} more")
        return "\n".join(lines)


def _kind(path: Path, table: dict[str, str], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in table:
        raise InputError(
            f"{path.name}: cannot read {what} from a '{suffix or 'no suffix'}' file; "
            f"use one of {', '.join(sorted(table))}"
        )
    return table[suffix]


# --- text ---------------------------------------------------------------------
def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM) or, failing that, GBK/GB18030 (Excel in China)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise InputError(
            f"{name}: line {line} is neither UTF-8 nor GBK text; save the file as UTF-8"
        ) from None


# --- tables (CSV / XLSX) -----------------------------------------------------------
def read_table(path: Path, data: bytes | None = None) -> tuple[pd.DataFrame, list[str]]:
    """A CSV or XLSX file as a DataFrame of strings plus each row's location."""
    path = Path(path)
    if data is None:
        data = _read_bytes(path)
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path.name, data)
    text = decode_text(data, path.name)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(f"{path.name}: line {reader.line_num}: {exc}") from None
    if not rows:
        raise InputError(f"{path.name}: the file is empty")
    header = [h.strip() for h in rows[0]]
    _check_header(path.name, header)
    records, where = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(
                f"{path.name}: line {number} has {len(row)} fields, the header has {len(header)}",
                [BadRow.of(f"line {number}", (N_("wrong number of fields"), {}))],
            )
        records.append([cell.strip() for cell in row])
        where.append(f"line {number}")
    return pd.DataFrame(records, columns=header, dtype=object), where


def _check_header(name: str, header: list[str]) -> None:
    if not any(header):
        raise InputError(f"{name}: the first row must name the columns")
    seen = set()
    for h in header:
        if h in seen:
            raise InputError(f"{name}: column {h!r} appears twice in the header")
        seen.add(h)


def _read_xlsx(name: str, data: bytes) -> tuple[pd.DataFrame, list[str]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(
            f"{name}: not a readable XLSX workbook ({exc.__class__.__name__})"
        ) from None
    try:
        sheet = book.worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
    finally:
        book.close()
    if not rows:
        raise InputError(f"{name}: the first sheet is empty")
    header = ["" if h is None else str(h).strip() for h in rows[0]]
    _check_header(name, header)
    records, where = [], []
    for number, row in enumerate(rows[1:], start=2):
        cells = [
            "" if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v)) for v in row
        ]
        cells = (cells + [""] * len(header))[: len(header)]
        if not any(c.strip() for c in cells):
            continue
        records.append([c.strip() for c in cells])
        where.append(f"row {number}")
    return pd.DataFrame(records, columns=header, dtype=object), where


def find_column(columns, names: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in columns}
    for n in names:
        if n in lowered:
            return lowered[n]
    return None


def _read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None


# --- points -------------------------------------------------------------------------
@dataclass
class PointTable:
    """Points read from a file: the original rows and WGS84 positions.

    ``lon``/``lat`` are NaN for rows listed in ``bad``. A GeoParquet file stays an Arrow
    table (``arrow``) so that a million rows are never turned into Python objects; its
    attribute columns become a DataFrame only when ``frame`` is asked for.
    """

    data: pd.DataFrame | None
    lon: np.ndarray
    lat: np.ndarray
    src_x: np.ndarray
    src_y: np.ndarray
    crs: InputCRS
    where: list[str]
    fmt: str
    bad: list[BadRow] = field(default_factory=list)
    arrow: object | None = None  # pyarrow.Table of a GeoParquet file, geometry included
    geometry_column: str | None = None
    #: each row's CRS code when the file has a CRS column (坐标系) and none was imposed
    row_crs: list[str] | None = None

    def __len__(self) -> int:
        return len(self.lon)

    @property
    def frame(self) -> pd.DataFrame:
        if self.data is None:
            attrs = self.arrow.drop_columns([self.geometry_column])
            self.data = attrs.to_pandas()
        return self.data

    def column_names(self) -> list[str]:
        if self.arrow is not None:
            return [c for c in self.arrow.column_names if c != self.geometry_column]
        return [str(c) for c in self.frame.columns]

    def categorical(self, column: str) -> pd.Categorical:
        """One attribute column as a Categorical (cheap for Arrow tables)."""
        if self.arrow is not None:
            import pyarrow as pa

            col = self.arrow.column(column).combine_chunks()
            if not pa.types.is_dictionary(col.type):
                col = col.dictionary_encode()
            codes = col.indices.to_numpy(zero_copy_only=False)
            codes = np.where(col.is_null().to_numpy(zero_copy_only=False), -1, codes)
            vocab = pd.Index(col.dictionary.to_pylist(), dtype=object)
            return pd.Categorical.from_codes(codes.astype(np.int64), categories=vocab)
        return pd.Categorical(self.frame[column].to_numpy(dtype=object))


def _declared_geojson_crs(doc: dict, name: str) -> str | None:
    crs = doc.get("crs")
    if not crs:
        return None
    try:
        declared = crs["properties"]["name"]
    except (TypeError, KeyError):
        raise InputError(
            f"{name}: the 'crs' member is not of the form "
            '{"type": "name", "properties": {"name": ...}}'
        ) from None
    try:
        from pyproj import CRS

        return CRS.from_user_input(declared).to_string()
    except Exception:
        raise InputError(f"{name}: unknown CRS {declared!r} in the 'crs' member") from None


def load_geojson(data: bytes, name: str) -> dict:
    text = decode_text(data, name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{name}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise InputError(f"{name}: the JSON is nested too deeply") from None
    fault = first_fault(doc) if may_hold_bad_text(text) else None
    if fault is not None:
        raise InputError(f"{name}: {fault[0]!r} {describe(fault[1])}")
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError(f"{name}: expected a GeoJSON FeatureCollection")
    if not isinstance(doc.get("features"), list):
        raise InputError(f"{name}: the FeatureCollection has no 'features' list")
    return doc


def _points_from_geojson(name: str, data: bytes):
    doc = load_geojson(data, name)
    declared = _declared_geojson_crs(doc, name)
    props, xs, ys, where, bad = [], [], [], [], []
    for number, feature in enumerate(doc["features"], start=1):
        loc = f"feature {number}"
        where.append(loc)
        x = y = np.nan
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            bad.append(BadRow.of(loc, (N_("not a GeoJSON Feature"), {})))
            props.append({})
        else:
            p = feature.get("properties") or {}
            props.append(p if isinstance(p, dict) else {})
            geom = feature.get("geometry")
            coords = geom.get("coordinates") if isinstance(geom, dict) else None
            if not isinstance(geom, dict) or geom.get("type") != "Point":
                kind = geom.get("type") if isinstance(geom, dict) else "no geometry"
                bad.append(
                    BadRow.of(loc, (N_("geometry must be a Point, got %(kind)s"), {"kind": kind}))
                )
            elif (
                not isinstance(coords, list)
                or len(coords) < 2
                or not all(
                    isinstance(c, int | float) and not isinstance(c, bool) for c in coords[:2]
                )
            ):
                bad.append(BadRow.of(loc, (N_("Point coordinates must be two numbers"), {})))
            else:
                x, y = float(coords[0]), float(coords[1])
        xs.append(x)
        ys.append(y)
    frame = pd.DataFrame(props)
    return frame, np.array(xs, dtype=float), np.array(ys, dtype=float), where, bad, declared


def _parse_number(text) -> float:
    if text is None:
        return np.nan
    s = str(text).strip().replace("，", ".").replace("°", "")
    if not s:
        return np.nan
    try:
        return float(s)
    except ValueError:
        return np.nan


def _points_from_table(path: Path, data: bytes):
    frame, where = read_table(path, data)
    lon_col = find_column(frame.columns, LON_NAMES)
    lat_col = find_column(frame.columns, LAT_NAMES)
    if lon_col is None or lat_col is None:
        raise InputError(
            f"{path.name}: needs a longitude and a latitude column "
            f"(named e.g. lon/lat, lng/lat, x/y or 经度/纬度); found {', '.join(map(str, frame.columns))}"
        )
    xs = np.array([_parse_number(v) for v in frame[lon_col]], dtype=float)
    ys = np.array([_parse_number(v) for v in frame[lat_col]], dtype=float)
    bad = [
        BadRow.of(
            where[i],
            (
                N_("%(columns)s is not a pair of numbers: %(x)r, %(y)r"),
                {
                    "columns": f"{lon_col}/{lat_col}",
                    "x": frame[lon_col].iloc[i],
                    "y": frame[lat_col].iloc[i],
                },
            ),
        )
        for i in np.flatnonzero(~(np.isfinite(xs) & np.isfinite(ys)))
    ]
    return frame, xs, ys, where, bad


def read_points(path, crs: str | None = None, data: bytes | None = None) -> PointTable:
    """Read points from GeoJSON, CSV, XLSX or GeoParquet and convert them to WGS84.

    ``crs`` names the coordinates' system (see :mod:`geoapp.crs`); it overrides a CRS
    declared by the file. Rows whose coordinates are missing or invalid are listed in
    ``bad`` with their line or feature number; the rest are converted.
    """
    path = Path(path)
    fmt = _kind(path, POINT_SUFFIXES, "points")
    arrow = geom_col = None
    declared = None
    if fmt == "parquet":
        check_content(path, fmt)
        arrow, geom_col, xs, ys, where, bad, declared = _points_from_parquet(path)
        frame = None
    else:
        if data is None:
            data = _read_bytes(path)
        check_content(path, fmt, data)
        if fmt == "geojson":
            frame, xs, ys, where, bad, declared = _points_from_geojson(path.name, data)
        else:
            frame, xs, ys, where, bad = _points_from_table(path, data)
    try:
        in_crs = parse_crs(crs if crs else declared)
    except CRSError as exc:
        raise InputError(f"{path.name}: {exc}") from None
    lon = np.full(len(xs), np.nan)
    lat = np.full(len(xs), np.nan)
    good = np.isfinite(xs) & np.isfinite(ys)
    bad_idx = {b.where for b in bad}
    row_crs = None
    crs_col = find_column(frame.columns, CRS_NAMES) if frame is not None and not crs else None
    if crs_col is not None:
        # one CRS per row (inspectors' phones disagree): convert each group once
        row_crs, groups = [in_crs.code] * len(xs), {}
        for i, value in enumerate(frame[crs_col].tolist()):
            text = (
                ""
                if value is None or (isinstance(value, float) and np.isnan(value))
                else str(value)
            )
            try:
                row_in = parse_crs(text) if text.strip() else in_crs
            except CRSError as exc:
                good[i] = False
                if where[i] not in bad_idx:
                    bad.append(
                        BadRow.of(
                            where[i],
                            (N_("%(column)s: %(error)s"), {"column": crs_col, "error": exc}),
                        )
                    )
                    bad_idx.add(where[i])
                continue
            row_crs[i] = row_in.code
            groups.setdefault(row_in, []).append(i)
    else:
        groups = {in_crs: list(range(len(xs)))}
    for group_crs, members in groups.items():
        member = np.zeros(len(xs), dtype=bool)
        member[members] = True
        _convert_points(xs, ys, lon, lat, good & member, where, bad, bad_idx, group_crs)
    bad.sort(key=lambda b: _where_key(b.where))
    if frame is not None:
        frame = frame.reset_index(drop=True)
    return PointTable(
        data=frame,
        lon=lon,
        lat=lat,
        src_x=xs,
        src_y=ys,
        crs=in_crs,
        where=where,
        fmt=fmt,
        bad=bad,
        arrow=arrow,
        geometry_column=geom_col,
        row_crs=row_crs,
    )


def _convert_points(xs, ys, lon, lat, good, where, bad, bad_idx, in_crs: InputCRS) -> None:
    """Convert the ``good`` rows to WGS84 in place; name every row that cannot be."""
    if good.any():
        gi = np.flatnonzero(good)
        try:
            lo, la = to_wgs84(xs[gi], ys[gi], in_crs)
            lon[gi], lat[gi] = lo, la
        except CRSError:
            # convert one by one to name every bad row
            for i in gi:
                try:
                    lo, la = to_wgs84(xs[i : i + 1], ys[i : i + 1], in_crs)
                    lon[i], lat[i] = lo[0], la[0]
                except CRSError:
                    if where[i] not in bad_idx:
                        bad.append(
                            BadRow.of(
                                where[i],
                                (
                                    N_("(%(x)s, %(y)s) is not a valid position in %(crs)s"),
                                    {"x": xs[i], "y": ys[i], "crs": in_crs.code},
                                ),
                            )
                        )


def _where_key(where: str) -> int:
    try:
        return int(where.rsplit(" ", 1)[1])
    except (IndexError, ValueError):
        return 0


def _points_from_parquet(path: Path):
    """GeoParquet via Arrow: WKB points are decoded straight from the buffer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path.name}: not a readable Parquet file ({exc})") from None
    meta = (table.schema.metadata or {}).get(b"geo")
    if meta is None:
        raise InputError(f"{path.name}: a Parquet file without GeoParquet 'geo' metadata")
    try:
        geo = json.loads(meta)
        geom_col = geo["primary_column"]
        col_meta = geo["columns"][geom_col]
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{path.name}: malformed GeoParquet 'geo' metadata") from None
    declared = None
    if col_meta.get("crs") is not None:
        try:
            from pyproj import CRS

            epsg = CRS.from_user_input(col_meta["crs"]).to_epsg()
        except Exception:
            epsg = None
        if epsg is None:
            raise InputError(f"{path.name}: its CRS has no EPSG code; give --crs")
        declared = f"EPSG:{epsg}"
    if col_meta.get("encoding", "WKB").upper() != "WKB":
        raise InputError(
            f"{path.name}: geometry encoding {col_meta.get('encoding')!r} is not "
            "supported; write the file with WKB geometry"
        )
    column = table.column(geom_col).combine_chunks()
    xs, ys = _wkb_points(column)
    bad = [
        BadRow.of(f"row {i + 1}", (N_("geometry is not a Point"), {}))
        for i in np.flatnonzero(np.isnan(xs))[:1000]
    ]
    return table, geom_col, xs, ys, _LazyWhere(len(table)), bad, declared


def _wkb_points(column) -> tuple[np.ndarray, np.ndarray]:
    """x, y of WKB points in an Arrow binary column; NaN where it is not a 2-D point."""
    import pyarrow as pa

    n = len(column)
    xs = np.full(n, np.nan)
    ys = np.full(n, np.nan)
    if n == 0:
        return xs, ys
    offset_type = np.int64 if pa.types.is_large_binary(column.type) else np.int32
    buffers = column.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[column.offset : column.offset + n + 1]
    raw = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else None
    fixed = (
        column.null_count == 0
        and raw is not None
        and np.array_equal(np.diff(offsets), np.full(n, 21))
    )
    if fixed:
        rec = raw[offsets[0] : offsets[0] + 21 * n].reshape(n, 21)
        little = rec[:, 0] == 1
        kind = rec[:, 1:5].copy().view("<u4").ravel()
        if little.all() and (kind == 1).all():
            coords = rec[:, 5:21].copy().view("<f8")
            return coords[:, 0].copy(), coords[:, 1].copy()
    # anything else (big-endian, 3-D, other types, nulls): let shapely decode it
    geoms = shapely.from_wkb(column.to_numpy(zero_copy_only=False), on_invalid="ignore")
    is_point = shapely.get_type_id(geoms) == 0
    xs[is_point] = shapely.get_x(geoms[is_point])
    ys[is_point] = shapely.get_y(geoms[is_point])
    return xs, ys


class _LazyWhere(list):
    """'row N' labels made on demand (a million strings are not free)."""

    def __init__(self, n: int):
        super().__init__()
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):  # type: ignore[override]
        return f"row {i + 1}"

    def __iter__(self):
        return (f"row {i + 1}" for i in range(self._n))


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
            write_xlsx_frame(frame, tmp)  # text as text, never a formula
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


# --- areas --------------------------------------------------------------------------
#: Most entries a zipped Shapefile may hold (.shp .shx .dbf .prj .cpg and a few extras).
MAX_ZIP_ENTRIES = 64


def max_unzipped_bytes() -> int:
    """The largest total an archive may unpack to (``GEOAPP_MAX_UNZIPPED_MB``, MiB)."""
    try:
        mib = float(os.environ.get("GEOAPP_MAX_UNZIPPED_MB", "") or 200)
    except ValueError:
        mib = 200
    return int(min(mib * 1024 * 1024, MAX_ZIP_UNCOMPRESSED))


def safe_zip(path: Path) -> str:
    """Check a zipped Shapefile before GDAL opens it; return the path of the .shp inside.

    Refused: more than :data:`MAX_ZIP_ENTRIES` entries, absolute or ``..`` paths, symbolic
    links, encrypted entries, a declared or *actual* unpacked total over
    :func:`max_unzipped_bytes` (every entry is inflated once, counting, so a header that
    lies about its size does not help), a compression ratio over :data:`MAX_ZIP_RATIO`.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise InputError(f"{path.name}: not a ZIP archive") from None
    limit = max_unzipped_bytes()
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise InputError(
                f"{path.name}: holds {len(infos)} entries; a zipped Shapefile has a handful"
            )
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        if total > limit or total / packed > MAX_ZIP_RATIO:
            raise InputError(f"{path.name}: unpacks to {total} bytes, too large to be a Shapefile")
        shps = []
        for i in infos:
            name = i.filename
            if name.startswith("/") or ".." in Path(name).parts or "\\" in name or ":" in name:
                raise InputError(f"{path.name}: unsafe path {name!r} inside the archive")
            if (i.external_attr >> 16) & 0o170000 == 0o120000:
                raise InputError(f"{path.name}: {name!r} is a symbolic link")
            if i.flag_bits & 0x1:
                raise InputError(f"{path.name}: {name!r} is encrypted")
            if name.lower().endswith(".shp"):
                shps.append(name)
        if len(shps) != 1:
            raise InputError(f"{path.name}: must hold exactly one .shp file, holds {len(shps)}")
        base = shps[0][:-4]
        names = {i.filename.lower() for i in infos}
        for ext in (".shx", ".dbf"):
            if (base + ext).lower() not in names:
                raise InputError(f"{path.name}: {base}{ext} is missing from the archive")
        if (base + ".prj").lower() not in names:
            raise InputError(f"{path.name}: {base}.prj is missing: the Shapefile's CRS is unknown")
        unpacked = 0
        try:
            for i in infos:
                with zf.open(i) as fh:
                    while chunk := fh.read(1 << 20):
                        unpacked += len(chunk)
                        if unpacked > limit:
                            raise InputError(
                                f"{path.name}: unpacks to more than {limit} bytes, "
                                "too large to be a Shapefile"
                            )
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
            raise InputError(f"{path.name}: the archive is damaged ({exc})") from None
    return f"/vsizip/{path.resolve()}/{shps[0]}"


_safe_zip = safe_zip  # the old name


#: format → the content kinds (geoapp.uploads.sniff) a file of that format may hold
CONTENT_KINDS = {
    "geojson": {"json"},
    "csv": {"text"},
    "xlsx": {"zip"},
    "parquet": {"parquet"},
    "gpkg": {"sqlite"},
    "shpzip": {"zip"},
}


def check_content(path: Path, fmt: str, data: bytes | None = None) -> None:
    """Refuse a file whose content is not what its suffix says (e.g. a ZIP named .geojson)."""
    from .uploads import sniff

    allowed = CONTENT_KINDS.get(fmt)
    if not allowed:
        return
    if data is None:
        try:
            with open(path, "rb") as fh:
                data = fh.read(8192)
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{path}: is a folder, not a file") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if not data:
        raise InputError(f"{path.name}: the file is empty")
    kind = sniff(data)
    if kind not in allowed:
        raise InputError(
            f"{path.name}: the content is {kind}, not {fmt}; the file name does not match "
            "what the file holds"
        )


def read_areas(path, data: bytes | None = None) -> gpd.GeoDataFrame:
    """Read a boundary set (GeoJSON, GeoPackage, zipped Shapefile; any CRS) into EPSG:4326.

    Checks the columns and geometry types; geometry *validity* and the partition are
    checked by :func:`geoapp.zoning.check_areas`.
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
        rows, geoms, bad = [], [], []
        for number, feature in enumerate(doc["features"], start=1):
            loc = f"feature {number}"
            try:
                geom = shapely.geometry.shape(feature["geometry"])
            except Exception:
                bad.append(BadRow(loc, "geometry is missing or malformed"))
                continue
            props = feature.get("properties") or {}
            rows.append({**props, "_where": loc})
            geoms.append(geom)
        if bad:
            raise InputError(f"{path.name}: {len(bad)} feature(s) cannot be read", bad)
        gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=declared)
    else:
        if not path.exists():
            raise InputError(f"{path}: no such file")
        check_content(path, fmt)
        source = safe_zip(path) if fmt == "shpzip" else str(path)
        try:
            gdf = gpd.read_file(source, engine="pyogrio")
        except Exception as exc:
            raise InputError(f"{path.name}: cannot be read as {fmt} ({exc})") from None
        if gdf.crs is None:
            raise InputError(f"{path.name}: has no CRS; the layer's CRS must be set")
        gdf["_where"] = [f"feature {i + 1}" for i in range(len(gdf))]
    if gdf.empty:
        raise InputError(f"{path.name}: holds no features")
    return normalise_areas(gdf, path.name)


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
    from .spatial import AREA_COLUMNS

    gdf = gdf.rename(columns=_area_aliases(gdf.columns))
    missing = [c for c in AREA_COLUMNS if c not in gdf.columns]
    if missing:
        raise InputError(
            f"{name}: missing attribute(s) {', '.join(missing)}; each area needs "
            f"{', '.join(AREA_COLUMNS)}"
        )
    if "_where" not in gdf.columns:
        gdf = gdf.assign(_where=[f"feature {i + 1}" for i in range(len(gdf))])
    bad = []
    for where, geom, row in zip(gdf["_where"], gdf.geometry, gdf.itertuples(), strict=True):
        if geom is None or geom.is_empty:
            bad.append(BadRow(where, "empty geometry"))
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            bad.append(
                BadRow(where, f"geometry must be a Polygon or MultiPolygon, got {geom.geom_type}")
            )
        for col in AREA_COLUMNS:
            v = getattr(row, col)
            if v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip():
                bad.append(BadRow(where, f"{col} is empty"))
    if bad:
        raise InputError(f"{name}: {len(bad)} problem(s) in the areas", bad)
    import geopandas as gpd
    from pyproj import CRS

    if not gdf.crs.equals(CRS.from_epsg(4326)):
        try:
            gdf = gdf.to_crs(4326)
        except Exception as exc:
            raise InputError(
                f"{name}: cannot convert from {gdf.crs} to EPSG:4326 ({exc})"
            ) from None
    for col in AREA_COLUMNS:
        gdf[col] = gdf[col].astype(str).str.strip()
    minx, miny, maxx, maxy = gdf.total_bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InputError(
            f"{name}: coordinates ({minx:.1f}, {miny:.1f}) to ({maxx:.1f}, {maxy:.1f}) are not "
            "longitudes and latitudes: the file's CRS is wrong or missing (projected "
            "coordinates declared as EPSG:4326?)"
        )
    # snap to 1e-7° (about 1 cm): a set exported to a projected CRS and imported again gets
    # back exactly the coordinates it had, and both sides of a shared edge stay identical
    gdf["geometry"] = shapely.set_precision(gdf.geometry.values, GRID_DEGREES, mode="pointwise")
    keep = [*AREA_COLUMNS, "_where", "geometry"]
    return gpd.GeoDataFrame(gdf[keep].reset_index(drop=True), geometry="geometry", crs=4326)
