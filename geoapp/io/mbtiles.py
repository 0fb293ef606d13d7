"""A basemap tile package in the MBTiles format (read only).

An MBTiles file is a SQLite database (https://github.com/mapbox/mbtiles-spec): a
``metadata`` table of name/value pairs (``format`` png/jpg/webp, ``minzoom``, ``maxzoom``,
``bounds``, ``attribution`` ...) and a ``tiles`` table (or view) of ``zoom_level``,
``tile_column``, ``tile_row``, ``tile_data`` with rows numbered from the south (TMS), so the
XYZ row ``y`` of a web map is ``2**z - 1 - y``.  QGIS writes one with "Generate XYZ tiles
(MBTiles)"; offline Tianditu packages are sold in it.

MBTiles rather than PMTiles: the standard library reads it (sqlite3), a tile is one indexed
look-up, and it is what QGIS exports; a PMTiles archive would need its own directory
decoder (varints, Hilbert tile ids, range reads) for the same answer.  Each read opens the
file read-only for that read, so any number of threads and workers can share it.
"""

from __future__ import annotations

import sqlite3
import struct
import zlib
from contextlib import closing
from pathlib import Path

from geoapp.core.messages import N_
from geoapp.io.errors import InputError

FORMATS = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


class TilePackage:
    """The tiles and metadata of one MBTiles file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(N_("Tile package %(path)s: no such file"), path=str(self.path))
        try:
            with closing(self._connect()) as db:
                rows = db.execute("SELECT name, value FROM metadata").fetchall()
                db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1")
                zooms = db.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
        except sqlite3.DatabaseError as exc:
            raise InputError(
                N_("Tile package %(path)s is not an MBTiles file: %(error)s"),
                path=str(self.path),
                error=str(exc),
            ) from None
        self.metadata = {str(k): str(v) for k, v in rows}
        fmt = self.metadata.get("format", "png").lower()
        if fmt not in FORMATS:
            raise InputError(
                N_("Tile package %(path)s holds %(format)s tiles; a map can show png, jpg or webp"),
                path=str(self.path),
                format=fmt,
            )
        self.format = "jpg" if fmt == "jpeg" else fmt
        self.media_type = FORMATS[fmt]
        # the zooms the tiles really hold (metadata may be missing or wrong)
        self.minzoom = int(zooms[0]) if zooms[0] is not None else 0
        self.maxzoom = int(zooms[1]) if zooms[1] is not None else 0
        self.attribution = self.metadata.get("attribution", "")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ ``z/x/y`` (row 0 at the north), or None when the package has none
        there."""
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, (1 << z) - 1 - y),
            ).fetchone()
        return bytes(row[0]) if row else None


def solid_png(width: int, height: int, rgba: tuple[int, int, int, int]) -> bytes:
    """A PNG of one colour (8-bit RGBA), made with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgba) * width  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


#: the answer where a package has no tile: transparent, so the map shows nothing there,
#: and the browser keeps it like any tile (a 404 would be asked for again and logged)
BLANK_PNG = solid_png(1, 1, (0, 0, 0, 0))
