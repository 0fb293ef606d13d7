"""Assignment engine vs geopandas.sjoin (and PostGIS ST_Covers), measured side by side.

Datasets: 1,000,000 uniformly random points over the demo county's areas, and over a
synthetic tessellation of 2,000 small areas (Voronoi cells). Baseline: geopandas.sjoin
(predicate="within") with the areas' spatial index already built. Figures go to
bench/results/assign.json.

Set GEOAPP_BENCH_POINTS to change the number of points (default 1,000,000) and
GEOAPP_BENCH_POSTGIS_URL to add PostGIS (make bench sets it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_of, peak_rss_mb, write_results  # noqa: E402

from geoapp.core.assignment import Zoning  # noqa: E402
from geoapp.io.boundaries import read_areas  # noqa: E402
from geoapp.services.assign_files import assign_file  # noqa: E402
from geoapp.services.county import DEMO_DIR, read_csv_rows  # noqa: E402

N = int(os.environ.get("GEOAPP_BENCH_POINTS", "1000000"))
CATEGORIES = ["litter", "overflowing_bin", "red_light", "illegal_parking", "food_safety"]


def demo_county():
    areas = read_areas(DEMO_DIR / "areas.geojson").drop(columns="_where")
    return areas, read_csv_rows(DEMO_DIR / "districts.csv"), read_csv_rows(DEMO_DIR / "rules.csv")


def tessellation(n: int = 2000, seed: int = 3):
    """Voronoi cells of random seeds over a 0.2° square: small irregular areas."""
    rng = np.random.default_rng(seed)
    x0, y0, size = 114.8, 28.1, 0.2
    seeds = shapely.points(x0 + rng.random(n) * size, y0 + rng.random(n) * size)
    frame = shapely.box(x0, y0, x0 + size, y0 + size)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame)
    geoms = shapely.intersection(np.asarray(cells.geoms), frame)
    geoms = shapely.set_precision(geoms, 1e-7, mode="pointwise")
    kinds = ["main_road", "back_alley", "compound_managed", "urban_village", "market"]
    order = np.argsort(shapely.get_x(shapely.centroid(geoms)))
    areas = gpd.GeoDataFrame(
        {
            "area_id": [f"T{i:04d}" for i in range(len(geoms))],
            "name": [f"cell {i}" for i in range(len(geoms))],
            "kind": [kinds[i % len(kinds)] for i in range(len(geoms))],
            "district_id": [
                f"D{1 + (7 * int(np.where(order == i)[0][0])) // len(geoms)}"
                for i in range(len(geoms))
            ],
            "responsible_unit_id": [f"U{i % 40:02d}" for i in range(len(geoms))],
        },
        geometry=geoms,
        crs=4326,
    )
    districts = [{"district_id": f"D{i}", "lead_unit_id": f"L{i}"} for i in range(1, 8)]
    rules = read_csv_rows(DEMO_DIR / "rules.csv")
    return areas, districts, rules


def random_points(areas: gpd.GeoDataFrame, n: int, seed: int = 11):
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = areas.total_bounds
    lon = minx + rng.random(n) * (maxx - minx)
    lat = miny + rng.random(n) * (maxy - miny)
    cats = pd.Categorical(rng.choice(np.array(CATEGORIES, dtype=object), n))
    return lon, lat, cats


def measure(name: str, areas, districts, rules) -> dict:
    lon, lat, cats = random_points(areas, N)
    # the engine: index built once per generation, timed separately
    start = time.perf_counter()
    zoning = Zoning.build(areas, districts, rules)
    _ = zoning.grid
    build_s = time.perf_counter() - start

    def engine():
        return zoning.assign_codes(lon, lat, cats).to_frame(categorical=True)

    engine_s = best_of(engine, 5)
    result = engine()
    # baseline: geopandas.sjoin with the areas' spatial index built beforehand
    areas_gdf = areas.reset_index(drop=True)
    _ = areas_gdf.sindex
    points = gpd.GeoDataFrame({"category": cats}, geometry=gpd.points_from_xy(lon, lat), crs=4326)

    def baseline():
        return gpd.sjoin(points, areas_gdf, predicate="within", how="left")

    sjoin_s = best_of(baseline, 5)
    joined = baseline()
    # sanity: the same area for every point (random points are never exactly on an edge)
    sj_area = joined.loc[~joined.index.duplicated(), "area_id"].reindex(range(N))
    agree = float(
        np.mean(
            sj_area.fillna("").to_numpy(dtype=object)
            == result["area_id"].astype(object).fillna("").to_numpy()
        )
    )
    # single-point lookup latency
    rng = np.random.default_rng(5)
    idx = rng.integers(0, N, 2000)
    times = []
    for i in idx:
        t = time.perf_counter()
        zoning.assign_one(lon[i], lat[i], cats[i])
        times.append(time.perf_counter() - t)
    figures = {
        "areas": len(areas),
        "points": N,
        "engine_s": round(engine_s, 4),
        "engine_points_per_s": round(N / engine_s),
        "sjoin_s": round(sjoin_s, 4),
        "sjoin_points_per_s": round(N / sjoin_s),
        "ratio_vs_sjoin": round(sjoin_s / engine_s, 2),
        "agreement_with_sjoin": agree,
        "index_build_s": round(build_s, 3),
        "grid_cells": int(np.prod(zoning.grid.shape)),
        "grid_border_fraction": round(zoning.grid.border_fraction(), 4),
        "grid_mb": round(
            (
                zoning.grid.labels.nbytes
                + zoning.grid.cand_area.nbytes
                + zoning.grid.cand_start.nbytes
                + zoning.grid.border_cells.nbytes
            )
            / 2**20,
            1,
        ),
        "single_lookup_median_us": round(float(np.median(times)) * 1e6, 1),
        "single_lookup_p99_us": round(float(np.percentile(times, 99)) * 1e6, 1),
    }
    url = os.environ.get("GEOAPP_BENCH_POSTGIS_URL")
    if url:
        figures.update(postgis(url, areas, lon, lat))
        figures["ratio_vs_postgis"] = round(figures["postgis_s"] / engine_s, 2)
    print(
        f"[{name}] engine {figures['engine_points_per_s']:,} pts/s, sjoin "
        f"{figures['sjoin_points_per_s']:,} pts/s, ratio {figures['ratio_vs_sjoin']}×",
        flush=True,
    )
    return figures


def postgis(url: str, areas, lon, lat) -> dict:
    """ST_Covers with a GiST index on the same areas and points."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            with raw.cursor() as cur:
                cur.execute("DROP TABLE IF EXISTS bench_areas, bench_points")
                cur.execute("CREATE TABLE bench_areas (id int, geom geometry(Geometry, 4326))")
                cur.execute("CREATE TABLE bench_points (id int, lon float8, lat float8)")
                with cur.copy("COPY bench_areas (id, geom) FROM STDIN") as copy:
                    for i, g in enumerate(areas.geometry):
                        copy.write_row((i, f"SRID=4326;{g.wkt}"))
                with cur.copy("COPY bench_points (id, lon, lat) FROM STDIN") as copy:
                    for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
                        copy.write_row((i, x, y))
                cur.execute("ALTER TABLE bench_points ADD COLUMN geom geometry(Point, 4326)")
                cur.execute(
                    "UPDATE bench_points SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326)"
                )
                cur.execute("CREATE INDEX ON bench_areas USING gist (geom)")
                cur.execute("CREATE INDEX ON bench_points USING gist (geom)")
                cur.execute("ANALYZE bench_areas")
                cur.execute("ANALYZE bench_points")
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            with raw.cursor() as cur:
                start = time.perf_counter()
                cur.execute(
                    # the planner may drive from either index; the lowest area id wins ties
                    "CREATE TEMP TABLE bench_result AS SELECT p.id, min(a.id) AS area "
                    "FROM bench_areas a JOIN bench_points p ON ST_Covers(a.geom, p.geom) "
                    "GROUP BY p.id"
                )
                elapsed = time.perf_counter() - start
                cur.execute("DROP TABLE bench_areas, bench_points")
    finally:
        engine.dispose()
    return {"postgis_s": round(elapsed, 3), "postgis_points_per_s": round(len(lon) / elapsed)}


