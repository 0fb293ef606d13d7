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
import struct
import tempfile
import warnings
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from geoapp.core.crs import CRSError, InputCRS, parse_crs, to_wgs84
from geoapp.core.messages import N_, Explained, fill, plain
from geoapp.core.textcheck import MAX_DEPTH, NUL, SURROGATE, first_fault, may_hold_bad_text
from geoapp.io.sheets import csv_safe_frame, write_xlsx_frame

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
        kept = tuple((t, {k: plain(v) for k, v in values.items()}) for t, values in messages)
        return cls(where, "; ".join(fill(t, v) for t, v in kept), kept)

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class InputError(Explained, ValueError):
    """A file that cannot be read, with the bad rows when there are any."""

    def __init__(self, message: str, /, bad: list[BadRow] | None = None, **values):
        self.bad = list(bad or [])
        super().__init__(message, **values)

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
            N_("%(name)s: cannot read %(what)s from a '%(value)s' file; use one of %(names)s"),
            name=path.name,
            what=what,
            value=suffix or "no suffix",
            names=", ".join(sorted(table)),
        )
    return table[suffix]


def display_name(name: str | None, default: str = "upload") -> Path:
    """The last part of a client-given file name, for its suffix and for messages only:
    never a path to open (``C:\\x\\a.gpkg``, ``../../etc/a.zip`` -> ``a.gpkg``, ``a.zip``)."""
    last = PurePosixPath(str(name or "").replace("\\", "/")).name.strip()
    return Path(last if last not in ("", ".", "..") else default)


@contextmanager
def local_file(path: Path, data: bytes | None):
    """The file to hand to GDAL or Arrow.

    Without ``data`` it is ``path`` itself (a file the operator named on the command line).
    With ``data`` (an upload) ``path`` is only the name the client gave: the bytes are
    written to a temporary folder the server names (``geoapp-upload-*`` under the system
    temporary directory) and removed when the block ends, whatever happens in it."""
    if data is None:
        if not path.exists():
            raise InputError(N_("%(path)s: no such file"), path=path)
        if path.is_dir():
            raise InputError(N_("%(path)s: is a folder, not a file"), path=path)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="geoapp-upload-") as tmp:
        local = Path(tmp) / f"upload{path.suffix.lower()}"
        with open(local, "xb") as fh:
            fh.write(data)
        yield local


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
            N_("%(name)s: line %(line)s is neither UTF-8 nor GBK text; save the file as UTF-8"),
            name=name,
            line=line,
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
        raise InputError(
            N_("%(name)s: line %(line_num)s: %(exc)s"),
            name=path.name,
            line_num=reader.line_num,
            exc=exc,
        ) from None
    if not rows:
        raise InputError(N_("%(name)s: the file is empty"), name=path.name)
    header = [h.strip() for h in rows[0]]
    _check_header(path.name, header)
    records, where = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(
                N_("%(name)s: line %(number)s has %(count)s fields, the header has %(count2)s"),
                [BadRow.of(f"line {number}", (N_("wrong number of fields"), {}))],
                name=path.name,
                number=number,
                count=len(row),
                count2=len(header),
            )
        records.append([cell.strip() for cell in row])
        where.append(f"line {number}")
    return pd.DataFrame(records, columns=header, dtype=object), where


def _check_header(name: str, header: list[str]) -> None:
    if not any(header):
        raise InputError(N_("%(name)s: the first row must name the columns"), name=name)
    seen = set()
    for h in header:
        if h in seen:
            raise InputError(
                N_("%(name)s: column %(h)r appears twice in the header"), name=name, h=h
            )
        seen.add(h)


#: rows in an Excel sheet; a row number past this is a crafted file
XLSX_MAX_ROWS = 1_048_576
#: entries in an XLSX archive (a workbook has a few dozen)
XLSX_MAX_ENTRIES = 10_000


def _cell_text(v) -> str:
    return "" if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v))


