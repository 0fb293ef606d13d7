"""The local dask cluster of ``geoapp assign --engine dask`` takes no fixed port."""

from __future__ import annotations

import contextlib
import errno
import socket

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geoapp.cli import main
from geoapp.store import open_store

pytestmark = pytest.mark.slow

DASK_DEFAULT_PORT = 8787


@contextlib.contextmanager
def port_taken(port: int):
    """``port`` in use while the block runs: held here, or already held by someone else."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("0.0.0.0", port))
        holder.listen()
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
    try:
        yield
    finally:
        holder.close()


def test_a_second_cluster_on_the_machine_does_not_collide(demo_sqlite_url, tmp_path):
    """With dask's default port (8787) taken, as by another cluster on the same machine, the
    command runs without a warning (warnings fail the tests) and assigns every point."""
    with open_store(demo_sqlite_url) as store:
        minx, miny, maxx, maxy = store.areas(store.current_generation()["id"]).total_bounds
    rng = np.random.default_rng(3)
    x = minx + rng.random(40) * (maxx - minx)
    y = miny + rng.random(40) * (maxy - miny)
    points = gpd.GeoDataFrame({"pid": np.arange(40)}, geometry=shapely.points(x, y), crs=4326)
    source, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    points.to_parquet(source)
    with port_taken(DASK_DEFAULT_PORT):
        result = CliRunner().invoke(
            main,
            ["--database-url", demo_sqlite_url, "assign", str(source), str(out)]
            + ["--engine", "dask", "--workers", "1"],
            catch_exceptions=False,
        )
    assert result.exit_code == 0, result.output
    assert len(pd.read_parquet(out)) == 40