BASELINE_SCRIPT = """
import sys, geopandas as gpd
areas = gpd.read_file(sys.argv[1])
points = gpd.read_parquet(sys.argv[2])
joined = gpd.sjoin(points, areas[["area_id", "district_id", "responsible_unit_id", "geometry"]],
                   predicate="within", how="left").drop(columns="index_right")
joined.to_parquet(sys.argv[3])
"""


def end_to_end(areas_file: Path, zoning: Zoning) -> dict:
    """`geoapp assign` on a GeoParquet file vs read + geopandas.sjoin + write."""
    areas = read_areas(areas_file)
    lon, lat, cats = random_points(areas, N, seed=21)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "points.parquet"
        frame = gpd.GeoDataFrame(
            {"category": np.asarray(cats, dtype=object), "n": np.arange(N)},
            geometry=gpd.points_from_xy(lon, lat),
            crs=4326,
        )
        frame.to_parquet(src)
        areas_gdf = gpd.read_file(areas_file)
        _ = areas_gdf.sindex

        def ours():
            assign_file(src, tmp / "ours.parquet", zoning)

        def theirs():
            points = gpd.read_parquet(src)
            joined = gpd.sjoin(
                points,
                areas_gdf[["area_id", "district_id", "responsible_unit_id", "geometry"]],
                predicate="within",
                how="left",
            )
            joined.drop(columns="index_right").to_parquet(tmp / "theirs.parquet")

        ours_s = best_of(ours, 2)
        theirs_s = best_of(theirs, 2)
        # the same, as whole commands (interpreter start and imports included)
        script = tmp / "baseline.py"
        script.write_text(BASELINE_SCRIPT)
        geoapp = Path(sys.executable).with_name("geoapp")
        command = [
            str(geoapp),
            "assign",
            str(src),
            str(tmp / "cli.parquet"),
            "--zones",
            str(areas_file.parent),
        ]
        env = {**os.environ, "GEOAPP_CACHE_DIR": str(tmp / "cache")}
        # the first command builds the index and keeps it; the next ones load it
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        cli_cold_s = time.perf_counter() - start
        warm = []
        for _ in range(2):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=env)
            warm.append(time.perf_counter() - start)
        cli_s = min(warm)
        baseline_runs = []
        for _ in range(2):
            start = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    str(script),
                    str(areas_file),
                    str(src),
                    str(tmp / "cli_theirs.parquet"),
                ],
                check=True,
                capture_output=True,
            )
            baseline_runs.append(time.perf_counter() - start)
        cli_theirs_s = min(baseline_runs)
        got = gpd.read_parquet(tmp / "ours.parquet")
        assert len(got) == N and "rule" in got.columns
    return {
        "points": N,
        "assign_file_s": round(ours_s, 3),
        "read_sjoin_write_s": round(theirs_s, 3),
        "ratio": round(theirs_s / ours_s, 2),
        "cli_command_s": round(cli_s, 3),
        "cli_command_first_run_s": round(cli_cold_s, 3),
        "baseline_command_s": round(cli_theirs_s, 3),
        "command_ratio": round(cli_theirs_s / cli_s, 2),
        "command_ratio_first_run": round(cli_theirs_s / cli_cold_s, 2),
    }


def main() -> None:
    figures = {"baseline": "geopandas.sjoin(predicate='within'), spatial index prebuilt"}
    figures["demo_county"] = measure("demo county", *demo_county())
    figures["tessellation_2000"] = measure("2,000-area tessellation", *tessellation())
    areas, districts, rules = demo_county()
    zoning = Zoning.build(areas, districts, rules)
    _ = zoning.grid
    figures["end_to_end_geoparquet"] = end_to_end(DEMO_DIR / "areas.geojson", zoning)
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    write_results("assign", figures)


if __name__ == "__main__":
    main()