def _read_xlsx(name: str, data: bytes) -> tuple[pd.DataFrame, list[str]]:
    """The first sheet of a workbook, streamed row by row (openpyxl read-only) after its
    unpacked size was counted (:func:`check_unzipped`, :func:`max_xlsx_unzipped_bytes`)."""
    import openpyxl

    book = None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if len(zf.infolist()) > XLSX_MAX_ENTRIES:
                raise InputError(
                    N_("%(name)s: holds %(count)s entries, not a workbook"),
                    name=name,
                    count=len(zf.infolist()),
                )
            check_unzipped(zf, name, max_xlsx_unzipped_bytes(), "an XLSX workbook")
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        if not book.worksheets:
            raise InputError(N_("%(name)s: the workbook has no sheet"), name=name)
        sheet = book.worksheets[0]
        # the declared dimensions are not trusted: a sheet claiming column XFD would pad
        # every row to 16384 cells
        sheet.reset_dimensions()
        first = next(sheet.iter_rows(max_row=1, values_only=True), None)
        if first is None:
            raise InputError(N_("%(name)s: the first sheet is empty"), name=name)
        header = [_cell_text(h).strip() for h in first]
        while header and not header[-1]:
            header.pop()
        _check_header(name, header)
        records, where = [], []
        width = len(header)
        blank = None  # the rows openpyxl makes up for the row numbers a sheet skips
        for number, row in enumerate(
            sheet.iter_rows(min_row=2, max_col=width, values_only=True), start=2
        ):
            if number > XLSX_MAX_ROWS:
                raise InputError(
                    N_("%(name)s: more than %(limit)s rows, not an Excel sheet"),
                    name=name,
                    limit=XLSX_MAX_ROWS,
                )
            # a row far down (r="1048576") is preceded by a million made-up empty rows:
            # passed over at once (openpyxl gives the same tuple for each), not cell by cell
            if row is blank or row.count(None) == len(row):
                blank = row
                continue
            cells = [_cell_text(v).strip() for v in row]
            cells = (cells + [""] * width)[:width]
            if any(cells):
                records.append(cells)
                where.append(f"row {number}")
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a crafted file makes openpyxl raise
        # (broken XML is an xml.etree ParseError, a SyntaxError), opening it or reading it
        raise InputError(
            N_("%(name)s: not a readable XLSX workbook (%(error)s)"),
            name=name,
            error=exc.__class__.__name__,
        ) from None
    finally:
        if book is not None:
            book.close()
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
        raise InputError(N_("%(path)s: no such file"), path=path) from None
    except IsADirectoryError:
        raise InputError(N_("%(path)s: is a folder, not a file"), path=path) from None
    except OSError as exc:
        raise InputError(
            N_("%(path)s: cannot be read (%(strerror)s)"), path=path, strerror=exc.strerror
        ) from None


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
            N_(
                '%(name)s: the \'crs\' member is not of the form {"type": "name", "properties": {"name": ...}}'
            ),
            name=name,
        ) from None
    try:
        from pyproj import CRS

        return CRS.from_user_input(declared).to_string()
    except Exception:
        raise InputError(
            N_("%(name)s: unknown CRS %(declared)r in the 'crs' member"),
            name=name,
            declared=declared,
        ) from None


