"""The dask engine on a LocalCluster of 2 workers against the single-process engine.

Baseline: ``geoapp.services.assign_files.assign_file`` (what ``geoapp assign`` runs by default) on a
GeoParquet file of 2,000,000 random points over the demo county, in one process.
Measured: ``geoapp.services.batch.assign_parquet`` on the same file, one partition per row
group (250,000 rows), with a LocalCluster of 2 worker processes; the cluster's start-up is
timed separately and included in the total; a second run on the same (warm) cluster is
reported too.  Both outputs are checked to be equal.
Figures go to bench/results/dask.json; ``ratio`` is baseline time / dask time (above 1:
dask faster).  GEOAPP_BENCH_POINTS changes the number of points.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402

from geoapp.core.assignment import ASSIGNMENT_COLUMNS  # noqa: E402
from geoapp.services.assign_files import assign_file, zoning_from_folder  # noqa: E402
from geoapp.services.county import DEMO_DIR  # noqa: E402

N = int(os.environ.get("GEOAPP_BENCH_POINTS", "2000000"))
ROW_GROUP = 250_000
WORKERS = 2
CATEGORIES = ["litter", "overflowing_bin", "red_light", "illegal_parking", "food_safety"]


def make_file(path: Path, zoning) -> None:
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = shapely.total_bounds(zoning.geoms)
    lon = minx + rng.random(N) * (maxx - minx)
    lat = miny + rng.random(N) * (maxy - miny)
    frame = gpd.GeoDataFrame(
        {"pid": np.arange(N), "category": rng.choice(np.array(CATEGORIES, dtype=object), N)},
        geometry=shapely.points(lon, lat),
        crs=4326,
    )
    frame.to_parquet(path, row_group_size=ROW_GROUP)


def main() -> None:
    from distributed import LocalCluster

    from geoapp.services.batch import assign_parquet

    zoning = zoning_from_folder(DEMO_DIR)
    _ = zoning.grid
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "points.parquet"
        make_file(source, zoning)

        start = time.perf_counter()
        assign_file(source, tmp / "single.parquet", zoning)
        single_s = time.perf_counter() - start

        start = time.perf_counter()
        cluster = LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, dashboard_address=None, silence_logs=40
        )
        startup_s = time.perf_counter() - start
        try:
            run_start = time.perf_counter()
            summary = assign_parquet(
                source, tmp / "dask.parquet", zoning, scheduler=cluster.scheduler_address
            )
            run_s = time.perf_counter() - run_start
            # again on the same cluster: workers have imported the code already, as on a
            # long-running cluster (--scheduler)
            warm_start = time.perf_counter()
            assign_parquet(
                source, tmp / "dask2.parquet", zoning, scheduler=cluster.scheduler_address
            )
            warm_s = time.perf_counter() - warm_start
        finally:
            cluster.close()
        dask_s = startup_s + run_s

        a = pd.read_parquet(tmp / "single.parquet", columns=list(ASSIGNMENT_COLUMNS))
        b = pd.read_parquet(tmp / "dask.parquet", columns=list(ASSIGNMENT_COLUMNS))
        equal = all(
            a[c].astype(object).fillna("").tolist() == b[c].astype(object).fillna("").tolist()
            for c in ASSIGNMENT_COLUMNS
        )
    write_results(
        "dask",
        {
            "baseline": "single-process engine: geoapp.services.assign_files.assign_file (geoapp assign)",
            "points": N,
            "partitions": summary["partitions"],
            "workers": WORKERS,
            "cpus": os.cpu_count(),
            "single_process_s": round(single_s, 3),
            "dask_cluster_startup_s": round(startup_s, 3),
            "dask_assign_s": round(run_s, 3),
            "dask_total_s": round(dask_s, 3),
            "ratio": round(single_s / dask_s, 2),
            "ratio_without_startup": round(single_s / run_s, 2),
            "dask_assign_warm_cluster_s": round(warm_s, 3),
            "ratio_warm_cluster": round(single_s / warm_s, 2),
            "same_answer": equal,
        },
    )


if __name__ == "__main__":
    main()
