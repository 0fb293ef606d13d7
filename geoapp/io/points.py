"""Problem points: GeoJSON, CSV/XLSX with longitude and latitude columns, or GeoParquet read
into a :class:`PointTable` (WGS84 coordinates, the other columns, and the bad rows with
where they are), converting from the coordinate system the file or the user names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geoapp.core.crs import CRSError, InputCRS, parse_crs, to_wgs84
from geoapp.core.messages import N_
from geoapp.io.errors import BadRow, InputError
from geoapp.io.files import _kind, _read_bytes, check_content
from geoapp.io.geojson import _declared_geojson_crs, load_geojson
from geoapp.io.tables import BATCH_ROWS, find_column, iter_table, read_table

POINT_SUFFIXES = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
}
LON_NAMES = ("lon", "lng", "longitude", "long", "x", "经度", "东经")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "北纬")
CRS_NAMES = ("crs", "srs", "坐标系", "坐标系统")


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


def _numbers(cells) -> np.ndarray:
    """Numbers of a column of text cells (:func:`_parse_number` for each; NaN when not a
    number), converted at C speed when every cell is a plain number."""
    values = np.asarray(cells, dtype=object)
    try:
        return values.astype(float)
    except (ValueError, TypeError):
        return np.array([_parse_number(v) for v in values], dtype=float)


def _points_from_table(path: Path, data: bytes):
    frame, where = read_table(path, data)
    return _points_from_frame(path, frame, where)


def _points_from_frame(path: Path, frame: pd.DataFrame, where: list[str]):
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
    xs = _numbers(frame[lon_col])
    ys = _numbers(frame[lat_col])
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
    return _converted(path, fmt, crs, declared, frame, xs, ys, where, bad, arrow, geom_col)


def point_batches(
    path, crs: str | None = None, data: bytes | None = None, batch_rows: int = BATCH_ROWS
) -> Iterator[PointTable]:
    """:func:`read_points` in batches of at most ``batch_rows`` rows: a CSV or XLSX file is
    streamed (memory flat in the file's size), each batch converted on its own; a GeoJSON
    or GeoParquet file is read whole and comes as one batch.  Locations ("line N", "row N")
    count from the top of the file, as :func:`read_points` names them."""
    path = Path(path)
    fmt = _kind(path, POINT_SUFFIXES, "points")
    if fmt not in ("csv", "xlsx"):
        yield read_points(path, crs, data=data)
        return
    check_content(path, fmt, data[:8192] if data is not None else None)
    for frame, where in iter_table(path, data, batch_rows):
        frame, xs, ys, where, bad = _points_from_frame(path, frame, where)
        yield _converted(path, fmt, crs, None, frame, xs, ys, where, bad, None, None)


def _converted(
    path: Path, fmt, crs, declared, frame, xs, ys, where, bad, arrow, geom_col
) -> PointTable:
    """The points of a file converted to WGS84 from the CRS given, or else declared by the
    file, or else the file's CRS column (one per row); rows that cannot be are added to
    ``bad``."""
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
        # one CRS per row (inspectors' phones disagree): each name parsed once, each
        # group converted once
        codes, names = pd.factorize(frame[crs_col].to_numpy(dtype=object), use_na_sentinel=True)
        parsed: list[InputCRS | CRSError] = []
        for value in names:
            text = "" if isinstance(value, float) and np.isnan(value) else str(value)
            try:
                parsed.append(parse_crs(text) if text.strip() else in_crs)
            except CRSError as exc:
                parsed.append(exc)
        parsed.append(in_crs)  # code -1: an empty cell
        row_crs, groups = [in_crs.code] * len(xs), {}
        for code, row_in in enumerate(parsed):
            members = np.flatnonzero(codes == (code if code < len(names) else -1))
            if not len(members):
                continue
            if isinstance(row_in, CRSError):
                good[members] = False
                for i in members:
                    if where[i] not in bad_idx:
                        bad.append(
                            BadRow.of(
                                where[i],
                                (N_("%(column)s: %(error)s"), {"column": crs_col, "error": row_in}),
                            )
                        )
                        bad_idx.add(where[i])
                continue
            for i in members:
                row_crs[i] = row_in.code
            groups.setdefault(row_in, []).extend(members.tolist())
    else:
        groups = {in_crs: list(range(len(xs)))}
    for group_crs, members in groups.items():
        member = np.zeros(len(xs), dtype=bool)
        member[np.asarray(members, dtype=np.int64)] = True
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