def load_geojson(data: bytes, name: str) -> dict:
    text = decode_text(data, name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            N_("%(name)s: not valid JSON at line %(lineno)s, column %(colno)s: %(msg)s"),
            name=name,
            lineno=exc.lineno,
            colno=exc.colno,
            msg=exc.msg,
        ) from None
    except RecursionError:
        raise InputError(N_("%(name)s: the JSON is nested too deeply"), name=name) from None
    fault = first_fault(doc) if may_hold_bad_text(text) else None
    if fault is not None:
        where, kind = fault
        if kind == NUL:
            raise InputError(
                N_("%(name)s: %(where)r contains a NUL character (U+0000), which cannot be stored"),
                name=name,
                where=where,
            )
        if kind == SURROGATE:
            raise InputError(
                N_("%(name)s: %(where)r contains a lone surrogate, which is not valid Unicode"),
                name=name,
                where=where,
            )
        raise InputError(
            N_("%(name)s: %(where)r is nested deeper than %(depth)s levels"),
            name=name,
            where=where,
            depth=MAX_DEPTH,
        )
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError(N_("%(name)s: expected a GeoJSON FeatureCollection"), name=name)
    if not isinstance(doc.get("features"), list):
        raise InputError(N_("%(name)s: the FeatureCollection has no 'features' list"), name=name)
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
            N_(
                "%(name)s: needs a longitude and a latitude column (named e.g. lon/lat, lng/lat, x/y or 经度/纬度); found %(names)s"
            ),
            name=path.name,
            names=", ".join(map(str, frame.columns)),
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

    ``crs`` names the coordinates' system (see :mod:`geoapp.core.crs`); it overrides a CRS
    declared by the file.  With ``data`` (an upload) ``path`` only names the file: the
    bytes are read, never a file of that name. Rows whose coordinates are missing or invalid are listed in
    ``bad`` with their line or feature number; the rest are converted.
    """
    path = Path(path)
    fmt = _kind(path, POINT_SUFFIXES, "points")
    arrow = geom_col = None
    declared = None
    if fmt == "parquet":
        check_content(path, fmt, data)
        arrow, geom_col, xs, ys, where, bad, declared = _points_from_parquet(path, data)
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
        raise InputError(N_("%(name)s: %(exc)s"), name=path.name, exc=exc) from None
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


def _points_from_parquet(path: Path, data: bytes | None = None):
    """GeoParquet via Arrow: WKB points are decoded straight from the buffer (``data``,
    an upload, when given: ``path`` then only names it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if data is None and not path.exists():
        raise InputError(N_("%(path)s: no such file"), path=path)
    try:
        table = pq.read_table(pa.BufferReader(data) if data is not None else path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(
            N_("%(name)s: not a readable Parquet file (%(exc)s)"), name=path.name, exc=exc
        ) from None
    meta = (table.schema.metadata or {}).get(b"geo")
    if meta is None:
        raise InputError(
            N_("%(name)s: a Parquet file without GeoParquet 'geo' metadata"), name=path.name
        )
    try:
        geo = json.loads(meta)
        geom_col = geo["primary_column"]
        col_meta = geo["columns"][geom_col]
    except (ValueError, KeyError, TypeError):
        raise InputError(
            N_("%(name)s: malformed GeoParquet 'geo' metadata"), name=path.name
        ) from None
    declared = None
    if col_meta.get("crs") is not None:
        try:
            from pyproj import CRS

            epsg = CRS.from_user_input(col_meta["crs"]).to_epsg()
        except Exception:
            epsg = None
        if epsg is None:
            raise InputError(N_("%(name)s: its CRS has no EPSG code; give --crs"), name=path.name)
        declared = f"EPSG:{epsg}"
    if col_meta.get("encoding", "WKB").upper() != "WKB":
        raise InputError(
            N_(
                "%(name)s: geometry encoding %(get)r is not supported; write the file with WKB geometry"
            ),
            name=path.name,
            get=col_meta.get("encoding"),
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


def _mib_setting(variable: str, default: float) -> int:
    try:
        mib = float(os.environ.get(variable, "") or default)
    except ValueError:
        mib = default
    return int(min(max(mib, 0) * 1024 * 1024, MAX_ZIP_UNCOMPRESSED))


def max_unzipped_bytes() -> int:
    """The largest total a zipped Shapefile may unpack to (``GEOAPP_MAX_UNZIPPED_MB``, MiB)."""
    return _mib_setting("GEOAPP_MAX_UNZIPPED_MB", 200)


def max_xlsx_unzipped_bytes() -> int:
    """The largest total an XLSX workbook may unpack to (``GEOAPP_MAX_XLSX_UNZIPPED_MB``,
    MiB): parsing its XML takes about a second per MiB, so the bound is tighter."""
    return _mib_setting("GEOAPP_MAX_XLSX_UNZIPPED_MB", 50)


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:g} MiB"


def _inflated_size(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> int:
    """The real unpacked size of one entry, counted while inflating its raw bytes (the
    sizes in the headers are not used); stops counting once it passes ``budget``."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # bzip2 / lzma: zipfile stops at the declared size and checks the CRC
        total = 0
        with zf.open(info) as fh:
            while (chunk := fh.read(1 << 20)) and total <= budget:
                total += len(chunk)
        return total
    fp = zf.fp
    fp.seek(info.header_offset)
    head = fp.read(30)
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header of {info.filename}")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    if info.compress_type == zipfile.ZIP_STORED:
        return len(fp.read(min(info.compress_size, budget + 1)))
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    pending = fp.read(1 << 16)
    while pending and not inflate.eof and total <= budget:
        total += len(inflate.decompress(pending, 1 << 20))
        pending = inflate.unconsumed_tail or fp.read(1 << 16)
    return total


def check_unzipped(zf: zipfile.ZipFile, name: str, limit: int, what: str) -> None:
    """Refuse an archive whose entries unpack to more than ``limit`` bytes in all, as
    declared or as *actually* inflated (every entry is inflated once, counting)."""
    infos = zf.infolist()
    unpacked = sum(i.file_size for i in infos)  # as declared; then as actually inflated
    if unpacked <= limit:
        unpacked = 0
        try:
            for info in infos:
                unpacked += _inflated_size(zf, info, limit - unpacked)
                if unpacked > limit:
                    break
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
            raise InputError(
                N_("%(name)s: the archive is damaged (%(exc)s)"), name=name, exc=exc
            ) from None
    if unpacked > limit:
        raise InputError(
            N_(
                "%(name)s: unpacks to more than %(limit)s (the limit for %(what)s); it is refused unread"
            ),
            name=name,
            limit=_mib(limit),
            what=what,
        )


def safe_zip(path: Path, name: str | None = None) -> str:
    """Check a zipped Shapefile before GDAL opens it; return the path of the .shp inside.

    ``name`` is what messages call the file (default: ``path``'s name).  Refused: more
    than :data:`MAX_ZIP_ENTRIES` entries, absolute or ``..`` paths, symbolic links,
    encrypted entries, a compression ratio over :data:`MAX_ZIP_RATIO`, a declared or
    *actual* unpacked total over :func:`max_unzipped_bytes` (:func:`check_unzipped`).
    """
    name = name or path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise InputError(N_("%(name)s: not a ZIP archive"), name=name) from None
    limit = max_unzipped_bytes()
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise InputError(
                N_("%(name)s: holds %(count)s entries; a zipped Shapefile has a handful"),
                name=name,
                count=len(infos),
            )
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        if total > limit or total / packed > MAX_ZIP_RATIO:
            raise InputError(
                N_(
                    "%(name)s: unpacks to %(total)s bytes, too large to be a Shapefile (at most %(limit)s)"
                ),
                name=name,
                total=total,
                limit=_mib(limit),
            )
        shps = []
        for i in infos:
            entry = i.filename
            if entry.startswith("/") or ".." in Path(entry).parts or "\\" in entry or ":" in entry:
                raise InputError(
                    N_("%(name)s: unsafe path %(entry)r inside the archive"), name=name, entry=entry
                )
            if (i.external_attr >> 16) & 0o170000 == 0o120000:
                raise InputError(
                    N_("%(name)s: %(entry)r is a symbolic link"), name=name, entry=entry
                )
            if i.flag_bits & 0x1:
                raise InputError(N_("%(name)s: %(entry)r is encrypted"), name=name, entry=entry)
            if entry.lower().endswith(".shp"):
                shps.append(entry)
        if len(shps) != 1:
            raise InputError(
                N_("%(name)s: must hold exactly one .shp file, holds %(count)s"),
                name=name,
                count=len(shps),
            )
        base = shps[0][:-4]
        names = {i.filename.lower() for i in infos}
        for ext in (".shx", ".dbf"):
            if (base + ext).lower() not in names:
                raise InputError(
                    N_("%(name)s: %(base)s%(ext)s is missing from the archive"),
                    name=name,
                    base=base,
                    ext=ext,
                )
        if (base + ".prj").lower() not in names:
            raise InputError(
                N_("%(name)s: %(base)s.prj is missing: the Shapefile's CRS is unknown"),
                name=name,
                base=base,
            )
        check_unzipped(zf, name, limit, "a zipped Shapefile")
    return f"/vsizip/{path.resolve()}/{shps[0]}"


_safe_zip = safe_zip  # the old name


#: format → the content kinds (geoapp.io.uploads.sniff) a file of that format may hold
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
    from geoapp.io.uploads import sniff

    allowed = CONTENT_KINDS.get(fmt)
    if not allowed:
        return
    if data is None:
        try:
            with open(path, "rb") as fh:
                data = fh.read(8192)
        except FileNotFoundError:
            raise InputError(N_("%(path)s: no such file"), path=path) from None
        except IsADirectoryError:
            raise InputError(N_("%(path)s: is a folder, not a file"), path=path) from None
        except OSError as exc:
            raise InputError(
                N_("%(path)s: cannot be read (%(strerror)s)"), path=path, strerror=exc.strerror
            ) from None
    if not data:
        raise InputError(N_("%(name)s: the file is empty"), name=path.name)
    kind = sniff(data)
    if kind not in allowed:
        raise InputError(
            N_(
                "%(name)s: the content is %(kind)s, not %(fmt)s; the file name does not match what the file holds"
            ),
            name=path.name,
            kind=kind,
            fmt=fmt,
        )


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
