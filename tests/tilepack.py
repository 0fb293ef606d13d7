"""Tiny basemap tile packages for the tests: an MBTiles file (SQLite) written by hand, its
tiles one colour each, so a test can tell which tile the server gave."""

from __future__ import annotations

import math
import sqlite3
from contextlib import closing
from pathlib import Path

from geoapp.io.mbtiles import solid_png


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile (x, y; row 0 at the north) holding a point at zoom ``z``."""
    n = 1 << z
    s = math.sin(math.radians(lat))
    y = (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n
    return int((lon + 180) / 360 * n), int(y)


def colour_of(z: int, x: int, y: int) -> tuple[int, int, int, int]:
    """The colour the package gives tile z/x/y: a different one for each neighbour."""
    return (40 + 20 * (z % 10), 60 + 37 * (x % 5), 80 + 31 * (y % 5), 255)


def make_package(path: Path, tiles, fmt: str = "png", metadata: dict | None = None) -> Path:
    """An MBTiles file of 256-pixel tiles at the XYZ addresses ``tiles`` [(z, x, y), ...],
    each of :func:`colour_of` its address, rows stored from the south as the format says."""
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
            " tile_data BLOB)"
        )
        meta = {"name": "test", "format": fmt, "attribution": "测试底图"} | (metadata or {})
        db.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [
                (z, x, (1 << z) - 1 - y, solid_png(256, 256, colour_of(z, x, y)))
                for z, x, y in tiles
            ],
        )
        db.commit()
    return path


def covering(bounds, zooms) -> list[tuple[int, int, int]]:
    """Every tile of ``zooms`` that meets ``bounds`` (minx, miny, maxx, maxy)."""
    out = []
    for z in zooms:
        x0, y0 = tile_of(bounds[0], bounds[3], z)
        x1, y1 = tile_of(bounds[2], bounds[1], z)
        out += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return out
