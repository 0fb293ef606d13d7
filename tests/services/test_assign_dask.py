"""``geoapp assign --engine dask``: the same answer as the single-process engine."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geoapp.cli import main
from geoapp.core.assignment import ASSIGNMENT_COLUMNS
from geoapp.store import open_store

pytestmark = pytest.mark.slow


def points_file(path, bounds, n=20_000, crs=4326):
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = bounds
    pad = 0.01
    x = minx - pad + rng.random(n) * (maxx - minx + 2 * pad)
    y = miny - pad + rng.random(n) * (maxy - miny + 2 * pad)
    categories = ["litter", "red_light", "food_safety", "illegal_parking", "disorder"]
    frame = gpd.GeoDataFrame(
        {
            "pid": np.arange(n),
            "category": np.array(categories, dtype=object)[rng.integers(0, len(categories), n)],
            "note": [f"p{i}" for i in range(n)],
        },
        geometry=shapely.points(x, y),
        crs=4326,
    ).to_crs(crs)
    frame.to_parquet(path, row_group_size=n // 5)
    return frame


def column(frame, name):
    return [None if pd.isna(v) else str(v) for v in frame[name].astype(object)]


def run(args):
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result


def test_dask_engine_matches_single_process(demo_url, tmp_path):
    store = open_store(demo_url)
    bounds = store.areas(store.current_generation()["id"]).total_bounds
    store.close()
    source = points_file(tmp_path / "in.parquet", bounds)
    single, dask_out = tmp_path / "single.parquet", tmp_path / "dask.parquet"
    base = ["--database-url", demo_url, "assign", str(tmp_path / "in.parquet")]
    r1 = run([*base, str(single)])
    assert r1.exit_code == 0, r1.output
    r2 = run([*base, str(dask_out), "--engine", "dask", "--workers", "2"])
    assert r2.exit_code == 0, r2.output
    s1 = json.loads(r1.stdout.strip().splitlines()[-1])
    s2 = json.loads(r2.stdout.strip().splitlines()[-1])
    assert s2["engine"] == "dask" and s2["partitions"] == 5
    assert {k: s2[k] for k in ("rows", "assigned", "unassigned", "crs")} == {
        k: s1[k] for k in ("rows", "assigned", "unassigned", "crs")
    }
    assert 0 < s1["assigned"] < s1["rows"]
    a = gpd.read_parquet(single)
    b = gpd.read_parquet(dask_out)
    assert list(b.columns) == list(a.columns)
    assert b["pid"].tolist() == a["pid"].tolist() == source["pid"].tolist()
    assert b["note"].tolist() == a["note"].tolist()
    assert b.crs.equals(a.crs)
    assert shapely.equals_exact(b.geometry.values, a.geometry.values, tolerance=0).all()
    for name in ASSIGNMENT_COLUMNS:
        assert column(b, name) == column(a, name), name
    assert any(v is not None for v in column(b, "rule"))  # category rules applied too


def test_dask_engine_on_a_scheduler_with_a_projected_file(tmp_path):
    """--scheduler ADDRESS (here a LocalCluster the test starts) and --zones; a file in a
    projected CRS is converted as the single-process engine does."""
    from distributed import LocalCluster

    from geoapp.services.county import DEMO_DIR

    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    points_file(tmp_path / "in.parquet", areas.total_bounds, n=5_000, crs=32650)
    base = ["assign", str(tmp_path / "in.parquet"), "--zones", str(DEMO_DIR)]
    assert run([*base, str(tmp_path / "one.parquet")]).exit_code == 0
    with LocalCluster(
        n_workers=1, processes=False, dashboard_address=None, silence_logs=40
    ) as cluster:
        r = run(
            [
                *base,
                str(tmp_path / "two.parquet"),
                "--engine",
                "dask",
                "--scheduler",
                cluster.scheduler_address,
            ]
        )
    assert r.exit_code == 0, r.output
    a, b = gpd.read_parquet(tmp_path / "one.parquet"), gpd.read_parquet(tmp_path / "two.parquet")
    for name in ASSIGNMENT_COLUMNS:
        assert column(b, name) == column(a, name), name


def test_dask_engine_refuses_bad_input(tmp_path):
    from geoapp.services.county import DEMO_DIR

    (tmp_path / "in.csv").write_text("lon,lat\n1,2\n", encoding="utf-8")
    r = run(
        [
            "assign",
            str(tmp_path / "in.csv"),
            str(tmp_path / "o.parquet"),
            "--zones",
            str(DEMO_DIR),
            "--engine",
            "dask",
        ]
    )
    assert r.exit_code == 2 and "GeoParquet" in r.output
    assert not (tmp_path / "o.parquet").exists()
    r = run(
        [
            "assign",
            str(tmp_path / "in.csv"),
            str(tmp_path / "o.csv"),
            "--zones",
            str(DEMO_DIR),
            "--scheduler",
            "tcp://127.0.0.1:1",
        ]
    )
    assert r.exit_code == 2 and "--engine dask" in r.output


def test_the_cli_does_not_import_dask_or_gunicorn():
    import subprocess
    import sys

    code = (
        "import sys, geoapp.cli, geoapp.services.batch, geoapp.wsgi; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed', 'dask_geopandas', 'gunicorn')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
