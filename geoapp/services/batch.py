"""``geoapp assign --engine dask``: a GeoParquet file of any size, assigned on a dask cluster.

The file is read lazily with dask-geopandas, one partition per Parquet row group; every
partition is assigned on a worker with the same engine as ``geoapp assign`` (the
:class:`~geoapp.core.assignment.Zoning` is shipped once to every worker with ``client.scatter``),
and the answers come back in order and are streamed into one GeoParquet file, so the
client holds only a few partitions at a time.  The output has the same rows and columns
as the single-process engine's.

dask is imported only when this engine runs: the CLI stays quick without it.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from geoapp.core.assignment import ASSIGNMENT_COLUMNS, Zoning
from geoapp.core.crs import CRSError, parse_crs, to_wgs84
from geoapp.core.messages import N_
from geoapp.core.model import PROBLEM_COLUMNS
from geoapp.io.errors import BadRow, InputError
from geoapp.io.tables import find_column

#: Partitions in flight per worker: enough to keep workers busy, few enough to bound memory.
IN_FLIGHT_PER_WORKER = 2


def _partition_table(part, zoning: Zoning, in_crs, category_column: str | None, geom: str):
    """Worker side: one partition (a GeoDataFrame) → (Arrow table with the assignment
    columns added, number of rows without a usable position)."""
    import pyarrow as pa
    import shapely

    geoms = part.geometry.values
    is_point = shapely.get_type_id(np.asarray(geoms, dtype=object)) == 0
    x = np.full(len(part), np.nan)
    y = np.full(len(part), np.nan)
    x[is_point] = shapely.get_x(np.asarray(geoms, dtype=object)[is_point])
    y[is_point] = shapely.get_y(np.asarray(geoms, dtype=object)[is_point])
    good = np.isfinite(x) & np.isfinite(y)
    lon = np.full(len(part), np.nan)
    lat = np.full(len(part), np.nan)
    if good.any():
        try:
            lon[good], lat[good] = to_wgs84(x[good], y[good], in_crs)
        except CRSError:
            for i in np.flatnonzero(good):
                try:
                    lo, la = to_wgs84(x[i : i + 1], y[i : i + 1], in_crs)
                    lon[i], lat[i] = lo[0], la[0]
                except CRSError:
                    good[i] = False
    categories = None
    if category_column:
        categories = pd.Categorical(part[category_column].to_numpy(dtype=object))
    answer = zoning.assign_codes(lon, lat, categories).to_frame(categorical=False)
    columns, names = [], []
    for name in part.columns:
        if name == geom:
            values = shapely.to_wkb(np.asarray(geoms, dtype=object), output_dimension=2)
            columns.append(pa.array(values, type=pa.binary()))
        elif name in ASSIGNMENT_COLUMNS:
            continue
        else:
            columns.append(pa.array(part[name].to_numpy(dtype=object), from_pandas=True))
        names.append(name)
    for name in ASSIGNMENT_COLUMNS:
        columns.append(pa.array(answer[name].to_numpy(dtype=object), type=pa.string()))
        names.append(name)
    return pa.Table.from_arrays(columns, names=names), int((~good).sum())


def _geo_metadata(geom: str, crs) -> bytes:
    column = {"encoding": "WKB", "geometry_types": []}
    column["crs"] = crs.to_json_dict() if crs is not None else None
    return json.dumps({"version": "1.0.0", "primary_column": geom, "columns": {geom: column}})


def assign_parquet(
    input_path,
    output_path,
    zoning: Zoning,
    crs: str | None = None,
    category_column: str | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    on_partition: Callable[[int, int], None] | None = None,
) -> dict:
    """Assign every point of a GeoParquet file on a dask cluster (``scheduler`` address, or
    a LocalCluster of ``workers`` processes) and write the rows with the assignment
    columns added to ``output_path`` (one GeoParquet file).  ``on_partition(done, total)``
    is called as partitions finish (a progress bar)."""
    input_path, output_path = Path(input_path), Path(output_path)
    if input_path.suffix.lower() not in (".parquet", ".geoparquet"):
        raise InputError(
            N_("%(name)s: the dask engine reads GeoParquet (.parquet) only"), name=input_path.name
        )
    if output_path.suffix.lower() not in (".parquet", ".geoparquet"):
        raise InputError(
            N_("%(name)s: the dask engine writes GeoParquet (.parquet) only"), name=output_path.name
        )
    if not input_path.is_file():
        raise InputError(N_("%(input_path)s: no such file"), input_path=input_path)

    import dask
    import dask_geopandas
    import pyarrow as pa
    import pyarrow.parquet as pq
    from distributed import Client, LocalCluster

    try:
        frame = dask_geopandas.read_parquet(str(input_path), split_row_groups=True)
    except Exception as exc:  # not Parquet, no geo metadata, ...
        raise InputError(
            N_("%(name)s: not a readable GeoParquet file (%(exc)s)"), name=input_path.name, exc=exc
        ) from None
    geom = frame.geometry.name
    declared = None
    if frame.crs is not None:
        epsg = frame.crs.to_epsg()
        if epsg is None and not crs:
            raise InputError(
                N_("%(name)s: its CRS has no EPSG code; give --crs"), name=input_path.name
            )
        declared = f"EPSG:{epsg}" if epsg is not None else None
    try:
        in_crs = parse_crs(crs if crs else declared)
    except CRSError as exc:
        raise InputError(N_("%(name)s: %(exc)s"), name=input_path.name, exc=exc) from None
    names = [c for c in frame.columns if c != geom]
    if category_column and category_column not in names:
        raise InputError(
            N_("%(name)s: no column %(category_column)r"),
            name=input_path.name,
            category_column=category_column,
        )
    cat_col = category_column or find_column(names, PROBLEM_COLUMNS["category"])

    _ = zoning.grid  # built once here, shipped with the index to every worker
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            # a port of the system's choosing: without one the scheduler still serves its
            # HTTP routes on 8787, and a second cluster on the machine (another import, a
            # notebook) finds it taken and warns
            dashboard_address=":0",
            silence_logs=40,
        )
        client = Client(cluster)
    tmp = output_path.with_name(f".{output_path.name}.partial")
    rows = bad = assigned = 0
    writer = None
    try:
        n_workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
        shipped = client.scatter(zoning, broadcast=True)
        parts = frame.to_delayed()
        total = len(parts)
        todo = deque(
            dask.delayed(_partition_table)(p, shipped, in_crs, cat_col, geom) for p in parts
        )
        running: deque = deque()
        done = 0
        while todo or running:
            while todo and len(running) < IN_FLIGHT_PER_WORKER * n_workers:
                running.append(client.compute(todo.popleft()))
            table, n_bad = running.popleft().result()
            bad += n_bad
            rows += table.num_rows
            assigned += table.num_rows - table.column("area_id").null_count
            if writer is None:
                schema = table.schema.with_metadata({"geo": _geo_metadata(geom, frame.crs)})
                writer = pq.ParquetWriter(tmp, schema)
            writer.write_table(table.cast(writer.schema))
            done += 1
            if on_partition:
                on_partition(done, total)
        if writer is None:  # no partitions at all: an empty file with the right columns
            raise InputError(N_("%(name)s: no rows"), name=input_path.name)
        writer.close()
        writer = None
        if bad:
            raise InputError(
                N_("%(name)s: %(the_bad)s row(s) have no usable position; nothing was written"),
                [
                    BadRow.of(
                        "file",
                        (
                            N_("%(count)s row(s) without a point geometry or a valid position"),
                            {"count": bad},
                        ),
                    )
                ],
                name=input_path.name,
                the_bad=bad,
            )
        os.replace(tmp, output_path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(N_("%(name)s: %(exc)s"), name=input_path.name, exc=exc) from None
    finally:
        if writer is not None:
            writer.close()
        client.close()
        if cluster is not None:
            cluster.close()
        if tmp.exists():
            tmp.unlink()
    return {
        "rows": rows,
        "assigned": assigned,
        "unassigned": rows - assigned,
        "crs": in_crs.code,
        "output": str(output_path),
        "engine": "dask",
        "partitions": total,
    }
